//! The converter's samples: `tools/tinyrnn_convert.py` writes a PyTorch or Keras model as a Rust
//! file (the model as a `static` built by `const fn`s, the framework's raw tensors, a golden
//! input/output pair). Two generated samples are committed, and this test checks them with no
//! Python at test time:
//!
//! - `fixtures/converted_torch.rs`: `{rnn: nn.LSTM(3, 8, num_layers=2), fc: nn.Linear(8, 2)}`;
//! - `fixtures/converted_keras.rs`: `Sequential([Bidirectional(GRU(6, reset_after=True)),
//!   Dense(2)])` on 3 inputs.
//!
//! For each: (a) the static equals what the Rust importer (`tinyrnn::interop`) builds from the
//! framework's raw tensors, exactly, so the script's mapping is the importer's; (b) the static
//! model, run on the golden input from the zero state, reproduces the framework's float32
//! outputs within `|a − b| ≤ TOL·max(1, |b|)`, and the file's own self-check function agrees;
//! (c) the models are `static`s initialised by `const fn`s, which compiling this test proves.
//!
//! Regenerate the samples with `python3 tools/tinyrnn_convert.py --selftest`.

#[path = "fixtures/converted_keras.rs"]
mod converted_keras;
#[path = "fixtures/converted_torch.rs"]
mod converted_torch;

use converted_keras::{
    keras_bigru_golden_error, KerasBigru, KERAS_BIGRU, KERAS_BIGRU_GOLDEN_TOL,
    KERAS_BIGRU_GOLDEN_X, KERAS_BIGRU_GOLDEN_Y, KERAS_BIGRU_TENSORS,
};
use converted_torch::{
    torch_lstm_golden_error, TorchLstm, TORCH_LSTM, TORCH_LSTM_GOLDEN_TOL, TORCH_LSTM_GOLDEN_X,
    TORCH_LSTM_GOLDEN_Y, TORCH_LSTM_MODULES, TORCH_LSTM_TENSORS,
};
use nalgebra::SMatrix;
use tinyrnn::interop::{keras, torch};
use tinyrnn::params::Zeroed;
use tinyrnn::{Layer, Params, Stream};

/// The worst `|a − b| / max(1, |b|)` over every output of every step, with its place
/// `(step, output)`; NaN wins.
fn worst<const N: usize, const T_X: usize>(
    y: &[SMatrix<f32, N, 1>; T_X],
    golden: &[[f32; N]; T_X],
) -> (f32, usize, usize) {
    let mut w = (0.0_f32, 0, 0);
    for (t, (y, g)) in y.iter().zip(golden).enumerate() {
        for (k, (&a, &b)) in y.iter().zip(g).enumerate() {
            let e = (a - b).abs() / b.abs().max(1.0);
            if e.is_nan() || e > w.0 {
                w = (e, t, k);
            }
        }
    }
    w
}

/// The sequence's outputs from the zero state (`Layer::forward` at batch 1).
fn run<L, const N_X: usize, const N_Y: usize, const T_X: usize>(
    model: &L,
    x: &[[f32; N_X]; T_X],
) -> [SMatrix<f32, N_Y, 1>; T_X]
where
    L: Layer<f32, 1, X = SMatrix<f32, N_X, 1>, Y = SMatrix<f32, N_Y, 1>>,
{
    let x = x.map(SMatrix::from);
    let mut tape = L::Tape::<T_X>::ZEROS;
    model.forward(&x, &L::State::ZEROS, &mut tape);
    *L::output(&tape)
}

/// Asserts the golden check and that it is not vacuous: the outputs vary by far more than the
/// tolerance, and a model with its output bias moved by 0.01 fails the same check.
fn assert_golden<const N: usize, const T_X: usize>(
    what: &str,
    y: &[SMatrix<f32, N, 1>; T_X],
    y_off: &[SMatrix<f32, N, 1>; T_X],
    golden: &[[f32; N]; T_X],
    tol: f32,
) -> f32 {
    let (e, t, k) = worst(y, golden);
    println!("{what}: worst golden error {e:.3e} at step {t}, output {k} (tolerance {tol:e})");
    assert!(
        e <= tol,
        "{what}: y[{t}][{k}] = {} vs the framework's {}: error {e:e} > {tol:e}",
        y[t][k],
        golden[t][k]
    );
    let spread = golden
        .iter()
        .flatten()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    assert!(
        spread.1 - spread.0 > 100.0 * tol,
        "{what}: the golden outputs barely vary"
    );
    let (e_off, _, _) = worst(y_off, golden);
    assert!(
        e_off > tol,
        "{what}: a perturbed model passes the golden check ({e_off:e})"
    );
    e
}

#[test]
fn torch_static_equals_the_importers_model() {
    assert_eq!(TORCH_LSTM_MODULES, ["rnn", "fc"]);
    let loaded: TorchLstm = torch::load(TORCH_LSTM_TENSORS, &["rnn", "fc"]).unwrap();
    assert_eq!(loaded, TORCH_LSTM);
    // Every scalar of the static appears in the model (nothing left at zero by a missed field).
    let zeros: usize = TORCH_LSTM
        .tensors()
        .map(|t| t.iter().filter(|&&v| v == 0.0).count())
        .sum();
    assert_eq!(zeros, 0);
    assert_eq!(
        TorchLstm::LEN,
        4 * (8 * 3 + 8 * 8 + 8) + 4 * (8 * 8 + 8 * 8 + 8) + 8 * 2 + 2
    );
}

#[test]
fn keras_static_equals_the_importers_model() {
    let weights: Vec<&[f32]> = KERAS_BIGRU_TENSORS.iter().map(|&(_, t)| t).collect();
    let loaded: KerasBigru = keras::load(&weights).unwrap();
    assert_eq!(loaded, KERAS_BIGRU);
    let zeros: usize = KERAS_BIGRU
        .tensors()
        .map(|t| t.iter().filter(|&&v| v == 0.0).count())
        .sum();
    assert_eq!(zeros, 0);
    let names: Vec<&str> = KERAS_BIGRU_TENSORS.iter().map(|&(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0/forward/kernel",
            "0/forward/recurrent_kernel",
            "0/forward/bias",
            "0/backward/kernel",
            "0/backward/recurrent_kernel",
            "0/backward/bias",
            "1/kernel",
            "1/bias"
        ]
    );
}

#[test]
fn torch_golden_pair_reproduced() {
    let y = run(&TORCH_LSTM, &TORCH_LSTM_GOLDEN_X);
    let mut off = TORCH_LSTM;
    off.upper.b.add_scalar_mut(0.01);
    let y_off = run(&off, &TORCH_LSTM_GOLDEN_X);
    let e = assert_golden(
        "torch LSTM",
        &y,
        &y_off,
        &TORCH_LSTM_GOLDEN_Y,
        TORCH_LSTM_GOLDEN_TOL,
    );

    // Streaming from flash, as the firmware does, gives the same outputs bit for bit.
    let mut stream = Stream::<f32, TorchLstm>::new();
    for (t, x) in TORCH_LSTM_GOLDEN_X.iter().enumerate() {
        assert_eq!(
            stream.step(&TORCH_LSTM, &SMatrix::from(*x)),
            y[t],
            "step {t}"
        );
    }
    // The generated self-check computes the same worst error.
    assert_eq!(torch_lstm_golden_error(), e);
}

#[test]
fn keras_golden_pair_reproduced() {
    let y = run(&KERAS_BIGRU, &KERAS_BIGRU_GOLDEN_X);
    let mut off = KERAS_BIGRU;
    off.upper.b.add_scalar_mut(0.01);
    let y_off = run(&off, &KERAS_BIGRU_GOLDEN_X);
    let e = assert_golden(
        "keras BiGRU",
        &y,
        &y_off,
        &KERAS_BIGRU_GOLDEN_Y,
        KERAS_BIGRU_GOLDEN_TOL,
    );
    assert_eq!(keras_bigru_golden_error(), e);
}
