//! Finite-difference checks of the whole model's gradient from a loss: loss → output head →
//! sequence backward → every parameter (the cell's and the head's `Wy`, `by`) and every input,
//! for each kind of target (class indices, probabilities, values; at the last step or at
//! every step), for the RNN and the LSTM.
//!
//! `J` is the loss [`Workspace::accumulate`] returns; the analytic gradient is what it adds to
//! the workspace. Tolerances and the error measure are those of `tests/common/fd.rs`.

mod common;

use common::fd::{assert_report, check_params, check_tensor, step};
use common::Rng;
use nalgebra::SMatrix;
use tinyrnn::init::{self, Init};
use tinyrnn::loss::Target;
use tinyrnn::train::{Recurrent, Workspace};
use tinyrnn::{LstmParams, Params, Real, RnnParams};

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

fn check_model<T: Real, C: Recurrent<T, N_X, N_A, N_Y>>(cell: &str, seed: u64)
where
    Workspace<T, C, N_X, N_A, N_Y, M, T_X>: HasDx<T>,
{
    let mut rng = Rng::new(seed);
    let model = C::init(&Init::default(), &mut init::Rng::new(seed));
    let x: [SMatrix<T, N_X, M>; T_X] = rng.seq(1.0);
    let targets = Targets::<T>::new(&mut rng);
    let h = step::<T>();
    let loss = |model: &C, x: &[SMatrix<T, N_X, M>; T_X], target: &Target<'_, T, N_Y, M, T_X>| {
        let mut ws = Workspace::<T, C, N_X, N_A, N_Y, M, T_X>::zeros();
        ws.accumulate(model, x, target).unwrap().as_f64()
    };
    for (name, target) in targets.all() {
        println!("{cell} {} {name}", core::any::type_name::<T>());
        let mut ws = Workspace::<T, C, N_X, N_A, N_Y, M, T_X>::zeros();
        ws.accumulate(&model, &x, &target).unwrap();
        check_params(&model, ws.param_grads(), h, |m| loss(m, &x, &target));
        for t in 0..T_X {
            let r = check_tensor(&format!("x[{t}]"), ws.dx(t), x[t].as_slice(), h, |v| {
                let mut x2 = x;
                x2[t].copy_from_slice(v);
                loss(&model, &x2, &target)
            });
            assert_report::<T>("dx", &r);
        }
    }
}

/// The input gradient inside a workspace (the cells name their gradients differently).
trait HasDx<T> {
    fn dx(&self, t: usize) -> &[T];
}

impl<T: Real> HasDx<T> for Workspace<T, RnnParams<T, N_X, N_A, N_Y>, N_X, N_A, N_Y, M, T_X> {
    fn dx(&self, t: usize) -> &[T] {
        self.grads.dx[t].as_slice()
    }
}

impl<T: Real> HasDx<T> for Workspace<T, LstmParams<T, N_X, N_A, N_Y>, N_X, N_A, N_Y, M, T_X> {
    fn dx(&self, t: usize) -> &[T] {
        self.grads.dx[t].as_slice()
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
        let l32 = w32.accumulate(&m32, &x32, &a).unwrap();
        let l64 = w64.accumulate(&m64, &x64, &b).unwrap();
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
        .accumulate(&model, &x, &Target::ClassLast(&labels))
        .unwrap();
    let tape = model.forward(&x, &SMatrix::zeros());
    let want = (0..M)
        .map(|j| -tape.y_pred[T_X - 1][(labels[j], j)].ln())
        .sum::<f64>()
        / M as f64;
    assert!((loss - want).abs() < 1e-14, "{loss} vs {want}");
    // The predictions at the last step are left in the tape.
    assert_eq!(ws.tape.y_pred[T_X - 1], tape.y_pred[T_X - 1]);

    let values = rng.matrix::<f64, N_Y, M>(1.0);
    let loss = ws
        .accumulate(&model, &x, &Target::ValueLast(&values))
        .unwrap();
    let z = model.wy * tape.a[T_X - 1] + model.by * SMatrix::<f64, 1, M>::repeat(1.0);
    let want = (z - values).norm_squared() / (M * N_Y) as f64;
    assert!((loss - want).abs() < 1e-14, "{loss} vs {want}");
}
