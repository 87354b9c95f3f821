//! Imports a 2-layer GRU classifier trained in PyTorch into tinyrnn, unchanged, and checks it
//! against PyTorch's own outputs on all 1029 ItalyPowerDemand test series; then exports it
//! back to a PyTorch `state_dict` and checks that the export loads to the identical model.
//!
//! ```text
//! python3 examples/pytorch/train_italy_power.py    # optional: retrain (CPU, seconds)
//! cargo run --release --example from_pytorch
//! cargo run --release --example from_pytorch -- --export /tmp/gru.safetensors
//! ```
//!
//! The model was trained by `examples/pytorch/train_italy_power.py` (PyTorch, float32):
//! `self.rnn = nn.GRU(1, 16, num_layers=2)` and `self.fc = nn.Linear(16, 2)` on the last
//! step. That script wrote its `state_dict` to `examples/data/italy_power_gru.safetensors`
//! and PyTorch's last-step logits for every test series to
//! `examples/data/italy_power_gru_torch_logits.csv` (provenance and checksums in
//! `examples/data/README.md`). Both are committed, so this example needs no Python.
//!
//! Here, on the host: the `.safetensors` file is read with the `safetensors` crate into
//! `(name, Vec<f32>)` pairs (float32 only: any other dtype is an error naming the tensor),
//! and `tinyrnn::interop::torch::load(&dict, &["rnn", "fc"])` builds
//! `Model<Stack<Gru<f32, 1, 16>, Gru<f32, 16, 16>>, Dense<f32, 16, 2>>` from it (every
//! entry of `rnn` and `fc` must be read, every length must match). Every test series (read
//! from the committed `.ts` file by `examples/common/ts.rs`) is run through
//! `Workspace::predict_last`, `M` = 8 series at a time (packed by `tinyrnn::data`; the last
//! batch padded with zero columns, which are dropped); the last step's logits are compared with
//! PyTorch's.
//!
//! Printed: the first 8 test series with tinyrnn's logits next to PyTorch's, the largest
//! absolute difference over all 1029 × 2 logits, both test accuracies, the export check,
//! the wall time.
//!
//! Export: `torch::for_each_tensor` lists the names and lengths of a fresh `state_dict`,
//! `torch::save` fills it, the `safetensors` crate serialises it (with the checkpoint's
//! shapes) into an in-memory file, and that file is read and imported again: the model must
//! be the same bit for bit. The weights come out as they went in; where PyTorch keeps two
//! biases and tinyrnn one (the reset and update gates), `bias_ih` receives the sum and
//! `bias_hh` zero, so `bias_ih + bias_hh` is unchanged. `--export PATH` also writes that file,
//! which PyTorch loads with `model.load_state_dict(safetensors.torch.load_file(PATH))`.
//!
//! Exits non-zero if any logit differs from PyTorch's by more than `TOL` = 1e-5 relative to
//! max(1, |logit|), if a predicted class differs anywhere, or if the export does not load to
//! the identical model. (Measured: the largest difference is a few 1e-7, float32 rounding
//! in a different order; the run takes well under a second in release and a few seconds in
//! debug.)

#[path = "common/exit.rs"]
mod exit;
#[path = "common/ts.rs"]
mod ts;

use exit::Res;
use nalgebra::SMatrix;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tinyrnn::data::{batches, pack_sequence};
use tinyrnn::error::TensorId;
use tinyrnn::interop::torch;
use tinyrnn::loss::Head;
use tinyrnn::quant::{self, QStep, QStream};
use tinyrnn::train::Workspace;
use tinyrnn::{Dense, Gru, Model, Params, Stack, Stream};

const T_X: usize = 24; // values per series
const N_Y: usize = 2; // classes
const M: usize = 8; // series per Workspace::predict_last call
/// The PyTorch module attribute names, in the order the model's layers read them.
const MODULES: &[&str] = &["rnn", "fc"];
/// Largest allowed |tinyrnn − PyTorch| / max(1, |PyTorch|) for any logit.
const TOL: f32 = 1e-5;
/// How many test series the table shows.
const SHOW: usize = 8;

/// `rnn = nn.GRU(1, 16, num_layers=2)`, `fc = nn.Linear(16, 2)` on the last step.
type Net = Model<Stack<Gru<f32, 1, 16>, Gru<f32, 16, 16>>, Dense<f32, 16, 2>>;

/// One test series and its class index.
type Case = ([f32; T_X], usize);

/// One `state_dict` entry: PyTorch's name, the tensor's shape, its values row-major.
struct Entry {
    name: String,
    shape: Vec<usize>,
    values: Vec<f32>,
}

fn main() {
    let export = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => None,
        [flag, path] if flag == "--export" => Some(PathBuf::from(path)),
        _ => {
            eprintln!("usage: from_pytorch [--export PATH.safetensors]");
            std::process::exit(2);
        }
    };
    exit::with_code(run(export))
}

/// Reads a `.safetensors` file's tensors (all float32), sorted by name.
fn read_state_dict(bytes: &[u8], what: &str) -> Res<Vec<Entry>> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("{what}: {e}"))?;
    let mut dict = Vec::with_capacity(st.len());
    for (name, view) in st.iter() {
        if view.dtype() != Dtype::F32 {
            let dtype = view.dtype();
            return Err(format!(
                "{what}: tensor {name} is {dtype:?}, want F32 (save the model in float32, \
                 e.g. after `model.float()`)"
            )
            .into());
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        dict.push(Entry {
            name: name.to_string(),
            shape: view.shape().to_vec(),
            values,
        });
    }
    dict.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(dict)
}

/// The `(name, values)` pairs `torch::load` takes.
fn as_pairs(dict: &[Entry]) -> Vec<(&str, &[f32])> {
    dict.iter()
        .map(|e| (e.name.as_str(), e.values.as_slice()))
        .collect()
}

/// `torch::load` on a state_dict read from a file; an error about an entry by position
/// (`Unused`: an entry of `rnn` or `fc` that no layer of `Net` reads) is given its name.
fn import(dict: &[Entry]) -> Res<Net> {
    torch::load(&as_pairs(dict), MODULES).map_err(|e| match e {
        tinyrnn::Error::Tensor {
            id: TensorId::Entry { index },
            problem,
        } if index < dict.len() => format!("{}: {problem}", dict[index].name).into(),
        e => e.into(),
    })
}

/// Reads a test split: each series and its class index, and the class labels.
fn load_cases(path: &Path) -> Res<(Vec<Case>, Vec<String>)> {
    let data = ts::read_ts(path).map_err(|e| match e.kind {
        ts::TsErrorKind::Io(_) => e.to_string(), // already names the file
        _ => format!("{}: {e}", path.display()),
    })?;
    let shape = (data.dimensions, data.series_length, data.class_names.len());
    if shape != (1, T_X, N_Y) {
        let want = (1, T_X, N_Y);
        let file = path.display();
        return Err(
            format!("{file}: (channels, steps, classes) = {shape:?}, want {want:?}").into(),
        );
    }
    let mut cases = Vec::with_capacity(data.cases.len());
    for case in &data.cases {
        let class = case.class.ok_or("a case has no class label")?;
        // As the Python script does: f64 from the text, then rounded once to f32.
        cases.push((core::array::from_fn(|t| case.channels[0][t] as f32), class));
    }
    Ok((cases, data.class_names))
}

/// Reads PyTorch's logits: a header line, then one row of `N_Y` values per test series.
fn load_logits(path: &Path) -> Res<Vec<[f32; N_Y]>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    if header.split(',').count() != N_Y {
        return Err(format!("{}: header {header:?}, want {N_Y} columns", path.display()).into());
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let bad = || {
            format!(
                "{}:{}: want {N_Y} numbers, found {line:?}",
                path.display(),
                i + 2
            )
        };
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != N_Y {
            return Err(bad().into());
        }
        let mut row = [0.0; N_Y];
        for (z, field) in row.iter_mut().zip(fields) {
            // Each value is a float32 written exactly (Python's `repr` of it as a double).
            *z = field.trim().parse::<f64>().map_err(|_| bad())? as f32;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The index of the largest logit (the first on a tie, as `torch.argmax`).
fn argmax(z: &[f32; N_Y]) -> usize {
    (1..N_Y).fold(0, |best, k| if z[k] > z[best] { k } else { best })
}

/// The last step's logits of every series, `M` at a time through `Workspace::predict_last`.
fn predict_all(model: &Net, cases: &[Case]) -> Vec<[f32; N_Y]> {
    let mut ws = Workspace::<f32, Net, M, T_X>::boxed();
    let mut x = [SMatrix::<f32, 1, M>::zeros(); T_X];
    let mut out = Vec::with_capacity(cases.len());
    let all: Vec<usize> = (0..cases.len()).collect();
    for idx in batches::<M>(&all) {
        // A short last batch is padded with zero columns; the padding is dropped.
        let n = pack_sequence(idx, &mut x, |i, t| [cases[i].0[t]].into());
        let last = ws.predict_last(model, &x, Head::Linear);
        out.extend((0..n).map(|j| core::array::from_fn(|k| last[(k, j)])));
    }
    out
}

fn accuracy(logits: &[[f32; N_Y]], cases: &[Case]) -> f64 {
    let hits = logits
        .iter()
        .zip(cases)
        .filter(|(z, (_, class))| argmax(z) == *class)
        .count();
    hits as f64 / cases.len() as f64
}

/// Whether two slices hold the same values, bit for bit.
fn bits_eq(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits())
}

/// Whether two models hold the same parameters, bit for bit.
fn same_bits(a: &Net, b: &Net) -> bool {
    a.tensors().zip(b.tensors()).all(|(p, q)| bits_eq(p, q))
}

/// Exports `model` into a fresh `state_dict`, serialises it as `.safetensors` (shapes from
/// `checkpoint`), reads it back and imports it. Returns the file's bytes and whether the
/// re-imported model is `model` bit for bit and every `bias_ih + bias_hh` is the checkpoint's.
fn export_round_trip(model: &Net, checkpoint: &[Entry]) -> Res<(Vec<u8>, bool)> {
    // 1. A fresh state_dict: the names and lengths tinyrnn maps to, every value NaN so that
    //    anything left unwritten would fail the import (non-finite values are an error).
    let mut fresh: Vec<(String, Vec<f32>)> = Vec::new();
    torch::for_each_tensor::<f32, Net>(MODULES, |id, len| {
        fresh.push((id.to_string(), vec![f32::NAN; len]))
    })?;
    // 2. torch::save writes the model into it.
    let mut out: Vec<(&str, &mut [f32])> = fresh
        .iter_mut()
        .map(|(name, v)| (name.as_str(), v.as_mut_slice()))
        .collect();
    torch::save(model, &mut out, MODULES)?;
    // 3. Serialise it with the checkpoint's shapes (a `.safetensors` file in memory).
    let mut raw = Vec::with_capacity(fresh.len());
    for (name, values) in &fresh {
        let orig = checkpoint
            .iter()
            .find(|e| &e.name == name)
            .ok_or_else(|| format!("export: the checkpoint has no tensor {name}"))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        raw.push((name.as_str(), orig.shape.clone(), bytes));
    }
    let views = raw
        .iter()
        .map(|(name, shape, bytes)| Ok((*name, TensorView::new(Dtype::F32, shape.clone(), bytes)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let file = safetensors::serialize(views, None)?;
    // 4. Read it back and import it.
    let back = read_state_dict(&file, "the exported state_dict")?;
    let reloaded = import(&back)?;
    let same = same_bits(model, &reloaded);

    // What the export changed relative to the checkpoint: which tensors differ, and whether
    // every `bias_ih + bias_hh` (the function PyTorch computes with) is unchanged.
    let find = |d: &'_ [Entry], name: &str| -> Option<Vec<f32>> {
        d.iter().find(|e| e.name == name).map(|e| e.values.clone())
    };
    let changed: Vec<&str> = back
        .iter()
        .filter(|e| find(checkpoint, &e.name).is_none_or(|o| !bits_eq(&o, &e.values)))
        .map(|e| e.name.as_str())
        .collect();
    let mut sums_kept = true;
    for e in back.iter().filter(|e| e.name.contains("bias_ih")) {
        let hh = e.name.replace("bias_ih", "bias_hh");
        let sum = |d: &[Entry]| -> Option<Vec<f32>> {
            let (a, b) = (find(d, &e.name)?, find(d, &hh)?);
            Some(a.iter().zip(&b).map(|(u, v)| u + v).collect())
        };
        sums_kept &= matches!((sum(&back), sum(checkpoint)), (Some(a), Some(b)) if bits_eq(&a, &b));
    }
    println!(
        "\nexport: torch::save into a fresh state_dict of {} tensors, serialised to {} bytes of \
         .safetensors and imported again: {}",
        back.len(),
        file.len(),
        if same {
            "the identical model, bit for bit"
        } else {
            "A DIFFERENT MODEL"
        },
    );
    println!(
        "  byte for byte the checkpoint's: {} of {} tensors; differing: {changed:?} \
         (summed gate biases in bias_ih, zero in bias_hh); bias_ih + bias_hh unchanged bit \
         for bit: {sums_kept}",
        back.len() - changed.len(),
        back.len()
    );
    let same = same && sums_kept;
    Ok((file, same))
}

/// The PyTorch-trained model quantized (int8 weights, int16 states; calibrated on the training
/// series) and streamed one value at a time over every test series, beside the float model
/// streamed the same way: test accuracy of both, predictions that differ, and the largest
/// deviation of a hidden state (both GRU layers) and of a logit.
struct QuantReport {
    acc_f32: f64,
    acc_int: f64,
    differ: usize,
    max_hidden: f32,
    max_logit: f32,
}

fn quantized(model: &Net, train: &[Case], test: &[Case]) -> Res<QuantReport> {
    let seqs: Vec<[SMatrix<f32, 1, 1>; T_X]> = train
        .iter()
        .map(|(x, _)| core::array::from_fn(|t| SMatrix::from([x[t]])))
        .collect();
    let q = quant::quantize(model, &seqs)?;
    let (mut hits_f, mut hits_q, mut differ) = (0, 0, 0);
    let (mut max_hidden, mut max_logit) = (0.0_f32, 0.0_f32);
    for (x, class) in test {
        let (mut fs, mut qs) = (Stream::<f32, Net>::new(), QStream::new());
        let (mut yf, mut yq) = (SMatrix::zeros(), SMatrix::zeros());
        for &v in x {
            let v = SMatrix::from([v]);
            yf = fs.step(model, &v);
            yq = q.dequantize_output(&qs.step(&q, &q.quantize_input(&v)));
            let (((hf1, hf2), ()), ((hq1, hq2), ())) = (fs.state(), qs.state());
            for (f, i) in hf1.iter().zip(hq1.iter()).chain(hf2.iter().zip(hq2.iter())) {
                max_hidden = max_hidden.max((f - *i as f32 / 32768.0).abs());
            }
        }
        max_logit = max_logit.max((yf - yq).abs().max());
        let (pf, pq) = (argmax(&yf.into()), argmax(&yq.into()));
        hits_f += usize::from(pf == *class);
        hits_q += usize::from(pq == *class);
        differ += usize::from(pf != pq);
    }
    let n = test.len() as f64;
    Ok(QuantReport {
        acc_f32: hits_f as f64 / n,
        acc_int: hits_q as f64 / n,
        differ,
        max_hidden,
        max_logit,
    })
}

fn run(export: Option<PathBuf>) -> Res<i32> {
    let start = Instant::now();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let weights_path = data.join("italy_power_gru.safetensors");

    // The checkpoint, as (name, values) pairs with PyTorch's names.
    let bytes =
        std::fs::read(&weights_path).map_err(|e| format!("{}: {e}", weights_path.display()))?;
    let dict = read_state_dict(&bytes, &weights_path.display().to_string())?;
    let (_, meta) = SafeTensors::read_metadata(&bytes)?;
    let meta = meta.metadata().clone().unwrap_or_default();
    println!(
        "{}: {} tensors, {} bytes\n  written by {}",
        weights_path.display(),
        dict.len(),
        bytes.len(),
        meta.get("producer").map_or("?", String::as_str)
    );
    for e in &dict {
        println!("  {:18} {:?}", e.name, e.shape);
    }

    // The import: one call, the model's type says what to read.
    let model = import(&dict)?;
    println!(
        "imported {} parameters into {}",
        Net::LEN,
        std::any::type_name::<Net>()
    );

    let (test, labels) = load_cases(&data.join("ItalyPowerDemand_TEST.ts"))?;
    let theirs = load_logits(&data.join("italy_power_gru_torch_logits.csv"))?;
    if theirs.len() != test.len() || test.is_empty() {
        return Err(format!(
            "{} rows of PyTorch logits for {} test series",
            theirs.len(),
            test.len()
        )
        .into());
    }
    let t = Instant::now();
    let ours = predict_all(&model, &test);
    let predict_secs = t.elapsed().as_secs_f64();

    println!("\nfirst {SHOW} test series: last-step logits");
    println!(
        "{:>6} {:>5} {:>25} {:>25} {:>10}",
        "series", "class", "tinyrnn", "PyTorch", "max |diff|"
    );
    for (i, ((a, b), (_, class))) in ours.iter().zip(&theirs).zip(&test).take(SHOW).enumerate() {
        let diff = a
            .iter()
            .zip(b)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f32::max);
        println!(
            "{i:>6} {:>5} {:>12.7} {:>12.7} {:>12.7} {:>12.7} {diff:>10.2e}",
            labels[*class], a[0], a[1], b[0], b[1]
        );
    }

    // The largest difference over all logits, absolute and relative to max(1, |logit|).
    let (mut max_abs, mut max_rel, mut worst) = (0.0_f32, 0.0_f32, (0, 0));
    let mut class_mismatches = 0;
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        for k in 0..N_Y {
            let d = (a[k] - b[k]).abs();
            max_abs = max_abs.max(d);
            let rel = d / b[k].abs().max(1.0);
            // A NaN is the worst of all (and the first one is kept).
            if !max_rel.is_nan() && (rel.is_nan() || rel > max_rel) {
                (max_rel, worst) = (rel, (i, k));
            }
        }
        class_mismatches += usize::from(argmax(a) != argmax(b));
    }
    let (acc_ours, acc_theirs) = (accuracy(&ours, &test), accuracy(&theirs, &test));
    println!(
        "\nover all {} × {N_Y} logits: largest |tinyrnn − PyTorch| = {max_abs:.3e}; relative to \
         max(1, |logit|) {max_rel:.3e} (series {}, logit {}; tolerance {TOL:e})",
        test.len(),
        worst.0,
        worst.1
    );
    println!(
        "predicted classes differ on {class_mismatches} of {} series\n\
         test accuracy: tinyrnn {acc_ours:.4}, PyTorch {acc_theirs:.4} \
         (predict: {:.1} ms for {} series)",
        test.len(),
        predict_secs * 1e3,
        test.len()
    );

    let (train, _) = load_cases(&data.join("ItalyPowerDemand_TRAIN.ts"))?;
    let qr = quantized(&model, &train, &test)?;
    println!(
        "\nquantized (tinyrnn::quant, int8 weights, int16 states, calibrated on the {} training \
         series), streamed over the test series:\n  test accuracy: int {:.4}, f32 {:.4}; \
         predictions differ on {} of {}; largest |hidden state − f32| {:.2e}, |logit − f32| {:.2e}",
        train.len(),
        qr.acc_int,
        qr.acc_f32,
        qr.differ,
        test.len(),
        qr.max_hidden,
        qr.max_logit
    );

    let (file, same) = export_round_trip(&model, &dict)?;
    if let Some(path) = export {
        std::fs::write(&path, &file).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("  wrote {} ({} bytes)", path.display(), file.len());
    }
    println!("\nwall time: {:.2} s", start.elapsed().as_secs_f64());

    let mut code = 0;
    if max_rel.is_nan() || max_rel > TOL {
        eprintln!("error: a logit differs from PyTorch's by {max_rel:e} (relative), over {TOL:e}");
        code = 1;
    }
    if class_mismatches != 0 {
        eprintln!("error: the predicted class differs from PyTorch's on {class_mismatches} series");
        code = 1;
    }
    // One point of accuracy: 10 of the 1,029 test series.
    if qr.acc_int < qr.acc_f32 - 0.01 {
        eprintln!(
            "error: the quantized model's test accuracy {:.4} is more than a point below f32's {:.4}",
            qr.acc_int, qr.acc_f32
        );
        code = 1;
    }
    if !same {
        eprintln!(
            "error: the exported state_dict does not load to the identical model, or changes \
             a bias_ih + bias_hh"
        );
        code = 1;
    }
    Ok(code)
}
