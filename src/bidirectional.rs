//! The bidirectional wrapper: a forward and a time-reversed pass of the same kind of layer,
//! their outputs concatenated or summed at every step.
//!
//! ```text
//! y_f⟨t⟩ = L_f(x⟨1⟩ … x⟨t⟩)                    forward in time, from s_f⟨0⟩
//! y_b⟨t⟩ = L_b(x⟨T_X⟩ … x⟨t⟩)                  backward in time, from s_b⟨0⟩ (after the last step)
//! y⟨t⟩ = [y_f⟨t⟩; y_b⟨t⟩]   (Concat)     or    y_f⟨t⟩ + y_b⟨t⟩   (Sum)
//! ```
//!
//! Backward: `dy⟨t⟩` is split (or copied, for `Sum`) into `dy_f⟨t⟩` and `dy_b⟨t⟩`; each
//! direction runs its own backpropagation through time (the backward direction on the
//! reversed sequence), and `dx⟨t⟩ = dx_f⟨t⟩ + dx_b⟨t⟩`. This is PyTorch's
//! `bidirectional=True` and Keras' `Bidirectional(merge_mode="concat" | "sum")`.
//!
//! Stable Rust cannot write `2·N_A` in a type, so [`Concat`] names the output size itself
//! (`Concat<16>` for two 8-unit layers) and a `const` assertion rejects any other value when
//! the crate is built (`cargo build`; `cargo check` and rust-analyzer do not evaluate it). The
//! error reads "Concat<N_OUT>: a bidirectional layer's output has twice its layer's rows" and
//! names `Concat<15> as Merge<f32, 8, 1>`; on stable Rust it points into this module, not at
//! the user's line (`tests/ui/fail_bidirectional_concat.rs`).
//!
//! A bidirectional layer needs the whole sequence before its first output, so it does not
//! implement [`Step`](crate::Step): streaming one is a compile error, not a wrong answer.
//!
//! # Memory
//! Two layers' parameters; the tape holds both directions' tapes, the reversed input, the
//! merged outputs and the backward pass's scratch: with `L`'s tape `τ`, input size `N_IN`,
//! output `N_H` per direction and merged output `N_OUT`,
//! `2·τ + s·M·T_X·(2·N_IN + N_OUT + 2·N_H)` bytes.

use crate::init::{Init, Initialize, Rng};
use crate::layer::Layer;
use crate::params::Zeroed;
use crate::{Params, Real};
use core::marker::PhantomData;
use nalgebra::SMatrix;

/// How a [`Bidirectional`] layer merges its two directions' outputs (`N_H` rows each).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::bidirectional::Merge;
/// use tinyrnn::{params::Zeroed, Bidirectional, Layer, Params, Rnn};
///
/// // A merge of one's own: the mean of the two directions.
/// #[derive(Clone, Copy)]
/// struct Mean;
/// impl<const N_H: usize, const M: usize> Merge<f32, N_H, M> for Mean {
///     type Out = SMatrix<f32, N_H, M>;
///     fn merge(yf: &SMatrix<f32, N_H, M>, yb: &SMatrix<f32, N_H, M>, y: &mut Self::Out) {
///         *y = (yf + yb) * 0.5;
///     }
///     fn split(dy: &Self::Out, dyf: &mut SMatrix<f32, N_H, M>, dyb: &mut SMatrix<f32, N_H, M>) {
///         *dyf = dy * 0.5;
///         *dyb = dy * 0.5;
///     }
/// }
/// type BiRnn = Bidirectional<Rnn<f32, 1, 2>, Mean>;
/// let mut bi = BiRnn::zeros();
/// bi.fwd.ba.fill(0.5); // the backward direction stays at zero
/// let mut tape = <BiRnn as Layer<f32, 1>>::Tape::<3>::ZEROS;
/// bi.forward(&[SMatrix::zeros(); 3], &Zeroed::ZEROS, &mut tape);
/// let y = <BiRnn as Layer<f32, 1>>::output(&tape);
/// assert!((y[0][0] - 0.5_f32.tanh() / 2.0).abs() < 1e-6);
/// ```
pub trait Merge<T: Real, const N_H: usize, const M: usize>: Copy {
    /// The merged output of one step.
    type Out: Copy + Zeroed;
    /// `y = merge(y_f, y_b)`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{bidirectional::Merge, Concat, Sum};
    ///
    /// let yf = SMatrix::<f64, 2, 1>::new(1.0, 2.0);
    /// let yb = SMatrix::<f64, 2, 1>::new(10.0, 20.0);
    /// let mut cat = SMatrix::<f64, 4, 1>::zeros();
    /// Concat::<4>::merge(&yf, &yb, &mut cat);
    /// assert_eq!(cat, SMatrix::<f64, 4, 1>::new(1.0, 2.0, 10.0, 20.0));
    /// let mut sum = SMatrix::<f64, 2, 1>::zeros();
    /// Sum::merge(&yf, &yb, &mut sum);
    /// assert_eq!(sum, SMatrix::<f64, 2, 1>::new(11.0, 22.0));
    /// ```
    fn merge(yf: &SMatrix<T, N_H, M>, yb: &SMatrix<T, N_H, M>, y: &mut Self::Out);
    /// The gradient of [`Merge::merge`]: `dy_f`, `dy_b` from `dy`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{bidirectional::Merge, Concat, Sum};
    ///
    /// let (mut dyf, mut dyb) = (SMatrix::<f64, 2, 1>::zeros(), SMatrix::<f64, 2, 1>::zeros());
    /// // Concatenation: each direction gets its own rows of dy.
    /// Concat::<4>::split(&SMatrix::<f64, 4, 1>::new(1.0, 2.0, 3.0, 4.0), &mut dyf, &mut dyb);
    /// assert_eq!((dyf[1], dyb[0]), (2.0, 3.0));
    /// // Sum: each direction gets all of dy.
    /// Sum::split(&SMatrix::<f64, 2, 1>::new(5.0, 6.0), &mut dyf, &mut dyb);
    /// assert_eq!(dyf, dyb);
    /// assert_eq!(dyb[1], 6.0);
    /// ```
    fn split(dy: &Self::Out, dyf: &mut SMatrix<T, N_H, M>, dyb: &mut SMatrix<T, N_H, M>);
}

/// Concatenate the two directions: `y = [y_f; y_b]`, `N_OUT = 2·N_H` rows (checked at build
/// time).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{bidirectional::Merge, Concat};
/// let mut y = SMatrix::<f32, 4, 1>::zeros();
/// let (yf, yb) = (SMatrix::<f32, 2, 1>::repeat(1.0), SMatrix::<f32, 2, 1>::repeat(2.0));
/// Concat::<4>::merge(&yf, &yb, &mut y);
/// assert_eq!(y, SMatrix::<f32, 4, 1>::new(1.0, 1.0, 2.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Concat<const N_OUT: usize>;

/// Sum the two directions: `y = y_f + y_b`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{bidirectional::Merge, Sum};
/// let mut y = SMatrix::<f32, 2, 1>::zeros();
/// Sum::merge(&SMatrix::<f32, 2, 1>::repeat(1.0), &SMatrix::repeat(2.0), &mut y);
/// assert_eq!(y, SMatrix::<f32, 2, 1>::repeat(3.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum;

impl<T: Real, const N_H: usize, const M: usize, const N_OUT: usize> Merge<T, N_H, M>
    for Concat<N_OUT>
{
    type Out = SMatrix<T, N_OUT, M>;
    #[inline]
    fn merge(yf: &SMatrix<T, N_H, M>, yb: &SMatrix<T, N_H, M>, y: &mut Self::Out) {
        const {
            assert!(
                N_OUT == 2 * N_H,
                "Concat<N_OUT>: a bidirectional layer's output has twice its layer's rows"
            )
        };
        y.fixed_rows_mut::<N_H>(0).copy_from(yf);
        y.fixed_rows_mut::<N_H>(N_H).copy_from(yb);
    }
    #[inline]
    fn split(dy: &Self::Out, dyf: &mut SMatrix<T, N_H, M>, dyb: &mut SMatrix<T, N_H, M>) {
        dyf.copy_from(&dy.fixed_rows::<N_H>(0));
        dyb.copy_from(&dy.fixed_rows::<N_H>(N_H));
    }
}

impl<T: Real, const N_H: usize, const M: usize> Merge<T, N_H, M> for Sum {
    type Out = SMatrix<T, N_H, M>;
    #[inline]
    fn merge(yf: &SMatrix<T, N_H, M>, yb: &SMatrix<T, N_H, M>, y: &mut Self::Out) {
        *y = yf + yb;
    }
    #[inline]
    fn split(dy: &Self::Out, dyf: &mut SMatrix<T, N_H, M>, dyb: &mut SMatrix<T, N_H, M>) {
        *dyf = *dy;
        *dyb = *dy;
    }
}

/// A layer run forwards and backwards in time, outputs merged by `Mg` ([`Concat`] or
/// [`Sum`]); see the [module docs](self).
///
/// The two directions have their own weights (`fwd`, `bwd`) and their own initial states
/// (`State = (s_f⟨0⟩, s_b⟨0⟩)`).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Bidirectional, Concat, Layer, Lstm, Params};
///
/// // A bidirectional LSTM encoder: 3 features → 2 × 8 = 16 outputs per step.
/// type BiLstm = Bidirectional<Lstm<f32, 3, 8>, Concat<16>>;
/// let mut enc = BiLstm::zeros();
/// enc.bwd.bc.fill(1.0); // only the backward direction has a non-zero candidate
/// let x = [SMatrix::<f32, 3, 1>::zeros(); 4];
/// let mut tape = <BiLstm as Layer<f32, 1>>::Tape::<4>::ZEROS;
/// enc.forward(&x, &Zeroed::ZEROS, &mut tape);
/// let y: &[SMatrix<f32, 16, 1>; 4] = BiLstm::output(&tape);
/// assert_eq!(y[0][0], 0.0); // forward half: zero weights
/// assert!(y[0][8] > y[3][8]); // backward half: y_b⟨1⟩ has seen 4 steps, y_b⟨4⟩ one
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Bidirectional<L, Mg> {
    /// The forward-in-time layer.
    pub fwd: L,
    /// The backward-in-time layer.
    pub bwd: L,
    /// How the outputs are merged, a zero-sized marker.
    pub merge: PhantomData<Mg>,
}

/// The tape of a [`Bidirectional`] layer.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Bidirectional, Layer, Params, Rnn, Sum};
///
/// type L = Rnn<f32, 1, 2>;
/// type Bi = Bidirectional<L, Sum>;
/// let mut bi = Bi::zeros();
/// bi.fwd.wax.fill(1.0);
/// bi.bwd.wax.fill(-0.5);
/// let x: [SMatrix<f32, 1, 1>; 3] = core::array::from_fn(|t| SMatrix::repeat(t as f32));
/// let mut tape = <Bi as Layer<f32, 1>>::Tape::<3>::ZEROS;
/// bi.forward(&x, &Zeroed::ZEROS, &mut tape);
/// assert_eq!(tape.x_rev, [x[2], x[1], x[0]]); // what the backward direction read
/// let yf = <L as Layer<f32, 1>>::output(&tape.fwd);
/// let yb = <L as Layer<f32, 1>>::output(&tape.bwd);
/// assert_eq!(tape.y[0], yf[0] + yb[2]); // the backward direction read x[0] last
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct BiTape<TL, X, Y, H, const T_X: usize> {
    /// The forward direction's tape.
    pub fwd: TL,
    /// The backward direction's tape (its step `t` read `x[T_X − 1 − t]`).
    pub bwd: TL,
    /// The input in reverse order.
    pub x_rev: [X; T_X],
    /// The merged outputs.
    pub y: [Y; T_X],
    /// Backward scratch: `∂J/∂y_f⟨t⟩`.
    pub dyf: [H; T_X],
    /// Backward scratch: `∂J/∂y_b`, in the backward direction's (reversed) order.
    pub dyb_rev: [H; T_X],
    /// Backward scratch: `∂J/∂x` from the backward direction, reversed.
    pub dx_rev: [X; T_X],
}

impl<TL: Zeroed, X: Zeroed + Copy, Y: Zeroed + Copy, H: Zeroed + Copy, const T_X: usize> Zeroed
    for BiTape<TL, X, Y, H, T_X>
{
    const ZEROS: Self = Self {
        fwd: TL::ZEROS,
        bwd: TL::ZEROS,
        x_rev: [X::ZEROS; T_X],
        y: [Y::ZEROS; T_X],
        dyf: [H::ZEROS; T_X],
        dyb_rev: [H::ZEROS; T_X],
        dx_rev: [X::ZEROS; T_X],
    };
}

impl<T: Real, L: Params<T>, Mg: Copy> Params<T> for Bidirectional<L, Mg> {
    const LEN: usize = 2 * L::LEN;
    const ZEROS: Self = Self {
        fwd: L::ZEROS,
        bwd: L::ZEROS,
        merge: PhantomData,
    };
    fn names() -> impl Iterator<Item = &'static str> {
        L::names().chain(L::names())
    }
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.fwd.tensors().chain(self.bwd.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.fwd.tensors_mut().chain(self.bwd.tensors_mut())
    }
}

impl<L: Initialize, Mg> Initialize for Bidirectional<L, Mg> {
    /// The forward direction's, then the backward direction's, from the same generator.
    fn init(init: &Init, rng: &mut Rng) -> Self {
        let fwd = L::init(init, rng);
        Self {
            fwd,
            bwd: L::init(init, rng),
            merge: PhantomData,
        }
    }
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fwd.init_into(init, rng);
        self.bwd.init_into(init, rng);
    }
}

impl<T, const M: usize, L, Mg, const N_IN: usize, const N_H: usize> Layer<T, M>
    for Bidirectional<L, Mg>
where
    T: Real,
    L: Layer<T, M, X = SMatrix<T, N_IN, M>, Y = SMatrix<T, N_H, M>>,
    Mg: Merge<T, N_H, M>,
{
    type X = SMatrix<T, N_IN, M>;
    type Y = Mg::Out;
    type State = (L::State, L::State);
    type Tape<const T_X: usize> = BiTape<L::Tape<T_X>, Self::X, Mg::Out, L::Y, T_X>;

    fn forward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        s0: &Self::State,
        tape: &mut Self::Tape<T_X>,
    ) {
        for (xr, xt) in tape.x_rev.iter_mut().zip(x.iter().rev()) {
            *xr = *xt;
        }
        self.fwd.forward(x, &s0.0, &mut tape.fwd);
        self.bwd.forward(&tape.x_rev, &s0.1, &mut tape.bwd);
        let yb_rev = L::output(&tape.bwd).iter().rev();
        for ((y, yf), yb) in tape.y.iter_mut().zip(L::output(&tape.fwd)).zip(yb_rev) {
            Mg::merge(yf, yb, y);
        }
    }

    fn output<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::Y; T_X] {
        &tape.y
    }

    fn final_state<const T_X: usize>(tape: &Self::Tape<T_X>) -> Self::State {
        (L::final_state(&tape.fwd), L::final_state(&tape.bwd))
    }

    fn backward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dy: &[Self::Y; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
        ds0: &mut Self::State,
    ) {
        let dyb = tape.dyb_rev.iter_mut().rev();
        for ((d, df), db) in dy.iter().zip(tape.dyf.iter_mut()).zip(dyb) {
            Mg::split(d, df, db);
        }
        self.fwd.backward(
            x,
            &mut tape.fwd,
            &tape.dyf,
            &mut dparams.fwd,
            dx,
            &mut ds0.0,
        );
        self.bwd.backward(
            &tape.x_rev,
            &mut tape.bwd,
            &tape.dyb_rev,
            &mut dparams.bwd,
            &mut tape.dx_rev,
            &mut ds0.1,
        );
        for (d, dr) in dx.iter_mut().zip(tape.dx_rev.iter().rev()) {
            *d += dr;
        }
    }
}
