//! The dense layer: an affine map and an activation, applied at every step.
//!
//! ```text
//! y⟨t⟩ = φ(W·x⟨t⟩ + b)            φ ∈ {identity, tanh, σ, ReLU}
//! ```
//!
//! Backward, from `dy⟨t⟩ = ∂J/∂y⟨t⟩` (each derivative from the stored output):
//!
//! ```text
//! dz = dy ⊙ φ'(y)        φ' = 1, 1 − y², y(1 − y), [y > 0]
//! dW += dz·xᵀ     db += dz·1     dx = Wᵀ·dz
//! ```
//!
//! It is PyTorch's `nn.Linear` applied at every step and Keras' `TimeDistributed(Dense)` (or
//! `Dense` on a sequence). With the identity it is a model's output layer (`Wy`, `by`) in a
//! [`Model`](crate::Model); with an activation it goes anywhere in a body
//! (`Dense(tanh) → GRU → Dense(σ) → Dense`). It has no state, so it streams.
//!
//! # Generics
//! | parameter | meaning |
//! |---|---|
//! | `T` | scalar, `f32` or `f64` |
//! | `N_IN` | input features |
//! | `N_OUT` | outputs |
//! | `A` | the activation: [`Identity`] (default), [`Tanh`], [`Sigmoid`], [`Relu`] |
//!
//! # Memory (bytes, `s = size_of::<T>()`)
//! | type | size |
//! |---|---|
//! | [`Dense`] (and its gradient) | `s·N_OUT·(N_IN + 1)` |
//! | its tape (the outputs) | `s·N_OUT·M·T_X` |

use crate::activation::{sigmoid_grad_from_output, tanh_grad_from_output};
use crate::init::{Init, Initialize, Rng};
use crate::layer::{Layer, Step};
use crate::params::zero_matrix;
use crate::{kernel, Params, Real};
use core::fmt::Debug;
use core::marker::PhantomData;
use nalgebra::{SMatrix, SVector};

/// An elementwise activation with its derivative written from its output.
///
/// # Example
/// ```
/// use tinyrnn::{dense::Activation, Relu, Sigmoid};
/// assert_eq!(Relu::apply(-2.0_f32), 0.0);
/// assert_eq!(Relu::grad_from_output(3.0_f32), 1.0);
/// assert_eq!(Sigmoid::grad_from_output(0.5_f64), 0.25);
/// ```
pub trait Activation: Copy + Default + Debug + PartialEq + Send + Sync + 'static {
    /// The activation's name (`"identity"`, `"tanh"`, `"sigmoid"`, `"relu"`).
    const NAME: &'static str;
    /// `φ(z)`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{dense::Activation, Identity, Relu, Tanh};
    ///
    /// // An activation chosen by type, as a dense layer applies it to each of W·x + b.
    /// fn act<A: Activation>(z: [f64; 3]) -> [f64; 3] {
    ///     z.map(A::apply)
    /// }
    /// assert_eq!(act::<Relu>([-1.0, 0.0, 2.0]), [0.0, 0.0, 2.0]);
    /// assert_eq!(act::<Identity>([-1.0, 0.0, 2.0]), [-1.0, 0.0, 2.0]);
    /// assert!((act::<Tanh>([-1.0, 0.0, 2.0])[2] - 2.0_f64.tanh()).abs() < 1e-15);
    /// ```
    fn apply<T: Real>(z: T) -> T;
    /// `φ'(z)` from `y = φ(z)`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{dense::Activation, Identity, Relu, Sigmoid, Tanh};
    ///
    /// // φ'(z) from the output alone, against a central difference of φ.
    /// fn check<A: Activation>(z: f64) {
    ///     let fd = (A::apply(z + 1e-6) - A::apply(z - 1e-6)) / 2e-6;
    ///     assert!((A::grad_from_output(A::apply(z)) - fd).abs() < 1e-8, "{}", A::NAME);
    /// }
    /// for z in [-1.5, 0.3, 2.0] {
    ///     check::<Identity>(z);
    ///     check::<Tanh>(z);
    ///     check::<Sigmoid>(z);
    ///     check::<Relu>(z);
    /// }
    /// ```
    fn grad_from_output<T: Real>(y: T) -> T;
}

/// `φ(z) = z`: a linear layer (a model's output layer, whose logits a loss reads).
///
/// # Example
/// ```
/// use tinyrnn::{dense::Activation, Identity};
/// assert_eq!(Identity::apply(-2.5_f64), -2.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

/// `φ(z) = tanh(z)`.
///
/// # Example
/// ```
/// use tinyrnn::{dense::Activation, Tanh};
/// assert_eq!(Tanh::apply(0.0_f32), 0.0);
/// assert_eq!(Tanh::grad_from_output(0.0_f32), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

/// `φ(z) = σ(z) = 1 / (1 + e^{−z})`.
///
/// # Example
/// ```
/// use tinyrnn::{dense::Activation, Sigmoid};
/// assert_eq!(Sigmoid::apply(0.0_f32), 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

/// `φ(z) = max(z, 0)`; its derivative at 0 is taken as 0 (as PyTorch does).
///
/// # Example
/// ```
/// use tinyrnn::{dense::Activation, Relu};
/// assert_eq!(Relu::apply(2.0_f64), 2.0);
/// assert_eq!(Relu::grad_from_output(0.0_f64), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl Activation for Identity {
    const NAME: &'static str = "identity";
    #[inline(always)]
    fn apply<T: Real>(z: T) -> T {
        z
    }
    #[inline(always)]
    fn grad_from_output<T: Real>(_y: T) -> T {
        T::one()
    }
}

impl Activation for Tanh {
    const NAME: &'static str = "tanh";
    #[inline(always)]
    fn apply<T: Real>(z: T) -> T {
        z.tanh_branchless()
    }
    #[inline(always)]
    fn grad_from_output<T: Real>(y: T) -> T {
        tanh_grad_from_output(y)
    }
}

impl Activation for Sigmoid {
    const NAME: &'static str = "sigmoid";
    #[inline(always)]
    fn apply<T: Real>(z: T) -> T {
        z.sigmoid()
    }
    #[inline(always)]
    fn grad_from_output<T: Real>(y: T) -> T {
        sigmoid_grad_from_output(y)
    }
}

impl Activation for Relu {
    const NAME: &'static str = "relu";
    #[inline(always)]
    fn apply<T: Real>(z: T) -> T {
        // NaN stays NaN: `z > 0` is false for NaN, so test the other way round.
        if z < T::zero() {
            T::zero()
        } else {
            z
        }
    }
    #[inline(always)]
    fn grad_from_output<T: Real>(y: T) -> T {
        if y > T::zero() {
            T::one()
        } else {
            T::zero()
        }
    }
}

/// A dense layer `y⟨t⟩ = φ(W·x⟨t⟩ + b)`, applied at every step; see the [module docs](self).
///
/// # Generics
/// `T`: scalar; `N_IN`: inputs; `N_OUT`: outputs; `A`: the activation (default [`Identity`]).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Dense, Params, Step, Tanh};
///
/// let mut d = Dense::<f64, 2, 1, Tanh>::zeros();
/// d.w = SMatrix::<f64, 1, 2>::new(1.0, -1.0);
/// d.b[0] = 0.5;
/// let mut y = SMatrix::zeros();
/// d.step(&SMatrix::<f64, 2, 1>::new(2.0, 1.0), &mut (), &mut y);
/// assert_eq!(y[0], 1.5_f64.tanh());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Dense<T, const N_IN: usize, const N_OUT: usize, A = Identity> {
    /// `W`, `(N_OUT, N_IN)` (`Wy` when the layer is a model's output layer).
    pub w: SMatrix<T, N_OUT, N_IN>,
    /// `b`, `(N_OUT, 1)`, broadcast over the batch (`by` for an output layer).
    pub b: SVector<T, N_OUT>,
    /// The activation, a zero-sized marker.
    pub activation: PhantomData<A>,
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: Activation> Params<T>
    for Dense<T, N_IN, N_OUT, A>
{
    const LEN: usize = N_OUT * (N_IN + 1);
    const ZEROS: Self = Self {
        w: zero_matrix(),
        b: zero_matrix(),
        activation: PhantomData,
    };
    fn names() -> impl Iterator<Item = &'static str> {
        ["w", "b"].into_iter()
    }
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [self.w.as_slice(), self.b.as_slice()].into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [self.w.as_mut_slice(), self.b.as_mut_slice()].into_iter()
    }
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: Activation> Initialize
    for Dense<T, N_IN, N_OUT, A>
{
    /// `W` by `init.weights` (Glorot over `(N_OUT, N_IN)`, or `U(±1/√N_IN)`), `b = 0`.
    fn init(init: &Init, rng: &mut Rng) -> Self {
        let mut p = Self::ZEROS;
        p.init_into(init, rng);
        p
    }
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fill_zero();
        init.fill(&mut self.w, N_IN, rng);
    }
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: Activation> Dense<T, N_IN, N_OUT, A> {
    /// `y = φ(W·x + b)` for one step.
    #[inline]
    fn apply_into<const M: usize>(&self, x: &SMatrix<T, N_IN, M>, y: &mut SMatrix<T, N_OUT, M>) {
        kernel::head(y, &self.w, x, &self.b);
        for v in y.iter_mut() {
            *v = A::apply(*v);
        }
    }
}

/// The backward pass of `z = W·x + b`: `dW += dz·xᵀ`, `db += dz·1`, `dx = Wᵀ·dz` (overwritten).
/// Shared by [`Dense`] and the notebook types' output layers.
#[inline]
pub(crate) fn linear_backward<T: Real, const N_IN: usize, const N_OUT: usize, const M: usize>(
    w: &SMatrix<T, N_OUT, N_IN>,
    x: &SMatrix<T, N_IN, M>,
    dz: &SMatrix<T, N_OUT, M>,
    dw: &mut SMatrix<T, N_OUT, N_IN>,
    db: &mut SVector<T, N_OUT>,
    dx: &mut SMatrix<T, N_IN, M>,
) {
    kernel::acc_outer(dw, dz, x);
    kernel::acc_row_sums(db, dz);
    dx.fill(T::zero());
    kernel::acc_tr_mul(dx, w, dz);
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: Activation, const M: usize> Layer<T, M>
    for Dense<T, N_IN, N_OUT, A>
{
    type X = SMatrix<T, N_IN, M>;
    type Y = SMatrix<T, N_OUT, M>;
    type State = ();
    type Tape<const T_X: usize> = [SMatrix<T, N_OUT, M>; T_X];

    fn forward<const T_X: usize>(&self, x: &[Self::X; T_X], _s0: &(), tape: &mut Self::Tape<T_X>) {
        for (xt, yt) in x.iter().zip(tape.iter_mut()) {
            self.apply_into(xt, yt);
        }
    }

    fn output<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::Y; T_X] {
        tape
    }

    fn final_state<const T_X: usize>(_tape: &Self::Tape<T_X>) {}

    fn backward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dy: &[Self::Y; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
        _ds0: &mut (),
    ) {
        for (((y, dy), x), dx) in tape.iter().zip(dy).zip(x).zip(dx) {
            let dz = y.zip_map(dy, |y, d| A::grad_from_output(y) * d);
            linear_backward(&self.w, x, &dz, &mut dparams.w, &mut dparams.b, dx);
        }
    }
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: Activation, const M: usize> Step<T, M>
    for Dense<T, N_IN, N_OUT, A>
{
    #[inline]
    fn step(&self, x: &Self::X, _state: &mut (), y: &mut Self::Y) {
        self.apply_into(x, y);
    }
}
