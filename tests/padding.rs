//! Weighted targets: a padded batch (padding columns of weight 0) trains and evaluates exactly
//! like the smaller batch without the padding, and an integer weight counts an example that
//! many times, for every target kind and layer kind (f64, to 1e-12).

use nalgebra::SMatrix;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::Target;
use tinyrnn::optim::Adam;
use tinyrnn::train::{Network, Workspace};
use tinyrnn::{Dense, Error, Gru, LstmParams, Model, Params, RnnParams};

const N_X: usize = 2;
const N_Y: usize = 3;
const T_X: usize = 4;

fn flat<P: Params<f64>>(p: &P) -> Vec<f64> {
    p.tensors().flatten().copied().collect()
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() < 1e-12, "{what}[{i}]: {x} vs {y}");
    }
}

/// Columns `cols` of a batch of `M` as a batch of `K`.
fn pick<const R: usize, const M: usize, const K: usize>(
    m: &SMatrix<f64, R, M>,
    cols: [usize; K],
) -> SMatrix<f64, R, K> {
    SMatrix::from_fn(|r, c| m[(r, cols[c])])
}

/// The six target kinds over a batch of `M`, from per-step data.
struct Data<const M: usize> {
    x: [SMatrix<f64, N_X, M>; T_X],
    class: [[usize; M]; T_X],
    prob: [SMatrix<f64, N_Y, M>; T_X],
    value: [SMatrix<f64, N_Y, M>; T_X],
}

impl<const M: usize> Data<M> {
    fn random(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut u = || rng.uniform(-1.0, 1.0);
        let x = core::array::from_fn(|_| SMatrix::from_fn(|_, _| u()));
        let class =
            core::array::from_fn(|_| core::array::from_fn(|_| ((u() + 1.0) * 1.5) as usize % N_Y));
        let prob = core::array::from_fn(|_| {
            let p = SMatrix::<f64, N_Y, M>::from_fn(|_, _| u() + 1.5);
            SMatrix::from_fn(|r, c| p[(r, c)] / p.column(c).sum())
        });
        let value = core::array::from_fn(|_| SMatrix::from_fn(|_, _| u()));
        Data {
            x,
            class,
            prob,
            value,
        }
    }

    fn pick<const K: usize>(&self, cols: [usize; K]) -> Data<K> {
        Data {
            x: self.x.map(|m| pick(&m, cols)),
            class: self.class.map(|k| cols.map(|c| k[c])),
            prob: self.prob.map(|m| pick(&m, cols)),
            value: self.value.map(|m| pick(&m, cols)),
        }
    }

    fn targets(&self) -> [Target<'_, f64, N_Y, M, T_X>; 6] {
        [
            Target::ClassLast(&self.class[T_X - 1]),
            Target::ClassEach(&self.class),
            Target::ProbLast(&self.prob[T_X - 1]),
            Target::ProbEach(&self.prob),
            Target::ValueLast(&self.value[T_X - 1]),
            Target::ValueEach(&self.value),
        ]
    }
}

/// For each target kind: the loss and gradient of `big` weighted by `w` equal those of
/// `small`, and so do the models after 5 Adam steps.
fn check<N, const M: usize, const K: usize>(big: &Data<M>, w: &[f64; M], small: &Data<K>)
where
    N: Network<f64, M, X = SMatrix<f64, N_X, M>, Logits = SMatrix<f64, N_Y, M>>
        + Network<f64, K, X = SMatrix<f64, N_X, K>, Logits = SMatrix<f64, N_Y, K>>
        + Initialize,
{
    let model = N::init(&Init::default(), &mut Rng::new(11));
    let mut ws_m = Box::new(Workspace::<f64, N, M, T_X>::zeros());
    let mut ws_k = Box::new(Workspace::<f64, N, K, T_X>::zeros());
    for (kind, (tm, tk)) in big.targets().into_iter().zip(small.targets()).enumerate() {
        ws_m.zero_grads();
        ws_k.zero_grads();
        let lm = ws_m.accumulate(&model, &big.x, tm.weighted(w)).unwrap();
        let lk = ws_k.accumulate(&model, &small.x, tk).unwrap();
        assert!((lm - lk).abs() < 1e-12, "target {kind}: loss {lm} vs {lk}");
        assert!(lm > 0.0);
        assert_close(
            &flat(ws_m.param_grads()),
            &flat(ws_k.param_grads()),
            "gradient",
        );

        let (mut pm, mut pk) = (model.clone(), model.clone());
        let (mut om, mut ok) = (Adam::new(0.01), Adam::new(0.01));
        for _ in 0..5 {
            ws_m.train_step(&mut pm, &mut om, &big.x, tm.weighted(w))
                .unwrap();
            ws_k.train_step(&mut pk, &mut ok, &small.x, tk).unwrap();
        }
        assert_close(&flat(&pm), &flat(&pk), "trained model");
        assert!(flat(&pm) != flat(&model), "the model trained");
    }
}

/// Three examples padded to five (padding of finite junk, weight 0), for every model kind.
fn padded<N>()
where
    N: Network<f64, 5, X = SMatrix<f64, N_X, 5>, Logits = SMatrix<f64, N_Y, 5>>
        + Network<f64, 3, X = SMatrix<f64, N_X, 3>, Logits = SMatrix<f64, N_Y, 3>>
        + Network<f64, 4, X = SMatrix<f64, N_X, 4>, Logits = SMatrix<f64, N_Y, 4>>
        + Initialize,
{
    let big = Data::<5>::random(7);
    // Real examples in columns 0, 2, 3; padding in 1 and 4.
    check::<N, 5, 3>(&big, &[1.0, 0.0, 1.0, 1.0, 0.0], &big.pick([0, 2, 3]));
    // Weight 2 on column 0 counts it twice: the same as a batch of 4 with it repeated.
    check::<N, 5, 4>(&big, &[2.0, 0.0, 1.0, 1.0, 0.0], &big.pick([0, 0, 2, 3]));
}

#[test]
fn padded_rnn() {
    padded::<RnnParams<f64, N_X, 5, N_Y>>();
}

#[test]
fn padded_lstm() {
    padded::<LstmParams<f64, N_X, 5, N_Y>>();
}

#[test]
fn padded_gru_model() {
    padded::<Model<Gru<f64, N_X, 5>, Dense<f64, 5, N_Y>>>();
}

/// All-ones weights change no bit.
#[test]
fn unit_weights_change_nothing() {
    type N = LstmParams<f64, N_X, 4, N_Y>;
    let d = Data::<3>::random(3);
    let model = N::init(&Init::default(), &mut Rng::new(2));
    let mut ws = Box::new(Workspace::<f64, N, 3, T_X>::zeros());
    for t in d.targets() {
        ws.zero_grads();
        let a = ws.accumulate(&model, &d.x, t).unwrap();
        let ga = flat(ws.param_grads());
        ws.zero_grads();
        let b = ws.accumulate(&model, &d.x, t.weighted(&[1.0; 3])).unwrap();
        assert_eq!(a.to_bits(), b.to_bits());
        assert_eq!(ga, flat(ws.param_grads()));
    }
}

/// Bad weights are typed errors and leave the gradient alone.
#[test]
fn bad_weights_are_errors() {
    type N = RnnParams<f64, N_X, 4, N_Y>;
    let d = Data::<3>::random(4);
    let model = N::init(&Init::default(), &mut Rng::new(2));
    let mut ws = Box::new(Workspace::<f64, N, 3, T_X>::zeros());
    let t = d.targets()[0];
    for w in [
        [0.0, 0.0, 0.0],
        [1.0, -1.0, 1.0],
        [1.0, f64::NAN, 1.0],
        [1.0, f64::INFINITY, 1.0],
        [f64::MAX, f64::MAX, 1.0],
    ] {
        assert!(matches!(
            ws.accumulate(&model, &d.x, t.weighted(&w)),
            Err(Error::InvalidSetting {
                what: "weights",
                ..
            })
        ));
        assert!(flat(ws.param_grads()).iter().all(|&g| g.to_bits() == 0));
    }
}
