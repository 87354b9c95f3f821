//! The firmware's numerical work, shared word for word with the host test
//! `tests/firmware_golden.rs`, which includes this file with
//! `#[path = "../examples/firmware/src/workload.rs"] mod workload;`. The host runs these
//! functions to produce the golden values (`golden.rs`); the device runs them again and compares.
//!
//! The module depends on `core`, `tinyrnn` and `nalgebra` only: no printing, no allocation, no
//! target-specific code. Each phase is an `#[inline(never)]` function that builds its whole state
//! as locals, so the phases reuse one stack region and the largest one sets the stack high-water
//! mark. The firmware plugs in two things:
//!
//! - a [`Probe`], which brackets a named region with the instruction-count markers (the host
//!   passes [`NoProbe`]);
//! - a [`Sink`], which receives every output tensor by name, in a fixed order: on the device it
//!   compares them with the golden table of the phase, on the host it records them.
//!
//! Phases and what they check:
//!
//! | phase | configuration | outputs |
//! |---|---|---|
//! | [`activations`] | 32 σ, 32 `tanh` (the crate's) | the values |
//! | [`course_rnn`], [`course_lstm`] | `N_X=3, N_A=5, N_Y=2, M=10, T_X=4`, inputs from [`Rng`] | every tape and gradient tensor |
//! | [`course_rnn_train_step`], [`course_lstm_train_step`] | the same, one Adam `train_step` | loss, updated weights |
//! | [`kws_forward`] | `N_X=16, N_A=32, N_Y=12, M=1, T_X=8`, weights from a `static` in flash | `a`, `c`, `ŷ` |
//! | [`kws_backward`] | the same, backward through time | `dx`, `da0`, `dc0`, a checksum of the parameter gradient |
//! | [`kws_train_step`] | the same model copied to RAM, Adam | loss, a checksum of the updated weights |
//! | [`stack_stream`] | `Model<Stack<Gru<16, N_A>, Gru<N_A, N_A>>, Dense<N_A, 12>>`, `M=1`, 16 frames, weights from a `static` in flash, streamed with [`Stream`] | logits of every frame, the final state, bit mismatches of a second stream (0) |
//! | [`stack_forward`] | the same, `Layer::forward` into a tape | the same logits and final state, bit mismatches with a stream (0) |
//! | [`pytorch_gru`] | the ItalyPowerDemand GRU trained in PyTorch (`Model<Stack<Gru<1, 16>, Gru<16, 16>>, Dense<16, 2>>`), converted by `tools/tinyrnn_convert.py` into `pytorch_model.rs`, `M=1`, weights from a `static` in flash, 4 real test series of 24 steps streamed with [`Stream`] | logits of every step (the caller also compares them with PyTorch's), bit mismatches of a second stream (0) |
//! | [`basic_motions`] | LSTM `N_A=16, M=4` ([`TRAIN_LARGE`]) or `N_A=6, M=2` ([`TRAIN_REDUCED`]) on BasicMotions | loss curve, final weights (`copy_to_flat`), train/test hits |
// Each side (firmware, host test) uses a different subset of these items.
#![allow(dead_code)]

use core::hint::black_box;
use nalgebra::SMatrix;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::{Head, Target};
use tinyrnn::optim::{Adam, AdamState, Clip};
use tinyrnn::params::Zeroed;
use tinyrnn::train::{LstmWorkspace, RnnWorkspace};
use tinyrnn::{
    Dense, Error, Gru, Layer, LstmGrads, LstmParams, LstmTape, Model, Params, RnnGrads, RnnParams,
    RnnTape, Stack, Stream,
};

// ---------------------------------------------------------------------------------------------
// Plumbing: probes (instruction-count regions) and sinks (golden outputs).
// ---------------------------------------------------------------------------------------------

/// Brackets a piece of work for measurement.
pub trait Probe {
    /// Runs `f` as the measured region `name` and returns its result.
    fn region<R>(&mut self, name: &'static str, f: impl FnOnce() -> R) -> R;
}

/// The host's probe: measures nothing.
pub struct NoProbe;

impl Probe for NoProbe {
    fn region<R>(&mut self, _name: &'static str, f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Receives the output tensors of a phase, by name, always in the same order.
pub trait Sink {
    /// One output tensor, flattened (matrices column-major, sequences step by step), named
    /// `group.name` (or `name` when `group` is empty).
    fn tensor(&mut self, group: &str, name: &str, values: &mut dyn Iterator<Item = f32>);
}

/// Sends every matrix of a sequence as one tensor.
fn send_seq<const R: usize, const C: usize, const N: usize>(
    sink: &mut impl Sink,
    name: &str,
    seq: &[SMatrix<f32, R, C>; N],
) {
    sink.tensor("", name, &mut seq.iter().flat_map(|m| m.iter().copied()));
}

/// Sends one matrix.
fn send_mat<const R: usize, const C: usize>(
    sink: &mut impl Sink,
    name: &str,
    m: &SMatrix<f32, R, C>,
) {
    sink.tensor("", name, &mut m.iter().copied());
}

/// Sends every tensor of a parameter struct (or gradient) as `group.<tensor name>`.
fn send_params<P: Params<f32>>(sink: &mut impl Sink, group: &str, p: &P) {
    for (t, name) in p.tensors().zip(P::names()) {
        sink.tensor(group, name, &mut t.iter().copied());
    }
}

/// `[Σ v, Σ |v|, Σ v²]`, accumulated in order in f32: a short fingerprint of a tensor too large
/// to keep in flash as golden values.
fn checksum<'a>(values: impl Iterator<Item = &'a f32>) -> [f32; 3] {
    let mut s = [0.0_f32; 3];
    for &v in values {
        s[0] += v;
        s[1] += v.abs();
        s[2] += v * v;
    }
    s
}

/// Returns `f()`, built in a frame of its own. The library's constructors return large values
/// (`LstmParams::init`, `Adam::with_hyperparameters`); inlined into a phase, LLVM may keep
/// their result and its copy side by side for the whole phase. Out of line, the temporary lives
/// only while this frame does, and the result is written into the caller's slot.
#[inline(never)]
fn build<T>(f: impl FnOnce() -> T) -> T {
    f()
}

/// Fills a matrix with uniform samples in `[-1, 1)` (column-major order).
fn fill<const R: usize, const C: usize>(rng: &mut Rng, m: &mut SMatrix<f32, R, C>) {
    rng.fill_uniform(m, 1.0);
}

/// Fills every tensor of a parameter struct, biases included, with uniform samples in `[-1, 1)`.
fn fill_params<P: Params<f32>>(rng: &mut Rng, p: &mut P) {
    for t in p.tensors_mut() {
        for v in t {
            *v = rng.uniform(-1.0, 1.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Activations.
// ---------------------------------------------------------------------------------------------

/// The crate's activations on 32 values `x = -3.875, -3.625, …, 3.875`
/// ([`tinyrnn::activation::sigmoid_in_place`], [`tinyrnn::activation::tanh_in_place`]): what a
/// gate activation costs, next to the matrix products.
#[inline(never)]
pub fn activations(probe: &mut impl Probe, sink: &mut impl Sink) {
    let x: SMatrix<f32, 32, 1> = black_box(SMatrix::from_fn(|k, _| (k as f32 - 15.5) / 4.0));
    let s = probe.region("sigmoid_x32", || {
        let mut s = x;
        tinyrnn::activation::sigmoid_in_place(&mut s);
        s
    });
    let t = probe.region("tanh_x32", || {
        let mut t = x;
        tinyrnn::activation::tanh_in_place(&mut t);
        t
    });
    sink.tensor("", "sigmoid", &mut s.iter().copied());
    sink.tensor("", "tanh", &mut t.iter().copied());
}

// ---------------------------------------------------------------------------------------------
// The course configuration: the notebook's backward tests, N_X=3, N_A=5, N_Y=2, M=10, T_X=4.
// ---------------------------------------------------------------------------------------------

/// Input features.
pub const C_NX: usize = 3;
/// Hidden units.
pub const C_NA: usize = 5;
/// Classes.
pub const C_NY: usize = 2;
/// Batch columns.
pub const C_M: usize = 10;
/// Sequence length.
pub const C_TX: usize = 4;
/// Multiply-accumulates of one LSTM forward step (all `M` columns): four gates, output layer.
pub const C_LSTM_MACS_PER_STEP: usize = C_M * (4 * C_NA * (C_NA + C_NX) + C_NY * C_NA);
/// Exponentials of one LSTM forward step: a sigmoid per gate unit (3 gates), softmax.
pub const C_LSTM_EXPF_PER_STEP: usize = C_M * (3 * C_NA + C_NY);
/// `tanh` evaluations of one LSTM forward step: candidate and `tanh(c)`.
pub const C_LSTM_TANHF_PER_STEP: usize = C_M * 2 * C_NA;
/// Multiply-accumulates of one RNN forward step (all `M` columns).
pub const C_RNN_MACS_PER_STEP: usize = C_M * (C_NA * (C_NA + C_NX) + C_NY * C_NA);
const COURSE_RNN_SEED: u64 = 101;
const COURSE_LSTM_SEED: u64 = 102;

/// The course inputs: every parameter (biases included), `x` and `a0` uniform in `[-1, 1)`, in
/// that order, from `seed`. `c0 = 0`, as in the notebook's `lstm_forward`.
fn course_inputs<P: Params<f32>>(
    seed: u64,
    p: &mut P,
    x: &mut [SMatrix<f32, C_NX, C_M>; C_TX],
    a0: &mut SMatrix<f32, C_NA, C_M>,
) -> Rng {
    let mut rng = Rng::new(seed);
    fill_params(&mut rng, p);
    x.iter_mut().for_each(|xt| fill(&mut rng, xt));
    fill(&mut rng, a0);
    rng
}

/// Labels of the training-step checks: `j mod N_Y`.
fn course_labels() -> [usize; C_M] {
    core::array::from_fn(|j| j % C_NY)
}

/// The course RNN's sequence passes: `forward_into`, then `backward_into` from a random `da`.
#[inline(never)]
pub fn course_rnn(probe: &mut impl Probe, sink: &mut impl Sink) {
    let mut p = RnnParams::<f32, C_NX, C_NA, C_NY>::ZEROS;
    let mut x = [SMatrix::<f32, C_NX, C_M>::zeros(); C_TX];
    let mut a0 = SMatrix::<f32, C_NA, C_M>::zeros();
    let mut rng = course_inputs(COURSE_RNN_SEED, &mut p, &mut x, &mut a0);
    let mut tape = RnnTape::<f32, C_NX, C_NA, C_NY, C_M, C_TX>::ZEROS;
    let mut grads = RnnGrads::<f32, C_NX, C_NA, C_NY, C_M, C_TX>::ZEROS;
    let mut da = [SMatrix::<f32, C_NA, C_M>::zeros(); C_TX];
    da.iter_mut().for_each(|d| fill(&mut rng, d));
    let (tape, grads) = (black_box(&mut tape), black_box(&mut grads));
    probe.region("course_rnn_fwd", || p.forward_into(&x, &a0, tape));
    probe.region("course_rnn_bwd", || p.backward_into(&da, tape, grads));
    send_seq(sink, "a", &tape.a);
    send_seq(sink, "y_pred", &tape.y_pred);
    send_seq(sink, "dx", &grads.dx);
    send_mat(sink, "da0", &grads.da0);
    send_params(sink, "dparams", &grads.dparams);
}

/// One Adam `train_step` of the course RNN (same weights and `x`) on class labels: the loss
/// and the updated weights.
#[inline(never)]
pub fn course_rnn_train_step(probe: &mut impl Probe, sink: &mut impl Sink) -> Result<(), Error> {
    let mut p = RnnParams::<f32, C_NX, C_NA, C_NY>::ZEROS;
    let mut x = [SMatrix::<f32, C_NX, C_M>::zeros(); C_TX];
    let mut a0 = SMatrix::<f32, C_NA, C_M>::zeros();
    course_inputs(COURSE_RNN_SEED, &mut p, &mut x, &mut a0);
    let mut opt = build(|| Adam::with_hyperparameters(0.01, 0.9, 0.999, 1e-8));
    let mut ws = RnnWorkspace::<f32, C_NX, C_NA, C_NY, C_M, C_TX>::ZEROS;
    let (p, ws) = (black_box(&mut p), black_box(&mut ws));
    let labels = course_labels();
    let target = Target::ClassLast(&labels);
    let loss = probe.region("course_rnn_train_step", || {
        ws.train_step(p, &mut opt, &x, target)
    })?;
    sink.tensor("", "loss", &mut [loss].into_iter());
    send_params(sink, "params", p);
    Ok(())
}

/// The course LSTM's sequence passes (`c0 = 0`): `forward_into`, then `backward_into` from a
/// random `da`.
#[inline(never)]
pub fn course_lstm(probe: &mut impl Probe, sink: &mut impl Sink) {
    let mut p = LstmParams::<f32, C_NX, C_NA, C_NY>::ZEROS;
    let mut x = [SMatrix::<f32, C_NX, C_M>::zeros(); C_TX];
    let mut a0 = SMatrix::<f32, C_NA, C_M>::zeros();
    let mut rng = course_inputs(COURSE_LSTM_SEED, &mut p, &mut x, &mut a0);
    let c0 = SMatrix::<f32, C_NA, C_M>::zeros();
    let mut tape = LstmTape::<f32, C_NX, C_NA, C_NY, C_M, C_TX>::ZEROS;
    let mut grads = LstmGrads::<f32, C_NX, C_NA, C_NY, C_M, C_TX>::ZEROS;
    let mut da = [SMatrix::<f32, C_NA, C_M>::zeros(); C_TX];
    da.iter_mut().for_each(|d| fill(&mut rng, d));
    let (tape, grads) = (black_box(&mut tape), black_box(&mut grads));
    probe.region("course_lstm_fwd", || p.forward_into(&x, &a0, &c0, tape));
    probe.region("course_lstm_bwd", || p.backward_into(&da, tape, grads));
    send_seq(sink, "a", &tape.a);
    send_seq(sink, "c", &tape.c);
    send_seq(sink, "y_pred", &tape.y_pred);
    send_seq(sink, "dx", &grads.dx);
    send_mat(sink, "da0", &grads.da0);
    send_mat(sink, "dc0", &grads.dc0);
    send_params(sink, "dparams", &grads.dparams);
}

/// One Adam `train_step` of the course LSTM (same weights and `x`) on class labels: the loss
/// and the updated weights. A phase of its own, so that its workspace and the one of
/// [`course_lstm`] never share the stack (the Cortex-M0 has 16 KB).
#[inline(never)]
pub fn course_lstm_train_step(probe: &mut impl Probe, sink: &mut impl Sink) -> Result<(), Error> {
    let mut p = LstmParams::<f32, C_NX, C_NA, C_NY>::ZEROS;
    let mut x = [SMatrix::<f32, C_NX, C_M>::zeros(); C_TX];
    let mut a0 = SMatrix::<f32, C_NA, C_M>::zeros();
    course_inputs(COURSE_LSTM_SEED, &mut p, &mut x, &mut a0);
    let mut opt = build(|| Adam::with_hyperparameters(0.01, 0.9, 0.999, 1e-8));
    let mut ws = LstmWorkspace::<f32, C_NX, C_NA, C_NY, C_M, C_TX>::ZEROS;
    let (p, ws) = (black_box(&mut p), black_box(&mut ws));
    let labels = course_labels();
    let target = Target::ClassLast(&labels);
    let loss = probe.region("course_lstm_train_step", || {
        ws.train_step(p, &mut opt, &x, target)
    })?;
    sink.tensor("", "loss", &mut [loss].into_iter());
    send_params(sink, "params", p);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Keyword-spotting size: N_X=16, N_A=32, N_Y=12, batch 1.
// ---------------------------------------------------------------------------------------------

/// Input features (e.g. MFCCs per frame).
pub const K_NX: usize = 16;
/// Hidden units.
pub const K_NA: usize = 32;
/// Keywords.
pub const K_NY: usize = 12;
/// Frames in the checked sequence.
pub const K_TX: usize = 8;
/// Multiply-accumulates of one forward step (batch 1): gates and output layer.
pub const K_MACS_PER_STEP: usize = 4 * K_NA * (K_NA + K_NX) + K_NY * K_NA;
/// Exponentials of one forward step (batch 1): three sigmoid gates, softmax.
pub const K_EXPF_PER_STEP: usize = 3 * K_NA + K_NY;
/// `tanh` evaluations of one forward step (batch 1).
pub const K_TANHF_PER_STEP: usize = 2 * K_NA;
/// The seed of the flash model's weights (`model.rs` is generated from it).
pub const KWS_SEED: u64 = 7;
const KWS_INPUT_SEED: u64 = 8;

/// The keyword-spotting model's type.
pub type KwsModel = LstmParams<f32, K_NX, K_NA, K_NY>;

/// The flash model's weights, as the host generates them into `model.rs`: `Init::default()`
/// (Glorot uniform, forget bias 1) from [`KWS_SEED`].
pub fn kws_model() -> KwsModel {
    LstmParams::init(&Init::default(), &mut Rng::new(KWS_SEED))
}

/// The fixed input sequence (uniform in `[-1, 1)`) and the keyword label of the training step.
pub fn kws_input() -> ([SMatrix<f32, K_NX, 1>; K_TX], [usize; 1]) {
    let mut rng = Rng::new(KWS_INPUT_SEED);
    let mut x = [SMatrix::<f32, K_NX, 1>::zeros(); K_TX];
    x.iter_mut().for_each(|xt| fill(&mut rng, xt));
    (x, [rng.below(K_NY)])
}

/// Inference from the model in flash: `forward_into` over [`K_TX`] frames.
#[inline(never)]
pub fn kws_forward(model: &KwsModel, probe: &mut impl Probe, sink: &mut impl Sink) {
    let (x, _) = kws_input();
    let zero = SMatrix::<f32, K_NA, 1>::zeros();
    let mut tape = LstmTape::<f32, K_NX, K_NA, K_NY, 1, K_TX>::ZEROS;
    let tape = black_box(&mut tape);
    probe.region("kws_fwd", || model.forward_into(&x, &zero, &zero, tape));
    send_seq(sink, "a", &tape.a);
    send_seq(sink, "c", &tape.c);
    send_seq(sink, "y_pred", &tape.y_pred);
}

/// Backpropagation through time for the flash model (the parameter gradient in RAM, 27 KB).
#[inline(never)]
pub fn kws_backward(model: &KwsModel, probe: &mut impl Probe, sink: &mut impl Sink) {
    let (x, _) = kws_input();
    let zero = SMatrix::<f32, K_NA, 1>::zeros();
    let mut tape = LstmTape::<f32, K_NX, K_NA, K_NY, 1, K_TX>::ZEROS;
    let mut grads = LstmGrads::<f32, K_NX, K_NA, K_NY, 1, K_TX>::ZEROS;
    let mut da = [SMatrix::<f32, K_NA, 1>::zeros(); K_TX];
    let mut rng = Rng::new(KWS_INPUT_SEED + 1);
    da.iter_mut().for_each(|d| fill(&mut rng, d));
    let (tape, grads) = (black_box(&mut tape), black_box(&mut grads));
    model.forward_into(&x, &zero, &zero, tape);
    probe.region("kws_bwd", || model.backward_into(&da, tape, grads));
    send_seq(sink, "dx", &grads.dx);
    send_mat(sink, "da0", &grads.da0);
    send_mat(sink, "dc0", &grads.dc0);
    let sums = checksum(grads.dparams.tensors().flatten());
    sink.tensor("dparams", "checksum", &mut sums.into_iter());
}

/// One full training step of the keyword-spotting model (copied from flash to RAM): forward,
/// cross-entropy at the last frame, backward, Adam. About 117 KB of state.
#[inline(never)]
pub fn kws_train_step(
    model: &KwsModel,
    state: &mut AdamState<f32, KwsModel>,
    probe: &mut impl Probe,
    sink: &mut impl Sink,
) -> Result<(), Error> {
    let (x, label) = kws_input();
    let mut model = *model;
    // The settings are a `const` (four scalars folded into the code); the moments are the
    // caller's (on the device a zero-initialised `static`, in .bss).
    let mut opt = KWS_ADAM.with_state(state);
    let mut ws = LstmWorkspace::<f32, K_NX, K_NA, K_NY, 1, K_TX>::ZEROS;
    let (model, opt, ws) = (
        black_box(&mut model),
        black_box(&mut opt),
        black_box(&mut ws),
    );
    let target = Target::ClassLast(&label);
    let loss = probe.region("kws_train_step", || ws.train_step(model, opt, &x, target))?;
    sink.tensor("", "loss", &mut [loss].into_iter());
    let sums = checksum(model.tensors().flatten());
    sink.tensor("params", "checksum", &mut sums.into_iter());
    Ok(())
}

/// The keyword-spotting training step's Adam settings, without a state.
pub const KWS_ADAM: Adam<f32, KwsModel, ()> = Adam::settings(1e-3, 0.9, 0.999, 1e-8);

// ---------------------------------------------------------------------------------------------
// A stacked GRU, streamed: Model<Stack<Gru<16, N_A>, Gru<N_A, N_A>>, Dense<N_A, 12>>, batch 1.
// ---------------------------------------------------------------------------------------------

/// Input features per frame of the stacked GRU.
pub const S_NX: usize = 16;
/// Outputs (keyword logits) of the stacked GRU.
pub const S_NY: usize = 12;
/// Frames streamed through the stacked GRU.
pub const S_TX: usize = 16;
/// The frame whose streamed step is measured alone (mid-sequence: the state is not zero).
pub const S_MEASURED_STEP: usize = S_TX / 2;
/// Hidden units of each GRU layer.
pub const S_NA: usize = 32;
/// Hidden units of each GRU layer on the Cortex-M0, whose 256 KB of flash cannot hold the
/// 45 KB `S_NA` model and its code besides the rest of the firmware (it would overflow by
/// about 2 KB; the Cortex-M3, whose firmware has more phases, has room for neither).
pub const S_NA_SMALL: usize = 8;
/// Frames per `Layer::forward` call in the host's chunked run of [`stack_forward`]
/// (`tests/firmware_golden.rs`): each call starts from the previous one's final state, and the
/// outputs must equal those of one call over all [`S_TX`] frames (the devices make that one
/// call). A part with too little RAM for the whole tape (25 KB with `N_A = 32`) can stream it
/// through a tape this long (6.5 KB).
pub const S_CHUNK: usize = 4;
/// The seed of the stacked GRU's weights (`stack_model.rs` is generated from it).
pub const STACK_SEED: u64 = 11;
const STACK_INPUT_SEED: u64 = 12;

/// The stacked GRU: two GRU layers (16 → `N_A` → `N_A`) under a linear dense output layer.
pub type StackModel<const N_A: usize> =
    Model<Stack<Gru<f32, S_NX, N_A>, Gru<f32, N_A, N_A>>, Dense<f32, N_A, S_NY>>;

/// Multiply-accumulates of one streamed step: `3·N_A·(N_X + N_A)` per GRU layer (three gates,
/// each on `[x; a]`), `N_Y·N_A` for the output layer.
pub const fn stack_macs_per_step(n_a: usize) -> usize {
    3 * n_a * (S_NX + n_a) + 3 * n_a * (n_a + n_a) + S_NY * n_a
}
/// Sigmoids of one streamed step: the update and reset gates of both layers.
pub const fn stack_expf_per_step(n_a: usize) -> usize {
    2 * 2 * n_a
}
/// `tanh` evaluations of one streamed step: the candidate of both layers.
pub const fn stack_tanhf_per_step(n_a: usize) -> usize {
    2 * n_a
}

/// The flash model's weights, as the host generates them into `stack_model.rs`:
/// `Initialize::init(&Init::default(), ..)` (Glorot uniform weights, zero biases) from
/// [`STACK_SEED`], then every bias drawn uniform in `[-0.1, 0.1)` from the same generator, so
/// that the bias paths carry non-zero values too.
pub fn stack_model<const N_A: usize>() -> StackModel<N_A> {
    let mut rng = Rng::new(STACK_SEED);
    let mut m = StackModel::<N_A>::init(&Init::default(), &mut rng);
    for (t, name) in m
        .tensors_mut()
        .zip(<StackModel<N_A> as Params<f32>>::names())
    {
        if name.starts_with('b') {
            t.iter_mut().for_each(|v| *v = rng.uniform(-0.1, 0.1));
        }
    }
    m
}

/// The bytes a [`Stream`] of the stacked GRU keeps between steps: both layers' states.
pub fn stack_state_bytes<const N_A: usize>() -> usize {
    core::mem::size_of_val(Stream::<f32, StackModel<N_A>>::new().state())
}

/// How many values of `a` and `b` differ in their bits.
fn bits_differ<const R: usize>(a: &[SMatrix<f32, R, 1>], b: &[SMatrix<f32, R, 1>]) -> u32 {
    let pairs = a.iter().flatten().zip(b.iter().flatten());
    pairs.filter(|(x, y)| x.to_bits() != y.to_bits()).count() as u32
}

/// The fixed input sequence of the stacked GRU: [`S_TX`] frames uniform in `[-1, 1)`.
fn stack_input() -> [SMatrix<f32, S_NX, 1>; S_TX] {
    let mut rng = Rng::new(STACK_INPUT_SEED);
    let mut x = [SMatrix::<f32, S_NX, 1>::zeros(); S_TX];
    x.iter_mut().for_each(|xt| fill(&mut rng, xt));
    x
}

/// Sends a stream state of the stacked GRU (both layers' `a`, lower layer first) as `state`.
fn send_stack_state<const N_A: usize>(
    sink: &mut impl Sink,
    state: &<StackModel<N_A> as Layer<f32, 1>>::State,
) {
    let ((a1, a2), ()) = state;
    sink.tensor("", "state", &mut a1.iter().chain(a2.iter()).copied());
}

/// One [`Stream::step`] of the stacked GRU, out of line: every streaming pass runs the same
/// machine code, and the measured step (`stack_step`) is exactly one call of it.
#[inline(never)]
fn stream_step<const N_A: usize>(
    stream: &mut Stream<f32, StackModel<N_A>>,
    model: &StackModel<N_A>,
    x: &SMatrix<f32, S_NX, 1>,
) -> SMatrix<f32, S_NY, 1> {
    stream.step(model, x)
}

/// Streaming inference of the stacked GRU from the model in flash, with no tape: RAM holds
/// the [`Stream`]'s state and one step's temporaries (and here the inputs and outputs).
///
/// 1. [`Stream::step`] over the [`S_TX`] frames (region `stack_stream`): the logits of every
///    frame and the final state go to the sink;
/// 2. the same again from the zero state, with only frame [`S_MEASURED_STEP`] measured
///    (region `stack_step`, one streamed step). How many of its logits differ in their bits
///    from the first pass's goes to the sink as `bits_differ` (golden value 0).
#[inline(never)]
pub fn stack_stream<const N_A: usize>(
    model: &StackModel<N_A>,
    probe: &mut impl Probe,
    sink: &mut impl Sink,
) {
    let x = stack_input();
    let mut stream = Stream::<f32, StackModel<N_A>>::new();
    let mut logits = [SMatrix::<f32, S_NY, 1>::zeros(); S_TX];
    let (stream, logits) = (black_box(&mut stream), black_box(&mut logits));
    probe.region("stack_stream", || {
        for (xt, y) in x.iter().zip(logits.iter_mut()) {
            *y = stream_step(stream, model, xt);
        }
    });

    let mut again = Stream::<f32, StackModel<N_A>>::new();
    let again = black_box(&mut again);
    let mut differ = 0;
    for (t, xt) in x.iter().enumerate() {
        let y = if t == S_MEASURED_STEP {
            probe.region("stack_step", || stream_step(again, model, xt))
        } else {
            stream_step(again, model, xt)
        };
        differ += bits_differ(&[y], &logits[t..=t]);
    }

    send_seq(sink, "logits", logits);
    send_stack_state::<N_A>(sink, stream.state());
    sink.tensor("", "bits_differ", &mut [differ as f32].into_iter());
}

/// The whole-sequence forward pass of the stacked GRU from the model in flash:
/// [`Layer::forward`] into a tape (batch 1), `CHUNK` frames per call, each call from the last
/// one's final state (region `stack_fwd`). `CHUNK = S_TX` is one call over the whole
/// sequence; a smaller `CHUNK` is for a part whose RAM cannot hold the whole tape.
///
/// Its logits and final state go to the sink: the golden values are those of
/// [`stack_stream`] (the host checks that they are equal). Then a [`Stream`] runs over the
/// same frames, and how many of its logits and final state values differ in their bits from
/// the forward pass's goes to the sink as `bits_differ` (golden value 0).
#[inline(never)]
pub fn stack_forward<const N_A: usize, const CHUNK: usize>(
    model: &StackModel<N_A>,
    probe: &mut impl Probe,
    sink: &mut impl Sink,
) {
    const { assert!(CHUNK > 0 && S_TX.is_multiple_of(CHUNK)) };
    let x = stack_input();
    let mut tape = <StackModel<N_A> as Layer<f32, 1>>::Tape::<CHUNK>::ZEROS;
    let mut out = [SMatrix::<f32, S_NY, 1>::zeros(); S_TX];
    let (tape, out) = (black_box(&mut tape), black_box(&mut out));
    let state = probe.region("stack_fwd", || {
        let mut s0 = <StackModel<N_A> as Layer<f32, 1>>::State::ZEROS;
        for (xc, yc) in x.chunks_exact(CHUNK).zip(out.chunks_exact_mut(CHUNK)) {
            let xc: &[_; CHUNK] = xc.try_into().expect("a chunk of CHUNK frames");
            model.forward(xc, &s0, tape);
            yc.copy_from_slice(StackModel::<N_A>::output(tape));
            let body = &tape.lower;
            s0 = ((body.lower.h[CHUNK - 1], body.upper.h[CHUNK - 1]), ());
        }
        s0
    });

    let mut stream = Stream::<f32, StackModel<N_A>>::new();
    let stream = black_box(&mut stream);
    let mut differ = 0;
    for (xt, yt) in x.iter().zip(out.iter()) {
        differ += bits_differ(&[stream_step(stream, model, xt)], &[*yt]);
    }
    let (((a1, a2), ()), ((b1, b2), ())) = (&state, stream.state());
    differ += bits_differ(&[*a1, *a2], &[*b1, *b2]);

    send_seq(sink, "logits", out);
    send_stack_state::<N_A>(sink, &state);
    sink.tensor("", "bits_differ", &mut [differ as f32].into_iter());
}

// ---------------------------------------------------------------------------------------------
// A GRU trained in PyTorch on ItalyPowerDemand, converted by tools/tinyrnn_convert.py: streamed.
// ---------------------------------------------------------------------------------------------

/// Input features per step of the PyTorch model (one electricity-demand value).
pub const PT_NX: usize = 1;
/// Hidden units of each of its two GRU layers.
pub const PT_NA: usize = 16;
/// Its outputs: the logits of classes "1" and "2".
pub const PT_NY: usize = 2;
/// Steps per series (hours of a day).
pub const PT_TX: usize = 24;
/// Golden series: real ItalyPowerDemand TEST series, PyTorch's outputs for each.
pub const PT_SERIES: usize = 4;
/// Their 0-based indices in `examples/data/ItalyPowerDemand_TEST.ts` (chosen and documented in
/// `examples/firmware/gen_pytorch_model.py`; `tests/firmware_golden.rs` checks that the golden
/// input of `pytorch_model.rs` is exactly these series): the first series, the first of class
/// "1", the one with PyTorch's smallest logit margin, PyTorch's first misclassified one.
pub const PT_TEST_INDEX: [usize; PT_SERIES] = [0, 5, 802, 32];
/// Their true classes, as indices into [`PT_CLASSES`] (checked against the `.ts` file too).
pub const PT_TEST_CLASS: [usize; PT_SERIES] = [1, 0, 0, 0];
/// ItalyPowerDemand's class names, in label order.
pub const PT_CLASSES: [&str; PT_NY] = ["1", "2"];
/// The step whose [`Stream::step`] is measured alone (of series 0; mid-series, the state is
/// not zero).
pub const PT_MEASURED_STEP: usize = PT_TX / 2;

/// `rnn = nn.GRU(1, 16, num_layers=2)`, `fc = nn.Linear(16, 2)`: the type the converter writes
/// (`pytorch_model::ItalyPowerGru`), spelled as a [`Model`]. Passing the converted static where
/// this type is expected checks the converted architecture at compile time.
pub type PtModel =
    Model<Stack<Gru<f32, PT_NX, PT_NA>, Gru<f32, PT_NA, PT_NA>>, Dense<f32, PT_NA, PT_NY>>;

/// Logits of every step of every golden series.
pub type PtLogits = [[SMatrix<f32, PT_NY, 1>; PT_TX]; PT_SERIES];

/// Multiply-accumulates of one streamed step: `3·N_A·(N_X + N_A)` per GRU layer, `N_Y·N_A` for
/// the output layer.
pub const PT_MACS_PER_STEP: usize =
    3 * PT_NA * (PT_NX + PT_NA) + 3 * PT_NA * (PT_NA + PT_NA) + PT_NY * PT_NA;

/// The bytes a [`Stream`] of the PyTorch model keeps between steps: both layers' states.
pub fn pt_state_bytes() -> usize {
    core::mem::size_of_val(Stream::<f32, PtModel>::new().state())
}

/// One [`Stream::step`] of the PyTorch model, out of line: every pass runs the same machine
/// code, and the measured step (`pt_step`) is exactly one call of it.
#[inline(never)]
fn pt_stream_step(
    stream: &mut Stream<f32, PtModel>,
    model: &PtModel,
    x: &[f32; PT_NX],
) -> SMatrix<f32, PT_NY, 1> {
    stream.step(model, &SMatrix::from(*x))
}

/// Streams each golden series through the converted PyTorch model from flash, from the zero
/// state, one step at a time with no tape:
///
/// 1. every series (region `pt_stream`, `PT_SERIES · PT_TX` steps): the logits of every step
///    go to the sink (as `logits`, series after series) and are returned;
/// 2. series 0 again from the zero state, with only step [`PT_MEASURED_STEP`] measured
///    (region `pt_step`, one streamed step). How many of its logits differ in their bits from
///    the first pass's goes to the sink as `bits_differ` (golden value 0).
///
/// The caller compares the returned logits with PyTorch's (`ITALY_POWER_GRU_GOLDEN_Y`, with the
/// converter's tolerance); the sink's golden values are the host's, bit for bit.
#[inline(never)]
pub fn pytorch_gru(
    model: &PtModel,
    xs: &[[[f32; PT_NX]; PT_TX]; PT_SERIES],
    probe: &mut impl Probe,
    sink: &mut impl Sink,
) -> PtLogits {
    let mut stream = Stream::<f32, PtModel>::new();
    let mut logits = [[SMatrix::<f32, PT_NY, 1>::zeros(); PT_TX]; PT_SERIES];
    let (stream, out) = (black_box(&mut stream), black_box(&mut logits));
    probe.region("pt_stream", || {
        for (series, ys) in xs.iter().zip(out.iter_mut()) {
            stream.reset();
            for (x, y) in series.iter().zip(ys.iter_mut()) {
                *y = pt_stream_step(stream, model, x);
            }
        }
    });

    let mut again = Stream::<f32, PtModel>::new();
    let again = black_box(&mut again);
    let mut differ = 0;
    for (t, x) in xs[0].iter().enumerate() {
        let y = if t == PT_MEASURED_STEP {
            probe.region("pt_step", || pt_stream_step(again, model, x))
        } else {
            pt_stream_step(again, model, x)
        };
        differ += bits_differ(&[y], &out[0][t..=t]);
    }

    sink.tensor(
        "",
        "logits",
        &mut out.iter().flatten().flat_map(|m| m.iter().copied()),
    );
    sink.tensor("", "bits_differ", &mut [differ as f32].into_iter());
    logits
}

/// The worst `|y − golden| / max(1, |golden|)` over every logit (the converter's measure; NaN
/// if a logit is NaN), and how many logits exceed `tol` by it.
pub fn pt_error(y: &PtLogits, golden: &[[[f32; PT_NY]; PT_TX]; PT_SERIES], tol: f32) -> (f32, u32) {
    let (mut worst, mut outside) = (0.0_f32, 0);
    let pairs = y
        .iter()
        .flatten()
        .flatten()
        .zip(golden.iter().flatten().flatten());
    for (&a, &b) in pairs {
        let e = (a - b).abs() / b.abs().max(1.0);
        if e.is_nan() || e > worst {
            worst = e;
        }
        if e.is_nan() || e > tol {
            outside += 1;
        }
    }
    (worst, outside)
}

/// The predicted class: the index of the larger logit (the first one on ties).
pub fn pt_class(logits: &[f32]) -> usize {
    argmax::<PT_NY>(logits.iter().copied())
}

// ---------------------------------------------------------------------------------------------
// BasicMotions: training on the device.
// ---------------------------------------------------------------------------------------------

/// Channels (accelerometer and gyroscope, x/y/z).
pub const BM_NX: usize = 6;
/// Classes: standing, running, walking, badminton.
pub const BM_NY: usize = 4;
/// Steps per series after averaging every 10 of the 100 recorded.
pub const BM_TX: usize = 10;
/// Training cases.
pub const BM_TRAIN: usize = 40;
/// Test cases.
pub const BM_TEST: usize = 40;

/// One preprocessed series: `series[t][channel]`.
pub type Series = [[f32; BM_NX]; BM_TX];

/// The preprocessed dataset (`data.rs` on the device).
pub struct Dataset<'a> {
    /// Training series.
    pub train_x: &'a [Series; BM_TRAIN],
    /// Training labels.
    pub train_y: &'a [u8; BM_TRAIN],
    /// Test series.
    pub test_x: &'a [Series; BM_TEST],
    /// Test labels.
    pub test_y: &'a [u8; BM_TEST],
}

/// A training run's settings (the model's `N_A` and the batch `M` are const generics of
/// [`basic_motions`]).
pub struct TrainSpec {
    /// Adam steps (one batch each; the training set is reshuffled every `40 / M` steps); a
    /// multiple of [`CURVE_STRIDE`], at most [`MAX_STEPS`].
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Global-norm gradient clip.
    pub clip: f32,
    /// Seed of the weights and of the shuffling.
    pub seed: u64,
    /// The loss "falls" if the mean of the last `window` losses is below
    /// `max_ratio_pct` percent of the mean of the first `window` (at most `steps / 2`).
    pub window: usize,
    /// See `window`.
    pub max_ratio_pct: u32,
}

/// The most steps a [`TrainSpec`] may ask for.
pub const MAX_STEPS: usize = 200;
/// The loss curve keeps the mean loss of each run of this many steps.
pub const CURVE_STRIDE: usize = 10;

/// The full configuration (Cortex-M4F, M3, RV32): `LstmParams<f32, 6, 16, 4>`, batch 4.
pub const TRAIN_LARGE: TrainSpec = TrainSpec {
    steps: 80,
    lr: 0.02,
    clip: 1.0,
    seed: 42,
    window: 20,
    max_ratio_pct: 25,
};
/// `N_A` of [`TRAIN_LARGE`].
pub const LARGE_NA: usize = 16;
/// `M` of [`TRAIN_LARGE`].
pub const LARGE_M: usize = 4;
/// Scalars in the model of [`TRAIN_LARGE`].
pub const LARGE_LEN: usize = bm_len(LARGE_NA);

/// The reduced configuration for 16 KB of RAM (Cortex-M0): `LstmParams<f32, 6, 6, 4>`, batch 2.
pub const TRAIN_REDUCED: TrainSpec = TrainSpec {
    steps: 150,
    lr: 0.02,
    clip: 1.0,
    seed: 42,
    window: 30,
    max_ratio_pct: 30,
};
/// `N_A` of [`TRAIN_REDUCED`].
pub const REDUCED_NA: usize = 6;
/// `M` of [`TRAIN_REDUCED`].
pub const REDUCED_M: usize = 2;
/// Scalars in the model of [`TRAIN_REDUCED`].
pub const REDUCED_LEN: usize = bm_len(REDUCED_NA);

/// `LstmParams::<f32, 6, n_a, 4>::LEN`, in a form usable as an array length.
pub const fn bm_len(n_a: usize) -> usize {
    4 * n_a * (n_a + BM_NX + 1) + BM_NY * (n_a + 1)
}

/// What a training run reports besides its golden outputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainSummary {
    /// Mean loss of the first `window` steps.
    pub first: f32,
    /// Mean loss of the last `window` steps.
    pub last: f32,
    /// Correctly classified training cases (of 40).
    pub train_hits: u32,
    /// Correctly classified test cases (of 40).
    pub test_hits: u32,
}

impl TrainSummary {
    /// Whether the loss fell as far as the spec demands.
    pub fn loss_fell(&self, spec: &TrainSpec) -> bool {
        self.last < self.first * (spec.max_ratio_pct as f32 / 100.0)
    }
}

/// Packs the cases `ids` into a batch: column `j` of `x[t]` is case `ids[j]`.
fn fill_batch<const M: usize>(
    series: &[Series],
    labels: &[u8],
    ids: &[u8],
    x: &mut [SMatrix<f32, BM_NX, M>; BM_TX],
    y: &mut [usize; M],
) {
    for (j, &id) in ids.iter().enumerate() {
        let id = usize::from(id);
        y[j] = usize::from(labels[id]);
        for (xt, st) in x.iter_mut().zip(&series[id]) {
            xt.column_mut(j).copy_from_slice(st);
        }
    }
}

/// The index of the largest value (the first one on ties).
fn argmax<const N: usize>(col: impl Iterator<Item = f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (k, v) in col.enumerate().take(N) {
        if v > best.1 {
            best = (k, v);
        }
    }
    best.0
}

/// Trains `LstmParams<f32, 6, N_A, 4>` with Adam (`Workspace::train_step`, cross-entropy at the
/// last step) in batches of `M`, reshuffled every epoch, then classifies both splits with
/// `Workspace::predict`. Outputs: the loss curve (the mean of every [`CURVE_STRIDE`] steps), the
/// final weights (`Params::copy_to_flat`, a buffer of `LEN` scalars, checked against the
/// model's) and the hit counts.
///
/// The model lives in this frame; the optimizer and the workspace live in the frame of
/// [`bm_train`], and the flat copy of the weights in that of [`bm_send_final`], so those two
/// never share the stack.
#[inline(never)]
pub fn basic_motions<const N_A: usize, const M: usize, const LEN: usize>(
    spec: &TrainSpec,
    data: &Dataset<'_>,
    probe: &mut impl Probe,
    sink: &mut impl Sink,
) -> Result<TrainSummary, Error> {
    const { assert!(LEN == bm_len(N_A) && BM_TRAIN.is_multiple_of(M) && BM_TEST.is_multiple_of(M)) };
    assert!(spec.steps <= MAX_STEPS && spec.steps.is_multiple_of(CURVE_STRIDE));
    assert!(0 < spec.window && 2 * spec.window <= spec.steps);
    let mut rng = Rng::new(spec.seed);
    let mut model =
        build(|| LstmParams::<f32, BM_NX, N_A, BM_NY>::init(&Init::default(), &mut rng));
    let mut curve = [0.0_f32; MAX_STEPS / CURVE_STRIDE];
    let curve = &mut curve[..spec.steps / CURVE_STRIDE];
    let (windows, hits) =
        bm_train::<N_A, M>(spec, data, &mut rng, black_box(&mut model), curve, probe)?;
    let summary = TrainSummary {
        first: windows[0] / spec.window as f32,
        last: windows[1] / spec.window as f32,
        train_hits: hits[0],
        test_hits: hits[1],
    };
    sink.tensor("", "loss_curve", &mut curve.iter().copied());
    bm_send_final::<N_A, LEN>(&model, sink)?;
    sink.tensor("", "hits", &mut hits.iter().map(|&h| h as f32));
    Ok(summary)
}

/// The training loop and the evaluation of [`basic_motions`]: fills the loss curve and returns
/// the loss sums of the first and last windows and the hits on the training and test splits.
#[inline(never)]
fn bm_train<const N_A: usize, const M: usize>(
    spec: &TrainSpec,
    data: &Dataset<'_>,
    rng: &mut Rng,
    model: &mut LstmParams<f32, BM_NX, N_A, BM_NY>,
    curve: &mut [f32],
    probe: &mut impl Probe,
) -> Result<([f32; 2], [u32; 2]), Error> {
    let mut opt = build(|| Adam::with_hyperparameters(spec.lr, 0.9, 0.999, 1e-8));
    opt.clip = Clip::GlobalNorm(spec.clip); // not `with_clip`: it moves the whole state
    let mut ws = LstmWorkspace::<f32, BM_NX, N_A, BM_NY, M, BM_TX>::ZEROS;
    let (mut x, mut y) = ([SMatrix::<f32, BM_NX, M>::zeros(); BM_TX], [0_usize; M]);
    let mut order: [u8; BM_TRAIN] = core::array::from_fn(|k| k as u8);
    let ws = black_box(&mut ws);

    let batches = BM_TRAIN / M;
    let mut windows = [0.0_f32; 2];
    for s in 0..spec.steps {
        let b = s % batches;
        if b == 0 {
            rng.shuffle(&mut order);
        }
        fill_batch(
            data.train_x,
            data.train_y,
            &order[b * M..][..M],
            &mut x,
            &mut y,
        );
        let target = Target::ClassLast(&y);
        let loss = if s == 0 {
            probe.region("bm_train_step", || {
                ws.train_step(model, &mut opt, &x, target)
            })?
        } else {
            ws.train_step(model, &mut opt, &x, target)?
        };
        curve[s / CURVE_STRIDE] += loss / CURVE_STRIDE as f32;
        if s < spec.window {
            windows[0] += loss;
        }
        if s >= spec.steps - spec.window {
            windows[1] += loss;
        }
    }

    let mut hits = [0_u32; 2];
    for (h, (series, labels)) in hits.iter_mut().zip([
        (&data.train_x[..], &data.train_y[..]),
        (&data.test_x[..], &data.test_y[..]),
    ]) {
        for first in (0..series.len()).step_by(M) {
            let ids: [u8; M] = core::array::from_fn(|j| (first + j) as u8);
            fill_batch(series, labels, &ids, &mut x, &mut y);
            let last = &ws.predict(model, &x, Head::Softmax)[BM_TX - 1];
            for (j, &label) in y.iter().enumerate() {
                *h += u32::from(argmax::<BM_NY>(last.column(j).iter().copied()) == label);
            }
        }
    }
    Ok((windows, hits))
}

/// Sends the final weights as `Params::copy_to_flat` lays them out.
#[inline(never)]
fn bm_send_final<const N_A: usize, const LEN: usize>(
    model: &LstmParams<f32, BM_NX, N_A, BM_NY>,
    sink: &mut impl Sink,
) -> Result<(), Error> {
    let mut flat = [0.0_f32; LEN];
    model.copy_to_flat(&mut flat)?;
    sink.tensor("", "final_params", &mut flat.iter().copied());
    Ok(())
}
