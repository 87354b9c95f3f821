//! The GRU cell (gated recurrent unit, Cho et al. 2014): a [`Layer`](crate::Layer) whose state
//! and output are the hidden state `a`, in both placements of the reset gate.
//!
//! Forward, one step (`x = x⟨t⟩`, `a = a⟨t−1⟩`, `σ` the logistic function, `⊙` elementwise;
//! PyTorch's convention, where `z → 1` *keeps* the old state):
//!
//! ```text
//! z      = σ(Wzx·x + Wza·a + bz)                         update gate
//! r      = σ(Wrx·x + Wra·a + br)                         reset gate
//!
//! ResetAfter  (PyTorch; Keras 2 default reset_after=True):
//!   q    = Wna·a + bna
//!   n    = tanh(Wnx·x + bnx + r ⊙ q)                     candidate
//! ResetBefore (Cho et al. 2014; Keras reset_after=False):
//!   q    = r ⊙ a
//!   n    = tanh(Wnx·x + bnx + Wna·q + bna)               candidate
//!
//! a⟨t⟩   = (1 − z) ⊙ n + z ⊙ a
//! ```
//!
//! `q` is the one intermediate that differs between the variants; the forward pass records it
//! with `z`, `r` and `n` ([`GruGates`]) so the backward pass recomputes nothing.
//!
//! Backward, from `da_next = ∂J/∂a⟨t⟩` (`dzg` is the gradient of gate `g`'s pre-activation):
//!
//! ```text
//! dn    = da_next ⊙ (1 − z)            dz  = da_next ⊙ (a − n)
//! dzn   = dn ⊙ (1 − n²)                dzz = dz ⊙ z ⊙ (1 − z)
//! dWnx += dzn·xᵀ                       dbnx += dzn·1
//!
//! ResetAfter:                          ResetBefore:
//!   dq    = dzn ⊙ r                      dWna += dzn·qᵀ       (q = r ⊙ a)
//!   dr    = dzn ⊙ q                      dbna += dzn·1
//!   dWna += dq·aᵀ                        dq    = Wnaᵀ·dzn
//!   dbna += dq·1                         dr    = dq ⊙ a
//!   da_n  = Wnaᵀ·dq                      da_n  = dq ⊙ r
//!
//! dzr   = dr ⊙ r ⊙ (1 − r)
//! dWrx += dzr·xᵀ   dWra += dzr·aᵀ   dbr += dzr·1
//! dWzx += dzz·xᵀ   dWza += dzz·aᵀ   dbz += dzz·1
//! dx      = Wnxᵀ·dzn + Wrxᵀ·dzr + Wzxᵀ·dzz
//! da_prev = da_next ⊙ z + da_n + Wraᵀ·dzr + Wzaᵀ·dzz
//! ```
//!
//! Derivation: `a⟨t⟩` depends on `a` directly (the `z ⊙ a` term, hence `da_next ⊙ z`), and
//! through the three pre-activations; `∂a⟨t⟩/∂n = 1 − z` and `∂a⟨t⟩/∂z = a − n`. Reset-after
//! multiplies `r` into the already-projected `q`, so `r` and `q` swap roles in the product
//! rule; reset-before multiplies `r` into `a` before the projection, so the gradient first goes
//! back through `Wnaᵀ` to `q = r ⊙ a` and then splits between `r` and `a`. Bias gradients sum
//! over the batch columns. Over a sequence, going backwards, step `t` receives
//! `da[t] + da_prev(t+1)`, and `∂J/∂a⟨0⟩` is the last `da_prev`
//! ([`Layer::backward`](crate::Layer::backward)). `tests/gru.rs` checks every one of these
//! against central differences for both variants.
//!
//! # Weight layout
//!
//! As in the [LSTM](crate::lstm), each gate's weight on `[a; x]` is kept as two blocks, one
//! acting on `a⟨t−1⟩` (`wza`, `wra`, `wna`: `(N_A, N_A)`) and one on `x⟨t⟩` (`wzx`, `wrx`,
//! `wnx`: `(N_A, N_X)`), because stable Rust cannot write `3·N_A` or `N_A + N_X` in a type.
//! The candidate has two biases because in the reset-after form `bna` sits inside `r ⊙ (…)`
//! and is not interchangeable with `bnx`. The frameworks map onto the fields as follows:
//!
//! | field | PyTorch `nn.GRU` (gate order `r, z, n`) | Keras `GRU` (gate order `z, r, h`, weights transposed) |
//! |---|---|---|
//! | `wrx`, `wzx`, `wnx` | `weight_ih_l0` rows `[0..H]`, `[H..2H]`, `[2H..3H]` | `kernel[:, H..2H]ᵀ`, `kernel[:, 0..H]ᵀ`, `kernel[:, 2H..3H]ᵀ` |
//! | `wra`, `wza`, `wna` | `weight_hh_l0` rows `[0..H]`, `[H..2H]`, `[2H..3H]` | `recurrent_kernel[:, H..2H]ᵀ`, `[:, 0..H]ᵀ`, `[:, 2H..3H]ᵀ` |
//! | `br` | `bias_ih_l0[0..H] + bias_hh_l0[0..H]` | `bias[0][H..2H] + bias[1][H..2H]` |
//! | `bz` | `bias_ih_l0[H..2H] + bias_hh_l0[H..2H]` | `bias[0][0..H] + bias[1][0..H]` |
//! | `bnx` | `bias_ih_l0[2H..3H]` (`b_in`) | `bias[0][2H..3H]` |
//! | `bna` | `bias_hh_l0[2H..3H]` (`b_hn`) | `bias[1][2H..3H]` |
//!
//! (`H = N_A`.) PyTorch is always reset-after ([`ResetAfter`]). Keras with `reset_after=True`
//! has a `(2, 3H)` bias as in the table; with `reset_after=False` ([`ResetBefore`]) its bias is
//! one `(3H,)` vector: `bz`, `br`, `bnx` are its `[0..H]`, `[H..2H]`, `[2H..3H]`, and `bna = 0`.
//! Both frameworks use `a⟨t⟩ = (1 − z) ⊙ n + z ⊙ a⟨t−1⟩`; some texts swap `z` and `1 − z`.
//!
//! # Generics
//! | parameter | meaning |
//! |---|---|
//! | `T` | scalar, `f32` or `f64` ([`Real`]) |
//! | `N_X` | input features per step |
//! | `N_A` | hidden units (the output and state size) |
//! | `V` | where the reset gate acts: [`ResetAfter`] (default) or [`ResetBefore`] ([`GruVariant`]) |
//! | `M` | batch columns: column `j` of every matrix is example `j` |
//! | `T_X` | sequence length |
//!
//! # Memory (bytes, `s = size_of::<T>()`)
//! | type | size |
//! |---|---|
//! | [`Gru`] (and its gradient) | `s·(3·N_A·(N_X + N_A + 1) + N_A)` |
//! | [`GruGates`] (one step's record) | `s·4·N_A·M` |
//! | [`GruTape`] (a whole sequence, a [`SeqTape`]) | `s·N_A·M·(1 + 5·T_X)` |
//! | [`Step::step`](crate::Step::step) | the state `s·N_A·M`, plus one [`GruGates`] on the stack |
//! | backward, per step | four `N_A × M` temporaries on the stack (`s·4·N_A·M`) |

use crate::activation::{
    sigmoid_grad_from_output, sigmoid_in_place, tanh_grad_from_output, tanh_in_place,
};
use crate::init::{Init, Initialize, Rng};
use crate::layer::{state_cell_layer, CellStep, SeqTape, StateCell};
use crate::params::{zero_matrix, Zeroed};
use crate::{kernel, Params, Real};
use core::fmt::Debug;
use core::marker::PhantomData;
use nalgebra::{SMatrix, SVector};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ResetAfter {}
    impl Sealed for super::ResetBefore {}
}

/// Where a [`Gru`]'s reset gate acts: [`ResetAfter`] or [`ResetBefore`]. Sealed: the backward
/// pass is written for these two.
///
/// # Example
/// ```
/// use tinyrnn::gru::GruVariant;
/// use tinyrnn::{ResetAfter, ResetBefore};
///
/// fn describe<V: GruVariant>() -> &'static str {
///     if V::RESET_AFTER { "r ⊙ (Wna·a + bna)" } else { "Wna·(r ⊙ a) + bna" }
/// }
/// assert_eq!(describe::<ResetAfter>(), "r ⊙ (Wna·a + bna)");
/// assert_eq!(describe::<ResetBefore>(), "Wna·(r ⊙ a) + bna");
/// ```
pub trait GruVariant:
    sealed::Sealed + Clone + Copy + Debug + Default + PartialEq + Eq + Send + Sync + 'static
{
    /// `true`: `n = tanh(Wnx·x + bnx + r ⊙ (Wna·a + bna))`; `false`:
    /// `n = tanh(Wnx·x + bnx + Wna·(r ⊙ a) + bna)`.
    const RESET_AFTER: bool;
}

/// The reset gate applied *after* the recurrent projection:
/// `n = tanh(Wnx·x + bnx + r ⊙ (Wna·a + bna))`.
///
/// PyTorch's `nn.GRU`, cuDNN's, and Keras 2's default (`reset_after=True`). [`Gru`]'s default.
///
/// # Example
/// ```
/// use tinyrnn::gru::GruVariant;
/// use tinyrnn::{Gru, ResetAfter};
///
/// assert!(ResetAfter::RESET_AFTER);
/// let _: Gru<f32, 2, 3> = Gru::<f32, 2, 3, ResetAfter>::init(&Default::default(), &mut tinyrnn::init::Rng::new(0));
/// # use tinyrnn::init::Initialize;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResetAfter;

/// The reset gate applied to the state *before* the recurrent projection:
/// `n = tanh(Wnx·x + bnx + Wna·(r ⊙ a) + bna)`.
///
/// The original GRU (Cho et al. 2014) and Keras' `reset_after=False` (where `bna = 0`).
///
/// # Example
/// ```
/// use tinyrnn::gru::GruVariant;
/// use tinyrnn::{Gru, Params, ResetBefore};
///
/// assert!(!ResetBefore::RESET_AFTER);
/// let g = Gru::<f64, 2, 3, ResetBefore>::zeros();
/// assert_eq!(g.variant, core::marker::PhantomData::<ResetBefore>);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResetBefore;

impl GruVariant for ResetAfter {
    const RESET_AFTER: bool = true;
}

impl GruVariant for ResetBefore {
    const RESET_AFTER: bool = false;
}

/// A GRU layer: `a⟨t⟩ = (1 − z) ⊙ n + z ⊙ a⟨t−1⟩` with update gate `z`, reset gate `r` and
/// candidate `n` (see the [module docs](self) for every equation, forward and backward, and
/// how PyTorch's and Keras' tensors map onto the fields).
///
/// State and output are both `a`, as for the [`Rnn`](crate::Rnn); the tape is a [`GruTape`].
/// The same type holds the gradients, so an optimizer walks parameters and gradients together
/// ([`Params`]).
///
/// # Generics
/// `T`: scalar; `N_X`: input features; `N_A`: hidden units (the output size); `V`: the
/// reset-gate placement, [`ResetAfter`] (default) or [`ResetBefore`].
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{Gru, Params, ResetBefore, Step};
///
/// let mut gru = Gru::<f64, 1, 1>::zeros(); // ResetAfter
/// gru.wnx.fill(1.0);
/// let mut a = SMatrix::<f64, 1, 1>::zeros(); // the state
/// let mut y = SMatrix::zeros();
/// gru.step(&SMatrix::<f64, 1, 1>::new(0.5), &mut a, &mut y);
/// // z = σ(0) = 1/2, n = tanh(0.5), a⟨1⟩ = (1 − z)·n + z·0
/// assert!((y[0] - 0.5 * 0.5_f64.tanh()).abs() < 1e-16);
/// assert_eq!(a, y);
///
/// // The same weights with the reset gate before the projection.
/// let before: Gru<f64, 1, 1, ResetBefore> = gru.with_variant();
/// assert_eq!(before.wnx, gru.wnx);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Gru<T, const N_X: usize, const N_A: usize, V = ResetAfter> {
    /// `Wzx`, `(N_A, N_X)`: update gate, acting on `x⟨t⟩` (PyTorch `W_iz`).
    pub wzx: SMatrix<T, N_A, N_X>,
    /// `Wza`, `(N_A, N_A)`: update gate, acting on `a⟨t−1⟩` (PyTorch `W_hz`).
    pub wza: SMatrix<T, N_A, N_A>,
    /// `bz`, `(N_A, 1)`: update gate bias (PyTorch `b_iz + b_hz`).
    pub bz: SVector<T, N_A>,
    /// `Wrx`, `(N_A, N_X)`: reset gate, acting on `x⟨t⟩` (PyTorch `W_ir`).
    pub wrx: SMatrix<T, N_A, N_X>,
    /// `Wra`, `(N_A, N_A)`: reset gate, acting on `a⟨t−1⟩` (PyTorch `W_hr`).
    pub wra: SMatrix<T, N_A, N_A>,
    /// `br`, `(N_A, 1)`: reset gate bias (PyTorch `b_ir + b_hr`).
    pub br: SVector<T, N_A>,
    /// `Wnx`, `(N_A, N_X)`: candidate, acting on `x⟨t⟩` (PyTorch `W_in`).
    pub wnx: SMatrix<T, N_A, N_X>,
    /// `Wna`, `(N_A, N_A)`: candidate, acting on `a⟨t−1⟩` (reset-after) or on `r ⊙ a⟨t−1⟩`
    /// (reset-before) (PyTorch `W_hn`).
    pub wna: SMatrix<T, N_A, N_A>,
    /// `bnx`, `(N_A, 1)`: candidate bias outside the reset gate (PyTorch `b_in`).
    pub bnx: SVector<T, N_A>,
    /// `bna`, `(N_A, 1)`: candidate bias of the recurrent term, inside `r ⊙ (…)` for
    /// reset-after (PyTorch `b_hn`); for reset-before it simply adds to `bnx`.
    pub bna: SVector<T, N_A>,
    /// The reset-gate placement, a zero-sized marker ([`GruVariant`]).
    pub variant: PhantomData<V>,
}

/// What one GRU step records for its backward pass: the gates, the candidate, and `q`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::gru::GruTape;
/// use tinyrnn::{params::Zeroed, Gru, Layer, Params};
///
/// let mut gru = Gru::<f32, 2, 3>::zeros();
/// gru.bna.fill(0.25);
/// let mut tape = GruTape::<f32, 3, 1, 4>::ZEROS;
/// gru.forward(&[SMatrix::zeros(); 4], &SMatrix::repeat(1.0), &mut tape);
/// let g = &tape.aux[0];
/// assert_eq!((g.z[0], g.r[0]), (0.5, 0.5)); // σ(0)
/// assert_eq!(g.q[0], 0.25); // reset-after: q = Wna·a + bna
/// assert_eq!(g.n[0], (0.5_f32 * 0.25).tanh());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct GruGates<T, const N_A: usize, const M: usize> {
    /// Update gate `z = σ(Wzx·x + Wza·a + bz)`.
    pub z: SMatrix<T, N_A, M>,
    /// Reset gate `r = σ(Wrx·x + Wra·a + br)`.
    pub r: SMatrix<T, N_A, M>,
    /// Candidate `n` (its `1 − n²` is `tanh'`).
    pub n: SMatrix<T, N_A, M>,
    /// [`ResetAfter`]: the recurrent projection `q = Wna·a⟨t−1⟩ + bna` (PyTorch's `W_hn h + b_hn`).
    /// [`ResetBefore`]: the reset state `q = r ⊙ a⟨t−1⟩`.
    pub q: SMatrix<T, N_A, M>,
}

impl<T: Real, const N_A: usize, const M: usize> GruGates<T, N_A, M> {
    /// All-zero records.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::gru::GruGates;
    /// assert_eq!(GruGates::<f32, 4, 2>::zeros().q.sum(), 0.0);
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero value, usable in `const` and `static` initialisers.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::gru::GruGates;
    /// static G: GruGates<f32, 3, 1> = GruGates::ZEROS;
    /// assert_eq!(G.n.sum(), 0.0);
    /// ```
    pub const ZEROS: Self = Self {
        z: zero_matrix(),
        r: zero_matrix(),
        n: zero_matrix(),
        q: zero_matrix(),
    };
}

impl<T: Real, const N_A: usize, const M: usize> Zeroed for GruGates<T, N_A, M> {
    const ZEROS: Self = GruGates::ZEROS;
}

/// The tape of a [`Gru`] layer: a [`SeqTape`] holding `a⟨0⟩`, every step's output `a⟨t⟩` and
/// its [`GruGates`] (the input is not copied).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::gru::GruTape;
/// use tinyrnn::{params::Zeroed, Gru, Layer, Params};
///
/// let gru = Gru::<f32, 3, 8>::zeros();
/// let mut tape = GruTape::<f32, 8, 2, 10>::ZEROS;
/// gru.forward(&[SMatrix::<f32, 3, 2>::zeros(); 10], &SMatrix::repeat(1.0), &mut tape);
/// // Zero weights: z = 1/2 and n = 0, so the state halves every step.
/// assert_eq!(tape.h[2], SMatrix::<f32, 8, 2>::repeat(0.125));
/// assert_eq!(core::mem::size_of_val(&tape), 4 * 8 * 2 * (1 + 5 * 10));
/// ```
pub type GruTape<T, const N_A: usize, const M: usize, const T_X: usize> =
    SeqTape<SMatrix<T, N_A, M>, GruGates<T, N_A, M>, T_X>;

impl<T: Real, const N_X: usize, const N_A: usize, V: GruVariant> Gru<T, N_X, N_A, V> {
    /// The same weights with the reset gate placed as `W` says (a Keras `reset_after=False`
    /// checkpoint is a [`ResetBefore`] layer, a PyTorch one a [`ResetAfter`] layer).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Gru, Params, ResetAfter, ResetBefore};
    ///
    /// let mut after = Gru::<f32, 2, 3, ResetAfter>::zeros();
    /// after.wna.fill(0.5);
    /// let before = after.with_variant::<ResetBefore>();
    /// assert_eq!(before.wna, after.wna);
    /// assert_eq!(before.with_variant::<ResetAfter>(), after);
    /// ```
    pub fn with_variant<W: GruVariant>(self) -> Gru<T, N_X, N_A, W> {
        Gru {
            wzx: self.wzx,
            wza: self.wza,
            bz: self.bz,
            wrx: self.wrx,
            wra: self.wra,
            br: self.br,
            wnx: self.wnx,
            wna: self.wna,
            bnx: self.bnx,
            bna: self.bna,
            variant: PhantomData,
        }
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, V: GruVariant> Params<T> for Gru<T, N_X, N_A, V> {
    const LEN: usize = 3 * N_A * (N_X + N_A + 1) + N_A;
    const ZEROS: Self = Self {
        wzx: zero_matrix(),
        wza: zero_matrix(),
        bz: zero_matrix(),
        wrx: zero_matrix(),
        wra: zero_matrix(),
        br: zero_matrix(),
        wnx: zero_matrix(),
        wna: zero_matrix(),
        bnx: zero_matrix(),
        bna: zero_matrix(),
        variant: PhantomData,
    };
    fn names() -> impl Iterator<Item = &'static str> {
        [
            "wzx", "wza", "bz", "wrx", "wra", "br", "wnx", "wna", "bnx", "bna",
        ]
        .into_iter()
    }
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [
            self.wzx.as_slice(),
            self.wza.as_slice(),
            self.bz.as_slice(),
            self.wrx.as_slice(),
            self.wra.as_slice(),
            self.br.as_slice(),
            self.wnx.as_slice(),
            self.wna.as_slice(),
            self.bnx.as_slice(),
            self.bna.as_slice(),
        ]
        .into_iter()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.wzx.as_mut_slice(),
            self.wza.as_mut_slice(),
            self.bz.as_mut_slice(),
            self.wrx.as_mut_slice(),
            self.wra.as_mut_slice(),
            self.br.as_mut_slice(),
            self.wnx.as_mut_slice(),
            self.wna.as_mut_slice(),
            self.bnx.as_mut_slice(),
            self.bna.as_mut_slice(),
        ]
        .into_iter()
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, V: GruVariant> Initialize
    for Gru<T, N_X, N_A, V>
{
    /// Every weight block by `init.weights` (in field order), every bias zero.
    fn init(init: &Init, rng: &mut Rng) -> Self {
        let mut p = Self::ZEROS;
        p.init_into(init, rng);
        p
    }
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fill_zero();
        init.fill(&mut self.wzx, N_A, rng);
        init.fill(&mut self.wza, N_A, rng);
        init.fill(&mut self.wrx, N_A, rng);
        init.fill(&mut self.wra, N_A, rng);
        init.fill(&mut self.wnx, N_A, rng);
        init.fill(&mut self.wna, N_A, rng);
    }
}

/// `z ← z + b·1ᵀ`: adds a bias to every batch column.
#[inline]
fn add_bias<T: Real, const R: usize, const M: usize>(z: &mut SMatrix<T, R, M>, b: &SVector<T, R>) {
    for mut col in z.column_iter_mut() {
        col += b;
    }
}

impl<T: Real, const M: usize, const N_X: usize, const N_A: usize, V: GruVariant> StateCell<T, M>
    for Gru<T, N_X, N_A, V>
{
    type X = SMatrix<T, N_X, M>;
    type H = SMatrix<T, N_A, M>;
    type Aux = GruGates<T, N_A, M>;

    #[inline]
    fn cell_forward(&self, x: &Self::X, a: &Self::H, g: &mut Self::Aux, a_next: &mut Self::H) {
        kernel::affine(&mut g.z, &self.wza, a, &self.wzx, x, &self.bz);
        sigmoid_in_place(&mut g.z);
        kernel::affine(&mut g.r, &self.wra, a, &self.wrx, x, &self.br);
        sigmoid_in_place(&mut g.r);
        if V::RESET_AFTER {
            // q = Wna·a + bna;  n = Wnx·x + bnx + r ⊙ q
            kernel::head(&mut g.q, &self.wna, a, &self.bna);
            kernel::head(&mut g.n, &self.wnx, x, &self.bnx);
            g.n.zip_zip_apply(&g.r, &g.q, |n, r, q| *n += r * q);
        } else {
            // q = r ⊙ a;  n = Wna·q + Wnx·x + bnx + bna
            g.q = g.r.component_mul(a);
            kernel::affine(&mut g.n, &self.wna, &g.q, &self.wnx, x, &self.bnx);
            add_bias(&mut g.n, &self.bna);
        }
        tanh_in_place(&mut g.n);
        // a_next = (1 − z) ⊙ n + z ⊙ a
        *a_next =
            g.z.zip_zip_map(&g.n, a, |z, n, a| (T::one() - z) * n + z * a);
    }

    #[inline]
    fn cell_backward(
        &self,
        step: CellStep<'_, Self::X, Self::H, Self::Aux>,
        da_next: &Self::H,
        d: &mut Self,
        dx: &mut Self::X,
        da_prev: &mut Self::H,
    ) {
        let (x, a, g) = (step.x, step.h_prev, step.aux);

        // The direct path a → z ⊙ a overwrites da_prev; every other term adds to it.
        *da_prev = da_next.component_mul(&g.z);
        dx.fill(T::zero());

        // dzn = da_next ⊙ (1 − z) ⊙ (1 − n²);  dzz = da_next ⊙ (a − n) ⊙ z(1 − z)
        let mut dzn = *da_next;
        dzn.zip_zip_apply(&g.z, &g.n, |d, z, n| {
            *d *= (T::one() - z) * tanh_grad_from_output(n);
        });
        let mut dzz = *da_next;
        dzz.zip_zip_apply(&g.n, a, |d, n, a| *d *= a - n);
        dzz.zip_apply(&g.z, |d, z| *d *= sigmoid_grad_from_output(z));

        // Candidate, x part: dWnx += dzn·xᵀ, dbnx += dzn·1, dx += Wnxᵀ·dzn.
        kernel::acc_outer(&mut d.wnx, &dzn, x);
        kernel::acc_row_sums(&mut d.bnx, &dzn);
        kernel::acc_tr_mul(dx, &self.wnx, &dzn);

        // Candidate, recurrent part, and dr (into dzr, made the pre-activation's below).
        let mut dzr;
        if V::RESET_AFTER {
            // dq = dzn ⊙ r, dr = dzn ⊙ q; dWna += dq·aᵀ, dbna += dq·1, da_prev += Wnaᵀ·dq.
            dzr = dzn.component_mul(&g.q);
            let dq = dzn.component_mul(&g.r);
            kernel::acc_outer(&mut d.wna, &dq, a);
            kernel::acc_row_sums(&mut d.bna, &dq);
            kernel::acc_tr_mul(da_prev, &self.wna, &dq);
        } else {
            // dWna += dzn·qᵀ, dbna += dzn·1; dq = Wnaᵀ·dzn, dr = dq ⊙ a, da_prev += dq ⊙ r.
            kernel::acc_outer(&mut d.wna, &dzn, &g.q);
            kernel::acc_row_sums(&mut d.bna, &dzn);
            let mut dq = SMatrix::<T, N_A, M>::zeros();
            kernel::acc_tr_mul(&mut dq, &self.wna, &dzn);
            da_prev.zip_zip_apply(&dq, &g.r, |d, dq, r| *d += dq * r);
            dzr = dq.component_mul(a);
        }
        // dzr = dr ⊙ r(1 − r)
        dzr.zip_apply(&g.r, |d, r| *d *= sigmoid_grad_from_output(r));

        // Reset and update gates: the affine maps' weight and input gradients.
        kernel::acc_param_grads(&mut d.wra, &mut d.wrx, &mut d.br, &dzr, a, x);
        kernel::acc_param_grads(&mut d.wza, &mut d.wzx, &mut d.bz, &dzz, a, x);
        // Both gates read a and x: one dot product of length 2·N_A per element.
        kernel::acc_tr_mul_gates(da_prev, [&self.wra, &self.wza], [&dzr, &dzz]);
        kernel::acc_tr_mul_gates(dx, [&self.wrx, &self.wzx], [&dzr, &dzz]);
    }
}

state_cell_layer!(Gru<T, N_X, N_A, V> where const N_X: usize, const N_A: usize, V: GruVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{Layer, Step};

    /// `Params::names` and `tensors` walk the same ten tensors, `LEN` scalars in all.
    #[test]
    fn params_walk_every_tensor_once() {
        type G = Gru<f64, 3, 4, ResetBefore>;
        let names: [&str; 10] = [
            "wzx", "wza", "bz", "wrx", "wra", "br", "wnx", "wna", "bnx", "bna",
        ];
        assert!(G::names().eq(names));
        let mut g = G::zeros();
        for (k, t) in g.tensors_mut().enumerate() {
            t.fill(k as f64);
        }
        assert_eq!(g.bna[0], 9.0);
        assert_eq!(g.wza[(3, 3)], 1.0);
        assert_eq!(g.tensors().map(<[f64]>::len).sum::<usize>(), G::LEN);
        assert_eq!(core::mem::size_of::<G>(), 8 * G::LEN);
    }

    /// Zero weights and a zero state: z = r = 1/2, n = 0, output 0; the step and the
    /// sequence agree.
    #[test]
    fn zero_weights_give_zero_output() {
        let g = Gru::<f32, 2, 3>::zeros();
        let mut tape = GruTape::<f32, 3, 1, 2>::ZEROS;
        let x = [SMatrix::<f32, 2, 1>::repeat(1.0); 2];
        g.forward(&x, &SMatrix::zeros(), &mut tape);
        assert_eq!(tape.h[1], SMatrix::<f32, 3, 1>::zeros());
        let mut s = SMatrix::<f32, 3, 1>::zeros();
        let mut y = SMatrix::<f32, 3, 1>::repeat(9.0);
        g.step(&x[0], &mut s, &mut y);
        assert_eq!(y, tape.h[0]);
    }
}
