//! Proves that the library never touches the heap: a counting `#[global_allocator]` wraps
//! `std::alloc::System`, and every public computation (cells, sequences, `Params` walks,
//! numpy-layout loaders and their error paths, seeds'-layout accessors, activations, the
//! layers (`Layer::forward` / `backward` and `Step::step` of `Rnn`, `Lstm`, `Gru` in both
//! variants, `Dense` with every activation, `Stack`, `Stack3`, `Bidirectional` with `Concat`
//! and `Sum`), `Stream`, `Initialize::init` of every layer and composition, and full training
//! steps: initialisation, losses, backward passes, optimizers, inference, for the notebook
//! models and for composed `Model`s; a dataset in padded batches through `tinyrnn::data`, with
//! `predict_last`, `evaluate` and the confusion matrix and its table; the quantized path:
//! post-training quantisation, every quantized layer's step, `QStream`, `write_rust`) runs inside a counting
//! window that must see zero `alloc` / `alloc_zeroed` / `realloc` calls.
//!
//! `harness = false` (see `Cargo.toml`): libtest's own threads and output capture would
//! allocate concurrently with the windows, so this is a plain `main` on one thread. All inputs
//! are built, and every label formatted, *before* a window opens; printing happens after it
//! closes. A self-check first proves that the counter does see allocations, so the test can
//! fail.
//!
//! Run: `cargo test --test no_alloc` (debug) and `cargo test --release --test no_alloc`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::any::type_name;
use std::hint::black_box;
use std::mem::size_of;
use std::sync::atomic::{AtomicUsize, Ordering};

use nalgebra::SMatrix;
use tinyrnn::activation::{
    sigmoid_in_place, softmax_columns, softmax_columns_in_place, tanh_in_place,
};
use tinyrnn::data::{batches, mask, pack_columns, pack_sequence, Batch, Confusion};
use tinyrnn::init::Initialize;
use tinyrnn::init::{Init, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::lstm::LstmSlices;
use tinyrnn::lstm::LstmState;
use tinyrnn::optim::{Adam, Clip, Momentum, Sgd};
use tinyrnn::params::Zeroed;
use tinyrnn::params::{matrix_from_row_major, matrix_to_row_major};
use tinyrnn::rnn::RnnSlices;
use tinyrnn::train::{Network, Workspace};
use tinyrnn::{
    Bidirectional, Concat, Dense, Error, Gru, Identity, Layer, Lstm, LstmGrads, LstmParams,
    LstmTape, Model, Params, Real, Relu, ResetAfter, ResetBefore, Rnn, RnnGrads, RnnParams,
    RnnTape, Sigmoid, Stack, Stack3, Step, Stream, Sum, Tanh,
};

// ---------------------------------------------------------------------------------------------
// The counting allocator.
// ---------------------------------------------------------------------------------------------

/// Number of `alloc` + `alloc_zeroed` + `realloc` calls since the program started.
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees carry over; the only addition is an atomic increment.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by this allocator (i.e. by `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (i.e. by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Runs `f` inside a counting window; returns its (black-boxed) result and how many
/// allocations happened during the call.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCS.load(Ordering::SeqCst);
    let r = black_box(f());
    let after = ALLOCS.load(Ordering::SeqCst);
    (r, after - before)
}

/// Runs the checks and collects the non-zero counts.
struct Checker {
    checks: usize,
    failures: Vec<String>,
}

impl Checker {
    /// Runs `f` in a counting window, prints `no_alloc: {ctx} {what} ... N allocations`, and
    /// records a failure if `N != 0`. `ctx` and `what` are formatted before the window opens.
    fn zero<R>(&mut self, ctx: &str, what: &str, f: impl FnOnce() -> R) -> R {
        let (r, n) = measure(f);
        println!("no_alloc: {ctx} {what} ... {n} allocations");
        self.checks += 1;
        if n != 0 {
            self.failures.push(format!("{ctx} {what}: {n} allocations"));
        }
        r
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic, non-trivial inputs.
// ---------------------------------------------------------------------------------------------

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    /// Uniform in `[-scale, scale)`.
    fn next<T: Real>(&mut self, scale: f64) -> T {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let u = (self.0 >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        T::lit((2.0 * u - 1.0) * scale)
    }

    fn matrix<T: Real, const R: usize, const C: usize>(&mut self, scale: f64) -> SMatrix<T, R, C> {
        SMatrix::from_fn(|_, _| self.next(scale))
    }

    fn seq<T: Real, const R: usize, const C: usize, const L: usize>(
        &mut self,
        scale: f64,
    ) -> [SMatrix<T, R, C>; L] {
        core::array::from_fn(|_| self.matrix(scale))
    }

    fn vec<T: Real>(&mut self, len: usize, scale: f64) -> Vec<T> {
        (0..len).map(|_| self.next(scale)).collect()
    }

    /// Every tensor of `p` filled with values in `[-scale, scale)`.
    fn params<T: Real, P: Params<T>>(&mut self, scale: f64) -> P {
        let mut p = P::zeros();
        for t in p.tensors_mut() {
            for v in t.iter_mut() {
                *v = self.next(scale);
            }
        }
        p
    }
}

fn sum_sq<T: Real, const R: usize, const C: usize>(m: &SMatrix<T, R, C>) -> f64 {
    m.iter().map(|v| v.as_f64() * v.as_f64()).sum()
}

// ---------------------------------------------------------------------------------------------
// The checks.
// ---------------------------------------------------------------------------------------------

/// The counter really counts: one window per allocation entry point, each must see > 0.
fn self_check() {
    let ((), boxed) = measure(|| drop(black_box(Box::new([7u64; 16]))));
    let ((), zeroed) = measure(|| drop(black_box(vec![0u8; 4096])));
    let mut grow: Vec<u32> = Vec::with_capacity(1);
    grow.push(1);
    let ((), realloc) = measure(|| {
        grow.extend(0..1000u32);
        black_box(&grow);
    });
    println!("no_alloc: self-check Box::new ... {boxed} allocations (must be > 0)");
    println!("no_alloc: self-check vec![0; 4096] ... {zeroed} allocations (must be > 0)");
    println!("no_alloc: self-check Vec growth ... {realloc} allocations (must be > 0)");
    assert!(boxed > 0, "the counting allocator missed an alloc");
    assert!(zeroed > 0, "the counting allocator missed an alloc_zeroed");
    assert!(realloc > 0, "the counting allocator missed a realloc");
}

/// The [`Params`] trait methods on `P` (an `RnnParams` or `LstmParams`), including their
/// error paths.
fn check_params<T: Real, P: Params<T>>(ck: &mut Checker, ctx: &str, rng: &mut Lcg) {
    let p: P = rng.params(0.5);
    let x: P = rng.params(0.5);
    let mut y = p.clone();
    let mut flat = vec![T::zero(); P::LEN];
    let mut short = vec![T::zero(); P::LEN - 1];
    let good_src = rng.vec::<T>(P::LEN, 1.0);
    let long_src = rng.vec::<T>(P::LEN + 1, 1.0);
    let mut bad_src = good_src.clone();
    bad_src[P::LEN / 2] = T::NAN;
    let mut nan_p = p.clone();
    if let Some(t) = nan_p.tensors_mut().last() {
        t[0] = T::INFINITY;
    }

    let z: P = ck.zero(ctx, "Params::zeros", || P::zeros());
    assert_eq!(z.dot(&z), T::zero());
    ck.zero(ctx, "Params::tensors", || {
        p.tensors().map(|t| t.len()).sum::<usize>()
    });
    ck.zero(ctx, "Params::tensors_mut", || {
        for t in y.tensors_mut() {
            t[0] += T::one();
        }
    });
    ck.zero(ctx, "Params::axpy", || y.axpy(T::lit(-0.25), &x));
    ck.zero(ctx, "Params::scale", || y.scale(T::lit(1.5)));
    let d = ck.zero(ctx, "Params::dot", || y.dot(&x));
    assert!(d != T::zero() && d.is_finite());
    let r = ck.zero(ctx, "Params::check_finite ok", || y.check_finite());
    assert_eq!(r, Ok(()));
    let r = ck.zero(ctx, "Params::check_finite err", || nan_p.check_finite());
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    let r = ck.zero(ctx, "Params::copy_to_flat ok", || y.copy_to_flat(&mut flat));
    assert_eq!(r, Ok(()));
    assert!(flat.iter().any(|v| *v != T::zero()));
    let r = ck.zero(ctx, "Params::copy_to_flat err (short)", || {
        y.copy_to_flat(&mut short)
    });
    assert!(matches!(r, Err(Error::LengthMismatch { .. })), "{r:?}");
    let r = ck.zero(ctx, "Params::copy_from_flat ok", || {
        y.copy_from_flat(&good_src)
    });
    assert_eq!(r, Ok(()));
    let r = ck.zero(ctx, "Params::copy_from_flat err (long)", || {
        y.copy_from_flat(&long_src)
    });
    assert!(matches!(r, Err(Error::LengthMismatch { .. })), "{r:?}");
    let r = ck.zero(ctx, "Params::copy_from_flat err (NaN)", || {
        y.copy_from_flat(&bad_src)
    });
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    ck.zero(ctx, "Params::fill_zero", || y.fill_zero());
    assert_eq!(y.dot(&y), T::zero());
}

/// Everything, for one scalar type and one shape. `N_C` must be `N_A + N_X` (the seeds'
/// concatenated LSTM gate width; checked at compile time by the library).
fn run_config<
    T: Real,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
    const N_C: usize,
>(
    ck: &mut Checker,
    seed: u64,
) {
    let ty = type_name::<T>();
    let rnn = format!("rnn {ty} M={M}");
    let lstm = format!("lstm {ty} M={M}");
    let act = format!("activation {ty} M={M}");
    let mut rng = Lcg(seed);

    // ---- RNN: inputs -------------------------------------------------------------------------
    let rp: RnnParams<T, N_X, N_A, N_Y> = rng.params(0.6);
    let xt: SMatrix<T, N_X, M> = rng.matrix(1.0);
    let a_prev: SMatrix<T, N_A, M> = rng.matrix(0.8);
    let da_next: SMatrix<T, N_A, M> = rng.matrix(1.0);
    let xs: [SMatrix<T, N_X, M>; T_X] = rng.seq(1.0);
    let a0: SMatrix<T, N_A, M> = rng.matrix(0.8);
    let das: [SMatrix<T, N_A, M>; T_X] = rng.seq(1.0);
    let mut rtape = RnnTape::<T, N_X, N_A, N_Y, M, T_X>::zeros();
    let mut rgrads = RnnGrads::<T, N_X, N_A, N_Y, M, T_X>::zeros();
    // numpy-layout slices, and wrong ones for the error paths.
    let (wax, waa, ba) = (
        rng.vec::<T>(N_A * N_X, 0.5),
        rng.vec::<T>(N_A * N_A, 0.5),
        rng.vec::<T>(N_A, 0.5),
    );
    let (wya, by) = (rng.vec::<T>(N_Y * N_A, 0.5), rng.vec::<T>(N_Y, 0.5));
    let rs = RnnSlices {
        wax: &wax,
        waa: &waa,
        ba: &ba,
        wya: &wya,
        by: &by,
    };
    let rs_short = RnnSlices {
        waa: &waa[..N_A * N_A - 1],
        ..rs
    };
    let by_long = rng.vec::<T>(N_Y + 1, 0.5);
    let rs_long = RnnSlices { by: &by_long, ..rs };
    let mut wya_nan = wya.clone();
    wya_nan[N_Y * N_A - 1] = T::NAN;
    let rs_nan = RnnSlices {
        wya: &wya_nan,
        ..rs
    };

    // ---- RNN: checks -------------------------------------------------------------------------
    let step = ck.zero(&rnn, "cell_forward", || {
        rp.cell_forward(black_box(&xt), black_box(&a_prev))
    });
    assert!(sum_sq(&step.a_next) > 0.0 && sum_sq(&step.y_pred) > 0.0);
    let cg = ck.zero(&rnn, "cell_backward", || {
        rp.cell_backward(black_box(&da_next), black_box(&step.cache))
    });
    assert!(sum_sq(&cg.dxt) > 0.0 && cg.dparams.dot(&cg.dparams) > T::zero());
    let tape = ck.zero(&rnn, "forward", || {
        rp.forward(black_box(&xs), black_box(&a0))
    });
    ck.zero(&rnn, "forward_into", || {
        rp.forward_into(black_box(&xs), black_box(&a0), &mut rtape)
    });
    assert_eq!(tape, rtape);
    assert!(sum_sq(&tape.a[T_X - 1]) > 0.0);
    let g = ck.zero(&rnn, "backward", || {
        rp.backward(black_box(&das), black_box(&tape))
    });
    ck.zero(&rnn, "backward_into", || {
        rp.backward_into(black_box(&das), black_box(&rtape), &mut rgrads)
    });
    assert_eq!(g, rgrads);
    assert!(sum_sq(&g.da0) > 0.0 && g.dparams.dot(&g.dparams) > T::zero());
    ck.zero(
        &rnn,
        "RnnTape::zeros",
        RnnTape::<T, N_X, N_A, N_Y, M, T_X>::zeros,
    );
    ck.zero(
        &rnn,
        "RnnGrads::zeros",
        RnnGrads::<T, N_X, N_A, N_Y, M, T_X>::zeros,
    );
    let r = ck.zero(&rnn, "from_row_major ok", || {
        RnnParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&rs))
    });
    let loaded = r.expect("valid RnnSlices");
    assert_eq!(loaded.wax[(N_A - 1, 0)], wax[(N_A - 1) * N_X]);
    let r = ck.zero(&rnn, "from_row_major err (short waa)", || {
        RnnParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&rs_short))
    });
    assert_eq!(
        r,
        Err(Error::LengthMismatch {
            what: "waa",
            expected: N_A * N_A,
            found: N_A * N_A - 1
        })
    );
    let r = ck.zero(&rnn, "from_row_major err (long by)", || {
        RnnParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&rs_long))
    });
    assert!(
        matches!(r, Err(Error::LengthMismatch { what: "by", .. })),
        "{r:?}"
    );
    let r = ck.zero(&rnn, "from_row_major err (NaN wya)", || {
        RnnParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&rs_nan))
    });
    assert!(
        matches!(r, Err(Error::NonFinite { what: "wya", .. })),
        "{r:?}"
    );
    check_params::<T, RnnParams<T, N_X, N_A, N_Y>>(ck, &rnn, &mut rng);

    // ---- LSTM: inputs ------------------------------------------------------------------------
    let lp: LstmParams<T, N_X, N_A, N_Y> = rng.params(0.6);
    let c_prev: SMatrix<T, N_A, M> = rng.matrix(1.0);
    let dc_next: SMatrix<T, N_A, M> = rng.matrix(1.0);
    let c0: SMatrix<T, N_A, M> = rng.matrix(1.0);
    let mut ltape = LstmTape::<T, N_X, N_A, N_Y, M, T_X>::zeros();
    let mut lgrads = LstmGrads::<T, N_X, N_A, N_Y, M, T_X>::zeros();
    let w_seeds: SMatrix<T, N_A, N_C> = rng.matrix(0.5);
    let mut lp_set = lp;
    let gate = |rng: &mut Lcg| rng.vec::<T>(N_A * N_C, 0.5);
    let (wf, wi, wc, wo) = (
        gate(&mut rng),
        gate(&mut rng),
        gate(&mut rng),
        gate(&mut rng),
    );
    let bias = |rng: &mut Lcg| rng.vec::<T>(N_A, 0.5);
    let (bf, bi, bc, bo) = (
        bias(&mut rng),
        bias(&mut rng),
        bias(&mut rng),
        bias(&mut rng),
    );
    let (wy, ly_by) = (rng.vec::<T>(N_Y * N_A, 0.5), rng.vec::<T>(N_Y, 0.5));
    let ls = LstmSlices {
        wf: &wf,
        bf: &bf,
        wi: &wi,
        bi: &bi,
        wc: &wc,
        bc: &bc,
        wo: &wo,
        bo: &bo,
        wy: &wy,
        by: &ly_by,
    };
    let ls_short = LstmSlices {
        wi: &wi[..N_A * N_C - 1],
        ..ls
    };
    let bo_long = rng.vec::<T>(N_A + 1, 0.5);
    let ls_long = LstmSlices { bo: &bo_long, ..ls };
    let mut wc_inf = wc.clone();
    wc_inf[N_C] = T::NEG_INFINITY;
    let ls_nan = LstmSlices { wc: &wc_inf, ..ls };

    // ---- LSTM: checks ------------------------------------------------------------------------
    let step = ck.zero(&lstm, "cell_forward", || {
        lp.cell_forward(black_box(&xt), black_box(&a_prev), black_box(&c_prev))
    });
    assert!(sum_sq(&step.a_next) > 0.0 && sum_sq(&step.c_next) > 0.0);
    let cg = ck.zero(&lstm, "cell_backward", || {
        lp.cell_backward(
            black_box(&da_next),
            black_box(&dc_next),
            black_box(&step.cache),
        )
    });
    assert!(sum_sq(&cg.dc_prev) > 0.0 && cg.dparams.dot(&cg.dparams) > T::zero());
    let tape0 = ck.zero(&lstm, "forward", || {
        lp.forward(black_box(&xs), black_box(&a0))
    });
    assert_eq!(tape0.c0, SMatrix::<T, N_A, M>::zeros());
    let tape = ck.zero(&lstm, "forward_with_c0", || {
        lp.forward_with_c0(black_box(&xs), black_box(&a0), black_box(&c0))
    });
    ck.zero(&lstm, "forward_into", || {
        lp.forward_into(black_box(&xs), black_box(&a0), black_box(&c0), &mut ltape)
    });
    assert_eq!(tape, ltape);
    assert!(sum_sq(&tape.c[T_X - 1]) > 0.0);
    let g = ck.zero(&lstm, "backward", || {
        lp.backward(black_box(&das), black_box(&tape))
    });
    ck.zero(&lstm, "backward_into", || {
        lp.backward_into(black_box(&das), black_box(&ltape), &mut lgrads)
    });
    assert_eq!(g, lgrads);
    assert!(sum_sq(&g.dc0) > 0.0 && g.dparams.dot(&g.dparams) > T::zero());
    ck.zero(
        &lstm,
        "LstmTape::zeros",
        LstmTape::<T, N_X, N_A, N_Y, M, T_X>::zeros,
    );
    ck.zero(
        &lstm,
        "LstmGrads::zeros",
        LstmGrads::<T, N_X, N_A, N_Y, M, T_X>::zeros,
    );
    // The seeds'-layout accessors, all four gates.
    let got = ck.zero(&lstm, "wf/wi/wc/wo", || {
        let p = black_box(&lp);
        (p.wf::<N_C>(), p.wi::<N_C>(), p.wc::<N_C>(), p.wo::<N_C>())
    });
    assert_eq!(got.0[(N_A - 1, N_C - 1)], lp.wfx[(N_A - 1, N_X - 1)]);
    assert_eq!(got.3[(0, 0)], lp.woa[(0, 0)]);
    ck.zero(&lstm, "set_wf/set_wi/set_wc/set_wo", || {
        let w = black_box(&w_seeds);
        lp_set.set_wf(w);
        lp_set.set_wi(w);
        lp_set.set_wc(w);
        lp_set.set_wo(w);
    });
    assert_eq!(lp_set.wf::<N_C>(), w_seeds);
    assert_eq!(lp_set.wo::<N_C>(), w_seeds);
    let r = ck.zero(&lstm, "from_row_major ok", || {
        LstmParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&ls))
    });
    let loaded = r.expect("valid LstmSlices");
    assert_eq!(loaded.wfx[(0, 0)], wf[N_A]);
    let r = ck.zero(&lstm, "from_row_major err (short wi)", || {
        LstmParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&ls_short))
    });
    assert_eq!(
        r,
        Err(Error::LengthMismatch {
            what: "wi",
            expected: N_A * N_C,
            found: N_A * N_C - 1
        })
    );
    let r = ck.zero(&lstm, "from_row_major err (long bo)", || {
        LstmParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&ls_long))
    });
    assert!(
        matches!(r, Err(Error::LengthMismatch { what: "bo", .. })),
        "{r:?}"
    );
    let r = ck.zero(&lstm, "from_row_major err (-inf wc)", || {
        LstmParams::<T, N_X, N_A, N_Y>::from_row_major(black_box(&ls_nan))
    });
    assert_eq!(
        r,
        Err(Error::NonFinite {
            what: "wc",
            index: N_C
        })
    );
    check_params::<T, LstmParams<T, N_X, N_A, N_Y>>(ck, &lstm, &mut rng);

    // ---- activations and the generic row-major helpers ---------------------------------------
    let logits: SMatrix<T, N_Y, M> = rng.matrix(5.0);
    let mut z_soft = logits;
    let mut z_sig: SMatrix<T, N_A, M> = rng.matrix(4.0);
    let mut z_tanh: SMatrix<T, N_A, M> = rng.matrix(4.0);
    let row_major = rng.vec::<T>(N_A * N_X, 1.0);
    let mut out = vec![T::zero(); N_A * N_X];
    let y = ck.zero(&act, "softmax_columns", || {
        softmax_columns(black_box(&logits))
    });
    for col in y.column_iter() {
        assert!((col.sum().as_f64() - 1.0).abs() < 1e-5);
    }
    ck.zero(&act, "softmax_columns_in_place", || {
        softmax_columns_in_place(&mut z_soft)
    });
    assert_eq!(z_soft, y);
    ck.zero(&act, "sigmoid_in_place", || sigmoid_in_place(&mut z_sig));
    ck.zero(&act, "tanh_in_place", || tanh_in_place(&mut z_tanh));
    let w = ck.zero(&act, "matrix_from_row_major ok", || {
        matrix_from_row_major::<T, N_A, N_X>("w", black_box(&row_major))
    });
    let w = w.expect("valid row-major slice");
    let r = ck.zero(&act, "matrix_from_row_major err (short)", || {
        matrix_from_row_major::<T, N_A, N_X>("w", black_box(&row_major[1..]))
    });
    assert!(matches!(r, Err(Error::LengthMismatch { .. })), "{r:?}");
    let r = ck.zero(&act, "matrix_to_row_major", || {
        matrix_to_row_major(black_box(&w), &mut out)
    });
    assert_eq!(r, Ok(()));
    assert_eq!(out, row_major);
}

/// `Layer::forward` and `Layer::backward` of `layer` on a random input and output gradient,
/// from the state `s0`. Returns the outputs recorded by the forward pass.
///
/// The backward pass must write a non-zero parameter gradient, input gradient and (for a
/// layer that has a state) `∂J/∂s⟨0⟩`.
fn check_layer<T, L, const N_IN: usize, const N_OUT: usize, const M: usize, const T_X: usize>(
    ck: &mut Checker,
    ctx: &str,
    rng: &mut Lcg,
    layer: &L,
    x: &[SMatrix<T, N_IN, M>; T_X],
    s0: &L::State,
) -> [SMatrix<T, N_OUT, M>; T_X]
where
    T: Real,
    L: Layer<T, M, X = SMatrix<T, N_IN, M>, Y = SMatrix<T, N_OUT, M>>,
    L::State: PartialEq,
{
    let dy: [SMatrix<T, N_OUT, M>; T_X] = rng.seq(1.0);
    let mut tape = L::Tape::<T_X>::ZEROS;
    let mut dparams = L::zeros();
    let mut dx = [SMatrix::<T, N_IN, M>::zeros(); T_X];
    let mut ds0 = L::State::ZEROS;

    ck.zero(ctx, "Layer::forward", || {
        layer.forward(black_box(x), black_box(s0), &mut tape)
    });
    let y = *L::output(&tape);
    assert!(y.iter().all(|yt| sum_sq(yt) > 0.0), "{ctx}: a zero output");
    ck.zero(ctx, "Layer::backward", || {
        layer.backward(
            black_box(x),
            &mut tape,
            black_box(&dy),
            &mut dparams,
            &mut dx,
            &mut ds0,
        )
    });
    assert!(dparams.dot(&dparams) > T::zero(), "{ctx}: zero dparams");
    assert!(dx.iter().all(|d| sum_sq(d) > 0.0), "{ctx}: a zero dx");
    if size_of::<L::State>() > 0 {
        assert!(ds0 != L::State::ZEROS, "{ctx}: zero ds0");
    }
    y
}

/// Everything a streaming layer offers: `Initialize::init`, `Step::step`, the sequence
/// passes ([`check_layer`]) from the state the steps reached, and a [`Stream`] over it.
///
/// Also checks that stepping equals the sequence forward pass bit for bit, from the zero state
/// (`Stream`) and from a non-zero one.
fn check_step<T, L, const N_IN: usize, const N_OUT: usize, const M: usize, const T_X: usize>(
    ck: &mut Checker,
    ctx: &str,
    seed: u64,
) where
    T: Real,
    L: Step<T, M, X = SMatrix<T, N_IN, M>, Y = SMatrix<T, N_OUT, M>> + Initialize,
    L::State: PartialEq,
{
    let mut rng = Lcg(seed);
    let layer: L = rng.params(0.6);
    let x: [SMatrix<T, N_IN, M>; T_X] = rng.seq(1.0);
    let init = Init::default();

    let fresh = ck.zero(ctx, "Initialize::init", || {
        L::init(&init, &mut Rng::new(seed))
    });
    assert!(fresh.dot(&fresh) > T::zero(), "{ctx}: init drew nothing");
    let mut again = layer.clone();
    ck.zero(ctx, "Initialize::init_into", || {
        again.init_into(&init, &mut Rng::new(seed))
    });
    let same = again.tensors().flatten().eq(fresh.tensors().flatten());
    assert!(same, "{ctx}: init_into differs from init");

    // From the zero state over the whole sequence: the state it reaches is the `s0` below.
    let mut s0 = L::State::ZEROS;
    let mut y_last = SMatrix::<T, N_OUT, M>::zeros();
    ck.zero(ctx, "Step::step", || {
        for xt in &x {
            layer.step(black_box(xt), &mut s0, &mut y_last);
        }
    });
    assert!(sum_sq(&y_last) > 0.0, "{ctx}: a zero step output");
    if size_of::<L::State>() > 0 {
        assert!(s0 != L::State::ZEROS, "{ctx}: the state did not move");
    }

    let y_seq = check_layer::<T, L, N_IN, N_OUT, M, T_X>(ck, ctx, &mut rng, &layer, &x, &s0);

    let mut s = s0;
    let mut y_steps = [SMatrix::<T, N_OUT, M>::zeros(); T_X];
    ck.zero(ctx, "Step::step from s0", || {
        for (xt, yt) in x.iter().zip(y_steps.iter_mut()) {
            layer.step(black_box(xt), &mut s, yt);
        }
    });
    assert_eq!(y_steps, y_seq, "{ctx}: step != forward");

    let mut stream = ck.zero(ctx, "Stream::new", Stream::<T, L, M>::new);
    let y_stream = ck.zero(ctx, "Stream::step", || {
        let mut y = SMatrix::zeros();
        for xt in &x {
            y = stream.step(&layer, black_box(xt));
        }
        y
    });
    assert_eq!(y_stream, y_last, "{ctx}: Stream::step != Step::step");
    assert!(*stream.state() == s0, "{ctx}: Stream state != Step state");
    ck.zero(ctx, "Stream::reset", || stream.reset());
    assert!(
        *stream.state() == L::State::ZEROS,
        "{ctx}: reset kept a state"
    );
}

/// [`check_layer`] and `Initialize::init` for a layer that does not stream (a
/// [`Bidirectional`] one), from the given state.
fn check_seq_only<T, L, const N_IN: usize, const N_OUT: usize, const M: usize, const T_X: usize>(
    ck: &mut Checker,
    ctx: &str,
    seed: u64,
    s0: &L::State,
) where
    T: Real,
    L: Layer<T, M, X = SMatrix<T, N_IN, M>, Y = SMatrix<T, N_OUT, M>> + Initialize,
    L::State: PartialEq,
{
    let mut rng = Lcg(seed);
    let layer: L = rng.params(0.6);
    let x: [SMatrix<T, N_IN, M>; T_X] = rng.seq(1.0);
    let init = Init::default();
    let fresh = ck.zero(ctx, "Initialize::init", || {
        L::init(&init, &mut Rng::new(seed))
    });
    assert!(fresh.dot(&fresh) > T::zero(), "{ctx}: init drew nothing");
    let mut again = layer.clone();
    ck.zero(ctx, "Initialize::init_into", || {
        again.init_into(&init, &mut Rng::new(seed))
    });
    let same = again.tensors().flatten().eq(fresh.tensors().flatten());
    assert!(same, "{ctx}: init_into differs from init");
    check_layer::<T, L, N_IN, N_OUT, M, T_X>(ck, ctx, &mut rng, &layer, &x, s0);
}

/// Every layer kind and composition for one scalar type and one shape. `N_2A` must be
/// `2·N_A` (a `Concat` bidirectional layer's output; checked at build time by the library).
fn run_layers<
    T: Real,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
    const N_2A: usize,
>(
    ck: &mut Checker,
    seed: u64,
) {
    let ty = type_name::<T>();
    let ctx = |name: &str| format!("layer {name} {ty} M={M}");

    check_step::<T, Rnn<T, N_X, N_A>, N_X, N_A, M, T_X>(ck, &ctx("Rnn"), seed);
    check_step::<T, Lstm<T, N_X, N_A>, N_X, N_A, M, T_X>(ck, &ctx("Lstm"), seed + 1);
    check_step::<T, Gru<T, N_X, N_A, ResetAfter>, N_X, N_A, M, T_X>(
        ck,
        &ctx("Gru<ResetAfter>"),
        seed + 2,
    );
    check_step::<T, Gru<T, N_X, N_A, ResetBefore>, N_X, N_A, M, T_X>(
        ck,
        &ctx("Gru<ResetBefore>"),
        seed + 3,
    );
    check_step::<T, Dense<T, N_X, N_A, Identity>, N_X, N_A, M, T_X>(
        ck,
        &ctx("Dense<Identity>"),
        seed + 4,
    );
    check_step::<T, Dense<T, N_X, N_A, Tanh>, N_X, N_A, M, T_X>(ck, &ctx("Dense<Tanh>"), seed + 5);
    check_step::<T, Dense<T, N_X, N_A, Sigmoid>, N_X, N_A, M, T_X>(
        ck,
        &ctx("Dense<Sigmoid>"),
        seed + 6,
    );
    check_step::<T, Dense<T, N_X, N_A, Relu>, N_X, N_A, M, T_X>(ck, &ctx("Dense<Relu>"), seed + 7);
    check_step::<T, Stack<Lstm<T, N_X, N_A>, Gru<T, N_A, N_X, ResetBefore>>, N_X, N_X, M, T_X>(
        ck,
        &ctx("Stack<Lstm, Gru>"),
        seed + 8,
    );
    check_step::<
        T,
        Stack3<Dense<T, N_X, N_A, Tanh>, Gru<T, N_A, N_A>, Rnn<T, N_A, N_X>>,
        N_X,
        N_X,
        M,
        T_X,
    >(ck, &ctx("Stack3<Dense, Gru, Rnn>"), seed + 9);

    // The bidirectional layers, from a non-zero state for each direction.
    let mut rng = Lcg(seed + 10);
    let lstm_s0 = (
        LstmState {
            a: rng.matrix(0.8),
            c: rng.matrix(1.0),
        },
        LstmState {
            a: rng.matrix(0.8),
            c: rng.matrix(1.0),
        },
    );
    let gru_s0 = (rng.matrix(0.8), rng.matrix(0.8));
    check_seq_only::<T, Bidirectional<Lstm<T, N_X, N_A>, Concat<N_2A>>, N_X, N_2A, M, T_X>(
        ck,
        &ctx("Bidirectional<Lstm, Concat>"),
        seed + 11,
        &lstm_s0,
    );
    check_seq_only::<T, Bidirectional<Gru<T, N_X, N_A>, Sum>, N_X, N_A, M, T_X>(
        ck,
        &ctx("Bidirectional<Gru, Sum>"),
        seed + 12,
        &gru_s0,
    );
}

/// A whole training run's worth of calls for the cell `C`: initialisation, the workspace,
/// every kind of target through `accumulate`, full training steps with each optimizer (with
/// clipping), inference, and the error paths.
fn check_training<
    T: Real,
    C: Network<T, M, X = SMatrix<T, N_X, M>, Logits = SMatrix<T, N_Y, M>>
        + Initialize
        + PartialEq
        + core::fmt::Debug,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
>(
    ck: &mut Checker,
    cell: &str,
    seed: u64,
) {
    let ctx = format!("train {cell} {} M={M}", type_name::<T>());
    let mut rng = Lcg(seed);
    let x: [SMatrix<T, N_X, M>; T_X] = rng.seq(1.0);
    let classes: [usize; M] = core::array::from_fn(|j| j % N_Y);
    let classes_each: [[usize; M]; T_X] =
        core::array::from_fn(|t| core::array::from_fn(|j| (j + t) % N_Y));
    let bad_classes: [usize; M] = [N_Y; M];
    let probs: SMatrix<T, N_Y, M> = SMatrix::repeat(T::one() / T::lit(N_Y as f64));
    let probs_each = [probs; T_X];
    let values: SMatrix<T, N_Y, M> = rng.matrix(1.0);
    let values_each: [SMatrix<T, N_Y, M>; T_X] = rng.seq(1.0);
    let init = Init::default();

    let mut model = ck.zero(&ctx, "init", || C::init(&init, &mut Rng::new(seed)));
    let mut ws = ck.zero(&ctx, "Workspace::zeros", Workspace::<T, C, M, T_X>::zeros);
    let targets = [
        ("ClassLast", Target::ClassLast(&classes)),
        ("ClassEach", Target::ClassEach(&classes_each)),
        ("ProbLast", Target::ProbLast(&probs)),
        ("ProbEach", Target::ProbEach(&probs_each)),
        ("ValueLast", Target::ValueLast(&values)),
        ("ValueEach", Target::ValueEach(&values_each)),
    ];
    let labels: Vec<String> = targets
        .iter()
        .map(|(n, _)| format!("accumulate {n}"))
        .collect();
    for ((_, target), label) in targets.iter().zip(&labels) {
        let loss = ck.zero(&ctx, label, || ws.accumulate(&model, black_box(&x), target));
        assert!(loss.expect("valid target").is_finite());
    }
    let mut sgd = Sgd::new(T::lit(0.01)).with_clip(Clip::Value(T::one()));
    let mut momentum = ck.zero(&ctx, "Momentum::new", || {
        Momentum::<T, C>::new(T::lit(0.01), T::lit(0.9))
    });
    let mut adam = ck.zero(&ctx, "Adam::new", || {
        Adam::<T, C>::new(T::lit(0.01)).with_clip(Clip::GlobalNorm(T::one()))
    });
    let step = Target::ClassLast(&classes);
    let r = ck.zero(&ctx, "train_step Sgd", || {
        ws.train_step(&mut model, &mut sgd, black_box(&x), step)
    });
    assert!(r.is_ok());
    let r = ck.zero(&ctx, "train_step Momentum", || {
        ws.train_step(&mut model, &mut momentum, black_box(&x), step)
    });
    assert!(r.is_ok());
    let r = ck.zero(&ctx, "train_step Adam", || {
        ws.train_step(&mut model, &mut adam, black_box(&x), step)
    });
    assert!(r.is_ok());
    let r = ck.zero(&ctx, "train_step Adam (ValueEach)", || {
        ws.train_step(
            &mut model,
            &mut adam,
            black_box(&x),
            Target::ValueEach(&values_each),
        )
    });
    assert!(r.is_ok());
    let before = model.clone();
    let r = ck.zero(&ctx, "train_step err (class out of range)", || {
        ws.train_step(
            &mut model,
            &mut adam,
            black_box(&x),
            Target::ClassLast(&bad_classes),
        )
    });
    assert_eq!(
        r,
        Err(Error::ClassOutOfRange {
            index: N_Y,
            classes: N_Y
        })
    );
    assert_eq!(model, before);
    let y = ck.zero(&ctx, "predict", || {
        *ws.predict(&model, black_box(&x), Head::Softmax)
            .last()
            .expect("T_X > 0")
    });
    for col in y.column_iter() {
        assert!((col.sum().as_f64() - 1.0).abs() < 1e-5);
    }
    let last = ck.zero(&ctx, "predict_last", || {
        *ws.predict_last(&model, black_box(&x), Head::Softmax)
    });
    assert_eq!(last, y);

    // A dataset in batches (`tinyrnn::data`): packing, padding, evaluation, the confusion
    // matrix and its table. Three batches' worth of cases but one short, so the last is padded.
    let n_cases = 3 * M - 1;
    let cases: Vec<([[T; N_X]; T_X], usize)> = (0..n_cases)
        .map(|i| {
            let s: [SMatrix<T, N_X, 1>; T_X] = rng.seq(1.0);
            (s.map(|m| core::array::from_fn(|c| m[c])), i % N_Y)
        })
        .collect();
    let order: Vec<usize> = (0..n_cases).rev().collect();
    let mut batch = ck.zero(&ctx, "Batch::zeros", Batch::<T, N_X, M, T_X>::zeros);
    let mut confusion = Confusion::<N_Y>::new();
    let (mut eval_loss, mut train_loss) = (T::zero(), T::zero());
    ck.zero(
        &ctx,
        "batches + fill + evaluate + train_step + add_batch",
        || {
            for idx in batches::<M>(black_box(&order)) {
                batch.fill(idx, |i, t| cases[i].0[t].into(), |i| cases[i].1);
                let e = ws.evaluate(&model, &batch.x, batch.class_last(), &mut confusion);
                eval_loss += e.expect("valid batch");
                let l = ws.train_step(&mut model, &mut adam, &batch.x, batch.class_last());
                train_loss += l.expect("valid batch");
                confusion.add_batch(&ws.y_pred[T_X - 1], &batch.labels, &batch.weights);
            }
        },
    );
    assert!(eval_loss.is_finite() && train_loss.is_finite());
    assert_eq!(batch.cases, (n_cases - 1) % M + 1);
    assert_eq!(confusion.total(), 2 * n_cases as u64);
    let mut v = SMatrix::<T, N_Y, M>::zeros();
    let mut w = [T::zero(); M];
    let r = ck.zero(
        &ctx,
        "pack_sequence + pack_columns + mask + evaluate ValueLast",
        || {
            let idx = &order[..M.div_ceil(2)];
            let n = pack_sequence(idx, &mut batch.x, |i, t| cases[i].0[t].into());
            pack_columns(idx, &mut v, |i| SMatrix::repeat(T::lit(cases[i].1 as f64)));
            mask(n, &mut w);
            ws.evaluate(
                &model,
                &batch.x,
                Target::ValueLast(&v).weighted(&w),
                &mut confusion,
            )
        },
    );
    assert!(r.is_ok());
    let names: Vec<String> = (0..N_Y).map(|k| format!("class {k}")).collect();
    let mut sink = CountingWriter(0);
    ck.zero(&ctx, "Confusion Display + with_names", || {
        use std::fmt::Write;
        write!(sink, "{confusion}{}", confusion.with_names(&names)).expect("no error");
        confusion.accuracy() + confusion.recall(0).unwrap_or(0.0)
    });
    assert!(sink.0 > 0);
    ck.zero(&ctx, "zero_grads", || ws.zero_grads());
    ck.zero(&ctx, "Zeroed::reset (tape)", || ws.tape.reset());
    ck.zero(&ctx, "Workspace::reset", || ws.reset());
    ck.zero(&ctx, "init_into", || {
        model.init_into(&init, &mut Rng::new(seed))
    });
    let mut order: [usize; 16] = core::array::from_fn(|k| k);
    ck.zero(&ctx, "Rng::shuffle", || Rng::new(seed).shuffle(&mut order));
}

/// A `fmt::Write` that only counts the bytes written (a `String` would allocate).
struct CountingWriter(usize);

impl std::fmt::Write for CountingWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// The PyTorch and Keras importers and exporters, their error paths, and the listing: a
/// 2-layer bidirectional GRU with a dense head, f32.
fn check_interop(ck: &mut Checker) {
    use tinyrnn::interop::{keras, torch};
    type Net = Model<
        Stack<Bidirectional<Gru<f32, 3, 4>, Concat<8>>, Bidirectional<Gru<f32, 8, 4>, Concat<8>>>,
        Dense<f32, 8, 2>,
    >;
    let ctx = "interop".to_string();
    // The state_dict, named and sized by the listing (built before any window opens).
    let mut names: Vec<(String, usize)> = Vec::new();
    torch::for_each_tensor::<f32, Net>(&["rnn", "fc"], |id, len| names.push((id.to_string(), len)))
        .expect("listing");
    let values: Vec<Vec<f32>> = names
        .iter()
        .enumerate()
        .map(|(k, (_, len))| {
            (0..*len)
                .map(|i| ((k * 31 + i * 7) % 13) as f32 / 13.0 - 0.5)
                .collect()
        })
        .collect();
    let dict: Vec<(&str, &[f32])> = names
        .iter()
        .zip(&values)
        .map(|((n, _), v)| (n.as_str(), &v[..]))
        .collect();
    let mut short = dict.clone();
    short[3].1 = &short[3].1[1..];
    let mut nan_values = values[5].clone();
    nan_values[2] = f32::NAN;
    let mut nan = dict.clone();
    nan[5].1 = &nan_values;
    let missing: Vec<(&str, &[f32])> = dict[1..].to_vec();
    let mut outs: Vec<Vec<f32>> = values.iter().map(|v| vec![0.0; v.len()]).collect();
    let mut list_names: Vec<usize> = Vec::new();
    keras::for_each_tensor::<f32, Net>(|_, len| list_names.push(len)).expect("listing");
    let klist: Vec<Vec<f32>> = list_names.iter().map(|&len| vec![0.25; len]).collect();
    let kref: Vec<&[f32]> = klist.iter().map(|v| &v[..]).collect();
    let mut kouts: Vec<Vec<f32>> = klist.clone();

    let net = ck.zero(&ctx, "torch::load", || {
        torch::load::<f32, Net>(black_box(&dict), &["rnn", "fc"])
    });
    let net = net.expect("the dict loads");
    for (label, d) in [("short", &short), ("NaN", &nan), ("missing", &missing)] {
        let r = ck.zero(&ctx, &format!("torch::load err ({label})"), || {
            torch::load::<f32, Net>(black_box(d), &["rnn", "fc"])
        });
        assert!(r.is_err());
    }
    {
        let mut out: Vec<(&str, &mut [f32])> = names
            .iter()
            .zip(outs.iter_mut())
            .map(|((n, _), v)| (n.as_str(), &mut v[..]))
            .collect();
        let r = ck.zero(&ctx, "torch::save", || {
            torch::save(&net, black_box(&mut out), &["rnn", "fc"])
        });
        assert!(r.is_ok());
    }
    assert_eq!(
        outs.iter().map(|v| v.len()).sum::<usize>(),
        <Net as Params<f32>>::LEN + 4 * 2 * 4
    );
    let mut count = 0;
    ck.zero(&ctx, "torch::for_each_tensor", || {
        torch::for_each_tensor::<f32, Net>(&["rnn", "fc"], |_, _| count += 1)
    })
    .expect("listing");
    assert_eq!(count, names.len());
    let knet = ck.zero(&ctx, "keras::load", || {
        keras::load::<f32, Net>(black_box(&kref))
    });
    let knet = knet.expect("the list loads");
    let r = ck.zero(&ctx, "keras::load err (short list)", || {
        keras::load::<f32, Net>(black_box(&kref[1..]))
    });
    assert!(r.is_err());
    let mut kout: Vec<&mut [f32]> = kouts.iter_mut().map(|v| &mut v[..]).collect();
    let r = ck.zero(&ctx, "keras::save", || {
        keras::save(&knet, black_box(&mut kout))
    });
    assert!(r.is_ok());
}

/// The quantized path: post-training quantisation (calibration and conversion), every
/// quantized layer's step, a stack, `QStream`, `validate`, the input and output conversions,
/// and `write_rust` into a `fmt::Write` that only counts bytes.
fn check_quant(ck: &mut Checker) {
    use tinyrnn::quant::{self, Calibrator, QStep, QStream};
    type Body = Stack3<Lstm<f32, 3, 6>, Gru<f32, 6, 5, ResetBefore>, Rnn<f32, 5, 4>>;
    type Net = Model<Stack<Body, Dense<f32, 4, 4, Relu>>, Dense<f32, 4, 2>>;
    let mut rng = Lcg(77);
    let net: Net = rng.params(0.8);
    let seqs: Vec<[SMatrix<f32, 3, 1>; 9]> = (0..4).map(|_| rng.seq(2.0)).collect();
    let ctx = type_name::<Net>();

    let q = ck.zero(ctx, "quant::quantize", || quant::quantize(&net, &seqs));
    let q = q.expect("quantize");
    let mut cal = Calibrator::<f32, Net>::new();
    let q2 = ck.zero(ctx, "Calibrator observe + quantize", || {
        for x in &seqs[0] {
            cal.observe(&net, x);
        }
        cal.end_sequence();
        cal.quantize(&net)
    });
    assert!(q2.is_ok());
    let mut s = QStream::new();
    let y = ck.zero(
        ctx,
        "quantize_input + QStream::step + dequantize_output",
        || {
            let mut y = SMatrix::<f32, 2, 1>::zeros();
            for x in &seqs[1] {
                y = q.dequantize_output(&s.step(&q, &q.quantize_input(x)));
            }
            s.reset();
            y
        },
    );
    assert!(y.iter().all(|v| v.is_finite()));
    assert!(ck.zero(ctx, "QStep::validate", || q.validate()).is_ok());

    struct Count(usize);
    impl core::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut out = Count(0);
    let r = ck.zero(ctx, "QStep::write_rust", || q.write_rust(&mut out));
    assert!(r.is_ok() && out.0 > 1000);

    // Each layer kind alone (the GRU in its other variant, the activations not used above).
    let g: Gru<f64, 3, 4, ResetAfter> = rng.params(0.5);
    let d: Dense<f64, 3, 2, Tanh> = rng.params(0.5);
    let e: Dense<f64, 3, 2, Sigmoid> = rng.params(0.5);
    let i: Dense<f64, 3, 2, Identity> = rng.params(0.5);
    let xs: Vec<[SMatrix<f64, 3, 1>; 6]> = (0..3).map(|_| rng.seq(1.0)).collect();
    let qg = quant::quantize(&g, &xs).expect("gru");
    let qd = quant::quantize(&d, &xs).expect("tanh");
    let qe = quant::quantize(&e, &xs).expect("sigmoid");
    let qi = quant::quantize(&i, &xs).expect("identity");
    let xq = qg.quantize_input(&xs[2][0].map(|v| v as f32));
    let sum = ck.zero("quantized layers", "QGru/QDense step", || {
        let (mut a, mut y2) = (Zeroed::ZEROS, Zeroed::ZEROS);
        let mut y4 = Zeroed::ZEROS;
        qg.step(&xq, &mut a, &mut y4);
        let mut acc = y4.iter().map(|&v| v as i64).sum::<i64>();
        qd.step(&xq, &mut (), &mut y2);
        acc += y2.iter().map(|&v| v as i64).sum::<i64>();
        qe.step(&xq, &mut (), &mut y2);
        acc += y2.iter().map(|&v| v as i64).sum::<i64>();
        qi.step(&xq, &mut (), &mut y2);
        acc += y2.iter().map(|&v| v as i64).sum::<i64>();
        acc
    });
    black_box(sum);
}

fn main() {
    self_check();

    let mut ck = Checker {
        checks: 0,
        failures: Vec::new(),
    };
    // The course configuration (N_X=3, N_A=5, N_Y=2, M=10, T_X=7) and batch 1.
    run_config::<f32, 3, 5, 2, 10, 7, 8>(&mut ck, 1);
    run_config::<f64, 3, 5, 2, 10, 7, 8>(&mut ck, 2);
    run_config::<f32, 4, 6, 3, 1, 5, 10>(&mut ck, 3);
    run_config::<f64, 4, 6, 3, 1, 5, 10>(&mut ck, 4);
    check_training::<f32, LstmParams<f32, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut ck, "lstm", 5);
    check_training::<f64, LstmParams<f64, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut ck, "lstm", 6);
    check_training::<f32, RnnParams<f32, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut ck, "rnn", 7);
    check_training::<f64, RnnParams<f64, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut ck, "rnn", 8);
    check_training::<f32, LstmParams<f32, 4, 6, 3>, 4, 6, 3, 1, 5>(&mut ck, "lstm", 9);
    check_training::<f64, RnnParams<f64, 4, 6, 3>, 4, 6, 3, 1, 5>(&mut ck, "rnn", 10);

    // The layers and their compositions, course configuration and batch 1.
    run_layers::<f32, 3, 5, 10, 7, 10>(&mut ck, 100);
    run_layers::<f64, 3, 5, 10, 7, 10>(&mut ck, 200);
    run_layers::<f32, 4, 6, 1, 5, 12>(&mut ck, 300);
    run_layers::<f64, 4, 6, 1, 5, 12>(&mut ck, 400);

    // Composed models: a GRU under an LSTM, and a bidirectional LSTM, each with a linear head.
    type GruLstm<T, const N_X: usize, const N_A: usize, const N_Y: usize> =
        Model<Stack<Gru<T, N_X, N_A>, Lstm<T, N_A, N_A>>, Dense<T, N_A, N_Y>>;
    type BiLstm<T, const N_X: usize, const N_A: usize, const N_2A: usize, const N_Y: usize> =
        Model<Bidirectional<Lstm<T, N_X, N_A>, Concat<N_2A>>, Dense<T, N_2A, N_Y>>;
    check_training::<f32, GruLstm<f32, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut ck, "gru+lstm", 11);
    check_training::<f64, GruLstm<f64, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut ck, "gru+lstm", 12);
    check_training::<f32, GruLstm<f32, 4, 6, 3>, 4, 6, 3, 1, 5>(&mut ck, "gru+lstm", 13);
    check_training::<f32, BiLstm<f32, 3, 5, 10, 2>, 3, 10, 2, 10, 7>(&mut ck, "bilstm", 14);
    check_training::<f64, BiLstm<f64, 3, 5, 10, 2>, 3, 10, 2, 10, 7>(&mut ck, "bilstm", 15);
    check_training::<f64, BiLstm<f64, 4, 6, 12, 3>, 4, 12, 3, 1, 5>(&mut ck, "bilstm", 16);

    check_interop(&mut ck);
    check_quant(&mut ck);

    if !ck.failures.is_empty() {
        panic!(
            "{} of {} checks allocated:\n  {}",
            ck.failures.len(),
            ck.checks,
            ck.failures.join("\n  ")
        );
    }
    println!("no_alloc: all {} checks made 0 allocations", ck.checks);
}
