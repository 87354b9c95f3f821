//! Parity with real PyTorch and Keras: every fixture case is loaded **through the importers**
//! and must reproduce the framework's outputs, final states and every gradient (autograd) to
//! 1e-10 in f64, and 1e-4 relative in f32 (the same tests on `f32` types). Exporters
//! round-trip exactly.
//!
//! Fixtures: `tests/fixtures/interop.rs`, written by `tests/fixtures/gen_interop_fixtures.py`
//! (PyTorch and Keras 3 on the torch backend, float64, random weights, non-zero initial
//! states, a random upstream gradient). The tests need neither framework.

#[path = "fixtures/interop.rs"]
#[allow(clippy::all, clippy::pedantic)]
mod fixtures;

use fixtures::{Case, CASES};
use nalgebra::SMatrix;
use tinyrnn::error::{TensorId, TensorProblem};
use tinyrnn::interop::{keras, torch, Interop};
use tinyrnn::lstm::LstmState;
use tinyrnn::params::Zeroed;
use tinyrnn::{
    Bidirectional, Concat, Dense, Error, Gru, Layer, Lstm, Params, Real, ResetBefore, Rnn,
};
use tinyrnn::{Stack, Stack3};

/// f64 tolerance: `|ours − theirs| ≤ TOL · max(1, |theirs|)`.
const TOL: f64 = 1e-10;
/// f32 tolerance, relative to the largest value of the compared array.
const TOL_F32: f64 = 1e-4;

/// A state read from and written to PyTorch's `(L·D, M, H)` layout, layer-major then
/// direction; `h` and `c` are consumed in step.
trait FlatState: Sized {
    fn read(h: &mut &[f64], c: &mut &[f64]) -> Self;
    fn write(&self, h: &mut Vec<f64>, c: &mut Vec<f64>);
}

fn take<T: Real, const H: usize, const M: usize>(src: &mut &[f64]) -> SMatrix<T, H, M> {
    let (head, rest) = src.split_at(H * M);
    *src = rest;
    // (M, H) row-major: element [j][i] is unit i of example j.
    SMatrix::from_fn(|i, j| T::lit(head[j * H + i]))
}

fn put<T: Real, const H: usize, const M: usize>(m: &SMatrix<T, H, M>, dst: &mut Vec<f64>) {
    for j in 0..M {
        for i in 0..H {
            dst.push(m[(i, j)].as_f64());
        }
    }
}

impl<T: Real, const H: usize, const M: usize> FlatState for SMatrix<T, H, M> {
    fn read(h: &mut &[f64], _c: &mut &[f64]) -> Self {
        take(h)
    }
    fn write(&self, h: &mut Vec<f64>, _c: &mut Vec<f64>) {
        put(self, h);
    }
}

impl<T: Real, const H: usize, const M: usize> FlatState for LstmState<T, H, M> {
    fn read(h: &mut &[f64], c: &mut &[f64]) -> Self {
        LstmState {
            a: take(h),
            c: take(c),
        }
    }
    fn write(&self, h: &mut Vec<f64>, c: &mut Vec<f64>) {
        put(&self.a, h);
        put(&self.c, c);
    }
}

impl FlatState for () {
    fn read(_h: &mut &[f64], _c: &mut &[f64]) -> Self {}
    fn write(&self, _h: &mut Vec<f64>, _c: &mut Vec<f64>) {}
}

impl<A: FlatState, B: FlatState> FlatState for (A, B) {
    fn read(h: &mut &[f64], c: &mut &[f64]) -> Self {
        let a = A::read(h, c);
        (a, B::read(h, c))
    }
    fn write(&self, h: &mut Vec<f64>, c: &mut Vec<f64>) {
        self.0.write(h, c);
        self.1.write(h, c);
    }
}

/// A `(T_X, M, N)` fixture sequence as `[SMatrix<N, M>; T_X]`.
fn seq<T: Real, const N: usize, const M: usize, const T_X: usize>(
    v: &[f64],
) -> [SMatrix<T, N, M>; T_X] {
    assert_eq!(v.len(), T_X * M * N, "fixture sequence length");
    core::array::from_fn(|t| SMatrix::from_fn(|i, j| T::lit(v[(t * M + j) * N + i])))
}

fn flat<T: Real, const N: usize, const M: usize, const T_X: usize>(
    s: &[SMatrix<T, N, M>; T_X],
) -> Vec<f64> {
    let mut v = Vec::new();
    for m in s {
        put(m, &mut v);
    }
    v
}

/// f64: `|ours − theirs| ≤ 1e-10 · max(1, |theirs|)` per value; f32: `|ours − theirs| ≤
/// 1e-4 · max(1, max |theirs|)` over the array.
fn assert_close_t<T: Real>(what: &str, case: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{case} {what}: length");
    let f64 = T::EPS.as_f64() < 1e-10;
    let big = theirs.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let mut worst = 0.0_f64;
    for (k, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let (err, tol) = if f64 {
            ((a - b).abs() / b.abs().max(1.0), TOL)
        } else {
            ((a - b).abs() / big, TOL_F32)
        };
        assert!(
            err <= tol,
            "{case} {what}[{k}]: tinyrnn {a} vs framework {b}"
        );
        worst = worst.max(err);
    }
    println!(
        "  {case:<28} {what:<10} {:>4} values, worst {worst:.1e} ({})",
        ours.len(),
        core::any::type_name::<T>()
    );
}

fn assert_close(what: &str, case: &str, ours: &[f64], theirs: &[f64]) {
    assert_close_t::<f64>(what, case, ours, theirs);
}

/// The framework's gradients with the second bias of every pair tinyrnn sums zeroed, after
/// checking that both biases of a pair have the same gradient (they enter the same sum). Read
/// through the importer, this is tinyrnn's gradient.
fn grads_for_import(case: &Case) -> Vec<(&'static str, Vec<f64>)> {
    let h = case.n_a;
    let mut out: Vec<(&'static str, Vec<f64>)> =
        case.grads.iter().map(|(n, g)| (*n, g.to_vec())).collect();
    let summed = |name: &str| -> Option<usize> {
        // How many leading values of this tensor are the second bias of a summed pair.
        match (case.framework, case.cell) {
            ("torch", "gru") if name.contains("bias_hh") => Some(2 * h),
            ("torch", _) if name.contains("bias_hh") => Some(usize::MAX),
            _ => None,
        }
    };
    for (name, g) in out.iter_mut() {
        if let Some(n) = summed(name) {
            let first = name.replace("bias_hh", "bias_ih");
            let ih = case
                .grads
                .iter()
                .find(|(k, _)| *k == first)
                .map(|(_, g)| *g)
                .expect("bias_ih gradient");
            let n = n.min(ih.len());
            assert_close("bias pair", case.name, &g[..n], &ih[..n]);
            g[..n].iter_mut().for_each(|v| *v = 0.0);
        }
        // Keras GRU, reset_after=True: bias (2, 3H); the recurrent z and r biases pair with
        // the input ones.
        if case.framework == "keras"
            && case.cell == "gru"
            && name.ends_with("bias")
            && g.len() == 6 * h
        {
            let (input, recurrent) = g.split_at_mut(3 * h);
            assert_close("bias pair", case.name, &recurrent[..2 * h], &input[..2 * h]);
            recurrent[..2 * h].iter_mut().for_each(|v| *v = 0.0);
        }
    }
    out
}

fn import<T: Real, N: Interop<T>>(case: &Case, weights: &[(&str, &[f64])]) -> Result<N, Error> {
    let owned: Vec<(&str, Vec<T>)> = weights
        .iter()
        .map(|(n, w)| (*n, w.iter().map(|&v| T::lit(v)).collect()))
        .collect();
    let dict: Vec<(&str, &[T])> = owned.iter().map(|(n, v)| (*n, &v[..])).collect();
    match case.framework {
        "torch" => torch::load(&dict, &["rnn", "fc"]),
        _ => {
            let list: Vec<&[T]> = dict.iter().map(|(_, w)| *w).collect();
            keras::load(&list)
        }
    }
}

/// Loads `case` into `N`, then checks outputs, final states, input, initial-state and
/// parameter gradients against the framework, and the exporters' round trip.
fn check<T, N, const N_X: usize, const N_OUT: usize, const M: usize, const T_X: usize>(case: &Case)
where
    T: Real,
    N: Layer<T, M, X = SMatrix<T, N_X, M>, Y = SMatrix<T, N_OUT, M>> + Interop<T> + PartialEq,
    N::State: FlatState,
{
    assert_eq!(
        (case.n_x, case.m, case.t_x),
        (N_X, M, T_X),
        "{}: shape",
        case.name
    );
    let net: N = import(case, case.weights).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let x = seq::<T, N_X, M, T_X>(case.x);
    let s0 = N::State::read(&mut &case.h0[..], &mut &case.c0[..]);
    let mut tape = Box::new(N::Tape::<T_X>::ZEROS);
    net.forward(&x, &s0, &mut tape);
    assert_close_t::<T>("y", case.name, &flat(N::output(&tape)), case.y);
    let (mut hn, mut cn) = (Vec::new(), Vec::new());
    N::final_state(&tape).write(&mut hn, &mut cn);
    assert_close_t::<T>("h_n", case.name, &hn, case.hn);
    assert_close_t::<T>("c_n", case.name, &cn, case.cn);

    let dy = seq::<T, N_OUT, M, T_X>(case.dy);
    let mut dparams = N::zeros();
    let mut dx = [SMatrix::<T, N_X, M>::zeros(); T_X];
    let mut ds0 = N::State::ZEROS;
    net.backward(&x, &mut tape, &dy, &mut dparams, &mut dx, &mut ds0);
    assert_close_t::<T>("dx", case.name, &flat(&dx), case.dx);
    let (mut dh0, mut dc0) = (Vec::new(), Vec::new());
    ds0.write(&mut dh0, &mut dc0);
    assert_close_t::<T>("dh0", case.name, &dh0, case.dh0);
    assert_close_t::<T>("dc0", case.name, &dc0, case.dc0);
    let g = grads_for_import(case);
    let g: Vec<(&str, &[f64])> = g.iter().map(|(n, v)| (*n, &v[..])).collect();
    let theirs: N = import(case, &g).unwrap_or_else(|e| panic!("{} grads: {e}", case.name));
    let wide = |t: &[T]| -> Vec<f64> { t.iter().map(|v| v.as_f64()).collect() };
    let mut prev: Vec<f64> = Vec::new();
    for ((ours, theirs), name) in dparams.tensors().zip(theirs.tensors()).zip(N::names()) {
        let (ours, theirs) = (wide(ours), wide(theirs));
        if case.cell == "gru_before" && name == "bna" {
            // Keras keeps one candidate bias; tinyrnn's bnx and bna both add to it, so their
            // gradients are equal, and the framework's is bnx's (checked just before).
            assert_close_t::<T>("bna = bnx", case.name, &ours, &prev);
        } else {
            assert_close_t::<T>(name, case.name, &ours, &theirs);
        }
        prev = ours;
    }

    // Export, then import again: exactly the same model.
    let mut bufs: Vec<(&str, Vec<T>)> = case
        .weights
        .iter()
        .map(|(n, w)| (*n, vec![T::NAN; w.len()]))
        .collect();
    {
        let mut out: Vec<(&str, &mut [T])> =
            bufs.iter_mut().map(|(n, v)| (*n, &mut v[..])).collect();
        match case.framework {
            "torch" => torch::save(&net, &mut out, &["rnn", "fc"]),
            _ => {
                let mut list: Vec<&mut [T]> = out.into_iter().map(|(_, v)| v).collect();
                keras::save(&net, &mut list)
            }
        }
        .unwrap_or_else(|e| panic!("{} export: {e}", case.name));
    }
    let back: Vec<(&str, Vec<f64>)> = bufs.iter().map(|(n, v)| (*n, wide(v))).collect();
    let back: Vec<(&str, &[f64])> = back.iter().map(|(n, v)| (*n, &v[..])).collect();
    let again: N = import(case, &back).unwrap();
    assert!(
        again == net,
        "{}: export then import changed the model",
        case.name
    );
}

/// Dispatches every fixture case to the tinyrnn type that mirrors it.
macro_rules! cases {
    ($( $name:literal => $ty:ty, $ty32:ty, $n_out:literal, $m:literal, $t_x:literal; )*) => {
        #[test]
        fn every_fixture_case_matches_its_framework() {
            let mut seen = 0;
            for case in CASES {
                match case.name {
                    $( $name => {
                        check::<f64, $ty, 3, $n_out, $m, $t_x>(case);
                        check::<f32, $ty32, 3, $n_out, $m, $t_x>(case);
                        seen += 1;
                    } )*
                    other => panic!("fixture case {other} has no tinyrnn type in tests/interop.rs"),
                }
            }
            assert_eq!(seen, CASES.len());
            assert!(seen >= 20, "only {seen} cases");
        }
    };
}

// One line per fixture case: the tinyrnn type (f64, f32), its output size, M, T_X.
cases! {
    "torch_rnn_l1_m1" => Rnn<f64, 3, 4>, Rnn<f32, 3, 4>, 4, 1, 5;
    "torch_rnn_l2_m3" => Stack<Rnn<f64, 3, 4>, Rnn<f64, 4, 4>>, Stack<Rnn<f32, 3, 4>, Rnn<f32, 4, 4>>, 4, 3, 5;
    "torch_rnn_l1_bi_m1" => Bidirectional<Rnn<f64, 3, 4>, Concat<8>>, Bidirectional<Rnn<f32, 3, 4>, Concat<8>>, 8, 1, 6;
    "torch_rnn_l2_bi_m3" => Stack<Bidirectional<Rnn<f64, 3, 4>, Concat<8>>, Bidirectional<Rnn<f64, 8, 4>, Concat<8>>>, Stack<Bidirectional<Rnn<f32, 3, 4>, Concat<8>>, Bidirectional<Rnn<f32, 8, 4>, Concat<8>>>, 8, 3, 6;
    "torch_lstm_l1_m1" => Lstm<f64, 3, 4>, Lstm<f32, 3, 4>, 4, 1, 5;
    "torch_lstm_l2_m3" => Stack<Lstm<f64, 3, 4>, Lstm<f64, 4, 4>>, Stack<Lstm<f32, 3, 4>, Lstm<f32, 4, 4>>, 4, 3, 5;
    "torch_lstm_l1_bi_m1" => Bidirectional<Lstm<f64, 3, 4>, Concat<8>>, Bidirectional<Lstm<f32, 3, 4>, Concat<8>>, 8, 1, 6;
    "torch_lstm_l2_bi_m3" => Stack<Bidirectional<Lstm<f64, 3, 4>, Concat<8>>, Bidirectional<Lstm<f64, 8, 4>, Concat<8>>>, Stack<Bidirectional<Lstm<f32, 3, 4>, Concat<8>>, Bidirectional<Lstm<f32, 8, 4>, Concat<8>>>, 8, 3, 6;
    "torch_gru_l1_m1" => Gru<f64, 3, 4>, Gru<f32, 3, 4>, 4, 1, 5;
    "torch_gru_l2_m3" => Stack<Gru<f64, 3, 4>, Gru<f64, 4, 4>>, Stack<Gru<f32, 3, 4>, Gru<f32, 4, 4>>, 4, 3, 5;
    "torch_gru_l1_bi_m1" => Bidirectional<Gru<f64, 3, 4>, Concat<8>>, Bidirectional<Gru<f32, 3, 4>, Concat<8>>, 8, 1, 6;
    "torch_gru_l2_bi_m3" => Stack<Bidirectional<Gru<f64, 3, 4>, Concat<8>>, Bidirectional<Gru<f64, 8, 4>, Concat<8>>>, Stack<Bidirectional<Gru<f32, 3, 4>, Concat<8>>, Bidirectional<Gru<f32, 8, 4>, Concat<8>>>, 8, 3, 6;
    "torch_lstm_l2_head2_m3" => Stack<Stack<Lstm<f64, 3, 4>, Lstm<f64, 4, 4>>, Dense<f64, 4, 2>>, Stack<Stack<Lstm<f32, 3, 4>, Lstm<f32, 4, 4>>, Dense<f32, 4, 2>>, 2, 3, 6;
    "torch_gru_l1_bi_head2_m3" => Stack<Bidirectional<Gru<f64, 3, 4>, Concat<8>>, Dense<f64, 8, 2>>, Stack<Bidirectional<Gru<f32, 3, 4>, Concat<8>>, Dense<f32, 8, 2>>, 2, 3, 5;
    "keras_rnn_l1_m3" => Rnn<f64, 3, 4>, Rnn<f32, 3, 4>, 4, 3, 5;
    "keras_rnn_l2_m1" => Stack<Rnn<f64, 3, 4>, Rnn<f64, 4, 4>>, Stack<Rnn<f32, 3, 4>, Rnn<f32, 4, 4>>, 4, 1, 6;
    "keras_rnn_l1_bi_m3" => Bidirectional<Rnn<f64, 3, 4>, Concat<8>>, Bidirectional<Rnn<f32, 3, 4>, Concat<8>>, 8, 3, 6;
    "keras_rnn_l2_bi_m1" => Stack<Bidirectional<Rnn<f64, 3, 4>, Concat<8>>, Bidirectional<Rnn<f64, 8, 4>, Concat<8>>>, Stack<Bidirectional<Rnn<f32, 3, 4>, Concat<8>>, Bidirectional<Rnn<f32, 8, 4>, Concat<8>>>, 8, 1, 5;
    "keras_lstm_l1_m3" => Lstm<f64, 3, 4>, Lstm<f32, 3, 4>, 4, 3, 5;
    "keras_lstm_l2_m1" => Stack<Lstm<f64, 3, 4>, Lstm<f64, 4, 4>>, Stack<Lstm<f32, 3, 4>, Lstm<f32, 4, 4>>, 4, 1, 6;
    "keras_lstm_l1_bi_m3" => Bidirectional<Lstm<f64, 3, 4>, Concat<8>>, Bidirectional<Lstm<f32, 3, 4>, Concat<8>>, 8, 3, 6;
    "keras_lstm_l2_bi_m1" => Stack<Bidirectional<Lstm<f64, 3, 4>, Concat<8>>, Bidirectional<Lstm<f64, 8, 4>, Concat<8>>>, Stack<Bidirectional<Lstm<f32, 3, 4>, Concat<8>>, Bidirectional<Lstm<f32, 8, 4>, Concat<8>>>, 8, 1, 5;
    "keras_gru_l1_m3" => Gru<f64, 3, 4>, Gru<f32, 3, 4>, 4, 3, 5;
    "keras_gru_l2_m1" => Stack<Gru<f64, 3, 4>, Gru<f64, 4, 4>>, Stack<Gru<f32, 3, 4>, Gru<f32, 4, 4>>, 4, 1, 6;
    "keras_gru_l1_bi_m3" => Bidirectional<Gru<f64, 3, 4>, Concat<8>>, Bidirectional<Gru<f32, 3, 4>, Concat<8>>, 8, 3, 6;
    "keras_gru_l2_bi_m1" => Stack<Bidirectional<Gru<f64, 3, 4>, Concat<8>>, Bidirectional<Gru<f64, 8, 4>, Concat<8>>>, Stack<Bidirectional<Gru<f32, 3, 4>, Concat<8>>, Bidirectional<Gru<f32, 8, 4>, Concat<8>>>, 8, 1, 5;
    "keras_gru_before_l1_m3" => Gru<f64, 3, 4, ResetBefore>, Gru<f32, 3, 4, ResetBefore>, 4, 3, 5;
    "keras_gru_before_l2_bi_m1" => Stack<Bidirectional<Gru<f64, 3, 4, ResetBefore>, Concat<8>>, Bidirectional<Gru<f64, 8, 4, ResetBefore>, Concat<8>>>, Stack<Bidirectional<Gru<f32, 3, 4, ResetBefore>, Concat<8>>, Bidirectional<Gru<f32, 8, 4, ResetBefore>, Concat<8>>>, 8, 1, 6;
    "keras_lstm_l2_head2_m3" => Stack<Stack<Lstm<f64, 3, 4>, Lstm<f64, 4, 4>>, Dense<f64, 4, 2>>, Stack<Stack<Lstm<f32, 3, 4>, Lstm<f32, 4, 4>>, Dense<f32, 4, 2>>, 2, 3, 6;
    "keras_gru_l1_bi_head2_m3" => Stack<Bidirectional<Gru<f64, 3, 4>, Concat<8>>, Dense<f64, 8, 2>>, Stack<Bidirectional<Gru<f32, 3, 4>, Concat<8>>, Dense<f32, 8, 2>>, 2, 3, 5;
}

/// A malformed `state_dict`: every error kind, naming the tensor as PyTorch does.
#[test]
fn malformed_torch_weights_are_typed_errors() {
    type Net = Stack<Stack<Lstm<f64, 3, 4>, Lstm<f64, 4, 4>>, Dense<f64, 4, 2>>;
    let case = CASES
        .iter()
        .find(|c| {
            c.framework == "torch"
                && c.cell == "lstm"
                && c.layers == 2
                && !c.bidirectional
                && c.head == 2
        })
        .expect("a 2-layer torch LSTM case with a head");
    let good: Vec<(&str, &[f64])> = case.weights.to_vec();
    let _: Net = torch::load(&good, &["rnn", "fc"]).expect("the case loads");
    let load = |d: &[(&str, &[f64])]| torch::load::<f64, Net>(d, &["rnn", "fc"]);
    let torch_id = |module, name, layer, reverse| TensorId::Torch {
        module,
        name,
        layer,
        reverse,
    };

    // Missing.
    let missing: Vec<_> = good
        .iter()
        .copied()
        .filter(|(n, _)| *n != "rnn.weight_hh_l1")
        .collect();
    assert_eq!(
        load(&missing),
        Err(Error::Tensor {
            id: torch_id("rnn", "weight_hh", Some(1), false),
            problem: TensorProblem::Missing
        })
    );
    // Wrong length.
    let mut short = good.clone();
    let i = short.iter().position(|(n, _)| *n == "fc.weight").unwrap();
    short[i].1 = &short[i].1[1..];
    assert_eq!(
        load(&short),
        Err(Error::Tensor {
            id: torch_id("fc", "weight", None, false),
            problem: TensorProblem::Length {
                expected: 8,
                found: 7
            }
        })
    );
    // Non-finite.
    let i = good
        .iter()
        .position(|(n, _)| *n == "rnn.bias_hh_l0")
        .unwrap();
    let mut nan = good[i].1.to_vec();
    nan[5] = f64::NAN;
    let mut bad = good.clone();
    bad[i].1 = &nan;
    assert_eq!(
        load(&bad),
        Err(Error::Tensor {
            id: torch_id("rnn", "bias_hh", Some(0), false),
            problem: TensorProblem::NonFinite { index: 5 }
        })
    );
    // More layers than the model: the 2-layer checkpoint into a 1-layer model.
    type One = Stack<Lstm<f64, 3, 4>, Dense<f64, 4, 2>>;
    let err = torch::load::<f64, One>(&good, &["rnn", "fc"]).unwrap_err();
    let first_l1 = good.iter().position(|(n, _)| n.ends_with("_l1")).unwrap();
    assert_eq!(
        err,
        Error::Tensor {
            id: TensorId::Entry { index: first_l1 },
            problem: TensorProblem::Unused
        }
    );
    // Fewer layers than the model.
    type Three = Stack<Stack3<Lstm<f64, 3, 4>, Lstm<f64, 4, 4>, Lstm<f64, 4, 4>>, Dense<f64, 4, 2>>;
    let err = torch::load::<f64, Three>(&good, &["rnn", "fc"]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tensor {
                problem: TensorProblem::Missing,
                ..
            }
        ),
        "{err}"
    );
    // The wrong kind of layer.
    type AsGru = Stack<Stack<Gru<f64, 3, 4>, Gru<f64, 4, 4>>, Dense<f64, 4, 2>>;
    assert!(torch::load::<f64, AsGru>(&good, &["rnn", "fc"]).is_err());
    // PyTorch has no reset-before GRU.
    let err = torch::load::<f64, Gru<f64, 3, 4, ResetBefore>>(&good, &["rnn"]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tensor {
                problem: TensorProblem::Unsupported,
                ..
            }
        ),
        "{err}"
    );
    // PyTorch's bidirectional layers concatenate: a summed one is not read as one.
    let err = torch::load::<f64, Bidirectional<Lstm<f64, 3, 4>, tinyrnn::Sum>>(&good, &["rnn"])
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tensor {
                problem: TensorProblem::Unsupported,
                ..
            }
        ),
        "{err}"
    );
    // An entry of another module is ignored.
    let mut extra = good.clone();
    extra.push(("embedding.weight", &[1.0, 2.0]));
    assert!(load(&extra).is_ok());
    // Export: a destination of the wrong length is rejected before anything is written.
    let net = load(&good).unwrap();
    let mut bufs: Vec<(&str, Vec<f64>)> =
        good.iter().map(|(n, w)| (*n, vec![7.0; w.len()])).collect();
    bufs[0].1.pop();
    let mut out: Vec<(&str, &mut [f64])> = bufs.iter_mut().map(|(n, v)| (*n, &mut v[..])).collect();
    let err = torch::save(&net, &mut out, &["rnn", "fc"]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tensor {
                problem: TensorProblem::Length { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        bufs.iter().all(|(_, v)| v.iter().all(|&x| x == 7.0)),
        "nothing written"
    );
}

/// A malformed Keras weight list: every error kind.
#[test]
fn malformed_keras_weights_are_typed_errors() {
    type Net = Stack<Gru<f64, 3, 4>, Dense<f64, 4, 2>>;
    let kernel = [0.1; 36];
    let rec = [0.1; 48];
    let bias = [0.0; 24];
    let (dk, db) = ([0.2; 8], [0.0; 2]);
    let good: [&[f64]; 5] = [&kernel, &rec, &bias, &dk, &db];
    let net: Net = keras::load(&good).unwrap();
    assert_eq!(net.upper.w[(1, 3)], 0.2);
    assert_eq!(
        keras::load::<f64, Net>(&good[..4]),
        Err(Error::Tensor {
            id: TensorId::Keras {
                index: 4,
                name: "bias"
            },
            problem: TensorProblem::Missing
        })
    );
    let short = [0.0; 12]; // a reset_after=False bias (3H) for a reset-after layer
    assert_eq!(
        keras::load::<f64, Net>(&[&kernel, &rec, &short, &dk, &db]),
        Err(Error::Tensor {
            id: TensorId::Keras {
                index: 2,
                name: "bias"
            },
            problem: TensorProblem::Length {
                expected: 24,
                found: 12
            }
        })
    );
    let mut inf = rec;
    inf[47] = f64::INFINITY;
    assert_eq!(
        keras::load::<f64, Net>(&[&kernel, &inf, &bias, &dk, &db]),
        Err(Error::Tensor {
            id: TensorId::Keras {
                index: 1,
                name: "recurrent_kernel"
            },
            problem: TensorProblem::NonFinite { index: 47 }
        })
    );
    let extra: [&[f64]; 6] = [&kernel, &rec, &bias, &dk, &db, &db];
    assert_eq!(
        keras::load::<f64, Net>(&extra),
        Err(Error::Tensor {
            id: TensorId::Entry { index: 5 },
            problem: TensorProblem::Unused
        })
    );
    // The reset-before GRU reads a (3H,) bias, and exports bnx + bna into it.
    let g: Gru<f64, 3, 4, ResetBefore> = keras::load(&[&kernel, &rec, &short]).unwrap();
    let mut g2 = g;
    g2.bnx.fill(0.25);
    g2.bna.fill(0.5);
    let (mut k2, mut r2, mut b2) = ([0.0; 36], [0.0; 48], [0.0; 12]);
    keras::save(&g2, &mut [&mut k2, &mut r2, &mut b2]).unwrap();
    assert_eq!(&b2[8..], &[0.75; 4]);
    let _ = Rnn::<f64, 3, 4>::zeros();
    let _ = Bidirectional::<Lstm<f64, 3, 4>, Concat<8>>::zeros();
}

/// Exporters refuse values the framework could not load back (a NaN weight, a merged bias that
/// overflows) before writing anything, naming the framework's tensor and index.
#[test]
fn exporting_a_non_finite_value_is_a_typed_error_and_writes_nothing() {
    // Keras reset_after=False: bias = bnx + bna, which overflows f32.
    let mut gru = Gru::<f32, 1, 2, ResetBefore>::zeros();
    gru.bnx.fill(f32::MAX);
    gru.bna.fill(f32::MAX);
    let (mut kernel, mut rec, mut bias) = ([7.0_f32; 6], [7.0_f32; 12], [7.0_f32; 6]);
    let err = keras::save(&gru, &mut [&mut kernel, &mut rec, &mut bias]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tensor {
                id: TensorId::Keras {
                    index: 2,
                    name: "bias"
                },
                problem: TensorProblem::NonFinite { .. }
            }
        ),
        "{err:?}"
    );
    assert!([&kernel[..], &rec, &bias]
        .iter()
        .all(|t| t.iter().all(|&v| v == 7.0)));

    // PyTorch: a NaN in a dense layer's weight.
    let mut fc = Dense::<f32, 2, 1>::zeros();
    fc.w[(0, 1)] = f32::NAN;
    let (mut w, mut b) = ([7.0_f32; 2], [7.0_f32; 1]);
    let mut out: [(&str, &mut [f32]); 2] = [("fc.weight", &mut w), ("fc.bias", &mut b)];
    let err = torch::save(&fc, &mut out, &["fc"]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Tensor {
                problem: TensorProblem::NonFinite { index: 1 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!((w, b), ([7.0; 2], [7.0]));
}
