//! The quantized phases' numerical work (the firmware's `--features quant` build), shared word
//! for word with the host test `tests/firmware_quant.rs`, which includes this file and runs
//! the same functions to produce `quant_model.rs` (the quantized models and their golden
//! values). Integer arithmetic only: the Cortex-M0 build of these phases links no soft-float
//! routine (`qemu-check.sh` checks its symbols).
//!
//! | item | what |
//! |---|---|
//! | [`KwsQModel`] | the keyword-spotting model (`workload::KWS_MODEL`: an LSTM 16 → 32 and a 12-logit output layer) quantized on the host by `tinyrnn::quant::quantize` |
//! | [`GruQModel`] | a GRU 16 → 32 (reset after), the same sizes, quantized likewise |
//! | [`stream`] | any quantized model streamed over a sequence from the zero state |
//! | [`measure_step`] | one step measured alone, mid-sequence (the state is not zero) |
// Each side (firmware, host test) uses a different subset of these items.
#![allow(dead_code)]

use crate::workload::{Probe, K_NA, K_NX, K_NY};
use core::hint::black_box;
use nalgebra::SVector;
use tinyrnn::quant::{QDense, QGru, QLstm, QStep, QStream};
use tinyrnn::{Identity, Stack};

/// The quantized keyword-spotting model: `QLstm<16, 32>` under `QDense<32, 12>` (logits).
pub type KwsQModel = Stack<QLstm<K_NX, K_NA>, QDense<K_NA, K_NY, Identity>>;
/// The quantized GRU of the keyword-spotting sizes.
pub type GruQModel = QGru<K_NX, K_NA>;

/// Frames of the checked sequence.
pub const Q_TX: usize = 8;
/// The frame whose step is measured alone.
pub const Q_MEASURED_STEP: usize = Q_TX / 2;
/// Gate multiply-accumulates of one `QLstm<16, 32>` step: `4·N_A·(N_X + N_A)`.
pub const QLSTM_MACS: usize = 4 * K_NA * (K_NX + K_NA);
/// Multiply-accumulates of one `QGru<16, 32>` step: `3·N_A·(N_X + N_A)`.
pub const QGRU_MACS: usize = 3 * K_NA * (K_NX + K_NA);
/// Multiply-accumulates of one step of the quantized keyword-spotting model (LSTM and
/// output layer), as many as the `f32` model's frame.
pub const QKWS_MACS: usize = QLSTM_MACS + K_NY * K_NA;

/// Streams `x` through `model` from the zero state and returns every step's output.
#[inline(never)]
pub fn stream<Q, const NI: usize, const NO: usize, const T: usize>(
    model: &Q,
    x: &[[i16; NI]; T],
) -> [[i16; NO]; T]
where
    Q: QStep<X = SVector<i16, NI>, Y = SVector<i16, NO>>,
{
    let mut s = QStream::<Q>::new();
    let mut y = [[0; NO]; T];
    for (yt, xt) in y.iter_mut().zip(x) {
        *yt = s.step(model, &SVector::from(*xt)).into();
    }
    y
}

/// Streams `x` through an LSTM from the zero state and returns the last cell state `c`.
#[inline(never)]
pub fn lstm_last_c<const NX: usize, const NA: usize, const T: usize>(
    model: &QLstm<NX, NA>,
    x: &[[i16; NX]; T],
) -> [i16; NA] {
    let mut s = QStream::<QLstm<NX, NA>>::new();
    for xt in x {
        black_box(s.step(model, &SVector::from(*xt)));
    }
    s.state().c.into()
}

/// Streams `x[..K]` through `model` from the zero state, then measures step `K` alone
/// (region `name`) and returns its output.
#[inline(never)]
pub fn measure_step<Q, const NI: usize, const NO: usize, const T: usize, const K: usize>(
    name: &'static str,
    model: &Q,
    x: &[[i16; NI]; T],
    probe: &mut impl Probe,
) -> [i16; NO]
where
    Q: QStep<X = SVector<i16, NI>, Y = SVector<i16, NO>>,
{
    let mut s = QStream::<Q>::new();
    for xt in x.iter().take(K) {
        black_box(s.step(model, &SVector::from(*xt)));
    }
    let xk = SVector::from(x.get(K).copied().unwrap_or([0; NI]));
    let (s, xk, model) = (black_box(&mut s), black_box(&xk), black_box(model));
    let y = probe.region(name, || s.step(model, xk));
    y.into()
}

/// The size of a quantized model's streaming state, in bytes.
pub fn state_bytes<Q: QStep>() -> usize {
    core::mem::size_of::<Q::State>()
}

/// FNV-1a (32 bits) of `f(x)` for every `x` from −32768 to 32767, each output as two
/// little-endian bytes: the checksum of an activation over all its inputs (the definition of
/// `tools/quant_reference.py`).
#[inline(never)]
pub fn fnv_all_inputs(f: impl Fn(i16) -> i16) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for x in i16::MIN..=i16::MAX {
        for b in f(x).to_le_bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    h
}
