//! Models in and out: PyTorch `state_dict`s and Keras weight lists, imported into tinyrnn
//! layers and exported back, allocation-free, from the flat row-major slices the frameworks
//! hand out (`tensor.numpy().ravel()`, `np.ravel(w)` for each of `model.get_weights()`).
//!
//! ```
//! use tinyrnn::interop::torch;
//! use tinyrnn::{Dense, Lstm, Model, Stack};
//!
//! // nn.LSTM(3, 4, num_layers=2) as `rnn`, nn.Linear(4, 2) as `fc`: 10 state_dict entries.
//! type Net = Model<Stack<Lstm<f32, 3, 4>, Lstm<f32, 4, 4>>, Dense<f32, 4, 2>>;
//! let (w_ih0, w_ih1, w_hh, b) = ([0.1; 48], [0.1; 64], [0.1; 64], [0.0; 16]);
//! let dict: [(&str, &[f32]); 10] = [
//!     ("rnn.weight_ih_l0", &w_ih0), ("rnn.weight_hh_l0", &w_hh),
//!     ("rnn.bias_ih_l0", &b), ("rnn.bias_hh_l0", &b),
//!     ("rnn.weight_ih_l1", &w_ih1), ("rnn.weight_hh_l1", &w_hh),
//!     ("rnn.bias_ih_l1", &b), ("rnn.bias_hh_l1", &b),
//!     ("fc.weight", &[0.5; 8]), ("fc.bias", &[0.0; 2]),
//! ];
//! let net: Net = torch::load(&dict, &["rnn", "fc"])?;
//! assert_eq!(net.upper.w[(1, 3)], 0.5);
//!
//! // A wrong size is a typed error naming the tensor; nothing is half-built.
//! let mut short = dict;
//! short[0].1 = &w_ih0[..47];
//! let err = torch::load::<f32, Net>(&short, &["rnn", "fc"]).unwrap_err();
//! assert_eq!(err.to_string(), "rnn.weight_ih_l0: expected 48 values, found 47");
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! # How the layers map
//!
//! | tinyrnn | PyTorch | Keras 3 |
//! |---|---|---|
//! | [`Rnn`] | `nn.RNN` (tanh): `weight_ih (H, I)`, `weight_hh (H, H)`, `ba = bias_ih + bias_hh` | `SimpleRNN`: `kernel (I, H)`, `recurrent_kernel (H, H)`, `bias (H,)` |
//! | [`Lstm`] | `nn.LSTM`: rows `[i; f; g; o]` of `weight_ih (4H, I)` and `weight_hh (4H, H)` are `wi·`, `wf·`, `wc·`, `wo·`; `b· = bias_ih + bias_hh` | `LSTM`: columns `[i, f, c, o]` of `kernel (I, 4H)` and `recurrent_kernel (H, 4H)`, transposed; `bias (4H,)` |
//! | [`Gru`]`<…, ResetAfter>` | `nn.GRU`: rows `[r; z; n]`; `br`, `bz` the sums of the two biases, `bnx = b_in`, `bna = b_hn` | `GRU(reset_after=True)`: columns `[z, r, h]`; `bias (2, 3H)`: input row, recurrent row |
//! | [`Gru`]`<…, ResetBefore>` | none ([`TensorProblem::Unsupported`]) | `GRU(reset_after=False)`: `bias (3H,)`; exported as `bnx + bna` |
//! | [`Dense`] | `nn.Linear`: `weight (O, I)`, `bias (O,)` | `Dense`: `kernel (I, O)`, `bias (O,)` |
//! | [`Stack`] | consecutive layers: `_l0`, `_l1`, … of one module, then the next module | consecutive layers |
//! | [`Bidirectional`] with [`Concat`](crate::Concat) | `bidirectional=True`: `_l{k}` and `_l{k}_reverse` | `Bidirectional(merge_mode="concat")`: forward then backward weights |
//! | [`Bidirectional`] with [`Sum`](crate::Sum) | none ([`TensorProblem::Unsupported`]) | `Bidirectional(merge_mode="sum")` |
//!
//! PyTorch adds two biases where one suffices (`bias_ih + bias_hh`); tinyrnn keeps their sum
//! (except the GRU candidate's, which reset-after keeps apart). Export writes the sum into
//! `bias_ih` and zero into `bias_hh`: the same function, bit for bit in tinyrnn, and a
//! tinyrnn → PyTorch → tinyrnn round trip is exact.
//!
//! # Naming
//!
//! [`torch::load`] takes the `state_dict` as `(name, values)` pairs, names as PyTorch gives
//! them, and the model's module names in order (`&["rnn", "fc"]`; `&[""]` for a bare
//! `nn.LSTM`'s own `state_dict`). The layers of the tinyrnn model read, in order: a recurrent
//! layer takes the next `_l{k}` of the current module (or moves to the next module when that
//! module has no more layers), a dense layer takes the next module's `weight` and `bias`. Every
//! entry of the named modules must be read: a checkpoint with more layers than the model is
//! an error ([`TensorProblem::Unused`]), not a silently truncated model. Entries of other
//! modules are ignored. [`keras::load`] takes `model.get_weights()` in order.
//!
//! Every failure is an [`Error::Tensor`] naming the tensor as the framework names it, with
//! what is wrong: [`TensorProblem::Missing`], [`TensorProblem::Length`] (expected and found),
//! [`TensorProblem::NonFinite`], [`TensorProblem::Unused`], [`TensorProblem::Unsupported`].
//! An importer returns a model only when every tensor was read; an exporter checks every
//! destination before it writes any.

use crate::error::{TensorId, TensorProblem};
use crate::gru::GruVariant;
use crate::{Bidirectional, Dense, Error, Gru, Lstm, Params, Real, Rnn, Stack};
use nalgebra::{SMatrix, SVector};

/// Where a block sits in a framework tensor: the tensor's name and block `k` of `blocks`
/// equal blocks along its gate axis.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::interop::{torch, Block, Interop, Kind, Visitor};
/// use tinyrnn::{params::Zeroed, Error, Params};
///
/// // nn.Linear(3, 4) then nn.GLU: the weight's two row blocks are the value and the gate,
/// // which this layer of one's own keeps as two matrices.
/// #[derive(Clone)]
/// struct Glu {
///     value: SMatrix<f32, 2, 3>,
///     gate: SMatrix<f32, 2, 3>,
/// }
/// # impl Params<f32> for Glu {
/// #     const LEN: usize = 12;
/// #     const ZEROS: Self = Glu { value: Zeroed::ZEROS, gate: Zeroed::ZEROS };
/// #     fn names() -> impl Iterator<Item = &'static str> {
/// #         ["value", "gate"].into_iter()
/// #     }
/// #     fn tensors(&self) -> impl Iterator<Item = &[f32]> {
/// #         [self.value.as_slice(), self.gate.as_slice()].into_iter()
/// #     }
/// #     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
/// #         [self.value.as_mut_slice(), self.gate.as_mut_slice()].into_iter()
/// #     }
/// # }
/// impl Interop<f32> for Glu {
///     fn visit_torch<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
///         v.begin_layer(Kind::DenseLayer)?;
///         v.rows(Block { name: "weight", blocks: 2, k: 0 }, &mut self.value)?;
///         v.rows(Block { name: "weight", blocks: 2, k: 1 }, &mut self.gate)?;
///         v.end_layer();
///         Ok(())
///     }
///     // Keras: Dense(4), then the same split of its kernel's columns.
///     fn visit_keras<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
///         v.begin_layer(Kind::DenseLayer)?;
///         v.cols(Block { name: "kernel", blocks: 2, k: 0 }, &mut self.value)?;
///         v.cols(Block { name: "kernel", blocks: 2, k: 1 }, &mut self.gate)?;
///         v.end_layer();
///         Ok(())
///     }
/// }
/// let weight: [f32; 12] = core::array::from_fn(|i| i as f32); // (4, 3), row-major
/// let glu: Glu = torch::load(&[("fc.weight", &weight[..])], &["fc"])?;
/// assert_eq!(glu.value[(1, 0)], 3.0); // row 1
/// assert_eq!(glu.gate[(0, 0)], 6.0); // row 2: the second block's row 0
/// # Ok::<(), tinyrnn::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Block {
    /// The tensor's name, as the layer knows it (`"weight_ih"`, `"kernel"`).
    pub name: &'static str,
    /// How many equal blocks the tensor's gate axis holds (4 for an LSTM).
    pub blocks: usize,
    /// Which block.
    pub k: usize,
}

const fn blk(name: &'static str, blocks: usize, k: usize) -> Block {
    Block { name, blocks, k }
}

mod sealed {
    pub trait Sealed {}
}

/// The kind of a layer, as a framework module holds it (a PyTorch `nn.LSTM` holds LSTM layers
/// only). The variants are not named `Rnn`, `Lstm`, … so that compiler messages can keep
/// calling the layer types by their short names.
///
/// # Example
/// ```
/// use tinyrnn::interop::torch;
/// use tinyrnn::{Gru, Lstm, Stack};
///
/// // Two LSTM layers share one nn.LSTM module; a GRU after them needs a module of its own.
/// type Net = Stack<Stack<Lstm<f32, 2, 3>, Lstm<f32, 3, 3>>, Gru<f32, 3, 3>>;
/// let mut names = Vec::new();
/// torch::for_each_tensor::<f32, Net>(&["lstm", "gru"], |id, _| names.push(id.to_string()))?;
/// assert_eq!(names[4], "lstm.weight_ih_l1");
/// assert_eq!(names[8], "gru.weight_ih_l0");
/// # Ok::<(), tinyrnn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`Rnn`]: `nn.RNN`, `SimpleRNN`.
    RnnLayer,
    /// [`Lstm`]: `nn.LSTM`, `LSTM`.
    LstmLayer,
    /// [`Gru`]: `nn.GRU`, `GRU`.
    GruLayer,
    /// [`Dense`]: `nn.Linear`, `Dense`.
    DenseLayer,
}

/// What walks a model's tensors for an importer or an exporter. Sealed: the crate's
/// importers, exporters and listings implement it; layers call it from [`Interop`].
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::interop::{keras, torch, Block, Interop, Kind, Visitor};
/// use tinyrnn::{params::Zeroed, Error, Params};
///
/// // A layer of one's own: nn.Linear(3, 2, bias=False), Keras' Dense(2, use_bias=False).
/// #[derive(Clone)]
/// struct NoBias {
///     w: SMatrix<f32, 2, 3>,
/// }
/// impl Params<f32> for NoBias {
///     const LEN: usize = 6;
///     const ZEROS: Self = NoBias { w: Zeroed::ZEROS };
///     fn names() -> impl Iterator<Item = &'static str> {
///         ["w"].into_iter()
///     }
///     fn tensors(&self) -> impl Iterator<Item = &[f32]> {
///         [self.w.as_slice()].into_iter()
///     }
///     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
///         [self.w.as_mut_slice()].into_iter()
///     }
/// }
/// impl Interop<f32> for NoBias {
///     fn visit_torch<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
///         v.begin_layer(Kind::DenseLayer)?;
///         v.rows(Block { name: "weight", blocks: 1, k: 0 }, &mut self.w)?; // (2, 3)
///         v.end_layer();
///         Ok(())
///     }
///     fn visit_keras<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
///         v.begin_layer(Kind::DenseLayer)?;
///         v.cols(Block { name: "kernel", blocks: 1, k: 0 }, &mut self.w)?; // (3, 2)
///         v.end_layer();
///         Ok(())
///     }
/// }
/// let t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let a: NoBias = torch::load(&[("proj.weight", &t[..])], &["proj"])?;
/// let b: NoBias = keras::load(&[&t])?;
/// assert_eq!(a.w[(0, 2)], 3.0); // weight is W
/// assert_eq!(b.w[(0, 2)], 5.0); // kernel is Wᵀ
/// # Ok::<(), tinyrnn::Error>(())
/// ```
pub trait Visitor<T: Real>: sealed::Sealed {
    /// A layer of this kind starts.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::error::TensorProblem;
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::{Dense, Error, Lstm, Model};
    ///
    /// // A dense layer after a recurrent one starts in the next module, which must exist.
    /// type Net = Model<Lstm<f32, 2, 3>, Dense<f32, 3, 1>>;
    /// let mut names = Vec::new();
    /// torch::for_each_tensor::<f32, Net>(&["rnn", "head"], |id, _| names.push(id.to_string()))?;
    /// assert_eq!(names[4..], ["head.weight", "head.bias"]);
    /// let err = torch::for_each_tensor::<f32, Net>(&["rnn"], |_, _| {}).unwrap_err();
    /// assert!(matches!(err, Error::Tensor { problem: TensorProblem::Missing, .. }));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn begin_layer(&mut self, kind: Kind) -> Result<(), Error>;
    /// The layer ends.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::{keras, torch};
    /// use tinyrnn::{Rnn, Stack};
    ///
    /// // After a layer ends, the next one takes the next layer index (PyTorch) or the next
    /// // arrays of the list (Keras).
    /// type Net = Stack<Rnn<f32, 2, 3>, Rnn<f32, 3, 3>>;
    /// let mut names = Vec::new();
    /// torch::for_each_tensor::<f32, Net>(&["rnn"], |id, _| names.push(id.to_string()))?;
    /// assert_eq!(names[4], "rnn.weight_ih_l1");
    /// names.clear();
    /// keras::for_each_tensor::<f32, Net>(|id, _| names.push(id.to_string()))?;
    /// assert_eq!(names[3], "weights[3] (kernel)");
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn end_layer(&mut self);
    /// The next layer is the reverse direction of the layer that just ended (a bidirectional
    /// layer): in PyTorch, the same layer index with `_reverse`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::{Bidirectional, Concat, Gru, Stack};
    ///
    /// // nn.GRU(2, 3, num_layers=2, bidirectional=True).
    /// type Net = Stack<Bidirectional<Gru<f32, 2, 3>, Concat<6>>, Bidirectional<Gru<f32, 6, 3>, Concat<6>>>;
    /// let mut names = Vec::new();
    /// torch::for_each_tensor::<f32, Net>(&["gru"], |id, _| names.push(id.to_string()))?;
    /// names.retain(|n| n.contains("weight_ih"));
    /// assert_eq!(names, ["gru.weight_ih_l0", "gru.weight_ih_l0_reverse",
    ///                    "gru.weight_ih_l1", "gru.weight_ih_l1_reverse"]);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn reverse_of_last(&mut self);
    /// `m` is block `b.k` of the rows of a `(b.blocks·R, C)` row-major tensor (PyTorch's
    /// weights, and every bias): `m[(r, c)] = t[(k·R + r)·C + c]`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::Lstm;
    ///
    /// // nn.LSTM(2, 3): weight_ih is (4·3, 2), its row blocks the gates i, f, g, o.
    /// let w_ih: [f64; 24] = core::array::from_fn(|i| i as f64);
    /// let (w_hh, b) = ([0.0; 36], [0.0; 12]);
    /// let dict = [("weight_ih_l0", &w_ih[..]), ("weight_hh_l0", &w_hh),
    ///             ("bias_ih_l0", &b), ("bias_hh_l0", &b)];
    /// let lstm: Lstm<f64, 2, 3> = torch::load(&dict, &[""])?;
    /// assert_eq!(lstm.wfx[(1, 0)], 8.0); // k = 1: t[(1·3 + 1)·2 + 0]
    /// assert_eq!(lstm.wox[(2, 1)], 23.0); // k = 3: t[(3·3 + 2)·2 + 1]
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn rows<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error>;
    /// `m` is the transpose of block `b.k` of the columns of a `(C, b.blocks·R)` row-major
    /// tensor (Keras' kernels): `m[(r, c)] = t[c·blocks·R + k·R + r]`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::keras;
    /// use tinyrnn::Lstm;
    ///
    /// // Keras LSTM(3) on 2 features: kernel is (2, 4·3), its column blocks the gates i, f, c, o.
    /// let kernel: [f64; 24] = core::array::from_fn(|i| i as f64);
    /// let lstm: Lstm<f64, 2, 3> = keras::load(&[&kernel, &[0.0; 36], &[0.0; 12]])?;
    /// assert_eq!(lstm.wfx[(1, 1)], 16.0); // k = 1: t[1·4·3 + 1·3 + 1]
    /// assert_eq!(lstm.wix[(2, 0)], 2.0); // k = 0: t[0 + 0 + 2]
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn cols<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error>;
    /// `v = a + b` (two framework biases tinyrnn keeps as one): import adds them, export
    /// writes `v` into `a` and zero into `b`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::Rnn;
    ///
    /// // nn.RNN(1, 2) has two biases; tinyrnn keeps their sum.
    /// let dict = [("weight_ih_l0", &[0.0_f32; 2][..]), ("weight_hh_l0", &[0.0; 4]),
    ///             ("bias_ih_l0", &[1.0, 2.0]), ("bias_hh_l0", &[0.5, 0.5])];
    /// let rnn: Rnn<f32, 1, 2> = torch::load(&dict, &[""])?;
    /// assert_eq!((rnn.ba[0], rnn.ba[1]), (1.5, 2.5));
    ///
    /// let (mut w_ih, mut w_hh, mut b_ih, mut b_hh) = ([0.0; 2], [0.0; 4], [0.0; 2], [9.0; 2]);
    /// let mut out: [(&str, &mut [f32]); 4] = [("weight_ih_l0", &mut w_ih), ("weight_hh_l0", &mut w_hh),
    ///                                          ("bias_ih_l0", &mut b_ih), ("bias_hh_l0", &mut b_hh)];
    /// torch::save(&rnn, &mut out, &[""])?;
    /// assert_eq!((b_ih, b_hh), ([1.5, 2.5], [0.0, 0.0]));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn sum<const R: usize>(
        &mut self,
        a: Block,
        b: Block,
        v: &mut SVector<T, R>,
    ) -> Result<(), Error>;
    /// `t = v + w` (two tinyrnn biases the framework keeps as one): import sets `v = t`,
    /// `w = 0`, export writes `v + w`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::keras;
    /// use tinyrnn::{Gru, ResetBefore};
    ///
    /// // Keras' GRU(2, reset_after=False) has one candidate bias where tinyrnn's reset-before
    /// // GRU adds two, bnx + bna.
    /// let bias = [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]; // z, r, h
    /// let mut gru: Gru<f32, 1, 2, ResetBefore> = keras::load(&[&[0.0; 6], &[0.0; 12], &bias])?;
    /// assert_eq!((gru.bnx[1], gru.bna[1]), (2.0, 0.0));
    /// gru.bna[1] = 0.25;
    /// let (mut kernel, mut recurrent, mut b) = ([0.0; 6], [0.0; 12], [0.0; 6]);
    /// keras::save(&gru, &mut [&mut kernel, &mut recurrent, &mut b])?;
    /// assert_eq!(b[5], 2.25);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn fold<const R: usize>(
        &mut self,
        b: Block,
        v: &mut SVector<T, R>,
        w: &mut SVector<T, R>,
    ) -> Result<(), Error>;
    /// The layer cannot be represented in this framework.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::error::TensorProblem;
    /// use tinyrnn::interop::{keras, torch};
    /// use tinyrnn::{Error, Gru, ResetBefore};
    ///
    /// // nn.GRU is reset-after only: a reset-before GRU maps onto Keras, not onto PyTorch.
    /// type G = Gru<f32, 1, 2, ResetBefore>;
    /// assert!(keras::for_each_tensor::<f32, G>(|_, _| {}).is_ok());
    /// let err = torch::for_each_tensor::<f32, G>(&["gru"], |_, _| {}).unwrap_err();
    /// assert!(matches!(err, Error::Tensor { problem: TensorProblem::Unsupported, .. }));
    /// ```
    fn unsupported(&mut self, name: &'static str) -> Result<(), Error>;
}

/// A layer, or a composition of layers, that maps onto PyTorch and Keras layers (see the
/// [module docs](self)). Implemented by [`Rnn`], [`Lstm`], [`Gru`], [`Dense`], [`Stack`] and
/// [`Bidirectional`].
///
/// # Example
/// ```
/// use tinyrnn::interop::{torch, Interop};
/// use tinyrnn::{Error, Lstm, Params};
///
/// // Any model that maps onto PyTorch, generically: how many values its state_dict holds.
/// fn torch_values<N: Interop<f32>>(modules: &[&'static str]) -> Result<usize, Error> {
///     let mut n = 0;
///     torch::for_each_tensor::<f32, N>(modules, |_, len| n += len)?;
///     Ok(n)
/// }
/// type L = Lstm<f32, 3, 4>;
/// // PyTorch keeps two biases for each of the 4 gates where tinyrnn keeps their sum.
/// assert_eq!(torch_values::<L>(&["rnn"])?, L::LEN + 4 * 4);
/// # Ok::<(), tinyrnn::Error>(())
/// ```
pub trait Interop<T: Real>: Params<T> {
    /// Walks the tensors in PyTorch's layout.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::{torch, Interop, Visitor};
    /// use tinyrnn::{Error, Gru, Params};
    ///
    /// // A wrapper of one's own maps onto PyTorch as the layer it wraps.
    /// #[derive(Clone)]
    /// struct Denoiser(Gru<f32, 1, 2>);
    /// # impl Params<f32> for Denoiser {
    /// #     const LEN: usize = <Gru<f32, 1, 2> as Params<f32>>::LEN;
    /// #     const ZEROS: Self = Denoiser(<Gru<f32, 1, 2> as Params<f32>>::ZEROS);
    /// #     fn names() -> impl Iterator<Item = &'static str> {
    /// #         <Gru<f32, 1, 2> as Params<f32>>::names()
    /// #     }
    /// #     fn tensors(&self) -> impl Iterator<Item = &[f32]> {
    /// #         self.0.tensors()
    /// #     }
    /// #     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
    /// #         self.0.tensors_mut()
    /// #     }
    /// # }
    /// impl Interop<f32> for Denoiser {
    ///     fn visit_torch<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
    ///         self.0.visit_torch(v)
    ///     }
    ///     fn visit_keras<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
    ///         self.0.visit_keras(v)
    ///     }
    /// }
    /// let mut tensors = Vec::new();
    /// torch::for_each_tensor::<f32, Denoiser>(&["gru"], |id, len| tensors.push((id.to_string(), len)))?;
    /// assert_eq!(tensors[1], ("gru.weight_hh_l0".to_string(), 3 * 2 * 2));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error>;
    /// Walks the tensors in Keras' layout, in `get_weights()` order.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::{keras, Interop, Visitor};
    /// use tinyrnn::{Dense, Error, Lstm, Params};
    ///
    /// // A model of one's own with named parts: Keras lists the parts' arrays in the order
    /// // the model visits them.
    /// #[derive(Clone)]
    /// struct Tagger {
    ///     rnn: Lstm<f32, 2, 3>,
    ///     head: Dense<f32, 3, 5>,
    /// }
    /// # impl Params<f32> for Tagger {
    /// #     const LEN: usize = <Lstm<f32, 2, 3> as Params<f32>>::LEN + <Dense<f32, 3, 5> as Params<f32>>::LEN;
    /// #     const ZEROS: Self = Tagger { rnn: Params::ZEROS, head: Params::ZEROS };
    /// #     fn names() -> impl Iterator<Item = &'static str> {
    /// #         <Lstm<f32, 2, 3> as Params<f32>>::names().chain(<Dense<f32, 3, 5> as Params<f32>>::names())
    /// #     }
    /// #     fn tensors(&self) -> impl Iterator<Item = &[f32]> {
    /// #         self.rnn.tensors().chain(self.head.tensors())
    /// #     }
    /// #     fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
    /// #         self.rnn.tensors_mut().chain(self.head.tensors_mut())
    /// #     }
    /// # }
    /// impl Interop<f32> for Tagger {
    /// #   fn visit_torch<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
    /// #       self.rnn.visit_torch(v)?;
    /// #       self.head.visit_torch(v)
    /// #   }
    ///     fn visit_keras<V: Visitor<f32>>(&mut self, v: &mut V) -> Result<(), Error> {
    ///         self.rnn.visit_keras(v)?;
    ///         self.head.visit_keras(v)
    ///     }
    /// }
    /// let mut lens = Vec::new();
    /// keras::for_each_tensor::<f32, Tagger>(|_, len| lens.push(len))?;
    /// assert_eq!(lens, [2 * 12, 3 * 12, 12, 3 * 5, 5]); // LSTM kernel, recurrent, bias; Dense
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error>;
}

impl<T: Real, const N_X: usize, const N_A: usize> Interop<T> for Rnn<T, N_X, N_A> {
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::RnnLayer)?;
        v.rows(blk("weight_ih", 1, 0), &mut self.wax)?;
        v.rows(blk("weight_hh", 1, 0), &mut self.waa)?;
        v.sum(blk("bias_ih", 1, 0), blk("bias_hh", 1, 0), &mut self.ba)?;
        v.end_layer();
        Ok(())
    }
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::RnnLayer)?;
        v.cols(blk("kernel", 1, 0), &mut self.wax)?;
        v.cols(blk("recurrent_kernel", 1, 0), &mut self.waa)?;
        v.rows(blk("bias", 1, 0), &mut self.ba)?;
        v.end_layer();
        Ok(())
    }
}

impl<T: Real, const N_X: usize, const N_A: usize> Interop<T> for Lstm<T, N_X, N_A> {
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::LstmLayer)?;
        // PyTorch's gate order is i, f, g (the candidate), o.
        let gates = [
            (&mut self.wix, &mut self.wia, &mut self.bi),
            (&mut self.wfx, &mut self.wfa, &mut self.bf),
            (&mut self.wcx, &mut self.wca, &mut self.bc),
            (&mut self.wox, &mut self.woa, &mut self.bo),
        ];
        for (k, (wx, wa, b)) in gates.into_iter().enumerate() {
            v.rows(blk("weight_ih", 4, k), wx)?;
            v.rows(blk("weight_hh", 4, k), wa)?;
            v.sum(blk("bias_ih", 4, k), blk("bias_hh", 4, k), b)?;
        }
        v.end_layer();
        Ok(())
    }
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::LstmLayer)?;
        // Keras' gate order is i, f, c, o; kernel, then recurrent kernel, then bias.
        let wx = [&mut self.wix, &mut self.wfx, &mut self.wcx, &mut self.wox];
        for (k, w) in wx.into_iter().enumerate() {
            v.cols(blk("kernel", 4, k), w)?;
        }
        let wa = [&mut self.wia, &mut self.wfa, &mut self.wca, &mut self.woa];
        for (k, w) in wa.into_iter().enumerate() {
            v.cols(blk("recurrent_kernel", 4, k), w)?;
        }
        let b = [&mut self.bi, &mut self.bf, &mut self.bc, &mut self.bo];
        for (k, b) in b.into_iter().enumerate() {
            v.rows(blk("bias", 4, k), b)?;
        }
        v.end_layer();
        Ok(())
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, V0: GruVariant> Interop<T>
    for Gru<T, N_X, N_A, V0>
{
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::GruLayer)?;
        if !V0::RESET_AFTER {
            // nn.GRU is reset-after only.
            v.unsupported("weight_ih")?;
        }
        // PyTorch's gate order is r, z, n.
        v.rows(blk("weight_ih", 3, 0), &mut self.wrx)?;
        v.rows(blk("weight_ih", 3, 1), &mut self.wzx)?;
        v.rows(blk("weight_ih", 3, 2), &mut self.wnx)?;
        v.rows(blk("weight_hh", 3, 0), &mut self.wra)?;
        v.rows(blk("weight_hh", 3, 1), &mut self.wza)?;
        v.rows(blk("weight_hh", 3, 2), &mut self.wna)?;
        v.sum(blk("bias_ih", 3, 0), blk("bias_hh", 3, 0), &mut self.br)?;
        v.sum(blk("bias_ih", 3, 1), blk("bias_hh", 3, 1), &mut self.bz)?;
        v.rows(blk("bias_ih", 3, 2), &mut self.bnx)?;
        v.rows(blk("bias_hh", 3, 2), &mut self.bna)?;
        v.end_layer();
        Ok(())
    }
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::GruLayer)?;
        // Keras' gate order is z, r, h.
        v.cols(blk("kernel", 3, 0), &mut self.wzx)?;
        v.cols(blk("kernel", 3, 1), &mut self.wrx)?;
        v.cols(blk("kernel", 3, 2), &mut self.wnx)?;
        v.cols(blk("recurrent_kernel", 3, 0), &mut self.wza)?;
        v.cols(blk("recurrent_kernel", 3, 1), &mut self.wra)?;
        v.cols(blk("recurrent_kernel", 3, 2), &mut self.wna)?;
        if V0::RESET_AFTER {
            // bias (2, 3H): the input biases, then the recurrent ones.
            v.sum(blk("bias", 6, 0), blk("bias", 6, 3), &mut self.bz)?;
            v.sum(blk("bias", 6, 1), blk("bias", 6, 4), &mut self.br)?;
            v.rows(blk("bias", 6, 2), &mut self.bnx)?;
            v.rows(blk("bias", 6, 5), &mut self.bna)?;
        } else {
            // bias (3H,): reset-before adds bnx and bna alike, so Keras' one bias is their sum.
            v.rows(blk("bias", 3, 0), &mut self.bz)?;
            v.rows(blk("bias", 3, 1), &mut self.br)?;
            v.fold(blk("bias", 3, 2), &mut self.bnx, &mut self.bna)?;
        }
        v.end_layer();
        Ok(())
    }
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: crate::dense::Activation> Interop<T>
    for Dense<T, N_IN, N_OUT, A>
{
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::DenseLayer)?;
        v.rows(blk("weight", 1, 0), &mut self.w)?;
        v.rows(blk("bias", 1, 0), &mut self.b)?;
        v.end_layer();
        Ok(())
    }
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        v.begin_layer(Kind::DenseLayer)?;
        v.cols(blk("kernel", 1, 0), &mut self.w)?;
        v.rows(blk("bias", 1, 0), &mut self.b)?;
        v.end_layer();
        Ok(())
    }
}

impl<T: Real, A: Interop<T>, B: Interop<T>> Interop<T> for Stack<A, B> {
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        self.lower.visit_torch(v)?;
        self.upper.visit_torch(v)
    }
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        self.lower.visit_keras(v)?;
        self.upper.visit_keras(v)
    }
}

/// How a bidirectional layer's merge maps onto the frameworks: PyTorch always concatenates,
/// Keras' `Bidirectional` has `merge_mode="concat"` and `"sum"`.
///
/// # Example
/// ```
/// use tinyrnn::interop::{keras, torch, MergeMode};
/// use tinyrnn::{Bidirectional, Concat, Rnn, Sum};
///
/// assert!(<Concat<4> as MergeMode>::CONCAT && !<Sum as MergeMode>::CONCAT);
/// // Keras has both merges; PyTorch only concatenates.
/// type Summed = Bidirectional<Rnn<f32, 1, 2>, Sum>;
/// assert!(keras::for_each_tensor::<f32, Summed>(|_, _| {}).is_ok());
/// assert!(torch::for_each_tensor::<f32, Summed>(&["rnn"], |_, _| {}).is_err());
/// ```
pub trait MergeMode: Copy {
    /// Whether the directions' outputs are concatenated (else summed).
    const CONCAT: bool;
}

impl<const N_OUT: usize> MergeMode for crate::Concat<N_OUT> {
    const CONCAT: bool = true;
}

impl MergeMode for crate::Sum {
    const CONCAT: bool = false;
}

impl<T: Real, L: Interop<T>, Mg: MergeMode> Interop<T> for Bidirectional<L, Mg> {
    fn visit_torch<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        if !Mg::CONCAT {
            // PyTorch's bidirectional layers concatenate; a summed one has no equivalent.
            return v.unsupported("weight_ih");
        }
        // One PyTorch layer index for both directions: `_l{k}` and `_l{k}_reverse`.
        self.fwd.visit_torch(v)?;
        v.reverse_of_last();
        self.bwd.visit_torch(v)
    }
    fn visit_keras<V: Visitor<T>>(&mut self, v: &mut V) -> Result<(), Error> {
        self.fwd.visit_keras(v)?;
        self.bwd.visit_keras(v)
    }
}

/// Reads `m` from `t` (block of rows or of columns), checking finiteness; `t` has the
/// expected length.
fn read_block<T: Real, const R: usize, const C: usize>(
    t: &[T],
    b: Block,
    transposed: bool,
    m: &mut SMatrix<T, R, C>,
) -> Result<(), usize> {
    for r in 0..R {
        for c in 0..C {
            let i = index(b, transposed, R, C, r, c);
            let x = t.get(i).copied().ok_or(i)?;
            if !x.is_finite() {
                return Err(i);
            }
            m[(r, c)] = x;
        }
    }
    Ok(())
}

/// Writes `m` into `t` (block of rows or of columns); `t` has the expected length.
fn write_block<T: Real, const R: usize, const C: usize>(
    t: &mut [T],
    b: Block,
    transposed: bool,
    m: &SMatrix<T, R, C>,
) {
    for r in 0..R {
        for c in 0..C {
            if let Some(x) = t.get_mut(index(b, transposed, R, C, r, c)) {
                *x = m[(r, c)];
            }
        }
    }
}

/// The row-major index of element `(r, c)` of block `b` (see [`Visitor::rows`] and
/// [`Visitor::cols`]).
#[inline]
fn index(b: Block, transposed: bool, rows: usize, cols: usize, r: usize, c: usize) -> usize {
    if transposed {
        c * b.blocks * rows + b.k * rows + r
    } else {
        (b.k * rows + r) * cols + c
    }
}

/// PyTorch naming: modules, layer indices, `_reverse`.
#[derive(Clone, Copy)]
struct TorchNames<'m> {
    modules: &'m [&'static str],
    /// The current module.
    m: usize,
    /// The next layer index within it.
    layer: usize,
    /// The current module was read by a dense layer.
    linear_done: bool,
    /// The kind of the current (or last) layer.
    kind: Option<Kind>,
    /// The next layer reuses the last one's index (the reverse direction).
    pinned: bool,
    reverse: bool,
}

impl<'m> TorchNames<'m> {
    fn new(modules: &'m [&'static str]) -> Self {
        Self {
            modules,
            m: 0,
            layer: 0,
            linear_done: false,
            kind: None,
            pinned: false,
            reverse: false,
        }
    }

    fn module(&self) -> &'static str {
        self.modules.get(self.m).copied().unwrap_or("")
    }

    /// Chooses the module and layer index for a layer that starts. A recurrent layer stays in
    /// the current module if the module's last layer had the same kind and `has_layer(module,
    /// k)` (the names hold its layer `k`); a dense layer always takes a module of its own.
    fn begin(
        &mut self,
        kind: Kind,
        has_layer: impl Fn(&'static str, usize) -> bool,
    ) -> Result<(), Error> {
        if self.pinned {
            self.pinned = false;
            return Ok(());
        }
        let next = if kind == Kind::DenseLayer {
            self.linear_done || self.layer > 0
        } else {
            self.linear_done
                || (self.layer > 0
                    && (self.kind != Some(kind) || !has_layer(self.module(), self.layer)))
        };
        if next {
            self.m += 1;
            self.layer = 0;
            self.linear_done = false;
        }
        self.kind = Some(kind);
        if self.m >= self.modules.len() {
            return Err(Error::Tensor {
                id: self.id(if kind == Kind::DenseLayer {
                    "weight"
                } else {
                    "weight_ih"
                }),
                problem: TensorProblem::Missing,
            });
        }
        Ok(())
    }

    fn end(&mut self) {
        if self.kind == Some(Kind::DenseLayer) {
            self.linear_done = true;
        } else {
            self.layer += 1;
        }
        self.reverse = false;
    }

    fn reverse_of_last(&mut self) {
        self.layer = self.layer.saturating_sub(1);
        self.reverse = true;
        self.pinned = true;
    }

    /// Whether the state_dict key `key` names tensor `name` of recurrent layer `layer` of
    /// `module` (direction `reverse`), or of a dense module when `layer` is `None`.
    fn matches(key: &str, module: &str, name: &str, layer: Option<usize>, reverse: bool) -> bool {
        let rest = if module.is_empty() {
            Some(key)
        } else {
            key.strip_prefix(module).and_then(|k| k.strip_prefix('.'))
        };
        let Some(rest) = rest.and_then(|k| k.strip_prefix(name)) else {
            return false;
        };
        let Some(l) = layer else {
            return rest.is_empty();
        };
        let Some(rest) = rest.strip_prefix("_l") else {
            return false;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (num, suffix) = rest.split_at(digits);
        let parsed = num.bytes().try_fold(0usize, |acc, d| {
            acc.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        });
        !num.is_empty() && parsed == Some(l) && suffix == if reverse { "_reverse" } else { "" }
    }

    /// Whether `key` belongs to one of the first `upto` modules.
    fn in_modules(&self, key: &str, upto: usize) -> bool {
        self.modules
            .iter()
            .take(upto)
            .any(|m| m.is_empty() || key.strip_prefix(m).is_some_and(|k| k.starts_with('.')))
    }
}

impl TorchNames<'_> {
    /// The identity of the tensor `name` of the current layer.
    fn id(&self, name: &'static str) -> TensorId {
        TensorId::Torch {
            module: self.module(),
            name,
            layer: (self.kind != Some(Kind::DenseLayer)).then_some(self.layer),
            reverse: self.reverse,
        }
    }
}

/// Keras naming: the position in `get_weights()`, assigned to each tensor name in the order a
/// layer first asks for it.
#[derive(Clone, Copy)]
struct KerasNames {
    /// The first index of the current layer.
    base: usize,
    /// The names the current layer has asked for, in order.
    seen: [&'static str; 4],
    n: usize,
}

impl KerasNames {
    fn new() -> Self {
        Self {
            base: 0,
            seen: [""; 4],
            n: 0,
        }
    }
    fn next_layer(&mut self) {
        self.base += self.n;
        self.n = 0;
    }
    /// The list index of `name` in the current layer (assigned on first use).
    fn index(&mut self, name: &'static str) -> usize {
        let seen = self.seen.iter().take(self.n).position(|&s| s == name);
        match seen {
            Some(p) => self.base + p,
            None => {
                if let Some(slot) = self.seen.get_mut(self.n) {
                    *slot = name;
                }
                self.n += 1;
                self.base + self.n - 1
            }
        }
    }
}

/// A source or destination of tensors: how a reader or writer finds one by name.
trait Store<T> {
    /// The position of the tensor with this identity.
    fn find(&self, id: &Locate) -> Option<usize>;
    /// The tensor at a position.
    fn get(&self, i: usize) -> &[T];
}

/// What a store is asked for: a PyTorch key or a Keras list position.
enum Locate {
    Torch {
        module: &'static str,
        name: &'static str,
        layer: Option<usize>,
        reverse: bool,
    },
    Keras {
        index: usize,
    },
}

impl Locate {
    fn of(id: &TensorId) -> Self {
        match *id {
            TensorId::Torch {
                module,
                name,
                layer,
                reverse,
            } => Locate::Torch {
                module,
                name,
                layer,
                reverse,
            },
            TensorId::Keras { index, .. } | TensorId::Entry { index } => Locate::Keras { index },
        }
    }
}

pub mod torch {
    //! PyTorch: import a model from a `state_dict`, export it back, list its tensors. See the
    //! [module docs](super) for the mapping and the naming rules.

    use super::*;

    /// Builds a model from a PyTorch `state_dict`: `(name, values)` pairs, values row-major
    /// (`t.detach().numpy().ravel()`), names as PyTorch gives them; `modules` are the model's
    /// module names in order (`&[""]` for a bare `nn.LSTM`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::Gru;
    ///
    /// // A bare nn.GRU(2, 3): keys without a module prefix.
    /// let (w_ih, w_hh, b) = ([0.1_f64; 18], [0.2; 27], [0.5; 9]);
    /// let dict = [("weight_ih_l0", &w_ih[..]), ("weight_hh_l0", &w_hh),
    ///             ("bias_ih_l0", &b), ("bias_hh_l0", &b)];
    /// let gru: Gru<f64, 2, 3> = torch::load(&dict, &[""])?;
    /// assert_eq!(gru.br[0], 1.0); // bias_ih + bias_hh
    /// assert_eq!((gru.bnx[0], gru.bna[0]), (0.5, 0.5)); // kept apart
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn load<T: Real, N: Interop<T>>(
        dict: &[(&str, &[T])],
        modules: &[&'static str],
    ) -> Result<N, Error> {
        let mut model = N::ZEROS;
        let mut reader = Reader {
            store: DictStore { dict },
            names: TorchNames::new(modules),
        };
        model.visit_torch(&mut reader)?;
        // Every entry of the modules read must have been read: a checkpoint with more layers
        // than the model is an error, not a truncated model.
        let upto = (reader.names.m + 1).min(modules.len());
        for (index, (key, _)) in dict.iter().enumerate() {
            if reader.names.in_modules(key, upto) && !reads(&mut model, dict, modules, key) {
                return Err(Error::Tensor {
                    id: TensorId::Entry { index },
                    problem: TensorProblem::Unused,
                });
            }
        }
        Ok(model)
    }

    /// Writes a model into a PyTorch `state_dict` the caller owns: every `(name, values)`
    /// destination the model maps to must be present with the right length (checked before
    /// anything is written), and every value finite (a NaN weight of a diverged model is
    /// [`TensorProblem::NonFinite`], and nothing is written). `bias_hh` entries receive zero
    /// where tinyrnn keeps one summed bias.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::{Dense, Params};
    ///
    /// let mut fc = Dense::<f32, 2, 1>::zeros();
    /// fc.w[(0, 1)] = 3.0;
    /// let (mut w, mut b) = ([0.0_f32; 2], [9.0_f32; 1]);
    /// let mut out: [(&str, &mut [f32]); 2] = [("fc.weight", &mut w), ("fc.bias", &mut b)];
    /// torch::save(&fc, &mut out, &["fc"])?;
    /// assert_eq!((w, b), ([0.0, 3.0], [0.0]));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn save<T: Real, N: Interop<T>>(
        model: &N,
        out: &mut [(&str, &mut [T])],
        modules: &[&'static str],
    ) -> Result<(), Error> {
        for dry in [true, false] {
            let mut writer = Writer {
                store: DictStoreMut { dict: &mut *out },
                names: TorchNames::new(modules),
                dry,
            };
            model.clone().visit_torch(&mut writer)?;
        }
        Ok(())
    }

    /// Calls `f` with the identity and length of every tensor the model maps to, in the order
    /// the model reads them (for building a `state_dict` to [`save`] into).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::torch;
    /// use tinyrnn::{Bidirectional, Concat, Lstm};
    ///
    /// let mut names = Vec::new();
    /// torch::for_each_tensor::<f32, Bidirectional<Lstm<f32, 3, 4>, Concat<8>>>(
    ///     &["rnn"],
    ///     |id, len| names.push(format!("{id} {len}")),
    /// )?;
    /// assert_eq!(names[0], "rnn.weight_ih_l0 48");
    /// assert_eq!(names[4], "rnn.weight_ih_l0_reverse 48");
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn for_each_tensor<T: Real, N: Interop<T>>(
        modules: &[&'static str],
        f: impl FnMut(TensorId, usize),
    ) -> Result<(), Error> {
        let mut lister = Lister::new(TorchNames::new(modules), f);
        let mut model = N::ZEROS;
        model.visit_torch(&mut lister)
    }

    /// Whether reading `model` from `dict` reads the entry `key`.
    fn reads<T: Real, N: Interop<T>>(
        model: &mut N,
        dict: &[(&str, &[T])],
        modules: &[&'static str],
        key: &str,
    ) -> bool {
        let mut found = false;
        let store = DictStore { dict };
        let mut lister = Lister::new(TorchNames::new(modules), |id: TensorId, _len: usize| {
            if let TensorId::Torch {
                module,
                name,
                layer,
                reverse,
            } = id
            {
                found |= TorchNames::matches(key, module, name, layer, reverse);
            }
        })
        .probing(move |module, layer| has_layer(&store, module, layer));
        let walked = model.visit_torch(&mut lister);
        walked.is_ok() && found
    }
}

pub mod keras {
    //! Keras: import a model from `model.get_weights()`, export it back, list its arrays. See
    //! the [module docs](super) for the mapping.

    use super::*;

    /// Builds a model from Keras' `model.get_weights()`, each array ravelled row-major
    /// (`np.ravel(w)`), in order. The list must hold exactly the model's arrays.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::keras;
    /// use tinyrnn::Dense;
    ///
    /// // Dense(2) on 3 inputs: kernel (3, 2), bias (2,).
    /// let kernel = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// let d: Dense<f64, 3, 2> = keras::load(&[&kernel, &[0.5, -0.5]])?;
    /// assert_eq!(d.w[(0, 1)], 3.0); // W = kernelᵀ
    /// assert_eq!(d.b[1], -0.5);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn load<T: Real, N: Interop<T>>(weights: &[&[T]]) -> Result<N, Error> {
        let mut model = N::ZEROS;
        let mut reader = Reader {
            store: ListStore { list: weights },
            names: KerasNames::new(),
        };
        model.visit_keras(&mut reader)?;
        reader.names.next_layer();
        if weights.len() > reader.names.base {
            return Err(Error::Tensor {
                id: TensorId::Entry {
                    index: reader.names.base,
                },
                problem: TensorProblem::Unused,
            });
        }
        Ok(model)
    }

    /// Writes a model into Keras arrays the caller owns, in `get_weights()` order (then
    /// `model.set_weights(...)`); every array's length, and every value's finiteness (a merged
    /// reset-before GRU bias `bnx + bna` can overflow), is checked before anything is written.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::keras;
    /// use tinyrnn::{Dense, Params};
    ///
    /// let mut d = Dense::<f32, 1, 2>::zeros();
    /// d.w[(1, 0)] = 7.0;
    /// let (mut kernel, mut bias) = ([0.0_f32; 2], [0.0_f32; 2]);
    /// keras::save(&d, &mut [&mut kernel, &mut bias])?;
    /// assert_eq!(kernel, [0.0, 7.0]);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn save<T: Real, N: Interop<T>>(model: &N, out: &mut [&mut [T]]) -> Result<(), Error> {
        for dry in [true, false] {
            let mut writer = Writer {
                store: ListStoreMut { list: &mut *out },
                names: KerasNames::new(),
                dry,
            };
            model.clone().visit_keras(&mut writer)?;
            writer.names.next_layer();
            if writer.store.list.len() > writer.names.base {
                return Err(Error::Tensor {
                    id: TensorId::Entry {
                        index: writer.names.base,
                    },
                    problem: TensorProblem::Unused,
                });
            }
        }
        Ok(())
    }

    /// Calls `f` with the identity and length of every array the model maps to, in
    /// `get_weights()` order.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::interop::keras;
    /// use tinyrnn::Gru;
    ///
    /// let mut lens = Vec::new();
    /// keras::for_each_tensor::<f32, Gru<f32, 3, 4>>(|_, len| lens.push(len))?;
    /// assert_eq!(lens, [36, 48, 24]); // kernel, recurrent_kernel, bias (2, 3H)
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn for_each_tensor<T: Real, N: Interop<T>>(
        f: impl FnMut(TensorId, usize),
    ) -> Result<(), Error> {
        let mut lister = Lister::new(KerasNames::new(), f);
        let mut model = N::ZEROS;
        model.visit_keras(&mut lister)
    }
}

/// The naming scheme's side of a visitor.
trait Scheme {
    fn begin(
        &mut self,
        kind: Kind,
        has_layer: impl Fn(&'static str, usize) -> bool,
    ) -> Result<(), Error>;
    fn end(&mut self);
    fn reverse_of_last(&mut self);
    /// The identity of `name`, assigning a Keras index on first use.
    fn locate(&mut self, name: &'static str) -> TensorId;
}

impl Scheme for TorchNames<'_> {
    fn begin(
        &mut self,
        kind: Kind,
        has_layer: impl Fn(&'static str, usize) -> bool,
    ) -> Result<(), Error> {
        TorchNames::begin(self, kind, has_layer)
    }
    fn end(&mut self) {
        TorchNames::end(self)
    }
    fn reverse_of_last(&mut self) {
        TorchNames::reverse_of_last(self)
    }
    fn locate(&mut self, name: &'static str) -> TensorId {
        self.id(name)
    }
}

impl Scheme for KerasNames {
    fn begin(&mut self, _: Kind, _: impl Fn(&'static str, usize) -> bool) -> Result<(), Error> {
        self.next_layer();
        Ok(())
    }
    fn end(&mut self) {
        self.next_layer();
    }
    fn reverse_of_last(&mut self) {}
    fn locate(&mut self, name: &'static str) -> TensorId {
        TensorId::Keras {
            index: self.index(name),
            name,
        }
    }
}

/// A `state_dict` to read from.
struct DictStore<'d, 'a, T> {
    dict: &'d [(&'a str, &'a [T])],
}

/// A `state_dict` to write into.
struct DictStoreMut<'d, 'a, 'b, T> {
    dict: &'d mut [(&'a str, &'b mut [T])],
}

/// A weight list to read from.
struct ListStore<'d, 'a, T> {
    list: &'d [&'a [T]],
}

/// A weight list to write into.
struct ListStoreMut<'d, 'a, T> {
    list: &'d mut [&'a mut [T]],
}

fn find_key<'k>(mut keys: impl Iterator<Item = &'k str>, at: &Locate) -> Option<usize> {
    match *at {
        Locate::Torch {
            module,
            name,
            layer,
            reverse,
        } => keys.position(|k| TorchNames::matches(k, module, name, layer, reverse)),
        Locate::Keras { index } => keys.nth(index).map(|_| index),
    }
}

impl<T> Store<T> for DictStore<'_, '_, T> {
    fn find(&self, at: &Locate) -> Option<usize> {
        find_key(self.dict.iter().map(|(k, _)| *k), at)
    }
    fn get(&self, i: usize) -> &[T] {
        self.dict.get(i).map_or(&[], |(_, t)| t)
    }
}

impl<T> Store<T> for ListStore<'_, '_, T> {
    fn find(&self, at: &Locate) -> Option<usize> {
        find_key(self.list.iter().map(|_| ""), at)
    }
    fn get(&self, i: usize) -> &[T] {
        self.list.get(i).copied().unwrap_or(&[])
    }
}

/// A destination store: find and borrow mutably.
trait StoreMut<T>: Store<T> {
    fn get_mut(&mut self, i: usize) -> &mut [T];
}

impl<T> Store<T> for DictStoreMut<'_, '_, '_, T> {
    fn find(&self, at: &Locate) -> Option<usize> {
        find_key(self.dict.iter().map(|(k, _)| *k), at)
    }
    fn get(&self, i: usize) -> &[T] {
        self.dict.get(i).map_or(&[], |(_, t)| &**t)
    }
}

impl<T> StoreMut<T> for DictStoreMut<'_, '_, '_, T> {
    fn get_mut(&mut self, i: usize) -> &mut [T] {
        self.dict.get_mut(i).map_or(&mut [], |(_, t)| &mut **t)
    }
}

impl<T> Store<T> for ListStoreMut<'_, '_, T> {
    fn find(&self, at: &Locate) -> Option<usize> {
        find_key(self.list.iter().map(|_| ""), at)
    }
    fn get(&self, i: usize) -> &[T] {
        self.list.get(i).map_or(&[], |t| &**t)
    }
}

impl<T> StoreMut<T> for ListStoreMut<'_, '_, T> {
    fn get_mut(&mut self, i: usize) -> &mut [T] {
        self.list.get_mut(i).map_or(&mut [], |t| &mut **t)
    }
}

/// Finds tensor `name` of the current layer and checks its length.
fn lookup<T, S: Store<T>, N: Scheme>(
    store: &S,
    names: &mut N,
    name: &'static str,
    len: usize,
) -> Result<usize, Error> {
    let id = names.locate(name);
    let i = store.find(&Locate::of(&id)).ok_or(Error::Tensor {
        id,
        problem: TensorProblem::Missing,
    })?;
    let found = store.get(i).len();
    if found != len {
        return Err(Error::Tensor {
            id,
            problem: TensorProblem::Length {
                expected: len,
                found,
            },
        });
    }
    Ok(i)
}

/// Imports: reads tensors from a store into the model.
struct Reader<S, N> {
    store: S,
    names: N,
}

impl<S, N> sealed::Sealed for Reader<S, N> {}

impl<S, N: Scheme> Reader<S, N> {
    fn read<T: Real, const R: usize, const C: usize>(
        &mut self,
        b: Block,
        transposed: bool,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error>
    where
        S: Store<T>,
    {
        let i = lookup(&self.store, &mut self.names, b.name, b.blocks * R * C)?;
        read_block(self.store.get(i), b, transposed, m).map_err(|index| Error::Tensor {
            id: self.names.locate(b.name),
            problem: TensorProblem::NonFinite { index },
        })
    }
}

impl<T: Real, S: Store<T>, N: Scheme> Visitor<T> for Reader<S, N> {
    fn begin_layer(&mut self, kind: Kind) -> Result<(), Error> {
        let store = &self.store;
        self.names
            .begin(kind, |module, layer| has_layer(store, module, layer))
    }
    fn end_layer(&mut self) {
        self.names.end();
    }
    fn reverse_of_last(&mut self) {
        self.names.reverse_of_last();
    }
    fn rows<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error> {
        self.read(b, false, m)
    }
    fn cols<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error> {
        self.read(b, true, m)
    }
    fn sum<const R: usize>(
        &mut self,
        a: Block,
        b: Block,
        v: &mut SVector<T, R>,
    ) -> Result<(), Error> {
        let mut w = SVector::<T, R>::zeros();
        self.read(a, false, v)?;
        self.read(b, false, &mut w)?;
        *v += w;
        // Two finite biases can overflow (`f32::MAX + f32::MAX`): refuse the sum, naming
        // the first tensor at that element.
        match v.iter().position(|x| !x.is_finite()) {
            None => Ok(()),
            Some(r) => Err(Error::Tensor {
                id: self.names.locate(a.name),
                problem: TensorProblem::NonFinite {
                    index: index(a, false, R, 1, r, 0),
                },
            }),
        }
    }
    fn fold<const R: usize>(
        &mut self,
        b: Block,
        v: &mut SVector<T, R>,
        w: &mut SVector<T, R>,
    ) -> Result<(), Error> {
        w.fill(T::zero());
        self.read(b, false, v)
    }
    fn unsupported(&mut self, name: &'static str) -> Result<(), Error> {
        Err(Error::Tensor {
            id: self.names.locate(name),
            problem: TensorProblem::Unsupported,
        })
    }
}

/// Whether a store holds recurrent layer `layer` of `module` (its `weight_ih`).
fn has_layer<T, S: Store<T>>(store: &S, module: &'static str, layer: usize) -> bool {
    let at = Locate::Torch {
        module,
        name: "weight_ih",
        layer: Some(layer),
        reverse: false,
    };
    store.find(&at).is_some()
}

/// Exports: writes the model's tensors into a store (after a dry run that only checks).
struct Writer<S, N> {
    store: S,
    names: N,
    dry: bool,
}

impl<S, N> sealed::Sealed for Writer<S, N> {}

impl<S, N: Scheme> Writer<S, N> {
    fn write<T: Real, const R: usize, const C: usize>(
        &mut self,
        b: Block,
        transposed: bool,
        m: &SMatrix<T, R, C>,
    ) -> Result<(), Error>
    where
        S: StoreMut<T>,
    {
        let i = lookup(&self.store, &mut self.names, b.name, b.blocks * R * C)?;
        if self.dry {
            // A value the framework could not load back (a diverged model, or a bias sum
            // that overflows when a split bias is merged) is refused before anything is
            // written, naming the framework's tensor and index.
            for r in 0..R {
                for c in 0..C {
                    if !m[(r, c)].is_finite() {
                        return Err(Error::Tensor {
                            id: self.names.locate(b.name),
                            problem: TensorProblem::NonFinite {
                                index: index(b, transposed, R, C, r, c),
                            },
                        });
                    }
                }
            }
        } else {
            write_block(self.store.get_mut(i), b, transposed, m);
        }
        Ok(())
    }
}

impl<T: Real, S: StoreMut<T>, N: Scheme> Visitor<T> for Writer<S, N> {
    fn begin_layer(&mut self, kind: Kind) -> Result<(), Error> {
        let store = &self.store;
        self.names
            .begin(kind, |module, layer| has_layer(store, module, layer))
    }
    fn end_layer(&mut self) {
        self.names.end();
    }
    fn reverse_of_last(&mut self) {
        self.names.reverse_of_last();
    }
    fn rows<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error> {
        self.write(b, false, m)
    }
    fn cols<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error> {
        self.write(b, true, m)
    }
    fn sum<const R: usize>(
        &mut self,
        a: Block,
        b: Block,
        v: &mut SVector<T, R>,
    ) -> Result<(), Error> {
        self.write(a, false, v)?;
        self.write(b, false, &SVector::<T, R>::zeros())
    }
    fn fold<const R: usize>(
        &mut self,
        b: Block,
        v: &mut SVector<T, R>,
        w: &mut SVector<T, R>,
    ) -> Result<(), Error> {
        // `v + 0` would turn an imported `-0.0` into `+0.0`: where `w` is zero, write `v`
        // itself, so that import then export gives the input back bit for bit.
        let t = v.zip_map(w, |x, y| if y == T::zero() { x } else { x + y });
        self.write(b, false, &t)
    }
    fn unsupported(&mut self, name: &'static str) -> Result<(), Error> {
        Err(Error::Tensor {
            id: self.names.locate(name),
            problem: TensorProblem::Unsupported,
        })
    }
}

/// Lists the tensors a model maps to (and, with a probe, walks it as a [`Reader`] of that
/// store would).
struct Lister<N, F, P = fn(&'static str, usize) -> bool> {
    names: N,
    f: F,
    /// Whether recurrent layer `k` of a module exists (see [`TorchNames::begin`]).
    probe: P,
    /// The tensors of the current layer already reported (a tensor is read block by block).
    seen: [&'static str; 4],
    n: usize,
}

/// Without a store to probe, consecutive layers of one kind share a module, as in
/// `nn.LSTM(num_layers=k)`.
fn same_module(_: &'static str, _: usize) -> bool {
    true
}

impl<N, F> Lister<N, F> {
    fn new(names: N, f: F) -> Self {
        Self {
            names,
            f,
            probe: same_module,
            seen: [""; 4],
            n: 0,
        }
    }

    /// The same walk, deciding module boundaries with `probe`.
    fn probing<P: Fn(&'static str, usize) -> bool>(self, probe: P) -> Lister<N, F, P> {
        Lister {
            names: self.names,
            f: self.f,
            probe,
            seen: self.seen,
            n: self.n,
        }
    }
}

impl<N, F, P> sealed::Sealed for Lister<N, F, P> {}

impl<N: Scheme, F: FnMut(TensorId, usize), P> Lister<N, F, P> {
    fn report(&mut self, name: &'static str, len: usize) {
        let id = self.names.locate(name);
        if !self.seen.iter().take(self.n).any(|&s| s == name) {
            if let Some(slot) = self.seen.get_mut(self.n) {
                *slot = name;
                self.n += 1;
            }
            (self.f)(id, len);
        }
    }
}

impl<T: Real, N: Scheme, F: FnMut(TensorId, usize), P: Fn(&'static str, usize) -> bool> Visitor<T>
    for Lister<N, F, P>
{
    fn begin_layer(&mut self, kind: Kind) -> Result<(), Error> {
        self.n = 0;
        self.names.begin(kind, &self.probe)
    }
    fn end_layer(&mut self) {
        self.names.end();
    }
    fn reverse_of_last(&mut self) {
        self.names.reverse_of_last();
    }
    fn rows<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        _m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error> {
        self.report(b.name, b.blocks * R * C);
        Ok(())
    }
    fn cols<const R: usize, const C: usize>(
        &mut self,
        b: Block,
        _m: &mut SMatrix<T, R, C>,
    ) -> Result<(), Error> {
        self.report(b.name, b.blocks * R * C);
        Ok(())
    }
    fn sum<const R: usize>(
        &mut self,
        a: Block,
        b: Block,
        _v: &mut SVector<T, R>,
    ) -> Result<(), Error> {
        self.report(a.name, a.blocks * R);
        self.report(b.name, b.blocks * R);
        Ok(())
    }
    fn fold<const R: usize>(
        &mut self,
        b: Block,
        _v: &mut SVector<T, R>,
        _w: &mut SVector<T, R>,
    ) -> Result<(), Error> {
        self.report(b.name, b.blocks * R);
        Ok(())
    }
    fn unsupported(&mut self, name: &'static str) -> Result<(), Error> {
        Err(Error::Tensor {
            id: self.names.locate(name),
            problem: TensorProblem::Unsupported,
        })
    }
}
