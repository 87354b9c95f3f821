//! Models and streaming: a [`Model`] is a body with a dense output layer on top, trained by
//! [`Workspace`](crate::train::Workspace) and run online by [`Stream`].
//!
//! A model is nothing new: `Model<B, H>` is [`Stack<B, H>`](crate::Stack) (`model.lower` is the
//! body, `model.upper` the output layer), and any stack whose top is a linear
//! [`Dense`](crate::Dense) layer can be trained with the losses of [`crate::loss`]. The
//! compiler checks that the output layer's input size is the body's output size.
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::init::{Init, Initialize, Rng};
//! use tinyrnn::loss::Target;
//! use tinyrnn::optim::Adam;
//! use tinyrnn::train::Workspace;
//! use tinyrnn::{Dense, Gru, Model, Stack, Stream};
//!
//! // A 2-layer GRU classifier: 1 feature → 16 → 16 hidden units → 2 classes.
//! type Net = Model<Stack<Gru<f32, 1, 16>, Gru<f32, 16, 16>>, Dense<f32, 16, 2>>;
//! let mut net = Net::init(&Init::default(), &mut Rng::new(1));
//! let mut opt = Adam::new(1e-2);
//! let mut ws = Workspace::<f32, Net, 4, 12>::zeros(); // batch 4, 12 steps
//! let mut x = [SMatrix::<f32, 1, 4>::zeros(); 12];
//! x[0] = SMatrix::from_row_slice(&[1.0, -1.0, 1.0, -1.0]);
//! let labels = [1, 0, 1, 0];
//! for _ in 0..30 {
//!     ws.train_step(&mut net, &mut opt, &x, &Target::ClassLast(&labels))?;
//! }
//!
//! // Deployed: one sample at a time, the state of both GRUs in 128 bytes, no tape.
//! let mut stream = Stream::<f32, Net>::new();
//! assert_eq!(core::mem::size_of_val(stream.state()), 2 * 16 * 4);
//! let mut logits = SMatrix::zeros();
//! for xt in &x {
//!     logits = stream.step(&net, &xt.column(0).into());
//! }
//! assert!(logits[1] > logits[0]); // the first input was +1: class 1
//! # Ok::<(), tinyrnn::Error>(())
//! ```

use crate::layer::{Stack, Step};
use crate::params::Zeroed;
use crate::Real;
use core::marker::PhantomData;

/// A body `B` (any [`Layer`](crate::Layer)) with an output layer `H` on top: `Stack<B, H>`.
///
/// With `H = Dense<T, N_H, N_Y>` (linear) it is a [`Network`](crate::train::Network) that
/// [`Workspace`](crate::train::Workspace) trains and runs. `model.lower` is the body,
/// `model.upper` the output layer `(Wy, by)` (as `w`, `b`).
pub type Model<B, H> = Stack<B, H>;

/// Streaming inference: the state of every layer of a model, advanced one sample at a time.
///
/// No tape, no cache: a step costs one forward step of each layer, and its output equals the
/// whole-sequence forward pass's output at that step bit for bit. Stream a [`Model`] to get
/// its output layer at every step, or its body (`model.lower`) for the hidden features alone.
/// The state is `size_of::<L::State>()` bytes: `s·N_A·M` for an RNN or a GRU layer, twice
/// that for an LSTM, nothing for a dense layer.
///
/// # Generics
/// `T`: scalar; `L`: the layer or model streamed; `M`: batch columns, 1 by default (a batch
/// streams `M` independent sequences in lock step).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Gru, Lstm, Params, Stack, Stream};
///
/// type Body = Stack<Lstm<f32, 2, 8>, Gru<f32, 8, 4>>;
/// let body = Body::zeros();
/// let mut s = Stream::<f32, Body>::new();
/// let y: SMatrix<f32, 4, 1> = s.step(&body, &SMatrix::repeat(1.0));
/// assert_eq!(y, SMatrix::<f32, 4, 1>::zeros());
/// assert_eq!(core::mem::size_of_val(s.state()), (2 * 8 + 4) * 4);
/// s.reset();
/// ```
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Stream<T: Real, L: Step<T, M>, const M: usize = 1> {
    state: L::State,
    scalar: PhantomData<fn() -> T>,
}

impl<T: Real, L: Step<T, M>, const M: usize> Stream<T, L, M> {
    /// A stream at the zero state, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        state: L::State::ZEROS,
        scalar: PhantomData,
    };

    /// A stream at the zero state.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Rnn, Stream};
    /// let s = Stream::<f64, Rnn<f64, 1, 3>>::new();
    /// assert_eq!(s.state().sum(), 0.0);
    /// ```
    pub fn new() -> Self {
        Self::ZEROS
    }

    /// A stream starting from a given state (e.g. one saved before a reset of the device).
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Rnn, Stream};
    /// let s = Stream::<f32, Rnn<f32, 1, 2>>::from_state(SMatrix::repeat(0.5));
    /// assert_eq!(s.state()[1], 0.5);
    /// ```
    pub fn from_state(state: L::State) -> Self {
        Self {
            state,
            scalar: PhantomData,
        }
    }

    /// Advances every layer by one input and returns the output.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, Rnn, Stream};
    /// let mut rnn = Rnn::<f64, 1, 1>::zeros();
    /// (rnn.wax[0], rnn.waa[0]) = (1.0, 1.0);
    /// let mut s = Stream::<f64, _>::new();
    /// let y1 = s.step(&rnn, &SMatrix::<f64, 1, 1>::new(0.5));
    /// let y2 = s.step(&rnn, &SMatrix::<f64, 1, 1>::new(0.0));
    /// assert_eq!(y2[0], y1[0].tanh()); // a⟨2⟩ = tanh(Waa·a⟨1⟩)
    /// ```
    #[inline]
    pub fn step(&mut self, layer: &L, x: &L::X) -> L::Y {
        let mut y = L::Y::ZEROS;
        layer.step(x, &mut self.state, &mut y);
        y
    }

    /// Back to the zero state (a new sequence starts).
    ///
    /// This is also how a stream recovers from a NaN or infinite sample: such a sample makes
    /// the state NaN, and a recurrent state that holds a NaN keeps it (`0·NaN` is NaN), so
    /// every later output is NaN until `reset()` (or [`Stream::from_state`] with a finite
    /// state); after it the stream gives exactly what a new one gives. Check samples from an
    /// untrusted source with [`crate::params::check_finite`] before stepping.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{Params, Rnn, Stream};
    /// let mut rnn = Rnn::<f32, 1, 2>::zeros();
    /// rnn.ba.fill(1.0);
    /// let mut s = Stream::<f32, _>::new();
    /// s.step(&rnn, &SMatrix::zeros());
    /// s.reset();
    /// assert_eq!(*s.state(), SMatrix::<f32, 2, 1>::zeros());
    /// ```
    pub fn reset(&mut self) {
        self.state = L::State::ZEROS;
    }

    /// The current state of every layer.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{lstm::LstmState, Lstm, Stream};
    /// let s = Stream::<f32, Lstm<f32, 3, 4>>::new();
    /// let st: &LstmState<f32, 4, 1> = s.state();
    /// assert_eq!(st.c.sum(), 0.0);
    /// ```
    pub fn state(&self) -> &L::State {
        &self.state
    }
}

impl<T: Real, L: Step<T, M>, const M: usize> Default for Stream<T, L, M> {
    fn default() -> Self {
        Self::ZEROS
    }
}

impl<T: Real, L: Step<T, M>, const M: usize> Clone for Stream<T, L, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Real, L: Step<T, M>, const M: usize> Copy for Stream<T, L, M> {}

impl<T: Real, L: Step<T, M>, const M: usize> core::fmt::Debug for Stream<T, L, M>
where
    L::State: core::fmt::Debug,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stream")
            .field("state", &self.state)
            .finish()
    }
}
