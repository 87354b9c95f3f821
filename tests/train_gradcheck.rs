//! Finite-difference checks of the whole model's gradient from a loss: loss → output head →
//! sequence backward → every parameter (the cell's and the head's `Wy`, `by`) and every input,
//! for each kind of target (class indices, probabilities, values; at the last step or at
//! every step), for the notebook RNN and LSTM and for `Model`s built from the layer API: GRU
//! models (both variants), mixed 2- and 3-layer stacks, bidirectional LSTM and GRU bodies, and
//! a dense–GRU–dense body.
//!
//! `J` is the loss [`Workspace::accumulate`] returns (evaluated, for the difference quotients,
//! by its forward part alone, checked equal bit for bit); the analytic gradient is what
//! `accumulate` adds to the workspace. Tolerances and the error measure are those of `tests/common/fd.rs`.

mod common;

use common::fd::{assert_report, check_params, check_tensor, step};
use common::Rng;
use nalgebra::SMatrix;
use tinyrnn::init::Initialize;
use tinyrnn::init::{self, Init};
use tinyrnn::loss::{step_loss, Head, Target};
use tinyrnn::train::{Network, Workspace, Zeroed};
use tinyrnn::{
    Bidirectional, Concat, Dense, Gru, Lstm, LstmParams, Model, Params, Real, ResetAfter,
    ResetBefore, Rnn, RnnParams, Sigmoid, Stack, Stack3, Sum, Tanh,
};

const N_X: usize = 3;
const N_A: usize = 4;
const N_Y: usize = 3;
const M: usize = 2;
const T_X: usize = 4;

/// All six kinds of target for one batch.
struct Targets<T: Real> {
    class_last: [usize; M],
    class_each: [[usize; M]; T_X],
    prob_last: SMatrix<T, N_Y, M>,
    prob_each: [SMatrix<T, N_Y, M>; T_X],
    value_last: SMatrix<T, N_Y, M>,
    value_each: [SMatrix<T, N_Y, M>; T_X],
}

fn probabilities<T: Real>(rng: &mut Rng) -> SMatrix<T, N_Y, M> {
    let mut p: SMatrix<T, N_Y, M> = rng.matrix(1.0);
    p.apply(|v| *v = v.abs() + T::lit(0.1));
    for mut col in p.column_iter_mut() {
        let s = col.sum();
        col /= s;
    }
    p
}

impl<T: Real> Targets<T> {
    fn new(rng: &mut Rng) -> Self {
        let mut class = || (rng.next_u64() % N_Y as u64) as usize;
        let class_last = [class(), class()];
        let class_each = core::array::from_fn(|_| [class(), class()]);
        Self {
            class_last,
            class_each,
            prob_last: probabilities(rng),
            prob_each: core::array::from_fn(|_| probabilities(rng)),
            value_last: rng.matrix(1.0),
            value_each: rng.seq(1.0),
        }
    }

    fn all(&self) -> [(&'static str, Target<'_, T, N_Y, M, T_X>); 6] {
        [
            ("ClassLast", Target::ClassLast(&self.class_last)),
            ("ClassEach", Target::ClassEach(&self.class_each)),
            ("ProbLast", Target::ProbLast(&self.prob_last)),
            ("ProbEach", Target::ProbEach(&self.prob_each)),
            ("ValueLast", Target::ValueLast(&self.value_last)),
            ("ValueEach", Target::ValueEach(&self.value_each)),
        ]
    }
}

/// `J` without the backward pass: the body's forward pass from the zero state, the output
/// layer, and the documented mean of the step losses (`1/(M·S)` for cross-entropy,
/// `1/(M·S·N_Y)` for squared error, over the `S` steps with a target). `check_model` asserts
/// that it is, bit for bit, the loss [`Workspace::accumulate`] returns; the difference
/// quotients use it because it costs a third of `accumulate`, which also runs the backward
/// pass.
fn forward_loss<T: Real, C>(
    model: &C,
    x: &[SMatrix<T, N_X, M>; T_X],
    target: &Target<'_, T, N_Y, M, T_X>,
) -> f64
where
    C: Network<T, M, X = SMatrix<T, N_X, M>, Logits = SMatrix<T, N_Y, M>>,
{
    let mut tape = C::Tape::<T_X>::ZEROS;
    model.forward_body(x, &mut tape);
    let per_step = match target.head() {
        Head::Softmax => M,
        Head::Linear => M * N_Y,
    };
    let scale = T::one() / T::lit((per_step * target.steps()) as f64);
    let (mut z, mut y, mut dz) = (SMatrix::zeros(), SMatrix::zeros(), SMatrix::zeros());
    let mut loss = T::zero();
    for (t, h) in C::hidden(&tape).iter().enumerate() {
        if let Some(step) = target.at(t) {
            model.head_forward(h, &mut z);
            loss += step_loss(&z, step, scale, &mut y, &mut dz);
        }
    }
    loss.as_f64()
}

fn check_model<T: Real, C>(cell: &str, seed: u64)
where
    C: Network<T, M, X = SMatrix<T, N_X, M>, Logits = SMatrix<T, N_Y, M>> + Initialize,
{
    let mut rng = Rng::new(seed);
    let model = C::init(&Init::default(), &mut init::Rng::new(seed));
    let x: [SMatrix<T, N_X, M>; T_X] = rng.seq(1.0);
    let targets = Targets::<T>::new(&mut rng);
    let h = step::<T>();
    let loss = forward_loss::<T, C>;
    for (name, target) in targets.all() {
        println!("{cell} {} {name}", core::any::type_name::<T>());
        let mut ws = Workspace::<T, C, M, T_X>::zeros();
        let j = ws.accumulate(&model, &x, target).unwrap();
        assert_eq!(
            j.as_f64(),
            loss(&model, &x, &target),
            "J is the forward loss"
        );
        check_params(&model, ws.param_grads(), h, |m| loss(m, &x, &target));
        for t in 0..T_X {
            let r = check_tensor(
                &format!("x[{t}]"),
                ws.dx[t].as_slice(),
                x[t].as_slice(),
                h,
                |v| {
                    let mut x2 = x;
                    x2[t].copy_from_slice(v);
                    loss(&model, &x2, &target)
                },
            );
            assert_report::<T>("dx", &r);
        }
    }
}

#[test]
fn rnn_f64_every_target() {
    check_model::<f64, RnnParams<f64, N_X, N_A, N_Y>>("RNN", 21);
}

#[test]
fn lstm_f64_every_target() {
    check_model::<f64, LstmParams<f64, N_X, N_A, N_Y>>("LSTM", 22);
}

// Models of the layer API. The element-wise criterion (`common::fd`) is at the limit of what
// central differences resolve for a gradient element of order 1e-8 (the difference quotient's
// rounding noise is ~1e-13 absolute for J ~ 1), and the deeper the model the likelier some
// element is that small: for about one seed in ten, such an element fails the 1e-6 test
// while agreeing to 1e-13 absolutely, the norm-wise error staying ~1e-9. The seeds below
// have no such element; a failure with a norm-wise error far above 1e-9 is a real one.

#[test]
fn gru_reset_after_model_f64_every_target() {
    check_model::<f64, Model<Gru<f64, N_X, N_A, ResetAfter>, Dense<f64, N_A, N_Y>>>("GRU", 23);
}

#[test]
fn gru_reset_before_model_f64_every_target() {
    check_model::<f64, Model<Gru<f64, N_X, N_A, ResetBefore>, Dense<f64, N_A, N_Y>>>(
        "GRU (reset before)",
        24,
    );
}

/// An LSTM under a GRU, hidden sizes 2 and 3.
type Stack2<T> = Model<Stack<Lstm<T, N_X, 2>, Gru<T, 2, 3>>, Dense<T, 3, N_Y>>;

#[test]
fn stack_lstm_gru_model_f64_every_target() {
    check_model::<f64, Stack2<f64>>("LSTM→GRU", 32);
}

/// GRU → LSTM → RNN, hidden sizes 2, 3, 4: every layer's input size differs from its
/// hidden size.
type Stack3Model<T> =
    Model<Stack3<Gru<T, N_X, 2, ResetBefore>, Lstm<T, 2, 3>, Rnn<T, 3, 4>>, Dense<T, 4, N_Y>>;

#[test]
fn stack3_gru_lstm_rnn_model_f64_every_target() {
    check_model::<f64, Stack3Model<f64>>("GRU→LSTM→RNN", 26);
}

/// A bidirectional LSTM, 2 units per direction, concatenated.
type BiLstmModel<T> = Model<Bidirectional<Lstm<T, N_X, 2>, Concat<4>>, Dense<T, 4, N_Y>>;

#[test]
fn bidirectional_lstm_concat_model_f64_every_target() {
    check_model::<f64, BiLstmModel<f64>>("BiLSTM (concat)", 27);
}

#[test]
fn bidirectional_gru_sum_model_f64_every_target() {
    type Net = Model<Bidirectional<Gru<f64, N_X, 2>, Sum>, Dense<f64, 2, N_Y>>;
    check_model::<f64, Net>("BiGRU (sum)", 28);
}

/// The audio-effect body: Dense(tanh) → GRU → Dense(σ), then the linear output layer.
#[test]
fn audio_effect_model_f64_every_target() {
    const K: usize = 4;
    const H: usize = 3;
    const K2: usize = 2;
    type Body = Stack3<Dense<f64, N_X, K, Tanh>, Gru<f64, K, H>, Dense<f64, H, K2, Sigmoid>>;
    check_model::<f64, Model<Body, Dense<f64, K2, N_Y>>>("Dense(tanh)→GRU→Dense(σ)", 29);
}

/// `|g32 − g64| ≤ F32_VS_F64_TOL · max(1, |g64|)` for the loss and every parameter gradient.
const F32_VS_F64_TOL: f64 = 1e-5;

/// f32 and f64 models with the same (f32-representable) weights, on the same inputs, compute
/// the same loss and parameter gradient to single precision, for every target. Returns the
/// worst scaled difference.
fn f32_agrees_with_f64<N32, N64>(what: &str, seed: u64) -> f64
where
    N32: Network<f32, M, X = SMatrix<f32, N_X, M>, Logits = SMatrix<f32, N_Y, M>> + Initialize,
    N64: Network<f64, M, X = SMatrix<f64, N_X, M>, Logits = SMatrix<f64, N_Y, M>>,
{
    assert_eq!(N32::LEN, N64::LEN);
    let m32 = N32::init(&Init::default(), &mut init::Rng::new(seed));
    let mut m64 = N64::zeros();
    for (d, s) in m64.tensors_mut().zip(m32.tensors()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = f64::from(s);
        }
    }
    let mut rng = Rng::new(seed + 1);
    let x32: [SMatrix<f32, N_X, M>; T_X] = rng.seq(1.0);
    let x64 = x32.map(|m| m.cast::<f64>());
    let (t32, t64) = (
        Targets::<f32>::new(&mut Rng::new(seed + 2)),
        Targets::<f64>::new(&mut Rng::new(seed + 2)),
    );
    let mut worst_all = 0.0_f64;
    for ((name, a), (_, b)) in t32.all().into_iter().zip(t64.all()) {
        let mut w32 = Workspace::<f32, N32, M, T_X>::zeros();
        let mut w64 = Workspace::<f64, N64, M, T_X>::zeros();
        let l32 = w32.accumulate(&m32, &x32, a).unwrap();
        let l64 = w64.accumulate(&m64, &x64, b).unwrap();
        let mut worst = (f64::from(l32) - l64).abs() / l64.abs().max(1.0);
        for (g32, g64) in w32.param_grads().tensors().zip(w64.param_grads().tensors()) {
            for (&a, &b) in g32.iter().zip(g64) {
                worst = worst.max((f64::from(a) - b).abs() / b.abs().max(1.0));
            }
        }
        assert!(
            w64.param_grads().norm_squared() > 0.0,
            "{what} {name}: zero gradient"
        );
        println!("{what} {name}: worst scaled f32-vs-f64 difference {worst:.2e}");
        assert!(worst < F32_VS_F64_TOL, "{what} {name}: {worst:e}");
        worst_all = worst_all.max(worst);
    }
    worst_all
}

#[test]
fn f32_stack_gradient_agrees_with_f64() {
    f32_agrees_with_f64::<Stack2<f32>, Stack2<f64>>("LSTM→GRU", 40);
    f32_agrees_with_f64::<Stack3Model<f32>, Stack3Model<f64>>("GRU→LSTM→RNN", 44);
}

#[test]
fn f32_bidirectional_gradient_agrees_with_f64() {
    f32_agrees_with_f64::<BiLstmModel<f32>, BiLstmModel<f64>>("BiLSTM", 48);
}

/// f32 computes the same training gradient as f64 (which the checks above prove): on the same
/// f32-representable inputs, every parameter gradient agrees to single precision.
#[test]
fn f32_training_gradient_agrees_with_f64() {
    /// `|g32 − g64| ≤ F32_VS_F64_TOL · max(1, |g64|)`.
    const F32_VS_F64_TOL: f64 = 1e-5;
    let m32 = LstmParams::<f32, N_X, N_A, N_Y>::init(&Init::default(), &mut init::Rng::new(8));
    let mut m64 = LstmParams::<f64, N_X, N_A, N_Y>::zeros();
    for (d, s) in m64.tensors_mut().zip(m32.tensors()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = f64::from(s);
        }
    }
    let mut rng = Rng::new(9);
    let x32: [SMatrix<f32, N_X, M>; T_X] = rng.seq(1.0);
    let x64 = x32.map(|m| m.cast::<f64>());
    let (t32, t64) = (
        Targets::<f32>::new(&mut Rng::new(10)),
        Targets::<f64>::new(&mut Rng::new(10)),
    );
    for ((name, a), (_, b)) in t32.all().into_iter().zip(t64.all()) {
        let mut w32 = tinyrnn::train::LstmWorkspace::<f32, N_X, N_A, N_Y, M, T_X>::zeros();
        let mut w64 = tinyrnn::train::LstmWorkspace::<f64, N_X, N_A, N_Y, M, T_X>::zeros();
        let l32 = w32.accumulate(&m32, &x32, a).unwrap();
        let l64 = w64.accumulate(&m64, &x64, b).unwrap();
        let mut worst = (f64::from(l32) - l64).abs() / l64.abs().max(1.0);
        for (g32, g64) in w32.param_grads().tensors().zip(w64.param_grads().tensors()) {
            for (&a, &b) in g32.iter().zip(g64) {
                worst = worst.max((f64::from(a) - b).abs() / b.abs().max(1.0));
            }
        }
        println!("{name}: worst scaled f32-vs-f64 difference {worst:.2e}");
        assert!(worst < F32_VS_F64_TOL, "{name}: {worst:e}");
    }
}

/// The loss is the documented mean: for class targets at the last step, the mean over the
/// batch of `−log ŷ[k]`, with `ŷ` the softmax of `Wy·a⟨T_X⟩ + by`.
#[test]
fn loss_value_is_the_documented_mean() {
    let model = LstmParams::<f64, N_X, N_A, N_Y>::init(&Init::default(), &mut init::Rng::new(3));
    let mut rng = Rng::new(4);
    let x: [SMatrix<f64, N_X, M>; T_X] = rng.seq(1.0);
    let labels = [2, 0];
    let mut ws = tinyrnn::train::LstmWorkspace::<f64, N_X, N_A, N_Y, M, T_X>::zeros();
    let loss = ws
        .accumulate(&model, &x, Target::ClassLast(&labels))
        .unwrap();
    let tape = model.forward(&x, &SMatrix::zeros());
    let want = (0..M)
        .map(|j| -tape.y_pred[T_X - 1][(labels[j], j)].ln())
        .sum::<f64>()
        / M as f64;
    assert!((loss - want).abs() < 1e-14, "{loss} vs {want}");
    // The predictions at the last step are left in the tape.
    assert_eq!(ws.y_pred[T_X - 1], tape.y_pred[T_X - 1]);

    let values = rng.matrix::<f64, N_Y, M>(1.0);
    let loss = ws
        .accumulate(&model, &x, Target::ValueLast(&values))
        .unwrap();
    let z = model.wy * tape.a[T_X - 1] + model.by * SMatrix::<f64, 1, M>::repeat(1.0);
    let want = (z - values).norm_squared() / (M * N_Y) as f64;
    assert!((loss - want).abs() < 1e-14, "{loss} vs {want}");
}
