//! Accuracy of the default activations `tinyrnn::activation::{exp, sigmoid, tanh}` (and of the
//! in-place functions built on them) against `libm`.
//!
//! - `f32`: within 2 ULP of the correctly rounded result, taken as the `f64` `libm` function
//!   rounded to `f32`. [`f32_sampled`] checks about a million inputs spread over every binade
//!   (debug build, a few seconds); [`f32_exhaustive`] checks all 2³² bit patterns for each
//!   function (`#[ignore]`d; a few minutes on two cores in release):
//!
//!   ```text
//!   cargo test --release --test activation_accuracy -- --ignored --nocapture
//!   ```
//!
//! - `f64`: within `10⁻¹⁴` relative of `libm` (itself within about 1 ULP), or within 2 ULP of
//!   the smallest subnormal for results that small: [`f64_sampled`] (3·10⁵ points per
//!   function) and [`f64_dense`] (`#[ignore]`d, 10⁷ points per function), both with every edge
//!   case.
//!
//! `exp` is evaluated through its scalar function in a loop, `sigmoid` and `tanh` through
//! [`sigmoid_in_place`] and [`tanh_in_place`] (the vectorised loops the cells run), which the
//! sampled tests also check bit for bit against the scalar functions.

use nalgebra::SMatrix;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tinyrnn::activation::{exp, sigmoid, sigmoid_in_place, tanh, tanh_in_place};
use tinyrnn::Real;

/// The three functions under test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Func {
    Exp,
    Sigmoid,
    Tanh,
}

const FUNCS: [Func; 3] = [Func::Exp, Func::Sigmoid, Func::Tanh];

/// Inputs per evaluation block.
const B: usize = 1024;

/// The reference in `f64`, from `libm`.
fn reference(f: Func, x: f64) -> f64 {
    match f {
        Func::Exp => x.exp_libm(),
        // e^x / (1 + e^x) for x < 0 keeps the tail's relative accuracy (no 1 / (1 + ∞)).
        Func::Sigmoid if x < 0.0 => {
            let e = x.exp_libm();
            e / (1.0 + e)
        }
        Func::Sigmoid => 1.0 / (1.0 + (-x).exp_libm()),
        Func::Tanh => x.tanh_libm(),
    }
}

/// The function under test on one block, through the public API.
fn eval_block<T: Real>(f: Func, xs: &[T; B]) -> SMatrix<T, B, 1> {
    let mut m = SMatrix::<T, B, 1>::from_column_slice(xs);
    match f {
        Func::Exp => m.iter_mut().for_each(|v| *v = exp(*v)),
        Func::Sigmoid => sigmoid_in_place(&mut m),
        Func::Tanh => tanh_in_place(&mut m),
    }
    m
}

/// The scalar function under test.
fn eval_scalar<T: Real>(f: Func, x: T) -> T {
    match f {
        Func::Exp => exp(x),
        Func::Sigmoid => sigmoid(x),
        Func::Tanh => tanh(x),
    }
}

/// The `f32` bit patterns in an order where adjacent floats are adjacent integers, so that the
/// distance between two values is their distance in ULP (`+0` and `-0` coincide).
fn ordinal(x: f32) -> i64 {
    let b = x.to_bits();
    if b & 0x8000_0000 != 0 {
        -i64::from(b & 0x7fff_ffff)
    } else {
        i64::from(b)
    }
}

/// ULP distance between `y` and the reference `r` rounded to `f32`. NaN must meet NaN, and an
/// infinite value must be matched exactly.
fn ulp_error(y: f32, r: f64) -> u64 {
    let r = r as f32;
    if r.is_nan() || y.is_nan() {
        return if r.is_nan() && y.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    if r.is_infinite() || y.is_infinite() {
        return if r == y { 0 } else { u64::MAX };
    }
    (ordinal(y) - ordinal(r)).unsigned_abs()
}

/// Worst case and histogram (0, 1, 2, more ULP) of one `f32` function over some inputs.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    max: u64,
    worst_x: f32,
    worst_y: f32,
    worst_ref: f64,
    hist: [u64; 4],
}

impl Stats {
    fn record(&mut self, f: Func, x: f32, y: f32) {
        let r = reference(f, f64::from(x));
        let e = ulp_error(y, r);
        self.hist[e.min(3) as usize] += 1;
        if e > self.max {
            *self = Stats {
                max: e,
                worst_x: x,
                worst_y: y,
                worst_ref: r,
                hist: self.hist,
            };
        }
    }

    fn merge(&mut self, o: &Stats) {
        let hist = core::array::from_fn(|i| self.hist[i] + o.hist[i]);
        if o.max > self.max {
            *self = *o;
        }
        self.hist = hist;
    }

    fn report(&self, f: Func, what: &str) -> String {
        let n: u64 = self.hist.iter().sum();
        format!(
            "{f:?} f32 {what}: {n} inputs, max {} ULP at x = {:e} ({:#010x}): got {:e}, reference \
             {:e}; ULP histogram [0, 1, 2, >2] = {:?}",
            self.max,
            self.worst_x,
            self.worst_x.to_bits(),
            self.worst_y,
            self.worst_ref,
            self.hist
        )
    }
}

/// Inputs every test includes: signed zeros, infinities, NaN, the extremes, and the points
/// where the algorithms clamp, switch or saturate, with their neighbours.
fn edge_cases_f32() -> Vec<f32> {
    let centres = [
        0.0,
        1.0,
        0.625,
        10.0,
        30.0,
        87.336_55,
        88.722_84,
        89.0,
        103.278_93,
        103.972_08,
        104.0,
        1000.0,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::MAX,
    ];
    let mut v = vec![f32::INFINITY, f32::NEG_INFINITY, f32::NAN, -f32::NAN];
    for c in centres {
        let b = c.to_bits();
        for d in 0..=4 {
            for bits in [
                b.saturating_sub(d),
                b.saturating_add(d).min(f32::MAX.to_bits()),
            ] {
                let x = f32::from_bits(bits);
                v.extend([x, -x]);
            }
        }
    }
    v
}

/// Checks `f32` inputs block by block; with `scalar_too`, also that the in-place result equals
/// the scalar function bit for bit.
fn check_f32(f: Func, xs: &[f32], scalar_too: bool) -> Stats {
    let mut st = Stats::default();
    for chunk in xs.chunks(B) {
        let mut block = [0.0_f32; B];
        block[..chunk.len()].copy_from_slice(chunk);
        let ys = eval_block(f, &block);
        for (&x, &y) in chunk.iter().zip(ys.iter()) {
            if scalar_too {
                let s = eval_scalar(f, x);
                assert!(
                    s.to_bits() == y.to_bits(),
                    "{f:?}({x:e}): slice {y:e} != scalar {s:e}"
                );
            }
            st.record(f, x, y);
        }
    }
    st
}

/// SplitMix64: a reproducible stream of 64-bit values.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1_u64 << 53) as f64)
    }
}

#[test]
fn f32_sampled() {
    let mut rng = SplitMix(9);
    let mut xs = edge_cases_f32();
    // Bit patterns spread over all 2^32 (a multiplication by an odd constant is a bijection),
    // so every binade and both signs are covered, then the interesting ranges densely.
    xs.extend((0..1_u32 << 18).map(|i| f32::from_bits(i.wrapping_mul(0x9e37_79b1))));
    xs.extend((0..1 << 17).map(|_| rng.uniform(-110.0, 100.0) as f32));
    xs.extend((0..1 << 16).map(|_| rng.uniform(-2.0, 2.0) as f32));
    let mut failures = Vec::new();
    for f in FUNCS {
        let st = check_f32(f, &xs, true);
        println!("{}", st.report(f, "sampled"));
        if st.max > 2 {
            failures.push(st.report(f, "sampled"));
        }
    }
    assert!(failures.is_empty(), "over 2 ULP: {failures:#?}");
}

/// Every `f32` bit pattern, for each function, on all available threads.
#[test]
#[ignore = "all 2^32 inputs per function: a few minutes in release; run with --ignored"]
fn f32_exhaustive() {
    const CHUNK: u64 = 1 << 16;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut failures = Vec::new();
    for f in FUNCS {
        let start = Instant::now();
        let next = AtomicU64::new(0);
        let total = Mutex::new(Stats::default());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut st = Stats::default();
                    loop {
                        let first = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if first >= 1 << 32 {
                            break;
                        }
                        for block in (first..first + CHUNK).step_by(B) {
                            let xs: [f32; B] =
                                core::array::from_fn(|i| f32::from_bits((block + i as u64) as u32));
                            let ys = eval_block(f, &xs);
                            for (&x, &y) in xs.iter().zip(ys.iter()) {
                                st.record(f, x, y);
                            }
                        }
                    }
                    total.lock().unwrap().merge(&st);
                });
            }
        });
        let st = total.into_inner().unwrap();
        assert_eq!(st.hist.iter().sum::<u64>(), 1 << 32);
        println!(
            "{} ({:.1} s on {threads} threads)",
            st.report(f, "exhaustive"),
            start.elapsed().as_secs_f64()
        );
        if st.max > 2 {
            failures.push(st.report(f, "exhaustive"));
        }
    }
    assert!(failures.is_empty(), "over 2 ULP: {failures:#?}");
}

/// Inputs every `f64` test includes (see [`edge_cases_f32`]).
fn edge_cases_f64() -> Vec<f64> {
    let centres = [
        0.0,
        1.0,
        0.625,
        20.0,
        30.0,
        708.396_418_532_264_1,
        709.782_712_893_384,
        710.0,
        744.440_071_921_381_3,
        745.133_219_101_941_1,
        746.0,
        1000.0,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::MAX,
    ];
    let mut v = vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN];
    for c in centres {
        let b = c.to_bits();
        for d in 0..=4 {
            for bits in [
                b.saturating_sub(d),
                b.saturating_add(d).min(f64::MAX.to_bits()),
            ] {
                let x = f64::from_bits(bits);
                v.extend([x, -x]);
            }
        }
    }
    v
}

/// `n` inputs for `f` over its whole range: half uniform over the range where the result is
/// neither saturated nor zero, half with log-uniform magnitude from 2^-60 to 2^11 and a
/// random sign; then the edge cases.
fn inputs_f64(f: Func, n: usize, rng: &mut SplitMix) -> Vec<f64> {
    let (lo, hi) = match f {
        Func::Exp => (-746.0, 710.0),
        Func::Sigmoid => (-746.0, 40.0),
        Func::Tanh => (-20.0, 20.0),
    };
    let mut xs: Vec<f64> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                rng.uniform(lo, hi)
            } else {
                let m = rng.uniform(-60.0, 11.0).exp2();
                if rng.next() & 1 == 0 {
                    m
                } else {
                    -m
                }
            }
        })
        .collect();
    xs.extend(edge_cases_f64());
    xs
}

/// Checks `f64` inputs: NaN for NaN, infinities exactly, otherwise within `1e-14` relative or
/// 2 ULP of the smallest subnormal. Returns the maximum relative error over normal results
/// and where.
fn check_f64(f: Func, xs: &[f64], scalar_too: bool) -> (f64, f64) {
    let mut worst = (0.0, 0.0);
    for chunk in xs.chunks(B) {
        let mut block = [0.0_f64; B];
        block[..chunk.len()].copy_from_slice(chunk);
        let ys = eval_block(f, &block);
        for (&x, &y) in chunk.iter().zip(ys.iter()) {
            if scalar_too {
                let s = eval_scalar(f, x);
                assert!(
                    s.to_bits() == y.to_bits(),
                    "{f:?}({x:e}): slice {y:e} != scalar {s:e}"
                );
            }
            let r = reference(f, x);
            if r.is_nan() || r.is_infinite() {
                assert!(
                    y.to_bits() == r.to_bits() || (r.is_nan() && y.is_nan()),
                    "{f:?}({x:e}) = {y:e}, want {r:e}"
                );
                continue;
            }
            let err = (y - r).abs();
            assert!(
                err <= 1e-14 * r.abs() || err <= 2.0 * f64::from_bits(1),
                "{f:?}({x:e}) = {y:e}, reference {r:e}: relative error {:e}",
                err / r.abs()
            );
            if r.abs() >= f64::MIN_POSITIVE && err / r.abs() > worst.0 {
                worst = (err / r.abs(), x);
            }
        }
    }
    worst
}

#[test]
fn f64_sampled() {
    let mut rng = SplitMix(11);
    for f in FUNCS {
        let xs = inputs_f64(f, 300_000, &mut rng);
        let (rel, at) = check_f64(f, &xs, true);
        println!(
            "{f:?} f64 sampled: {} inputs, max relative error {rel:e} at x = {at:e}",
            xs.len()
        );
    }
}

#[test]
#[ignore = "10^7 points per function: seconds in release, minutes in debug; run with --ignored"]
fn f64_dense() {
    let mut rng = SplitMix(13);
    for f in FUNCS {
        let xs = inputs_f64(f, 10_000_000, &mut rng);
        let (rel, at) = check_f64(f, &xs, false);
        println!(
            "{f:?} f64 dense: {} inputs, max relative error {rel:e} at x = {at:e}",
            xs.len()
        );
    }
}

/// The special values the cells rely on, exactly.
#[test]
fn special_values() {
    fn check<T: Real>() {
        let (inf, ninf, nan) = (T::INFINITY, T::NEG_INFINITY, T::NAN);
        let l = T::lit;
        assert_eq!(sigmoid(inf), l(1.0));
        assert_eq!(sigmoid(ninf), l(0.0));
        assert_eq!(sigmoid(l(-1000.0)), l(0.0));
        assert_eq!(sigmoid(l(1000.0)), l(1.0));
        assert!(sigmoid(l(-30.0)) > l(0.0));
        assert!(sigmoid(nan).is_nan());
        assert_eq!(tanh(inf), l(1.0));
        assert_eq!(tanh(ninf), l(-1.0));
        assert!(tanh(nan).is_nan());
        assert!(tanh(l(0.0)) == l(0.0) && tanh(l(0.0)).is_sign_positive());
        assert!(tanh(l(-0.0)) == l(0.0) && tanh(l(-0.0)).is_sign_negative());
        assert_eq!(exp(ninf), l(0.0));
        assert_eq!(exp(inf), inf);
        assert_eq!(exp(l(1.0e3)), inf);
        assert_eq!(exp(l(-1.0e4)), l(0.0));
        assert!(exp(nan).is_nan());
    }
    check::<f32>();
    check::<f64>();
    // The tails, in subnormals: σ(x) ≈ e^x there, within 2 ULP.
    for x in [-88.0_f32, -95.0, -100.0, -103.0] {
        let (s, e) = (sigmoid(x), exp(x));
        assert!(s > 0.0 && s < f32::MIN_POSITIVE);
        assert!(
            ulp_error(s, reference(Func::Sigmoid, f64::from(x))) <= 2,
            "σ({x})"
        );
        assert!(
            ulp_error(e, reference(Func::Exp, f64::from(x))) <= 2,
            "exp({x})"
        );
    }
    assert!(sigmoid(-740.0_f64) > 0.0 && sigmoid(-740.0_f64) < f64::MIN_POSITIVE);
    assert!(exp(709.78_f64).is_finite() && exp(709.79_f64).is_infinite());
}
