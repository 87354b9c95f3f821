//! Activations, their derivatives, and the per-column softmax.
//!
//! Every cell calls these few functions, so a faster implementation changes one place.
//! Derivatives are written in terms of the activation's *output*, which the forward pass has
//! already stored: `σ'(z) = s (1 - s)` with `s = σ(z)`, and `tanh'(z) = 1 - y²` with
//! `y = tanh(z)`.
//!
//! # The default `exp`, `σ` and `tanh`: no calls, no branches, vectorised
//!
//! [`exp`], [`sigmoid`] and [`tanh`] (and so [`sigmoid_in_place`], [`tanh_in_place`] and
//! [`softmax_columns_in_place`]) are written in plain IEEE `+ - * /` and bit operations, with
//! every special case handled by clamping and selecting rather than branching. A loop over a
//! slice of them therefore compiles to packed SIMD on the default `x86-64` target (SSE2, 4 `f32`
//! or 2 `f64` per instruction; 8 or 4 with `-C target-cpu=x86-64-v3`), and to a short
//! straight-line sequence on a microcontroller. They use no fused multiply-add, so a host and a
//! Cortex-M or RISC-V device compute the same bits. The `libm` versions stay available as
//! [`Real::exp_libm`] and [`Real::tanh_libm`], the references the tests compare against.
//!
//! **`e^w`** (the core of all three):
//!
//! 1. *Range reduction* `w = k·ln 2 + r`, `|r| ≲ ln 2 / 2`: `k` is rounded to the nearest
//!    integer with the magic-number trick `t = w·log₂e + 1.5·2^p`, `k = t − 1.5·2^p` (`p` = 23
//!    for `f32`, 52 for `f64`; adding `1.5·2^p` leaves no fraction bits, and `k` itself sits
//!    in the low bits of `t`'s mantissa). `r = (w − k·ln2_hi) − k·ln2_lo` (Cody–Waite):
//!    `ln2_hi` has 15 (`f32`) or 32 (`f64`) significant bits so `k·ln2_hi` and the first
//!    subtraction are exact; `ln2_lo = ln 2 − ln2_hi` carries the rest (fdlibm's constants
//!    for `f64`).
//! 2. *Polynomial* `e^r − 1 ≈ q(r) = r + r²·P(r)`, `P` of degree 4 (`f32`, total degree 6) or 9
//!    (`f64`, total degree 11), by Horner's rule for `f32` (fewest operations) and Estrin's
//!    scheme for `f64` (half the dependency chain: faster once vectorised). The coefficients
//!    are a minimax (Remez exchange at 50 digits, `mpmath`) of `(e^r − 1 − r)/r²` on
//!    `[−ln 2/2, ln 2/2]`, weighted to minimise the relative error of `e^r − 1` (so that
//!    `tanh` near 0 is accurate), then rounded to the type. Before rounding, their error is
//!    5.5·10⁻⁹ (`f32`) and 7.4·10⁻¹⁸ (`f64`) relative in `e^r`, 1.3·10⁻⁸ and 1.8·10⁻¹⁷ in
//!    `e^r − 1`.
//! 3. *Scaling* `e^w = 2^k·(1 + q)`: `2^k` is built from `k`'s bits (`to_bits(t) << 23`, or `52`,
//!    added to the bits of `1.0`), no table. [`exp`] splits it into two normal factors
//!    `2^⌊k/2⌋·2^⌈k/2⌉`, so results that overflow become `∞` and results in the subnormal range
//!    are rounded once, correctly. [`sigmoid`] only needs `e^{−|x|}` and builds `2^{k+64}`
//!    followed by a multiplication by `2^{−64}`, for the same single rounding of subnormals.
//!
//! **`σ(x)`** `= n / (1 + e)` with `e = e^{−|x|} ∈ [0, 1]` and `n = e` for `x < 0`, `n = 1`
//! otherwise: `e^{…}` never overflows, and the tail `σ(x) ≈ e^x` for `x ≪ 0` keeps its relative
//! accuracy down to the subnormals (`σ(−100) ≈ 3.7·10⁻⁴⁴` in `f32`).
//!
//! **`tanh(x)`** `= sign(x)·tanh(|x|)`, with `e = e^{−2|x|}` and `u = e^{−2|x|} − 1 = 2^k·q +
//! (2^k − 1)` from the same reduction (exact for `k = 0`, so `u` keeps its relative accuracy
//! as `x → 0`): `tanh|x| = −u / (u + 2)` for `|x| < 0.625` and `1 − 2e / (1 + e)` above, both
//! computed and the right one selected. No cancellation near 0, and `tanh(±0) = ±0`.
//!
//! **Special values**: `exp(−∞) = 0`, `exp(+∞) = ∞`, overflow gives `∞`, underflow gives
//! correctly rounded subnormals and then `0`; `σ(−∞) = 0`, `σ(+∞) = 1`, `σ(±1000) = 0, 1`;
//! `tanh(±∞) = ±1`, `tanh(±0) = ±0`; NaN in, NaN out for all three. Arguments are clamped
//! first (`exp` to `[−104, 89]` in `f32` and `[−746, 710]` in `f64`, where the result is
//! already `0` or `∞`; `tanh` to `|x| ≤ 10` or `20`, where it is already `±1`), with
//! comparisons that let NaN through.
//!
//! # Accuracy (measured)
//!
//! `f32`: every one of the 2³² inputs, against the `f64` `libm` function rounded to `f32`
//! (`tests/activation_accuracy.rs`; `cargo test --release --test activation_accuracy --
//! --ignored`). Maximum error in units in the last place of the correctly rounded result, and
//! the share of inputs whose result is not the correctly rounded one:
//!
//! | | max error | where | not correctly rounded |
//! |---|---|---|---|
//! | `exp` | 1 ULP | | 0.42 % |
//! | `sigmoid` | 2 ULP | e.g. `x = −1.0987791` | 2.9 % (0.0057 % by 2 ULP) |
//! | `tanh` | 2 ULP | e.g. `x = 0.015522445` | 2.7 % (0.017 % by 2 ULP) |
//!
//! `f64`: 10⁷ points per function over its whole range plus every edge case, against `libm`:
//! maximum relative error 2.2·10⁻¹⁶ (`exp`), 3.2·10⁻¹⁶ (`sigmoid`), 4.8·10⁻¹⁶ (`tanh`);
//! the requirement is 10⁻¹⁴.
//!
//! # Cost
//!
//! Per `f32` call, `σ` is 30 operations (11 multiplications, 11 additions, 1 division, 3
//! integer or bit operations, 2 comparisons, 2 selects) and `tanh` 40 (11, 17, 1, 5, 2, 4). On
//! a Cortex-M4F, where `vmla`/`vmls` (multiply, round, then add: not fused) pair most
//! multiplications with an addition, a loop of `σ` compiles to about 37 instructions per
//! element, loads and stores included; `libm`'s `expf` alone is about 63 and `tanhf` 96.
//!
//! On x86-64 (AMD EPYC, 128-element column, `benches/activation.rs`), in ns per element:
//!
//! | | `f32` SSE2 | `f32` `x86-64-v3` | `f64` SSE2 | `f64` `x86-64-v3` | `libm` `f32` / `f64` |
//! |---|---|---|---|---|---|
//! | `sigmoid` | 1.08 | 0.51 | 2.71 | 1.27 | 4.2 / 6.1 |
//! | `tanh` | 1.45 | 0.68 | 3.35 | 1.58 | 7.1 / 9.4 |
//! | `exp` | 0.82 | 0.44 | 2.19 | 1.13 | 3.9 / 5.3 |

use crate::Real;
use nalgebra::SMatrix;

/// `e^x`, without calls or branches: the crate's default exponential.
///
/// Within 1 ULP of the correctly rounded result for every `f32` and within `10⁻¹⁴` relative
/// (measured 2.2·10⁻¹⁶) in `f64`; `exp(−∞) = 0`, `exp(+∞) = ∞`, overflow gives `∞`, underflow
/// gives subnormals and then `0`, NaN stays NaN. See the [module documentation](self) for the
/// algorithm, and [`Real::exp_libm`] for the `libm` version.
///
/// # Example
/// ```
/// use tinyrnn::activation::exp;
///
/// assert_eq!(exp(0.0_f32), 1.0);
/// assert!((exp(1.0_f64) - core::f64::consts::E).abs() < 1e-15);
/// assert_eq!(exp(f32::NEG_INFINITY), 0.0);
/// assert_eq!(exp(100.0_f32), f32::INFINITY);
/// assert!(exp(-100.0_f32) > 0.0); // a subnormal, 3.7e-44
/// assert!(exp(f64::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp<T: Real>(x: T) -> T {
    x.exp_branchless()
}

/// The logistic function `σ(x) = 1 / (1 + e^{−x})`, without calls or branches.
///
/// Within 2 ULP of the correctly rounded result for every `f32` (subnormal results included)
/// and within `10⁻¹⁴` relative (measured 3.2·10⁻¹⁶) in `f64`. `σ(−∞) = 0`, `σ(+∞) = 1`, NaN
/// stays NaN, and the negative tail keeps its relative accuracy. The same function as
/// [`Real::sigmoid`].
///
/// # Example
/// ```
/// use tinyrnn::activation::sigmoid;
///
/// assert_eq!(sigmoid(0.0_f32), 0.5);
/// assert_eq!(sigmoid(-1000.0_f32), 0.0);
/// assert_eq!(sigmoid(1000.0_f64), 1.0);
/// let s = sigmoid(-30.0_f64); // e^-30 / (1 + e^-30): no cancellation to 0
/// assert!((s / 9.3576229688393e-14 - 1.0).abs() < 1e-14);
/// assert!(sigmoid(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    x.sigmoid()
}

/// `tanh(x)`, without calls or branches: the crate's default `tanh`.
///
/// Within 2 ULP of the correctly rounded result for every `f32` and within `10⁻¹⁴` relative
/// (measured 4.8·10⁻¹⁶) in `f64`, including near 0; `tanh(±∞) = ±1`, `tanh(±0) = ±0`, NaN
/// stays NaN. See [`Real::tanh_libm`] for the `libm` version.
///
/// # Example
/// ```
/// use tinyrnn::activation::tanh;
///
/// assert_eq!(tanh(0.0_f32), 0.0);
/// assert!(tanh(-0.0_f64).is_sign_negative());
/// assert_eq!(tanh(f32::INFINITY), 1.0);
/// assert_eq!(tanh(-1.0e6_f64), -1.0);
/// assert!((tanh(0.5_f64) - 0.46211715726000974).abs() < 1e-16);
/// assert_eq!(tanh(1.0e-30_f32), 1.0e-30); // tanh(x) = x - x³/3 + …
/// ```
#[inline(always)]
pub fn tanh<T: Real>(x: T) -> T {
    x.tanh_branchless()
}

/// Applies `f` to every element of a contiguous slice: one flat loop, which the compiler
/// vectorises when `f` is inlined and branch-free.
#[inline(always)]
fn map_in_place<T: Real>(v: &mut [T], f: impl Fn(T) -> T) {
    for x in v {
        *x = f(*x);
    }
}

/// Applies the logistic function elementwise in place: `z ← σ(z) = 1 / (1 + e^{-z})`.
///
/// Uses [`sigmoid`] over the matrix's storage in one flat, vectorised loop; it never
/// overflows.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::sigmoid_in_place;
///
/// let mut z = SMatrix::<f32, 1, 3>::new(-1000.0, 0.0, 1000.0);
/// sigmoid_in_place(&mut z);
/// assert_eq!(z, SMatrix::<f32, 1, 3>::new(0.0, 0.5, 1.0));
/// ```
#[inline]
pub fn sigmoid_in_place<T: Real, const R: usize, const C: usize>(z: &mut SMatrix<T, R, C>) {
    map_in_place(z.as_mut_slice(), T::sigmoid);
}

/// Applies `tanh` elementwise in place: `z ← tanh(z)`.
///
/// Uses [`tanh`] over the matrix's storage in one flat, vectorised loop.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::tanh_in_place;
///
/// let mut z = SMatrix::<f64, 2, 1>::new(0.0, 1.0e6);
/// tanh_in_place(&mut z);
/// assert_eq!(z, SMatrix::<f64, 2, 1>::new(0.0, 1.0));
/// ```
#[inline]
pub fn tanh_in_place<T: Real, const R: usize, const C: usize>(z: &mut SMatrix<T, R, C>) {
    map_in_place(z.as_mut_slice(), T::tanh_branchless);
}

/// The derivative of the logistic function from its output: `σ'(z) = s (1 - s)`, `s = σ(z)`.
///
/// # Example
/// ```
/// use tinyrnn::activation::sigmoid_grad_from_output;
/// assert_eq!(sigmoid_grad_from_output(0.5_f64), 0.25);
/// ```
#[inline(always)]
pub fn sigmoid_grad_from_output<T: Real>(s: T) -> T {
    s * (T::one() - s)
}

/// The derivative of `tanh` from its output: `tanh'(z) = 1 - y²`, `y = tanh(z)`.
///
/// # Example
/// ```
/// use tinyrnn::activation::tanh_grad_from_output;
/// assert_eq!(tanh_grad_from_output(0.0_f32), 1.0);
/// assert_eq!(tanh_grad_from_output(1.0_f32), 0.0);
/// ```
#[inline(always)]
pub fn tanh_grad_from_output<T: Real>(y: T) -> T {
    T::one() - y * y
}

/// Softmax of each column, in place: `y[k, j] = e^{z[k, j] - m_j} / Σ_k e^{z[k, j] - m_j}`,
/// where `m_j` is column `j`'s own maximum.
///
/// Subtracting each column's maximum (not the whole matrix's, as the seed notebooks do) keeps
/// every column exact even when the columns' scales differ by hundreds: no `0/0`. The
/// exponentials are [`exp`], one vectorised loop per column; the sum runs in order.
///
/// Edge cases, per column: a NaN anywhere makes the whole column NaN; if some entries are `+∞`
/// they share the probability mass equally (the limit of the softmax); if every entry is `-∞`
/// the column is uniform (the softmax of equal values).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::softmax_columns_in_place;
///
/// // Column 0 is ordinary; column 1 sits 1000 below column 0 and would underflow to 0/0
/// // with a whole-matrix maximum.
/// let mut z = SMatrix::<f64, 2, 2>::new(0.0, -1000.0,
///                                       0.0, -1001.0);
/// softmax_columns_in_place(&mut z);
/// assert_eq!(z[(0, 0)], 0.5);
/// assert!((z[(0, 1)] - 1.0 / (1.0 + (-1.0_f64).exp())).abs() < 1e-15);
/// assert!((z.column(1).sum() - 1.0).abs() < 1e-15);
/// ```
pub fn softmax_columns_in_place<T: Real, const R: usize, const C: usize>(z: &mut SMatrix<T, R, C>) {
    if R == 0 {
        return;
    }
    // Column-major storage: each chunk of `R` is one column.
    for col in z.as_mut_slice().chunks_exact_mut(R) {
        let mut max = T::NEG_INFINITY;
        let mut nan = false;
        for &v in col.iter() {
            if v.is_nan() {
                nan = true;
            } else if v > max {
                max = v;
            }
        }
        if nan {
            col.fill(T::NAN);
            continue;
        }
        if max == T::INFINITY || max == T::NEG_INFINITY {
            // All mass on the +∞ entries, or uniform over an all -∞ column.
            let count = col.iter().filter(|&&v| v == max).count();
            let share = T::one() / T::lit(count as f64);
            for v in col.iter_mut() {
                *v = if *v == max { share } else { T::zero() };
            }
            continue;
        }
        map_in_place(col, |v| (v - max).exp_branchless());
        let mut sum = T::zero();
        for &v in col.iter() {
            sum += v;
        }
        // sum ≥ 1 because the maximum contributes e^0 = 1.
        let inv = T::one() / sum;
        for v in col.iter_mut() {
            *v *= inv;
        }
    }
}
/// Softmax of each column, by value. See [`softmax_columns_in_place`].
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::softmax_columns;
///
/// let y = softmax_columns(&SMatrix::<f32, 3, 1>::new(1.0, 1.0, 1.0));
/// assert!((y[0] - 1.0 / 3.0).abs() < 1e-7);
/// ```
#[inline]
pub fn softmax_columns<T: Real, const R: usize, const C: usize>(
    z: &SMatrix<T, R, C>,
) -> SMatrix<T, R, C> {
    let mut y = *z;
    softmax_columns_in_place(&mut y);
    y
}

/// The `f32` algorithms behind [`Real::exp_branchless`], [`Real::sigmoid`] and
/// [`Real::tanh_branchless`] for `f32`; the [module documentation](self) describes them.
///
/// Every comparison is written `if c { a } else { b }` on values computed unconditionally,
/// which the compiler turns into selects in vectorised loops (`cmpps` + `andps`/`andnps`/
/// `orps`, `blendvps`, `minps`/`maxps`), so they stay branch-free; on a scalar core it may
/// use an IT block or a short branch instead, with the same results.
pub(crate) mod f32_impl {
    /// `log₂ e`.
    const LOG2_E: f32 = core::f32::consts::LOG2_E;
    /// `1.5·2^23`: `w·log₂e + ROUND` has no fraction bits left, so it is rounded to an integer
    /// (to nearest), and that integer plus `0x4b40_0000` is its bit pattern.
    const ROUND: f32 = 12_582_912.0;
    /// `ln 2 ≈ LN2_HI + LN2_LO`; `LN2_HI` (`0x3f31_7200`) has 15 significant bits, so
    /// `k·LN2_HI` is exact for `|k| < 2^9`.
    const LN2_HI: f32 = 0.693_145_75;
    /// `ln 2 − LN2_HI`, rounded (`0x35bf_be8e`).
    const LN2_LO: f32 = 1.428_606_8e-6;
    /// `P(r) ≈ (e^r − 1 − r)/r²` on `[−ln 2/2, ln 2/2]`: minimax for the relative error of
    /// `e^r − 1`, rounded to `f32` (`0x3eff_ffff`, `0x3e2a_aa58`, `0x3d2a_ab3a`, `0x3c09_13b3`,
    /// `0x3ab5_f605`).
    const P0: f32 = 0.499_999_97;
    const P1: f32 = 0.166_665_43;
    const P2: f32 = 0.041_667_2;
    const P3: f32 = 0.008_366_513;
    const P4: f32 = 0.001_388_252_4;
    const SIGN: u32 = 0x8000_0000;
    /// The bits of `1.0`: `(e << 23) + ONE` are the bits of `2^e` for `−126 ≤ e ≤ 127`.
    const ONE: u32 = 0x3f80_0000;
    /// `2^−64`.
    const TWO_M64: f32 = f32::from_bits((127 - 64) << 23);

    /// Cody–Waite reduction `w = k·ln 2 + r`: returns `t = round + k` (whose low mantissa bits
    /// hold `k` plus the integer `round − ROUND`) and `r`.
    #[inline(always)]
    fn reduce(w: f32, round: f32) -> (f32, f32) {
        let t = w * LOG2_E + round;
        let k = t - round;
        (t, (w - k * LN2_HI) - k * LN2_LO)
    }

    /// `e^r − 1` for the reduced `r`, with `r`'s relative accuracy near 0.
    #[inline(always)]
    fn expm1_reduced(r: f32) -> f32 {
        r + r * r * (P0 + r * (P1 + r * (P2 + r * (P3 + r * P4))))
    }

    /// `e^x` (see [`crate::activation::exp`]).
    #[inline(always)]
    pub(crate) fn exp(x: f32) -> f32 {
        // e^-104 rounds to 0 and e^89 to ∞, so clamping changes no result and keeps
        // k in [-150, 128]. NaN passes both (every comparison with NaN is false).
        let x = if x < -104.0 { -104.0 } else { x };
        let x = if x > 89.0 { 89.0 } else { x };
        // j = k + 160 in [10, 288] sits in t's low mantissa bits.
        let (t, r) = reduce(x, ROUND + 160.0);
        let p = 1.0 + expm1_reduced(r);
        let j = t.to_bits().wrapping_sub(ROUND.to_bits());
        let j1 = j >> 1;
        // 2^k = 2^(j1 - 80) · 2^(j - j1 - 80): both factors normal, so the product rounds
        // once, to ∞ on overflow and to the right subnormal on underflow. NaN · s = NaN.
        let s1 = f32::from_bits((j1 + (127 - 80)) << 23);
        let s2 = f32::from_bits((j - j1 + (127 - 80)) << 23);
        p * s1 * s2
    }

    /// `σ(x)` (see [`crate::activation::sigmoid`]).
    #[inline(always)]
    pub(crate) fn sigmoid(x: f32) -> f32 {
        // e = e^w with w = -|x|: never overflows. Below -104, e rounds to 0.
        let w = f32::from_bits(x.to_bits() | SIGN);
        let w = if w < -104.0 { -104.0 } else { w };
        // k + 64 in [-86, 0] sits in t's low bits, so s = 2^(k+64) is normal, and the final
        // · 2^-64 rounds a subnormal e^w once.
        let (t, r) = reduce(w, ROUND + 64.0);
        let p = 1.0 + expm1_reduced(r);
        let s = f32::from_bits((t.to_bits() << 23).wrapping_add(ONE));
        let e = p * s * TWO_M64;
        // σ(x) = 1 / (1 + e^-x) for x ≥ 0 (and NaN), e^x / (1 + e^x) for x < 0.
        let n = if x < 0.0 { e } else { 1.0 };
        n / (1.0 + e)
    }

    /// `tanh(x)` (see [`crate::activation::tanh`]).
    #[inline(always)]
    pub(crate) fn tanh(x: f32) -> f32 {
        let a = f32::from_bits(x.to_bits() & !SIGN);
        // e^-20 < 2^-26: tanh is 1 in f32 beyond |x| = 10, and 2^k stays normal.
        let w = -2.0 * a;
        let w = if w < -20.0 { -20.0 } else { w };
        let (t, r) = reduce(w, ROUND);
        let q = expm1_reduced(r);
        let s = f32::from_bits((t.to_bits() << 23).wrapping_add(ONE)); // 2^k, k in [-29, 0]
        let sq = s * q;
        // e^w = 2^k (1 + q), and e^w - 1, exactly q when k = 0.
        let e = s + sq;
        let u = sq + (s - 1.0);
        // Small |x|: -u / (u + 2) keeps the relative accuracy of u; large: 1 - 2e / (1 + e)
        // keeps that of e. Both computed, then selected.
        let small = a < 0.625;
        let n = if small { 0.0 - u } else { e + e };
        let d = if small { u + 2.0 } else { 1.0 + e };
        let y = n / d;
        let m = if small { y } else { 1.0 - y };
        // m ≥ 0 (+0 for x = ±0); the sign of x gives tanh(-0) = -0 and NaN stays NaN.
        f32::from_bits(m.to_bits() | (x.to_bits() & SIGN))
    }
}

/// The `f64` algorithms behind [`Real::exp_branchless`], [`Real::sigmoid`] and
/// [`Real::tanh_branchless`] for `f64`: those of `f32_impl` with `f64` constants, a degree-11
/// polynomial and wider clamps.
pub(crate) mod f64_impl {
    /// `log₂ e`.
    const LOG2_E: f64 = core::f64::consts::LOG2_E;
    /// `1.5·2^52`, the rounding constant.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    /// fdlibm's `ln2_hi` (32 significant bits) and `ln2_lo`.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    /// `P(r) ≈ (e^r − 1 − r)/r²` on `[−ln 2/2, ln 2/2]`, degree 9: minimax for the relative
    /// error of `e^r − 1`.
    const P: [f64; 10] = [
        0.500_000_000_000_000_6,
        0.166_666_666_666_665_88,
        0.041_666_666_666_576_87,
        0.008_333_333_333_389_498,
        0.001_388_888_893_152_763_1,
        0.000_198_412_697_190_813_14,
        2.480_150_531_843_587_7e-5,
        2.755_740_751_838_033e-6,
        2.762_602_002_489_207e-7,
        2.505_376_800_070_873e-8,
    ];
    const SIGN: u64 = 0x8000_0000_0000_0000;
    /// The bits of `1.0`.
    const ONE: u64 = 0x3ff0_0000_0000_0000;
    /// `2^−64`.
    const TWO_M64: f64 = f64::from_bits((1023 - 64) << 52);

    #[inline(always)]
    fn reduce(w: f64, round: f64) -> (f64, f64) {
        let t = w * LOG2_E + round;
        let k = t - round;
        (t, (w - k * LN2_HI) - k * LN2_LO)
    }

    /// `e^r − 1`, with the polynomial in Estrin's scheme: a few more operations than Horner's
    /// rule but half its dependency chain, which is what limits a vectorised loop here.
    #[inline(always)]
    fn expm1_reduced(r: f64) -> f64 {
        let r2 = r * r;
        let r4 = r2 * r2;
        let p01 = P[0] + r * P[1];
        let p23 = P[2] + r * P[3];
        let p45 = P[4] + r * P[5];
        let p67 = P[6] + r * P[7];
        let p89 = P[8] + r * P[9];
        let p03 = p01 + r2 * p23;
        let p47 = p45 + r2 * p67;
        let p = p03 + r4 * (p47 + r4 * p89);
        r + r2 * p
    }

    #[inline(always)]
    pub(crate) fn exp(x: f64) -> f64 {
        let x = if x < -746.0 { -746.0 } else { x };
        let x = if x > 710.0 { 710.0 } else { x };
        // j = k + 1100 in [24, 2124]; 2^k = 2^(j1 - 550) · 2^(j - j1 - 550).
        let (t, r) = reduce(x, ROUND + 1100.0);
        let p = 1.0 + expm1_reduced(r);
        let j = t.to_bits().wrapping_sub(ROUND.to_bits());
        let j1 = j >> 1;
        let s1 = f64::from_bits((j1 + (1023 - 550)) << 52);
        let s2 = f64::from_bits((j - j1 + (1023 - 550)) << 52);
        p * s1 * s2
    }

    #[inline(always)]
    pub(crate) fn sigmoid(x: f64) -> f64 {
        let w = f64::from_bits(x.to_bits() | SIGN);
        let w = if w < -746.0 { -746.0 } else { w };
        // k + 64 in [-1012, 0]: 2^(k+64) is normal.
        let (t, r) = reduce(w, ROUND + 64.0);
        let p = 1.0 + expm1_reduced(r);
        let s = f64::from_bits((t.to_bits() << 52).wrapping_add(ONE));
        let e = p * s * TWO_M64;
        let n = if x < 0.0 { e } else { 1.0 };
        n / (1.0 + e)
    }

    #[inline(always)]
    pub(crate) fn tanh(x: f64) -> f64 {
        let a = f64::from_bits(x.to_bits() & !SIGN);
        // e^-40 < 2^-57: tanh is 1 in f64 beyond |x| = 20.
        let w = -2.0 * a;
        let w = if w < -40.0 { -40.0 } else { w };
        let (t, r) = reduce(w, ROUND);
        let q = expm1_reduced(r);
        let s = f64::from_bits((t.to_bits() << 52).wrapping_add(ONE)); // 2^k, k in [-58, 0]
        let sq = s * q;
        let e = s + sq;
        let u = sq + (s - 1.0);
        let small = a < 0.625;
        let n = if small { 0.0 - u } else { e + e };
        let d = if small { u + 2.0 } else { 1.0 + e };
        let y = n / d;
        let m = if small { y } else { 1.0 - y };
        f64::from_bits(m.to_bits() | (x.to_bits() & SIGN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! gen_tests {
        ($($name:ident: $t:ty),*) => {$(
            mod $name {
                use super::*;
                type T = $t;

                #[test]
                fn softmax_columns_sum_to_one_and_match_definition() {
                    let z = SMatrix::<T, 3, 2>::new(1.0, -2.0, 0.5, 40.0, -3.0, 41.0);
                    let y = softmax_columns(&z);
                    for j in 0..2 {
                        let s: f64 = (0..3).map(|k| z[(k, j)].as_f64().exp()).sum();
                        for k in 0..3 {
                            let want = z[(k, j)].as_f64().exp() / s;
                            assert!((y[(k, j)].as_f64() - want).abs() < 4.0 * T::EPS.as_f64());
                        }
                    }
                }

                #[test]
                fn softmax_columns_far_apart_do_not_underflow() {
                    let z = SMatrix::<T, 2, 2>::new(0.0, -5000.0, 1.0, -5001.0);
                    let y = softmax_columns(&z);
                    assert!(y.iter().all(|v| v.is_finite()));
                    // Column 1 is column 0 shifted by -5000 and flipped.
                    assert!((y[(0, 1)] - y[(1, 0)]).abs() < 4.0 * T::EPS);
                }

                #[test]
                fn softmax_edge_cases() {
                    let y = softmax_columns(&SMatrix::<T, 3, 1>::new(T::INFINITY, 0.0, T::INFINITY));
                    assert_eq!(y, SMatrix::<T, 3, 1>::new(0.5, 0.0, 0.5));
                    let y = softmax_columns(&SMatrix::<T, 2, 1>::new(T::NEG_INFINITY, T::NEG_INFINITY));
                    assert_eq!(y, SMatrix::<T, 2, 1>::new(0.5, 0.5));
                    let y = softmax_columns(&SMatrix::<T, 2, 1>::new(T::NEG_INFINITY, 3.0));
                    assert_eq!(y, SMatrix::<T, 2, 1>::new(0.0, 1.0));
                    let y = softmax_columns(&SMatrix::<T, 2, 2>::new(T::NAN, 1.0, 0.0, 2.0));
                    assert!(y[(0, 0)].is_nan() && y[(1, 0)].is_nan());
                    assert!((y[(0, 1)] + y[(1, 1)] - 1.0).abs() < 4.0 * T::EPS);
                    let y = softmax_columns(&SMatrix::<T, 2, 1>::new(T::MAX, T::MAX));
                    assert_eq!(y, SMatrix::<T, 2, 1>::new(0.5, 0.5));
                }

                #[test]
                fn elementwise_maps_and_derivatives() {
                    let mut z = SMatrix::<T, 1, 5>::new(T::NEG_INFINITY, -3.0, 0.0, 3.0, T::INFINITY);
                    let mut s = z;
                    sigmoid_in_place(&mut s);
                    tanh_in_place(&mut z);
                    assert_eq!(s[0], 0.0);
                    assert_eq!(s[4], 1.0);
                    assert_eq!(z[0], -1.0);
                    assert_eq!(z[4], 1.0);
                    // Central-difference check of the derivative-from-output formulas.
                    for &x in &[-2.0, -0.3, 0.0, 0.7, 1.9] {
                        let x: T = x;
                        let h: T = if T::EPS > 1e-10 { 1e-2 } else { 1e-6 };
                        let tol: T = if T::EPS > 1e-10 { 1e-3 } else { 1e-9 };
                        let ds = ((x + h).sigmoid() - (x - h).sigmoid()) / (2.0 * h);
                        assert!((ds - sigmoid_grad_from_output(x.sigmoid())).abs() < tol);
                        let dt = (tanh(x + h) - tanh(x - h)) / (2.0 * h);
                        assert!((dt - tanh_grad_from_output(tanh(x))).abs() < tol);
                    }
                }

                #[test]
                fn special_values() {
                    let (inf, nan) = (T::INFINITY, T::NAN);
                    assert_eq!(exp(T::NEG_INFINITY), 0.0);
                    assert_eq!(exp(inf), inf);
                    assert_eq!(exp(T::lit(0.0)), 1.0);
                    assert_eq!(exp(T::lit(-0.0)), 1.0);
                    assert_eq!(exp(T::lit(1.0e4)), inf);
                    assert_eq!(exp(T::lit(-1.0e4)), 0.0);
                    assert_eq!(exp(T::MAX), inf);
                    assert!(exp(nan).is_nan() && exp(-nan).is_nan());
                    assert_eq!(sigmoid(T::NEG_INFINITY), 0.0);
                    assert_eq!(sigmoid(inf), 1.0);
                    assert_eq!(sigmoid(T::lit(-1000.0)), 0.0);
                    assert_eq!(sigmoid(T::lit(1000.0)), 1.0);
                    assert_eq!(sigmoid(T::lit(0.0)), 0.5);
                    assert_eq!(sigmoid(T::lit(-0.0)), 0.5);
                    assert!(sigmoid(T::lit(-30.0)) > 0.0);
                    assert!(sigmoid(nan).is_nan() && sigmoid(-nan).is_nan());
                    assert_eq!(tanh(inf), 1.0);
                    assert_eq!(tanh(T::NEG_INFINITY), -1.0);
                    assert_eq!(tanh(T::MAX), 1.0);
                    assert_eq!(tanh(-T::MAX), -1.0);
                    let (pz, nz) = (tanh(T::lit(0.0)), tanh(T::lit(-0.0)));
                    assert!(pz == 0.0 && !pz.is_sign_negative());
                    assert!(nz == 0.0 && nz.is_sign_negative());
                    assert!(tanh(nan).is_nan() && tanh(-nan).is_nan());
                }

                #[test]
                fn close_to_libm_and_odd() {
                    // The exhaustive and dense checks are in tests/activation_accuracy.rs.
                    let tol = if T::EPS > 1e-10 { 2.5 * f32::EPSILON as f64 } else { 1e-14 };
                    let rel = |y: T, r: f64| ((y.as_f64() - r) / r).abs();
                    for k in -2000..=2000 {
                        let x = T::lit(k as f64 * 0.0123);
                        let xf = x.as_f64();
                        assert!(rel(exp(x), xf.exp_libm()) <= tol, "exp({x})");
                        assert!(rel(tanh(x), xf.tanh_libm()) <= tol || k == 0, "tanh({x})");
                        let s = 1.0 / (1.0 + (-xf).exp_libm());
                        assert!(rel(sigmoid(x), s) <= tol, "sigmoid({x})");
                        assert_eq!(tanh(-x), -tanh(x));
                    }
                }

                #[test]
                fn in_place_equals_scalar() {
                    let mut z = SMatrix::<T, 7, 3>::from_fn(|i, j| T::lit((i as f64 - 3.0) * 1.7 + j as f64 * 0.3));
                    let (mut s, mut t) = (z, z);
                    sigmoid_in_place(&mut s);
                    tanh_in_place(&mut t);
                    for ((&x, &sx), &tx) in z.iter().zip(s.iter()).zip(t.iter()) {
                        assert_eq!(sx, sigmoid(x));
                        assert_eq!(tx, tanh(x));
                    }
                    z[(2, 1)] = T::NAN;
                    tanh_in_place(&mut z);
                    assert!(z[(2, 1)].is_nan() && z[(3, 1)].is_finite());
                }
            }
        )*};
    }
    gen_tests!(f32_: f32, f64_: f64);
}
