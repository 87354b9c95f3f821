//! The firmware's quantized models are up to date, and follow their float models.
//!
//! `examples/firmware` built with `--features quant` (see its `qemu-check.sh`) streams two
//! quantized models from flash and compares every output with `quant_model.rs` bit for bit.
//! This test writes that file on the host with the firmware's own code
//! (`examples/firmware/src/qworkload.rs`, included below) and compares it byte for byte:
//!
//! - `KWS_QMODEL`: the keyword-spotting model of `model.rs` (`LstmParams<f32, 16, 32, 12>`,
//!   rebuilt as `Model<Lstm<f32, 16, 32>, Dense<f32, 32, 12>>` from its fields), quantized by
//!   `tinyrnn::quant::quantize` with deterministic calibration sequences;
//! - `KWS_QGRU`: a `Gru<f32, 16, 32>` from [`GRU_SEED`], quantized likewise;
//! - the firmware's keyword-spotting input (`workload::kws_input`), quantized, and the host's
//!   outputs for it: the LSTM's hidden states, the logits, the GRU's states.
//!
//! It also checks that the quantized models follow the float ones (the logits within
//! [`LOGIT_TOL`], the same predicted keyword at every frame; the GRU's states within
//! [`STATE_TOL`]). After a change to the library that moves any number:
//! `TINYRNN_BLESS=1 cargo test --test firmware_quant` rewrites the file.

#[path = "../examples/firmware/src/workload.rs"]
mod workload;

#[path = "../examples/firmware/src/qworkload.rs"]
mod qworkload;

use nalgebra::SVector;
use std::fmt::Write as _;
use std::path::PathBuf;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::quant::{self, QStep};
use tinyrnn::{Dense, Gru, Lstm, Model, Stream};
use workload::{K_NA, K_NX, K_NY, K_TX};

/// The float keyword-spotting model as a streaming `Model` (its output layer yields logits).
type KwsF32 = Model<Lstm<f32, K_NX, K_NA>, Dense<f32, K_NA, K_NY>>;

/// The seed of the float GRU that `KWS_QGRU` quantizes.
const GRU_SEED: u64 = 21;
/// The seed of the calibration sequences.
const CAL_SEED: u64 = 22;
/// Calibration: this many sequences of [`CAL_LEN`] frames, uniform in `[-1, 1)` like the
/// firmware's input.
const CAL_SEQS: usize = 16;
const CAL_LEN: usize = 32;
/// Largest |quantized logit − float logit| allowed (the logits span about ±1.5).
const LOGIT_TOL: f32 = 0.02;
/// Largest |quantized GRU state − float GRU state| allowed (states in (−1, 1)).
const STATE_TOL: f32 = 0.01;

fn calibration() -> Vec<[SVector<f32, K_NX>; CAL_LEN]> {
    let mut rng = Rng::new(CAL_SEED);
    (0..CAL_SEQS)
        .map(|_| core::array::from_fn(|_| SVector::from_fn(|_, _| rng.uniform(-1.0_f32, 1.0))))
        .collect()
}

/// Streams a float model over `x` from the zero state.
fn stream_f32<L, const NI: usize, const NO: usize>(
    net: &L,
    x: &[SVector<f32, NI>],
) -> Vec<SVector<f32, NO>>
where
    L: tinyrnn::Step<f32, 1, X = SVector<f32, NI>, Y = SVector<f32, NO>>,
{
    let mut s = Stream::<f32, L>::new();
    x.iter().map(|xt| s.step(net, xt)).collect()
}

fn rows<const N: usize, const T: usize>(
    out: &mut String,
    name: &str,
    doc: &str,
    v: &[[i16; N]; T],
) {
    writeln!(out, "/// {doc}").unwrap();
    writeln!(out, "pub static {name}: [[i16; {N}]; {T}] = [").unwrap();
    for r in v {
        let items: Vec<String> = r.iter().map(|x| x.to_string()).collect();
        writeln!(out, "    [{}],", items.join(", ")).unwrap();
    }
    writeln!(out, "];").unwrap();
}

/// A `write_rust` expression, one matrix column to a line.
fn expr(q: &impl QStep) -> String {
    let mut s = String::new();
    q.write_rust(&mut s).unwrap();
    s.replace("],", "],\n")
}

fn generate() -> String {
    let kws: KwsF32 = workload::kws_model().to_model();
    let gru = Gru::<f32, K_NX, K_NA>::init(&Init::default(), &mut Rng::new(GRU_SEED));
    let cal = calibration();
    let qkws: qworkload::KwsQModel = quant::quantize(&kws, &cal).unwrap();
    let qgru: qworkload::GruQModel = quant::quantize(&gru, &cal).unwrap();

    // The firmware's input, quantized in the model's input scale.
    let (xf, _) = workload::kws_input();
    let x: [[i16; K_NX]; K_TX] = core::array::from_fn(|t| qkws.quantize_input(&xf[t]).into());
    let a = qworkload::stream(&qkws.lower, &x);
    let y = qworkload::stream(&qkws, &x);
    let g = qworkload::stream(&qgru, &x);

    // The float model, for comparison: the softmax of its logits must be the flash model's
    // output (the conversion from `LstmParams` is right), and the quantized logits follow.
    let logits = stream_f32(&kws, &xf);
    let mut tape = tinyrnn::LstmTape::<f32, K_NX, K_NA, K_NY, 1, K_TX>::ZEROS;
    let zero = SVector::<f32, K_NA>::zeros();
    workload::kws_model().forward_into(&xf, &zero, &zero, &mut tape);
    let (mut worst_logit, mut worst_state) = (0.0_f32, 0.0_f32);
    for t in 0..K_TX {
        let e = logits[t].map(|v| (v - logits[t].max()).exp());
        let p = e / e.sum();
        assert!(
            (p - tape.y_pred[t]).abs().max() < 1e-5,
            "frame {t}: {p} vs {}",
            tape.y_pred[t]
        );
        let yq = qkws.dequantize_output(&SVector::from(y[t]));
        worst_logit = worst_logit.max((yq - logits[t]).abs().max());
        assert_eq!(
            yq.argmax().0,
            logits[t].argmax().0,
            "frame {t}: the keyword differs"
        );
    }
    for (t, gf) in stream_f32(&gru, &xf).iter().enumerate() {
        let gq = qgru.dequantize_output(&SVector::from(g[t]));
        worst_state = worst_state.max((gq - gf).abs().max());
    }
    println!(
        "quantized vs f32: logits within {worst_logit:.5}, GRU states within {worst_state:.5}"
    );
    assert!(worst_logit < LOGIT_TOL, "logits off by {worst_logit}");
    assert!(worst_state < STATE_TOL, "GRU states off by {worst_state}");

    let mut s = String::from(
        "// @generated by tests/firmware_quant.rs from examples/firmware/src/qworkload.rs: do not edit.
// Regenerate with `TINYRNN_BLESS=1 cargo test --test firmware_quant`; a stale file fails that test.
//! The quantized models of the firmware's `quant` build, as `static`s in flash, and the host's
//! outputs for the firmware's keyword-spotting input (compared bit for bit on the device).

use crate::qworkload::{GruQModel, KwsQModel};
",
    );
    writeln!(
        s,
        "
/// `model::KWS_MODEL` (LSTM 16 → 32, output layer 32 → 12) quantized by `tinyrnn::quant::quantize`
/// over {CAL_SEQS} calibration sequences of {CAL_LEN} frames (uniform in [-1, 1), seed {CAL_SEED}).
/// `no_mangle`: qemu-check.sh reads its size with `llvm-nm -S`.
#[no_mangle]
pub static KWS_QMODEL: KwsQModel = {};",
        expr(&qkws)
    )
    .unwrap();
    writeln!(
        s,
        "
/// `Gru::<f32, 16, 32>::init(&Init::default(), &mut Rng::new({GRU_SEED}))`, quantized with the same
/// calibration sequences.
#[no_mangle]
pub static KWS_QGRU: GruQModel = {};
",
        expr(&qgru)
    )
    .unwrap();
    rows(
        &mut s,
        "KWS_QX",
        "`workload::kws_input()`, quantized in `KWS_QMODEL`'s input scale.",
        &x,
    );
    rows(
        &mut s,
        "KWS_QA",
        "`KWS_QMODEL.lower` streamed over `KWS_QX`: the LSTM's hidden states (Q0.15).",
        &a,
    );
    rows(
        &mut s,
        "KWS_QY",
        "`KWS_QMODEL` streamed over `KWS_QX`: the logits, in the output layer's scale.",
        &y,
    );
    rows(
        &mut s,
        "GRU_QY",
        "`KWS_QGRU` streamed over `KWS_QX`: the GRU's states (Q0.15).",
        &g,
    );
    s
}

#[test]
fn firmware_quant_model_is_up_to_date() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/firmware/src/quant_model.rs");
    let text = generate();
    if std::env::var_os("TINYRNN_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        println!("wrote {}", path.display());
        return;
    }
    assert!(
        std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()),
        "{} is stale or missing: regenerate with `TINYRNN_BLESS=1 cargo test --test firmware_quant`, \
         review the diff, and commit it (the firmware compares against it)",
        path.display()
    );
}
