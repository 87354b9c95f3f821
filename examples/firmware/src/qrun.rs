//! The phases of the `quant` build (`--features quant`): integer inference only, every output
//! compared bit for bit (tolerance 0).
//!
//! | phase | what | golden values |
//! |---|---|---|
//! | `quant_golden` | every case of numpy's golden vectors (`tests/fixtures/quant_golden.rs`, written by `tools/quant_reference.py`) streamed with `QStream::step`; `tanh_q` and `sigmoid_q` over all 65536 inputs, by FNV-1a checksum; 32 calls of each, counted | numpy's |
//! | `quant_kws` | the quantized keyword-spotting model (`quant_model::KWS_QMODEL`, flash) over the firmware's 8 input frames, whole and with frame 4 measured alone, for the model and for its LSTM alone | the host's (`tests/firmware_quant.rs`) |
//! | `quant_gru` | the quantized GRU of the same sizes (`KWS_QGRU`) likewise | the host's |
//!
//! With `--features quant,inference-only`, `quant_kws` alone.
//!
//! Integer arithmetic only: nothing here, nor in the library code it runs, converts to or
//! from a float (`qemu-check.sh` checks the Cortex-M0 ELF's symbols).

use crate::quant_golden as g;
use crate::quant_model::{GRU_QY, KWS_QA, KWS_QGRU, KWS_QMODEL, KWS_QX, KWS_QY};
use crate::qworkload::{self as qw, Q_MEASURED_STEP as K};
use crate::workload::{Probe, K_NA, K_NX, K_NY};
use crate::{paint_stack, stack_high_water, Markers, Totals};
use core::hint::black_box;
use semihosting::println;
use tinyrnn::quant::fixed::{sigmoid_q, tanh_q};
use tinyrnn::quant::QStep;

/// Runs one phase, then records its stack high-water mark and repaints.
fn qphase(name: &'static str, totals: &mut Totals, run: impl FnOnce(&mut Totals)) {
    run(totals);
    let hwm = stack_high_water();
    println!("stack {} {}", name, hwm);
    totals.stack_hwm = totals.stack_hwm.max(hwm);
    paint_stack();
}

/// Compares `got` with `want` bit for bit.
fn compare<const N: usize, const T: usize>(
    phase: &str,
    name: &str,
    got: &[[i16; N]; T],
    want: &[[i16; N]; T],
    totals: &mut Totals,
) {
    let (mut differ, mut worst) = (0u32, 0u32);
    for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
        let d = (i32::from(*a) - i32::from(*b)).unsigned_abs();
        differ += u32::from(d != 0);
        worst = worst.max(d);
    }
    println!(
        "  {} {}: {} values, {} differ, max |diff| {} LSB{}",
        phase,
        name,
        N * T,
        differ,
        worst,
        if differ == 0 { "" } else { "  FAIL" }
    );
    totals.values += (N * T) as u32;
    totals.outside += differ;
    totals.failures += u32::from(differ != 0);
}

/// A model that fails its own validation (an accumulator that could overflow) fails the phase.
fn validated(phase: &str, name: &str, q: &impl QStep, totals: &mut Totals) {
    if q.validate().is_err() {
        println!("FAIL {} {}: the model does not validate", phase, name);
        totals.failures += 1;
    }
}

/// Streams one golden case and compares every step.
macro_rules! golden_cases {
    ($totals:expr, $($case:ident),* $(,)?) => {$(
        validated("quant_golden", stringify!($case), &g::$case::MODEL, $totals);
        let y = qw::stream(&g::$case::MODEL, &g::$case::X);
        compare("quant_golden", stringify!($case), &y, &g::$case::Y, $totals);
    )*};
}

/// An LSTM case's last cell state, too.
macro_rules! lstm_cases {
    ($totals:expr, $($case:ident),* $(,)?) => {$(
        let c = qw::lstm_last_c(&g::$case::MODEL, &g::$case::X);
        compare("quant_golden", concat!(stringify!($case), " c_last"), &[c], &[g::$case::C_LAST], $totals);
    )*};
}

/// 32 inputs in Q3.12, `x = −3.875, −3.625, …, 3.875` (the `f32` activations phase's).
fn act_inputs() -> [i16; 32] {
    core::array::from_fn(|k| (2 * k as i16 - 31) * 512)
}

#[inline(never)]
fn golden_phase(m: &mut Markers, totals: &mut Totals) {
    // Every case of the golden file, and the LSTM cases' last cell state.
    golden_cases!(
        totals,
        rnn,
        lstm,
        gru_after,
        gru_before,
        dense_identity,
        dense_relu,
        dense_tanh,
        dense_sigmoid,
        stack,
        kws_lstm,
        lstm_frac8,
        lstm_frac15,
    );
    lstm_cases!(totals, lstm, kws_lstm, lstm_frac8, lstm_frac15);
    #[cfg(feature = "demo-fail")]
    {
        // One golden value off by one LSB: the comparison must fail (exit 3).
        let mut want = g::rnn::Y;
        want[0][0] ^= 1;
        let y = qw::stream(&g::rnn::MODEL, &g::rnn::X);
        compare("quant_golden", "rnn, demo-fail", &y, &want, totals);
    }
    for (name, f, want) in [
        ("tanh_q", tanh_q as fn(i16) -> i16, g::TANH_Q_FNV),
        ("sigmoid_q", sigmoid_q, g::SIGMOID_Q_FNV),
    ] {
        let got = qw::fnv_all_inputs(f);
        let ok = got == want;
        println!(
            "  quant_golden {}: FNV-1a over all 65536 inputs {:#010x}, numpy {:#010x}{}",
            name,
            got,
            want,
            if ok { "" } else { "  FAIL" }
        );
        totals.values += 65536;
        totals.failures += u32::from(!ok);
    }
    // Their cost, 32 calls each (the f32 activations phase's inputs).
    let x = black_box(act_inputs());
    let mut y = [0i16; 32];
    m.region("tanh_q_x32", || {
        for (o, &v) in y.iter_mut().zip(&x) {
            *o = tanh_q(v);
        }
    });
    black_box(&y);
    m.region("sigmoid_q_x32", || {
        for (o, &v) in y.iter_mut().zip(&x) {
            *o = sigmoid_q(v);
        }
    });
    black_box(&y);
}

#[inline(never)]
fn kws_phase(m: &mut Markers, totals: &mut Totals) {
    const P: &str = "quant_kws";
    validated(P, "KWS_QMODEL", &KWS_QMODEL, totals);
    let model = black_box(&KWS_QMODEL);
    let y = m.region("qkws_stream", || qw::stream(model, &KWS_QX));
    compare(P, "logits", &y, &KWS_QY, totals);
    let yk = qw::measure_step::<_, K_NX, K_NY, { qw::Q_TX }, K>("qkws_step", model, &KWS_QX, m);
    compare(P, "logits, step 4 alone", &[yk], &[KWS_QY[K]], totals);
    let a = qw::stream(&model.lower, &KWS_QX);
    compare(P, "lstm a", &a, &KWS_QA, totals);
    let ak =
        qw::measure_step::<_, K_NX, K_NA, { qw::Q_TX }, K>("qlstm_step", &model.lower, &KWS_QX, m);
    compare(P, "lstm a, step 4 alone", &[ak], &[KWS_QA[K]], totals);
}

#[inline(never)]
fn gru_phase(m: &mut Markers, totals: &mut Totals) {
    const P: &str = "quant_gru";
    validated(P, "KWS_QGRU", &KWS_QGRU, totals);
    let model = black_box(&KWS_QGRU);
    let g = m.region("qgru_stream", || qw::stream(model, &KWS_QX));
    compare(P, "gru a", &g, &GRU_QY, totals);
    let gk = qw::measure_step::<_, K_NX, K_NA, { qw::Q_TX }, K>("qgru_step", model, &KWS_QX, m);
    compare(P, "gru a, step 4 alone", &[gk], &[GRU_QY[K]], totals);
}

/// Every quantized phase.
pub fn quant_run(m: &mut Markers, totals: &mut Totals) {
    println!("tinyrnn firmware: quantized inference only (int8 weights, int16 activations, no floating point)");
    // With `inference-only` too: the quantized keyword-spotting model alone, the twin of the
    // f32 inference-only build (qemu-check.sh compares their flash).
    #[cfg(not(feature = "inference-only"))]
    qphase("quant_golden", totals, |t| golden_phase(m, t));
    qphase("quant_kws", totals, |t| kws_phase(m, t));
    #[cfg(not(feature = "inference-only"))]
    qphase("quant_gru", totals, |t| gru_phase(m, t));
    #[cfg(feature = "demo-float")]
    {
        // One f32 multiplication: links __aeabi_fmul (and the conversions) on the Cortex-M0.
        let v = black_box(1.5f32) * black_box(totals.values as f32);
        println!("demo-float: {}", v as u32);
    }
    // Facts for the report (qemu-check.sh parses this line).
    println!(
        "quant steps {} measured_step {} macs qlstm {} qgru {} qkws {} state_bytes qkws {} qgru {} model_bytes qkws {} qgru {}",
        qw::Q_TX,
        K,
        qw::QLSTM_MACS,
        qw::QGRU_MACS,
        qw::QKWS_MACS,
        qw::state_bytes::<qw::KwsQModel>(),
        qw::state_bytes::<qw::GruQModel>(),
        core::mem::size_of::<qw::KwsQModel>(),
        core::mem::size_of::<qw::GruQModel>()
    );
}
