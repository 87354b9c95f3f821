//! Training: the whole model's gradient from a loss in one call, and a complete training step
//! (forward, loss, backward, update) on storage the caller owns.
//!
//! [`Network`] is what a trainable model provides (a body with a tape and its backward pass,
//! and a linear output layer `Wy`, `by`): every [`Model`](crate::Model) with a linear
//! [`Dense`] output layer, and the notebook's [`RnnParams`] and [`LstmParams`].
//! [`Workspace`] holds everything a training step writes: the tape, the gradients and the
//! `∂J/∂h⟨t⟩` buffer. The model, its optimizer and its
//! workspace are plain structs without pointers, so each can be a `static` on a device.
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::init::{Init, Rng};
//! use tinyrnn::loss::Target;
//! use tinyrnn::optim::Adam;
//! use tinyrnn::train::LstmWorkspace;
//! use tinyrnn::LstmParams;
//!
//! // Classify 4 sequences of 10 steps by the sign of their first input.
//! let mut model = LstmParams::<f32, 1, 8, 2>::init(&Init::default(), &mut Rng::new(1));
//! let mut opt = Adam::new(0.05);
//! let mut ws = LstmWorkspace::<f32, 1, 8, 2, 4, 10>::zeros();
//! let mut x = [SMatrix::<f32, 1, 4>::zeros(); 10];
//! x[0] = SMatrix::from_row_slice(&[1.0, -1.0, 1.0, -1.0]);
//! let labels = [1, 0, 1, 0];
//! let first = ws.train_step(&mut model, &mut opt, &x, &Target::ClassLast(&labels))?;
//! let mut last = first;
//! for _ in 0..30 {
//!     last = ws.train_step(&mut model, &mut opt, &x, &Target::ClassLast(&labels))?;
//! }
//! assert!(last < 0.1 * first);
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! # Mini-batches larger than `M`
//!
//! [`Workspace::accumulate`] *adds* a batch's gradient to the workspace. To average over `k`
//! batches of `M`: [`Workspace::zero_grads`], then `accumulate` each batch, then scale the
//! gradient by `1/k` (each batch's loss is already a mean over its `M` examples) and call the
//! optimizer:
//!
//! ```
//! # use nalgebra::SMatrix;
//! # use tinyrnn::{init::{Init, Rng}, loss::Target, optim::{Optimizer, Sgd}, train::RnnWorkspace, Params, RnnParams};
//! # let mut model = RnnParams::<f64, 2, 4, 3>::init(&Init::default(), &mut Rng::new(2));
//! # let mut ws = RnnWorkspace::<f64, 2, 4, 3, 5, 6>::zeros();
//! # let batches = [([SMatrix::<f64, 2, 5>::repeat(0.5); 6], [0_usize, 1, 2, 0, 1]); 3];
//! let mut opt = Sgd::new(0.1);
//! ws.zero_grads();
//! for (x, labels) in &batches {
//!     ws.accumulate(&model, x, &Target::ClassLast(labels))?;
//! }
//! ws.param_grads_mut().scale(1.0 / batches.len() as f64);
//! opt.step(&mut model, ws.param_grads())?; // atomic: on an error the model is unchanged
//! # Ok::<(), tinyrnn::Error>(())
//! ```

use crate::data::{argmax, Confusion};
use crate::dense::{linear_backward, Dense, Identity};
use crate::layer::{Layer, Stack};
use crate::loss::{weighted_step_loss, Head, StepTarget, Weighted};
use crate::optim::Optimizer;
use crate::{kernel, Error, LstmParams, Params, Real, RnnParams};
use nalgebra::SMatrix;

pub use crate::params::Zeroed;

macro_rules! zeroed_by_inherent_const {
    ($($ty:ident),*) => {$(
        impl<
                T: Real,
                const N_X: usize,
                const N_A: usize,
                const N_Y: usize,
                const M: usize,
                const T_X: usize,
            > Zeroed for crate::$ty<T, N_X, N_A, N_Y, M, T_X>
        {
            const ZEROS: Self = Self::ZEROS;
        }
    )*};
}
zeroed_by_inherent_const!(RnnTape, RnnGrads, LstmTape, LstmGrads);

/// A trainable sequence model: a body producing hidden features `h⟨t⟩` from inputs `x⟨t⟩`,
/// and a linear output layer producing logits `z⟨t⟩ = Wy·h⟨t⟩ + by`, for a batch of `M`.
///
/// Implemented by every [`Model`](crate::Model) whose output layer is a linear
/// [`Dense`] (any body: a cell, a [`Stack`], a [`Bidirectional`](crate::Bidirectional) layer,
/// dense layers), and by the notebook's [`RnnParams`] and [`LstmParams`]. The body starts from
/// the zero state. [`Workspace`] needs nothing else to train and run it.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::train::{Network, Zeroed};
/// use tinyrnn::{Dense, Gru, LstmParams, Model, Params};
///
/// /// The last step's logits of any network, generically.
/// fn last_logits<N: Network<f32, 1>, const T_X: usize>(net: &N, x: &[N::X; T_X]) -> N::Logits {
///     let mut tape = N::Tape::<T_X>::ZEROS;
///     net.forward_body(x, &mut tape);
///     let mut z = N::Logits::ZEROS;
///     net.head_forward(&N::hidden(&tape)[T_X - 1], &mut z);
///     z
/// }
/// let x = [SMatrix::<f32, 2, 1>::repeat(1.0); 4];
/// let z = last_logits(&LstmParams::<f32, 2, 3, 5>::zeros(), &x);
/// assert_eq!(z, SMatrix::<f32, 5, 1>::zeros());
/// let z = last_logits(&Model::<Gru<f32, 2, 3>, Dense<f32, 3, 5>>::zeros(), &x);
/// assert_eq!(z, SMatrix::<f32, 5, 1>::zeros());
/// ```
pub trait Network<T: Real, const M: usize>: Params<T> {
    /// One step's input, `SMatrix<T, N_X, M>`.
    type X: Copy + Zeroed;
    /// One step's hidden features (the body's output), `SMatrix<T, N_H, M>`.
    type H: Copy + Zeroed;
    /// One step's logits, `SMatrix<T, N_Y, M>`.
    type Logits: Copy + Zeroed;
    /// The body's forward record (and backward scratch) for `T_X` steps.
    type Tape<const T_X: usize>: Zeroed;

    /// The body's forward pass from the zero state.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::train::{Network, Zeroed};
    /// use tinyrnn::{Dense, Layer, Model, Params, Rnn};
    ///
    /// // A model's body is its lower layer: the same outputs as that layer run alone.
    /// type Net = Model<Rnn<f32, 1, 2>, Dense<f32, 2, 3>>;
    /// let mut net = Net::zeros();
    /// net.lower.wax.fill(0.7);
    /// let x = [SMatrix::<f32, 1, 1>::repeat(1.0); 4];
    /// let mut tape = <Net as Network<f32, 1>>::Tape::<4>::ZEROS;
    /// net.forward_body(&x, &mut tape);
    /// let mut alone = <Rnn<f32, 1, 2> as Layer<f32, 1>>::Tape::<4>::ZEROS;
    /// net.lower.forward(&x, &Zeroed::ZEROS, &mut alone);
    /// assert_eq!(Net::hidden(&tape), <Rnn<f32, 1, 2> as Layer<f32, 1>>::output(&alone));
    /// ```
    fn forward_body<const T_X: usize>(&self, x: &[Self::X; T_X], tape: &mut Self::Tape<T_X>);
    /// The body's outputs `h⟨t⟩`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::train::{Network, Zeroed};
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// type P = RnnParams<f64, 1, 2, 1>;
    /// let mut p = P::zeros();
    /// p.ba.fill(0.5);
    /// p.waa.fill(1.0);
    /// let mut tape = <P as Network<f64, 1>>::Tape::<3>::ZEROS;
    /// p.forward_body(&[SMatrix::zeros(); 3], &mut tape);
    /// let h: &[SMatrix<f64, 2, 1>; 3] = P::hidden(&tape);
    /// assert!((h[0][0] - 0.5_f64.tanh()).abs() < 1e-15); // a⟨1⟩ = tanh(ba)
    /// assert!(h[1][0] > h[0][0]); // a⟨2⟩ = tanh(ba + waa·a⟨1⟩)
    /// ```
    fn hidden<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::H; T_X];
    /// The body's backward pass from `dh[t] = ∂J/∂h⟨t⟩`: **adds** into `dparams`,
    /// overwrites `dx`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::train::{Network, Zeroed};
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// type P = RnnParams<f64, 1, 1, 1>;
    /// // J = Σₜ h⟨t⟩, so dh⟨t⟩ = 1.
    /// fn j(p: &P, x: &[SMatrix<f64, 1, 1>; 3]) -> f64 {
    ///     let mut tape = <P as Network<f64, 1>>::Tape::<3>::ZEROS;
    ///     p.forward_body(x, &mut tape);
    ///     P::hidden(&tape).iter().map(|h| h[0]).sum()
    /// }
    /// let mut p = P::zeros();
    /// (p.wax[0], p.waa[0]) = (0.8, 0.5);
    /// let x = [SMatrix::repeat(1.0), SMatrix::repeat(-0.5), SMatrix::repeat(2.0)];
    /// let mut tape = <P as Network<f64, 1>>::Tape::<3>::ZEROS;
    /// p.forward_body(&x, &mut tape);
    /// let (mut dp, mut dx) = (P::zeros(), [SMatrix::zeros(); 3]);
    /// p.backward_body(&x, &mut tape, &[SMatrix::repeat(1.0); 3], &mut dp, &mut dx);
    ///
    /// // ∂J/∂waa against a central difference.
    /// let (mut hi, mut lo, eps) = (p, p, 1e-6);
    /// hi.waa[0] += eps;
    /// lo.waa[0] -= eps;
    /// assert!((dp.waa[0] - (j(&hi, &x) - j(&lo, &x)) / (2.0 * eps)).abs() < 1e-8);
    /// ```
    fn backward_body<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dh: &[Self::H; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
    );
    /// `z = Wy·h + by`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::train::Network;
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f32, 1, 2, 1>::zeros();
    /// p.wya = SMatrix::from_row_slice(&[1.0, -2.0]);
    /// p.by[0] = 0.5;
    /// let mut z = SMatrix::<f32, 1, 1>::zeros();
    /// p.head_forward(&SMatrix::<f32, 2, 1>::new(3.0, 1.0), &mut z);
    /// assert_eq!(z[0], 1.0 * 3.0 - 2.0 * 1.0 + 0.5);
    /// ```
    fn head_forward(&self, h: &Self::H, z: &mut Self::Logits);
    /// From `dz = ∂J/∂z`: **adds** `dWy += dz·hᵀ`, `dby += dz·1` into `dparams`, and
    /// overwrites `dh = Wyᵀ·dz`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::train::Network;
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// type P = RnnParams<f32, 1, 2, 1>;
    /// let mut p = P::zeros();
    /// p.wya = SMatrix::from_row_slice(&[1.0, -2.0]);
    /// let (h, dz) = (SMatrix::<f32, 2, 1>::new(3.0, 1.0), SMatrix::<f32, 1, 1>::new(0.5));
    /// let (mut dp, mut dh) = (P::zeros(), SMatrix::repeat(9.0));
    /// p.head_backward(&h, &dz, &mut dp, &mut dh);
    /// p.head_backward(&h, &dz, &mut dp, &mut dh);
    /// assert_eq!(dp.wya, SMatrix::<f32, 1, 2>::new(3.0, 1.0)); // added twice: 2·dz·hᵀ
    /// assert_eq!(dp.by[0], 1.0);
    /// assert_eq!(dh, SMatrix::<f32, 2, 1>::new(0.5, -1.0)); // overwritten: Wyᵀ·dz
    /// ```
    fn head_backward(&self, h: &Self::H, dz: &Self::Logits, dparams: &mut Self, dh: &mut Self::H);
}

impl<T, const M: usize, B, const N_H: usize, const N_Y: usize> Network<T, M>
    for Stack<B, Dense<T, N_H, N_Y, Identity>>
where
    T: Real,
    B: Layer<T, M, Y = SMatrix<T, N_H, M>>,
{
    type X = B::X;
    type H = SMatrix<T, N_H, M>;
    type Logits = SMatrix<T, N_Y, M>;
    type Tape<const T_X: usize> = B::Tape<T_X>;

    fn forward_body<const T_X: usize>(&self, x: &[Self::X; T_X], tape: &mut Self::Tape<T_X>) {
        self.lower.forward(x, &B::State::ZEROS, tape);
    }
    fn hidden<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::H; T_X] {
        B::output(tape)
    }
    fn backward_body<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dh: &[Self::H; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
    ) {
        let mut ds0 = B::State::ZEROS;
        self.lower
            .backward(x, tape, dh, &mut dparams.lower, dx, &mut ds0);
    }
    fn head_forward(&self, h: &Self::H, z: &mut Self::Logits) {
        kernel::head(z, &self.upper.w, h, &self.upper.b);
    }
    fn head_backward(&self, h: &Self::H, dz: &Self::Logits, dparams: &mut Self, dh: &mut Self::H) {
        let d = &mut dparams.upper;
        linear_backward(&self.upper.w, h, dz, &mut d.w, &mut d.b, dh);
    }
}

/// Everything a training step writes, for a [`Network`] `N`, a batch of `M` and sequences of
/// `T_X`: the body's tape, the parameter gradient (of type `N`), the gradients flowing into
/// the body and its input, and the predictions.
///
/// # Generics
/// `T`: scalar; `N`: the model ([`Model`](crate::Model), [`RnnParams`] or [`LstmParams`]);
/// `M`: batch columns; `T_X`: sequence length. [`RnnWorkspace`] and [`LstmWorkspace`] name the
/// notebook models' workspaces by their sizes.
///
/// # Example
/// ```
/// use tinyrnn::train::{LstmWorkspace, Workspace};
/// use tinyrnn::{Dense, Gru, Model};
/// let ws = LstmWorkspace::<f32, 6, 32, 4, 8, 100>::zeros();
/// assert_eq!(ws.dh.len(), 100);
/// let ws = Workspace::<f32, Model<Gru<f32, 6, 32>, Dense<f32, 32, 4>>, 8, 100>::zeros();
/// assert_eq!(ws.y_pred.len(), 100);
/// ```
// The bounds are in a `where` clause: the derive adds `N: Zeroable` there (for the field
// `grads: N`), and clippy objects to a parameter bounded in two places.
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Workspace<T, N, const M: usize, const T_X: usize>
where
    T: Real,
    N: Network<T, M>,
{
    /// The body's forward record of the last batch.
    pub tape: N::Tape<T_X>,
    /// The accumulated gradient of the loss with respect to every parameter.
    pub grads: N,
    /// `∂J/∂h⟨t⟩` from the output layer, the input of the body's backward pass.
    pub dh: [N::H; T_X],
    /// `∂J/∂x⟨t⟩`, the body's input gradient from the last backward pass.
    pub dx: [N::X; T_X],
    /// The predictions: after a training step, at the steps that had a target; after
    /// [`Workspace::predict`], at every step.
    pub y_pred: [N::Logits; T_X],
}

#[cfg(feature = "alloc")]
impl<T: Real, N: Network<T, M>, const M: usize, const T_X: usize> Workspace<T, N, M, T_X>
where
    Self: crate::boxed::Zeroable,
{
    /// A zeroed workspace on the heap, never built on the stack (feature `alloc`; see
    /// [`crate::boxed`]). The same value as [`Workspace::zeros`]: use it for workspaces too
    /// large for the stack (a few hundred kB on a 2 MB thread stack in a debug build).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{init::{Init, Rng}, loss::Target, optim::Sgd, train::LstmWorkspace, boxed};
    /// use tinyrnn::LstmParams;
    ///
    /// type Model = LstmParams<f32, 6, 32, 4>;
    /// // 0.9 MB: batch 8, 100 steps.
    /// let mut ws = LstmWorkspace::<f32, 6, 32, 4, 8, 100>::boxed();
    /// let mut model = boxed::init::<Model>(&Init::default(), &mut Rng::new(1));
    /// let x = [SMatrix::<f32, 6, 8>::repeat(0.1); 100];
    /// let labels = [0, 1, 2, 3, 0, 1, 2, 3];
    /// let loss = ws.train_step(&mut model, &mut Sgd::new(0.1), &x, &Target::ClassLast(&labels))?;
    /// assert!(loss > 0.0);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn boxed() -> alloc::boxed::Box<Self> {
        crate::boxed::zeroed()
    }
}

/// The [`Workspace`] of an [`RnnParams`] model, by its sizes.
pub type RnnWorkspace<
    T,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> = Workspace<T, RnnParams<T, N_X, N_A, N_Y>, M, T_X>;

/// The [`Workspace`] of an [`LstmParams`] model, by its sizes.
pub type LstmWorkspace<
    T,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> = Workspace<T, LstmParams<T, N_X, N_A, N_Y>, M, T_X>;

impl<T, N, const N_Y: usize, const M: usize, const T_X: usize> Workspace<T, N, M, T_X>
where
    T: Real,
    N: Network<T, M, Logits = SMatrix<T, N_Y, M>>,
{
    /// A zeroed workspace.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::train::RnnWorkspace;
    /// let ws = RnnWorkspace::<f64, 3, 5, 2, 10, 7>::zeros();
    /// assert_eq!(ws.grads.waa.sum(), 0.0);
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero workspace, usable in `const` and `static` initialisers: a device can keep
    /// its training state in a `static` instead of on a small stack.
    ///
    /// # Example
    /// ```
    /// use core::cell::RefCell;
    /// use tinyrnn::train::LstmWorkspace;
    ///
    /// // In firmware, wrap it in a critical-section `Mutex` instead of a thread_local.
    /// thread_local! {
    ///     static WS: RefCell<LstmWorkspace<f32, 6, 16, 4, 4, 10>> =
    ///         const { RefCell::new(LstmWorkspace::ZEROS) };
    /// }
    /// WS.with_borrow(|ws| assert_eq!(ws.dh.len(), 10));
    /// ```
    pub const ZEROS: Self = Self {
        tape: <N::Tape<T_X> as Zeroed>::ZEROS,
        grads: <N as Params<T>>::ZEROS,
        dh: [N::H::ZEROS; T_X],
        dx: [N::X::ZEROS; T_X],
        y_pred: [N::Logits::ZEROS; T_X],
    };

    /// The accumulated gradient of the loss with respect to every parameter.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{train::RnnWorkspace, Params};
    /// let ws = RnnWorkspace::<f32, 1, 2, 1, 1, 3>::zeros();
    /// assert_eq!(ws.param_grads().norm_squared(), 0.0);
    /// ```
    pub fn param_grads(&self) -> &N {
        &self.grads
    }

    /// The accumulated parameter gradient, mutably (to clip or rescale it by hand).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{train::RnnWorkspace, Params};
    /// let mut ws = RnnWorkspace::<f32, 1, 2, 1, 1, 3>::zeros();
    /// ws.param_grads_mut().ba.fill(2.0);
    /// assert_eq!(ws.param_grads().ba.sum(), 4.0);
    /// ```
    pub fn param_grads_mut(&mut self) -> &mut N {
        &mut self.grads
    }

    /// Sets the accumulated parameter gradient to zero.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{train::LstmWorkspace, Params};
    /// let mut ws = LstmWorkspace::<f32, 1, 2, 1, 1, 3>::zeros();
    /// ws.param_grads_mut().bo.fill(2.0);
    /// ws.zero_grads();
    /// assert_eq!(ws.param_grads().norm_squared(), 0.0);
    /// ```
    pub fn zero_grads(&mut self) {
        self.param_grads_mut().fill_zero();
    }

    /// Sets everything back to zero, in place: the tape, the gradient and every buffer, as a
    /// fresh [`Workspace::ZEROS`] (e.g. between two models sharing one workspace). No copy of
    /// the workspace is made on the stack. (A training step needs no reset: it overwrites what
    /// it reads, and [`Workspace::train_step`] zeroes the gradient itself.)
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{loss::Head, train::RnnWorkspace, Params, RnnParams};
    ///
    /// let mut model = RnnParams::<f32, 1, 2, 2>::zeros();
    /// model.by[0] = 1.0;
    /// let mut ws = RnnWorkspace::<f32, 1, 2, 2, 1, 3>::zeros();
    /// ws.predict(&model, &[SMatrix::zeros(); 3], Head::Linear);
    /// assert_eq!(ws.y_pred[2][0], 1.0);
    /// ws.reset();
    /// assert_eq!(ws.y_pred[2][0], 0.0);
    /// ```
    pub fn reset(&mut self) {
        *self = Self::ZEROS;
    }

    /// Forward pass, loss, and backward pass for one batch: **adds** the gradient of the loss
    /// with respect to every parameter (the cell's and the output layer's) to
    /// [`Workspace::param_grads`], and returns the loss (a mean, see [`crate::loss`]).
    ///
    /// `target` is a `&Target` or a [`Weighted`] one (`target.weighted(&w)`: a weight per
    /// example; weight 0 leaves a padding column out of the loss and the gradient exactly —
    /// its inputs must still be finite, zeros say).
    ///
    /// Errors (the gradient is left as it was unless stated):
    /// - the target is checked first ([`Weighted::validate`]): a class index `≥ N_Y`, a
    ///   non-finite probability, value or weight is an error and nothing is written;
    /// - the loss is computed before anything is added to the gradient: a non-finite loss
    ///   (a NaN or infinite input, a diverged model) is `Error::NonFinite { what: "loss", .. }`;
    /// - a gradient that overflows in the backward pass (finite input and loss, huge weights)
    ///   is `Error::NonFinite { what, index }` naming the first non-finite gradient scalar. If the
    ///   gradient was zero before the call (after [`Workspace::zero_grads`], as in
    ///   [`Workspace::train_step`]) it is zero again, bit for bit; otherwise it is left
    ///   non-finite (undoing a sum exactly would need a second gradient buffer: call
    ///   `zero_grads`).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{init::{Init, Rng}, loss::Target, train::RnnWorkspace, Error, Params, RnnParams};
    ///
    /// let model = RnnParams::<f64, 2, 4, 3>::init(&Init::default(), &mut Rng::new(5));
    /// let mut ws = RnnWorkspace::<f64, 2, 4, 3, 2, 5>::zeros();
    /// let x = [SMatrix::<f64, 2, 2>::repeat(0.3); 5];
    /// let loss = ws.accumulate(&model, &x, &Target::ClassLast(&[0, 2]))?;
    /// assert!(loss > 0.0 && ws.param_grads().norm_squared() > 0.0);
    /// assert_eq!(
    ///     ws.accumulate(&model, &x, &Target::ClassLast(&[0, 3])),
    ///     Err(Error::ClassOutOfRange { index: 3, classes: 3 })
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn accumulate<'t>(
        &mut self,
        model: &N,
        x: &[N::X; T_X],
        target: impl Into<Weighted<'t, T, N_Y, M, T_X>>,
    ) -> Result<T, Error>
    where
        T: 't,
    {
        let target = target.into();
        // First the loss, with nothing added to the gradient yet: a NaN or infinite input or
        // a diverged model is an error that leaves the gradient as it was.
        let loss = self.forward_loss(model, x, &target, |_, _| {})?;
        let h = N::hidden(&self.tape);
        let scale = target.mean_scale();
        let weight = |j| target.weight(j);
        let (mut z, mut dz) = (SMatrix::<T, N_Y, M>::zeros(), SMatrix::<T, N_Y, M>::zeros());
        // A zero gradient (after `zero_grads`) can be restored exactly on an overflow below.
        let fresh = self.grads.tensors().all(crate::params::is_positive_zero);
        // Then the gradients (the output layer's values recomputed: the same bits).
        let steps = h.iter().zip(self.dh.iter_mut()).zip(self.y_pred.iter_mut());
        for (t, ((ht, dht), yt)) in steps.enumerate() {
            match target.target.at(t) {
                None => *dht = N::H::ZEROS,
                Some(step) => {
                    model.head_forward(ht, &mut z);
                    weighted_step_loss(&z, step, scale, weight, yt, &mut dz);
                    model.head_backward(ht, &dz, &mut self.grads, dht);
                }
            }
        }
        model.backward_body(x, &mut self.tape, &self.dh, &mut self.grads, &mut self.dx);
        if let Err(e) = self.grads.check_finite() {
            if fresh {
                self.grads.fill_zero();
            }
            return Err(e);
        }
        Ok(loss)
    }

    /// One complete training step: zero the gradient, [`Workspace::accumulate`] one batch,
    /// and update the model with the optimizer. Returns the batch's loss. `target` is a
    /// `&Target` or a [`Weighted`] one.
    ///
    /// If the loss or any gradient is not finite, or the update would write a NaN or an
    /// infinity ([`Optimizer::step`] is atomic), returns an error and leaves the model and the
    /// optimizer untouched (and the gradient zero).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{init::{Init, Rng}, loss::Target, optim::Sgd, train::LstmWorkspace, LstmParams};
    ///
    /// // Regression: predict the input of the last step.
    /// let mut model = LstmParams::<f64, 1, 6, 1>::init(&Init::default(), &mut Rng::new(3));
    /// let mut ws = LstmWorkspace::<f64, 1, 6, 1, 3, 4>::zeros();
    /// let mut x = [SMatrix::<f64, 1, 3>::zeros(); 4];
    /// x[3] = SMatrix::from_row_slice(&[0.5, -0.5, 0.2]);
    /// let target = Target::ValueLast(&x[3]);
    /// let mut opt = Sgd::new(0.5);
    /// let first = ws.train_step(&mut model, &mut opt, &x, &target)?;
    /// for _ in 0..200 {
    ///     ws.train_step(&mut model, &mut opt, &x, &target)?;
    /// }
    /// assert!(ws.train_step(&mut model, &mut opt, &x, &target)? < 0.05 * first);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn train_step<'t, O: Optimizer<T, N>>(
        &mut self,
        model: &mut N,
        opt: &mut O,
        x: &[N::X; T_X],
        target: impl Into<Weighted<'t, T, N_Y, M, T_X>>,
    ) -> Result<T, Error>
    where
        T: 't,
    {
        self.zero_grads();
        let loss = self.accumulate(model, x, target)?;
        opt.step(model, self.param_grads())?;
        Ok(loss)
    }

    /// Inference over a batch: the recurrence from a zero state and the given head at every
    /// step. Returns the predictions `ŷ⟨t⟩` (stored in the tape).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{loss::Head, train::LstmWorkspace, LstmParams, Params};
    ///
    /// let model = LstmParams::<f32, 2, 3, 4>::zeros();
    /// let mut ws = LstmWorkspace::<f32, 2, 3, 4, 1, 5>::zeros();
    /// let y = ws.predict(&model, &[SMatrix::zeros(); 5], Head::Softmax);
    /// assert_eq!(y[4][(2, 0)], 0.25);
    /// ```
    pub fn predict(
        &mut self,
        model: &N,
        x: &[N::X; T_X],
        head: Head,
    ) -> &[SMatrix<T, N_Y, M>; T_X] {
        model.forward_body(x, &mut self.tape);
        for (h, y) in N::hidden(&self.tape).iter().zip(self.y_pred.iter_mut()) {
            model.head_forward(h, y);
            head.apply(y);
        }
        &self.y_pred
    }

    /// Inference for a classifier or a last-step regressor: the recurrence from a zero state,
    /// then the given head at the **last** step only. Returns `ŷ⟨T_X⟩` (stored in
    /// `y_pred[T_X - 1]`; the other steps of `y_pred` are left as they were). The same bits as
    /// the last step of [`Workspace::predict`], without the head at the other steps.
    ///
    /// `T_X` must be at least 1 (a compile-time error otherwise).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::init::{Init, Initialize, Rng};
    /// use tinyrnn::{data::argmax, loss::Head, train::Workspace, Dense, Gru, Model};
    ///
    /// type Net = Model<Gru<f32, 2, 8>, Dense<f32, 8, 3>>;
    /// let net = Net::init(&Init::default(), &mut Rng::new(4));
    /// let mut ws = Workspace::<f32, Net, 4, 6>::zeros();
    /// let x = [SMatrix::<f32, 2, 4>::from_fn(|r, c| (r + c) as f32 * 0.1); 6];
    /// let last = *ws.predict_last(&net, &x, Head::Linear);
    /// assert_eq!(last, ws.predict(&net, &x, Head::Linear)[5]);
    /// let classes: [usize; 4] = core::array::from_fn(|j| argmax(&last, j));
    /// assert!(classes.iter().all(|&k| k < 3));
    /// ```
    pub fn predict_last(&mut self, model: &N, x: &[N::X; T_X], head: Head) -> &SMatrix<T, N_Y, M> {
        const { assert!(T_X > 0, "predict_last needs at least one step") };
        model.forward_body(x, &mut self.tape);
        // `T_X > 0` (checked above): both arrays have a last element.
        if let (Some(y), Some(h)) = (self.y_pred.last_mut(), N::hidden(&self.tape).last()) {
            model.head_forward(h, y);
            head.apply(y);
        }
        // Cannot panic: `T_X > 0` is a compile-time assertion above.
        #[allow(clippy::indexing_slicing)]
        &self.y_pred[T_X - 1]
    }

    /// Evaluation of one batch: the forward pass and the loss, without a gradient, and the
    /// batch's class predictions counted into `confusion`. Returns the loss, the same value
    /// [`Workspace::accumulate`] returns for the same model, batch and target, bit for bit.
    ///
    /// `target` is a `&Target` or a [`Weighted`] one, as for `accumulate`. For a class
    /// target (`ClassLast`, `ClassEach`), every column of non-zero weight at every step that
    /// has a target is counted as (its class, the [`argmax`] of its
    /// logits); padding columns (weight 0) are not counted. Other targets count nothing. The
    /// predictions at the target steps are left in `y_pred` (the logits for padding columns).
    ///
    /// Errors (`confusion` is then unchanged): an invalid target or weights
    /// ([`Weighted::validate`]), a non-finite loss (`Error::NonFinite { what: "loss", .. }`).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{data::{Batch, Confusion}, init::{Init, Rng}, train::LstmWorkspace, LstmParams};
    ///
    /// let model = LstmParams::<f32, 1, 4, 2>::init(&Init::default(), &mut Rng::new(3));
    /// let mut ws = LstmWorkspace::<f32, 1, 4, 2, 4, 5>::zeros();
    /// let series = [[0.5_f32; 5], [-0.5; 5], [1.0; 5]];
    /// let mut batch = Batch::zeros();
    /// batch.fill(&[0, 1, 2], |i, t| [series[i][t]].into(), |i| i % 2); // 1 padding column
    /// let mut confusion = Confusion::new();
    /// let loss = ws.evaluate(&model, &batch.x, batch.class_last(), &mut confusion)?;
    /// assert!(loss > 0.0);
    /// assert_eq!(confusion.total(), 3);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn evaluate<'t>(
        &mut self,
        model: &N,
        x: &[N::X; T_X],
        target: impl Into<Weighted<'t, T, N_Y, M, T_X>>,
        confusion: &mut Confusion<N_Y>,
    ) -> Result<T, Error>
    where
        T: 't,
    {
        let target = target.into();
        let mut counted = *confusion;
        let loss = self.forward_loss(model, x, &target, |step, z| {
            if let StepTarget::Class(k) = step {
                for (j, &k) in k.iter().enumerate() {
                    if target.weight(j) != T::zero() {
                        counted.add(k, argmax(z, j));
                    }
                }
            }
        })?;
        *confusion = counted;
        Ok(loss)
    }

    /// The forward pass and the loss, adding to no gradient: checks the target, runs the
    /// body, and computes the head and the loss at every step with a target, showing each
    /// such step's target and logits to `seen`. A non-finite loss is an error.
    fn forward_loss(
        &mut self,
        model: &N,
        x: &[N::X; T_X],
        target: &Weighted<'_, T, N_Y, M, T_X>,
        mut seen: impl FnMut(StepTarget<'_, T, N_Y, M>, &SMatrix<T, N_Y, M>),
    ) -> Result<T, Error> {
        target.validate()?;
        model.forward_body(x, &mut self.tape);
        let (scale, weight) = (target.mean_scale(), |j| target.weight(j));
        let (mut z, mut dz) = (SMatrix::<T, N_Y, M>::zeros(), SMatrix::<T, N_Y, M>::zeros());
        let mut loss = T::zero();
        let steps = N::hidden(&self.tape).iter().zip(self.y_pred.iter_mut());
        for (t, (ht, yt)) in steps.enumerate() {
            if let Some(step) = target.target.at(t) {
                model.head_forward(ht, &mut z);
                loss += weighted_step_loss(&z, step, scale, weight, yt, &mut dz);
                seen(step, &z);
            }
        }
        if loss.is_finite() {
            Ok(loss)
        } else {
            Err(Error::NonFinite {
                what: "loss",
                index: 0,
            })
        }
    }
}
