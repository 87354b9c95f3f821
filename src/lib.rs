//! # tinyrnn
//!
//! Recurrent neural networks for microcontrollers: `#![no_std]`, no heap, and every tensor a
//! const-generic nalgebra [`SMatrix`](nalgebra::SMatrix), so a dimension mismatch is a compile
//! error rather than a runtime one.
//!
//! The crate provides RNN ([`rnn`]), LSTM ([`lstm`]) and GRU ([`gru`]) layers, a per-step dense
//! layer ([`dense`]), and the pieces that compose them: stacks ([`Stack`]), a bidirectional
//! wrapper ([`Bidirectional`]), models with an output layer ([`Model`]), streaming inference
//! ([`Stream`]), training ([`train`]), and integer inference for cores without an FPU
//! ([`quant`]: int8 weights, int16 states, post-training quantisation). Each layer has forward and backward passes for one
//! step and for a fixed-length sequence, generic over `f32` and `f64` ([`Real`]), and the
//! compiler checks every place where two layers meet. Backward passes are checked against
//! finite differences; the RNN and LSTM equations are those of the course notebook "Building a
//! Recurrent Neural Network step by step", with its errors corrected (see the README), and the
//! notebook's API ([`RnnParams`], [`LstmParams`]) is kept, computed by the same code.
//!
//! # Quick start
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::{LstmParams, Params};
//!
//! // 3 input features, 5 hidden units, 2 classes. Every shape is a type.
//! let mut params = LstmParams::<f32, 3, 5, 2>::zeros();
//! params.bf.fill(1.0);
//! params.wcx.fill(0.5);
//!
//! // A batch of 10 sequences, 7 steps each: x[t] is (N_X, M) = (3, 10).
//! let x = [SMatrix::<f32, 3, 10>::repeat(0.1); 7];
//! let a0 = SMatrix::<f32, 5, 10>::zeros();
//! let tape = params.forward(&x, &a0);
//! assert!((tape.y_pred[6].column(0).sum() - 1.0).abs() < 1e-6); // softmax per column
//!
//! // Backpropagation through time from ∂J/∂a⟨t⟩, then one gradient-descent step.
//! let da = [SMatrix::<f32, 5, 10>::repeat(0.01); 7];
//! let grads = params.backward(&da, &tape);
//! params.axpy(-0.1, &grads.dparams);
//! ```
//!
//! Training from a loss, with every buffer owned by the caller:
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::{init::{Init, Rng}, loss::Target, optim::Adam, train::LstmWorkspace, LstmParams};
//!
//! let mut model = LstmParams::<f32, 3, 8, 2>::init(&Init::default(), &mut Rng::new(42));
//! let mut opt = Adam::new(1e-2);
//! let mut ws = LstmWorkspace::<f32, 3, 8, 2, 4, 20>::zeros(); // batch 4, 20 steps
//! let x = [SMatrix::<f32, 3, 4>::repeat(0.1); 20];
//! let labels = [0, 1, 1, 0];
//! let loss = ws.train_step(&mut model, &mut opt, &x, &Target::ClassLast(&labels))?;
//! assert!(loss > 0.0);
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! Layers compose like types. A 2-layer GRU classifier, trained and then streamed:
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::init::{Init, Initialize, Rng};
//! use tinyrnn::{loss::Target, optim::Adam, train::Workspace};
//! use tinyrnn::{Dense, Gru, Model, Stack, Stream};
//!
//! type Net = Model<Stack<Gru<f32, 3, 16>, Gru<f32, 16, 16>>, Dense<f32, 16, 2>>;
//! let mut net = Net::init(&Init::default(), &mut Rng::new(7));
//! let mut opt = Adam::new(1e-2); // one optimizer for every layer
//! let mut ws = Workspace::<f32, Net, 4, 20>::zeros();
//! let x = [SMatrix::<f32, 3, 4>::repeat(0.1); 20];
//! ws.train_step(&mut net, &mut opt, &x, &Target::ClassLast(&[0, 1, 1, 0]))?;
//!
//! let mut stream = Stream::<f32, Net>::new(); // both layers' state, 128 bytes
//! let logits: SMatrix<f32, 2, 1> = stream.step(&net, &SMatrix::repeat(0.1));
//! assert!(logits.iter().all(|v| v.is_finite()));
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! # Where things are
//!
//! | module | contents |
//! |---|---|
//! | [`layer`] | [`Layer`] (sequence forward and backward), [`Step`] (streaming), [`Stack`]: how layers compose |
//! | [`rnn`] | the [`Rnn`] layer, and the notebook's [`RnnParams`] (with its softmax output layer), its cache, [`RnnTape`], [`RnnGrads`]: `a⟨t⟩ = tanh(Wax·x⟨t⟩ + Waa·a⟨t−1⟩ + ba)` |
//! | [`lstm`] | the [`Lstm`] layer and its state, and the notebook's [`LstmParams`], its gates and cache, [`LstmTape`], [`LstmGrads`], and the seeds' `(N_A, N_A + N_X)` weight layout |
//! | [`gru`] | the [`Gru`] layer, reset-after ([`ResetAfter`], PyTorch) or reset-before ([`ResetBefore`]) |
//! | [`dense`] | [`Dense`]: `y⟨t⟩ = φ(W·x⟨t⟩ + b)` at every step, `φ` = [`Identity`], [`Tanh`], [`Sigmoid`], [`Relu`] |
//! | [`bidirectional`] | [`Bidirectional`]: a layer forwards and backwards in time, merged by [`Concat`] or [`Sum`] |
//! | [`model`] | [`Model`] (a body with an output layer) and [`Stream`] (streaming inference) |
//! | [`train`] | [`train::Workspace`]: the whole model's gradient from a loss in one call, a full training step, inference and evaluation; [`train::Network`], what a trainable model provides |
//! | [`data`] | datasets in batches: [`data::Batch`] packs cases into a time-major batch and pads a short one with columns of weight 0; [`data::Confusion`], a classifier's confusion matrix |
//! | [`loss`] | output heads (softmax, linear), targets (class indices, probabilities, values; last step or every step), cross-entropy and squared error |
//! | [`optim`] | SGD, momentum, Adam, gradient clipping by value and by global norm |
//! | [`init`] | a seedable generator and Glorot / fan-in initialisation, forget-gate bias |
//! | [`interop`] | PyTorch `state_dict`s and Keras weight lists in and out: [`interop::torch`], [`interop::keras`] |
//! | [`params`] | [`Params`], walking parameters, gradients and optimizer state as flat slices; numpy (row-major) loading |
//! | `boxed` | feature `alloc`: workspaces, tapes, gradients and models on the heap, never built on the stack |
//! | [`activation`] | `σ`, `tanh`, per-column softmax, derivatives from outputs |
//! | [`Real`] | the scalar trait (`f32`, `f64`) |
//! | [`Error`] | typed errors for runtime input (slice lengths, non-finite values, a framework tensor that is missing or malformed: [`error::TensorId`], [`error::TensorProblem`]) |
//!
//! Every pass has a by-value form (convenient on a host) and a form that writes into storage
//! the caller owns ([`RnnParams::forward_into`], [`LstmParams::backward_into`], …), so a
//! whole-sequence tape can live in a `static` on a device.
//!
//! # Generics
//!
//! | parameter | meaning |
//! |---|---|
//! | `T` | scalar: `f32` or `f64` |
//! | `N_X` | input features per step |
//! | `N_A` | hidden units |
//! | `N_IN`, `N_OUT` | a dense layer's input and output sizes |
//! | `N_Y` | outputs (softmax classes) |
//! | `M` | batch columns; column `j` of every matrix is example `j` |
//! | `T_X` | sequence length (never `T`, which is the scalar) |
//!
//! # Memory
//!
//! Every type is a plain struct of fixed-size arrays, so `size_of` is exact. With
//! `s = size_of::<T>()`:
//!
//! | type | bytes |
//! |---|---|
//! | [`RnnParams`] (= its gradient) | `s·(N_A·N_X + N_A² + N_A + N_Y·N_A + N_Y)` |
//! | [`RnnTape`] | `s·M·(N_A + T_X·(N_X + N_A + N_Y))` |
//! | [`LstmParams`] (= its gradient) | `s·(4·N_A·(N_A + N_X + 1) + N_Y·(N_A + 1))` |
//! | [`LstmTape`] | `s·M·(2·N_A + T_X·(N_X + 7·N_A + N_Y))` |
//! | [`Rnn`], [`Lstm`], [`Gru`] (= their gradients) | `s·(N_A·(N_X + N_A + 1))`, `s·4·N_A·(N_X + N_A + 1)`, `s·(3·N_A·(N_X + N_A + 1) + N_A)` |
//! | [`Dense`] | `s·N_OUT·(N_IN + 1)` |
//! | a layer's tape, per step | RNN `s·N_A·M`, LSTM `s·7·N_A·M`, GRU `s·5·N_A·M`, dense `s·N_OUT·M` (plus the initial state) |
//! | [`Stream`] (streaming state) | RNN and GRU `s·N_A·M`, LSTM `s·2·N_A·M`, dense 0; a stack sums its layers |
//!
//! A layer's tape holds no copy of its input: in a stack, the layer below already holds it.
//! Inference needs no tape: a [`Stream`] keeps only the states.
//!
//! # Features and targets
//!
//! By default the crate is `no_std` and never allocates (a test with a counting global
//! allocator proves it). It depends on `nalgebra` (without default features, with `libm`),
//! `num-traits` and `libm` only, and builds for bare-metal targets such as
//! `thumbv7em-none-eabihf` and `thumbv6m-none-eabi`. Transcendental functions come from `libm`,
//! so a host and a device compute the same bits.
//!
//! One optional feature:
//!
//! | feature | what it adds |
//! |---|---|
//! | `alloc` | the `boxed` module: workspaces, tapes, gradients, states, layers and models on the heap, zeroed or freshly initialised, **without building them on the stack** (`Box::new(Workspace::zeros())` builds the value on the stack first, and a debug build overflows a 2 MB thread stack with a 1 MB workspace). Needs a global allocator (the `alloc` crate), not `std`, so it builds for the bare-metal targets too. Adds a dependency on `bytemuck` (and nalgebra's `convert-bytemuck`); the library stays free of `unsafe` code |
//!
//! ```toml
//! [dependencies]
//! tinyrnn = { version = "0.1", features = ["alloc"] }
//! ```
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use tinyrnn::{boxed, init::{Init, Rng}, train::LstmWorkspace, LstmParams};
//!
//! // With `alloc`: a 0.9 MB workspace and a model, straight on the heap.
//! let mut ws = LstmWorkspace::<f32, 6, 32, 4, 8, 100>::boxed();
//! let mut model = boxed::init::<LstmParams<f32, 6, 32, 4>>(&Init::default(), &mut Rng::new(1));
//! # }
//! ```
//!
//! Without the feature, or on a device, keep large values in `static`s (every type has a
//! `const` `ZEROS`) and initialise them in place: [`init::Initialize::init_into`],
//! [`RnnParams::init_into`], [`LstmParams::init_into`]; reset them in place with
//! [`params::Zeroed::reset`], [`train::Workspace::reset`], [`Params::fill_zero`] and
//! [`Stream::reset`].
//!
//! The minimum supported Rust version is 1.89 (nalgebra 0.35's).
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
// No panics in the library: none of these is allowed outside tests. Element access goes through
// iterators, chunks and `get` (`indexing_slicing`). `arithmetic_side_effects` is not enabled:
// it flags every operation on the generic `T`, which is floating point and cannot panic; the
// integer arithmetic it finds is on sizes and indices bounded by the const shapes.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing
    )
)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod activation;
pub mod bidirectional;
#[cfg(feature = "alloc")]
pub mod boxed;
pub mod data;
pub mod dense;
pub mod error;
pub mod gru;
pub mod init;
pub mod interop;
mod kernel;
pub mod layer;
pub mod loss;
pub mod lstm;
pub mod model;
pub mod optim;
pub mod params;
pub mod quant;
mod real;
pub mod rnn;
pub mod train;

pub use bidirectional::{Bidirectional, Concat, Sum};
pub use dense::{Dense, Identity, Relu, Sigmoid, Tanh};
pub use error::Error;
pub use gru::{Gru, ResetAfter, ResetBefore};
pub use layer::{Layer, Stack, Stack3, Step};
pub use lstm::{Lstm, LstmGrads, LstmParams, LstmTape};
pub use model::{Model, Stream};
pub use params::Params;
pub use real::Real;
pub use rnn::{Rnn, RnnGrads, RnnParams, RnnTape};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
