//! The GRU layer, both reset-gate placements: finite-difference gradient checks of the
//! sequence backward pass, streaming against the sequence forward, how the variants differ,
//! and a hand-computed step.
//!
//! The gradient checks use the loss `J = Σ_t ⟨w_t, a⟨t⟩⟩` with fixed random weights `w_t`, so
//! `∂J/∂a⟨t⟩ = w_t` is exactly the `dy` that [`Layer::backward`] takes. Every scalar of every
//! parameter, of every input `x⟨t⟩` and of the initial state `a⟨0⟩` is perturbed and compared
//! with the fourth-order central difference (`common::fd`). Run with `--nocapture` to see the
//! worst error per tensor.

mod common;

use common::fd::{assert_report, check_params, check_tensor, step};
use nalgebra::SMatrix;
use tinyrnn::gru::{GruTape, GruVariant};
use tinyrnn::init::Rng;
use tinyrnn::params::Zeroed;
use tinyrnn::{Gru, Layer, Params, Real, ResetAfter, ResetBefore, Step};

/// A GRU with every parameter drawn from `U(−scale, scale)`.
fn random_gru<T: Real, V: GruVariant, const N_X: usize, const N_A: usize>(
    rng: &mut Rng,
    scale: f64,
) -> Gru<T, N_X, N_A, V> {
    let mut g = Gru::<T, N_X, N_A, V>::zeros();
    for t in g.tensors_mut() {
        for v in t.iter_mut() {
            *v = T::lit(rng.uniform(-scale, scale));
        }
    }
    g
}

fn random_matrix<T: Real, const R: usize, const C: usize>(
    rng: &mut Rng,
    scale: f64,
) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|_, _| T::lit(rng.uniform(-scale, scale)))
}

fn random_seq<T: Real, const R: usize, const C: usize, const T_X: usize>(
    rng: &mut Rng,
    scale: f64,
) -> [SMatrix<T, R, C>; T_X] {
    core::array::from_fn(|_| random_matrix(rng, scale))
}

/// The outputs of a sequence forward pass.
fn outputs<
    T: Real,
    V: GruVariant,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
>(
    g: &Gru<T, N_X, N_A, V>,
    x: &[SMatrix<T, N_X, M>; T_X],
    s0: &SMatrix<T, N_A, M>,
) -> [SMatrix<T, N_A, M>; T_X] {
    let mut tape = GruTape::<T, N_A, M, T_X>::ZEROS;
    g.forward(x, s0, &mut tape);
    *<Gru<T, N_X, N_A, V> as Layer<T, M>>::output(&tape)
}

/// What [`Layer::backward`] returns: the parameter gradient, `∂J/∂x⟨t⟩` and `∂J/∂a⟨0⟩`.
struct Grads<T, V, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize> {
    dparams: Gru<T, N_X, N_A, V>,
    dx: [SMatrix<T, N_X, M>; T_X],
    ds0: SMatrix<T, N_A, M>,
}

fn gradients<
    T: Real,
    V: GruVariant,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
>(
    g: &Gru<T, N_X, N_A, V>,
    x: &[SMatrix<T, N_X, M>; T_X],
    s0: &SMatrix<T, N_A, M>,
    dy: &[SMatrix<T, N_A, M>; T_X],
) -> Grads<T, V, N_X, N_A, M, T_X> {
    let mut tape = GruTape::<T, N_A, M, T_X>::ZEROS;
    g.forward(x, s0, &mut tape);
    let mut out = Grads {
        dparams: Gru::zeros(),
        dx: [SMatrix::zeros(); T_X],
        ds0: SMatrix::zeros(),
    };
    g.backward(
        x,
        &mut tape,
        dy,
        &mut out.dparams,
        &mut out.dx,
        &mut out.ds0,
    );
    out
}

fn weighted<T: Real, const R: usize, const C: usize, const T_X: usize>(
    w: &[SMatrix<T, R, C>; T_X],
    a: &[SMatrix<T, R, C>; T_X],
) -> f64 {
    w.iter().zip(a).map(|(w, a)| w.dot(a).as_f64()).sum::<f64>()
}

/// Every parameter, every `x⟨t⟩` and `a⟨0⟩` against central differences.
fn gru_check<
    T: Real,
    V: GruVariant,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
>(
    seed: u64,
) {
    println!(
        "GRU {} {:?} N_X={N_X} N_A={N_A} M={M} T_X={T_X}",
        core::any::type_name::<T>(),
        V::default()
    );
    let mut rng = Rng::new(seed);
    let g = random_gru::<T, V, N_X, N_A>(&mut rng, 0.8);
    let x: [SMatrix<T, N_X, M>; T_X] = random_seq(&mut rng, 1.0);
    let s0: SMatrix<T, N_A, M> = random_matrix(&mut rng, 0.8);
    let w: [SMatrix<T, N_A, M>; T_X] = random_seq(&mut rng, 1.0);
    let h = step::<T>();

    let grads = gradients(&g, &x, &s0, &w);
    let loss = |g: &Gru<T, N_X, N_A, V>, x: &[SMatrix<T, N_X, M>; T_X], s0: &SMatrix<T, N_A, M>| {
        weighted(&w, &outputs(g, x, s0))
    };

    check_params(&g, &grads.dparams, h, |q| loss(q, &x, &s0));
    for t in 0..T_X {
        let r = check_tensor(
            &format!("x[{t}]"),
            grads.dx[t].as_slice(),
            x[t].as_slice(),
            h,
            |v| {
                let mut x2 = x;
                x2[t].copy_from_slice(v);
                loss(&g, &x2, &s0)
            },
        );
        assert_report::<T>("dx", &r);
    }
    let r = check_tensor("a0", grads.ds0.as_slice(), s0.as_slice(), h, |v| {
        loss(&g, &x, &SMatrix::from_column_slice(v))
    });
    assert_report::<T>("da0", &r);
}

macro_rules! gradcheck_tests {
    ($($name:ident: $t:ty, $v:ty;)*) => {$(
        mod $name {
            use super::*;
            type T = $t;
            type V = $v;

            /// The brief's configuration: N_X ≠ N_A, a batch, five steps.
            #[test]
            fn sequence_batch_2() {
                gru_check::<T, V, 3, 4, 2, 5>(1);
            }
            /// Batch of one, more inputs than units. (With `N_A = 2` some draws make the
            /// reset-before reset gate's gradient ~100× smaller than the other tensors',
            /// below what an f32 difference quotient resolves (noise ≈ ε·|J|/h ≈ 1e-5);
            /// f64 passes there at < 1e-6, so `N_A = 3` keeps the f32 check meaningful.)
            #[test]
            fn sequence_batch_1() {
                gru_check::<T, V, 5, 3, 1, 4>(2);
            }
            /// A single step (no gradient carried between steps).
            #[test]
            fn single_step() {
                gru_check::<T, V, 2, 3, 3, 1>(3);
            }
        }
    )*};
}

gradcheck_tests! {
    f64_reset_after: f64, ResetAfter;
    f64_reset_before: f64, ResetBefore;
    f32_reset_after: f32, ResetAfter;
    f32_reset_before: f32, ResetBefore;
}

/// The f32 and f64 backward passes compute the same math: on the same (f32-representable)
/// inputs, the f32 gradients agree with the f64 ones to single-precision accuracy.
fn f32_agrees_with_f64<V: GruVariant>() {
    /// `|g32 − g64| ≤ F32_VS_F64_TOL · max(1, |g64|)`, as `tests/gradcheck.rs`.
    const F32_VS_F64_TOL: f64 = 1e-4;
    let mut rng = Rng::new(9);
    let g32 = random_gru::<f32, V, 3, 4>(&mut rng, 0.8);
    let x32: [SMatrix<f32, 3, 2>; 5] = random_seq(&mut rng, 1.0);
    let s32: SMatrix<f32, 4, 2> = random_matrix(&mut rng, 0.8);
    let w32: [SMatrix<f32, 4, 2>; 5] = random_seq(&mut rng, 1.0);
    let mut g64 = Gru::<f64, 3, 4, V>::zeros();
    for (d, s) in g64.tensors_mut().zip(g32.tensors()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = f64::from(s);
        }
    }
    let (x64, s64, w64) = (
        x32.map(|m| m.cast::<f64>()),
        s32.cast::<f64>(),
        w32.map(|m| m.cast::<f64>()),
    );
    let a = gradients(&g32, &x32, &s32, &w32);
    let b = gradients(&g64, &x64, &s64, &w64);
    let mut worst = 0.0_f64;
    for (a, b) in a.dparams.tensors().zip(b.dparams.tensors()) {
        for (&a, &b) in a.iter().zip(b) {
            worst = worst.max((f64::from(a) - b).abs() / b.abs().max(1.0));
        }
    }
    for (a, b) in a.dx.iter().zip(&b.dx) {
        worst = worst.max((a.cast::<f64>() - b).abs().max());
    }
    worst = worst.max((a.ds0.cast::<f64>() - b.ds0).abs().max());
    println!(
        "f32 vs f64 GRU {:?} gradients: worst scaled difference {worst:.2e}",
        V::default()
    );
    assert!(worst < F32_VS_F64_TOL, "{worst:e}");
}

#[test]
fn f32_backward_agrees_with_f64_reset_after() {
    f32_agrees_with_f64::<ResetAfter>();
}

#[test]
fn f32_backward_agrees_with_f64_reset_before() {
    f32_agrees_with_f64::<ResetBefore>();
}

/// `backward` overwrites `dx` and `ds0` and adds into `dparams`.
fn backward_overwrites_inputs_and_accumulates_params<V: GruVariant>() {
    let mut rng = Rng::new(10);
    let g = random_gru::<f64, V, 3, 4>(&mut rng, 0.8);
    let x: [SMatrix<f64, 3, 2>; 4] = random_seq(&mut rng, 1.0);
    let s0: SMatrix<f64, 4, 2> = random_matrix(&mut rng, 0.8);
    let dy: [SMatrix<f64, 4, 2>; 4] = random_seq(&mut rng, 1.0);
    let once = gradients(&g, &x, &s0, &dy);

    let mut tape = GruTape::<f64, 4, 2, 4>::ZEROS;
    g.forward(&x, &s0, &mut tape);
    let mut dparams = once.dparams;
    let mut dx = [SMatrix::repeat(7.0); 4]; // garbage: must be overwritten
    let mut ds0 = SMatrix::repeat(-3.0);
    g.backward(&x, &mut tape, &dy, &mut dparams, &mut dx, &mut ds0);
    assert_eq!(dx, once.dx);
    assert_eq!(ds0, once.ds0);
    for (twice, once) in dparams.tensors().zip(once.dparams.tensors()) {
        for (&t, &o) in twice.iter().zip(once) {
            assert!(
                (t - 2.0 * o).abs() <= 1e-15 * o.abs().max(1.0),
                "{t} vs 2·{o}"
            );
        }
    }
}

#[test]
fn backward_overwrites_and_accumulates_reset_after() {
    backward_overwrites_inputs_and_accumulates_params::<ResetAfter>();
}

#[test]
fn backward_overwrites_and_accumulates_reset_before() {
    backward_overwrites_inputs_and_accumulates_params::<ResetBefore>();
}

/// `Step::step` from the same initial state reproduces the sequence outputs bit for bit.
fn streaming_matches_forward<V: GruVariant, const M: usize>(seed: u64) {
    let mut rng = Rng::new(seed);
    let g = random_gru::<f32, V, 3, 5>(&mut rng, 0.8);
    let x: [SMatrix<f32, 3, M>; 6] = random_seq(&mut rng, 1.0);
    let s0: SMatrix<f32, 5, M> = random_matrix(&mut rng, 0.8);
    let y_seq = outputs(&g, &x, &s0);
    let mut state = s0;
    let mut y = SMatrix::<f32, 5, M>::repeat(f32::NAN);
    for t in 0..6 {
        g.step(&x[t], &mut state, &mut y);
        assert_eq!(y, y_seq[t], "step {t}");
        assert_eq!(state, y, "step {t}");
    }
}

#[test]
fn streaming_matches_forward_reset_after() {
    streaming_matches_forward::<ResetAfter, 1>(11);
    streaming_matches_forward::<ResetAfter, 3>(12);
}

#[test]
fn streaming_matches_forward_reset_before() {
    streaming_matches_forward::<ResetBefore, 1>(13);
    streaming_matches_forward::<ResetBefore, 3>(14);
}

/// With `Wna ≠ 0` the reset placement changes the output.
#[test]
fn variants_differ_when_wna_is_nonzero() {
    let mut rng = Rng::new(15);
    let after = random_gru::<f64, ResetAfter, 3, 4>(&mut rng, 0.8);
    let before = after.with_variant::<ResetBefore>();
    let x: [SMatrix<f64, 3, 2>; 3] = random_seq(&mut rng, 1.0);
    let s0: SMatrix<f64, 4, 2> = random_matrix(&mut rng, 0.8);
    let (ya, yb) = (outputs(&after, &x, &s0), outputs(&before, &x, &s0));
    let diff = (ya[2] - yb[2]).abs().max();
    assert!(diff > 1e-3, "the variants agree to {diff:e}");
}

/// With `Wna = 0` and `bna = 0` the recurrent term of the candidate vanishes in both variants
/// (`r ⊙ 0` and `0·(r ⊙ a)`), so both compute `n = tanh(Wnx·x + bnx)`: the same outputs, and
/// the reset gate gets no gradient. (With `Wna = 0` but `bna ≠ 0` they still differ:
/// `r ⊙ bna` against `bna`, equal only where `r = 1`.)
#[test]
fn variants_agree_when_the_recurrent_candidate_term_is_zero() {
    let mut rng = Rng::new(16);
    let mut after = random_gru::<f64, ResetAfter, 3, 4>(&mut rng, 0.8);
    after.wna.fill(0.0);
    after.bna.fill(0.0);
    let before = after.with_variant::<ResetBefore>();
    let x: [SMatrix<f64, 3, 2>; 4] = random_seq(&mut rng, 1.0);
    let s0: SMatrix<f64, 4, 2> = random_matrix(&mut rng, 0.8);
    let dy: [SMatrix<f64, 4, 2>; 4] = random_seq(&mut rng, 1.0);
    assert_eq!(outputs(&after, &x, &s0), outputs(&before, &x, &s0));

    let (ga, gb) = (
        gradients(&after, &x, &s0, &dy),
        gradients(&before, &x, &s0, &dy),
    );
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() <= 1e-14);
    for ((name, a), b) in Gru::<f64, 3, 4>::names()
        .zip(ga.dparams.tensors())
        .zip(gb.dparams.tensors())
    {
        match name {
            // dWna, dbna: (dzn ⊙ r)·aᵀ against dzn·(r ⊙ a)ᵀ, Σ dzn ⊙ r against Σ dzn.
            "wna" | "bna" => assert!(!close(a, b), "{name}"),
            "wrx" | "wra" | "br" => {
                assert!(a.iter().chain(b).all(|&v| v == 0.0), "{name}");
            }
            _ => assert!(close(a, b), "{name}"),
        }
    }
    for (a, b) in ga.dx.iter().zip(&gb.dx) {
        assert!(close(a.as_slice(), b.as_slice()));
    }
    assert!(close(ga.ds0.as_slice(), gb.ds0.as_slice()));

    // bna ≠ 0 with Wna = 0: reset-after scales it by r, reset-before does not.
    let mut after_b = after;
    after_b.bna.fill(0.5);
    let before_b = after_b.with_variant::<ResetBefore>();
    let diff = (outputs(&after_b, &x, &s0)[0] - outputs(&before_b, &x, &s0)[0])
        .abs()
        .max();
    assert!(diff > 1e-3, "{diff:e}");
}

/// One step with `N_X = N_A = 1`, against the formula written out in scalars and against
/// values computed independently in Python (`math.tanh`, `1 / (1 + math.exp(-v))`).
#[test]
fn one_step_by_hand() {
    fn sigma(v: f64) -> f64 {
        1.0 / (1.0 + (-v).exp())
    }
    let (wzx, wza, bz) = (0.3, -0.2, 0.1);
    let (wrx, wra, br) = (-0.4, 0.5, 0.2);
    let (wnx, wna, bnx, bna) = (0.7, -0.6, 0.05, 0.3);
    let (x, a) = (0.8, -0.5);

    let mut after = Gru::<f64, 1, 1, ResetAfter>::zeros();
    (after.wzx[0], after.wza[0], after.bz[0]) = (wzx, wza, bz);
    (after.wrx[0], after.wra[0], after.br[0]) = (wrx, wra, br);
    (after.wnx[0], after.wna[0], after.bnx[0], after.bna[0]) = (wnx, wna, bnx, bna);
    let before = after.with_variant::<ResetBefore>();

    let z = sigma(wzx * x + wza * a + bz);
    let r = sigma(wrx * x + wra * a + br);
    let n_after = (wnx * x + bnx + r * (wna * a + bna)).tanh();
    let n_before = (wnx * x + bnx + wna * (r * a) + bna).tanh();
    let want_after = (1.0 - z) * n_after + z * a;
    let want_before = (1.0 - z) * n_before + z * a;
    // Python: the same expressions, printed with repr().
    assert!((z - 0.6082590307465143).abs() < 1e-15);
    assert!((r - 0.40854102156721994).abs() < 1e-15);
    assert!((want_after - -0.03236422661118138).abs() < 1e-15);
    assert!((want_before - -0.000556135745167663).abs() < 1e-15);

    type S = SMatrix<f64, 1, 1>;
    let (xm, am) = (S::new(x), S::new(a));
    let mut y = S::zeros();
    let mut s = am;
    after.step(&xm, &mut s, &mut y);
    assert!(
        (y[0] - want_after).abs() < 1e-15,
        "{} vs {want_after}",
        y[0]
    );
    let mut s = am;
    before.step(&xm, &mut s, &mut y);
    assert!(
        (y[0] - want_before).abs() < 1e-15,
        "{} vs {want_before}",
        y[0]
    );

    // The recorded gates, through the sequence forward pass.
    let mut tape = GruTape::<f64, 1, 1, 1>::ZEROS;
    after.forward(&[xm], &am, &mut tape);
    let g = tape.aux[0];
    assert!((g.z[0] - z).abs() < 1e-15 && (g.r[0] - r).abs() < 1e-15);
    assert!((g.n[0] - n_after).abs() < 1e-15);
    assert!((g.q[0] - (wna * a + bna)).abs() < 1e-15); // reset-after: q = Wna·a + bna
    before.forward(&[xm], &am, &mut tape);
    assert!((tape.aux[0].q[0] - r * a).abs() < 1e-15); // reset-before: q = r ⊙ a
    assert!((tape.aux[0].n[0] - n_before).abs() < 1e-15);
}

/// The parameter walk: ten tensors in field order, `LEN` scalars, no storage for the marker.
#[test]
fn params_layout() {
    type G = Gru<f32, 3, 4, ResetBefore>;
    assert!(G::names().eq(["wzx", "wza", "bz", "wrx", "wra", "br", "wnx", "wna", "bnx", "bna"]));
    assert_eq!(G::LEN, 3 * 4 * (3 + 4 + 1) + 4);
    assert_eq!(
        G::zeros().tensors().map(<[f32]>::len).sum::<usize>(),
        G::LEN
    );
    assert_eq!(core::mem::size_of::<G>(), 4 * G::LEN);
    static ZERO: Gru<f32, 3, 4> = <Gru<f32, 3, 4> as Params<f32>>::ZEROS;
    assert_eq!(ZERO.wna.sum(), 0.0);
}
