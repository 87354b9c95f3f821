//! Wall time of whole training runs on real data: the tinyrnn side of the comparison with
//! PyTorch (`bench/train_pytorch.py` trains the same models the same way and prints the same
//! lines). Not criterion: a few timed runs per process, so that a runner can interleave
//! tinyrnn and PyTorch processes (`python3 bench/train_pytorch.py --vs-tinyrnn`, see
//! `bench/README.md`).
//!
//! ```text
//! cargo bench -p tinyrnn-bench --bench train_time  # both configurations
//! cargo bench -p tinyrnn-bench --bench train_time -- --config B --epochs 20 --repeats 1
//! ```
//!
//! Both configurations train `LstmParams<f32, 6, 32, 4>` (an LSTM, a dense head, softmax
//! cross-entropy on the last step's logits: [`Target::ClassLast`]) with Adam (lr 0.005,
//! [`Clip::GlobalNorm`] 1.0) in batches of `M = 8` on BasicMotions (`examples/data`, 40
//! training series of 6 channels × 100 steps, 4 classes), reshuffled every epoch:
//!
//! | config | what | `N_X` | `N_A` | `N_Y` | `M` | `T_X` | steps |
//! |---|---|---|---|---|---|---|---|
//! | `A` | the README's BasicMotions configuration (10 steps averaged) | 6 | 32 | 4 | 8 | 10 | 300 |
//! | `B` | the same series unpooled | 6 | 32 | 4 | 8 | 100 | 300 |
//!
//! (300 steps = 60 epochs of 5 batches.)
//!
//! Loading and preprocessing are those of `examples/basic_motions.rs` (the shared code in
//! `examples/common/`: parse, average every `POOL` steps, standardise each channel with the
//! training split's statistics) and are not timed. The timed loop is, per epoch, the shuffle,
//! and per batch, packing the batch and [`Workspace::train_step`] (zero the gradient,
//! forward, loss, backward, finiteness check, clipped Adam update).
//!
//! First `--warmup` steps (default 10) train a throwaway model on the same workspace, untimed.
//! Then `--repeats` (default 3) timed runs each train a fresh model from the same seed; with the
//! default seed, config `A` is exactly the example's training run (same initialisation, same
//! batches), so its final loss and test accuracy are the example's. After them, the test
//! accuracy ([`Workspace::predict`], untimed) is printed as a check that training happened.
//!
//! Output: one line per configuration on stdout, tab-separated, the same as the PyTorch
//! script's:
//!
//! ```text
//! train_time  peer  config  steps  repeats  total_ms  ms_per_step  median_ms_per_step  cpu_ms_per_step  final_loss  test_acc  params  data_checksum
//! ```
//!
//! `total_ms` and `ms_per_step` are the wall time of the fastest run, `median_ms_per_step` the
//! median run's; `cpu_ms_per_step` is the smallest process CPU time of a run per step (Linux
//! `/proc`; NaN elsewhere), a check on a busy machine; `final_loss` is the mean loss over the
//! last epoch's batches; `data_checksum` is the sum of the absolute values of the preprocessed
//! training inputs, which must agree with PyTorch's to about 1e-6 relative (both train on the
//! same numbers). A human-readable summary goes to stderr.
//!
//! Options: `--config A,B`, `--epochs N` (60), `--warmup N` (10), `--repeats N` (3),
//! `--seed N` (42).
//!
//! [`Workspace::train_step`]: tinyrnn::train::Workspace::train_step
//! [`Workspace::predict`]: tinyrnn::train::Workspace::predict

#[path = "../examples/common/exit.rs"]
mod exit;
#[path = "../examples/common/basic_motions.rs"]
mod prep;
#[path = "../examples/common/ts.rs"]
mod ts;

use exit::Res;
use nalgebra::SMatrix;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;
use tinyrnn::init::{Init, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::optim::{Adam, Clip};
use tinyrnn::train::LstmWorkspace;
use tinyrnn::{LstmParams, Params};

const N_X: usize = 6;
const N_A: usize = 32;
const N_Y: usize = 4;
const M: usize = 8;
const SERIES_LEN: usize = 100;
const LR: f32 = 0.005;
const CLIP_NORM: f32 = 1.0;

type Model = LstmParams<f32, N_X, N_A, N_Y>;

/// Command-line options.
struct Opts {
    configs: Vec<String>,
    epochs: usize,
    warmup: usize,
    repeats: usize,
    seed: u64,
}

fn parse_args() -> Res<Opts> {
    let mut o = Opts {
        configs: vec!["A".into(), "B".into()],
        epochs: 60,
        warmup: 10,
        repeats: 3,
        seed: 42,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--config" => o.configs = value()?.split(',').map(str::to_uppercase).collect(),
            "--epochs" => o.epochs = value()?.parse()?,
            "--warmup" => o.warmup = value()?.parse()?,
            "--repeats" => o.repeats = value()?.parse()?,
            "--seed" => o.seed = value()?.parse()?,
            "--bench" => {} // passed by `cargo bench`
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    Ok(o)
}

fn main() {
    exit::with_code(run_configs())
}

fn run_configs() -> Res<i32> {
    let opts = parse_args()?;
    for c in &opts.configs {
        match c.as_str() {
            "A" => run::<10>("A", 10, &opts)?,
            "B" => run::<100>("B", 1, &opts)?,
            _ => return Err(format!("unknown config {c} (A or B)").into()),
        }
    }
    Ok(0)
}

/// One case: `series[t][c]`, and its class index.
type Case<const T_X: usize> = ([[f32; N_X]; T_X], usize);

/// Reads a split, checks its shape and averages every `pool` steps (`examples/basic_motions.rs`).
fn load<const T_X: usize>(path: &Path, pool: usize) -> Res<Vec<Case<T_X>>> {
    let data = ts::read_ts(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let shape = (data.dimensions, data.series_length, data.class_names.len());
    if shape != (N_X, SERIES_LEN, N_Y) {
        return Err(format!("{}: unexpected shape {shape:?}", path.display()).into());
    }
    data.cases
        .iter()
        .map(|case| {
            let class = case.class.ok_or("a case has no class label")?;
            Ok((prep::pool(&case.channels, pool), class))
        })
        .collect()
}

/// Packs the cases `idx` (at most `M`) into a batch, padding a short one by repetition.
fn batch<const T_X: usize>(
    cases: &[Case<T_X>],
    idx: &[usize],
    x: &mut [SMatrix<f32, N_X, M>; T_X],
    y: &mut [usize; M],
) {
    for j in 0..M {
        let (series, class) = &cases[idx[j % idx.len()]];
        y[j] = *class;
        for (xt, st) in x.iter_mut().zip(series) {
            xt.column_mut(j).copy_from_slice(st);
        }
    }
}

/// Trains `model` for `steps` optimizer steps (whole epochs of `order`, the last one cut
/// short); returns the mean loss of the last epoch's batches.
fn train<const T_X: usize>(
    model: &mut Model,
    opt: &mut Adam<f32, Model>,
    ws: &mut LstmWorkspace<f32, N_X, N_A, N_Y, M, T_X>,
    cases: &[Case<T_X>],
    order: &mut [usize],
    rng: &mut Rng,
    steps: usize,
) -> Res<f64> {
    let (mut x, mut y) = ([SMatrix::<f32, N_X, M>::zeros(); T_X], [0_usize; M]);
    let (mut done, mut last_epoch) = (0, 0.0);
    while done < steps {
        rng.shuffle(order);
        let (mut sum, mut n) = (0.0, 0);
        for chunk in order.chunks(M).take(steps - done) {
            batch(cases, chunk, &mut x, &mut y);
            let loss = ws.train_step(model, opt, black_box(&x), Target::ClassLast(&y))?;
            sum += f64::from(loss);
            n += 1;
        }
        done += n;
        last_epoch = sum / n as f64;
    }
    Ok(last_epoch)
}

fn run<const T_X: usize>(config: &str, pool: usize, o: &Opts) -> Res<()> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data");
    let mut train_set = load::<T_X>(&data.join("BasicMotions_TRAIN.ts"), pool)?;
    let mut test_set = load::<T_X>(&data.join("BasicMotions_TEST.ts"), pool)?;
    let stats = prep::channel_stats(train_set.iter().map(|(x, _)| x));
    for (x, _) in train_set.iter_mut().chain(test_set.iter_mut()) {
        prep::standardise(x, &stats);
    }
    let checksum: f64 = train_set
        .iter()
        .flat_map(|(x, _)| x.iter().flatten())
        .map(|&v| f64::from(v).abs())
        .sum();
    let batches_per_epoch = train_set.len().div_ceil(M);
    let steps = o.epochs * batches_per_epoch;
    // Config B's workspace is ~0.9 MB: on the heap, never built on the stack.
    let mut ws = LstmWorkspace::<f32, N_X, N_A, N_Y, M, T_X>::boxed();
    let mut order: Vec<usize> = (0..train_set.len()).collect();

    // Warm-up on a throwaway model: touches the workspace and the code.
    let mut rng = Rng::new(o.seed.wrapping_add(1));
    let mut model = Model::init(&Init::default(), &mut rng);
    let mut opt = Adam::new(LR).with_clip(Clip::GlobalNorm(CLIP_NORM));
    train(
        &mut model, &mut opt, &mut ws, &train_set, &mut order, &mut rng, o.warmup,
    )?;

    // The timed runs: each from the example's initialisation and batch order (config A).
    let (mut times, mut cpu_times) = (Vec::new(), Vec::new());
    let (mut model, mut final_loss) = (Model::zeros(), 0.0);
    for _ in 0..o.repeats.max(1) {
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        let mut rng = Rng::new(o.seed);
        model = Model::init(&Init::default(), &mut rng);
        let mut opt = Adam::new(LR).with_clip(Clip::GlobalNorm(CLIP_NORM));
        let (start, cpu_start) = (Instant::now(), cpu_ms());
        final_loss = train(
            &mut model, &mut opt, &mut ws, &train_set, &mut order, &mut rng, steps,
        )?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        cpu_times.push(cpu_ms() - cpu_start);
        black_box(&model);
    }
    times.sort_by(f64::total_cmp);
    let (total_min, total_median) = (times[0], times[times.len() / 2]);
    let cpu_min = cpu_times.iter().copied().fold(f64::INFINITY, f64::min) / steps as f64;

    // Untimed check: test accuracy from the last step's softmax.
    let (mut x, mut y) = ([SMatrix::<f32, N_X, M>::zeros(); T_X], [0_usize; M]);
    let idx: Vec<usize> = (0..test_set.len()).collect();
    let mut hits = 0;
    for chunk in idx.chunks(M) {
        batch(&test_set, chunk, &mut x, &mut y);
        let last = &ws.predict(&model, &x, Head::Softmax)[T_X - 1];
        hits += (0..chunk.len())
            .filter(|&j| last.column(j).argmax().0 == y[j])
            .count();
    }
    let acc = hits as f64 / test_set.len() as f64;

    let (min, median) = (total_min / steps as f64, total_median / steps as f64);
    eprintln!(
        "tinyrnn config {config} (N_X={N_X} N_A={N_A} N_Y={N_Y} M={M} T_X={T_X}, {} parameters): \
         {steps} steps, fastest of {} runs {total_min:.1} ms = {min:.4} ms/step (median \
         {median:.4}), CPU {cpu_min:.4} ms/step; last-epoch loss {final_loss:.5}, test \
         accuracy {acc:.3}",
        Model::LEN,
        times.len()
    );
    println!(
        "train_time\ttinyrnn\t{config}\t{steps}\t{}\t{total_min:.3}\t{min:.5}\t{median:.5}\t\
         {cpu_min:.5}\t{final_loss:.6}\t{acc:.4}\t{}\t{checksum:.6}",
        times.len(),
        Model::LEN
    );
    Ok(())
}

/// CPU time of the whole process so far in ms (the sum over its threads of the first field of
/// `/proc/self/task/*/schedstat`, nanoseconds on the CPU); NaN where that is not available.
/// Unlike wall time it hardly grows when other processes compete for the cores.
fn cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return f64::NAN;
    };
    let mut ns = 0_u64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        match stat.split_whitespace().next().map(str::parse::<u64>) {
            Some(Ok(v)) => ns += v,
            _ => return f64::NAN,
        }
    }
    ns as f64 * 1e-6
}
