//! Large values on the heap without building them on the stack (feature `alloc`).
//!
//! Workspaces, tapes and gradients hold whole sequences and are often hundreds of kilobytes
//! or a few megabytes. `Box::new(Workspace::zeros())` builds the value on the stack and then
//! moves it, and a debug build may hold more than one copy: a 1 MB workspace overflows a
//! 2 MB thread stack (Rust's default for spawned threads; a Windows main thread has 1 MB).
//! The functions here allocate zeroed memory and never put the value on the stack, in debug
//! and in release builds:
//!
//! | what | call |
//! |---|---|
//! | any workspace, tape, gradient, state, layer, model or [`Stream`](crate::Stream), all zero | [`zeroed::<X>()`](zeroed) (equals `X::ZEROS`) |
//! | a training workspace | [`Workspace::boxed()`](crate::train::Workspace::boxed) |
//! | fresh parameters of any layer or model | [`init::<N>(&init, &mut rng)`](init) (equals `N::init(..)`) |
//!
//! Every type of the crate that has a `ZEROS` constant implements [`Zeroable`] with this
//! feature, the optimizers' states included: an optimizer's settings are a few scalars
//! ([`Adam::settings`](crate::optim::Adam::settings)), its state goes on the heap with
//! `Adam::settings(..).with_state(boxed::zeroed::<AdamState<..>>())`. The feature needs a
//! global allocator (the `alloc` crate), not `std`: on a device, any `#[global_allocator]`
//! (the `embedded-alloc` crate, for one). Without it the crate neither allocates nor depends on `bytemuck`.
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::init::{Init, Rng};
//! use tinyrnn::{boxed, loss::Target, optim::Sgd, train::Workspace};
//! use tinyrnn::{Dense, Gru, Lstm, Model, Stack};
//!
//! type Net = Model<Stack<Lstm<f32, 6, 64>, Gru<f32, 64, 64>>, Dense<f32, 64, 4>>;
//! type Ws = Workspace<f32, Net, 8, 100>; // 2.8 MB: batch 8, 100 steps
//!
//! // On a thread with a 256 kB stack, in a debug build too.
//! let worker = std::thread::Builder::new().stack_size(256 << 10).spawn(|| {
//!     let mut net = boxed::init::<Net>(&Init::default(), &mut Rng::new(1));
//!     let mut ws = Ws::boxed(); // or boxed::zeroed::<Ws>()
//!     let x = [SMatrix::<f32, 6, 8>::repeat(0.1); 100];
//!     let labels = [0, 1, 2, 3, 0, 1, 2, 3];
//!     ws.train_step(&mut net, &mut Sgd::new(0.1), &x, &Target::ClassLast(&labels))
//! });
//! assert!(worker.unwrap().join().unwrap()? > 0.0);
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! # Safety, and the crate's `#![deny(unsafe_code)]`
//!
//! All-zero bytes are a valid value of a type only if every field's are. The types implement
//! [`Zeroable`] by `#[derive(bytemuck::Zeroable)]`, which checks exactly that at compile time,
//! field by field down to the scalars (`f32`, `f64`: zero bits are `0.0`), and the memory comes
//! from `bytemuck`'s [`zeroed_box`](bytemuck::zeroed_box). The crate writes no `unsafe` for
//! it: the derive's `unsafe impl` is generated inside `bytemuck_derive`, whose output the
//! `unsafe_code` lint does not report (it reports no lint inside other crates' macros), so no
//! `#[allow(unsafe_code)]` is needed either.
//!
//! # Making a type boxable
//!
//! One line above the struct, beside its other derives; `bound = ""` asks for the bounds
//! "every field is `Zeroable`" instead of "every type parameter is", which is what generic
//! structs with associated-type fields (a layer's `L::State`, a model's tape) need:
//!
//! ```
//! use nalgebra::SMatrix;
//!
//! #[derive(Clone, Copy, bytemuck::Zeroable)]
//! #[zeroable(bound = "")]
//! struct History<T, const N: usize, const T_X: usize> {
//!     values: [SMatrix<T, N, 1>; T_X],
//!     len: usize,
//! }
//!
//! let h = tinyrnn::boxed::zeroed::<History<f32, 64, 1000>>();
//! assert_eq!(h.len, 0);
//! ```
//!
//! (Inside this crate the line is
//! `#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]`.)

extern crate alloc;

use crate::init::{Init, Initialize, Rng};
use alloc::boxed::Box;
use core::alloc::Layout;

/// Types whose all-zero bytes are a valid value (`bytemuck`'s trait, re-exported). Every
/// type of this crate with a `ZEROS` constant implements it with the `alloc` feature, and
/// its zero bytes are that constant.
///
/// # Example
/// ```
/// use tinyrnn::boxed::Zeroable;
/// use tinyrnn::train::LstmWorkspace;
///
/// fn on_heap<X: Zeroable>() -> Box<X> {
///     tinyrnn::boxed::zeroed()
/// }
/// let ws = on_heap::<LstmWorkspace<f32, 6, 32, 4, 8, 100>>();
/// assert_eq!(ws.dh.len(), 100);
/// ```
pub use bytemuck::Zeroable;

/// A zeroed `X` on the heap, never built on the stack: the same value as `X::ZEROS` (or
/// `X::zeros()`) for this crate's types.
///
/// Aborts on allocation failure, as `Box::new` does (through
/// [`handle_alloc_error`](alloc::alloc::handle_alloc_error)); [`try_zeroed`] returns `None`
/// instead.
///
/// # Example
/// ```
/// use tinyrnn::{boxed, LstmTape, Params};
///
/// type Tape = LstmTape<f32, 6, 64, 4, 8, 200>; // 3.2 MB
/// let tape = boxed::zeroed::<Tape>();
/// assert!(tape.c.iter().all(|c| c.iter().all(|&v| v == 0.0)));
/// ```
pub fn zeroed<X: Zeroable>() -> Box<X> {
    match try_zeroed() {
        Some(b) => b,
        None => alloc::alloc::handle_alloc_error(Layout::new::<X>()),
    }
}

/// [`zeroed`], or `None` if the allocator has no room (for a device with a small heap).
///
/// # Example
/// ```
/// use tinyrnn::{boxed, train::RnnWorkspace};
///
/// let ws = boxed::try_zeroed::<RnnWorkspace<f64, 3, 16, 2, 4, 50>>();
/// assert!(ws.is_some_and(|ws| ws.y_pred.len() == 50));
/// ```
pub fn try_zeroed<X: Zeroable>() -> Option<Box<X>> {
    bytemuck::try_zeroed_box().ok()
}

/// Freshly initialised parameters on the heap, never built on the stack: the same values
/// as [`Initialize::init`], bit for bit ([`zeroed`], then [`Initialize::init_into`]).
///
/// # Example
/// ```
/// use tinyrnn::init::{Init, Initialize, Rng};
/// use tinyrnn::{boxed, Bidirectional, Concat, Dense, Lstm, Model};
///
/// type Net = Model<Bidirectional<Lstm<f32, 3, 32>, Concat<64>>, Dense<f32, 64, 2>>;
/// let net = boxed::init::<Net>(&Init::default(), &mut Rng::new(9));
/// assert_eq!(*net, Net::init(&Init::default(), &mut Rng::new(9)));
/// ```
pub fn init<N: Initialize + Zeroable>(init: &Init, rng: &mut Rng) -> Box<N> {
    let mut n = zeroed::<N>();
    n.init_into(init, rng);
    n
}
