//! Walking a model's tensors: the [`Params`] trait, and numpy-layout (row-major) loading.
//!
//! Parameters, their gradients and an optimizer's moments all have the *same* type (the
//! "gradients are a model" idea of dfdx). [`Params`] lets generic code walk any of them as a
//! fixed sequence of flat slices, so an update rule is written once:
//!
//! ```
//! use tinyrnn::{Params, RnnParams};
//!
//! let mut p = RnnParams::<f64, 3, 5, 2>::zeros();
//! let mut g = RnnParams::<f64, 3, 5, 2>::zeros();
//! g.ba[0] = 2.0;
//! p.axpy(-0.5, &g); // p ← p - 0.5 g, one SGD step
//! assert_eq!(p.ba[0], -1.0);
//! ```

use crate::{Error, Real};
use nalgebra::{ArrayStorage, SMatrix, SVector};

/// A fixed list of shape-typed tensors that can be walked as flat slices.
///
/// Implemented by every parameter struct ([`RnnParams`](crate::RnnParams),
/// [`LstmParams`](crate::LstmParams)); gradients and optimizer state use the same types.
/// Each tensor is walked in nalgebra's storage order (column-major); [`Params::names`] gives
/// the tensors' order, and [`Params::copy_to_flat`] / [`Params::copy_from_flat`] use
/// that order for checkpoints. Composite models ([`Stack`](crate::Stack),
/// [`Model`](crate::Model), [`Bidirectional`](crate::Bidirectional)) walk their parts in
/// order, so one optimizer updates every layer.
///
/// # Example
/// ```
/// use tinyrnn::{Dense, Gru, Model, Params};
///
/// // Generic code over any model: how many of its scalars are zero.
/// fn count_zeros<P: Params<f32>>(p: &P) -> usize {
///     p.tensors().flatten().filter(|&&v| v == 0.0).count()
/// }
/// type Net = Model<Gru<f32, 2, 3>, Dense<f32, 3, 1>>;
/// let mut net = Net::zeros();
/// assert_eq!(count_zeros(&net), Net::LEN);
/// net.upper.w.fill(0.5); // the output layer's 3 weights
/// assert_eq!(count_zeros(&net), Net::LEN - 3);
/// ```
pub trait Params<T: Real>: Sized + Clone {
    /// The tensors' names, in walking order (a stack repeats its layers' names).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let names: Vec<_> = RnnParams::<f32, 1, 1, 1>::names().collect();
    /// assert_eq!(names, ["wax", "waa", "ba", "wya", "by"]);
    /// ```
    fn names() -> impl Iterator<Item = &'static str>;
    /// The number of scalars over all tensors.
    const LEN: usize;
    /// All tensors zero, usable in `const` and `static` initialisers.
    const ZEROS: Self;

    /// All tensors zero.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{LstmParams, Params};
    /// static GRADS: LstmParams<f32, 2, 3, 1> = LstmParams::ZEROS; // const-initialised
    /// assert_eq!(LstmParams::<f32, 2, 3, 1>::zeros(), GRADS);
    /// ```
    fn zeros() -> Self {
        Self::ZEROS
    }

    /// The tensors as flat slices, in [`Params::names`] order.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// type P = RnnParams<f32, 2, 3, 1>;
    /// let lens: Vec<_> = P::zeros().tensors().map(<[f32]>::len).collect();
    /// assert_eq!(lens, [3 * 2, 3 * 3, 3, 1 * 3, 1]); // wax, waa, ba, wya, by
    /// assert_eq!(lens.iter().sum::<usize>(), P::LEN);
    /// ```
    fn tensors(&self) -> impl Iterator<Item = &[T]>;

    /// The tensors as mutable flat slices, in [`Params::names`] order.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// // Weight decay on the weight matrices only, biases untouched.
    /// let mut p = RnnParams::<f64, 1, 2, 1>::zeros();
    /// p.waa.fill(2.0);
    /// p.ba.fill(2.0);
    /// for (name, t) in RnnParams::<f64, 1, 2, 1>::names().zip(p.tensors_mut()) {
    ///     if name.starts_with('w') {
    ///         t.iter_mut().for_each(|v| *v *= 0.5);
    ///     }
    /// }
    /// assert_eq!((p.waa[(1, 1)], p.ba[1]), (1.0, 2.0));
    /// ```
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]>;

    /// Sets every scalar to zero (e.g. before accumulating a new mini-batch's gradient).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut g = RnnParams::<f32, 2, 3, 1>::zeros();
    /// g.waa[(1, 2)] = 4.0;
    /// g.fill_zero();
    /// assert_eq!(g.waa.sum(), 0.0);
    /// ```
    fn fill_zero(&mut self) {
        for t in self.tensors_mut() {
            t.fill(T::zero());
        }
    }

    /// `self ← self + alpha · x`, scalar by scalar.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut p = RnnParams::<f32, 2, 3, 1>::zeros();
    /// let mut x = RnnParams::<f32, 2, 3, 1>::zeros();
    /// x.by[0] = 1.5;
    /// p.axpy(2.0, &x);
    /// assert_eq!(p.by[0], 3.0);
    /// ```
    fn axpy(&mut self, alpha: T, x: &Self) {
        for (s, x) in self.tensors_mut().zip(x.tensors()) {
            for (s, &x) in s.iter_mut().zip(x.iter()) {
                *s += alpha * x;
            }
        }
    }

    /// `self ← alpha · self`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut p = RnnParams::<f64, 1, 1, 1>::zeros();
    /// p.wax[0] = 3.0;
    /// p.scale(0.5);
    /// assert_eq!(p.wax[0], 1.5);
    /// ```
    fn scale(&mut self, alpha: T) {
        for t in self.tensors_mut() {
            for v in t.iter_mut() {
                *v *= alpha;
            }
        }
    }

    /// `Σ self_k · other_k` over every scalar.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut p = RnnParams::<f64, 1, 2, 1>::zeros();
    /// p.ba.fill(3.0);
    /// assert_eq!(p.dot(&p), 18.0);
    /// ```
    fn dot(&self, other: &Self) -> T {
        let mut acc = T::zero();
        for (a, b) in self.tensors().zip(other.tensors()) {
            for (&a, &b) in a.iter().zip(b.iter()) {
                acc += a * b;
            }
        }
        acc
    }

    /// The squared L2 norm over every scalar, `Σ θ_k²`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut g = RnnParams::<f32, 1, 1, 1>::zeros();
    /// (g.wax[0], g.by[0]) = (3.0, 4.0);
    /// assert_eq!(g.norm_squared(), 25.0);
    /// ```
    fn norm_squared(&self) -> T {
        self.dot(self)
    }

    /// Clips every scalar to `[-max, max]` (the course's `np.clip(g, -max, max)`).
    /// NaN stays NaN.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut g = RnnParams::<f32, 1, 1, 1>::zeros();
    /// (g.wax[0], g.waa[0]) = (7.0, -0.5);
    /// g.clip_value(5.0);
    /// assert_eq!((g.wax[0], g.waa[0]), (5.0, -0.5));
    /// ```
    fn clip_value(&mut self, max: T) {
        for t in self.tensors_mut() {
            for v in t.iter_mut() {
                if *v > max {
                    *v = max;
                } else if *v < -max {
                    *v = -max;
                }
            }
        }
    }

    /// Rescales all tensors together so that their global L2 norm is at most `max_norm`
    /// (TensorFlow's `clip_by_global_norm`); returns the norm before clipping. Directions are
    /// kept: every scalar is multiplied by the same `min(1, max_norm / norm)`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Params, RnnParams};
    /// let mut g = RnnParams::<f64, 1, 1, 1>::zeros();
    /// (g.wax[0], g.by[0]) = (3.0, 4.0);
    /// assert_eq!(g.clip_global_norm(1.0), 5.0);
    /// assert!((g.wax[0] - 0.6).abs() < 1e-15 && (g.by[0] - 0.8).abs() < 1e-15);
    /// ```
    fn clip_global_norm(&mut self, max_norm: T) -> T {
        let norm = self.norm_squared().sqrt_libm();
        if norm > max_norm {
            self.scale(max_norm / norm);
        }
        norm
    }

    /// Returns `Err(Error::NonFinite)` naming the first tensor and index holding a NaN or an
    /// infinity.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Error, Params, RnnParams};
    /// let mut p = RnnParams::<f32, 2, 3, 1>::zeros();
    /// assert_eq!(p.check_finite(), Ok(()));
    /// p.waa[(0, 1)] = f32::NAN; // column-major index 1 * 3 + 0
    /// assert_eq!(p.check_finite(), Err(Error::NonFinite { what: "waa", index: 3 }));
    /// ```
    fn check_finite(&self) -> Result<(), Error> {
        for (t, what) in self.tensors().zip(Self::names()) {
            check_finite_slice(what, t)?;
        }
        Ok(())
    }

    /// Writes every scalar to `dst` in [`Params::names`] order, each tensor column-major.
    /// `dst` must hold exactly [`Params::LEN`] values.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Error, Params, RnnParams};
    /// type P = RnnParams<f32, 2, 3, 1>;
    /// let p = P::zeros();
    /// let mut buf = [1.0_f32; P::LEN];
    /// p.copy_to_flat(&mut buf)?;
    /// assert!(buf.iter().all(|&v| v == 0.0));
    /// assert!(matches!(p.copy_to_flat(&mut [0.0; 3]), Err(Error::LengthMismatch { .. })));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn copy_to_flat(&self, dst: &mut [T]) -> Result<(), Error> {
        check_len("flat parameter buffer", Self::LEN, dst.len())?;
        for (d, &s) in dst.iter_mut().zip(self.tensors().flatten()) {
            *d = s;
        }
        Ok(())
    }

    /// Reads every scalar from `src` (the layout of [`Params::copy_to_flat`]). Rejects a
    /// slice of the wrong length or holding a NaN or infinity, leaving `self` unchanged.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Error, Params, RnnParams};
    /// type P = RnnParams<f64, 2, 3, 1>;
    /// let mut p = P::zeros();
    /// let flat: [f64; P::LEN] = core::array::from_fn(|k| k as f64);
    /// p.copy_from_flat(&flat)?;
    /// assert_eq!(p.wax[(1, 0)], 1.0); // first tensor, column-major
    /// let mut bad = flat;
    /// bad[7] = f64::INFINITY;
    /// assert_eq!(p.copy_from_flat(&bad), Err(Error::NonFinite { what: "flat parameter buffer", index: 7 }));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn copy_from_flat(&mut self, src: &[T]) -> Result<(), Error> {
        const WHAT: &str = "flat parameter buffer";
        check_len(WHAT, Self::LEN, src.len())?;
        check_finite_slice(WHAT, src)?;
        for (d, &s) in self.tensors_mut().flatten().zip(src) {
            *d = s;
        }
        Ok(())
    }
}

/// A type with an all-zero value usable in `const` and `static` initialisers: parameters,
/// tapes, states and gradients, so that a whole model, its optimizer and its
/// [`Workspace`](crate::train::Workspace) can each be a `static`.
///
/// # Example
/// ```
/// use tinyrnn::params::Zeroed;
/// use tinyrnn::LstmTape;
/// static TAPE: LstmTape<f32, 3, 5, 2, 1, 4> = <LstmTape<f32, 3, 5, 2, 1, 4> as Zeroed>::ZEROS;
/// assert_eq!(TAPE.c[3].sum(), 0.0);
/// ```
pub trait Zeroed: Sized {
    /// The all-zero value.
    const ZEROS: Self;

    /// Sets every value back to zero, in place (a tape, a state or gates reused for a new
    /// sequence). Writes straight into `self`: no copy of the value is made on the stack.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{lstm::LstmSeqTape, params::Zeroed, Layer, Lstm, Params};
    ///
    /// let mut lstm = Lstm::<f32, 1, 4>::zeros();
    /// lstm.bc.fill(1.0);
    /// let mut tape = LstmSeqTape::<f32, 4, 1, 3>::ZEROS;
    /// lstm.forward(&[SMatrix::zeros(); 3], &Zeroed::ZEROS, &mut tape);
    /// assert!(tape.c[2].sum() > 0.0);
    /// tape.reset();
    /// assert_eq!(tape, LstmSeqTape::ZEROS);
    /// ```
    fn reset(&mut self) {
        *self = Self::ZEROS;
    }
}

impl<T: Real, const R: usize, const C: usize> Zeroed for SMatrix<T, R, C> {
    const ZEROS: Self = zero_matrix();
}

/// The integer matrices of the quantized path ([`crate::quant`]).
macro_rules! zeroed_int_matrix {
    ($($t:ty),*) => {$(
        impl<const R: usize, const C: usize> Zeroed for SMatrix<$t, R, C> {
            const ZEROS: Self = SMatrix::from_array_storage(ArrayStorage([[0; R]; C]));
        }
    )*};
}
zeroed_int_matrix!(i8, i16, i32, u8, u16);

impl Zeroed for () {
    const ZEROS: Self = ();
}

impl<A: Zeroed, B: Zeroed> Zeroed for (A, B) {
    const ZEROS: Self = (A::ZEROS, B::ZEROS);
}

impl<U: Zeroed + Copy, const N: usize> Zeroed for [U; N] {
    const ZEROS: Self = [U::ZEROS; N];
}

pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Checks that every value of a matrix (an input step, a state) is finite: the error names
/// `what` and the first bad index in nalgebra's column-major order (`row + R·column`).
/// [`Params::check_finite`] does the same for every tensor of a model or a gradient.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::check_finite, Error};
///
/// let mut x = SMatrix::<f32, 3, 2>::zeros();
/// assert_eq!(check_finite("x", &x), Ok(()));
/// x[(1, 1)] = f32::NAN;
/// assert_eq!(check_finite("x", &x), Err(Error::NonFinite { what: "x", index: 4 }));
/// ```
pub fn check_finite<T: Real, const R: usize, const C: usize>(
    what: &'static str,
    m: &SMatrix<T, R, C>,
) -> Result<(), Error> {
    check_finite_slice(what, m.as_slice())
}

/// [`check_finite`] over a sequence (`[x⟨1⟩, …, x⟨T_X⟩]`): the index counts across the steps,
/// `t·R·C + k` for element `k` of step `t` (zero-based), so `index / (R·C)` is the step.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::check_finite_seq, Error};
///
/// let mut x = [SMatrix::<f64, 2, 1>::zeros(); 4];
/// x[3][1] = f64::INFINITY;
/// assert_eq!(check_finite_seq("x", &x), Err(Error::NonFinite { what: "x", index: 7 }));
/// ```
pub fn check_finite_seq<T: Real, const R: usize, const C: usize, const T_X: usize>(
    what: &'static str,
    x: &[SMatrix<T, R, C>; T_X],
) -> Result<(), Error> {
    for (t, xt) in x.iter().enumerate() {
        if let Some(k) = xt.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what,
                index: t.saturating_mul(R * C).saturating_add(k),
            });
        }
    }
    Ok(())
}

/// The first non-finite value of `data`, as an error naming `what`. Out of line: called once
/// per tensor of a model, it would otherwise be unrolled into every caller (17 KB of an LSTM
/// training step on the Cortex-M0).
#[inline(never)]
pub(crate) fn check_finite_slice<T: Real>(what: &'static str, data: &[T]) -> Result<(), Error> {
    match data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite { what, index }),
    }
}

/// `true` if every value of `data` is `+0.0` (zero bits).
#[inline(never)]
pub(crate) fn is_positive_zero<T: Real>(data: &[T]) -> bool {
    data.iter().all(|v| *v == T::zero() && v.is_sign_positive())
}

/// Reads an `R × C` matrix from a row-major slice (numpy's default order, `W.ravel()`).
///
/// Rejects a slice whose length is not `R · C`, or that holds a NaN or an infinity.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::params::matrix_from_row_major;
///
/// // numpy: np.array([[1, 2, 3], [4, 5, 6]]).ravel()
/// let w: SMatrix<f32, 2, 3> = matrix_from_row_major("w", &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!(w[(1, 0)], 4.0);
/// # Ok::<(), tinyrnn::Error>(())
/// ```
pub fn matrix_from_row_major<T: Real, const R: usize, const C: usize>(
    what: &'static str,
    data: &[T],
) -> Result<SMatrix<T, R, C>, Error> {
    check_len(what, R * C, data.len())?;
    check_finite_slice(what, data)?;
    Ok(SMatrix::from_row_slice(data))
}

/// Writes an `R × C` matrix to a row-major slice of length `R · C` (numpy's default order).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::params::matrix_to_row_major;
///
/// let w = SMatrix::<f64, 2, 2>::new(1.0, 2.0, 3.0, 4.0);
/// let mut out = [0.0; 4];
/// matrix_to_row_major(&w, &mut out)?;
/// assert_eq!(out, [1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), tinyrnn::Error>(())
/// ```
pub fn matrix_to_row_major<T: Real, const R: usize, const C: usize>(
    m: &SMatrix<T, R, C>,
    out: &mut [T],
) -> Result<(), Error> {
    check_len("row-major output buffer", R * C, out.len())?;
    for (k, o) in out.iter_mut().enumerate() {
        *o = m[(k / C, k % C)];
    }
    Ok(())
}

/// An all-zero matrix, in `const` contexts.
pub(crate) const fn zero_matrix<T: Real, const R: usize, const C: usize>() -> SMatrix<T, R, C> {
    SMatrix::from_array_storage(ArrayStorage([[T::ZERO; R]; C]))
}

/// A matrix from its rows, numpy's order (`rows[r][c]` is element `(r, c)`), as a `const fn`:
/// parameters can be `static`s built at compile time, which the linker places in flash.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::params::matrix_from_rows;
///
/// static W: SMatrix<f32, 2, 3> = matrix_from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// assert_eq!(W[(1, 0)], 4.0);
/// assert_eq!(W, SMatrix::<f32, 2, 3>::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0));
/// ```
pub const fn matrix_from_rows<T: Real, const R: usize, const C: usize>(
    rows: [[T; C]; R],
) -> SMatrix<T, R, C> {
    // nalgebra stores columns: transpose with `while let` over slice patterns, which `const fn`
    // allows (iterators are not `const`). `unread[r]` is the part of row r not yet copied:
    // column c takes the first entry of every row's.
    let mut cols = [[T::ZERO; R]; C];
    let mut unread: [&[T]; R] = [&[]; R];
    let (mut u, mut src): (&mut [&[T]], &[[T; C]]) = (&mut unread, &rows);
    while let ([u0, us @ ..], [row, rs @ ..]) = (u, src) {
        *u0 = row;
        (u, src) = (us, rs);
    }
    let mut dst: &mut [[T; R]] = &mut cols;
    while let [col, cs @ ..] = dst {
        let (mut d, mut u): (&mut [T], &mut [&[T]]) = (col, &mut unread);
        while let ([d0, ds @ ..], [u0, us @ ..]) = (d, u) {
            if let [v, rest @ ..] = *u0 {
                *d0 = *v;
                *u0 = rest;
            }
            (d, u) = (ds, us);
        }
        dst = cs;
    }
    SMatrix::from_array_storage(ArrayStorage(cols))
}

/// A column vector from an array, as a `const fn` (a bias in a `static`).
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::params::vector_from_array;
///
/// static B: SVector<f64, 3> = vector_from_array([0.5, -1.0, 2.0]);
/// assert_eq!(B[2], 2.0);
/// ```
pub const fn vector_from_array<T: Real, const N: usize>(v: [T; N]) -> SVector<T, N> {
    SMatrix::from_array_storage(ArrayStorage([v]))
}
