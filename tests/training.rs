//! Training end to end, small enough for a debug build: the loss must fall, accumulation over
//! mini-batches must equal one large batch, and bad input must be rejected without touching
//! the model.

mod common;

use common::Rng as DataRng;
use nalgebra::SMatrix;
use tinyrnn::init::{Init, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::optim::{Adam, Clip, Momentum, Optimizer, Sgd};
use tinyrnn::train::{LstmWorkspace, RnnWorkspace};
use tinyrnn::{Error, LstmParams, Params, RnnParams};

/// The loss after training must be below this fraction of the loss before.
const LOSS_FRACTION: f32 = 0.1;

/// A memory task: the class is the sign of the input at step 0; the other 11 steps are noise.
/// An LSTM must carry one bit across the whole sequence.
fn sign_task(rng: &mut DataRng) -> ([SMatrix<f32, 2, 8>; 12], [usize; 8]) {
    let mut x: [SMatrix<f32, 2, 8>; 12] = rng.seq(0.5);
    let mut labels = [0; 8];
    for (j, label) in labels.iter_mut().enumerate() {
        let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
        x[0][(0, j)] = sign;
        *label = usize::from(sign > 0.0);
    }
    (x, labels)
}

#[test]
fn lstm_learns_to_remember_a_sign_across_twelve_steps() {
    let mut data = DataRng::new(1);
    let batches: Vec<_> = (0..4).map(|_| sign_task(&mut data)).collect();
    let mut model = LstmParams::<f32, 2, 8, 2>::init(&Init::default(), &mut Rng::new(7));
    let mut opt = Adam::new(0.03).with_clip(Clip::GlobalNorm(5.0));
    let mut ws = LstmWorkspace::<f32, 2, 8, 2, 8, 12>::zeros();

    let mean_loss = |model: &LstmParams<f32, 2, 8, 2>,
                     ws: &mut LstmWorkspace<f32, 2, 8, 2, 8, 12>| {
        let mut total = 0.0;
        for (x, labels) in &batches {
            total += ws.accumulate(model, x, Target::ClassLast(labels)).unwrap();
        }
        total / batches.len() as f32
    };
    let before = mean_loss(&model, &mut ws);
    for _ in 0..40 {
        for (x, labels) in &batches {
            ws.train_step(&mut model, &mut opt, x, Target::ClassLast(labels))
                .unwrap();
        }
    }
    let after = mean_loss(&model, &mut ws);
    println!("LSTM sign task: loss {before:.4} -> {after:.4}");
    assert!(after < LOSS_FRACTION * before, "{before} -> {after}");

    // And it classifies a fresh batch correctly.
    let (x, labels) = sign_task(&mut DataRng::new(99));
    let y = ws.predict(&model, &x, Head::Softmax);
    for (j, &label) in labels.iter().enumerate() {
        let p = y[11].column(j);
        assert_eq!(usize::from(p[1] > p[0]), label, "example {j}: {p:?}");
    }
}

#[test]
fn rnn_regressor_learns_a_running_mean() {
    // Target at every step: the mean of the inputs so far.
    let mut data = DataRng::new(2);
    let x: [SMatrix<f64, 1, 4>; 6] = data.seq(1.0);
    let mut y = [SMatrix::<f64, 1, 4>::zeros(); 6];
    let mut sum = SMatrix::<f64, 1, 4>::zeros();
    for t in 0..6 {
        sum += x[t];
        y[t] = sum / (t + 1) as f64;
    }
    let mut model = RnnParams::<f64, 1, 6, 1>::init(&Init::default(), &mut Rng::new(3));
    let mut opt = Momentum::new(0.05, 0.9);
    let mut ws = RnnWorkspace::<f64, 1, 6, 1, 4, 6>::zeros();
    let target = Target::ValueEach(&y);
    let before = ws.accumulate(&model, &x, target).unwrap();
    for _ in 0..300 {
        ws.train_step(&mut model, &mut opt, &x, target).unwrap();
    }
    let after = ws.accumulate(&model, &x, target).unwrap();
    println!("RNN running mean: loss {before:.4} -> {after:.4}");
    assert!(
        after < f64::from(LOSS_FRACTION) * before,
        "{before} -> {after}"
    );
}

/// Two half-batches accumulated and averaged give the gradient of the whole batch.
#[test]
fn accumulating_mini_batches_equals_one_large_batch() {
    let model = LstmParams::<f64, 2, 3, 3>::init(&Init::default(), &mut Rng::new(5));
    let mut data = DataRng::new(6);
    let x: [SMatrix<f64, 2, 4>; 5] = data.seq(1.0);
    let labels = [0, 2, 1, 2];

    let mut whole = LstmWorkspace::<f64, 2, 3, 3, 4, 5>::zeros();
    let loss = whole
        .accumulate(&model, &x, Target::ClassLast(&labels))
        .unwrap();

    let mut half = LstmWorkspace::<f64, 2, 3, 3, 2, 5>::zeros();
    half.param_grads_mut().bo.fill(123.0); // zero_grads must clear this
    half.zero_grads();
    let mut total = 0.0;
    for part in 0..2 {
        let xs = x.map(|m| m.fixed_columns::<2>(2 * part).into_owned());
        let ls = [labels[2 * part], labels[2 * part + 1]];
        total += half
            .accumulate(&model, &xs, Target::ClassLast(&ls))
            .unwrap();
    }
    half.param_grads_mut().scale(0.5);
    assert!((total / 2.0 - loss).abs() < 1e-14);
    let mut diff = *half.param_grads();
    diff.axpy(-1.0, whole.param_grads());
    assert!(
        diff.norm_squared().sqrt() < 1e-14,
        "{}",
        diff.norm_squared()
    );
}

#[test]
fn bad_targets_and_diverged_models_are_errors_and_change_nothing() {
    let mut model = RnnParams::<f32, 2, 3, 2>::init(&Init::default(), &mut Rng::new(1));
    let original = model;
    let mut opt = Sgd::new(0.1);
    let mut ws = RnnWorkspace::<f32, 2, 3, 2, 2, 3>::zeros();
    let x = [SMatrix::<f32, 2, 2>::repeat(0.5); 3];

    let err = ws.train_step(&mut model, &mut opt, &x, Target::ClassLast(&[0, 2]));
    assert_eq!(
        err,
        Err(Error::ClassOutOfRange {
            index: 2,
            classes: 2
        })
    );
    let mut values = SMatrix::<f32, 2, 2>::zeros();
    values[(1, 1)] = f32::NAN;
    let err = ws.train_step(&mut model, &mut opt, &x, Target::ValueLast(&values));
    assert_eq!(
        err,
        Err(Error::NonFinite {
            what: "target",
            index: 3
        })
    );
    assert_eq!(model, original);

    // Weights that overflow the logits: the loss is not finite, the update is skipped.
    model.wya.fill(f32::MAX);
    model.waa.fill(1.0);
    let diverged = model;
    let err = ws.train_step(&mut model, &mut opt, &x, Target::ClassLast(&[0, 1]));
    assert!(
        matches!(err, Err(Error::NonFinite { what: "loss", .. })),
        "{err:?}"
    );
    assert_eq!(model, diverged);
}

/// The same seed trains to the same bits.
#[test]
fn training_is_deterministic() {
    let run = || {
        let mut model = LstmParams::<f32, 2, 4, 2>::init(&Init::default(), &mut Rng::new(11));
        let mut opt = Adam::new(0.01);
        let mut ws = LstmWorkspace::<f32, 2, 4, 2, 8, 12>::zeros();
        let (x, labels) = sign_task(&mut DataRng::new(12));
        for _ in 0..5 {
            ws.train_step(&mut model, &mut opt, &x, Target::ClassLast(&labels))
                .unwrap();
        }
        let mut flat = [0.0_f32; LstmParams::<f32, 2, 4, 2>::LEN];
        model.copy_to_flat(&mut flat).unwrap();
        flat
    };
    assert_eq!(run(), run());
}

/// All optimizers work through the one generic `Optimizer` interface.
#[test]
fn optimizers_share_one_interface() {
    fn one_step<O: Optimizer<f64, RnnParams<f64, 1, 2, 1>>>(mut opt: O) -> f64 {
        let mut p = RnnParams::<f64, 1, 2, 1>::zeros();
        let mut g = RnnParams::<f64, 1, 2, 1>::zeros();
        g.ba.fill(1.0);
        opt.step(&mut p, &g).unwrap();
        p.ba[0]
    }
    assert_eq!(one_step(Sgd::new(0.5)), -0.5);
    assert_eq!(one_step(Momentum::new(0.5, 0.9)), -0.5);
    assert!((one_step(Adam::new(0.5)) + 0.5).abs() < 1e-7);
}
