//! The `alloc` feature: workspaces, models, tapes and states on the heap without a copy on
//! the stack. The training runs on threads with a 256 kB stack; `cargo test` builds in debug,
//! where a value built on the stack first would overflow it many times over.
#![cfg(feature = "alloc")]

use nalgebra::SMatrix;
use tinyrnn::boxed::{self, Zeroable};
use tinyrnn::gru::GruGates;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::lstm::{LstmGates, LstmSeqTape, LstmState};
use tinyrnn::optim::{Adam, Clip, Sgd};
use tinyrnn::params::Zeroed;
use tinyrnn::train::{LstmWorkspace, RnnWorkspace, Workspace};
use tinyrnn::{Bidirectional, Concat, Dense, Gru, Layer, Lstm, LstmGrads, LstmParams, LstmTape};
use tinyrnn::{Model, Params, Rnn, RnnGrads, RnnParams, RnnTape, Stack, Stream, Sum, Tanh};

/// A 256 kB stack: what is left of a small thread's stack once its own frames are in.
const SMALL_STACK: usize = 256 << 10;

fn on_small_stack<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(work)
        .expect("spawn")
        .join()
        .expect("the worker panicked (a stack overflow aborts the process instead)")
}

/// A 2-layer body under a dense head, batch 8, 100 steps: a 2.8 MB workspace.
type Big = Model<Stack<Lstm<f32, 6, 64>, Gru<f32, 64, 64>>, Dense<f32, 64, 4>>;
type BigWs = Workspace<f32, Big, 8, 100>;

#[test]
fn a_large_workspace_trains_on_a_small_stack() {
    assert!(size_of::<BigWs>() > 2_500_000, "{}", size_of::<BigWs>());
    let losses = on_small_stack(|| {
        let mut net = boxed::init::<Big>(&Init::default(), &mut Rng::new(1));
        let mut ws = BigWs::boxed();
        let x: [SMatrix<f32, 6, 8>; 100] =
            core::array::from_fn(|t| SMatrix::from_fn(|r, c| ((t + r + 3 * c) % 7) as f32 * 0.1));
        let labels = [0, 1, 2, 3, 3, 2, 1, 0];
        let mut opt = Sgd::new(0.05).with_clip(Clip::GlobalNorm(1.0));
        let losses: Vec<f32> = (0..3)
            .map(|_| {
                ws.train_step(&mut net, &mut opt, &x, Target::ClassLast(&labels))
                    .unwrap()
            })
            .collect();
        let y = ws.predict(&net, &x, Head::Softmax);
        assert!((y[99].column(0).sum() - 1.0).abs() < 1e-5);
        ws.tape.reset(); // `Zeroed::reset`, 2.7 MB in place
        ws.reset();
        assert!(ws.y_pred.iter().all(|m| m.sum() == 0.0));
        // Streaming state on the heap too.
        let mut stream = boxed::zeroed::<Stream<f32, Big, 8>>();
        let z = stream.step(&net, &x[0]);
        assert!(z.iter().all(|v| v.is_finite()));
        losses
    });
    assert!(
        losses.iter().all(|l| l.is_finite() && *l > 0.0),
        "{losses:?}"
    );
    assert!(losses[2] < losses[0], "{losses:?}");
}

/// The examples' configurations, each trained one step with the optimizer the example uses,
/// in its own function (in a debug build a function's frame holds all its locals at once).
#[test]
fn the_examples_workspaces_train_on_a_small_stack() {
    on_small_stack(|| {
        basic_motions::<10>();
        basic_motions::<100>(); // the same series unpooled (benches/train_time.rs, config B)
        italy_power::<Gru2>(0.001);
        italy_power::<BiGru>(0.001);
        italy_power::<Lstm1>(0.003);
        // The widest model of italy_power's `--tune` grid, with plain SGD.
        type Gru2Wide = Model<Stack<Gru<f32, 1, 32>, Gru<f32, 32, 32>>, Dense<f32, 32, 2>>;
        let mut m = boxed::init::<Gru2Wide>(&Init::default(), &mut Rng::new(1));
        let x = [SMatrix::<f32, 1, 8>::repeat(0.3); 24];
        Workspace::<f32, Gru2Wide, 8, 24>::boxed()
            .train_step(&mut m, &mut Sgd::new(0.01), &x, Target::ClassLast(&[1; 8]))
            .unwrap();
    });
}

/// examples/basic_motions.rs: an LSTM of 32 units on 6 channels, 4 classes, batch 8, Adam.
#[inline(never)]
fn basic_motions<const T_X: usize>() {
    type Bm = LstmParams<f32, 6, 32, 4>;
    let mut model = boxed::init::<Bm>(&Init::default(), &mut Rng::new(42));
    let mut opt = Adam::new(0.005).with_clip(Clip::GlobalNorm(1.0));
    let mut ws = LstmWorkspace::<f32, 6, 32, 4, 8, T_X>::boxed();
    let x = [SMatrix::<f32, 6, 8>::repeat(0.2); T_X];
    let labels = [0, 1, 2, 3, 0, 1, 2, 3];
    let loss = ws.train_step(&mut model, &mut opt, &x, Target::ClassLast(&labels));
    assert!(loss.unwrap() > 0.0);
}

type Gru2 = Model<Stack<Gru<f32, 1, 16>, Gru<f32, 16, 16>>, Dense<f32, 16, 2>>;
type BiGru =
    Model<Stack<Bidirectional<Gru<f32, 1, 16>, Concat<32>>, Gru<f32, 32, 16>>, Dense<f32, 16, 2>>;
type Lstm1 = Model<Lstm<f32, 1, 16>, Dense<f32, 16, 2>>;

/// examples/italy_power.rs: one series of 24 steps, 2 classes, batch 4, Adam.
#[inline(never)]
fn italy_power<N>(lr: f32)
where
    N: tinyrnn::train::Network<f32, 4, X = SMatrix<f32, 1, 4>, Logits = SMatrix<f32, 2, 4>>
        + Initialize
        + Zeroable,
    Workspace<f32, N, 4, 24>: Zeroable,
{
    let mut m = boxed::init::<N>(&Init::default(), &mut Rng::new(1));
    let mut opt = Adam::new(lr).with_clip(Clip::GlobalNorm(1.0));
    let x = [SMatrix::<f32, 1, 4>::repeat(0.3); 24];
    let loss = Workspace::<f32, N, 4, 24>::boxed().train_step(
        &mut m,
        &mut opt,
        &x,
        Target::ClassLast(&[0, 1, 0, 1]),
    );
    assert!(loss.unwrap() > 0.0);
}

/// `boxed::zeroed::<X>()` is `X::ZEROS` for every kind of type with a `ZEROS`. (Each
/// `&X::ZEROS` is a promoted constant, not a value on the stack.)
#[test]
fn zeroed_is_zeros() {
    fn zeroed_eq<X: Zeroable + PartialEq + core::fmt::Debug>(zeros: &X) {
        assert_eq!(&*boxed::zeroed::<X>(), zeros);
        assert_eq!(&*boxed::try_zeroed::<X>().unwrap(), zeros);
    }
    macro_rules! check {
        ($($trait:path => $ty:ty;)*) => {$(
            zeroed_eq::<$ty>(&<$ty as $trait>::ZEROS);
        )*};
    }
    type BigTape = <Big as Layer<f32, 8>>::Tape<100>;
    type BiTape = <Bidirectional<Gru<f32, 2, 3>, Concat<6>> as Layer<f32, 2>>::Tape<5>;
    check! {
        Params<f32> => RnnParams<f32, 3, 5, 2>;
        Params<f64> => LstmParams<f64, 3, 5, 2>;
        Params<f32> => Rnn<f32, 3, 5>;
        Params<f32> => Lstm<f32, 3, 5>;
        Params<f32> => Gru<f32, 3, 5>;
        Params<f32> => Dense<f32, 3, 5, Tanh>;
        Params<f32> => Bidirectional<Lstm<f32, 3, 5>, Sum>;
        Params<f32> => Big;
        Zeroed => RnnTape<f32, 3, 5, 2, 4, 7>;
        Zeroed => RnnGrads<f32, 3, 5, 2, 4, 7>;
        Zeroed => LstmTape<f32, 3, 5, 2, 4, 7>;
        Zeroed => LstmGrads<f64, 3, 5, 2, 4, 7>;
        Zeroed => LstmState<f32, 5, 4>;
        Zeroed => LstmSeqTape<f32, 5, 4, 7>;
        Zeroed => GruGates<f32, 5, 4>;
        Zeroed => BigTape;
        Zeroed => <Big as Layer<f32, 8>>::State;
        Zeroed => BiTape;
    }
    zeroed_eq(&LstmGates::<f32, 5, 4>::ZEROS);
    let stream = boxed::zeroed::<Stream<f32, Big>>();
    assert_eq!(*stream.state(), <Big as Layer<f32, 1>>::State::ZEROS);
    let ws = boxed::zeroed::<RnnWorkspace<f64, 2, 3, 2, 4, 5>>();
    let zeros = RnnWorkspace::<f64, 2, 3, 2, 4, 5>::zeros();
    assert_eq!(ws.tape, zeros.tape);
    assert_eq!(ws.grads, zeros.grads);
    assert_eq!(
        (ws.dh, ws.dx, ws.y_pred),
        (zeros.dh, zeros.dx, zeros.y_pred)
    );
}

#[test]
fn boxed_init_is_init() {
    fn same<N: Initialize + Zeroable + PartialEq + core::fmt::Debug>() {
        for seed in [0, 7] {
            let b = boxed::init::<N>(&Init::default(), &mut Rng::new(seed));
            assert_eq!(*b, N::init(&Init::default(), &mut Rng::new(seed)));
        }
    }
    same::<RnnParams<f32, 3, 5, 2>>();
    same::<LstmParams<f64, 3, 5, 2>>();
    same::<Model<Stack<Rnn<f32, 2, 4>, Lstm<f32, 4, 4>>, Dense<f32, 4, 2>>>();
    same::<Bidirectional<Gru<f32, 2, 3>, Concat<6>>>();
    same::<Big>();
}

/// An optimizer's state on the heap: settings joined to a boxed zero state step exactly like an
/// optimizer that owns its state.
#[test]
fn boxed_adam_state_steps_like_an_owned_one() {
    use tinyrnn::optim::{Adam, AdamState, Optimizer};
    use tinyrnn::{LstmParams, Params};
    type P = LstmParams<f32, 3, 8, 2>;
    let mut g = P::zeros();
    g.bf.fill(0.5);
    g.by.fill(-0.25);
    let (mut p1, mut p2) = (P::zeros(), P::zeros());
    let mut owned = Adam::<f32, P>::new(1e-2);
    let mut boxed = Adam::<f32, P, ()>::settings(1e-2, 0.9, 0.999, 1e-8)
        .with_state(tinyrnn::boxed::zeroed::<AdamState<f32, P>>());
    for _ in 0..3 {
        owned.step(&mut p1, &g).unwrap();
        boxed.step(&mut p2, &g).unwrap();
    }
    assert_eq!(p1, p2);
    assert_eq!(*boxed.state, owned.state);
    assert_eq!(boxed.state.steps(), 3);
}
