//! Property tests (proptest) of the layer API over several instantiated shapes.
//!
//! Every property is instantiated, by [`properties!`], for the RNN, the LSTM, the GRU in both
//! variants and two compositions (a `Model` over a `Stack`, and a plain `Stack`), each at two or
//! three shapes with `M = 1` and `M > 1` and short sequences. Each case draws the parameters, the
//! input sequence, a non-zero initial state and upstream gradients `dy⟨t⟩` at random (with a
//! random weight scale), and checks:
//!
//! 1. `gradcheck`: the analytic gradient of `J = Σ_t ⟨dy⟨t⟩, y⟨t⟩⟩` (what [`Layer::backward`]
//!    computes for upstream `dy`) against the fourth-order central difference, f64, for a random
//!    sample of parameter, input and initial-state scalars;
//! 2. `f32_agrees_with_f64`: on the same (f32-representable) data, the f32 forward outputs and
//!    final state are within a small multiple of `f32::EPSILON` of the f64 ones;
//! 3. `batch_equals_each_alone` (`M > 1` only): a batch of `M` columns gives, column by column,
//!    the outputs, `∂J/∂x` and `∂J/∂s⟨0⟩` of each example run alone (`M = 1`) bit for bit, and
//!    the batch's parameter gradient is the sum of the single ones (to rounding); f32 and f64;
//! 4. `steps_equal_sequence`: `T_X` calls of [`Step::step`] (and of [`Stream::step`]) give the
//!    sequence forward pass's outputs and final state bit for bit; f32 and f64;
//! 5. `backward_is_linear`: `backward(α·dy₁ + β·dy₂) = α·backward(dy₁) + β·backward(dy₂)` (to
//!    rounding) for the parameter gradient, `∂J/∂x` and `∂J/∂s⟨0⟩`, f64.
//!
//! The long-run tests at the end stream 10⁶ steps through an LSTM and a GRU (f32, `M = 1`,
//! random weights, input uniform in `[−3, 3)`) and check after every step that the state is
//! finite, `|a| ≤ 1` and, for the LSTM, `|c⟨t⟩| ≤ |c⟨t−1⟩| + 1`; two more settings (moderate
//! LSTM weights, the reset-before GRU) run 10⁵ steps in debug builds and 10⁶ in release.
//!
//! Proptest cases: 32 per property and instantiation, 55 properties (12 instantiations × 4,
//! plus the batch property at the 7 with `M > 1`): 1,760 cases.
//!
//! The proptest seed is fixed, so every run checks the same cases (`PROPTEST_RNG_SEED` and
//! `PROPTEST_CASES` override it for a longer exploration); failures are not persisted to files.

mod common;

use common::flat::Flat;
use common::grads::{backward_into, Grads};
use core::fmt::Debug;
use nalgebra::SMatrix;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngSeed};
use tinyrnn::lstm::LstmState;
use tinyrnn::params::Zeroed;
use tinyrnn::{
    Dense, Gru, Layer, Lstm, Model, Params, Real, ResetAfter, ResetBefore, Rnn, Stack, Step,
    Stream, Tanh,
};

// ---------------------------------------------------------------------------------------------
// Configuration and tolerances
// ---------------------------------------------------------------------------------------------

/// Cases per property and instantiation (unless `PROPTEST_CASES` is set).
const CASES: u32 = 32;
/// The fixed seed of every property (unless `PROPTEST_RNG_SEED` is set).
const SEED: u64 = 0x7165_7272_6e6e_0010;

/// f64 gradient check: step of the central difference.
const FD_STEP: f64 = 1e-3;
/// f64 gradient check: the largest error accepted, `|g − n| / max(|g|, |n|, FD_FLOOR)`.
const FD_MAX_REL_ERR: f64 = 1e-6;
/// Below this magnitude a gradient is compared absolutely (to `FD_MAX_REL_ERR · FD_FLOOR`):
/// the difference quotient's own rounding error is about `ε·|J| / h ≈ 1e-12`, which a
/// purely relative measure would blow up for a gradient that happens to be near zero.
const FD_FLOOR: f64 = 1e-3;
/// How many scalars of each kind one gradient-check case perturbs.
const FD_PARAMS: usize = 12;
const FD_INPUTS: usize = 6;
const FD_STATES: usize = 4;

/// f32 against f64: `|y32 − y64| ≤ F32_ULPS · f32::EPSILON · max(1, |y64|)`.
const F32_ULPS: f64 = 16.0;
/// Sums computed in another order (batch against single examples, linearity): the difference
/// must be below `SUM_ULPS · ε` times the magnitude of what was summed.
const SUM_ULPS: f64 = 32.0;

fn config() -> Config {
    let d = Config::default();
    let env = |k: &str| std::env::var_os(k).is_some();
    Config {
        cases: if env("PROPTEST_CASES") {
            d.cases
        } else {
            CASES
        },
        rng_seed: if env("PROPTEST_RNG_SEED") {
            d.rng_seed
        } else {
            RngSeed::Fixed(SEED)
        },
        failure_persistence: None,
        ..d
    }
}

// ---------------------------------------------------------------------------------------------
// Steps, outputs and states as flat lists of scalars
// ---------------------------------------------------------------------------------------------

/// The number of scalars.
fn len<T, V: Flat<T>>(v: &V) -> usize {
    v.parts().iter().map(|p| p.len()).sum()
}

/// Every scalar, widened to f64, in order.
fn values<T: Real, V: Flat<T>>(v: &V) -> Vec<f64> {
    v.parts()
        .iter()
        .flat_map(|p| p.iter())
        .map(|s| s.as_f64())
        .collect()
}

/// A value of type `V` holding `src` (rounded to `T`).
fn from_values<T: Real, V: Flat<T> + Zeroed>(src: &[f64]) -> V {
    let mut v = V::ZEROS;
    let mut it = src.iter();
    for p in v.parts_mut() {
        for s in p.iter_mut() {
            *s = T::lit(*it.next().expect("enough values"));
        }
    }
    assert!(it.next().is_none(), "no values left over");
    v
}

/// A mutable reference to scalar `k`.
fn scalar_mut<T, V: Flat<T>>(v: &mut V, mut k: usize) -> &mut T {
    for p in v.parts_mut() {
        if k < p.len() {
            return &mut p[k];
        }
        k -= p.len();
    }
    panic!("index out of range")
}

/// Parameters holding `src` (rounded to `T`), in [`Params::tensors`] order.
fn params_from<T: Real, P: Params<T>>(src: &[f64]) -> P {
    assert_eq!(src.len(), P::LEN);
    let mut p = P::zeros();
    let mut it = src.iter();
    for t in p.tensors_mut() {
        for s in t.iter_mut() {
            *s = T::lit(*it.next().expect("P::LEN values"));
        }
    }
    p
}

fn param_values<T: Real, P: Params<T>>(p: &P) -> Vec<f64> {
    p.tensors()
        .flat_map(|t| t.iter())
        .map(|s| s.as_f64())
        .collect()
}

fn param_mut<T: Real, P: Params<T>>(p: &mut P, mut k: usize) -> &mut T {
    for t in p.tensors_mut() {
        if k < t.len() {
            return &mut t[k];
        }
        k -= t.len();
    }
    panic!("index out of range")
}

/// Column `j` of a batch of `M` columns, as a batch of one.
fn column<T: Real, VM: Flat<T>, V1: Flat<T> + Zeroed>(vm: &VM, j: usize, m: usize) -> V1 {
    let mut v1 = V1::ZEROS;
    let parts = vm.parts();
    let mut parts1 = v1.parts_mut();
    assert_eq!(parts.len(), parts1.len());
    for (pm, p1) in parts.iter().zip(parts1.iter_mut()) {
        let r = p1.len();
        assert_eq!(pm.len(), r * m);
        p1.copy_from_slice(&pm[j * r..(j + 1) * r]);
    }
    v1
}

/// Whether two values have the same bits, scalar by scalar.
fn same_bits<T: Real, V: Flat<T>>(a: &V, b: &V) -> bool {
    values(a)
        .iter()
        .zip(values(b))
        .all(|(x, y)| x.to_bits() == y.to_bits())
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

// ---------------------------------------------------------------------------------------------
// One random case
// ---------------------------------------------------------------------------------------------

/// The random data of one case, as f64 (rounded to the layer's scalar where it is used).
#[derive(Clone, Debug)]
struct Data {
    params: Vec<f64>,
    x: Vec<f64>,
    s0: Vec<f64>,
    dy: Vec<f64>,
    dy2: Vec<f64>,
}

/// Parameters in `U(−s, s)` for a random scale `s ∈ [0.2, 1.5)`, inputs in `[−1.5, 1.5)`,
/// initial states and upstream gradients in `[−1, 1)`.
fn data_strategy<L: Layer<f64, M>, const M: usize, const T_X: usize>() -> impl Strategy<Value = Data>
where
    L::X: Flat<f64>,
    L::Y: Flat<f64>,
    L::State: Flat<f64>,
{
    let n_p = L::LEN;
    let n_x = T_X * len(&L::X::ZEROS);
    let n_s = len(&L::State::ZEROS);
    let n_y = T_X * len(&L::Y::ZEROS);
    (
        0.2..1.5_f64,
        vec(-1.0..1.0_f64, n_p),
        vec(-1.5..1.5_f64, n_x),
        vec(-1.0..1.0_f64, n_s),
        vec(-1.0..1.0_f64, n_y),
        vec(-1.0..1.0_f64, n_y),
    )
        .prop_map(|(scale, params, x, s0, dy, dy2)| Data {
            params: params.iter().map(|v| v * scale).collect(),
            x,
            s0,
            dy,
            dy2,
        })
}

/// `data` rounded to f32 (so that an f32 and an f64 layer see the same numbers).
fn rounded_to_f32(d: &Data) -> Data {
    let r = |v: &Vec<f64>| v.iter().map(|&s| f64::from(s as f32)).collect();
    Data {
        params: r(&d.params),
        x: r(&d.x),
        s0: r(&d.s0),
        dy: r(&d.dy),
        dy2: r(&d.dy2),
    }
}

/// A case's layer, inputs, initial state and upstream gradients as `T` values.
struct Typed<L: Layer<T, M>, T: Real, const M: usize, const T_X: usize> {
    layer: L,
    x: [L::X; T_X],
    s0: L::State,
    dy: [L::Y; T_X],
    dy2: [L::Y; T_X],
}

fn typed<T: Real, L: Layer<T, M>, const M: usize, const T_X: usize>(d: &Data) -> Typed<L, T, M, T_X>
where
    L::X: Flat<T>,
    L::Y: Flat<T>,
    L::State: Flat<T>,
{
    Typed {
        layer: params_from(&d.params),
        x: from_values(&d.x),
        s0: from_values(&d.s0),
        dy: from_values(&d.dy),
        dy2: from_values(&d.dy2),
    }
}

/// The sequence forward pass: its outputs and final state.
fn forward<T: Real, L: Layer<T, M>, const M: usize, const T_X: usize>(
    layer: &L,
    x: &[L::X; T_X],
    s0: &L::State,
) -> ([L::Y; T_X], L::State) {
    let mut tape = L::Tape::<T_X>::ZEROS;
    layer.forward(x, s0, &mut tape);
    (*L::output(&tape), L::final_state(&tape))
}

/// [`Layer::backward`] into a zero gradient.
fn backward<T: Real, L: Layer<T, M>, const M: usize, const T_X: usize>(
    layer: &L,
    x: &[L::X; T_X],
    s0: &L::State,
    dy: &[L::Y; T_X],
) -> Grads<L, L::X, L::State, T_X> {
    let mut g = Grads::zeros();
    backward_into(layer, x, s0, dy, &mut g);
    g
}

// ---------------------------------------------------------------------------------------------
// 1. Finite-difference gradient check (f64)
// ---------------------------------------------------------------------------------------------

/// `J = Σ_t ⟨dy⟨t⟩, y⟨t⟩⟩`, so `∂J/∂y⟨t⟩ = dy⟨t⟩`.
fn loss<L: Layer<f64, M>, const M: usize, const T_X: usize>(
    layer: &L,
    x: &[L::X; T_X],
    s0: &L::State,
    dy: &[L::Y; T_X],
) -> f64
where
    L::Y: Flat<f64>,
{
    let (y, _) = forward(layer, x, s0);
    values(dy).iter().zip(values(&y)).map(|(a, b)| a * b).sum()
}

/// The fourth-order central difference of `j` at `v0`.
fn central(v0: f64, mut j: impl FnMut(f64) -> f64) -> f64 {
    let h = FD_STEP;
    (8.0 * (j(v0 + h) - j(v0 - h)) - (j(v0 + 2.0 * h) - j(v0 - 2.0 * h))) / (12.0 * h)
}

fn fd_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(FD_FLOOR)
}

fn prop_gradcheck<L: Layer<f64, M>, const M: usize, const T_X: usize>(
    d: &Data,
    picks: &[Index],
) -> Result<f64, TestCaseError>
where
    L::X: Flat<f64>,
    L::Y: Flat<f64>,
    L::State: Flat<f64>,
{
    let c = typed::<f64, L, M, T_X>(d);
    let g = backward(&c.layer, &c.x, &c.s0, &c.dy);
    let (p_picks, rest) = picks.split_at(FD_PARAMS);
    let (x_picks, s_picks) = rest.split_at(FD_INPUTS);
    let mut worst = 0.0_f64;

    for ix in p_picks {
        let k = ix.index(L::LEN);
        let v0 = param_values(&c.layer)[k];
        let n = central(v0, |v| {
            let mut q = c.layer.clone();
            *param_mut(&mut q, k) = v;
            loss(&q, &c.x, &c.s0, &c.dy)
        });
        let a = param_values(&g.dparams)[k];
        let e = fd_error(a, n);
        worst = worst.max(e);
        prop_assert!(
            e < FD_MAX_REL_ERR,
            "parameter {} ({}): analytic {a:e}, numeric {n:e}, error {e:e}",
            k,
            param_name::<L>(k)
        );
    }
    for ix in x_picks {
        let k = ix.index(len(&c.x));
        let v0 = values(&c.x)[k];
        let n = central(v0, |v| {
            let mut x = c.x;
            *scalar_mut(&mut x, k) = v;
            loss(&c.layer, &x, &c.s0, &c.dy)
        });
        let a = values(&g.dx)[k];
        let e = fd_error(a, n);
        worst = worst.max(e);
        prop_assert!(
            e < FD_MAX_REL_ERR,
            "input scalar {k}: analytic {a:e}, numeric {n:e}, error {e:e}"
        );
    }
    let n_s = len(&c.s0);
    if n_s > 0 {
        for ix in s_picks {
            let k = ix.index(n_s);
            let v0 = values(&c.s0)[k];
            let n = central(v0, |v| {
                let mut s0 = c.s0;
                *scalar_mut(&mut s0, k) = v;
                loss(&c.layer, &c.x, &s0, &c.dy)
            });
            let a = values(&g.ds0)[k];
            let e = fd_error(a, n);
            worst = worst.max(e);
            prop_assert!(
                e < FD_MAX_REL_ERR,
                "initial-state scalar {k}: analytic {a:e}, numeric {n:e}, error {e:e}"
            );
        }
    }
    Ok(worst)
}

/// The name of the tensor holding flat parameter `k`.
fn param_name<P: Params<f64>>(k: usize) -> &'static str {
    let p = P::zeros();
    let mut k = k;
    for (t, name) in p.tensors().zip(P::names()) {
        if k < t.len() {
            return name;
        }
        k -= t.len();
    }
    "?"
}

// ---------------------------------------------------------------------------------------------
// 2. f32 agrees with f64
// ---------------------------------------------------------------------------------------------

fn prop_f32_f64<L32, L64, const M: usize, const T_X: usize>(d: &Data) -> Result<f64, TestCaseError>
where
    L32: Layer<f32, M>,
    L64: Layer<f64, M>,
    L32::X: Flat<f32>,
    L32::Y: Flat<f32>,
    L32::State: Flat<f32>,
    L64::X: Flat<f64>,
    L64::Y: Flat<f64>,
    L64::State: Flat<f64>,
{
    let d = rounded_to_f32(d);
    let c32 = typed::<f32, L32, M, T_X>(&d);
    let c64 = typed::<f64, L64, M, T_X>(&d);
    let (y32, s32) = forward(&c32.layer, &c32.x, &c32.s0);
    let (y64, s64) = forward(&c64.layer, &c64.x, &c64.s0);
    let mut worst = 0.0_f64;
    for (what, a, b) in [
        ("outputs", values(&y32), values(&y64)),
        ("final state", values(&s32), values(&s64)),
    ] {
        prop_assert_eq!(a.len(), b.len());
        for (k, (&a, &b)) in a.iter().zip(&b).enumerate() {
            let ulps = (a - b).abs() / (f64::from(f32::EPSILON) * b.abs().max(1.0));
            worst = worst.max(ulps);
            prop_assert!(
                ulps <= F32_ULPS,
                "{what} scalar {k}: f32 {a:e}, f64 {b:e} ({ulps:.1} ε apart)"
            );
        }
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------------------------
// 3. A batch equals each example alone
// ---------------------------------------------------------------------------------------------

fn prop_batch<T: Real, L, const M: usize, const T_X: usize>(d: &Data) -> Result<f64, TestCaseError>
where
    L: Layer<T, M> + Layer<T, 1>,
    <L as Layer<T, M>>::X: Flat<T>,
    <L as Layer<T, M>>::Y: Flat<T>,
    <L as Layer<T, M>>::State: Flat<T>,
    <L as Layer<T, 1>>::X: Flat<T>,
    <L as Layer<T, 1>>::Y: Flat<T>,
    <L as Layer<T, 1>>::State: Flat<T>,
{
    let c = typed::<T, L, M, T_X>(d);
    let (y, s_final) = forward::<T, L, M, T_X>(&c.layer, &c.x, &c.s0);
    let g = backward::<T, L, M, T_X>(&c.layer, &c.x, &c.s0, &c.dy);

    let mut sum = L::zeros(); // Σ_j of the single examples' parameter gradients
    let mut abs_sum = vec![0.0_f64; <L as Params<T>>::LEN]; // Σ_j |…|, for the tolerance
    for j in 0..M {
        let x1: [<L as Layer<T, 1>>::X; T_X] = core::array::from_fn(|t| column(&c.x[t], j, M));
        let dy1: [<L as Layer<T, 1>>::Y; T_X] = core::array::from_fn(|t| column(&c.dy[t], j, M));
        let s1: <L as Layer<T, 1>>::State = column(&c.s0, j, M);
        let (y1, s1_final) = forward::<T, L, 1, T_X>(&c.layer, &x1, &s1);
        let g1 = backward::<T, L, 1, T_X>(&c.layer, &x1, &s1, &dy1);
        for t in 0..T_X {
            let want: <L as Layer<T, 1>>::Y = column(&y[t], j, M);
            prop_assert!(same_bits(&y1[t], &want), "output, step {t}, column {j}");
            let want: <L as Layer<T, 1>>::X = column(&g.dx[t], j, M);
            prop_assert!(same_bits(&g1.dx[t], &want), "dx, step {t}, column {j}");
        }
        let want: <L as Layer<T, 1>>::State = column(&s_final, j, M);
        prop_assert!(same_bits(&s1_final, &want), "final state, column {j}");
        let want: <L as Layer<T, 1>>::State = column(&g.ds0, j, M);
        prop_assert!(same_bits(&g1.ds0, &want), "ds0, column {j}");
        sum.axpy(T::ONE, &g1.dparams);
        for (a, v) in abs_sum.iter_mut().zip(param_values(&g1.dparams)) {
            *a += v.abs();
        }
    }
    let (batch, singles) = (param_values(&g.dparams), param_values(&sum));
    let tol = SUM_ULPS * T::EPS.as_f64() * max_abs(&abs_sum);
    let mut worst = 0.0_f64;
    for (k, (&b, &s)) in batch.iter().zip(&singles).enumerate() {
        let e = (b - s).abs();
        worst = worst.max(e / (T::EPS.as_f64() * max_abs(&abs_sum)));
        prop_assert!(
            e <= tol,
            "parameter {k}: batch gradient {b:e}, sum of single ones {s:e} (tolerance {tol:e})"
        );
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------------------------
// 4. Streaming equals the sequence forward pass
// ---------------------------------------------------------------------------------------------

fn prop_steps<T: Real, L: Step<T, M>, const M: usize, const T_X: usize>(
    d: &Data,
) -> Result<(), TestCaseError>
where
    L::X: Flat<T>,
    L::Y: Flat<T> + Debug,
    L::State: Flat<T> + Debug,
{
    let c = typed::<T, L, M, T_X>(d);
    let (y, s_final) = forward(&c.layer, &c.x, &c.s0);
    let mut state = c.s0;
    let mut stream = Stream::<T, L, M>::from_state(c.s0);
    for (t, (xt, want)) in c.x.iter().zip(&y).enumerate() {
        let mut yt = L::Y::ZEROS;
        c.layer.step(xt, &mut state, &mut yt);
        prop_assert!(
            same_bits(&yt, want),
            "Step::step, t = {t}: {yt:?} ≠ {want:?}"
        );
        let ys = stream.step(&c.layer, xt);
        prop_assert!(same_bits(&ys, want), "Stream::step, t = {t}");
    }
    prop_assert!(
        same_bits(&state, &s_final),
        "stepped state {state:?} ≠ final_state {s_final:?}"
    );
    prop_assert!(same_bits(stream.state(), &s_final), "Stream state");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 5. Backward is linear in the upstream gradient (f64)
// ---------------------------------------------------------------------------------------------

fn prop_linear<L: Layer<f64, M>, const M: usize, const T_X: usize>(
    d: &Data,
    alpha: f64,
    beta: f64,
) -> Result<f64, TestCaseError>
where
    L::X: Flat<f64>,
    L::Y: Flat<f64>,
    L::State: Flat<f64>,
{
    let c = typed::<f64, L, M, T_X>(d);
    let mut dy = c.dy;
    for (v, (a, b)) in dy
        .parts_mut()
        .into_iter()
        .flat_map(|p| p.iter_mut())
        .zip(values(&c.dy).into_iter().zip(values(&c.dy2)))
    {
        *v = alpha * a + beta * b;
    }
    let g = backward(&c.layer, &c.x, &c.s0, &dy);
    let g1 = backward(&c.layer, &c.x, &c.s0, &c.dy);
    let g2 = backward(&c.layer, &c.x, &c.s0, &c.dy2);
    let mut worst = 0.0_f64;
    for (what, lhs, r1, r2) in [
        (
            "dparams",
            param_values(&g.dparams),
            param_values(&g1.dparams),
            param_values(&g2.dparams),
        ),
        ("dx", values(&g.dx), values(&g1.dx), values(&g2.dx)),
        ("ds0", values(&g.ds0), values(&g1.ds0), values(&g2.ds0)),
    ] {
        // Rounding is relative to the size of the terms, so the scale is per gradient.
        let scale = alpha.abs() * max_abs(&r1) + beta.abs() * max_abs(&r2) + max_abs(&lhs);
        let tol = SUM_ULPS * f64::EPSILON * scale;
        for (k, ((&l, &a), &b)) in lhs.iter().zip(&r1).zip(&r2).enumerate() {
            let r = alpha * a + beta * b;
            let e = (l - r).abs();
            worst = worst.max(e / (f64::EPSILON * scale));
            prop_assert!(
                e <= tol,
                "{what} scalar {k}: backward(α·dy₁ + β·dy₂) = {l:e}, α·g₁ + β·g₂ = {r:e}"
            );
        }
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------------------------
// The instantiations
// ---------------------------------------------------------------------------------------------

/// The batch property, for `M > 1` only (at `M = 1` it would compare a run with itself).
macro_rules! batch_property {
    (1, $t_x:literal) => {};
    ($m:literal, $t_x:literal) => {
        proptest! {
            #![proptest_config(config())]
            #[test]
            fn batch_equals_each_alone(d in data_strategy::<L64, $m, $t_x>()) {
                let w64 = prop_batch::<f64, L64, $m, $t_x>(&d)?;
                let w32 = prop_batch::<f32, L32, $m, $t_x>(&rounded_to_f32(&d))?;
                report("batch f64 (ε·Σ|g|)", w64);
                report("batch f32 (ε·Σ|g|)", w32);
            }
        }
    };
}

/// Prints a measured worst case (seen with `--nocapture`).
fn report(what: &str, worst: f64) {
    if std::env::var_os("PROPERTIES_VERBOSE").is_some() {
        println!("{what}: {worst:.3e}");
    }
}

/// Every property for one layer type (`Ly<T>`, written with the scalar as `$l`) at batch `M`
/// and sequence length `T_X`.
macro_rules! properties {
    ($($name:ident: $l:ident => $ty:ty, M = $m:tt, T_X = $t_x:literal;)*) => {$(
        mod $name {
            use super::*;
            type Ly<$l> = $ty;
            type L64 = Ly<f64>;
            type L32 = Ly<f32>;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn gradcheck(
                    d in data_strategy::<L64, $m, $t_x>(),
                    picks in vec(any::<Index>(), FD_PARAMS + FD_INPUTS + FD_STATES),
                ) {
                    report("gradcheck (rel err)", prop_gradcheck::<L64, $m, $t_x>(&d, &picks)?);
                }

                #[test]
                fn f32_agrees_with_f64(d in data_strategy::<L64, $m, $t_x>()) {
                    report("f32 vs f64 (ε)", prop_f32_f64::<L32, L64, $m, $t_x>(&d)?);
                }

                #[test]
                fn steps_equal_sequence(d in data_strategy::<L64, $m, $t_x>()) {
                    prop_steps::<f64, L64, $m, $t_x>(&d)?;
                    prop_steps::<f32, L32, $m, $t_x>(&rounded_to_f32(&d))?;
                }

                #[test]
                fn backward_is_linear(
                    d in data_strategy::<L64, $m, $t_x>(),
                    alpha in -2.0..2.0_f64,
                    beta in -2.0..2.0_f64,
                ) {
                    report("linearity (ε·scale)", prop_linear::<L64, $m, $t_x>(&d, alpha, beta)?);
                }
            }

            batch_property!($m, $t_x);
        }
    )*};
}

properties! {
    rnn_1x2_m1_t5: T => Rnn<T, 1, 2>, M = 1, T_X = 5;
    rnn_3x4_m3_t3: T => Rnn<T, 3, 4>, M = 3, T_X = 3;
    lstm_3x3_m1_t6: T => Lstm<T, 3, 3>, M = 1, T_X = 6;
    lstm_3x4_m2_t10: T => Lstm<T, 3, 4>, M = 2, T_X = 10;
    lstm_2x5_m4_t1: T => Lstm<T, 2, 5>, M = 4, T_X = 1;
    gru_after_1x3_m1_t4: T => Gru<T, 1, 3, ResetAfter>, M = 1, T_X = 4;
    gru_after_3x4_m3_t3: T => Gru<T, 3, 4, ResetAfter>, M = 3, T_X = 3;
    gru_before_1x3_m1_t4: T => Gru<T, 1, 3, ResetBefore>, M = 1, T_X = 4;
    gru_before_3x4_m3_t3: T => Gru<T, 3, 4, ResetBefore>, M = 3, T_X = 3;
    model_lstm_gru_m1_t3: T => Model<Stack<Lstm<T, 2, 3>, Gru<T, 3, 4, ResetBefore>>, Dense<T, 4, 2>>, M = 1, T_X = 3;
    model_lstm_gru_m3_t2: T => Model<Stack<Lstm<T, 2, 3>, Gru<T, 3, 4, ResetBefore>>, Dense<T, 4, 2>>, M = 3, T_X = 2;
    stack_dense_gru_rnn_m2_t3: T => Stack<Stack<Dense<T, 2, 3, Tanh>, Gru<T, 3, 3>>, Rnn<T, 3, 2>>, M = 2, T_X = 3;
}

// ---------------------------------------------------------------------------------------------
// Long runs: the streaming state stays finite and bounded
// ---------------------------------------------------------------------------------------------

/// Steps of the secondary long runs: 10⁵ in a debug build, 10⁶ with `--release` (the two main
/// runs take 10⁶ steps in every profile, ≈ 6 s each in a debug build).
const LONG_STEPS: usize = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};
/// Inputs are drawn from `U(−LONG_INPUT, LONG_INPUT)`.
const LONG_INPUT: f64 = 3.0;

/// SplitMix64: weights and inputs for the long runs (cheaper than a strategy per step).
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[−scale, scale)`, rounded to f32.
    fn uniform(&mut self, scale: f64) -> f32 {
        (((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale) as f32
    }
    fn fill(&mut self, s: &mut [f32], scale: f64) {
        for v in s {
            *v = self.uniform(scale);
        }
    }
}

fn random_layer<P: Params<f32>>(rng: &mut SplitMix, scale: f64) -> P {
    let mut p = P::zeros();
    for t in p.tensors_mut() {
        rng.fill(t, scale);
    }
    p
}

/// Streams `steps` random inputs through an LSTM (f32, M = 1) and checks after every step that
/// `a` and `c` are finite, `|a| ≤ 1`, and `|c⟨t⟩| ≤ |c⟨t−1⟩| + 1` (`c = f ⊙ c_prev + i ⊙ c̃`
/// with `f, i ∈ [0, 1]`, `|c̃| ≤ 1`), up to the final rounding of that sum: `|c⟨t−1⟩| + 1` need
/// not be an f32, and the sum may round up past it by half an ulp, hence the factor `1 + ε`.
/// Returns the largest `|c|` seen.
fn long_run_lstm<const N_X: usize, const N_A: usize>(
    seed: u64,
    weight_scale: f64,
    gate_bias: f32,
    steps: usize,
) -> f32 {
    let mut rng = SplitMix(seed);
    let mut lstm: Lstm<f32, N_X, N_A> = random_layer(&mut rng, weight_scale);
    lstm.bf.add_scalar_mut(gate_bias);
    lstm.bo.add_scalar_mut(gate_bias);
    let mut state = LstmState::<f32, N_A, 1>::ZEROS;
    let mut y = SMatrix::<f32, N_A, 1>::zeros();
    let (mut max_c, mut saturated) = (0.0_f32, 0_usize);
    for t in 0..steps {
        let mut x = SMatrix::<f32, N_X, 1>::zeros();
        rng.fill(x.as_mut_slice(), LONG_INPUT);
        let c_prev = state.c;
        lstm.step(&x, &mut state, &mut y);
        assert_eq!(y, state.a, "step {t}: the output is the hidden state");
        for (k, (&a, (&c, &cp))) in state
            .a
            .iter()
            .zip(state.c.iter().zip(c_prev.iter()))
            .enumerate()
        {
            assert!(
                a.is_finite() && c.is_finite(),
                "step {t}, unit {k}: a = {a}, c = {c}"
            );
            assert!(a.abs() <= 1.0, "step {t}, unit {k}: |a| = {} > 1", a.abs());
            let bound = (f64::from(cp.abs()) + 1.0) * (1.0 + f64::from(f32::EPSILON));
            assert!(
                f64::from(c.abs()) <= bound,
                "step {t}, unit {k}: |c| grew from {} to {}",
                cp.abs(),
                c.abs()
            );
            max_c = max_c.max(c.abs());
            saturated += usize::from(a.abs() == 1.0);
        }
    }
    println!(
        "LSTM N_X={N_X} N_A={N_A} weights U(±{weight_scale}) forget and output bias {gate_bias:+}: \
         {steps} steps, max |c| {max_c:.3e}, |a| = 1 exactly {saturated} times"
    );
    max_c
}

/// Streams `steps` random inputs through a GRU (f32, M = 1) and checks after every step that
/// `a` is finite and `|a| ≤ 1` (`a = (1 − z) ⊙ n + z ⊙ a_prev`, a convex combination of values
/// in `[−1, 1]`). Returns how often some `|a|` was exactly 1.
fn long_run_gru<V, const N_X: usize, const N_A: usize>(
    seed: u64,
    weight_scale: f64,
    steps: usize,
) -> usize
where
    Gru<f32, N_X, N_A, V>: Step<f32, 1, X = SMatrix<f32, N_X, 1>, Y = SMatrix<f32, N_A, 1>>
        + Layer<f32, 1, State = SMatrix<f32, N_A, 1>>,
{
    let mut rng = SplitMix(seed);
    let gru: Gru<f32, N_X, N_A, V> = random_layer(&mut rng, weight_scale);
    let mut state = SMatrix::<f32, N_A, 1>::zeros();
    let mut y = SMatrix::<f32, N_A, 1>::zeros();
    let mut saturated = 0_usize;
    for t in 0..steps {
        let mut x = SMatrix::<f32, N_X, 1>::zeros();
        rng.fill(x.as_mut_slice(), LONG_INPUT);
        gru.step(&x, &mut state, &mut y);
        assert_eq!(y, state, "step {t}: the output is the state");
        for (k, &a) in state.iter().enumerate() {
            assert!(a.is_finite(), "step {t}, unit {k}: a = {a}");
            assert!(a.abs() <= 1.0, "step {t}, unit {k}: |a| = {} > 1", a.abs());
            saturated += usize::from(a.abs() == 1.0);
        }
    }
    println!(
        "GRU {} N_X={N_X} N_A={N_A} weights U(±{weight_scale}): {steps} steps, \
         |a| = 1 exactly {saturated} times",
        core::any::type_name::<V>()
    );
    saturated
}

/// The LSTM with large weights and large forget and output biases: `f ≈ 1`, so `c` drifts
/// and grows (to 3.4·10⁵ over 10⁶ steps), and `o` rounds to 1, so `|a| = |tanh c|` reaches 1.
#[test]
fn long_run_lstm_million_steps() {
    let max_c = long_run_lstm::<2, 4>(2, 3.0, 12.0, 1_000_000);
    assert!(
        max_c > 10.0,
        "the cell state grows (max |c| = {max_c}), so its bound is exercised"
    );
}

/// The GRU (reset-after) with large weights: the gates and the candidate saturate, and `|a|`
/// reaches 1 exactly.
#[test]
fn long_run_gru_million_steps() {
    let saturated = long_run_gru::<ResetAfter, 2, 4>(3, 3.0, 1_000_000);
    assert!(
        saturated > 0,
        "|a| = 1 is reached, so its bound is exercised"
    );
}

/// The LSTM with moderate weights and the reset-before GRU, [`LONG_STEPS`] steps each.
#[test]
fn long_runs_other_settings() {
    long_run_lstm::<2, 4>(1, 1.0, 0.0, LONG_STEPS);
    long_run_gru::<ResetBefore, 2, 4>(4, 3.0, LONG_STEPS);
}
