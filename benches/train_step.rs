//! Cost of one training step, and of its parts, on the host.
//!
//! ```text
//! cargo bench -p tinyrnn-bench --bench train_step
//! ```
//!
//! Four passes are measured for each configuration, all on a [`Workspace`] built once:
//!
//! - `train_step`: [`Workspace::train_step`], i.e. zero the gradient, forward pass, loss,
//!   backward pass (BPTT), finiteness check and Adam update;
//! - `accumulate`: [`Workspace::accumulate`], the forward pass, loss and backward pass without
//!   the update (the gradient keeps accumulating, which costs the same);
//! - `update`: the Adam update alone ([`Optimizer::step`] on the workspace's gradient);
//! - `predict`: [`Workspace::predict`] with [`Head::Softmax`] at every step, inference only.
//!
//! Configurations (`N_X` inputs, `N_A` hidden units, `N_Y` classes, batch `M`, length `T_X`),
//! all with a [`Target::ClassLast`] target:
//!
//! - group `basic_motions`: the BasicMotions classifier, LSTM `f32`, `N_X = 6`, `N_A = 32`,
//!   `N_Y = 4`, `M = 10`, `T_X = 100` (its workspace is about 1.1 MB, so it is boxed);
//! - group `course`: the course notebook's shapes, `N_X = 3`, `N_A = 5`, `N_Y = 2`, `M = 10`,
//!   `T_X = 7`, for the LSTM and the RNN in `f32` and `f64`.
//!
//! - group `stream`: inference one sample at a time at `M = 1`, keyword-spotting sized
//!   (`N_X = 16`, `N_A = 32`, `T_X = 50`): a [`Stream`] over an `Lstm` layer, the same layer's
//!   whole-sequence [`Layer::forward`], and the notebook's `LstmParams::cell_forward` loop
//!   (which builds a cache and a softmax every step); and a [`Stream`] over a 2-layer GRU model
//!   with its output layer, beside that model's whole-sequence forward.
//!
//! Throughput is reported in elements of `M·T_X` (example-steps) per second. For FLOP rates,
//! an LSTM forward step costs about `8·N_A·(N_A + N_X)·M + 13·N_A·M` FLOPs (the four gates'
//! matrix products plus the element-wise work), and forward + backward about three times that.
//!
//! Inputs are uniform in `[-1, 1)` and labels uniform, from a fixed seed. The model keeps
//! training across `train_step` iterations, which does not change the work per call.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use nalgebra::SMatrix;
use std::hint::black_box;
use std::time::Duration;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::optim::{Adam, Optimizer};
use tinyrnn::params::Zeroed;
use tinyrnn::train::{Network, Workspace};
use tinyrnn::{Dense, Gru, Layer, Lstm, LstmParams, Model, Real, RnnParams, Stack, Stream};

/// What one benchmarked call does.
#[derive(Clone, Copy)]
enum Pass {
    TrainStep,
    Accumulate,
    Update,
    Predict,
}

impl Pass {
    const ALL: [Pass; 4] = [
        Pass::TrainStep,
        Pass::Accumulate,
        Pass::Update,
        Pass::Predict,
    ];

    fn name(self) -> &'static str {
        match self {
            Pass::TrainStep => "train_step",
            Pass::Accumulate => "accumulate",
            Pass::Update => "update",
            Pass::Predict => "predict",
        }
    }
}

/// Benchmarks `pass` for cell `C` under the id `{prefix}{pass}` in `group`.
fn bench_pass<
    T: Real,
    C: Network<T, M, X = SMatrix<T, N_X, M>, Logits = SMatrix<T, N_Y, M>> + Initialize,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    prefix: &str,
    pass: Pass,
) {
    let mut rng = Rng::new(2024);
    let mut model = C::init(&Init::default(), &mut rng);
    let mut opt = Adam::<T, C>::new(T::lit(1e-3));
    let mut x = Box::new([SMatrix::<T, N_X, M>::zeros(); T_X]);
    for xt in x.iter_mut() {
        rng.fill_uniform(xt, T::lit(1.0));
    }
    let labels: [usize; M] = core::array::from_fn(|_| rng.below(N_Y));
    let target = Target::ClassLast(&labels);
    let mut ws = Box::new(Workspace::<T, C, M, T_X>::zeros());
    // One step outside the timing: checks the setup and touches every buffer.
    ws.train_step(&mut model, &mut opt, &x, target)
        .expect("training step failed");

    group.throughput(Throughput::Elements((M * T_X) as u64));
    let id = format!("{prefix}{}", pass.name());
    match pass {
        Pass::TrainStep => group.bench_function(id, |b| {
            b.iter(|| black_box(ws.train_step(&mut model, &mut opt, black_box(&x), target)))
        }),
        Pass::Accumulate => group.bench_function(id, |b| {
            b.iter(|| black_box(ws.accumulate(black_box(&model), black_box(&x), target)))
        }),
        Pass::Update => group.bench_function(id, |b| {
            b.iter(|| opt.step(&mut model, black_box(ws.param_grads())));
            black_box(&model);
        }),
        Pass::Predict => group.bench_function(id, |b| {
            b.iter(|| {
                black_box(ws.predict(black_box(&model), black_box(&x), Head::Softmax));
            })
        }),
    };
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

/// BasicMotions: LSTM f32, N_X = 6, N_A = 32, N_Y = 4, M = 10, T_X = 100.
fn basic_motions(c: &mut Criterion) {
    let mut group = c.benchmark_group("basic_motions");
    configure(&mut group);
    for pass in Pass::ALL {
        bench_pass::<f32, LstmParams<f32, 6, 32, 4>, 6, 32, 4, 10, 100>(&mut group, "", pass);
    }
    group.finish();
}

/// The course's shapes: N_X = 3, N_A = 5, N_Y = 2, M = 10, T_X = 7.
fn course(c: &mut Criterion) {
    let mut group = c.benchmark_group("course");
    configure(&mut group);
    for pass in Pass::ALL {
        bench_pass::<f32, LstmParams<f32, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut group, "lstm_f32/", pass);
    }
    for pass in Pass::ALL {
        bench_pass::<f64, LstmParams<f64, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut group, "lstm_f64/", pass);
    }
    for pass in Pass::ALL {
        bench_pass::<f32, RnnParams<f32, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut group, "rnn_f32/", pass);
    }
    for pass in Pass::ALL {
        bench_pass::<f64, RnnParams<f64, 3, 5, 2>, 3, 5, 2, 10, 7>(&mut group, "rnn_f64/", pass);
    }
    group.finish();
}

/// Streaming inference against whole-sequence forward passes, at `M = 1`.
fn stream(c: &mut Criterion) {
    const T_X: usize = 50;
    type L = Lstm<f32, 16, 32>;
    type Net = Model<Stack<Gru<f32, 16, 32>, Gru<f32, 32, 32>>, Dense<f32, 32, 12>>;
    let mut group = c.benchmark_group("stream");
    configure(&mut group);
    group.throughput(Throughput::Elements(T_X as u64));
    let mut rng = Rng::new(7);
    let mut x = [SMatrix::<f32, 16, 1>::zeros(); T_X];
    for xt in x.iter_mut() {
        rng.fill_uniform(xt, 1.0);
    }
    let lstm = L::init(&Init::default(), &mut rng);
    let notebook = LstmParams::<f32, 16, 32, 12>::init(&Init::default(), &mut rng);
    let net = Net::init(&Init::default(), &mut rng);

    group.bench_function("lstm/stream", |b| {
        b.iter(|| {
            let mut s = Stream::<f32, L>::new();
            for xt in &x {
                black_box(s.step(&lstm, black_box(xt)));
            }
        })
    });
    let mut tape = Box::new(<L as Layer<f32, 1>>::Tape::<T_X>::ZEROS);
    group.bench_function("lstm/forward", |b| {
        b.iter(|| lstm.forward(black_box(&x), &Zeroed::ZEROS, &mut tape))
    });
    group.bench_function("lstm/notebook_cell_forward", |b| {
        b.iter(|| {
            let (mut a, mut c) = (SMatrix::zeros(), SMatrix::zeros());
            for xt in &x {
                let out = notebook.cell_forward(black_box(xt), &a, &c);
                (a, c) = (out.a_next, out.c_next);
                black_box(&out.y_pred);
            }
        })
    });
    group.bench_function("gru2_model/stream", |b| {
        b.iter(|| {
            let mut s = Stream::<f32, Net>::new();
            for xt in &x {
                black_box(s.step(&net, black_box(xt)));
            }
        })
    });
    let mut tape = Box::new(<Net as Layer<f32, 1>>::Tape::<T_X>::ZEROS);
    group.bench_function("gru2_model/forward", |b| {
        b.iter(|| net.forward(black_box(&x), &Zeroed::ZEROS, &mut tape))
    });
    group.finish();
}

criterion_group!(benches, basic_motions, course, stream);
criterion_main!(benches);
