//! The vanilla RNN cell: parameters, caches, gradients, forward and backward, one step and a
//! whole sequence.
//!
//! ```text
//! a⟨t⟩ = tanh(Wax·x⟨t⟩ + Waa·a⟨t−1⟩ + ba)
//! ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by)                      (per column)
//! ```
//!
//! Backward, from the gradient `da_next` of the loss with respect to `a⟨t⟩`:
//!
//! ```text
//! dz      = (1 − a⟨t⟩²) ⊙ da_next
//! dxt     = Waxᵀ·dz        da_prev = Waaᵀ·dz
//! dWax   += dz·x⟨t⟩ᵀ       dWaa   += dz·a⟨t−1⟩ᵀ      dba += dz·1   (sum over the batch)
//! ```
//!
//! and over a sequence, going backwards, step `t` receives `da[t] + da_prev(t+1)`; `da0` is the
//! last `da_prev`.
//!
//! # Generics
//! | parameter | meaning |
//! |---|---|
//! | `T` | scalar, `f32` or `f64` ([`Real`]) |
//! | `N_X` | input features per step |
//! | `N_A` | hidden units |
//! | `N_Y` | outputs (softmax classes) |
//! | `M` | batch columns: column `j` of every matrix is example `j` |
//! | `T_X` | sequence length |
//!
//! # Memory (bytes, `s = size_of::<T>()`)
//! | type | size |
//! |---|---|
//! | [`RnnParams`] (and its gradient) | `s·(N_A·N_X + N_A·N_A + N_A + N_Y·N_A + N_Y)` |
//! | [`RnnCache`] (one step) | `s·M·(N_X + 2·N_A)` |
//! | [`RnnTape`] (a whole sequence) | `s·M·(N_A + T_X·(N_X + N_A + N_Y))` |
//! | [`RnnGrads`] | `s·M·(T_X·N_X + N_A)` + the parameter gradient |

use crate::activation::{softmax_columns_in_place, tanh_grad_from_output, tanh_in_place};
use crate::init::{Init, Initialize, Rng};
use crate::layer::{seq_backward, seq_forward, state_cell_layer, CellStep, StateCell};
use crate::params::{matrix_from_row_major, zero_matrix};
use crate::{kernel, Error, Params, Real};
use nalgebra::{SMatrix, SVector};

/// Parameters of an RNN cell with a softmax output layer.
///
/// `a⟨t⟩ = tanh(Wax·x⟨t⟩ + Waa·a⟨t−1⟩ + ba)`, `ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by)`.
///
/// The same type holds the gradients of the loss with respect to each parameter
/// ([`RnnGrads::dparams`]), so an optimizer walks parameters and gradients together
/// ([`Params`]).
///
/// # Generics
/// `T`: scalar; `N_X`: input features; `N_A`: hidden units; `N_Y`: outputs.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Params, RnnParams};
///
/// let mut p = RnnParams::<f32, 3, 5, 2>::zeros();
/// p.ba.fill(0.5);
/// let x = SMatrix::<f32, 3, 10>::zeros();
/// let a_prev = SMatrix::<f32, 5, 10>::zeros();
/// let step = p.cell_forward(&x, &a_prev);
/// assert!((step.a_next[(0, 0)] - 0.5_f32.tanh()).abs() < 1e-6);
/// assert_eq!(step.y_pred[(1, 3)], 0.5); // zero logits: uniform over two classes
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct RnnParams<T, const N_X: usize, const N_A: usize, const N_Y: usize> {
    /// `Wax`, `(N_A, N_X)`: input to hidden.
    pub wax: SMatrix<T, N_A, N_X>,
    /// `Waa`, `(N_A, N_A)`: hidden to hidden.
    pub waa: SMatrix<T, N_A, N_A>,
    /// `ba`, `(N_A, 1)`: hidden bias, broadcast over the batch.
    pub ba: SVector<T, N_A>,
    /// `Wya`, `(N_Y, N_A)`: hidden to output.
    pub wya: SMatrix<T, N_Y, N_A>,
    /// `by`, `(N_Y, 1)`: output bias.
    pub by: SVector<T, N_Y>,
}

/// The RNN parameters as flat row-major slices (numpy's `W.ravel()`), for
/// [`RnnParams::from_row_major`].
///
/// # Example
/// ```
/// use tinyrnn::rnn::RnnSlices;
/// let s = RnnSlices::<f32> { wax: &[0.0; 6], waa: &[0.0; 4], ba: &[0.0; 2], wya: &[0.0; 2], by: &[0.0] };
/// assert_eq!(s.wax.len(), 6);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RnnSlices<'a, T> {
    /// `Wax`, `N_A·N_X` values, row-major.
    pub wax: &'a [T],
    /// `Waa`, `N_A·N_A` values, row-major.
    pub waa: &'a [T],
    /// `ba`, `N_A` values.
    pub ba: &'a [T],
    /// `Wya`, `N_Y·N_A` values, row-major.
    pub wya: &'a [T],
    /// `by`, `N_Y` values.
    pub by: &'a [T],
}

/// What one step's backward pass needs from its forward pass: the seeds'
/// `cache = (a_next, a_prev, xt)` (the parameters are passed to the backward separately).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Params, RnnParams};
///
/// let p = RnnParams::<f64, 2, 3, 1>::zeros();
/// let x = SMatrix::<f64, 2, 4>::repeat(1.0);
/// let step = p.cell_forward(&x, &SMatrix::zeros());
/// assert_eq!(step.cache.xt, x);
/// assert_eq!(step.cache.a_next, step.a_next);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnCache<T, const N_X: usize, const N_A: usize, const M: usize> {
    /// The step's input `x⟨t⟩`.
    pub xt: SMatrix<T, N_X, M>,
    /// The previous hidden state `a⟨t−1⟩`.
    pub a_prev: SMatrix<T, N_A, M>,
    /// The new hidden state `a⟨t⟩` (its `1 − a²` is `tanh'`).
    pub a_next: SMatrix<T, N_A, M>,
}

/// The result of [`RnnParams::cell_forward`].
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Params, RnnParams, rnn::RnnCellForward};
///
/// let p = RnnParams::<f32, 3, 5, 2>::zeros();
/// let out: RnnCellForward<f32, 3, 5, 2, 1> = p.cell_forward(&SMatrix::zeros(), &SMatrix::zeros());
/// assert_eq!(out.a_next, SMatrix::<f32, 5, 1>::zeros());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnCellForward<T, const N_X: usize, const N_A: usize, const N_Y: usize, const M: usize> {
    /// `a⟨t⟩ = tanh(Wax·x⟨t⟩ + Waa·a⟨t−1⟩ + ba)`.
    pub a_next: SMatrix<T, N_A, M>,
    /// `ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by)`, each column summing to 1.
    pub y_pred: SMatrix<T, N_Y, M>,
    /// What [`RnnParams::cell_backward`] needs.
    pub cache: RnnCache<T, N_X, N_A, M>,
}

/// The result of [`RnnParams::cell_backward`]: `{dxt, da_prev, dWax, dWaa, dba}`.
///
/// The parameter gradients are an [`RnnParams`]: `dparams.wax` is `∂J/∂Wax`, and so on. The
/// output layer is not part of the cell's backward pass, so `dparams.wya` and `dparams.by`
/// are zero.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Params, RnnParams};
///
/// let p = RnnParams::<f64, 2, 3, 1>::zeros();
/// let step = p.cell_forward(&SMatrix::<f64, 2, 4>::repeat(1.0), &SMatrix::zeros());
/// let g = p.cell_backward(&SMatrix::repeat(1.0), &step.cache);
/// // a_next = tanh(0) = 0, so dz = da_next: dba sums the 4 batch columns.
/// assert_eq!(g.dparams.ba, nalgebra::SVector::<f64, 3>::repeat(4.0));
/// assert_eq!(g.dxt, SMatrix::<f64, 2, 4>::zeros()); // Waxᵀ·dz with Wax = 0
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnCellGrads<T, const N_X: usize, const N_A: usize, const N_Y: usize, const M: usize> {
    /// `∂J/∂x⟨t⟩ = Waxᵀ·dz`.
    pub dxt: SMatrix<T, N_X, M>,
    /// `∂J/∂a⟨t−1⟩ = Waaᵀ·dz`.
    pub da_prev: SMatrix<T, N_A, M>,
    /// `dWax = dz·x⟨t⟩ᵀ`, `dWaa = dz·a⟨t−1⟩ᵀ`, `dba = dz·1`; `dWya = 0`, `dby = 0`.
    pub dparams: RnnParams<T, N_X, N_A, N_Y>,
}

/// Everything a sequence forward pass computes, which is also everything its backward pass
/// needs: the seeds' `(a, y_pred, caches)` without the duplicates.
///
/// Step `t`'s cache is `(x[t], a_prev = a[t−1] or a0, a_next = a[t])`. The tape can live
/// in a `static` or any other storage the caller owns ([`RnnParams::forward_into`]).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Params, RnnParams, RnnTape};
///
/// let p = RnnParams::<f32, 3, 5, 2>::zeros();
/// let mut tape = RnnTape::<f32, 3, 5, 2, 10, 4>::zeros();
/// p.forward_into(&[SMatrix::zeros(); 4], &SMatrix::repeat(1.0), &mut tape);
/// assert_eq!(tape.a[3], SMatrix::<f32, 5, 10>::zeros()); // tanh(0) with zero weights
/// assert_eq!(core::mem::size_of_val(&tape), 4 * 10 * (5 + 4 * (3 + 5 + 2)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct RnnTape<
    T,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> {
    /// The inputs `x⟨t⟩`, copied from the forward call.
    pub x: [SMatrix<T, N_X, M>; T_X],
    /// The initial hidden state `a⟨0⟩`.
    pub a0: SMatrix<T, N_A, M>,
    /// The hidden states `a⟨1⟩ … a⟨T_X⟩` (index `t` holds the state after input `x[t]`).
    pub a: [SMatrix<T, N_A, M>; T_X],
    /// The predictions `ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by)`.
    pub y_pred: [SMatrix<T, N_Y, M>; T_X],
}

/// The result of a sequence backward pass: `{dx, da0, dWax, dWaa, dba}`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Params, RnnGrads};
///
/// let g = RnnGrads::<f64, 3, 5, 2, 10, 4>::zeros();
/// assert_eq!(g.dx.len(), 4);
/// assert_eq!(g.dparams.waa, SMatrix::<f64, 5, 5>::zeros());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct RnnGrads<
    T,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
> {
    /// `∂J/∂x⟨t⟩` for every step.
    pub dx: [SMatrix<T, N_X, M>; T_X],
    /// `∂J/∂a⟨0⟩`.
    pub da0: SMatrix<T, N_A, M>,
    /// `∂J/∂θ` for every parameter, summed over the steps and the batch.
    pub dparams: RnnParams<T, N_X, N_A, N_Y>,
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> Params<T>
    for RnnParams<T, N_X, N_A, N_Y>
{
    fn names() -> impl Iterator<Item = &'static str> {
        ["wax", "waa", "ba", "wya", "by"].into_iter()
    }
    const LEN: usize = N_A * N_X + N_A * N_A + N_A + N_Y * N_A + N_Y;

    const ZEROS: Self = Self {
        wax: zero_matrix(),
        waa: zero_matrix(),
        ba: zero_matrix(),
        wya: zero_matrix(),
        by: zero_matrix(),
    };

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [
            self.wax.as_slice(),
            self.waa.as_slice(),
            self.ba.as_slice(),
            self.wya.as_slice(),
            self.by.as_slice(),
        ]
        .into_iter()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.wax.as_mut_slice(),
            self.waa.as_mut_slice(),
            self.ba.as_mut_slice(),
            self.wya.as_mut_slice(),
            self.by.as_mut_slice(),
        ]
        .into_iter()
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> RnnParams<T, N_X, N_A, N_Y> {
    /// Builds the parameters from numpy-layout (row-major) slices, e.g. `W.ravel()` of the
    /// seeds' arrays. Rejects a slice of the wrong length or holding a NaN or infinity.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Error, RnnParams, rnn::RnnSlices};
    ///
    /// let wax = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // (2, 3), row-major
    /// let s = RnnSlices { wax: &wax, waa: &[0.0; 4], ba: &[0.0; 2], wya: &[0.0; 2], by: &[0.0] };
    /// let p = RnnParams::<f64, 3, 2, 1>::from_row_major(&s)?;
    /// assert_eq!(p.wax[(1, 0)], 4.0);
    ///
    /// let short = RnnSlices { waa: &[0.0; 3], ..s };
    /// assert_eq!(
    ///     RnnParams::<f64, 3, 2, 1>::from_row_major(&short),
    ///     Err(Error::LengthMismatch { what: "waa", expected: 4, found: 3 })
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_row_major(s: &RnnSlices<'_, T>) -> Result<Self, Error> {
        Ok(Self {
            wax: matrix_from_row_major("wax", s.wax)?,
            waa: matrix_from_row_major("waa", s.waa)?,
            ba: matrix_from_row_major("ba", s.ba)?,
            wya: matrix_from_row_major("wya", s.wya)?,
            by: matrix_from_row_major("by", s.by)?,
        })
    }

    /// Freshly initialised parameters: weights by `init.weights` (Glorot uniform by default),
    /// biases zero. Reproducible from the generator's seed.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Rng};
    /// use tinyrnn::RnnParams;
    ///
    /// let p = RnnParams::<f32, 3, 5, 2>::init(&Init::default(), &mut Rng::new(0));
    /// let limit = (6.0_f32 / 10.0).sqrt(); // Glorot, Waa is 5 × 5
    /// assert!(p.waa.iter().all(|v| v.abs() <= limit));
    /// assert_eq!(p.ba.sum(), 0.0);
    /// ```
    pub fn init(init: &Init, rng: &mut Rng) -> Self {
        let mut p = Self::ZEROS;
        p.init_into(init, rng);
        p
    }

    /// The same model as a composition of layers, `Model<Rnn, Dense>` (the cell's weights,
    /// and `Wya`, `by` as the output layer): what `Workspace`, `Stream`, the importers and
    /// [`quant::quantize`](crate::quant::quantize) take.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Rng};
    /// use tinyrnn::RnnParams;
    ///
    /// let p = RnnParams::<f64, 3, 5, 2>::init(&Init::default(), &mut Rng::new(4));
    /// let net = p.to_model();
    /// assert_eq!((net.lower.waa, net.upper.w), (p.waa, p.wya));
    /// ```
    pub const fn to_model(
        &self,
    ) -> crate::Model<crate::Rnn<T, N_X, N_A>, crate::Dense<T, N_A, N_Y>> {
        crate::Stack {
            lower: crate::Rnn {
                wax: self.wax,
                waa: self.waa,
                ba: self.ba,
            },
            upper: crate::Dense {
                w: self.wya,
                b: self.by,
                activation: core::marker::PhantomData,
            },
        }
    }

    /// [`RnnParams::init`] in place: overwrites every parameter with exactly the values
    /// `init` returns for the same recipe and generator state, without a copy on the stack.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Rng};
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f32, 3, 5, 2>::zeros();
    /// p.ba.fill(7.0); // whatever was there is overwritten
    /// p.init_into(&Init::default(), &mut Rng::new(0));
    /// assert_eq!(p, RnnParams::init(&Init::default(), &mut Rng::new(0)));
    /// ```
    pub fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fill_zero();
        init.fill(&mut self.wax, N_A, rng);
        init.fill(&mut self.waa, N_A, rng);
        init.fill(&mut self.wya, N_A, rng);
    }

    /// One forward step (the seeds' `rnn_cell_forward`):
    /// `a_next = tanh(Wax·xt + Waa·a_prev + ba)`, `y_pred = softmax(Wya·a_next + by)`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::{SMatrix, SVector};
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f64, 1, 1, 2>::zeros();
    /// p.wax[0] = 1.0;
    /// p.wya = SMatrix::<f64, 2, 1>::new(1.0, -1.0);
    /// let out = p.cell_forward(&SMatrix::<f64, 1, 1>::new(0.5), &SMatrix::zeros());
    /// let a = 0.5_f64.tanh();
    /// assert!((out.a_next[0] - a).abs() < 1e-15);
    /// let p0 = 1.0 / (1.0 + (-2.0 * a).exp());
    /// assert!((out.y_pred[0] - p0).abs() < 1e-15);
    /// ```
    pub fn cell_forward<const M: usize>(
        &self,
        xt: &SMatrix<T, N_X, M>,
        a_prev: &SMatrix<T, N_A, M>,
    ) -> RnnCellForward<T, N_X, N_A, N_Y, M> {
        let mut a_next = SMatrix::zeros();
        let mut y_pred = SMatrix::zeros();
        let mut aux = ();
        StateCell::<T, M>::cell_forward(self, xt, a_prev, &mut aux, &mut a_next);
        self.predict_into(&a_next, &mut y_pred);
        RnnCellForward {
            a_next,
            y_pred,
            cache: RnnCache {
                xt: *xt,
                a_prev: *a_prev,
                a_next,
            },
        }
    }

    /// One backward step (the seeds' `rnn_cell_backward`), from `da_next = ∂J/∂a⟨t⟩`:
    /// `dz = (1 − a_next²) ⊙ da_next`, `dxt = Waxᵀ·dz`, `da_prev = Waaᵀ·dz`,
    /// `dWax = dz·xtᵀ`, `dWaa = dz·a_prevᵀ`, `dba = dz·1`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f64, 1, 1, 1>::zeros();
    /// p.wax[0] = 2.0;
    /// p.waa[0] = 3.0;
    /// let x = SMatrix::<f64, 1, 1>::new(0.25);
    /// let a_prev = SMatrix::<f64, 1, 1>::new(-0.5);
    /// let step = p.cell_forward(&x, &a_prev);
    /// let g = p.cell_backward(&SMatrix::<f64, 1, 1>::new(1.0), &step.cache);
    /// let dz = 1.0 - step.a_next[0] * step.a_next[0];
    /// assert_eq!(g.dxt[0], 2.0 * dz);
    /// assert_eq!(g.da_prev[0], 3.0 * dz);
    /// assert_eq!(g.dparams.waa[0], -0.5 * dz);
    /// ```
    pub fn cell_backward<const M: usize>(
        &self,
        da_next: &SMatrix<T, N_A, M>,
        cache: &RnnCache<T, N_X, N_A, M>,
    ) -> RnnCellGrads<T, N_X, N_A, N_Y, M> {
        let mut dparams = Self::zeros();
        let mut dxt = SMatrix::zeros();
        let mut da_prev = SMatrix::zeros();
        let step = CellStep {
            x: &cache.xt,
            h_prev: &cache.a_prev,
            aux: &(),
            h: &cache.a_next,
        };
        StateCell::<T, M>::cell_backward(self, step, da_next, &mut dparams, &mut dxt, &mut da_prev);
        RnnCellGrads {
            dxt,
            da_prev,
            dparams,
        }
    }

    /// The forward pass over a whole sequence (the seeds' `rnn_forward`), returned by value.
    ///
    /// `x[t]` is the input at step `t`; the returned tape holds `a[t]`, `y_pred[t]` and what
    /// the backward pass needs. For large sequences or a small stack, use
    /// [`RnnParams::forward_into`] with storage you own.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f64, 3, 5, 2>::zeros();
    /// p.ba.fill(0.1);
    /// let x = [SMatrix::<f64, 3, 10>::zeros(); 4];
    /// let tape = p.forward(&x, &SMatrix::zeros());
    /// // Step by step, the same as calling the cell four times.
    /// let mut a = SMatrix::zeros();
    /// for t in 0..4 {
    ///     a = p.cell_forward(&x[t], &a).a_next;
    ///     assert_eq!(tape.a[t], a);
    /// }
    /// ```
    pub fn forward<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
    ) -> RnnTape<T, N_X, N_A, N_Y, M, T_X> {
        let mut tape = RnnTape::zeros();
        self.forward_into(x, a0, &mut tape);
        tape
    }

    /// The forward pass over a whole sequence into a tape the caller owns (a `static`, a
    /// buffer reused across batches). Overwrites every field of `tape`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, RnnParams, RnnTape};
    ///
    /// let p = RnnParams::<f32, 3, 5, 2>::zeros();
    /// let mut tape = RnnTape::<f32, 3, 5, 2, 1, 8>::zeros();
    /// let x = [SMatrix::<f32, 3, 1>::repeat(1.0); 8];
    /// p.forward_into(&x, &SMatrix::zeros(), &mut tape);
    /// assert_eq!(tape.x, x);
    /// assert_eq!(tape.y_pred[7][(0, 0)], 0.5);
    /// ```
    pub fn forward_into<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
        tape: &mut RnnTape<T, N_X, N_A, N_Y, M, T_X>,
    ) {
        self.forward_hidden_into(x, a0, tape);
        for (a, y) in tape.a.iter().zip(&mut tape.y_pred) {
            self.predict_into(a, y);
        }
    }

    /// The recurrence alone: fills `tape.x`, `tape.a0` and `tape.a`, and leaves
    /// `tape.y_pred` as it was. For training with another output head or a loss at some steps
    /// only (see [`crate::train`]), and for inference that reads only the hidden states.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, RnnParams, RnnTape};
    ///
    /// let mut p = RnnParams::<f32, 3, 5, 2>::zeros();
    /// p.ba.fill(0.2);
    /// let x = [SMatrix::<f32, 3, 1>::zeros(); 6];
    /// let mut tape = RnnTape::zeros();
    /// p.forward_hidden_into(&x, &SMatrix::zeros(), &mut tape);
    /// assert_eq!(tape.a, p.forward(&x, &SMatrix::zeros()).a);
    /// assert_eq!(tape.y_pred[5], SMatrix::<f32, 2, 1>::zeros()); // untouched
    /// ```
    pub fn forward_hidden_into<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
        tape: &mut RnnTape<T, N_X, N_A, N_Y, M, T_X>,
    ) {
        tape.x = *x;
        tape.a0 = *a0;
        seq_forward(self, x, a0, &mut tape.a, &mut [(); T_X]);
    }

    /// Backpropagation through time over a whole sequence (the seeds' `rnn_backward`),
    /// returned by value. `da[t]` is `∂J/∂a⟨t⟩` from outside the recurrence (e.g. from the
    /// output layer); the tape must come from the forward pass of the same parameters.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f64, 2, 3, 1>::zeros();
    /// p.waa.fill_with_identity();
    /// let tape = p.forward(&[SMatrix::<f64, 2, 1>::zeros(); 3], &SMatrix::zeros());
    /// // All states stay 0, so tanh' = 1 and Waa = I: da0 sums the three upstream gradients.
    /// let da = [SMatrix::<f64, 3, 1>::repeat(1.0); 3];
    /// let g = p.backward(&da, &tape);
    /// assert_eq!(g.da0, SMatrix::<f64, 3, 1>::repeat(3.0));
    /// ```
    pub fn backward<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &RnnTape<T, N_X, N_A, N_Y, M, T_X>,
    ) -> RnnGrads<T, N_X, N_A, N_Y, M, T_X> {
        let mut grads = RnnGrads::zeros();
        self.backward_into(da, tape, &mut grads);
        grads
    }

    /// Backpropagation through time into gradients the caller owns.
    ///
    /// Overwrites `grads.dx` and `grads.da0`, and **adds** the parameter gradients to
    /// `grads.dparams`, so several sequences (a mini-batch split in parts) accumulate;
    /// call [`Params::fill_zero`] on `grads.dparams` to start afresh.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, RnnGrads, RnnParams};
    ///
    /// let mut p = RnnParams::<f64, 2, 3, 1>::zeros();
    /// p.wax.fill(0.3);
    /// let tape = p.forward(&[SMatrix::<f64, 2, 1>::repeat(1.0); 2], &SMatrix::zeros());
    /// let da = [SMatrix::<f64, 3, 1>::repeat(1.0); 2];
    /// let mut g = RnnGrads::zeros();
    /// p.backward_into(&da, &tape, &mut g);
    /// let once = g.dparams;
    /// p.backward_into(&da, &tape, &mut g);
    /// assert_eq!(g.dparams.wax, once.wax * 2.0); // accumulated
    /// ```
    pub fn backward_into<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &RnnTape<T, N_X, N_A, N_Y, M, T_X>,
        grads: &mut RnnGrads<T, N_X, N_A, N_Y, M, T_X>,
    ) {
        seq_backward(
            self,
            &tape.x,
            &tape.a0,
            &tape.a,
            &[(); T_X],
            da,
            &mut grads.dparams,
            &mut grads.dx,
            &mut grads.da0,
        );
    }

    /// `y = softmax(Wya·a + by)`.
    #[inline]
    fn predict_into<const M: usize>(&self, a: &SMatrix<T, N_A, M>, y: &mut SMatrix<T, N_Y, M>) {
        kernel::head(y, &self.wya, a, &self.by);
        softmax_columns_in_place(y);
    }
}

impl<
        T: Real,
        const N_X: usize,
        const N_A: usize,
        const N_Y: usize,
        const M: usize,
        const T_X: usize,
    > RnnTape<T, N_X, N_A, N_Y, M, T_X>
{
    /// A tape of zeros, to be filled by [`RnnParams::forward_into`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::RnnTape;
    /// let tape = RnnTape::<f64, 3, 5, 2, 10, 4>::zeros();
    /// assert!(tape.a.iter().all(|a| a.iter().all(|&v| v == 0.0)));
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero value, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        x: [zero_matrix(); T_X],
        a0: zero_matrix(),
        a: [zero_matrix(); T_X],
        y_pred: [zero_matrix(); T_X],
    };
}

impl<
        T: Real,
        const N_X: usize,
        const N_A: usize,
        const N_Y: usize,
        const M: usize,
        const T_X: usize,
    > RnnGrads<T, N_X, N_A, N_Y, M, T_X>
{
    /// All-zero gradients, to be filled by [`RnnParams::backward_into`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::RnnGrads;
    /// let g = RnnGrads::<f32, 3, 5, 2, 1, 6>::zeros();
    /// assert_eq!(g.da0.sum(), 0.0);
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero value, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        dx: [zero_matrix(); T_X],
        da0: zero_matrix(),
        dparams: RnnParams::ZEROS,
    };
}

/// A vanilla RNN layer, without an output layer: `a⟨t⟩ = tanh(Wax·x⟨t⟩ + Waa·a⟨t−1⟩ + ba)`.
///
/// The recurrence of [`RnnParams`] as a [`Layer`](crate::Layer) (state and output `a`), to
/// stack under other layers or put under a [`Dense`](crate::Dense) head in a
/// [`Model`](crate::Model). The fields have the notebook's names; see the [module docs](self)
/// for the backward equations.
///
/// # Generics
/// `T`: scalar; `N_X`: input features; `N_A`: hidden units (the output size).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Params, Rnn, Step};
///
/// let mut rnn = Rnn::<f64, 1, 2>::zeros();
/// rnn.wax.fill(1.0);
/// let mut a = SMatrix::<f64, 2, 1>::zeros(); // the state
/// let mut y = SMatrix::zeros();
/// rnn.step(&SMatrix::<f64, 1, 1>::new(0.5), &mut a, &mut y);
/// assert_eq!(y[0], 0.5_f64.tanh());
/// assert_eq!(a, y);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Rnn<T, const N_X: usize, const N_A: usize> {
    /// `Wax`, `(N_A, N_X)`: input to hidden.
    pub wax: SMatrix<T, N_A, N_X>,
    /// `Waa`, `(N_A, N_A)`: hidden to hidden.
    pub waa: SMatrix<T, N_A, N_A>,
    /// `ba`, `(N_A, 1)`: hidden bias, broadcast over the batch.
    pub ba: SVector<T, N_A>,
}

impl<T: Real, const N_X: usize, const N_A: usize> Params<T> for Rnn<T, N_X, N_A> {
    const LEN: usize = N_A * N_X + N_A * N_A + N_A;
    const ZEROS: Self = Self {
        wax: zero_matrix(),
        waa: zero_matrix(),
        ba: zero_matrix(),
    };
    fn names() -> impl Iterator<Item = &'static str> {
        ["wax", "waa", "ba"].into_iter()
    }
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [self.wax.as_slice(), self.waa.as_slice(), self.ba.as_slice()].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.wax.as_mut_slice(),
            self.waa.as_mut_slice(),
            self.ba.as_mut_slice(),
        ]
        .into_iter()
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> Initialize
    for RnnParams<T, N_X, N_A, N_Y>
{
    /// See [`RnnParams::init`].
    fn init(init: &Init, rng: &mut Rng) -> Self {
        RnnParams::init(init, rng)
    }
    /// See [`RnnParams::init_into`].
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        RnnParams::init_into(self, init, rng);
    }
}

impl<T: Real, const N_X: usize, const N_A: usize> Initialize for Rnn<T, N_X, N_A> {
    /// Weights by `init.weights`, bias zero (as [`RnnParams::init`]).
    fn init(init: &Init, rng: &mut Rng) -> Self {
        let mut p = Self::ZEROS;
        p.init_into(init, rng);
        p
    }
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fill_zero();
        init.fill(&mut self.wax, N_A, rng);
        init.fill(&mut self.waa, N_A, rng);
    }
}

/// The RNN cell's weights, borrowed from an [`Rnn`] or an [`RnnParams`].
struct Weights<'a, T, const N_X: usize, const N_A: usize> {
    wax: &'a SMatrix<T, N_A, N_X>,
    waa: &'a SMatrix<T, N_A, N_A>,
    ba: &'a SVector<T, N_A>,
}

/// The RNN cell's weight gradients, borrowed from an [`Rnn`] or an [`RnnParams`].
struct WeightsMut<'a, T, const N_X: usize, const N_A: usize> {
    wax: &'a mut SMatrix<T, N_A, N_X>,
    waa: &'a mut SMatrix<T, N_A, N_A>,
    ba: &'a mut SVector<T, N_A>,
}

impl<T: Real, const N_X: usize, const N_A: usize> Weights<'_, T, N_X, N_A> {
    /// `a_next = tanh(Wax·xt + Waa·a_prev + ba)`.
    #[inline]
    fn forward<const M: usize>(
        &self,
        xt: &SMatrix<T, N_X, M>,
        a_prev: &SMatrix<T, N_A, M>,
        a_next: &mut SMatrix<T, N_A, M>,
    ) {
        kernel::affine(a_next, self.waa, a_prev, self.wax, xt, self.ba);
        tanh_in_place(a_next);
    }

    /// `dz = (1 − a_next²) ⊙ da_next`; adds `dWax`, `dWaa`, `dba`; overwrites `dxt = Waxᵀ·dz`
    /// and `da_prev = Waaᵀ·dz`.
    #[inline]
    fn backward<const M: usize>(
        &self,
        step: CellStep<'_, SMatrix<T, N_X, M>, SMatrix<T, N_A, M>, ()>,
        da_next: &SMatrix<T, N_A, M>,
        d: WeightsMut<'_, T, N_X, N_A>,
        dxt: &mut SMatrix<T, N_X, M>,
        da_prev: &mut SMatrix<T, N_A, M>,
    ) {
        let dz = step.h.zip_map(da_next, |a, d| tanh_grad_from_output(a) * d);
        kernel::acc_param_grads(d.waa, d.wax, d.ba, &dz, step.h_prev, step.x);
        dxt.fill(T::zero());
        da_prev.fill(T::zero());
        kernel::acc_input_grads(da_prev, dxt, self.waa, self.wax, &dz);
    }
}

/// Implements [`StateCell`] for a type with `wax`, `waa` and `ba` fields.
macro_rules! rnn_state_cell {
    ($ty:ident<$($gen:ident),*> where $($bounds:tt)*) => {
        impl<T: Real, const M: usize, $($bounds)*> StateCell<T, M> for $ty<$($gen),*> {
            type X = SMatrix<T, N_X, M>;
            type H = SMatrix<T, N_A, M>;
            type Aux = ();

            #[inline]
            fn cell_forward(&self, x: &Self::X, h_prev: &Self::H, _aux: &mut (), h: &mut Self::H) {
                Weights { wax: &self.wax, waa: &self.waa, ba: &self.ba }.forward(x, h_prev, h);
            }

            #[inline]
            fn cell_backward(
                &self,
                step: CellStep<'_, Self::X, Self::H, ()>,
                dh: &Self::H,
                dparams: &mut Self,
                dx: &mut Self::X,
                dh_prev: &mut Self::H,
            ) {
                let d = WeightsMut { wax: &mut dparams.wax, waa: &mut dparams.waa, ba: &mut dparams.ba };
                Weights { wax: &self.wax, waa: &self.waa, ba: &self.ba }
                    .backward(step, dh, d, dx, dh_prev);
            }
        }
    };
}

rnn_state_cell!(Rnn<T, N_X, N_A> where const N_X: usize, const N_A: usize);
rnn_state_cell!(RnnParams<T, N_X, N_A, N_Y> where const N_X: usize, const N_A: usize, const N_Y: usize);
state_cell_layer!(Rnn<T, N_X, N_A> where const N_X: usize, const N_A: usize);

/// The notebook model as a [`Network`](crate::train::Network): the RNN recurrence from
/// `a⟨0⟩ = 0`, then `z⟨t⟩ = Wya·a⟨t⟩ + by`.
impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize, const M: usize>
    crate::train::Network<T, M> for RnnParams<T, N_X, N_A, N_Y>
{
    type X = SMatrix<T, N_X, M>;
    type H = SMatrix<T, N_A, M>;
    type Logits = SMatrix<T, N_Y, M>;
    type Tape<const T_X: usize> = crate::layer::SeqTape<SMatrix<T, N_A, M>, (), T_X>;

    fn forward_body<const T_X: usize>(&self, x: &[Self::X; T_X], tape: &mut Self::Tape<T_X>) {
        tape.h0 = SMatrix::zeros();
        seq_forward(self, x, &tape.h0, &mut tape.h, &mut tape.aux);
    }
    fn hidden<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::H; T_X] {
        &tape.h
    }
    fn backward_body<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dh: &[Self::H; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
    ) {
        let mut da0 = SMatrix::zeros();
        let t = &*tape;
        seq_backward(self, x, &t.h0, &t.h, &t.aux, dh, dparams, dx, &mut da0);
    }
    fn head_forward(&self, h: &Self::H, z: &mut Self::Logits) {
        kernel::head(z, &self.wya, h, &self.by);
    }
    fn head_backward(&self, h: &Self::H, dz: &Self::Logits, dparams: &mut Self, dh: &mut Self::H) {
        let (dw, db) = (&mut dparams.wya, &mut dparams.by);
        crate::dense::linear_backward(&self.wya, h, dz, dw, db, dh);
    }
}
