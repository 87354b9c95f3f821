//! The LSTM cell: parameters, caches, gradients, forward and backward, one step and a whole
//! sequence.
//!
//! ```text
//! Γf = σ(Wf·[a⟨t−1⟩; x⟨t⟩] + bf)          forget gate
//! Γi = σ(Wi·[a⟨t−1⟩; x⟨t⟩] + bi)          update gate
//! c̃  = tanh(Wc·[a⟨t−1⟩; x⟨t⟩] + bc)       candidate
//! Γo = σ(Wo·[a⟨t−1⟩; x⟨t⟩] + bo)          output gate
//! c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γi ⊙ c̃
//! a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩)
//! ŷ⟨t⟩ = softmax(Wy·a⟨t⟩ + by)
//! ```
//!
//! Backward, from `da_next = ∂J/∂a⟨t⟩` and `dc_next = ∂J/∂c⟨t⟩` (the seeds' *code*; their
//! typeset equations (8) and (10) have typos, see the crate's README):
//!
//! ```text
//! dc      = dc_next + da_next ⊙ Γo ⊙ (1 − tanh²(c⟨t⟩))
//! dzo     = da_next ⊙ tanh(c⟨t⟩) ⊙ Γo ⊙ (1 − Γo)
//! dzc     = dc ⊙ Γi ⊙ (1 − c̃²)
//! dzi     = dc ⊙ c̃ ⊙ Γi ⊙ (1 − Γi)
//! dzf     = dc ⊙ c⟨t−1⟩ ⊙ Γf ⊙ (1 − Γf)
//! dc_prev = dc ⊙ Γf
//! dWg    += dzg·[a⟨t−1⟩; x⟨t⟩]ᵀ,  dbg += dzg·1,  [da_prev; dxt] = Σg Wgᵀ·dzg
//! ```
//!
//! Over a sequence, going backwards, step `t` receives `da_next = da[t] + da_prev(t+1)` and
//! `dc_next = dc_prev(t+1)` (zero at the last step); `da0` and `dc0` are the last `da_prev`
//! and `dc_prev`. The seeds' `lstm_backward` forgets to carry `da_prev` and `dc_prev` from one
//! step to the next; this module does not.
//!
//! # Weight layout: why each gate is two blocks
//!
//! The seeds (and numpy checkpoints) store each gate's weight as one `(N_A, N_A + N_X)`
//! matrix `Wf = [Wfa | Wfx]` acting on the concatenation `[a⟨t−1⟩; x⟨t⟩]`, `a` columns
//! first. Stable Rust cannot write `N_A + N_X` in a type, so [`LstmParams`] keeps the two
//! blocks as separate fields: `wfa: (N_A, N_A)` multiplies `a⟨t−1⟩` and `wfx: (N_A, N_X)`
//! multiplies `x⟨t⟩` (the same naming as the RNN's `waa` and `wax`). Nothing is
//! concatenated at run time: `Wf·[a; x] = Wfa·a + Wfx·x`.
//!
//! The seeds' layout is available at the edges: [`LstmParams::wf`] returns `Wf` as one
//! `SMatrix<T, N_A, N_C>` and [`LstmParams::set_wf`] stores one, for any `N_C` the caller
//! names, and a `const { assert!(N_C == N_A + N_X) }` turns a wrong column count into a
//! compile error (at `cargo build`; `cargo check` does not evaluate it). The alternative, an
//! extra `N_C` const parameter on every LSTM type, would put a redundant number into every
//! signature a user writes. Gradients have the same type as parameters, so
//! `grads.dparams.wf::<8>()` is the seeds' `dWf`.
//!
//! # Generics
//! | parameter | meaning |
//! |---|---|
//! | `T` | scalar, `f32` or `f64` ([`Real`]) |
//! | `N_X` | input features per step |
//! | `N_A` | hidden units (and cell-state size) |
//! | `N_Y` | outputs (softmax classes) |
//! | `M` | batch columns: column `j` of every matrix is example `j` |
//! | `T_X` | sequence length |
//!
//! # Memory (bytes, `s = size_of::<T>()`)
//! | type | size |
//! |---|---|
//! | [`LstmParams`] (and its gradient) | `s·(4·N_A·(N_A + N_X + 1) + N_Y·(N_A + 1))` |
//! | [`LstmGates`] (one step's activations) | `s·5·N_A·M` |
//! | [`LstmCache`] (one step) | `s·M·(N_X + 7·N_A)` |
//! | [`LstmTape`] (a whole sequence) | `s·M·(2·N_A + T_X·(N_X + 7·N_A + N_Y))` |
//! | [`LstmGrads`] | `s·M·(T_X·N_X + 2·N_A)` + the parameter gradient |

use crate::activation::{
    sigmoid_grad_from_output, sigmoid_in_place, softmax_columns_in_place, tanh_grad_from_output,
    tanh_in_place,
};
use crate::init::{Init, Initialize, Rng};
use crate::layer::{Layer, Step};
use crate::params::{check_len, matrix_from_row_major, zero_matrix, Zeroed};
use crate::{kernel, Error, Params, Real};
use nalgebra::{SMatrix, SVector};

/// Parameters of an LSTM cell with a softmax output layer.
///
/// Each gate `g ∈ {f, i, c, o}` has `Wg = [Wga | Wgx]` split into the block `wga` acting on
/// `a⟨t−1⟩` and the block `wgx` acting on `x⟨t⟩` (see the [module docs](self) for why), and a
/// bias `bg`. Read or write the seeds' concatenated `(N_A, N_A + N_X)` layout with
/// [`LstmParams::wf`]/[`LstmParams::set_wf`] and their siblings.
///
/// The same type holds the gradients ([`LstmGrads::dparams`]), so an optimizer walks
/// parameters and gradients together ([`Params`]).
///
/// # Generics
/// `T`: scalar; `N_X`: input features; `N_A`: hidden units; `N_Y`: outputs.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{LstmParams, Params};
///
/// let mut p = LstmParams::<f64, 3, 5, 2>::zeros();
/// // The seeds' layout: one (N_A, N_A + N_X) = (5, 8) matrix, a_prev columns first.
/// let wf = SMatrix::<f64, 5, 8>::from_fn(|r, c| (r * 8 + c) as f64);
/// p.set_wf(&wf);
/// assert_eq!(p.wfa[(1, 4)], wf[(1, 4)]); // a_prev block
/// assert_eq!(p.wfx[(1, 0)], wf[(1, 5)]); // x block
/// assert_eq!(p.wf::<8>(), wf);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct LstmParams<T, const N_X: usize, const N_A: usize, const N_Y: usize> {
    /// `Wfa`, `(N_A, N_A)`: forget gate, the columns of `Wf` acting on `a⟨t−1⟩`.
    pub wfa: SMatrix<T, N_A, N_A>,
    /// `Wfx`, `(N_A, N_X)`: forget gate, the columns of `Wf` acting on `x⟨t⟩`.
    pub wfx: SMatrix<T, N_A, N_X>,
    /// `bf`, `(N_A, 1)`: forget gate bias.
    pub bf: SVector<T, N_A>,
    /// `Wia`, `(N_A, N_A)`: update gate, acting on `a⟨t−1⟩`.
    pub wia: SMatrix<T, N_A, N_A>,
    /// `Wix`, `(N_A, N_X)`: update gate, acting on `x⟨t⟩`.
    pub wix: SMatrix<T, N_A, N_X>,
    /// `bi`, `(N_A, 1)`: update gate bias.
    pub bi: SVector<T, N_A>,
    /// `Wca`, `(N_A, N_A)`: candidate, acting on `a⟨t−1⟩`.
    pub wca: SMatrix<T, N_A, N_A>,
    /// `Wcx`, `(N_A, N_X)`: candidate, acting on `x⟨t⟩`.
    pub wcx: SMatrix<T, N_A, N_X>,
    /// `bc`, `(N_A, 1)`: candidate bias.
    pub bc: SVector<T, N_A>,
    /// `Woa`, `(N_A, N_A)`: output gate, acting on `a⟨t−1⟩`.
    pub woa: SMatrix<T, N_A, N_A>,
    /// `Wox`, `(N_A, N_X)`: output gate, acting on `x⟨t⟩`.
    pub wox: SMatrix<T, N_A, N_X>,
    /// `bo`, `(N_A, 1)`: output gate bias.
    pub bo: SVector<T, N_A>,
    /// `Wy`, `(N_Y, N_A)`: hidden to output.
    pub wy: SMatrix<T, N_Y, N_A>,
    /// `by`, `(N_Y, 1)`: output bias.
    pub by: SVector<T, N_Y>,
}

/// The LSTM parameters in the seeds' layout as flat row-major slices (numpy's `W.ravel()` of
/// the `(N_A, N_A + N_X)` gate weights), for [`LstmParams::from_row_major`].
///
/// # Example
/// ```
/// use tinyrnn::lstm::LstmSlices;
/// let w = [0.0_f32; 5 * 8];
/// let b = [0.0_f32; 5];
/// let s = LstmSlices { wf: &w, bf: &b, wi: &w, bi: &b, wc: &w, bc: &b, wo: &w, bo: &b,
///                      wy: &[0.0; 10], by: &[0.0; 2] };
/// assert_eq!(s.wf.len(), 40);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LstmSlices<'a, T> {
    /// `Wf`, `N_A·(N_A + N_X)` values, row-major, `a` columns first.
    pub wf: &'a [T],
    /// `bf`, `N_A` values.
    pub bf: &'a [T],
    /// `Wi`, `N_A·(N_A + N_X)` values, row-major.
    pub wi: &'a [T],
    /// `bi`, `N_A` values.
    pub bi: &'a [T],
    /// `Wc`, `N_A·(N_A + N_X)` values, row-major.
    pub wc: &'a [T],
    /// `bc`, `N_A` values.
    pub bc: &'a [T],
    /// `Wo`, `N_A·(N_A + N_X)` values, row-major.
    pub wo: &'a [T],
    /// `bo`, `N_A` values.
    pub bo: &'a [T],
    /// `Wy`, `N_Y·N_A` values, row-major.
    pub wy: &'a [T],
    /// `by`, `N_Y` values.
    pub by: &'a [T],
}

/// One step's gate activations, as the forward pass stores them for the backward pass.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{LstmParams, Params};
///
/// let p = LstmParams::<f32, 3, 5, 2>::zeros();
/// let step = p.cell_forward(&SMatrix::<f32, 3, 1>::zeros(), &SMatrix::zeros(), &SMatrix::zeros());
/// assert_eq!(step.cache.gates.f[0], 0.5); // σ(0)
/// assert_eq!(step.cache.gates.cc[0], 0.0); // tanh(0)
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct LstmGates<T, const N_A: usize, const M: usize> {
    /// Forget gate `Γf`.
    pub f: SMatrix<T, N_A, M>,
    /// Update gate `Γi`.
    pub i: SMatrix<T, N_A, M>,
    /// Candidate `c̃`.
    pub cc: SMatrix<T, N_A, M>,
    /// Output gate `Γo`.
    pub o: SMatrix<T, N_A, M>,
    /// `tanh(c⟨t⟩)`, kept so the backward pass makes no `tanh` calls.
    pub tanh_c: SMatrix<T, N_A, M>,
}

/// What one step's backward pass needs from its forward pass: the seeds'
/// `cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt)`, without `a_next` and
/// `c_next` (the backward uses `tanh(c_next)`, stored in the gates).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{LstmParams, Params};
///
/// let p = LstmParams::<f64, 3, 5, 2>::zeros();
/// let c_prev = SMatrix::<f64, 5, 1>::repeat(2.0);
/// let step = p.cell_forward(&SMatrix::zeros(), &SMatrix::zeros(), &c_prev);
/// assert_eq!(step.cache.c_prev, c_prev);
/// assert_eq!(step.c_next, c_prev * 0.5); // Γf = σ(0), Γi ⊙ c̃ = 0
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmCache<T, const N_X: usize, const N_A: usize, const M: usize> {
    /// The step's input `x⟨t⟩`.
    pub xt: SMatrix<T, N_X, M>,
    /// The previous hidden state `a⟨t−1⟩`.
    pub a_prev: SMatrix<T, N_A, M>,
    /// The previous cell state `c⟨t−1⟩`.
    pub c_prev: SMatrix<T, N_A, M>,
    /// The gate activations and `tanh(c⟨t⟩)`.
    pub gates: LstmGates<T, N_A, M>,
}

/// The result of [`LstmParams::cell_forward`].
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{LstmParams, Params, lstm::LstmCellForward};
///
/// let p = LstmParams::<f32, 3, 5, 2>::zeros();
/// let out: LstmCellForward<f32, 3, 5, 2, 4> =
///     p.cell_forward(&SMatrix::zeros(), &SMatrix::zeros(), &SMatrix::zeros());
/// assert_eq!(out.y_pred[(0, 3)], 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmCellForward<T, const N_X: usize, const N_A: usize, const N_Y: usize, const M: usize>
{
    /// `a⟨t⟩ = Γo ⊙ tanh(c⟨t⟩)`.
    pub a_next: SMatrix<T, N_A, M>,
    /// `c⟨t⟩ = Γf ⊙ c⟨t−1⟩ + Γi ⊙ c̃`.
    pub c_next: SMatrix<T, N_A, M>,
    /// `ŷ⟨t⟩ = softmax(Wy·a⟨t⟩ + by)`.
    pub y_pred: SMatrix<T, N_Y, M>,
    /// What [`LstmParams::cell_backward`] needs.
    pub cache: LstmCache<T, N_X, N_A, M>,
}

/// The result of [`LstmParams::cell_backward`]:
/// `{dxt, da_prev, dc_prev, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo}`.
///
/// The parameter gradients are an [`LstmParams`]: `dparams.bf` is `dbf`,
/// `dparams.wf::<{N_A + N_X}>()` is the seeds' `dWf`. `dparams.wy` and `dparams.by` are zero
/// (the output layer is not part of the cell's backward pass).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{LstmParams, Params};
///
/// let p = LstmParams::<f64, 3, 5, 2>::zeros();
/// let c_prev = SMatrix::<f64, 5, 1>::repeat(1.0);
/// let step = p.cell_forward(&SMatrix::zeros(), &SMatrix::zeros(), &c_prev);
/// let g = p.cell_backward(&SMatrix::zeros(), &SMatrix::repeat(1.0), &step.cache);
/// assert_eq!(g.dc_prev, SMatrix::<f64, 5, 1>::repeat(0.5)); // dc ⊙ Γf
/// let dwf: SMatrix<f64, 5, 8> = g.dparams.wf();
/// assert_eq!(dwf, SMatrix::<f64, 5, 8>::zeros()); // a_prev = 0 and x = 0
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LstmCellGrads<T, const N_X: usize, const N_A: usize, const N_Y: usize, const M: usize> {
    /// `∂J/∂x⟨t⟩`.
    pub dxt: SMatrix<T, N_X, M>,
    /// `∂J/∂a⟨t−1⟩`.
    pub da_prev: SMatrix<T, N_A, M>,
    /// `∂J/∂c⟨t−1⟩ = dc ⊙ Γf`.
    pub dc_prev: SMatrix<T, N_A, M>,
    /// The gate weight and bias gradients (`dparams.wy`, `dparams.by` are zero).
    pub dparams: LstmParams<T, N_X, N_A, N_Y>,
}

/// Everything a sequence forward pass computes, which is also everything its backward pass
/// needs: the seeds' `(a, y, c, caches)` without the duplicates.
///
/// Step `t`'s cache is `(x[t], a_prev = a[t−1] or a0, c_prev = c[t−1] or c0, gates[t])`.
/// The tape can live in a `static` or any other storage the caller owns
/// ([`LstmParams::forward_into`]).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{LstmParams, LstmTape, Params};
///
/// let p = LstmParams::<f32, 3, 5, 2>::zeros();
/// let mut tape = LstmTape::<f32, 3, 5, 2, 10, 7>::zeros();
/// p.forward_into(&[SMatrix::zeros(); 7], &SMatrix::zeros(), &SMatrix::zeros(), &mut tape);
/// assert_eq!(tape.gates[6].o[0], 0.5);
/// assert_eq!(core::mem::size_of_val(&tape), 4 * 10 * (2 * 5 + 7 * (3 + 7 * 5 + 2)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct LstmTape<
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
    /// The initial cell state `c⟨0⟩` (zero in the seeds' `lstm_forward`).
    pub c0: SMatrix<T, N_A, M>,
    /// The hidden states; index `t` holds the state after input `x[t]`.
    pub a: [SMatrix<T, N_A, M>; T_X],
    /// The cell states; index `t` holds the state after input `x[t]`.
    pub c: [SMatrix<T, N_A, M>; T_X],
    /// The gate activations of every step.
    pub gates: [LstmGates<T, N_A, M>; T_X],
    /// The predictions `ŷ⟨t⟩ = softmax(Wy·a⟨t⟩ + by)`.
    pub y_pred: [SMatrix<T, N_Y, M>; T_X],
}

/// The result of a sequence backward pass:
/// `{dx, da0, dc0, dWf, dWi, dWc, dWo, dbf, dbi, dbc, dbo}`.
///
/// # Example
/// ```
/// use tinyrnn::{LstmGrads, Params};
///
/// let g = LstmGrads::<f64, 3, 5, 2, 10, 4>::zeros();
/// assert_eq!(g.dx.len(), 4);
/// assert_eq!(g.dc0.sum(), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct LstmGrads<
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
    /// `∂J/∂c⟨0⟩`.
    pub dc0: SMatrix<T, N_A, M>,
    /// `∂J/∂θ` for every parameter, summed over the steps and the batch.
    pub dparams: LstmParams<T, N_X, N_A, N_Y>,
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> Params<T>
    for LstmParams<T, N_X, N_A, N_Y>
{
    fn names() -> impl Iterator<Item = &'static str> {
        [
            "wfa", "wfx", "bf", "wia", "wix", "bi", "wca", "wcx", "bc", "woa", "wox", "bo", "wy",
            "by",
        ]
        .into_iter()
    }
    const LEN: usize = 4 * N_A * (N_A + N_X + 1) + N_Y * (N_A + 1);

    const ZEROS: Self = Self {
        wfa: zero_matrix(),
        wfx: zero_matrix(),
        bf: zero_matrix(),
        wia: zero_matrix(),
        wix: zero_matrix(),
        bi: zero_matrix(),
        wca: zero_matrix(),
        wcx: zero_matrix(),
        bc: zero_matrix(),
        woa: zero_matrix(),
        wox: zero_matrix(),
        bo: zero_matrix(),
        wy: zero_matrix(),
        by: zero_matrix(),
    };

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        [
            self.wfa.as_slice(),
            self.wfx.as_slice(),
            self.bf.as_slice(),
            self.wia.as_slice(),
            self.wix.as_slice(),
            self.bi.as_slice(),
            self.wca.as_slice(),
            self.wcx.as_slice(),
            self.bc.as_slice(),
            self.woa.as_slice(),
            self.wox.as_slice(),
            self.bo.as_slice(),
            self.wy.as_slice(),
            self.by.as_slice(),
        ]
        .into_iter()
    }

    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        [
            self.wfa.as_mut_slice(),
            self.wfx.as_mut_slice(),
            self.bf.as_mut_slice(),
            self.wia.as_mut_slice(),
            self.wix.as_mut_slice(),
            self.bi.as_mut_slice(),
            self.wca.as_mut_slice(),
            self.wcx.as_mut_slice(),
            self.bc.as_mut_slice(),
            self.woa.as_mut_slice(),
            self.wox.as_mut_slice(),
            self.bo.as_mut_slice(),
            self.wy.as_mut_slice(),
            self.by.as_mut_slice(),
        ]
        .into_iter()
    }
}

/// Joins the blocks `[wa | wx]` into one `(N_A, N_C)` matrix; `N_C == N_A + N_X` is checked
/// at compile time.
fn concat<T: Real, const N_X: usize, const N_A: usize, const N_C: usize>(
    wa: &SMatrix<T, N_A, N_A>,
    wx: &SMatrix<T, N_A, N_X>,
) -> SMatrix<T, N_A, N_C> {
    const {
        assert!(
            N_C == N_A + N_X,
            "a gate weight in the seeds' layout has N_A + N_X columns"
        )
    };
    SMatrix::from_fn(|r, c| {
        if c < N_A {
            wa[(r, c)]
        } else {
            wx[(r, c - N_A)]
        }
    })
}

/// Splits one `(N_A, N_C)` matrix into its `a` and `x` blocks; `N_C == N_A + N_X` is checked
/// at compile time.
fn split<T: Real, const N_X: usize, const N_A: usize, const N_C: usize>(
    w: &SMatrix<T, N_A, N_C>,
    wa: &mut SMatrix<T, N_A, N_A>,
    wx: &mut SMatrix<T, N_A, N_X>,
) {
    const {
        assert!(
            N_C == N_A + N_X,
            "a gate weight in the seeds' layout has N_A + N_X columns"
        )
    };
    wa.copy_from(&w.fixed_columns::<N_A>(0));
    wx.copy_from(&w.fixed_columns::<N_X>(N_A));
}

/// The seeds'-layout accessors for one gate: `$get` returns `[$wa | $wx]`, `$set` stores one.
macro_rules! seeds_layout_accessors {
    ($($get:ident, $set:ident, $wa:ident, $wx:ident, $name:literal;)*) => {$(
        #[doc = concat!("The ", $name, " weight in the seeds' layout: one `(N_A, N_C)` matrix `[",
            stringify!($wa), " | ", stringify!($wx), "]`, `a⟨t−1⟩` columns first.")]
        ///
        /// `N_C` must equal `N_A + N_X`; any other value is a compile error (at `cargo build`).
        ///
        /// # Example
        /// ```
        /// use nalgebra::SMatrix;
        /// use tinyrnn::{LstmParams, Params};
        ///
        /// let mut p = LstmParams::<f32, 2, 3, 1>::zeros();
        #[doc = concat!("p.", stringify!($wa), "[(0, 2)] = 1.0;")]
        #[doc = concat!("p.", stringify!($wx), "[(0, 1)] = 2.0;")]
        #[doc = concat!("let w: SMatrix<f32, 3, 5> = p.", stringify!($get), "();")]
        /// assert_eq!((w[(0, 2)], w[(0, 4)]), (1.0, 2.0));
        /// ```
        pub fn $get<const N_C: usize>(&self) -> SMatrix<T, N_A, N_C> {
            concat::<T, N_X, N_A, N_C>(&self.$wa, &self.$wx)
        }

        #[doc = concat!("Stores the ", $name, " weight from the seeds' layout: one `(N_A, N_C)` ",
            "matrix, `a⟨t−1⟩` columns first, split into `", stringify!($wa), "` and `",
            stringify!($wx), "`.")]
        ///
        /// `N_C` must equal `N_A + N_X`; any other value is a compile error (at `cargo build`).
        ///
        /// # Example
        /// ```
        /// use nalgebra::SMatrix;
        /// use tinyrnn::{LstmParams, Params};
        ///
        /// let mut p = LstmParams::<f64, 2, 3, 1>::zeros();
        /// let w = SMatrix::<f64, 3, 5>::from_fn(|r, c| (10 * r + c) as f64);
        #[doc = concat!("p.", stringify!($set), "(&w);")]
        #[doc = concat!("assert_eq!(p.", stringify!($wa), "[(2, 1)], 21.0);")]
        #[doc = concat!("assert_eq!(p.", stringify!($wx), "[(2, 1)], 24.0);")]
        /// ```
        pub fn $set<const N_C: usize>(&mut self, w: &SMatrix<T, N_A, N_C>) {
            split::<T, N_X, N_A, N_C>(w, &mut self.$wa, &mut self.$wx);
        }
    )*};
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> LstmParams<T, N_X, N_A, N_Y> {
    seeds_layout_accessors! {
        wf, set_wf, wfa, wfx, "forget gate";
        wi, set_wi, wia, wix, "update gate";
        wc, set_wc, wca, wcx, "candidate";
        wo, set_wo, woa, wox, "output gate";
    }

    /// Freshly initialised parameters: weights by `init.weights` (Glorot uniform by default,
    /// each gate's `a` and `x` blocks drawn as `(N_A, N_A)` and `(N_A, N_X)` matrices), the
    /// forget-gate bias `bf` at `init.forget_bias` (1 by default), other biases zero.
    /// Reproducible from the generator's seed.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Rng};
    /// use tinyrnn::LstmParams;
    ///
    /// let p = LstmParams::<f32, 6, 32, 4>::init(&Init::default(), &mut Rng::new(0));
    /// let limit = (6.0_f32 / 38.0).sqrt(); // Glorot, Wfx is 32 × 6
    /// assert!(p.wfx.iter().all(|v| v.abs() <= limit));
    /// assert_eq!((p.bf[0], p.bi[0]), (1.0, 0.0));
    /// ```
    pub fn init(init: &Init, rng: &mut Rng) -> Self {
        let mut p = Self::ZEROS;
        p.init_into(init, rng);
        p
    }

    /// The same model as a composition of layers, `Model<Lstm, Dense>` (the cell's weights,
    /// and `Wy`, `by` as the output layer): what `Workspace`, `Stream`, the importers and
    /// [`quant::quantize`](crate::quant::quantize) take. Its logits are this model's
    /// `Wy·a⟨t⟩ + by` bit for bit (`tests/layers.rs`); the softmax is the loss's.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::init::{Init, Rng};
    /// use tinyrnn::{quant, LstmParams};
    ///
    /// let p = LstmParams::<f32, 2, 8, 3>::init(&Init::default(), &mut Rng::new(4));
    /// let net = p.to_model();
    /// assert_eq!((net.lower.wcx, net.upper.w), (p.wcx, p.wy));
    /// let q = quant::quantize(&net, &[[SVector::from([0.5_f32, -1.0]); 6]])?;
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub const fn to_model(
        &self,
    ) -> crate::Model<crate::Lstm<T, N_X, N_A>, crate::Dense<T, N_A, N_Y>> {
        crate::Stack {
            lower: crate::Lstm {
                wfa: self.wfa,
                wfx: self.wfx,
                bf: self.bf,
                wia: self.wia,
                wix: self.wix,
                bi: self.bi,
                wca: self.wca,
                wcx: self.wcx,
                bc: self.bc,
                woa: self.woa,
                wox: self.wox,
                bo: self.bo,
            },
            upper: crate::Dense {
                w: self.wy,
                b: self.by,
                activation: core::marker::PhantomData,
            },
        }
    }

    /// [`LstmParams::init`] in place: overwrites every parameter with exactly the values
    /// `init` returns for the same recipe and generator state, without a copy on the stack
    /// (a device can initialise a `static` model).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Rng};
    /// use tinyrnn::{LstmParams, Params};
    ///
    /// let mut p = LstmParams::<f32, 6, 32, 4>::zeros();
    /// p.by.fill(7.0); // whatever was there is overwritten
    /// p.init_into(&Init::default(), &mut Rng::new(0));
    /// assert_eq!(p, LstmParams::init(&Init::default(), &mut Rng::new(0)));
    /// ```
    pub fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fill_zero();
        init_gates(self, init, rng);
        init.fill(&mut self.wy, N_A, rng);
    }

    /// Builds the parameters from the seeds' layout as flat row-major slices (numpy's
    /// `W.ravel()`, each gate weight `(N_A, N_A + N_X)` with the `a⟨t−1⟩` columns first).
    /// Rejects a slice of the wrong length or holding a NaN or infinity.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{Error, LstmParams, lstm::LstmSlices};
    ///
    /// // N_X = 1, N_A = 2, N_Y = 1: each gate weight is (2, 3).
    /// let wf = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// let (w, b) = ([0.0; 6], [0.0; 2]);
    /// let s = LstmSlices { wf: &wf, bf: &b, wi: &w, bi: &b, wc: &w, bc: &b, wo: &w, bo: &b,
    ///                      wy: &[0.0; 2], by: &[0.0] };
    /// let p = LstmParams::<f64, 1, 2, 1>::from_row_major(&s)?;
    /// assert_eq!(p.wfa[(1, 1)], 5.0);
    /// assert_eq!(p.wfx[(1, 0)], 6.0);
    ///
    /// let nan = [f64::NAN; 2];
    /// assert_eq!(
    ///     LstmParams::<f64, 1, 2, 1>::from_row_major(&LstmSlices { bo: &nan, ..s }),
    ///     Err(Error::NonFinite { what: "bo", index: 0 })
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_row_major(s: &LstmSlices<'_, T>) -> Result<Self, Error> {
        let mut p = Self::zeros();
        for (what, w, wa, wx) in [
            ("wf", s.wf, &mut p.wfa, &mut p.wfx),
            ("wi", s.wi, &mut p.wia, &mut p.wix),
            ("wc", s.wc, &mut p.wca, &mut p.wcx),
            ("wo", s.wo, &mut p.woa, &mut p.wox),
        ] {
            check_len(what, N_A * (N_A + N_X), w.len())?;
            crate::params::check_finite_slice(what, w)?;
            // Row r of the gate weight: N_A entries of `wa`'s row r, then N_X of `wx`'s.
            let rows = wa.row_iter_mut().zip(wx.row_iter_mut());
            for ((mut ra, mut rx), wr) in rows.zip(w.chunks_exact((N_A + N_X).max(1))) {
                for (d, &v) in ra.iter_mut().zip(wr) {
                    *d = v;
                }
                for (d, &v) in rx.iter_mut().zip(wr.iter().skip(N_A)) {
                    *d = v;
                }
            }
        }
        p.bf = matrix_from_row_major("bf", s.bf)?;
        p.bi = matrix_from_row_major("bi", s.bi)?;
        p.bc = matrix_from_row_major("bc", s.bc)?;
        p.bo = matrix_from_row_major("bo", s.bo)?;
        p.wy = matrix_from_row_major("wy", s.wy)?;
        p.by = matrix_from_row_major("by", s.by)?;
        Ok(p)
    }

    /// One forward step (the seeds' `lstm_cell_forward`); see the [module docs](self) for
    /// the equations.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, Params};
    ///
    /// let mut p = LstmParams::<f64, 1, 1, 1>::zeros();
    /// p.wcx[0] = 1.0; // c̃ = tanh(x)
    /// let x = SMatrix::<f64, 1, 1>::new(0.5);
    /// let out = p.cell_forward(&x, &SMatrix::zeros(), &SMatrix::zeros());
    /// let c = 0.5 * 0.5_f64.tanh(); // Γi = σ(0) = 0.5
    /// assert!((out.c_next[0] - c).abs() < 1e-16);
    /// assert!((out.a_next[0] - 0.5 * c.tanh()).abs() < 1e-16);
    /// assert_eq!(out.y_pred[0], 1.0); // one class
    /// ```
    pub fn cell_forward<const M: usize>(
        &self,
        xt: &SMatrix<T, N_X, M>,
        a_prev: &SMatrix<T, N_A, M>,
        c_prev: &SMatrix<T, N_A, M>,
    ) -> LstmCellForward<T, N_X, N_A, N_Y, M> {
        let mut out = LstmCellForward {
            a_next: SMatrix::zeros(),
            c_next: SMatrix::zeros(),
            y_pred: SMatrix::zeros(),
            cache: LstmCache {
                xt: *xt,
                a_prev: *a_prev,
                c_prev: *c_prev,
                gates: LstmGates::zeros(),
            },
        };
        step_forward(
            &self.gates(),
            xt,
            a_prev,
            c_prev,
            StepOut {
                gates: &mut out.cache.gates,
                a_next: &mut out.a_next,
                c_next: &mut out.c_next,
            },
        );
        self.predict_into(&out.a_next, &mut out.y_pred);
        out
    }

    /// One backward step (the seeds' `lstm_cell_backward`) from `da_next = ∂J/∂a⟨t⟩` and
    /// `dc_next = ∂J/∂c⟨t⟩`; see the [module docs](self) for the equations.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, Params};
    ///
    /// let mut p = LstmParams::<f64, 1, 1, 1>::zeros();
    /// p.bo[0] = 1.0;
    /// let c_prev = SMatrix::<f64, 1, 1>::new(2.0);
    /// let step = p.cell_forward(&SMatrix::zeros(), &SMatrix::zeros(), &c_prev);
    /// let g = p.cell_backward(&SMatrix::<f64, 1, 1>::new(1.0), &SMatrix::zeros(), &step.cache);
    /// // dc = Γo (1 − tanh²c), dc_prev = dc Γf
    /// let (o, tc) = (step.cache.gates.o[0], step.cache.gates.tanh_c[0]);
    /// assert!((g.dc_prev[0] - o * (1.0 - tc * tc) * 0.5).abs() < 1e-16);
    /// // dbo = tanh(c) Γo (1 − Γo)
    /// assert!((g.dparams.bo[0] - tc * o * (1.0 - o)).abs() < 1e-16);
    /// ```
    pub fn cell_backward<const M: usize>(
        &self,
        da_next: &SMatrix<T, N_A, M>,
        dc_next: &SMatrix<T, N_A, M>,
        cache: &LstmCache<T, N_X, N_A, M>,
    ) -> LstmCellGrads<T, N_X, N_A, N_Y, M> {
        let mut g = LstmCellGrads {
            dxt: SMatrix::zeros(),
            da_prev: SMatrix::zeros(),
            dc_prev: SMatrix::zeros(),
            dparams: Self::zeros(),
        };
        let mut dz = [SMatrix::zeros(); 4];
        step_backward(
            &self.gates(),
            da_next,
            dc_next,
            StepRef {
                c_prev: &cache.c_prev,
                gates: &cache.gates,
            },
            &mut dz,
            StepGrads {
                dxt: &mut g.dxt,
                da_prev: &mut g.da_prev,
                dc_prev: &mut g.dc_prev,
            },
        );
        acc_gate_grads(g.dparams.gates_mut(), &dz, &cache.a_prev, &cache.xt);
        g
    }

    /// The forward pass over a whole sequence with `c⟨0⟩ = 0` (the seeds' `lstm_forward`),
    /// returned by value. See [`LstmParams::forward_with_c0`] for a given `c⟨0⟩` and
    /// [`LstmParams::forward_into`] for storage you own.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, Params};
    ///
    /// let mut p = LstmParams::<f64, 3, 5, 2>::zeros();
    /// p.bc.fill(0.3);
    /// let x = [SMatrix::<f64, 3, 10>::zeros(); 7];
    /// let tape = p.forward(&x, &SMatrix::zeros());
    /// // Step by step, the same as calling the cell seven times from c = 0.
    /// let (mut a, mut c) = (SMatrix::zeros(), SMatrix::zeros());
    /// for t in 0..7 {
    ///     let step = p.cell_forward(&x[t], &a, &c);
    ///     (a, c) = (step.a_next, step.c_next);
    ///     assert_eq!((tape.a[t], tape.c[t]), (a, c));
    /// }
    /// ```
    pub fn forward<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
    ) -> LstmTape<T, N_X, N_A, N_Y, M, T_X> {
        self.forward_with_c0(x, a0, &SMatrix::zeros())
    }

    /// The forward pass over a whole sequence from a given cell state `c⟨0⟩`, returned by
    /// value.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, Params};
    ///
    /// let p = LstmParams::<f32, 3, 5, 2>::zeros();
    /// let c0 = SMatrix::<f32, 5, 1>::repeat(1.0);
    /// let tape = p.forward_with_c0(&[SMatrix::zeros(); 2], &SMatrix::zeros(), &c0);
    /// assert_eq!(tape.c[1], c0 * 0.25); // Γf = 0.5 twice, nothing added
    /// ```
    pub fn forward_with_c0<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
        c0: &SMatrix<T, N_A, M>,
    ) -> LstmTape<T, N_X, N_A, N_Y, M, T_X> {
        let mut tape = LstmTape::zeros();
        self.forward_into(x, a0, c0, &mut tape);
        tape
    }

    /// The forward pass over a whole sequence into a tape the caller owns (a `static`, a
    /// buffer reused across batches). Overwrites every field of `tape`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, LstmTape, Params};
    ///
    /// let p = LstmParams::<f32, 3, 5, 2>::zeros();
    /// let mut tape = LstmTape::<f32, 3, 5, 2, 1, 50>::zeros();
    /// let x = [SMatrix::<f32, 3, 1>::repeat(0.1); 50];
    /// p.forward_into(&x, &SMatrix::zeros(), &SMatrix::zeros(), &mut tape);
    /// assert_eq!(tape.x, x);
    /// assert_eq!(tape.y_pred[49][(1, 0)], 0.5);
    /// ```
    pub fn forward_into<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
        c0: &SMatrix<T, N_A, M>,
        tape: &mut LstmTape<T, N_X, N_A, N_Y, M, T_X>,
    ) {
        self.forward_hidden_into(x, a0, c0, tape);
        for (a, y) in tape.a.iter().zip(&mut tape.y_pred) {
            self.predict_into(a, y);
        }
    }

    /// The recurrence alone: fills every field of `tape` except `tape.y_pred`, which is left
    /// as it was. For training with another output head or a loss at some steps only (see
    /// [`crate::train`]), and for inference that reads only the hidden states.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, LstmTape, Params};
    ///
    /// let mut p = LstmParams::<f32, 3, 5, 2>::zeros();
    /// p.bc.fill(0.2);
    /// let x = [SMatrix::<f32, 3, 1>::zeros(); 6];
    /// let mut tape = LstmTape::zeros();
    /// p.forward_hidden_into(&x, &SMatrix::zeros(), &SMatrix::zeros(), &mut tape);
    /// assert_eq!(tape.c, p.forward(&x, &SMatrix::zeros()).c);
    /// assert_eq!(tape.y_pred[5], SMatrix::<f32, 2, 1>::zeros()); // untouched
    /// ```
    pub fn forward_hidden_into<const M: usize, const T_X: usize>(
        &self,
        x: &[SMatrix<T, N_X, M>; T_X],
        a0: &SMatrix<T, N_A, M>,
        c0: &SMatrix<T, N_A, M>,
        tape: &mut LstmTape<T, N_X, N_A, N_Y, M, T_X>,
    ) {
        tape.x = *x;
        tape.a0 = *a0;
        tape.c0 = *c0;
        forward_seq(self, x, a0, c0, &mut tape.a, &mut tape.c, &mut tape.gates);
    }

    /// Backpropagation through time over a whole sequence (the seeds' `lstm_backward`, with
    /// `da_prev` and `dc_prev` carried between steps), returned by value. `da[t]` is
    /// `∂J/∂a⟨t⟩` from outside the recurrence; the tape must come from the forward pass of
    /// the same parameters.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmParams, Params};
    ///
    /// let p = LstmParams::<f64, 3, 5, 2>::zeros();
    /// let c0 = SMatrix::<f64, 5, 1>::repeat(1.0);
    /// let tape = p.forward_with_c0(&[SMatrix::zeros(); 3], &SMatrix::zeros(), &c0);
    /// let mut da = [SMatrix::<f64, 5, 1>::zeros(); 3];
    /// da[2].fill(1.0);
    /// let g = p.backward(&da, &tape);
    /// // The gradient reaches c0 through three forget gates (Γf = 0.5 each).
    /// let (o, tc) = (tape.gates[2].o[0], tape.gates[2].tanh_c[0]);
    /// assert!((g.dc0[0] - o * (1.0 - tc * tc) * 0.125).abs() < 1e-16);
    /// ```
    pub fn backward<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &LstmTape<T, N_X, N_A, N_Y, M, T_X>,
    ) -> LstmGrads<T, N_X, N_A, N_Y, M, T_X> {
        let mut grads = LstmGrads::zeros();
        self.backward_into(da, tape, &mut grads);
        grads
    }

    /// Backpropagation through time into gradients the caller owns.
    ///
    /// Overwrites `grads.dx`, `grads.da0` and `grads.dc0`, and **adds** the parameter
    /// gradients to `grads.dparams`, so several sequences accumulate; call
    /// [`Params::fill_zero`] on `grads.dparams` to start afresh.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::{LstmGrads, LstmParams, Params};
    ///
    /// let mut p = LstmParams::<f64, 2, 3, 1>::zeros();
    /// p.wcx.fill(0.5);
    /// let tape = p.forward(&[SMatrix::<f64, 2, 1>::repeat(1.0); 2], &SMatrix::zeros());
    /// let da = [SMatrix::<f64, 3, 1>::repeat(1.0); 2];
    /// let mut g = LstmGrads::zeros();
    /// p.backward_into(&da, &tape, &mut g);
    /// let once = g.dparams;
    /// p.backward_into(&da, &tape, &mut g);
    /// assert_eq!(g.dparams.wcx, once.wcx * 2.0); // accumulated
    /// ```
    pub fn backward_into<const M: usize, const T_X: usize>(
        &self,
        da: &[SMatrix<T, N_A, M>; T_X],
        tape: &LstmTape<T, N_X, N_A, N_Y, M, T_X>,
        grads: &mut LstmGrads<T, N_X, N_A, N_Y, M, T_X>,
    ) {
        let seq = SeqRef {
            x: &tape.x,
            a0: &tape.a0,
            c0: &tape.c0,
            a: &tape.a,
            c: &tape.c,
            gates: &tape.gates,
        };
        let d0 = StateGrads {
            da0: &mut grads.da0,
            dc0: &mut grads.dc0,
        };
        backward_seq(self, seq, da, &mut grads.dparams, &mut grads.dx, d0);
    }

    /// `y = softmax(Wy·a + by)`.
    #[inline]
    fn predict_into<const M: usize>(&self, a: &SMatrix<T, N_A, M>, y: &mut SMatrix<T, N_Y, M>) {
        kernel::head(y, &self.wy, a, &self.by);
        softmax_columns_in_place(y);
    }
}

/// One gate's weights `(Wga, Wgx, bg)`, borrowed.
struct Gate<'a, T, const N_X: usize, const N_A: usize> {
    wa: &'a SMatrix<T, N_A, N_A>,
    wx: &'a SMatrix<T, N_A, N_X>,
    b: &'a SVector<T, N_A>,
}

/// One gate's weight gradients, borrowed.
struct GateMut<'a, T, const N_X: usize, const N_A: usize> {
    wa: &'a mut SMatrix<T, N_A, N_A>,
    wx: &'a mut SMatrix<T, N_A, N_X>,
    b: &'a mut SVector<T, N_A>,
}

/// A type holding the four gates' weights under the notebook's names: [`Lstm`] and
/// [`LstmParams`]. The math below is written once against it.
trait Gates<T, const N_X: usize, const N_A: usize> {
    /// The gates in the order f, i, c, o.
    fn gates(&self) -> [Gate<'_, T, N_X, N_A>; 4];
    /// The gates in the order f, i, c, o, mutably.
    fn gates_mut(&mut self) -> [GateMut<'_, T, N_X, N_A>; 4];
}

macro_rules! impl_gates {
    ($ty:ident<$($gen:ident),*> where $($bounds:tt)*) => {
        impl<T, $($bounds)*> Gates<T, N_X, N_A> for $ty<$($gen),*> {
            #[inline]
            fn gates(&self) -> [Gate<'_, T, N_X, N_A>; 4] {
                [
                    Gate { wa: &self.wfa, wx: &self.wfx, b: &self.bf },
                    Gate { wa: &self.wia, wx: &self.wix, b: &self.bi },
                    Gate { wa: &self.wca, wx: &self.wcx, b: &self.bc },
                    Gate { wa: &self.woa, wx: &self.wox, b: &self.bo },
                ]
            }
            #[inline]
            fn gates_mut(&mut self) -> [GateMut<'_, T, N_X, N_A>; 4] {
                [
                    GateMut { wa: &mut self.wfa, wx: &mut self.wfx, b: &mut self.bf },
                    GateMut { wa: &mut self.wia, wx: &mut self.wix, b: &mut self.bi },
                    GateMut { wa: &mut self.wca, wx: &mut self.wcx, b: &mut self.bc },
                    GateMut { wa: &mut self.woa, wx: &mut self.wox, b: &mut self.bo },
                ]
            }
        }
    };
}
impl_gates!(LstmParams<T, N_X, N_A, N_Y> where const N_X: usize, const N_A: usize, const N_Y: usize);
impl_gates!(Lstm<T, N_X, N_A> where const N_X: usize, const N_A: usize);

/// One step: gates, `c_next`, `a_next`, written into `out`.
#[inline]
fn step_forward<T: Real, const N_X: usize, const N_A: usize, const M: usize>(
    w: &[Gate<'_, T, N_X, N_A>; 4],
    xt: &SMatrix<T, N_X, M>,
    a_prev: &SMatrix<T, N_A, M>,
    c_prev: &SMatrix<T, N_A, M>,
    out: StepOut<'_, T, N_A, M>,
) {
    let g = &mut *out.gates;
    for (z, p) in [&mut g.f, &mut g.i, &mut g.cc, &mut g.o].into_iter().zip(w) {
        kernel::head(z, p.wx, xt, p.b);
    }
    step_recurrent(w, a_prev, c_prev, out);
}

/// The input projections `b + Wx·x⟨t⟩` of every step into the gates' storage, ahead of the
/// recurrence: four steps per pass over each `Wx` ([`kernel::head_steps`]), bit-identical to
/// projecting step by step.
#[inline]
fn project_inputs<T: Real, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>(
    w: &[Gate<'_, T, N_X, N_A>; 4],
    x: &[SMatrix<T, N_X, M>; T_X],
    gates: &mut [LstmGates<T, N_A, M>; T_X],
) {
    let mut gc = gates.chunks_exact_mut(4);
    let mut xc = x.chunks_exact(4);
    for (g4, x4) in (&mut gc).zip(&mut xc) {
        if let ([g0, g1, g2, g3], [x0, x1, x2, x3]) = (g4, x4) {
            let xs = [x0, x1, x2, x3];
            kernel::head_steps(
                [&mut g0.f, &mut g1.f, &mut g2.f, &mut g3.f],
                w[0].wx,
                xs,
                w[0].b,
            );
            kernel::head_steps(
                [&mut g0.i, &mut g1.i, &mut g2.i, &mut g3.i],
                w[1].wx,
                xs,
                w[1].b,
            );
            kernel::head_steps(
                [&mut g0.cc, &mut g1.cc, &mut g2.cc, &mut g3.cc],
                w[2].wx,
                xs,
                w[2].b,
            );
            kernel::head_steps(
                [&mut g0.o, &mut g1.o, &mut g2.o, &mut g3.o],
                w[3].wx,
                xs,
                w[3].b,
            );
        }
    }
    for (g, xt) in gc.into_remainder().iter_mut().zip(xc.remainder()) {
        for (z, p) in [&mut g.f, &mut g.i, &mut g.cc, &mut g.o].into_iter().zip(w) {
            kernel::head(z, p.wx, xt, p.b);
        }
    }
}

/// The rest of a step once `out.gates` holds the input projections: adds `Wa·a_prev` to each
/// gate, applies the activations, and writes `c_next` and `a_next`.
#[inline]
fn step_recurrent<T: Real, const N_X: usize, const N_A: usize, const M: usize>(
    w: &[Gate<'_, T, N_X, N_A>; 4],
    a_prev: &SMatrix<T, N_A, M>,
    c_prev: &SMatrix<T, N_A, M>,
    out: StepOut<'_, T, N_A, M>,
) {
    let g = out.gates;
    let [pf, pi, pc, po] = w;
    kernel::gemm_acc(&mut g.f, pf.wa, a_prev);
    kernel::gemm_acc(&mut g.i, pi.wa, a_prev);
    kernel::gemm_acc(&mut g.cc, pc.wa, a_prev);
    kernel::gemm_acc(&mut g.o, po.wa, a_prev);
    sigmoid_in_place(&mut g.f);
    sigmoid_in_place(&mut g.i);
    tanh_in_place(&mut g.cc);
    sigmoid_in_place(&mut g.o);
    // Flat slices: nalgebra's matrix iterators track rows and columns and do not vectorise.
    let gates =
        g.f.as_slice()
            .iter()
            .zip(g.i.as_slice())
            .zip(g.cc.as_slice());
    let c_next = out.c_next.as_mut_slice().iter_mut().zip(c_prev.as_slice());
    for ((c, &cp), ((&f, &i), &cc)) in c_next.zip(gates) {
        *c = f * cp + i * cc;
    }
    g.tanh_c.copy_from(out.c_next);
    tanh_in_place(&mut g.tanh_c);
    let a_next = out.a_next.as_mut_slice().iter_mut();
    for ((a, &o), &tc) in a_next.zip(g.o.as_slice()).zip(g.tanh_c.as_slice()) {
        *a = o * tc;
    }
}

/// One backward step: writes the gates' pre-activation gradients into `dz` (the weight
/// gradients are the caller's: [`acc_gate_grads`] now, or deferred), accumulates into
/// `out.dxt` / `out.da_prev`, and overwrites `out.dc_prev`.
#[inline]
fn step_backward<T: Real, const N_X: usize, const N_A: usize, const M: usize>(
    w: &[Gate<'_, T, N_X, N_A>; 4],
    da_next: &SMatrix<T, N_A, M>,
    dc_next: &SMatrix<T, N_A, M>,
    step: StepRef<'_, T, N_A, M>,
    dz: &mut [SMatrix<T, N_A, M>; 4],
    out: StepGrads<'_, T, N_X, N_A, M>,
) {
    let g = step.gates;
    let [dzf, dzi, dzc, dzo] = dz;
    let (dzf, dzi, dzc, dzo) = (
        dzf.as_mut_slice(),
        dzi.as_mut_slice(),
        dzc.as_mut_slice(),
        dzo.as_mut_slice(),
    );
    let (f, i, cc, o, tc) = (
        g.f.as_slice(),
        g.i.as_slice(),
        g.cc.as_slice(),
        g.o.as_slice(),
        g.tanh_c.as_slice(),
    );
    let (dcn, dan, cp) = (
        dc_next.as_slice(),
        da_next.as_slice(),
        step.c_prev.as_slice(),
    );
    let dcp = out.dc_prev.as_mut_slice();
    // Element by element over equal-length slices, zipped (they compile to indexed loads).
    let gates = f.iter().zip(i).zip(cc).zip(o).zip(tc);
    let inputs = dcn.iter().zip(dan).zip(cp);
    let dzs = dzf.iter_mut().zip(dzi).zip(dzc).zip(dzo);
    for ((((((&f, &i), &cc), &o), &tc), ((&dcn, &dan), &cp)), ((((dzf, dzi), dzc), dzo), dcp)) in
        gates.zip(inputs).zip(dzs.zip(dcp))
    {
        let dc = dcn + dan * o * tanh_grad_from_output(tc);
        *dzf = dc * cp * sigmoid_grad_from_output(f);
        *dzi = dc * cc * sigmoid_grad_from_output(i);
        *dzc = dc * i * tanh_grad_from_output(cc);
        *dzo = dan * tc * sigmoid_grad_from_output(o);
        *dcp = dc * f;
    }
    // The four gates read the same a_prev and x: one dot product of length 4·N_A per element.
    let dz = [&dz[0], &dz[1], &dz[2], &dz[3]];
    kernel::acc_tr_mul_gates(&mut *out.da_prev, [w[0].wa, w[1].wa, w[2].wa, w[3].wa], dz);
    kernel::acc_tr_mul_gates(&mut *out.dxt, [w[0].wx, w[1].wx, w[2].wx, w[3].wx], dz);
}

/// `dW_g += dz_g·[a_prev; x]ᵀ`, `db_g += dz_g·1` for the four gates.
#[inline]
fn acc_gate_grads<T: Real, const N_X: usize, const N_A: usize, const M: usize>(
    dw: [GateMut<'_, T, N_X, N_A>; 4],
    dz: &[SMatrix<T, N_A, M>; 4],
    a_prev: &SMatrix<T, N_A, M>,
    xt: &SMatrix<T, N_X, M>,
) {
    for (dw, dz) in dw.into_iter().zip(dz) {
        kernel::acc_param_grads(dw.wa, dw.wx, dw.b, dz, a_prev, xt);
    }
}

/// A recorded sequence, borrowed from an [`LstmTape`] or an [`LstmSeqTape`] (with its input).
struct SeqRef<'a, T, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize> {
    x: &'a [SMatrix<T, N_X, M>; T_X],
    a0: &'a SMatrix<T, N_A, M>,
    c0: &'a SMatrix<T, N_A, M>,
    a: &'a [SMatrix<T, N_A, M>; T_X],
    c: &'a [SMatrix<T, N_A, M>; T_X],
    gates: &'a [LstmGates<T, N_A, M>; T_X],
}

/// Where a sequence backward pass writes `∂J/∂a⟨0⟩` and `∂J/∂c⟨0⟩`.
struct StateGrads<'a, T, const N_A: usize, const M: usize> {
    da0: &'a mut SMatrix<T, N_A, M>,
    dc0: &'a mut SMatrix<T, N_A, M>,
}

/// The forward loop: fills `a`, `c` and `gates` from `a0`, `c0`.
fn forward_seq<T: Real, const N_X: usize, const N_A: usize, const M: usize, const T_X: usize>(
    p: &impl Gates<T, N_X, N_A>,
    x: &[SMatrix<T, N_X, M>; T_X],
    a0: &SMatrix<T, N_A, M>,
    c0: &SMatrix<T, N_A, M>,
    a: &mut [SMatrix<T, N_A, M>; T_X],
    c: &mut [SMatrix<T, N_A, M>; T_X],
    gates: &mut [LstmGates<T, N_A, M>; T_X],
) {
    let w = p.gates();
    project_inputs(&w, x, gates);
    let (mut a_prev, mut c_prev) = (*a0, *c0);
    let states = a.iter_mut().zip(c.iter_mut());
    for ((a, c), gates) in states.zip(gates.iter_mut()) {
        let out = StepOut {
            gates,
            a_next: a,
            c_next: c,
        };
        step_recurrent(&w, &a_prev, &c_prev, out);
        (a_prev, c_prev) = (*a, *c);
    }
}

/// The backward loop: going backwards, step `t` receives `da[t] + da_prev(t+1)` and
/// `dc_prev(t+1)`. Adds into `dparams`; overwrites `dx`, `da0`, `dc0`.
fn backward_seq<
    T: Real,
    P: Gates<T, N_X, N_A>,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
>(
    p: &P,
    seq: SeqRef<'_, T, N_X, N_A, M, T_X>,
    da: &[SMatrix<T, N_A, M>; T_X],
    dparams: &mut P,
    dx: &mut [SMatrix<T, N_X, M>; T_X],
    d0: StateGrads<'_, T, N_A, M>,
) {
    // At batch size one the weight gradients are deferred over up to eight steps (one
    // register-tiled rank-8 update instead of eight rank-1 passes over every dW); the sums run
    // in the same order, so the bits are those of updating after every step. Other batch sizes
    // update after every step, and carry no buffer (it would cost stack for nothing).
    if M == 1 {
        backward_loop::<T, P, N_X, N_A, M, T_X, 8>(p, seq, da, dparams, dx, d0);
    } else {
        backward_loop::<T, P, N_X, N_A, M, T_X, 0>(p, seq, da, dparams, dx, d0);
    }
}

/// [`backward_seq`] with a weight-gradient buffer of `K` steps (`K = 0`: none).
fn backward_loop<
    T: Real,
    P: Gates<T, N_X, N_A>,
    const N_X: usize,
    const N_A: usize,
    const M: usize,
    const T_X: usize,
    const K: usize,
>(
    p: &P,
    seq: SeqRef<'_, T, N_X, N_A, M, T_X>,
    da: &[SMatrix<T, N_A, M>; T_X],
    dparams: &mut P,
    dx: &mut [SMatrix<T, N_X, M>; T_X],
    d0: StateGrads<'_, T, N_A, M>,
) {
    let w = p.gates();
    let mut dz = [SMatrix::<T, N_A, M>::zeros(); 4];
    let mut buffer = kernel::GradBuffer::<T, 4, N_A, N_A, N_X, K>::new();
    let mut da_next = SMatrix::<T, N_A, M>::zeros();
    let mut dc_next = SMatrix::<T, N_A, M>::zeros();
    // Indexed by t < T_X, the arrays' length (t − 1 only when t > 0): the compiler drops the
    // checks, and the code is that of zipped iterators (callgrind: the same instruction
    // count). Those, or `get`, change this function's layout, though, and ran 5-6% slower
    // (N_A = 64, N_X = 32, M = 32, f32 forward + backward and training step, x86-64).
    #[allow(clippy::indexing_slicing)]
    for t in (0..T_X).rev() {
        let upstream = da[t] + da_next;
        let (a_prev, c_prev) = if t == 0 {
            (seq.a0, seq.c0)
        } else {
            (&seq.a[t - 1], &seq.c[t - 1])
        };
        let dc_in = dc_next;
        dx[t].fill(T::zero());
        da_next.fill(T::zero());
        let step = StepRef {
            c_prev,
            gates: &seq.gates[t],
        };
        let out = StepGrads {
            dxt: &mut dx[t],
            da_prev: &mut da_next,
            dc_prev: &mut dc_next,
        };
        step_backward(&w, &upstream, &dc_in, step, &mut dz, out);
        if K > 0 && M == 1 {
            let dzs = [&dz[0], &dz[1], &dz[2], &dz[3]].map(|d| d.as_slice());
            let (a, x) = (a_prev.as_slice(), seq.x[t].as_slice());
            buffer.push(dzs, a, x, gate_grads(dparams));
        } else {
            acc_gate_grads(dparams.gates_mut(), &dz, a_prev, &seq.x[t]);
        }
    }
    if K > 0 {
        buffer.flush(gate_grads(dparams));
    }
    *d0.da0 = da_next;
    *d0.dc0 = dc_next;
}

/// The four gates' weight gradients as the tuples [`kernel::GradBuffer`] takes.
#[inline]
fn gate_grads<T, P: Gates<T, N_X, N_A>, const N_X: usize, const N_A: usize>(
    p: &mut P,
) -> [kernel::GateGradsMut<'_, T, N_A, N_A, N_X>; 4] {
    p.gates_mut().map(|g| (g.wa, g.wx, g.b))
}

/// What one backward step reads of its forward step, borrowed from an [`LstmCache`] or an
/// [`LstmTape`].
#[derive(Clone, Copy)]
struct StepRef<'a, T, const N_A: usize, const M: usize> {
    c_prev: &'a SMatrix<T, N_A, M>,
    gates: &'a LstmGates<T, N_A, M>,
}

/// Where one forward step writes.
struct StepOut<'a, T, const N_A: usize, const M: usize> {
    gates: &'a mut LstmGates<T, N_A, M>,
    a_next: &'a mut SMatrix<T, N_A, M>,
    c_next: &'a mut SMatrix<T, N_A, M>,
}

/// Where one backward step writes its input gradients.
struct StepGrads<'a, T, const N_X: usize, const N_A: usize, const M: usize> {
    dxt: &'a mut SMatrix<T, N_X, M>,
    da_prev: &'a mut SMatrix<T, N_A, M>,
    dc_prev: &'a mut SMatrix<T, N_A, M>,
}

impl<T: Real, const N_A: usize, const M: usize> LstmGates<T, N_A, M> {
    /// All-zero activations.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::lstm::LstmGates;
    /// assert_eq!(LstmGates::<f32, 4, 2>::zeros().o.sum(), 0.0);
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero value, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        f: zero_matrix(),
        i: zero_matrix(),
        cc: zero_matrix(),
        o: zero_matrix(),
        tanh_c: zero_matrix(),
    };
}

impl<
        T: Real,
        const N_X: usize,
        const N_A: usize,
        const N_Y: usize,
        const M: usize,
        const T_X: usize,
    > LstmTape<T, N_X, N_A, N_Y, M, T_X>
{
    /// A tape of zeros, to be filled by [`LstmParams::forward_into`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::LstmTape;
    /// let tape = LstmTape::<f64, 3, 5, 2, 10, 7>::zeros();
    /// assert!(tape.c.iter().all(|c| c.iter().all(|&v| v == 0.0)));
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero value, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        x: [zero_matrix(); T_X],
        a0: zero_matrix(),
        c0: zero_matrix(),
        a: [zero_matrix(); T_X],
        c: [zero_matrix(); T_X],
        gates: [LstmGates::ZEROS; T_X],
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
    > LstmGrads<T, N_X, N_A, N_Y, M, T_X>
{
    /// All-zero gradients, to be filled by [`LstmParams::backward_into`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::LstmGrads;
    /// let g = LstmGrads::<f32, 3, 5, 2, 1, 6>::zeros();
    /// assert_eq!(g.da0.sum(), 0.0);
    /// ```
    pub fn zeros() -> Self {
        Self::ZEROS
    }

    /// The all-zero value, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        dx: [zero_matrix(); T_X],
        da0: zero_matrix(),
        dc0: zero_matrix(),
        dparams: LstmParams::ZEROS,
    };
}

/// An LSTM layer, without an output layer: the recurrence of [`LstmParams`] (see the
/// [module docs](self) for every equation) as a [`Layer`] whose state is
/// [`LstmState`] `(a, c)` and whose output is `a⟨t⟩`.
///
/// The fields have the notebook's names and the same per-gate blocks as [`LstmParams`].
///
/// # Generics
/// `T`: scalar; `N_X`: input features; `N_A`: hidden units (the output size).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{lstm::LstmState, params::Zeroed, Lstm, Params, Real, Step};
///
/// let mut lstm = Lstm::<f32, 1, 4>::zeros();
/// lstm.wcx.fill(1.0);
/// let mut s = LstmState::<f32, 4, 1>::ZEROS;
/// let mut y = SMatrix::zeros();
/// lstm.step(&SMatrix::<f32, 1, 1>::new(0.5), &mut s, &mut y);
/// assert_eq!(s.c[0], 0.5 * 0.5_f32.tanh_branchless()); // Γi ⊙ c̃, with Γi = σ(0)
/// assert_eq!(y, s.a);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct Lstm<T, const N_X: usize, const N_A: usize> {
    /// `Wfa`, `(N_A, N_A)`: forget gate, acting on `a⟨t−1⟩`.
    pub wfa: SMatrix<T, N_A, N_A>,
    /// `Wfx`, `(N_A, N_X)`: forget gate, acting on `x⟨t⟩`.
    pub wfx: SMatrix<T, N_A, N_X>,
    /// `bf`, `(N_A, 1)`: forget gate bias.
    pub bf: SVector<T, N_A>,
    /// `Wia`, `(N_A, N_A)`: update gate, acting on `a⟨t−1⟩`.
    pub wia: SMatrix<T, N_A, N_A>,
    /// `Wix`, `(N_A, N_X)`: update gate, acting on `x⟨t⟩`.
    pub wix: SMatrix<T, N_A, N_X>,
    /// `bi`, `(N_A, 1)`: update gate bias.
    pub bi: SVector<T, N_A>,
    /// `Wca`, `(N_A, N_A)`: candidate, acting on `a⟨t−1⟩`.
    pub wca: SMatrix<T, N_A, N_A>,
    /// `Wcx`, `(N_A, N_X)`: candidate, acting on `x⟨t⟩`.
    pub wcx: SMatrix<T, N_A, N_X>,
    /// `bc`, `(N_A, 1)`: candidate bias.
    pub bc: SVector<T, N_A>,
    /// `Woa`, `(N_A, N_A)`: output gate, acting on `a⟨t−1⟩`.
    pub woa: SMatrix<T, N_A, N_A>,
    /// `Wox`, `(N_A, N_X)`: output gate, acting on `x⟨t⟩`.
    pub wox: SMatrix<T, N_A, N_X>,
    /// `bo`, `(N_A, 1)`: output gate bias.
    pub bo: SVector<T, N_A>,
}

/// The state an LSTM carries between steps: the hidden state `a` and the cell state `c`.
///
/// # Example
/// ```
/// use tinyrnn::{lstm::LstmState, params::Zeroed};
/// let s = LstmState::<f32, 8, 1>::ZEROS;
/// assert_eq!(core::mem::size_of_val(&s), 2 * 8 * 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct LstmState<T, const N_A: usize, const M: usize> {
    /// The hidden state `a`.
    pub a: SMatrix<T, N_A, M>,
    /// The cell state `c`.
    pub c: SMatrix<T, N_A, M>,
}

impl<T: Real, const N_A: usize, const M: usize> Zeroed for LstmState<T, N_A, M> {
    const ZEROS: Self = Self {
        a: zero_matrix(),
        c: zero_matrix(),
    };
}

/// The tape of an [`Lstm`] layer: the initial state and every step's `a`, `c` and gates (the
/// input is not copied: the caller, or the layer below in a stack, holds it).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{lstm::LstmSeqTape, params::Zeroed, Layer, Lstm, Params};
///
/// let lstm = Lstm::<f32, 3, 5>::zeros();
/// let mut tape = LstmSeqTape::<f32, 5, 2, 7>::ZEROS;
/// lstm.forward(&[SMatrix::<f32, 3, 2>::zeros(); 7], &Zeroed::ZEROS, &mut tape);
/// assert_eq!(tape.gates[6].f[0], 0.5);
/// assert_eq!(core::mem::size_of_val(&tape), 4 * 2 * 5 * (2 + 7 * 7));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct LstmSeqTape<T, const N_A: usize, const M: usize, const T_X: usize> {
    /// The initial state `(a⟨0⟩, c⟨0⟩)`.
    pub s0: LstmState<T, N_A, M>,
    /// The hidden states (the layer's outputs); index `t` follows input `x[t]`.
    pub a: [SMatrix<T, N_A, M>; T_X],
    /// The cell states.
    pub c: [SMatrix<T, N_A, M>; T_X],
    /// The gate activations of every step.
    pub gates: [LstmGates<T, N_A, M>; T_X],
}

impl<T: Real, const N_A: usize, const M: usize, const T_X: usize> Zeroed
    for LstmSeqTape<T, N_A, M, T_X>
{
    const ZEROS: Self = Self {
        s0: LstmState::ZEROS,
        a: [zero_matrix(); T_X],
        c: [zero_matrix(); T_X],
        gates: [LstmGates::ZEROS; T_X],
    };
}

impl<T: Real, const N_X: usize, const N_A: usize> Params<T> for Lstm<T, N_X, N_A> {
    const LEN: usize = 4 * N_A * (N_A + N_X + 1);
    const ZEROS: Self = Self {
        wfa: zero_matrix(),
        wfx: zero_matrix(),
        bf: zero_matrix(),
        wia: zero_matrix(),
        wix: zero_matrix(),
        bi: zero_matrix(),
        wca: zero_matrix(),
        wcx: zero_matrix(),
        bc: zero_matrix(),
        woa: zero_matrix(),
        wox: zero_matrix(),
        bo: zero_matrix(),
    };
    fn names() -> impl Iterator<Item = &'static str> {
        [
            "wfa", "wfx", "bf", "wia", "wix", "bi", "wca", "wcx", "bc", "woa", "wox", "bo",
        ]
        .into_iter()
    }
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.gates()
            .into_iter()
            .flat_map(|g| [g.wa.as_slice(), g.wx.as_slice(), g.b.as_slice()])
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.gates_mut()
            .into_iter()
            .flat_map(|g| [g.wa.as_mut_slice(), g.wx.as_mut_slice(), g.b.as_mut_slice()])
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize> Initialize
    for LstmParams<T, N_X, N_A, N_Y>
{
    /// See [`LstmParams::init`].
    fn init(init: &Init, rng: &mut Rng) -> Self {
        LstmParams::init(init, rng)
    }
    /// See [`LstmParams::init_into`].
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        LstmParams::init_into(self, init, rng);
    }
}

impl<T: Real, const N_X: usize, const N_A: usize> Initialize for Lstm<T, N_X, N_A> {
    /// As [`LstmParams::init`]: weights by `init.weights`, `bf = init.forget_bias`, other
    /// biases zero.
    fn init(init: &Init, rng: &mut Rng) -> Self {
        let mut p = Self::ZEROS;
        p.init_into(init, rng);
        p
    }
    fn init_into(&mut self, init: &Init, rng: &mut Rng) {
        self.fill_zero();
        init_gates(self, init, rng);
    }
}

/// Draws every gate block and sets the forget-gate bias (the other biases are left as they
/// are: zero, from the callers).
fn init_gates<T: Real, const N_X: usize, const N_A: usize>(
    p: &mut impl Gates<T, N_X, N_A>,
    init: &Init,
    rng: &mut Rng,
) {
    let [f, ..] = p.gates_mut();
    f.b.fill(T::lit(init.forget_bias));
    for g in p.gates_mut() {
        init.fill(g.wa, N_A, rng);
        init.fill(g.wx, N_A, rng);
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const M: usize> Layer<T, M>
    for Lstm<T, N_X, N_A>
{
    type X = SMatrix<T, N_X, M>;
    type Y = SMatrix<T, N_A, M>;
    type State = LstmState<T, N_A, M>;
    type Tape<const T_X: usize> = LstmSeqTape<T, N_A, M, T_X>;

    fn forward<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        s0: &Self::State,
        tape: &mut Self::Tape<T_X>,
    ) {
        tape.s0 = *s0;
        forward_seq(
            self,
            x,
            &s0.a,
            &s0.c,
            &mut tape.a,
            &mut tape.c,
            &mut tape.gates,
        );
    }

    fn output<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::Y; T_X] {
        &tape.a
    }

    fn final_state<const T_X: usize>(tape: &Self::Tape<T_X>) -> Self::State {
        match (tape.a.last(), tape.c.last()) {
            (Some(a), Some(c)) => LstmState { a: *a, c: *c },
            _ => tape.s0,
        }
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
        let seq = SeqRef {
            x,
            a0: &tape.s0.a,
            c0: &tape.s0.c,
            a: &tape.a,
            c: &tape.c,
            gates: &tape.gates,
        };
        let d0 = StateGrads {
            da0: &mut ds0.a,
            dc0: &mut ds0.c,
        };
        backward_seq(self, seq, dy, dparams, dx, d0);
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, const M: usize> Step<T, M> for Lstm<T, N_X, N_A> {
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
        let mut gates = LstmGates::ZEROS;
        let c_prev = state.c;
        let out = StepOut {
            gates: &mut gates,
            a_next: y,
            c_next: &mut state.c,
        };
        step_forward(&self.gates(), x, &state.a, &c_prev, out);
        state.a = *y;
    }
}

/// The notebook model as a [`Network`](crate::train::Network): the LSTM recurrence from
/// `a⟨0⟩ = c⟨0⟩ = 0`, then `z⟨t⟩ = Wy·a⟨t⟩ + by`.
impl<T: Real, const N_X: usize, const N_A: usize, const N_Y: usize, const M: usize>
    crate::train::Network<T, M> for LstmParams<T, N_X, N_A, N_Y>
{
    type X = SMatrix<T, N_X, M>;
    type H = SMatrix<T, N_A, M>;
    type Logits = SMatrix<T, N_Y, M>;
    type Tape<const T_X: usize> = LstmSeqTape<T, N_A, M, T_X>;

    fn forward_body<const T_X: usize>(&self, x: &[Self::X; T_X], tape: &mut Self::Tape<T_X>) {
        tape.s0 = LstmState::ZEROS;
        let (a0, c0) = (SMatrix::zeros(), SMatrix::zeros());
        forward_seq(self, x, &a0, &c0, &mut tape.a, &mut tape.c, &mut tape.gates);
    }
    fn hidden<const T_X: usize>(tape: &Self::Tape<T_X>) -> &[Self::H; T_X] {
        &tape.a
    }
    fn backward_body<const T_X: usize>(
        &self,
        x: &[Self::X; T_X],
        tape: &mut Self::Tape<T_X>,
        dh: &[Self::H; T_X],
        dparams: &mut Self,
        dx: &mut [Self::X; T_X],
    ) {
        let seq = SeqRef {
            x,
            a0: &tape.s0.a,
            c0: &tape.s0.c,
            a: &tape.a,
            c: &tape.c,
            gates: &tape.gates,
        };
        let mut ds0 = LstmState::ZEROS;
        let d0 = StateGrads {
            da0: &mut ds0.a,
            dc0: &mut ds0.c,
        };
        backward_seq(self, seq, dh, dparams, dx, d0);
    }
    fn head_forward(&self, h: &Self::H, z: &mut Self::Logits) {
        kernel::head(z, &self.wy, h, &self.by);
    }
    fn head_backward(&self, h: &Self::H, dz: &Self::Logits, dparams: &mut Self, dh: &mut Self::H) {
        let (dw, db) = (&mut dparams.wy, &mut dparams.by);
        crate::dense::linear_backward(&self.wy, h, dz, dw, db, dh);
    }
}
