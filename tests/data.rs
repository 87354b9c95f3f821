//! `tinyrnn::data` and the evaluation methods of `Workspace`: packing round trips, padding
//! (zero columns of weight 0, also over a batch that held cases before), a dataset in padded
//! batches giving the loss, gradient and confusion matrix of the whole dataset in one batch,
//! `evaluate` against `accumulate` and a hand count, and `predict_last` against the last step
//! of `predict` bit for bit for every network kind.

use nalgebra::{SMatrix, SVector};
use tinyrnn::data::{argmax, batches, mask, pack_columns, pack_sequence, Batch, Confusion};
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::train::{Network, Workspace};
use tinyrnn::{
    Bidirectional, Concat, Dense, Error, Gru, Lstm, LstmParams, Model, Params, Real, RnnParams,
    Stack,
};

const N_X: usize = 3;
const N_Y: usize = 4;
const T_X: usize = 6;

/// A case as the examples keep it: `series[t][c]` and a class.
type Case = ([[f64; N_X]; T_X], usize);

fn dataset(n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let x = core::array::from_fn(|_| core::array::from_fn(|_| rng.uniform(-1.0, 1.0)));
            let class = (rng.uniform(0.0, N_Y as f64) as usize).min(N_Y - 1);
            (x, class)
        })
        .collect()
}

fn input(cases: &[Case]) -> impl FnMut(usize, usize) -> SVector<f64, N_X> + '_ {
    |i, t| cases[i].0[t].into()
}

fn flat<P: Params<f64>>(p: &P) -> Vec<f64> {
    p.tensors().flatten().copied().collect()
}

#[test]
fn batches_cover_the_order_in_chunks_of_m() {
    let order: Vec<usize> = (0..11).rev().collect();
    let chunks: Vec<&[usize]> = batches::<4>(&order).collect();
    assert_eq!(chunks.len(), 3);
    assert_eq!(
        chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
        [4, 4, 3]
    );
    assert_eq!(chunks.concat(), order);
    assert_eq!(batches::<4>(&[]).count(), 0);
}

#[test]
fn fill_round_trips_every_case_and_step() {
    let cases = dataset(10, 1);
    let mut order: Vec<usize> = (0..cases.len()).collect();
    Rng::new(3).shuffle(&mut order);
    let mut batch = Batch::<f64, N_X, 4, T_X>::zeros();
    let mut seen = Vec::new();
    for idx in batches::<4>(&order) {
        let n = batch.fill(idx, input(&cases), |i| cases[i].1);
        assert_eq!((n, batch.cases), (idx.len(), idx.len()));
        for (j, &i) in idx.iter().enumerate() {
            for t in 0..T_X {
                assert_eq!(batch.x[t].column(j).as_slice(), &cases[i].0[t]);
            }
            assert_eq!(batch.labels[j], cases[i].1);
            assert_eq!(batch.weights[j], 1.0);
            seen.push(i);
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..cases.len()).collect::<Vec<_>>());
}

#[test]
fn padding_is_zero_with_weight_zero_after_a_full_batch() {
    let cases = dataset(5, 2);
    let mut batch = Batch::<f64, N_X, 4, T_X>::zeros();
    batch.fill(&[0, 1, 2, 3], input(&cases), |i| cases[i].1 + 1);
    assert!(batch.x.iter().all(|x| x.iter().all(|&v| v != 0.0)));
    // A short batch over the same storage: nothing of the previous cases is left.
    assert_eq!(batch.fill(&[4], input(&cases), |_| 3), 1);
    for (x, s) in batch.x.iter().zip(&cases[4].0) {
        assert_eq!(x.column(0).as_slice(), s);
        assert!(x.columns_range(1..).iter().all(|&v| v.to_bits() == 0));
    }
    assert_eq!(batch.labels, [3, 0, 0, 0]);
    assert_eq!(batch.weights, [1.0, 0.0, 0.0, 0.0]);
    // More indices than columns: the first M are packed, the rest not read.
    assert_eq!(batch.fill(&[0, 1, 2, 3, 99], input(&cases), |i| i), 4);
    assert_eq!(batch.labels, [0, 1, 2, 3]);
    // No cases at all: every column is padding.
    assert_eq!(batch.fill(&[], input(&cases), |i| i), 0);
    assert_eq!(batch, Batch::ZEROS);
}

#[test]
fn low_level_packers_agree_with_batch() {
    let cases = dataset(3, 4);
    let mut batch = Batch::<f64, N_X, 5, T_X>::zeros();
    batch.fill(&[2, 0, 1], input(&cases), |i| cases[i].1);
    let mut x = [SMatrix::<f64, N_X, 5>::repeat(7.0); T_X];
    assert_eq!(pack_sequence(&[2, 0, 1], &mut x, input(&cases)), 3);
    assert_eq!(x, batch.x);
    let mut w = [0.5; 5];
    mask(3, &mut w);
    assert_eq!(w, batch.weights);
    let mut v = SMatrix::<f64, 2, 5>::repeat(7.0);
    assert_eq!(
        pack_columns(&[2, 0, 1], &mut v, |i| [i as f64, 1.0].into()),
        3
    );
    assert_eq!(
        v,
        SMatrix::<f64, 2, 5>::new(2.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    );
}

/// A dataset of 11 in batches of 4 (the last one padded by one column) gives the loss,
/// gradient and confusion matrix of the same 11 cases as one batch: each batch's loss is a
/// mean over its cases, so a sum weighted by the cases per batch.
fn dataset_in_padded_batches<N>(seed: u64)
where
    N: Network<f64, 4, X = SMatrix<f64, N_X, 4>, Logits = SMatrix<f64, N_Y, 4>>
        + Network<f64, 11, X = SMatrix<f64, N_X, 11>, Logits = SMatrix<f64, N_Y, 11>>
        + Initialize,
{
    let cases = dataset(11, seed);
    let model = N::init(&Init::default(), &mut Rng::new(seed));
    let mut order: Vec<usize> = (0..cases.len()).collect();
    Rng::new(seed + 1).shuffle(&mut order);

    let mut ws4 = Box::new(Workspace::<f64, N, 4, T_X>::zeros());
    let mut batch = Batch::<f64, N_X, 4, T_X>::zeros();
    let (mut loss, mut eval_loss, mut conf) = (0.0, 0.0, Confusion::<N_Y>::new());
    let mut grad = vec![0.0; <N as Params<f64>>::LEN];
    for idx in batches::<4>(&order) {
        let n = batch.fill(idx, input(&cases), |i| cases[i].1);
        ws4.zero_grads();
        let l = ws4
            .accumulate(&model, &batch.x, batch.class_last())
            .unwrap();
        let e = ws4
            .evaluate(&model, &batch.x, batch.class_last(), &mut conf)
            .unwrap();
        assert_eq!(l.to_bits(), e.to_bits(), "evaluate's loss is accumulate's");
        loss += l * n as f64;
        eval_loss += e * n as f64;
        for (g, b) in grad.iter_mut().zip(flat(ws4.param_grads())) {
            *g += b * n as f64;
        }
    }
    let n = cases.len() as f64;
    let all: Vec<usize> = (0..cases.len()).collect();
    let mut ws = Box::new(Workspace::<f64, N, 11, T_X>::zeros());
    let mut whole = Batch::<f64, N_X, 11, T_X>::zeros();
    whole.fill(&all, input(&cases), |i| cases[i].1);
    let mut whole_conf = Confusion::new();
    let whole_loss = ws
        .evaluate(&model, &whole.x, batch_target(&whole), &mut whole_conf)
        .unwrap();
    assert!(
        (loss / n - whole_loss).abs() < 1e-12,
        "{} vs {whole_loss}",
        loss / n
    );
    assert!((eval_loss / n - whole_loss).abs() < 1e-12);
    assert_eq!(conf, whole_conf);
    assert_eq!(conf.total(), 11);
    let whole_grad = ws.accumulate(&model, &whole.x, batch_target(&whole));
    assert!(whole_grad.is_ok());
    for (g, w) in grad.iter().zip(flat(ws.param_grads())) {
        assert!((g / n - w).abs() < 1e-12, "gradient {} vs {w}", g / n);
    }
}

/// `Batch::class_last` through a plain function, to check that `N_Y` is inferred.
fn batch_target<const M: usize>(
    b: &Batch<f64, N_X, M, T_X>,
) -> tinyrnn::loss::Weighted<'_, f64, N_Y, M, T_X> {
    b.class_last()
}

#[test]
fn padded_batches_equal_one_batch_lstm() {
    dataset_in_padded_batches::<LstmParams<f64, N_X, 5, N_Y>>(1);
}

#[test]
fn padded_batches_equal_one_batch_rnn() {
    dataset_in_padded_batches::<RnnParams<f64, N_X, 5, N_Y>>(2);
}

#[test]
fn padded_batches_equal_one_batch_gru_stack() {
    dataset_in_padded_batches::<Model<Stack<Gru<f64, N_X, 4>, Gru<f64, 4, 4>>, Dense<f64, 4, N_Y>>>(
        3,
    );
}

/// `evaluate` counts (class, argmax of the last-step logits) for every case and nothing for
/// padding, and its loss and predictions are `accumulate`'s.
#[test]
fn evaluate_counts_what_predict_last_predicts() {
    type N = LstmParams<f64, N_X, 6, N_Y>;
    let cases = dataset(7, 5);
    let model = N::init(&Init::default(), &mut Rng::new(5));
    let mut ws = Box::new(Workspace::<f64, N, 4, T_X>::zeros());
    let mut batch = Batch::<f64, N_X, 4, T_X>::zeros();
    let mut conf = Confusion::<N_Y>::new();
    let mut hand = [[0_u32; N_Y]; N_Y];
    let order: Vec<usize> = (0..cases.len()).collect();
    for idx in batches::<4>(&order) {
        batch.fill(idx, input(&cases), |i| cases[i].1);
        let z = *ws.predict_last(&model, &batch.x, Head::Linear);
        for (j, &i) in idx.iter().enumerate() {
            hand[cases[i].1][argmax(&z, j)] += 1;
        }
        ws.evaluate(&model, &batch.x, batch.class_last(), &mut conf)
            .unwrap();
        // The predictions left in `y_pred` are the softmax of those logits for the cases.
        let y = ws.y_pred[T_X - 1];
        let mut p = z;
        Head::Softmax.apply(&mut p);
        for j in 0..idx.len() {
            assert_eq!(y.column(j), p.column(j));
        }
    }
    assert_eq!(conf.counts, hand);
    assert_eq!(conf.total(), 7);
    assert!(conf.accuracy() >= 0.0 && conf.accuracy() <= 1.0);
    let correct: u32 = (0..N_Y).map(|k| hand[k][k]).sum();
    assert_eq!(conf.correct(), u64::from(correct));
    // add_batch on the same logits counts the same.
    let mut again = Confusion::new();
    for idx in batches::<4>(&order) {
        batch.fill(idx, input(&cases), |i| cases[i].1);
        let z = *ws.predict_last(&model, &batch.x, Head::Linear);
        again.add_batch(&z, &batch.labels, &batch.weights);
    }
    assert_eq!(again, conf);
}

#[test]
fn evaluate_other_targets_and_errors() {
    type N = RnnParams<f64, N_X, 5, N_Y>;
    let cases = dataset(4, 6);
    let model = N::init(&Init::default(), &mut Rng::new(6));
    let mut ws = Box::new(Workspace::<f64, N, 4, T_X>::zeros());
    let mut batch = Batch::<f64, N_X, 4, T_X>::zeros();
    batch.fill(&[0, 1, 2], input(&cases), |i| cases[i].1);
    let mut conf = Confusion::<N_Y>::new();

    // ClassEach: every step of every case.
    let each = [batch.labels; T_X];
    let t = Target::ClassEach(&each).weighted(&batch.weights);
    let l = ws.evaluate(&model, &batch.x, t, &mut conf).unwrap();
    assert_eq!(conf.total(), (3 * T_X) as u64);
    ws.zero_grads();
    assert_eq!(
        l.to_bits(),
        ws.accumulate(&model, &batch.x, t).unwrap().to_bits()
    );

    // A value target: a loss, no counts.
    let v = SMatrix::<f64, N_Y, 4>::repeat(0.5);
    let before = conf;
    let l = ws
        .evaluate(&model, &batch.x, Target::ValueLast(&v), &mut conf)
        .unwrap();
    assert!(l > 0.0);
    assert_eq!(conf, before);

    // Errors leave the counts alone.
    let bad = [0, N_Y, 0, 0];
    assert_eq!(
        ws.evaluate(&model, &batch.x, Target::ClassLast(&bad), &mut conf),
        Err(Error::ClassOutOfRange {
            index: N_Y,
            classes: N_Y
        })
    );
    let mut x = batch.x;
    x[2][(1, 1)] = f64::NAN;
    assert!(matches!(
        ws.evaluate(&model, &x, batch.class_last(), &mut conf),
        Err(Error::NonFinite { what: "loss", .. })
    ));
    assert!(matches!(
        ws.evaluate(
            &model,
            &batch.x,
            Target::ClassLast(&batch.labels).weighted(&[0.0; 4]),
            &mut conf
        ),
        Err(Error::InvalidSetting {
            what: "weights",
            ..
        })
    ));
    assert_eq!(conf, before);
}

/// `predict_last` is the last step of `predict`, bit for bit, and leaves the other steps.
fn predict_last_is_predicts_last_step<T, N, const NX: usize, const M: usize>(seed: u64)
where
    T: Real,
    N: Network<T, M, X = SMatrix<T, NX, M>, Logits = SMatrix<T, N_Y, M>> + Initialize,
{
    let model = N::init(&Init::default(), &mut Rng::new(seed));
    let mut rng = Rng::new(seed + 100);
    let x: [SMatrix<T, NX, M>; T_X] =
        core::array::from_fn(|_| SMatrix::from_fn(|_, _| T::lit(rng.uniform(-2.0, 2.0))));
    let mut ws = Box::new(Workspace::<T, N, M, T_X>::zeros());
    for head in [Head::Softmax, Head::Linear] {
        let all = *ws.predict(&model, &x, head);
        let marker = SMatrix::<T, N_Y, M>::repeat(T::lit(0.125));
        ws.y_pred = [marker; T_X];
        let last = *ws.predict_last(&model, &x, head);
        let bits =
            |m: &SMatrix<T, N_Y, M>| m.iter().map(|v| v.as_f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&last), bits(&all[T_X - 1]), "{head:?}");
        assert_eq!(bits(&ws.y_pred[T_X - 1]), bits(&last));
        assert!(ws.y_pred[..T_X - 1].iter().all(|y| *y == marker));
    }
}

#[test]
fn predict_last_bit_for_bit() {
    predict_last_is_predicts_last_step::<f32, LstmParams<f32, N_X, 7, N_Y>, N_X, 5>(1);
    predict_last_is_predicts_last_step::<f64, LstmParams<f64, N_X, 7, N_Y>, N_X, 5>(2);
    predict_last_is_predicts_last_step::<f32, RnnParams<f32, N_X, 7, N_Y>, N_X, 1>(3);
    predict_last_is_predicts_last_step::<f32, Model<Gru<f32, N_X, 8>, Dense<f32, 8, N_Y>>, N_X, 3>(
        4,
    );
    type BiLstm =
        Model<Stack<Bidirectional<Lstm<f32, 2, 4>, Concat<8>>, Gru<f32, 8, 5>>, Dense<f32, 5, N_Y>>;
    predict_last_is_predicts_last_step::<f32, BiLstm, 2, 4>(5);
}

#[test]
fn confusion_ratios_and_table() {
    let mut c = Confusion::<3>::new();
    for (t, p) in [
        (0, 0),
        (0, 1),
        (1, 1),
        (1, 1),
        (1, 1),
        (0, 0),
        (9, 0),
        (0, 9),
    ] {
        c.add(t, p);
    }
    assert_eq!(c.counts, [[2, 1, 0], [0, 3, 0], [0, 0, 0]]);
    assert_eq!((c.correct(), c.total()), (5, 6));
    assert_eq!(c.recall(0), Some(2.0 / 3.0));
    assert_eq!(c.recall(2), None); // no case of class 2
    assert_eq!(c.precision(1), Some(0.75));
    assert_eq!(c.precision(2), None); // nothing predicted as 2
    assert_eq!(c.recall(3), None);
    let names = ["Standing", "Running"]; // class 2 has no name: its index
    let table = c.with_names(&names).to_string();
    assert_eq!(
        table,
        "          Standing  Running        2   recall\n\
         Standing         2        1        0    0.667\n\
         Running          0        3        0    1.000\n\
         2                0        0        0        -\n\
         precision    1.000    0.750        -\n\
         accuracy     0.833 (5 of 6)\n"
    );
    let mut sum = c;
    sum += c;
    assert_eq!(sum.total(), 12);
    let big = Confusion {
        counts: [[u32::MAX, 0], [0, 1]],
    };
    let mut sat = big;
    sat += big;
    assert_eq!(sat.counts[0][0], u32::MAX);
    assert_eq!(big.total(), u64::from(u32::MAX) + 1);
}
