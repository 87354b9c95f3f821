//! Layers and how they compose: the [`Layer`] and [`Step`] traits, [`Stack`], and the
//! sequence loop shared by cells whose state is their output.
//!
//! A *layer* maps a sequence of `T_X` inputs to a sequence of `T_X` outputs, for a batch of
//! `M` columns:
//!
//! ```text
//! y⟨t⟩, s⟨t⟩ = f(x⟨t⟩, s⟨t−1⟩; θ)          t = 1 … T_X,   s⟨0⟩ given
//! ```
//!
//! where `s` is the layer's recurrent [`Layer::State`] (`a` for an RNN or a GRU, `(a, c)` for an
//! LSTM, nothing for a [`Dense`](crate::Dense) layer). Every layer has the same four operations:
//! a sequence forward pass into a caller-owned [`Layer::Tape`], its outputs, the backward pass
//! (adding `∂J/∂θ` into a gradient of the layer's own type, writing `∂J/∂x⟨t⟩` and `∂J/∂s⟨0⟩`),
//! and, for layers that can run online ([`Step`]), one step with no tape at all.
//!
//! The step input and output types ([`Layer::X`], [`Layer::Y`]) are associated types, so the
//! compiler checks where two layers meet: `Stack<A, B>` is a layer only if `B::X == A::Y`, i.e.
//! `B`'s input size is `A`'s output size and both use the same batch `M`. A mismatch is a
//! compile error: naming the stack's tape or state type reports `expected 8, found 4`, and a
//! method call on the mismatched stack reports that it does not implement `Layer`, naming both
//! layer types (`tests/ui/fail_stack_sizes.rs`).
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::{Gru, Layer, Lstm, Params, Stack};
//!
//! // A GRU over an LSTM: 3 features → 8 hidden → 4 hidden, batch 2, 5 steps.
//! type Net = Stack<Lstm<f32, 3, 8>, Gru<f32, 8, 4>>;
//! let net = Net::zeros();
//! let mut tape = <Net as Layer<f32, 2>>::Tape::<5>::ZEROS;
//! let x = [SMatrix::<f32, 3, 2>::repeat(0.5); 5];
//! net.forward(&x, &Zeroed::ZEROS, &mut tape);
//! let y: &[SMatrix<f32, 4, 2>; 5] = Net::output(&tape);
//! assert_eq!(y[4], SMatrix::<f32, 4, 2>::zeros()); // zero weights: every GRU candidate is tanh(0) = 0
//! # use tinyrnn::params::Zeroed;
//! ```

use crate::params::Zeroed;
use crate::{Params, Real};

/// A layer over sequences: input `X`, output `Y` and recurrent state `State` per step, for a
/// batch of `M` columns.
///
/// Implemented by the cells ([`Rnn`](crate::Rnn), [`Lstm`](crate::Lstm),
/// [`Gru`](crate::Gru)), the per-step [`Dense`](crate::Dense) layer, [`Stack`],
/// [`Bidirectional`](crate::Bidirectional) and [`Model`](crate::Model). A layer's gradient has
/// the layer's own type ([`Params`]), so one optimizer walks any composition.
///
/// # Generics
/// `T`: scalar; `M`: batch columns (column `j` of every matrix is example `j`). Sizes are in
/// the implementing type (`Lstm<T, N_X, N_A>`: `X = SMatrix<T, N_X, M>`,
/// `Y = SMatrix<T, N_A, M>`).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Layer, Params, Rnn};
///
/// // Any layer, generically: the outputs of a sequence from a zero state.
/// fn run<L: Layer<f64, 1>, const T_X: usize>(l: &L, x: &[L::X; T_X]) -> [L::Y; T_X] {
///     let mut tape = L::Tape::<T_X>::ZEROS;
///     l.forward(x, &L::State::ZEROS, &mut tape);
///     *L::output(&tape)
/// }
/// let mut rnn = Rnn::<f64, 1, 2>::zeros();
/// rnn.ba.fill(0.5);
/// let y = run(&rnn, &[SMatrix::zeros(); 3]);
/// assert!((y[0][0] - 0.5_f64.tanh()).abs() < 1e-15);
/// ```
pub trait Layer<T: Real, const M: usize>: Params<T> {
    /// One step's input, `SMatrix<T, N_IN, M>`.
    type X: Copy + Zeroed;
    /// One step's output, `SMatrix<T, N_OUT, M>`.
    type Y: Copy + Zeroed;
    /// What is carried from one step to the next (`()` for a stateless layer).
    type State: Copy + Zeroed;
    /// What a sequence forward pass records for the backward pass, the outputs included, plus
    /// the backward pass's scratch space. Caller-owned: it can be a `static`.
    type Tape<const T_X: usize>: Zeroed;

    /// The forward pass over a sequence from the state `s0`: fills `tape`, outputs included.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{params::Zeroed, Layer, Params, Rnn};
    ///
    /// // a⟨t⟩ = tanh(wax·x⟨t⟩ + waa·a⟨t−1⟩ + ba), from a⟨0⟩ = s0.
    /// type L = Rnn<f64, 1, 1>;
    /// type X = SMatrix<f64, 1, 1>;
    /// let mut rnn = L::zeros();
    /// (rnn.wax[0], rnn.waa[0]) = (0.5, -1.0);
    /// let x = [X::new(2.0), X::new(0.0)];
    /// let mut tape = <L as Layer<f64, 1>>::Tape::<2>::ZEROS;
    /// rnn.forward(&x, &X::new(0.3), &mut tape);
    /// let y = <L as Layer<f64, 1>>::output(&tape);
    /// let a1 = (0.5 * 2.0 - 0.3_f64).tanh();
    /// assert!((y[0][0] - a1).abs() < 1e-15);
    /// assert!((y[1][0] - (-a1).tanh()).abs() < 1e-15);
    /// ```
    fn forward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        s0: &Self::State,
        tape: &mut Self::Tape<T_X>,
    );

    /// The outputs `y⟨t⟩` recorded by [`Layer::forward`].
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{params::Zeroed, Layer, Lstm, Params};
    ///
    /// // An LSTM outputs its hidden state a⟨t⟩, not its cell state c⟨t⟩.
    /// type L = Lstm<f32, 2, 3>;
    /// let mut lstm = L::zeros();
    /// lstm.bc.fill(1.0);
    /// let mut tape = <L as Layer<f32, 1>>::Tape::<4>::ZEROS;
    /// lstm.forward(&[SMatrix::zeros(); 4], &Zeroed::ZEROS, &mut tape);
    /// let y: &[SMatrix<f32, 3, 1>; 4] = <L as Layer<f32, 1>>::output(&tape);
    /// assert_eq!(y[3], <L as Layer<f32, 1>>::final_state(&tape).a);
    /// assert!(y[3][0] > y[0][0]); // the cell state accumulates
    /// ```
    fn output<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::Y; T_X];

    /// The state after the last step of the sequence recorded in `tape` (the initial state if
    /// `T_X = 0`): PyTorch's `h_n` (and `c_n`). Continue a sequence in chunks by passing it as
    /// the next call's `s0`; for a bidirectional layer, the backward direction's part is its
    /// state after reading the whole sequence backwards.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{params::Zeroed, Layer, Lstm, Params};
    ///
    /// // One sequence of 6 steps, or two chunks of 3 carrying the state: the same outputs.
    /// type L = Lstm<f64, 1, 2>;
    /// let mut lstm = L::zeros();
    /// lstm.wcx.fill(0.9);
    /// lstm.wfa.fill(-0.4);
    /// let x: [SMatrix<f64, 1, 1>; 6] = core::array::from_fn(|t| SMatrix::repeat(t as f64 - 2.5));
    /// let mut whole = <L as Layer<f64, 1>>::Tape::<6>::ZEROS;
    /// lstm.forward(&x, &Zeroed::ZEROS, &mut whole);
    ///
    /// let x1: [_; 3] = core::array::from_fn(|t| x[t]);
    /// let x2: [_; 3] = core::array::from_fn(|t| x[3 + t]);
    /// let mut first = <L as Layer<f64, 1>>::Tape::<3>::ZEROS;
    /// let mut second = <L as Layer<f64, 1>>::Tape::<3>::ZEROS;
    /// lstm.forward(&x1, &Zeroed::ZEROS, &mut first);
    /// lstm.forward(&x2, &<L as Layer<f64, 1>>::final_state(&first), &mut second);
    /// assert_eq!(<L as Layer<f64, 1>>::output(&second)[2], <L as Layer<f64, 1>>::output(&whole)[5]);
    /// ```
    fn final_state<const T_X: usize>(tape: &Self::Tape<T_X>) -> Self::State;

    /// Backpropagation through time from `dy[t] = ∂J/∂y⟨t⟩`. `x` and `tape` must be those of
    /// the last [`Layer::forward`] call (its `s0` is in the tape).
    ///
    /// **Adds** `∂J/∂θ` into `dparams` (so mini-batches and time steps accumulate), and
    /// **overwrites** `dx` with `∂J/∂x⟨t⟩` and `ds0` with `∂J/∂s⟨0⟩`. The tape's scratch space
    /// may be overwritten; its forward record is not.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{params::Zeroed, Layer, Params, Rnn};
    ///
    /// type L = Rnn<f64, 1, 1>;
    /// type X = SMatrix<f64, 1, 1>;
    /// // J = y⟨3⟩, the last output: dy = [0, 0, 1].
    /// fn j(l: &L, x: &[X; 3], s0: f64) -> f64 {
    ///     let mut tape = <L as Layer<f64, 1>>::Tape::<3>::ZEROS;
    ///     l.forward(x, &X::new(s0), &mut tape);
    ///     <L as Layer<f64, 1>>::output(&tape)[2][0]
    /// }
    /// let mut rnn = L::zeros();
    /// (rnn.wax[0], rnn.waa[0], rnn.ba[0]) = (0.8, 0.5, -0.1);
    /// let (x, s0) = ([X::new(1.0), X::new(-0.5), X::new(2.0)], 0.4);
    /// let mut tape = <L as Layer<f64, 1>>::Tape::<3>::ZEROS;
    /// rnn.forward(&x, &X::new(s0), &mut tape);
    /// let (mut grads, mut dx, mut ds0) = (L::zeros(), [X::zeros(); 3], X::zeros());
    /// let dy = [X::zeros(), X::zeros(), X::new(1.0)];
    /// rnn.backward(&x, &mut tape, &dy, &mut grads, &mut dx, &mut ds0);
    ///
    /// // ∂J/∂s⟨0⟩ and ∂J/∂ba against central differences.
    /// let eps = 1e-6;
    /// let fd_s0 = (j(&rnn, &x, s0 + eps) - j(&rnn, &x, s0 - eps)) / (2.0 * eps);
    /// assert!((ds0[0] - fd_s0).abs() < 1e-8);
    /// let (mut hi, mut lo) = (rnn, rnn);
    /// (hi.ba[0], lo.ba[0]) = (rnn.ba[0] + eps, rnn.ba[0] - eps);
    /// assert!((grads.ba[0] - (j(&hi, &x, s0) - j(&lo, &x, s0)) / (2.0 * eps)).abs() < 1e-8);
    /// ```
    fn backward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dy: &[Self::Y; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
        ds0: &mut Self::State,
    );
}

/// A layer that can run online, one step at a time, with no tape: streaming inference.
///
/// `step` computes exactly what [`Layer::forward`] computes at that step, bit for bit. A
/// [`Bidirectional`](crate::Bidirectional) layer needs the whole sequence and does not
/// implement it, so streaming one does not compile.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Layer, Params, Step, Lstm};
///
/// let mut lstm = Lstm::<f32, 2, 3>::zeros();
/// lstm.bc.fill(0.4);
/// let x = [SMatrix::<f32, 2, 1>::repeat(1.0); 6];
/// let mut tape = <Lstm<f32, 2, 3> as Layer<f32, 1>>::Tape::<6>::ZEROS;
/// lstm.forward(&x, &Zeroed::ZEROS, &mut tape);
///
/// let mut state = Zeroed::ZEROS;
/// let mut y = SMatrix::zeros();
/// for t in 0..6 {
///     lstm.step(&x[t], &mut state, &mut y);
///     assert_eq!(y, <Lstm<f32, 2, 3> as Layer<f32, 1>>::output(&tape)[t]); // bit for bit
/// }
/// ```
pub trait Step<T: Real, const M: usize>: Layer<T, M> {
    /// Advances `state` by one input and writes the output.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, Rnn, Step};
    ///
    /// // a⟨t⟩ = tanh(wax·x⟨t⟩ + waa·a⟨t−1⟩ + ba), one sample at a time.
    /// let mut rnn = Rnn::<f64, 1, 1>::zeros();
    /// (rnn.wax[0], rnn.waa[0]) = (0.5, 2.0);
    /// let (mut a, mut y) = (SMatrix::<f64, 1, 1>::zeros(), SMatrix::zeros());
    /// rnn.step(&SMatrix::<f64, 1, 1>::new(1.0), &mut a, &mut y);
    /// assert!((y[0] - 0.5_f64.tanh()).abs() < 1e-15);
    /// rnn.step(&SMatrix::<f64, 1, 1>::new(0.0), &mut a, &mut y);
    /// assert!((y[0] - (2.0 * 0.5_f64.tanh()).tanh()).abs() < 1e-15);
    /// assert_eq!(a, y); // an RNN's state is its output
    /// ```
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y);
}

/// Two layers in sequence: `B` reads `A`'s outputs. `B`'s input size must equal `A`'s output
/// size, which the compiler checks.
///
/// Nest for deeper networks (`Stack<Stack<A, B>, C>`, or the alias [`Stack3`]); any mix of
/// layer kinds composes. The state is the pair of the two states, the parameters (and
/// gradients) are the two layers' in order.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Dense, Gru, Layer, Params, Stack, Step, Tanh};
///
/// // Dense(tanh) → GRU: an audio-effect shaped body, streamed one sample at a time.
/// type Body = Stack<Dense<f32, 1, 8, Tanh>, Gru<f32, 8, 8>>;
/// let body = Body::zeros();
/// let mut state = <Body as Layer<f32, 1>>::State::ZEROS;
/// let mut y = SMatrix::<f32, 8, 1>::zeros();
/// body.step(&SMatrix::repeat(0.3), &mut state, &mut y);
/// assert_eq!(y, SMatrix::<f32, 8, 1>::zeros());
/// assert_eq!(Body::LEN, (8 + 8) + 3 * (8 * 8 + 8 * 8 + 8) + 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Stack<A, B> {
    /// The lower layer (reads the stack's input).
    pub lower: A,
    /// The upper layer (reads `lower`'s output; its output is the stack's).
    pub upper: B,
}

/// Three layers in sequence: `Stack<Stack<A, B>, C>`.
pub type Stack3<A, B, C> = Stack<Stack<A, B>, C>;

/// The tape of a [`Stack`]: both layers' tapes and the gradient flowing between them.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Dense, Layer, Lstm, Params, Relu, Stack};
///
/// type Lower = Dense<f32, 2, 3, Relu>;
/// type Upper = Lstm<f32, 3, 4>;
/// let mut net = Stack::<Lower, Upper>::zeros();
/// net.lower.b.fill(-1.0); // ReLU(−1) = 0: the LSTM reads zeros
/// let mut tape = <Stack<Lower, Upper> as Layer<f32, 1>>::Tape::<5>::ZEROS;
/// net.forward(&[SMatrix::repeat(0.5); 5], &Zeroed::ZEROS, &mut tape);
/// let mid = <Lower as Layer<f32, 1>>::output(&tape.lower);
/// assert_eq!(mid[4], SMatrix::<f32, 3, 1>::zeros());
/// let y = <Stack<Lower, Upper> as Layer<f32, 1>>::output(&tape);
/// assert_eq!(y, <Upper as Layer<f32, 1>>::output(&tape.upper));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct StackTape<TA, TB, D> {
    /// The lower layer's tape.
    pub lower: TA,
    /// The upper layer's tape.
    pub upper: TB,
    /// Backward scratch: `∂J/∂y⟨t⟩` of the lower layer.
    pub d_mid: D,
}

impl<TA: Zeroed, TB: Zeroed, D: Zeroed> Zeroed for StackTape<TA, TB, D> {
    const ZEROS: Self = Self {
        lower: TA::ZEROS,
        upper: TB::ZEROS,
        d_mid: D::ZEROS,
    };
}

impl<T: Real, A: Params<T>, B: Params<T>> Params<T> for Stack<A, B> {
    const LEN: usize = A::LEN + B::LEN;
    const ZEROS: Self = Self {
        lower: A::ZEROS,
        upper: B::ZEROS,
    };
    fn names() -> impl Iterator<Item = &'static str> {
        A::names().chain(B::names())
    }
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.lower.tensors().chain(self.upper.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.lower.tensors_mut().chain(self.upper.tensors_mut())
    }
}

impl<A: crate::init::Initialize, B: crate::init::Initialize> crate::init::Initialize
    for Stack<A, B>
{
    /// The lower layer's, then the upper layer's, from the same generator.
    fn init(init: &crate::init::Init, rng: &mut crate::init::Rng) -> Self {
        let lower = A::init(init, rng);
        Self {
            lower,
            upper: B::init(init, rng),
        }
    }
    fn init_into(&mut self, init: &crate::init::Init, rng: &mut crate::init::Rng) {
        self.lower.init_into(init, rng);
        self.upper.init_into(init, rng);
    }
}

impl<T: Real, const M: usize, A: Layer<T, M>, B: Layer<T, M, X = A::Y>> Layer<T, M>
    for Stack<A, B>
{
    type X = A::X;
    type Y = B::Y;
    type State = (A::State, B::State);
    type Tape<const T_X: usize> = StackTape<A::Tape<T_X>, B::Tape<T_X>, [A::Y; T_X]>;

    fn forward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        s0: &Self::State,
        tape: &mut Self::Tape<T_X>,
    ) {
        self.lower.forward(x, &s0.0, &mut tape.lower);
        self.upper
            .forward(A::output(&tape.lower), &s0.1, &mut tape.upper);
    }

    fn output<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::Y; T_X] {
        B::output(&tape.upper)
    }

    fn final_state<const T_X: usize>(tape: &Self::Tape<T_X>) -> Self::State {
        (A::final_state(&tape.lower), B::final_state(&tape.upper))
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
        self.upper.backward(
            A::output(&tape.lower),
            &mut tape.upper,
            dy,
            &mut dparams.upper,
            &mut tape.d_mid,
            &mut ds0.1,
        );
        self.lower.backward(
            x,
            &mut tape.lower,
            &tape.d_mid,
            &mut dparams.lower,
            dx,
            &mut ds0.0,
        );
    }
}

impl<T: Real, const M: usize, A: Step<T, M>, B: Step<T, M, X = A::Y>> Step<T, M> for Stack<A, B> {
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
        let mut mid = A::Y::ZEROS;
        self.lower.step(x, &mut state.0, &mut mid);
        self.upper.step(&mid, &mut state.1, y);
    }
}

/// The per-step interface of the cells whose state is their output. The module is private,
/// so these are crate-internal even though they are nominally `pub` (which lets public
/// `Layer` impls name their associated types).
mod cell {
    use crate::params::Zeroed;
    use crate::Real;

    /// One step of a cell whose state is its output (`h⟨t⟩ = a⟨t⟩`): the RNN and the GRU. The
    /// sequence loops over it are written once ([`seq_forward`], [`seq_backward`]).
    pub trait StateCell<T: Real, const M: usize> {
        /// One step's input.
        type X: Copy + Zeroed;
        /// The state, which is also the output.
        type H: Copy + Zeroed + core::ops::AddAssign;
        /// What one step stores for its backward pass besides `h⟨t⟩`.
        type Aux: Copy + Zeroed;

        /// `h ← f(x, h_prev)`, recording `aux`.
        fn cell_forward(&self, x: &Self::X, h_prev: &Self::H, aux: &mut Self::Aux, h: &mut Self::H);

        /// From `dh = ∂J/∂h⟨t⟩`: adds into `dparams`, overwrites `dx` and `dh_prev`.
        #[allow(clippy::too_many_arguments)]
        fn cell_backward(
            &self,
            step: CellStep<'_, Self::X, Self::H, Self::Aux>,
            dh: &Self::H,
            dparams: &mut Self,
            dx: &mut Self::X,
            dh_prev: &mut Self::H,
        );
    }

    /// One recorded step of a [`StateCell`], borrowed from its tape.
    pub struct CellStep<'a, X, H, Aux> {
        pub x: &'a X,
        pub h_prev: &'a H,
        #[allow(dead_code)] // read by the GRU, not by the RNN
        pub aux: &'a Aux,
        pub h: &'a H,
    }
}
pub(crate) use cell::{CellStep, StateCell};

/// The tape of a cell whose state is its output ([`Rnn`](crate::Rnn), [`Gru`](crate::Gru)):
/// the initial state, every step's output (= state) and what each step's backward pass needs.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::Zeroed, Layer, Params, Rnn};
///
/// let rnn = Rnn::<f32, 2, 3>::zeros();
/// let mut tape = <Rnn<f32, 2, 3> as Layer<f32, 4>>::Tape::<5>::ZEROS;
/// rnn.forward(&[SMatrix::zeros(); 5], &SMatrix::repeat(1.0), &mut tape);
/// assert_eq!(tape.h0, SMatrix::<f32, 3, 4>::repeat(1.0));
/// assert_eq!(tape.h[4], SMatrix::<f32, 3, 4>::zeros());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct SeqTape<H, Aux, const T_X: usize> {
    /// The initial state `h⟨0⟩`.
    pub h0: H,
    /// The outputs (= states) `h⟨1⟩ … h⟨T_X⟩`; index `t` follows input `x[t]`.
    pub h: [H; T_X],
    /// Each step's record for the backward pass (`()` for the RNN, the gates for the GRU).
    pub aux: [Aux; T_X],
}

impl<H: Zeroed + Copy, Aux: Zeroed + Copy, const T_X: usize> Zeroed for SeqTape<H, Aux, T_X> {
    const ZEROS: Self = Self {
        h0: H::ZEROS,
        h: [H::ZEROS; T_X],
        aux: [Aux::ZEROS; T_X],
    };
}

/// The forward loop of a [`StateCell`]: `h[t] = f(x[t], h[t−1])`, `h[−1] = h0`.
pub(crate) fn seq_forward<T: Real, const M: usize, C: StateCell<T, M>, const T_X: usize>(
    cell: &C,
    x: &[C::X; T_X],
    h0: &C::H,
    h: &mut [C::H; T_X],
    aux: &mut [C::Aux; T_X],
) {
    let mut h_prev = *h0;
    for ((xt, ht), auxt) in x.iter().zip(h.iter_mut()).zip(aux.iter_mut()) {
        cell.cell_forward(xt, &h_prev, auxt, ht);
        h_prev = *ht;
    }
}

/// The backward loop of a [`StateCell`]: step `t` receives `dh[t] + dh_prev(t+1)`; returns
/// `∂J/∂h0` in `dh0`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn seq_backward<T: Real, const M: usize, C: StateCell<T, M>, const T_X: usize>(
    cell: &C,
    x: &[C::X; T_X],
    h0: &C::H,
    h: &[C::H; T_X],
    aux: &[C::Aux; T_X],
    dh: &[C::H; T_X],
    dparams: &mut C,
    dx: &mut [C::X; T_X],
    dh0: &mut C::H,
) {
    let mut carry = C::H::ZEROS;
    // Indexed by t < T_X, the arrays' length (t − 1 only when t > 0): the compiler drops the
    // checks. Zipped iterators execute about as many instructions (callgrind) but ran 7-10%
    // slower (course RNN training step, f32 and f64, x86-64), as in `lstm::backward_loop`.
    #[allow(clippy::indexing_slicing)]
    for t in (0..T_X).rev() {
        let mut upstream = dh[t];
        upstream += carry;
        let step = CellStep {
            x: &x[t],
            h_prev: if t == 0 { h0 } else { &h[t - 1] },
            aux: &aux[t],
            h: &h[t],
        };
        cell.cell_backward(step, &upstream, dparams, &mut dx[t], &mut carry);
    }
    *dh0 = carry;
}

/// Implements [`Layer`] and [`Step`] for a [`StateCell`] with a [`SeqTape`].
macro_rules! state_cell_layer {
    ($ty:ident<$($gen:ident),*> where $($bounds:tt)*) => {
        impl<T: Real, const M: usize, $($bounds)*> $crate::layer::Layer<T, M> for $ty<$($gen),*> {
            type X = <Self as $crate::layer::StateCell<T, M>>::X;
            type Y = <Self as $crate::layer::StateCell<T, M>>::H;
            type State = <Self as $crate::layer::StateCell<T, M>>::H;
            type Tape<const T_X: usize> = $crate::layer::SeqTape<
                <Self as $crate::layer::StateCell<T, M>>::H,
                <Self as $crate::layer::StateCell<T, M>>::Aux,
                T_X,
            >;

            fn forward<const T_X: usize>(
                &self,
                x: &[Self::X; T_X],
                s0: &Self::State,
                tape: &mut Self::Tape<T_X>,
            ) {
                tape.h0 = *s0;
                $crate::layer::seq_forward(self, x, s0, &mut tape.h, &mut tape.aux);
            }

            fn output<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::Y; T_X] {
                &tape.h
            }

            fn final_state<const T_X: usize>(tape: &Self::Tape<T_X>) -> Self::State {
                *tape.h.last().unwrap_or(&tape.h0)
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
                $crate::layer::seq_backward(
                    self, x, &tape.h0, &tape.h, &tape.aux, dy, dparams, dx, ds0,
                );
            }
        }

        impl<T: Real, const M: usize, $($bounds)*> $crate::layer::Step<T, M> for $ty<$($gen),*> {
            fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
                let mut aux = <<Self as $crate::layer::StateCell<T, M>>::Aux as $crate::params::Zeroed>::ZEROS;
                $crate::layer::StateCell::<T, M>::cell_forward(self, x, state, &mut aux, y);
                *state = *y;
            }
        }
    };
}
pub(crate) use state_cell_layer;
