//! One streamed step of the keyword-spotting LSTM (`N_X = 16`, `N_A = 32`, batch 1) on the
//! host: the `f32` [`Lstm`] against its post-training-quantized twin [`QLstm`] (int8 weights,
//! int16 activations), and the `f32` [`Gru`] against [`QGru`].
//!
//! ```text
//! cargo bench -p tinyrnn-bench --bench quant
//! ```
//!
//! The quantized models come from [`quant::quantize`] on 8 calibration sequences of 20 steps;
//! both sides stream the same 64 inputs (the quantized side quantizes them once, outside the
//! timed loop). The microcontroller counts (instructions per step in QEMU) are in the report
//! of issue 12; this bench is the host side of the comparison.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nalgebra::SVector;
use std::hint::black_box;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::quant::{self, QStep, QStream};
use tinyrnn::{Gru, Lstm, Stream};

const N_X: usize = 16;
const N_A: usize = 32;
const STEPS: usize = 64;

fn inputs(seed: usize) -> [SVector<f32, N_X>; STEPS] {
    core::array::from_fn(|t| {
        SVector::from_fn(|k, _| ((seed * STEPS + t) as f32 * 0.37 + k as f32 * 1.3).sin())
    })
}

fn bench(c: &mut Criterion) {
    let calib: Vec<_> = (0..8).map(inputs).collect();
    let xs = inputs(99);
    let mut g = c.benchmark_group("quant_step_16x32");
    g.throughput(Throughput::Elements(STEPS as u64));

    let lstm = Lstm::<f32, N_X, N_A>::init(&Init::default(), &mut Rng::new(7));
    let qlstm = quant::quantize(&lstm, &calib).expect("quantizable");
    let qxs: Vec<_> = xs.iter().map(|x| qlstm.quantize_input(x)).collect();
    g.bench_function("lstm_f32", |b| {
        b.iter(|| {
            let mut s = Stream::<f32, Lstm<f32, N_X, N_A>>::new();
            for x in &xs {
                black_box(s.step(&lstm, black_box(x)));
            }
        })
    });
    g.bench_function("qlstm", |b| {
        b.iter(|| {
            let mut s = QStream::new();
            for x in &qxs {
                black_box(s.step(&qlstm, black_box(x)));
            }
        })
    });

    let gru = Gru::<f32, N_X, N_A>::init(&Init::default(), &mut Rng::new(8));
    let qgru = quant::quantize(&gru, &calib).expect("quantizable");
    let qxs: Vec<_> = xs.iter().map(|x| qgru.quantize_input(x)).collect();
    g.bench_function("gru_f32", |b| {
        b.iter(|| {
            let mut s = Stream::<f32, Gru<f32, N_X, N_A>>::new();
            for x in &xs {
                black_box(s.step(&gru, black_box(x)));
            }
        })
    });
    g.bench_function("qgru", |b| {
        b.iter(|| {
            let mut s = QStream::new();
            for x in &qxs {
                black_box(s.step(&qgru, black_box(x)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
