//! Layer cost on the shared LSTM workloads S1-S5 (`../shared/bench/README.md`), for every cell
//! kind in `f32` and `f64`: the measurement side of issue 9.
//!
//! ```text
//! cargo bench -p tinyrnn-bench --bench layers                   # every workload, cell, type and pass
//! cargo bench -p tinyrnn-bench --bench layers -- 'S4/lstm_f32'  # criterion's usual filters
//! ```
//!
//! Workloads (`N_X` inputs, `N_A` hidden units, batch `M`, sequence `T_X`):
//!
//! | group | N_X | N_A | M | T_X |
//! |---|---|---|---|---|
//! | `S1` | 3 | 5 | 10 | 7 |
//! | `S2` | 16 | 32 | 1 | 50 |
//! | `S3` | 1 | 32 | 1 | 1000 |
//! | `S4` | 64 | 128 | 1 | 100 |
//! | `S5` | 32 | 64 | 32 | 50 |
//!
//! In each group, for `{lstm,gru,rnn}_{f32,f64}`:
//!
//! - `forward`: [`Layer::forward`] over the sequence from a zero state (the tape is written);
//! - `forward_backward`: `forward`, then [`Layer::backward`] with `dy` at every step (the
//!   gradient accumulates across iterations, which costs the same);
//! - `train_step`: [`Workspace::train_step`] with [`Adam`] on `Model<Cell, Dense<T, N_A, 4>>`
//!   and a [`Target::ClassLast`] target (zero the gradient, forward, loss, backward, finiteness
//!   check, update).
//!
//! Throughput is in elements of `T_X` (steps), so criterion's `elem/s` is `1e9 / (ns per
//! step)`; a step covers all `M` batch columns, as in the shared README's tables.
//!
//! Data are those of the baseline (`../shared/bench/baseline/src/main.rs`, `val(seed, idx)`):
//! the inputs `x`, the upstream gradient `dy` and, for the LSTM, every weight and bias, so the
//! LSTM's checksums equal the baseline's. The GRU and RNN (and the output layer) are
//! initialised by [`Initialize::init`] with a fixed seed.
//!
//! # Side-by-side mode
//!
//! `bench/side_by_side.py` runs this binary with `--tsv` instead of criterion: the baseline's
//! own timing loop and output format (TSV: `peer variant workload mode median_ns_per_step
//! min_ns_per_step check`), so the two can be interleaved and compared within one run.
//!
//! ```text
//! target/release/deps/layers-<hash> --tsv --workloads S2,S4 --cells lstm --types f32 \
//!     --modes fwd,fwdbwd,step,train --repeats 11 --target 0.02
//! ```
//!
//! Modes: `fwd` = `forward`, `fwdbwd` = `forward_backward`, `train` = `train_step`, and `step`
//! = streaming [`Step::step`] over the sequence (no tape, the closest analogue of the
//! baseline's forward, which stores nothing).
//!
//! Everything runs on a thread with a 512 MiB stack: tapes and workspaces (about 7.5 MB for
//! S5 `f64`) are boxed, but a value that large may still pass through the stack.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use nalgebra::SMatrix;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::Target;
use tinyrnn::optim::Adam;
use tinyrnn::params::Zeroed;
use tinyrnn::train::Workspace;
use tinyrnn::{Dense, Gru, Layer, Lstm, Model, Params, Real, Rnn, Stack, Step};

/// Classes of the output layer in `train_step`.
const N_Y: usize = 4;
/// Seed of [`Initialize::init`] for the GRU, the RNN and the output layer.
const SEED: u64 = 2024;

// ---------- the baseline's deterministic data ----------

/// The baseline's `val(seed, idx)`: a sawtooth in `[-0.5, 0.5)`.
fn val(seed: i64, idx: i64) -> f64 {
    ((idx * 37 + seed * 101) % 1009) as f64 / 1009.0 - 0.5
}

/// Gate `q` (f, i, c, o) in Keras/RTNeural's order (i, f, c, o), as the baseline stores it.
const KERAS_POS: [usize; 4] = [1, 0, 2, 3];

/// The baseline's weight of fused gate row `r = q·N_A + u` for column `k` of `[a; x]`.
fn w_init(na: usize, nx: usize, r: usize, k: usize) -> f64 {
    let gp = (KERAS_POS[r / na] * na + r % na) as i64;
    let sc = 1.0 / ((na + nx) as f64).sqrt();
    let g4 = (4 * na) as i64;
    if k < na {
        val(2, k as i64 * g4 + gp) * sc
    } else {
        val(1, (k - na) as i64 * g4 + gp) * sc
    }
}

/// The baseline's bias of fused gate row `r`.
fn b_init(na: usize, r: usize) -> f64 {
    val(3, (KERAS_POS[r / na] * na + r % na) as i64) * 0.1
}

/// The inputs `x⟨t⟩[k, j]` and upstream gradients `dy⟨t⟩[u, j]` of the baseline, and a label
/// per example.
struct Data<T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize> {
    x: Box<[SMatrix<T, N_X, M>; T_X]>,
    dy: Box<[SMatrix<T, N_A, M>; T_X]>,
    labels: [usize; M],
}

impl<T: Real, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>
    Data<T, N_X, N_A, M, T_X>
{
    fn new() -> Self {
        let mut x = Box::new([SMatrix::<T, N_X, M>::zeros(); T_X]);
        let mut dy = Box::new([SMatrix::<T, N_A, M>::zeros(); T_X]);
        for t in 0..T_X {
            x[t] = SMatrix::from_fn(|k, j| T::lit(val(4, ((t * N_X + k) * M + j) as i64)));
            dy[t] = SMatrix::from_fn(|u, j| T::lit(val(5, ((t * N_A + u) * M + j) as i64) * 0.1));
        }
        Self {
            x,
            dy,
            labels: core::array::from_fn(|j| j % N_Y),
        }
    }
}

// ---------- the cells ----------

/// A benchmarked cell: a layer from `N_X` to `N_A` features that streams too.
trait Cell<T: Real, const N_X: usize, const N_A: usize, const M: usize>:
    Layer<T, M, X = SMatrix<T, N_X, M>, Y = SMatrix<T, N_A, M>> + Step<T, M> + Initialize
{
    const NAME: &'static str;

    /// The benchmarked parameters.
    fn build() -> Self {
        Self::init(&Init::default(), &mut Rng::new(SEED))
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const M: usize> Cell<T, N_X, N_A, M>
    for Lstm<T, N_X, N_A>
{
    const NAME: &'static str = "lstm";

    /// The baseline's weights: gate `q` row `u` of its fused `(4·N_A, N_A + N_X)` matrix.
    fn build() -> Self {
        let mut p = Self::zeros();
        let gates = [
            (&mut p.wfa, &mut p.wfx, &mut p.bf),
            (&mut p.wia, &mut p.wix, &mut p.bi),
            (&mut p.wca, &mut p.wcx, &mut p.bc),
            (&mut p.woa, &mut p.wox, &mut p.bo),
        ];
        for (q, (wa, wx, b)) in gates.into_iter().enumerate() {
            let r = |u: usize| q * N_A + u;
            *wa = SMatrix::from_fn(|u, k| T::lit(w_init(N_A, N_X, r(u), k)));
            *wx = SMatrix::from_fn(|u, k| T::lit(w_init(N_A, N_X, r(u), N_A + k)));
            *b = SMatrix::from_fn(|u, _| T::lit(b_init(N_A, r(u))));
        }
        p
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const M: usize> Cell<T, N_X, N_A, M>
    for Gru<T, N_X, N_A>
{
    const NAME: &'static str = "gru";
}

impl<T: Real, const N_X: usize, const N_A: usize, const M: usize> Cell<T, N_X, N_A, M>
    for Rnn<T, N_X, N_A>
{
    const NAME: &'static str = "rnn";
}

/// The `train_step` model: the cell with a linear output layer of [`N_Y`] classes.
type Net<C, T, const N_A: usize> = Model<C, Dense<T, N_A, N_Y>>;

/// Everything one cell's benchmarks need, boxed.
struct Setup<
    C: Cell<T, N_X, N_A, M>,
    T: Real,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
> {
    data: Data<T, N_X, N_A, M, T_X>,
    cell: Box<C>,
    tape: Box<C::Tape<T_X>>,
    dparams: Box<C>,
    dx: Box<[SMatrix<T, N_X, M>; T_X]>,
    ds0: C::State,
}

impl<C, T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>
    Setup<C, T, N_X, N_A, M, T_X>
where
    T: Real,
    C: Cell<T, N_X, N_A, M>,
{
    fn new() -> Self {
        Self {
            data: Data::new(),
            cell: Box::new(C::build()),
            tape: Box::new(Zeroed::ZEROS),
            dparams: Box::new(<C as Params<T>>::ZEROS),
            dx: Box::new([SMatrix::zeros(); T_X]),
            ds0: Zeroed::ZEROS,
        }
    }

    /// `Layer::forward` from a zero state.
    #[inline(never)]
    fn forward(&mut self) {
        self.cell
            .forward(black_box(&self.data.x), &Zeroed::ZEROS, &mut self.tape);
    }

    /// `forward`, then `Layer::backward` from `dy` at every step.
    #[inline(never)]
    fn forward_backward(&mut self) {
        self.forward();
        self.cell.backward(
            &self.data.x,
            &mut self.tape,
            black_box(&self.data.dy),
            &mut self.dparams,
            &mut self.dx,
            &mut self.ds0,
        );
    }

    /// Streaming inference: `Step::step` over the sequence from a zero state, no tape.
    #[inline(never)]
    fn stream(&self) -> T {
        let mut state = C::State::ZEROS;
        let mut y = SMatrix::<T, N_A, M>::zeros();
        let mut check = T::zero();
        for xt in black_box(&self.data.x).iter() {
            self.cell.step(xt, &mut state, &mut y);
            check += y[(0, 0)];
        }
        check
    }

    /// The baseline's forward checksum: `Σ_t y⟨t⟩[0, 0]`.
    fn forward_check(&mut self) -> f64 {
        self.forward();
        C::output(&self.tape)
            .iter()
            .map(|y| y[(0, 0)].as_f64())
            .sum()
    }

    /// The baseline's backward checksum: the sum of every parameter gradient of one pass.
    fn backward_check(&mut self) -> f64 {
        *self.dparams = <C as Params<T>>::ZEROS;
        self.forward_backward();
        self.dparams.tensors().flatten().map(|v| v.as_f64()).sum()
    }
}

/// A training step's state: model, optimizer, workspace.
struct Trainer<C, T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>
where
    T: Real,
    C: Cell<T, N_X, N_A, M>,
{
    data: Data<T, N_X, N_A, M, T_X>,
    model: Box<Net<C, T, N_A>>,
    opt: Box<Adam<T, Net<C, T, N_A>>>,
    ws: Box<Workspace<T, Net<C, T, N_A>, M, T_X>>,
}

impl<C, T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>
    Trainer<C, T, N_X, N_A, M, T_X>
where
    T: Real,
    C: Cell<T, N_X, N_A, M>,
{
    fn new() -> Self {
        let mut rng = Rng::new(SEED + 1);
        let mut t = Self {
            data: Data::new(),
            model: Box::new(Stack {
                lower: C::build(),
                upper: Dense::init(&Init::default(), &mut rng),
            }),
            opt: Box::new(Adam::new(T::lit(1e-3))),
            ws: Box::new(Workspace::zeros()),
        };
        // One step outside the timing: checks the setup and touches every buffer.
        t.step().expect("training step failed");
        t
    }

    #[inline(never)]
    fn step(&mut self) -> Result<T, tinyrnn::Error> {
        let target = Target::ClassLast(&self.data.labels);
        self.ws.train_step(
            &mut self.model,
            &mut *self.opt,
            black_box(&self.data.x),
            target,
        )
    }
}

// ---------- criterion ----------

/// The three passes of one cell and type, under `{cell}_{ty}/{pass}` in `group`.
fn bench_cell<C, T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    ty: &str,
) where
    T: Real,
    C: Cell<T, N_X, N_A, M>,
{
    let prefix = format!("{}_{ty}", C::NAME);
    // Setup inside the closures: a benchmark that criterion's filter skips builds nothing.
    group.bench_function(format!("{prefix}/forward"), |b| {
        let mut s = Setup::<C, T, N_X, N_A, M, T_X>::new();
        b.iter(|| s.forward())
    });
    group.bench_function(format!("{prefix}/forward_backward"), |b| {
        let mut s = Setup::<C, T, N_X, N_A, M, T_X>::new();
        b.iter(|| s.forward_backward())
    });
    group.bench_function(format!("{prefix}/train_step"), |b| {
        let mut t = Trainer::<C, T, N_X, N_A, M, T_X>::new();
        b.iter(|| black_box(t.step()))
    });
}

/// One criterion group per workload: every cell in `f32` and `f64`.
fn bench_workload<const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>(
    c: &mut Criterion,
    name: &str,
) {
    let mut group = c.benchmark_group(name);
    // S5 f64 takes ~20 ms per forward+backward: 10 samples need more than a second.
    let seconds = if M * T_X * N_A * (N_A + N_X) > 5_000_000 {
        2
    } else {
        1
    };
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(seconds))
        .throughput(Throughput::Elements(T_X as u64));
    bench_cell::<Lstm<f32, N_X, N_A>, f32, N_X, N_A, M, T_X>(&mut group, "f32");
    bench_cell::<Lstm<f64, N_X, N_A>, f64, N_X, N_A, M, T_X>(&mut group, "f64");
    bench_cell::<Gru<f32, N_X, N_A>, f32, N_X, N_A, M, T_X>(&mut group, "f32");
    bench_cell::<Gru<f64, N_X, N_A>, f64, N_X, N_A, M, T_X>(&mut group, "f64");
    bench_cell::<Rnn<f32, N_X, N_A>, f32, N_X, N_A, M, T_X>(&mut group, "f32");
    bench_cell::<Rnn<f64, N_X, N_A>, f64, N_X, N_A, M, T_X>(&mut group, "f64");
    group.finish();
}

fn criterion_benches() {
    let mut c = Criterion::default().configure_from_args();
    bench_workload::<3, 5, 10, 7>(&mut c, "S1");
    bench_workload::<16, 32, 1, 50>(&mut c, "S2");
    bench_workload::<1, 32, 1, 1000>(&mut c, "S3");
    bench_workload::<64, 128, 1, 100>(&mut c, "S4");
    bench_workload::<32, 64, 32, 50>(&mut c, "S5");
    c.final_summary();
}

// ---------- side-by-side (TSV) mode ----------

/// Options of `--tsv` mode, spelled as the baseline's.
struct Cfg {
    repeats: usize,
    target_s: f64,
    cells: Vec<String>,
    types: Vec<String>,
    modes: Vec<String>,
}

impl Cfg {
    fn wants(list: &[String], v: &str) -> bool {
        list.iter().any(|x| x == v)
    }
}

/// The baseline's timing loop: double the repetitions until one batch takes `target_s`, then
/// time `repeats` batches; returns (median, min) ns per step.
fn measure<F: FnMut()>(mut f: F, steps: usize, cfg: &Cfg) -> (f64, f64) {
    let mut reps = 1usize;
    loop {
        let t0 = Instant::now();
        for _ in 0..reps {
            f();
        }
        if t0.elapsed().as_secs_f64() > cfg.target_s {
            break;
        }
        reps *= 2;
    }
    let mut v: Vec<f64> = (0..cfg.repeats)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..reps {
                f();
            }
            t0.elapsed().as_secs_f64() * 1e9 / (reps * steps) as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

fn report(variant: &str, wl: &str, mode: &str, r: (f64, f64), check: f64) {
    println!(
        "tinyrnn\t{variant}\t{wl}\t{mode}\t{:.2}\t{:.2}\t{:.6e}",
        r.0, r.1, check
    );
}

fn tsv_cell<C, T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>(
    wl: &str,
    ty: &str,
    cfg: &Cfg,
) where
    T: Real,
    C: Cell<T, N_X, N_A, M>,
{
    if !Cfg::wants(&cfg.cells, C::NAME) || !Cfg::wants(&cfg.types, ty) {
        return;
    }
    let variant = format!("{}-{ty}", C::NAME);
    let mut s = Setup::<C, T, N_X, N_A, M, T_X>::new();
    if Cfg::wants(&cfg.modes, "fwd") {
        let check = s.forward_check();
        report(
            &variant,
            wl,
            "fwd",
            measure(|| s.forward(), T_X, cfg),
            check,
        );
    }
    if Cfg::wants(&cfg.modes, "fwdbwd") {
        let check = s.backward_check();
        let r = measure(|| s.forward_backward(), T_X, cfg);
        report(&variant, wl, "fwdbwd", r, check);
    }
    if Cfg::wants(&cfg.modes, "step") {
        let check = s.stream().as_f64();
        let r = measure(
            || {
                black_box(s.stream());
            },
            T_X,
            cfg,
        );
        report(&variant, wl, "step", r, check);
    }
    drop(s);
    if Cfg::wants(&cfg.modes, "train") {
        let mut t = Trainer::<C, T, N_X, N_A, M, T_X>::new();
        let r = measure(
            || {
                black_box(t.step()).expect("training step failed");
            },
            T_X,
            cfg,
        );
        report(&variant, wl, "train", r, f64::NAN);
    }
}

fn tsv_workload<const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>(
    wl: &str,
    cfg: &Cfg,
) {
    tsv_cell::<Lstm<f32, N_X, N_A>, f32, N_X, N_A, M, T_X>(wl, "f32", cfg);
    tsv_cell::<Lstm<f64, N_X, N_A>, f64, N_X, N_A, M, T_X>(wl, "f64", cfg);
    tsv_cell::<Gru<f32, N_X, N_A>, f32, N_X, N_A, M, T_X>(wl, "f32", cfg);
    tsv_cell::<Gru<f64, N_X, N_A>, f64, N_X, N_A, M, T_X>(wl, "f64", cfg);
    tsv_cell::<Rnn<f32, N_X, N_A>, f32, N_X, N_A, M, T_X>(wl, "f32", cfg);
    tsv_cell::<Rnn<f64, N_X, N_A>, f64, N_X, N_A, M, T_X>(wl, "f64", cfg);
}

fn tsv_main(args: &[String]) {
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let list = |k: &str, default: &str| -> Vec<String> {
        get(k)
            .unwrap_or_else(|| default.into())
            .split(',')
            .map(String::from)
            .collect()
    };
    let cfg = Cfg {
        repeats: get("--repeats").map_or(11, |v| v.parse().expect("--repeats N")),
        target_s: get("--target").map_or(0.02, |v| v.parse().expect("--target SECONDS")),
        cells: list("--cells", "lstm"),
        types: list("--types", "f32"),
        modes: list("--modes", "fwd,fwdbwd"),
    };
    for wl in list("--workloads", "S1,S2,S3,S4,S5") {
        match wl.as_str() {
            "S1" => tsv_workload::<3, 5, 10, 7>("S1", &cfg),
            "S2" => tsv_workload::<16, 32, 1, 50>("S2", &cfg),
            "S3" => tsv_workload::<1, 32, 1, 1000>("S3", &cfg),
            "S4" => tsv_workload::<64, 128, 1, 100>("S4", &cfg),
            "S5" => tsv_workload::<32, 64, 32, 50>("S5", &cfg),
            other => panic!("unknown workload {other}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            if args.iter().any(|a| a == "--tsv") {
                tsv_main(&args);
            } else {
                criterion_benches();
            }
        })
        .expect("spawning the benchmark thread")
        .join()
        .expect("benchmark thread panicked");
}
