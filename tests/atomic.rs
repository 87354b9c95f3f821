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
    ws.train_step(&mut model, &mut small, &x, &labels())
        .unwrap();
    opt.m = small.m.clone();
    opt.v = small.v.clone();
    let (before, m, v) = (bits(&model), bits(&opt.m), bits(&opt.v));
    let err = ws.train_step(&mut model, &mut opt, &x, &labels());
    assert!(matches!(err, Err(Error::NonFiniteUpdate { .. })), "{err:?}");
    assert_eq!(bits(&model), before);
    assert_eq!((bits(&opt.m), bits(&opt.v), opt.steps()), (m, v, 0));
    // The same optimizer with a sane rate then works from the untouched state.
    opt.lr = 1.0e-3;
    ws.train_step(&mut model, &mut opt, &x, &labels()).unwrap();
    assert!(model.tensors().flatten().all(|v| v.is_finite()));
    assert_eq!(opt.steps(), 1);
}

/// `accumulate` with a NaN in `x` used to return `Err` after adding the output layer's
/// gradient.
#[test]
fn accumulate_with_nan_input_leaves_the_gradient_as_it_was() {
    let (model, mut ws, mut x) = setup();
    ws.accumulate(&model, &x, &labels()).unwrap();
    let before = bits(ws.param_grads());
    x[2][(1, 0)] = f32::NAN;
    let err = ws.accumulate(&model, &x, &labels());
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
    let before = (bits(&model), bits(&opt.m), bits(&opt.v));
    ws.zero_grads();
    let mut outcome = Ok(());
    for part in [&x, &bad] {
        if let Err(e) = ws.accumulate(&model, part, &labels()) {
            outcome = Err(e);
        }
    }
    if outcome.is_ok() {
        ws.param_grads_mut().scale(0.5);
        outcome = opt.step(&mut model, ws.param_grads());
    }
    assert!(outcome.is_err(), "the infinite input must be reported");
    assert_eq!((bits(&model), bits(&opt.m), bits(&opt.v)), before);
}

/// Settings that cannot work used to be accepted and to produce a NaN model (or, for a
/// negative clip, ascent).
#[test]
fn settings_that_cannot_work_are_typed_errors_and_change_nothing() {
    let (mut model, mut ws, x) = setup();
    ws.accumulate(&model, &x, &labels()).unwrap();
    let grads = ws.param_grads().clone();
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
