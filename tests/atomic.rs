//! Issue 10's reported failures, as regression tests: a fallible training call either succeeds
//! and leaves finite state, or returns a typed error and changes nothing (model, gradient and
//! optimizer state compared bit for bit).

use nalgebra::SMatrix;
use tinyrnn::init::{Init, Rng};
use tinyrnn::loss::Target;
use tinyrnn::optim::{Adam, Clip, Momentum, Optimizer, Sgd};
use tinyrnn::train::LstmWorkspace;
use tinyrnn::{Error, LstmParams, Params};

type Model = LstmParams<f32, 2, 4, 3>;
type Ws = LstmWorkspace<f32, 2, 4, 3, 2, 5>;

fn setup() -> (Model, Box<Ws>, [SMatrix<f32, 2, 2>; 5]) {
    let model = Model::init(&Init::default(), &mut Rng::new(3));
    let x = core::array::from_fn(|t| SMatrix::from_fn(|r, c| (t + r + 2 * c) as f32 * 0.1 - 0.3));
    (model, Box::new(Ws::zeros()), x)
}

fn labels() -> Target<'static, f32, 3, 2, 5> {
    Target::ClassLast(&[0, 2])
}

/// Bit patterns of every parameter (so that NaN == NaN and -0 != 0).
fn bits<P: Params<f32>>(p: &P) -> Vec<u32> {
    p.tensors()
        .flat_map(|t| t.iter().map(|v| v.to_bits()))
        .collect()
}

/// Adam with a huge learning rate used to return `Ok` and leave `inf` in a weight.
#[test]
fn adam_step_that_would_overflow_is_an_error_and_changes_nothing() {
    let (mut model, mut ws, x) = setup();
    let mut opt = Adam::<f32, Model>::new(1.0e38);
    // A first, finite step gives the moments non-zero values to compare.
    let mut small = Adam::<f32, Model>::new(1.0e-3);
    ws.train_step(&mut model, &mut small, &x, labels()).unwrap();
    opt.state.m = small.state.m;
    opt.state.v = small.state.v;
    let (before, m, v) = (bits(&model), bits(&opt.state.m), bits(&opt.state.v));
    let err = ws.train_step(&mut model, &mut opt, &x, labels());
    assert!(matches!(err, Err(Error::NonFiniteUpdate { .. })), "{err:?}");
    assert_eq!(bits(&model), before);
    assert_eq!(
        (bits(&opt.state.m), bits(&opt.state.v), opt.state.steps()),
        (m, v, 0)
    );
    // The same optimizer with a sane rate then works from the untouched state.
    opt.lr = 1.0e-3;
    ws.train_step(&mut model, &mut opt, &x, labels()).unwrap();
    assert!(model.tensors().flatten().all(|v| v.is_finite()));
    assert_eq!(opt.state.steps(), 1);
}

/// `accumulate` with a NaN in `x` used to return `Err` after adding the output layer's
/// gradient.
#[test]
fn accumulate_with_nan_input_leaves_the_gradient_as_it_was() {
    let (model, mut ws, mut x) = setup();
    ws.accumulate(&model, &x, labels()).unwrap();
    let before = bits(ws.param_grads());
    x[2][(1, 0)] = f32::NAN;
    let err = ws.accumulate(&model, &x, labels());
    assert!(
        matches!(err, Err(Error::NonFinite { what: "loss", .. })),
        "{err:?}"
    );
    assert_eq!(bits(ws.param_grads()), before);
}

/// The README's mini-batch recipe with `+inf` in one part: `opt.step` used to write NaN into
/// the model and report nothing.
#[test]
fn minibatch_recipe_with_an_infinite_input_does_not_reach_the_model() {
    let (mut model, mut ws, x) = setup();
    let mut bad = x;
    bad[1][(0, 1)] = f32::INFINITY;
    let mut opt = Adam::<f32, Model>::new(1.0e-2);
    let before = (bits(&model), bits(&opt.state.m), bits(&opt.state.v));
    ws.zero_grads();
    let mut outcome = Ok(());
    for part in [&x, &bad] {
        if let Err(e) = ws.accumulate(&model, part, labels()) {
            outcome = Err(e);
        }
    }
    if outcome.is_ok() {
        ws.param_grads_mut().scale(0.5);
        outcome = opt.step(&mut model, ws.param_grads());
    }
    assert!(outcome.is_err(), "the infinite input must be reported");
    assert_eq!(
        (bits(&model), bits(&opt.state.m), bits(&opt.state.v)),
        before
    );
}

/// Settings that cannot work used to be accepted and to produce a NaN model (or, for a
/// negative clip, ascent).
#[test]
fn settings_that_cannot_work_are_typed_errors_and_change_nothing() {
    let (mut model, mut ws, x) = setup();
    ws.accumulate(&model, &x, labels()).unwrap();
    let grads = *ws.param_grads();
    let before = bits(&model);
    let invalid = |r: Result<(), Error>, what: &str| match r {
        Err(Error::InvalidSetting { what: w, .. }) => assert_eq!(w, what),
        other => panic!("{what}: {other:?}"),
    };
    invalid(Sgd::new(f32::INFINITY).step(&mut model, &grads), "lr");
    invalid(Sgd::new(0.0).step(&mut model, &grads), "lr");
    invalid(
        Momentum::<f32, Model>::new(0.1, f32::NAN).step(&mut model, &grads),
        "momentum",
    );
    invalid(
        Momentum::<f32, Model>::new(0.1, 1.0).step(&mut model, &grads),
        "momentum",
    );
    invalid(
        Adam::<f32, Model>::new(f32::NAN).step(&mut model, &grads),
        "lr",
    );
    let hp = |b1, b2, eps| Adam::<f32, Model>::with_hyperparameters(1e-3, b1, b2, eps);
    invalid(hp(1.0, 0.999, 1e-8).step(&mut model, &grads), "beta1");
    invalid(hp(0.9, 1.0, 1e-8).step(&mut model, &grads), "beta2");
    invalid(hp(0.9, 0.999, 0.0).step(&mut model, &grads), "eps");
    for clip in [
        Clip::GlobalNorm(-1.0),
        Clip::Value(-1.0),
        Clip::Value(f32::NAN),
    ] {
        invalid(
            Sgd::new(0.1).with_clip(clip).step(&mut model, &grads),
            "clip threshold",
        );
        invalid(clip.validate(), "clip threshold");
    }
    assert_eq!(bits(&model), before);
    // Where they are made: the builders' `checked()` and the initialisation recipe.
    assert!(Adam::<f32, Model>::new(f32::NAN).checked().is_err());
    assert!(Sgd::new(0.1_f32)
        .with_clip(Clip::Value(-1.0))
        .checked()
        .is_err());
    assert!(Momentum::<f32, Model>::new(0.1, 1.5).checked().is_err());
    use tinyrnn::init::WeightInit;
    assert!(Init::new(WeightInit::GlorotUniform, f64::NAN).is_err());
    let nan_bias = Init {
        weights: WeightInit::GlorotUniform,
        forget_bias: f64::NAN,
    };
    invalid(nan_bias.validate(), "forget_bias");
    // And the valid settings still step.
    Sgd::new(0.1)
        .with_clip(Clip::GlobalNorm(1.0))
        .step(&mut model, &grads)
        .unwrap();
    assert_ne!(bits(&model), before);
}

/// An error names the tensor and the index, and reads as a sentence.
#[test]
fn non_finite_update_names_the_tensor() {
    let mut model = Model::zeros();
    let mut grads = Model::zeros();
    grads.wia[(1, 2)] = f32::MAX;
    let err = Sgd::new(f32::MAX).step(&mut model, &grads).unwrap_err();
    // wia is column-major: (1, 2) of a 4-row matrix is index 9.
    assert_eq!(
        err,
        Error::NonFiniteUpdate {
            what: "wia",
            index: 9
        }
    );
    assert_eq!(
        err.to_string(),
        "wia: the update at index 9 would be NaN or infinite; nothing was changed"
    );
    assert_eq!(model, Model::zeros());
}

/// `Target::at(usize::MAX)` used to overflow an addition (a panic in debug builds).
#[test]
fn target_at_any_index_does_not_panic() {
    let labels = [0_usize, 1];
    let t = Target::<f32, 3, 2, 5>::ClassLast(&labels);
    assert!(t.at(usize::MAX).is_none());
    assert!(t.at(4).is_some());
    let each = [[0_usize, 1]; 5];
    assert!(Target::<f32, 3, 2, 5>::ClassEach(&each)
        .at(usize::MAX)
        .is_none());
}

/// A NaN sample makes a stream's state NaN for good; `reset()` recovers it exactly.
#[test]
fn a_stream_recovers_from_a_nan_sample_by_reset_only() {
    use tinyrnn::init::Initialize;
    use tinyrnn::{params::check_finite, Gru, Lstm, Stack, Stream};
    type Body = Stack<Lstm<f32, 2, 4>, Gru<f32, 4, 3>>;
    let body = Body::init(&Init::default(), &mut Rng::new(9));
    let sample = |k: usize| SMatrix::<f32, 2, 1>::new(0.1 * k as f32, -0.2);
    let mut fresh = Stream::<f32, Body>::new();
    let clean: Vec<_> = (0..6).map(|k| fresh.step(&body, &sample(k))).collect();

    let mut s = Stream::<f32, Body>::new();
    let bad = SMatrix::<f32, 2, 1>::new(f32::NAN, 0.0);
    assert!(check_finite("x", &bad).is_err());
    s.step(&body, &bad);
    for k in 0..20 {
        let y = s.step(&body, &sample(k % 6));
        assert!(y.iter().all(|v| v.is_nan()), "step {k}: the NaN stays");
    }
    s.reset();
    for (k, want) in clean.iter().enumerate() {
        assert_eq!(s.step(&body, &sample(k)), *want, "after reset, step {k}");
    }
}

/// The documented range (README, "Guarantees"): with every weight and input within `B`, where
/// `(N_IN + N_A + 1)·B·max(B, 1) ≤ T::MAX`, no product or sum overflows and every output and
/// state is finite. Checked at the edge, with the signs arranged so that the sums add up.
#[test]
fn finite_inputs_within_the_documented_range_give_finite_outputs() {
    use tinyrnn::lstm::LstmState;
    use tinyrnn::params::Zeroed;
    use tinyrnn::{Gru, Layer, Lstm};
    const N_X: usize = 3;
    const N_A: usize = 4;
    let b = (f32::MAX / (N_X + N_A + 1) as f32).sqrt() * 0.999;
    let mut lstm = Lstm::<f32, N_X, N_A>::zeros();
    let mut gru = Gru::<f32, N_X, N_A>::zeros();
    for t in lstm.tensors_mut().chain(gru.tensors_mut()) {
        t.fill(b);
    }
    let x = [SMatrix::<f32, N_X, 1>::repeat(b); 6];
    let mut tape = <Lstm<f32, N_X, N_A> as Layer<f32, 1>>::Tape::<6>::ZEROS;
    lstm.forward(&x, &LstmState::ZEROS, &mut tape);
    let y = <Lstm<f32, N_X, N_A> as Layer<f32, 1>>::output(&tape);
    assert!(y.iter().flatten().all(|v| v.is_finite()), "LSTM: {y:?}");
    let mut tape = <Gru<f32, N_X, N_A> as Layer<f32, 1>>::Tape::<6>::ZEROS;
    gru.forward(&x, &SMatrix::zeros(), &mut tape);
    let y = <Gru<f32, N_X, N_A> as Layer<f32, 1>>::output(&tape);
    assert!(y.iter().flatten().all(|v| v.is_finite()), "GRU: {y:?}");
    // Beyond it, the sums overflow: +∞ and −∞ meet and give NaN.
    let mut lstm = Lstm::<f32, N_X, N_A>::zeros();
    lstm.wfx.column_mut(0).fill(1.0e20); // 1e20 · 1e20 = +∞
    lstm.wfx.column_mut(1).fill(-1.0e20); // … + (−∞) = NaN
    let x = [SMatrix::<f32, N_X, 1>::repeat(1.0e20); 6];
    let mut tape = <Lstm<f32, N_X, N_A> as Layer<f32, 1>>::Tape::<6>::ZEROS;
    lstm.forward(&x, &LstmState::ZEROS, &mut tape);
    let y = <Lstm<f32, N_X, N_A> as Layer<f32, 1>>::output(&tape);
    assert!(y.iter().flatten().any(|v| v.is_nan()));
}

/// A gradient that overflows inside the backward pass (finite input, finite loss): with a huge
/// output layer and huge inputs behind zero input weights, `dWax = Σ da·xᵀ ≈ 1e30·1e10`
/// overflows f32. `accumulate` reports it; from a zeroed gradient (as in `train_step`) the
/// gradient is zero again, bit for bit, and `train_step` leaves model and optimizer alone.
#[test]
fn gradient_overflow_in_the_backward_pass_is_an_error() {
    type Rnn = tinyrnn::RnnParams<f32, 1, 3, 2>;
    type RnnWs = tinyrnn::train::RnnWorkspace<f32, 1, 3, 2, 1, 2>;
    let mut model = Rnn::zeros();
    model.ba.fill(0.5);
    model.wya.fill(1e30);
    model.wya[(1, 0)] = -1e30;
    let x = [SMatrix::<f32, 1, 1>::repeat(1e10); 2];
    let target = Target::ClassLast(&[1]); // far from the predicted class 0: dz = (1, −1)
    let mut ws = Box::new(RnnWs::zeros());
    let err = ws.accumulate(&model, &x, target).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { what: "wax", .. }),
        "{err:?}"
    );
    assert!(bits(&ws.grads).iter().all(|&b| b == 0));
    // The same through train_step: the model and Adam's state are untouched.
    let mut opt = Adam::<f32, Rnn>::new(1e-3);
    let (before, m) = (bits(&model), bits(&opt.state.m));
    assert!(ws.train_step(&mut model, &mut opt, &x, target).is_err());
    assert_eq!(
        (bits(&model), bits(&opt.state.m), opt.state.steps()),
        (before, m, 0)
    );
    // Added to a gradient that was not zero: still reported, at the accumulate call.
    ws.grads.by.fill(1.0);
    assert!(ws.accumulate(&model, &x, target).is_err());
    // Without the huge inputs the same model trains.
    let x = [SMatrix::<f32, 1, 1>::repeat(1.0); 2];
    ws.zero_grads();
    assert!(ws.accumulate(&model, &x, target).is_ok());
}
