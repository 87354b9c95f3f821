//! Training: the whole model's gradient from a loss in one call, and a complete training step
//! (forward, loss, backward, update) on storage the caller owns.
//!
//! [`Recurrent`] is what the two cells have in common (a recurrence with a tape, its backward
//! pass, and the output layer `Wy`, `by`); [`Workspace`] holds everything a training step
//! writes: the tape, the gradients and the `∂J/∂a⟨t⟩` buffer. The model, its optimizer and its
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
//! opt.step(&mut model, ws.param_grads());
//! # Ok::<(), tinyrnn::Error>(())
//! ```

use crate::init::{Init, Rng};
use crate::loss::{step_loss, Head, Target};
use crate::optim::Optimizer;
use crate::params::zero_matrix;
use crate::{kernel, Error, LstmGrads, LstmParams, LstmTape, Params, Real};
use crate::{RnnGrads, RnnParams, RnnTape};
use nalgebra::{SMatrix, SVector};

/// A recurrent cell with an output layer `z⟨t⟩ = Wy·a⟨t⟩ + by`: what training needs from
/// [`RnnParams`] and [`LstmParams`].
///
/// The associated types are the cell's tape and gradients for a batch of `M` and a sequence
/// of `T_X`. The recurrence starts from a zero state (`a⟨0⟩ = 0`, and `c⟨0⟩ = 0` for the LSTM).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::train::Recurrent;
/// use tinyrnn::{LstmParams, Params, RnnParams};
///
/// /// The last hidden state of any cell, generically.
/// fn last_state<C: Recurrent<f32, 2, 3, 1>>(cell: &C, x: &[SMatrix<f32, 2, 1>; 4]) -> SMatrix<f32, 3, 1> {
///     let mut tape = C::new_tape();
///     cell.forward_hidden(x, &mut tape);
///     C::split_tape(&mut tape).0[3]
/// }
/// let x = [SMatrix::repeat(1.0); 4];
/// assert_eq!(last_state(&RnnParams::zeros(), &x), SMatrix::<f32, 3, 1>::zeros());
/// assert_eq!(last_state(&LstmParams::zeros(), &x), SMatrix::<f32, 3, 1>::zeros());
/// ```
pub trait Recurrent<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize>:
    Params<T>
{
    /// The forward record of a sequence (batch `M`, length `T_X`).
    type Tape<const M: usize, const T_X: usize>: Clone + Zeroed;
    /// The result of a sequence backward pass; holds a parameter gradient of type `Self`.
    type Grads<const M: usize, const T_X: usize>: Clone + Zeroed;

    /// Freshly initialised parameters (see [`crate::init`]).
    fn init(init: &Init, rng: &mut Rng) -> Self;
    /// A zeroed tape.
    fn new_tape<const M: usize, const T_X: usize>() -> Self::Tape<M, T_X> {
        <Self::Tape<M, T_X> as Zeroed>::ZEROS
    }
    /// Zeroed gradients.
    fn new_grads<const M: usize, const T_X: usize>() -> Self::Grads<M, T_X> {
        <Self::Grads<M, T_X> as Zeroed>::ZEROS
    }
    /// The recurrence from a zero state, into `tape` (predictions untouched).
    fn forward_hidden<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        tape: &mut Self::Tape<M, T_X>,
    );
    /// The tape's hidden states `a⟨t⟩` and its prediction buffer `ŷ⟨t⟩`.
    #[allow(clippy::type_complexity)]
    fn split_tape<const M: usize, const T_X: usize>(
        tape: &mut Self::Tape<M, T_X>,
    ) -> (&[SMatrix<T, N_A, M>; T_X], &mut [SMatrix<T, N_Y, M>; T_X]);
    /// Backpropagation through time from `da[t] = ∂J/∂a⟨t⟩`; **adds** into the parameter
    /// gradient of `grads`.
    fn backward<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &Self::Tape<M, T_X>,
        grads: &mut Self::Grads<M, T_X>,
    );
    /// The parameter gradient inside `grads`.
    fn param_grads<const M: usize, const T_X: usize>(grads: &Self::Grads<M, T_X>) -> &Self;
    /// The parameter gradient inside `grads`, mutably.
    fn param_grads_mut<const M: usize, const T_X: usize>(
        grads: &mut Self::Grads<M, T_X>,
    ) -> &mut Self;
    /// The output layer `(Wy, by)`.
    fn output(&self) -> (&SMatrix<T, N_Y, N_A>, &SVector<T, N_Y>);
    /// The output layer `(Wy, by)`, mutably.
    fn output_mut(&mut self) -> (&mut SMatrix<T, N_Y, N_A>, &mut SVector<T, N_Y>);
}

/// A type with an all-zero value usable in `const` and `static` initialisers: the tapes and
/// gradients, so that a [`Workspace`] can be a `static`.
///
/// # Example
/// ```
/// use tinyrnn::train::Zeroed;
/// use tinyrnn::LstmTape;
/// static TAPE: LstmTape<f32, 3, 5, 2, 1, 4> = <LstmTape<f32, 3, 5, 2, 1, 4> as Zeroed>::ZEROS;
/// assert_eq!(TAPE.c[3].sum(), 0.0);
/// ```
pub trait Zeroed {
    /// The all-zero value.
    const ZEROS: Self;
}

macro_rules! zeroed_by_inherent_const {
    ($($ty:ident),*) => {$(
        impl<
                T: Real,
                const N_X: usize,
                const N_A: usize,
                const N_Y: usize,
                const M: usize,
                const T_X: usize,
            > Zeroed for $ty<T, N_X, N_A, N_Y, M, T_X>
        {
            const ZEROS: Self = Self::ZEROS;
        }
    )*};
}
zeroed_by_inherent_const!(RnnTape, RnnGrads, LstmTape, LstmGrads);

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> Recurrent<T, N_X, N_A, N_Y>
    for RnnParams<T, N_X, N_A, N_Y>
{
    type Tape<const M: usize, const T_X: usize> = RnnTape<T, N_X, N_A, N_Y, M, T_X>;
    type Grads<const M: usize, const T_X: usize> = RnnGrads<T, N_X, N_A, N_Y, M, T_X>;

    fn init(init: &Init, rng: &mut Rng) -> Self {
        RnnParams::init(init, rng)
    }
    fn forward_hidden<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        tape: &mut Self::Tape<M, T_X>,
    ) {
        self.forward_hidden_into(x, &SMatrix::zeros(), tape);
    }
    fn split_tape<const M: usize, const T_X: usize>(
        tape: &mut Self::Tape<M, T_X>,
    ) -> (&[SMatrix<T, N_A, M>; T_X], &mut [SMatrix<T, N_Y, M>; T_X]) {
        (&tape.a, &mut tape.y_pred)
    }
    fn backward<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &Self::Tape<M, T_X>,
        grads: &mut Self::Grads<M, T_X>,
    ) {
        self.backward_into(da, tape, grads);
    }
    fn param_grads<const M: usize, const T_X: usize>(grads: &Self::Grads<M, T_X>) -> &Self {
        &grads.dparams
    }
    fn param_grads_mut<const M: usize, const T_X: usize>(
        grads: &mut Self::Grads<M, T_X>,
    ) -> &mut Self {
        &mut grads.dparams
    }
    fn output(&self) -> (&SMatrix<T, N_Y, N_A>, &SVector<T, N_Y>) {
        (&self.wya, &self.by)
    }
    fn output_mut(&mut self) -> (&mut SMatrix<T, N_Y, N_A>, &mut SVector<T, N_Y>) {
        (&mut self.wya, &mut self.by)
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> Recurrent<T, N_X, N_A, N_Y>
    for LstmParams<T, N_X, N_A, N_Y>
{
    type Tape<const M: usize, const T_X: usize> = LstmTape<T, N_X, N_A, N_Y, M, T_X>;
    type Grads<const M: usize, const T_X: usize> = LstmGrads<T, N_X, N_A, N_Y, M, T_X>;

    fn init(init: &Init, rng: &mut Rng) -> Self {
        LstmParams::init(init, rng)
    }
    fn forward_hidden<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        tape: &mut Self::Tape<M, T_X>,
    ) {
        self.forward_hidden_into(x, &SMatrix::zeros(), &SMatrix::zeros(), tape);
    }
    fn split_tape<const M: usize, const T_X: usize>(
        tape: &mut Self::Tape<M, T_X>,
    ) -> (&[SMatrix<T, N_A, M>; T_X], &mut [SMatrix<T, N_Y, M>; T_X]) {
        (&tape.a, &mut tape.y_pred)
    }
    fn backward<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &Self::Tape<M, T_X>,
        grads: &mut Self::Grads<M, T_X>,
    ) {
        self.backward_into(da, tape, grads);
    }
    fn param_grads<const M: usize, const T_X: usize>(grads: &Self::Grads<M, T_X>) -> &Self {
        &grads.dparams
    }
    fn param_grads_mut<const M: usize, const T_X: usize>(
        grads: &mut Self::Grads<M, T_X>,
    ) -> &mut Self {
        &mut grads.dparams
    }
    fn output(&self) -> (&SMatrix<T, N_Y, N_A>, &SVector<T, N_Y>) {
        (&self.wy, &self.by)
    }
    fn output_mut(&mut self) -> (&mut SMatrix<T, N_Y, N_A>, &mut SVector<T, N_Y>) {
        (&mut self.wy, &mut self.by)
    }
}

/// Everything a training step writes, for a cell `C`, a batch of `M` and sequences of `T_X`:
/// the forward tape, the gradients, and the buffer of `∂J/∂a⟨t⟩`.
///
/// Use the aliases [`RnnWorkspace`] and [`LstmWorkspace`] to name it.
///
/// # Generics
/// `T`: scalar; `C`: the cell ([`RnnParams`] or [`LstmParams`] with the same `T, N_X, N_A,
/// N_Y`); `N_X`, `N_A`, `N_Y`: the cell's dimensions; `M`: batch columns; `T_X`: sequence length.
///
/// # Example
/// ```
/// use tinyrnn::train::LstmWorkspace;
/// let ws = LstmWorkspace::<f32, 6, 32, 4, 8, 100>::zeros();
/// assert_eq!(ws.da.len(), 100);
/// ```
pub struct Workspace<
    T: Real,
    C: Recurrent<T, N_X, N_A, N_Y>,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> {
    /// The forward record of the last batch. After a training step, `ŷ⟨t⟩` holds the
    /// predictions at the steps that had a target.
    pub tape: C::Tape<M, T_X>,
    /// The gradients of the last backward pass (the parameter gradient accumulates).
    pub grads: C::Grads<M, T_X>,
    /// `∂J/∂a⟨t⟩` from the output layer, the input of the backward pass.
    pub da: [SMatrix<T, N_A, M>; T_X],
}

/// The [`Workspace`] of an [`RnnParams`] model.
pub type RnnWorkspace<
    T,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> = Workspace<T, RnnParams<T, N_X, N_A, N_Y>, N_X, N_A, N_Y, M, T_X>;

/// The [`Workspace`] of an [`LstmParams`] model.
pub type LstmWorkspace<
    T,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> = Workspace<T, LstmParams<T, N_X, N_A, N_Y>, N_X, N_A, N_Y, M, T_X>;

impl<
        T: Real,
        C: Recurrent<T, N_X, N_A, N_Y>,
        const N_X: usize,
        const N_A: usize,
        const N_Y: usize,
        const M: usize,
        const T_X: usize,
    > Workspace<T, C, N_X, N_A, N_Y, M, T_X>
{
    /// A zeroed workspace.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::train::RnnWorkspace;
    /// let ws = RnnWorkspace::<f64, 3, 5, 2, 10, 7>::zeros();
    /// assert_eq!(ws.grads.dparams.waa.sum(), 0.0);
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
    /// WS.with_borrow(|ws| assert_eq!(ws.da.len(), 10));
    /// ```
    pub const ZEROS: Self = Self {
        tape: <C::Tape<M, T_X> as Zeroed>::ZEROS,
        grads: <C::Grads<M, T_X> as Zeroed>::ZEROS,
        da: [zero_matrix(); T_X],
    };

    /// The accumulated gradient of the loss with respect to every parameter.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{train::RnnWorkspace, Params};
    /// let ws = RnnWorkspace::<f32, 1, 2, 1, 1, 3>::zeros();
    /// assert_eq!(ws.param_grads().norm_squared(), 0.0);
    /// ```
    pub fn param_grads(&self) -> &C {
        C::param_grads(&self.grads)
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
    pub fn param_grads_mut(&mut self) -> &mut C {
        C::param_grads_mut(&mut self.grads)
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

    /// Forward pass, loss, and backward pass for one batch: **adds** the gradient of the loss
    /// with respect to every parameter (the cell's and the output layer's) to
    /// [`Workspace::param_grads`], and returns the loss (a mean, see [`crate::loss`]).
    ///
    /// Errors: the target is checked first ([`Target::validate`]): a class index
    /// `≥ N_Y` or a non-finite probability or value is an error and nothing is written. A
    /// non-finite loss (a diverged model) returns `Error::NonFinite { what: "loss", .. }`.
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
    pub fn accumulate(
        &mut self,
        model: &C,
        x: &[SMatrix<T, N_X, M>; T_X],
        target: &Target<'_, T, N_Y, M, T_X>,
    ) -> Result<T, Error> {
        target.validate()?;
        model.forward_hidden(x, &mut self.tape);
        let (wy, by) = model.output();
        let (a, y_pred) = C::split_tape(&mut self.tape);
        let (dwy, dby) = C::param_grads_mut(&mut self.grads).output_mut();
        let scale = target.mean_scale();
        let mut loss = T::zero();
        let (mut z, mut dz) = (SMatrix::<T, N_Y, M>::zeros(), SMatrix::<T, N_Y, M>::zeros());
        for t in 0..T_X {
            let da = &mut self.da[t];
            match target.at(t) {
                None => da.fill(T::zero()),
                Some(step) => {
                    kernel::head(&mut z, wy, &a[t], by);
                    loss += step_loss(&z, step, scale, &mut y_pred[t], &mut dz);
                    kernel::acc_outer(dwy, &dz, &a[t]);
                    kernel::acc_row_sums(dby, &dz);
                    da.fill(T::zero());
                    kernel::acc_tr_mul(da, wy, &dz);
                }
            }
        }
        if !loss.is_finite() {
            return Err(Error::NonFinite {
                what: "loss",
                index: 0,
            });
        }
        model.backward(&self.da, &self.tape, &mut self.grads);
        Ok(loss)
    }

    /// One complete training step: zero the gradient, [`Workspace::accumulate`] one batch,
    /// and update the model with the optimizer. Returns the batch's loss.
    ///
    /// If the loss or any gradient is not finite, returns an error and leaves the model and
    /// the optimizer untouched.
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
    pub fn train_step<O: Optimizer<T, C>>(
        &mut self,
        model: &mut C,
        opt: &mut O,
        x: &[SMatrix<T, N_X, M>; T_X],
        target: &Target<'_, T, N_Y, M, T_X>,
    ) -> Result<T, Error> {
        self.zero_grads();
        let loss = self.accumulate(model, x, target)?;
        self.param_grads().check_finite()?;
        opt.step(model, self.param_grads());
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
        model: &C,
        x: &[SMatrix<T, N_X, M>; T_X],
        head: Head,
    ) -> &[SMatrix<T, N_Y, M>; T_X] {
        model.forward_hidden(x, &mut self.tape);
        let (wy, by) = model.output();
        let (a, y_pred) = C::split_tape(&mut self.tape);
        for (a, y) in a.iter().zip(y_pred.iter_mut()) {
            kernel::head(y, wy, a, by);
            head.apply(y);
        }
        y_pred
    }
}
