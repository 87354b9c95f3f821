//! In-place initialisation and zeroing: `x.init_into(..)` gives `X::init(..)` bit for bit,
//! for every layer kind and composition, whatever `x` held before, and leaves the generator
//! where `init` leaves it; `Zeroed::reset` and `Workspace::reset` give `ZEROS` back.

use nalgebra::SMatrix;
use tinyrnn::init::{Init, Initialize, Rng, WeightInit};
use tinyrnn::loss::{Head, Target};
use tinyrnn::optim::Sgd;
use tinyrnn::params::Zeroed;
use tinyrnn::train::{LstmWorkspace, Workspace};
use tinyrnn::{Bidirectional, Concat, Dense, Gru, Layer, Lstm, LstmParams, Model, Params};
use tinyrnn::{Relu, ResetBefore, Rnn, RnnParams, Sigmoid, Stack, Stack3, Sum, Tanh};

/// Every scalar's bits, in walking order.
fn bits<T: tinyrnn::Real + Into<f64>, P: Params<T>>(p: &P) -> Vec<u64> {
    p.tensors()
        .flatten()
        .map(|&v| Into::<f64>::into(v).to_bits())
        .collect()
}

/// `init_into` on a value full of garbage equals `init`, bit for bit, and draws as many
/// numbers, for two recipes and two seeds.
fn check<T, P>(name: &str)
where
    T: tinyrnn::Real + Into<f64>,
    P: Params<T> + Initialize,
{
    let recipes = [
        Init::default(),
        Init {
            weights: WeightInit::UniformFanIn,
            forget_bias: -0.5,
        },
    ];
    for recipe in &recipes {
        for seed in [0, 12345] {
            let (mut rng_a, mut rng_b) = (Rng::new(seed), Rng::new(seed));
            let fresh = P::init(recipe, &mut rng_a);
            let mut p = P::zeros();
            for t in p.tensors_mut() {
                t.fill(T::lit(f64::NAN));
            }
            p.init_into(recipe, &mut rng_b);
            assert_eq!(
                bits(&p),
                bits(&fresh),
                "{name}: init_into differs from init"
            );
            assert_eq!(rng_a, rng_b, "{name}: init_into drew a different count");
            // Again on the initialised value: still the same.
            let mut rng_c = Rng::new(seed);
            p.init_into(recipe, &mut rng_c);
            assert_eq!(bits(&p), bits(&fresh), "{name}: second init_into differs");
        }
    }
}

#[test]
fn init_into_equals_init_for_every_layer_and_composition() {
    check::<f32, RnnParams<f32, 3, 5, 2>>("RnnParams");
    check::<f64, LstmParams<f64, 3, 5, 2>>("LstmParams");
    check::<f32, LstmParams<f32, 6, 32, 4>>("LstmParams (basic_motions)");
    check::<f32, Rnn<f32, 2, 4>>("Rnn");
    check::<f64, Lstm<f64, 2, 4>>("Lstm");
    check::<f32, Gru<f32, 2, 4>>("Gru");
    check::<f32, Gru<f32, 2, 4, ResetBefore>>("Gru reset-before");
    check::<f32, Dense<f32, 4, 3>>("Dense");
    check::<f64, Dense<f64, 4, 3, Tanh>>("Dense tanh");
    check::<f32, Dense<f32, 4, 3, Sigmoid>>("Dense sigmoid");
    check::<f32, Dense<f32, 4, 3, Relu>>("Dense relu");
    check::<f32, Stack<Lstm<f32, 3, 8>, Gru<f32, 8, 4>>>("Stack");
    check::<f32, Stack3<Dense<f32, 1, 8, Tanh>, Rnn<f32, 8, 8>, Lstm<f32, 8, 4>>>("Stack3");
    check::<f32, Bidirectional<Gru<f32, 3, 4>, Concat<8>>>("Bidirectional concat");
    check::<f64, Bidirectional<Lstm<f64, 3, 4>, Sum>>("Bidirectional sum");
    check::<f32, Model<Gru<f32, 1, 16>, Dense<f32, 16, 2>>>("Model");
    check::<f32, Model<Stack<Gru<f32, 1, 16>, Gru<f32, 16, 16>>, Dense<f32, 16, 2>>>(
        "Model (italy_power's 2-layer GRU)",
    );
    check::<
        f32,
        Model<
            Stack<Bidirectional<Gru<f32, 1, 16>, Concat<32>>, Gru<f32, 32, 16>>,
            Dense<f32, 16, 2>,
        >,
    >("Model (italy_power's BiGRU)");
    check::<f32, Model<Lstm<f32, 1, 16>, Dense<f32, 16, 2>>>("Model (LSTM)");
}

#[test]
fn the_notebook_types_inherent_init_into_is_the_traits() {
    let init = Init::default();
    let mut a = LstmParams::<f32, 3, 5, 2>::zeros();
    let mut b = a;
    a.init_into(&init, &mut Rng::new(3)); // inherent
    Initialize::init_into(&mut b, &init, &mut Rng::new(3));
    assert_eq!(a, b);
    let mut a = RnnParams::<f64, 3, 5, 2>::zeros();
    let mut b = a;
    a.init_into(&init, &mut Rng::new(3));
    Initialize::init_into(&mut b, &init, &mut Rng::new(3));
    assert_eq!(a, b);
}

/// `init_into` into a `static`, as a device would (here behind a `Mutex`).
#[test]
fn init_into_a_static_model() {
    use std::sync::Mutex;
    type Net = Model<Lstm<f32, 3, 16>, Dense<f32, 16, 2>>;
    static NET: Mutex<Net> = Mutex::new(<Net as Params<f32>>::ZEROS);
    let mut net = NET.lock().unwrap();
    net.init_into(&Init::default(), &mut Rng::new(11));
    assert_eq!(*net, Net::init(&Init::default(), &mut Rng::new(11)));
}

#[test]
fn reset_gives_zeros_back() {
    type Net = Model<Stack<Lstm<f32, 2, 4>, Gru<f32, 4, 4>>, Dense<f32, 4, 3>>;
    let net = Net::init(&Init::default(), &mut Rng::new(1));
    let x = [SMatrix::<f32, 2, 2>::repeat(0.5); 6];

    // A layer's tape and state.
    let mut tape = <Net as Layer<f32, 2>>::Tape::<6>::ZEROS;
    net.forward(&x, &Zeroed::ZEROS, &mut tape);
    assert_ne!(tape, Zeroed::ZEROS);
    tape.reset();
    assert_eq!(tape, Zeroed::ZEROS);
    let mut state = <Net as Layer<f32, 2>>::final_state::<6>(&{
        let mut t = <Net as Layer<f32, 2>>::Tape::<6>::ZEROS;
        net.forward(&x, &Zeroed::ZEROS, &mut t);
        t
    });
    assert_ne!(state, Zeroed::ZEROS);
    state.reset();
    assert_eq!(state, Zeroed::ZEROS);

    // A workspace after a training step.
    let mut model = net;
    let mut ws = Workspace::<f32, Net, 2, 6>::zeros();
    ws.train_step(
        &mut model,
        &mut Sgd::new(0.1),
        &x,
        Target::ClassLast(&[0, 2]),
    )
    .unwrap();
    assert!(ws.grads.norm_squared() > 0.0);
    ws.reset();
    assert_eq!(ws.tape, Zeroed::ZEROS);
    assert_eq!(ws.grads, Net::ZEROS);
    assert!(ws.dh.iter().all(|m| m.sum() == 0.0));
    assert!(ws.dx.iter().all(|m| m.sum() == 0.0));
    assert!(ws.y_pred.iter().all(|m| m.sum() == 0.0));

    // The notebook types' tapes and gradients.
    let p = LstmParams::<f64, 2, 3, 2>::init(&Init::default(), &mut Rng::new(2));
    let mut t = p.forward(&[SMatrix::<f64, 2, 1>::repeat(1.0); 4], &SMatrix::zeros());
    let mut g = p.backward(&[SMatrix::repeat(0.1); 4], &t);
    t.reset();
    g.reset();
    assert_eq!(t, tinyrnn::LstmTape::ZEROS);
    assert_eq!(g, tinyrnn::LstmGrads::ZEROS);
    let mut lw = LstmWorkspace::<f64, 2, 3, 2, 1, 4>::zeros();
    lw.predict(&p, &[SMatrix::repeat(1.0); 4], Head::Softmax);
    lw.reset();
    assert!(lw.y_pred.iter().all(|m| m.sum() == 0.0));
}
