//! Integer inference: int8 weights, int16 activations and states, int32 accumulators, for
//! cores without a floating-point unit (Cortex-M0/M0+/M3, RV32IMAC), and for flash: a
//! quantized model's weights take a quarter of the bytes of its `f32` weights.
//!
//! Every layer kind that can stream has an integer twin with the same const parameters:
//! [`QRnn`], [`QLstm`], [`QGru`] (both reset placements), [`QDense`] (identity, ReLU, tanh,
//! sigmoid), and [`Stack`]s of them, so a [`Model`](crate::Model) of those
//! layers quantizes to a `Stack` of their twins, checked by the compiler where two layers meet
//! exactly as the float model is. They run one step at a time ([`QStep`], [`QStream`]), take
//! no heap, and can be `const`s in flash ([`QStep::write_rust`] writes one).
//!
//! Post-training quantisation is one call on a host: [`quantize`] runs the float model over
//! calibration sequences, records the ranges it needs, and converts.
//!
//! ```
//! use nalgebra::SVector;
//! use tinyrnn::init::{Init, Initialize, Rng};
//! use tinyrnn::quant::{self, QStep, QStream};
//! use tinyrnn::{Dense, Lstm, Model, Stream};
//!
//! type Net = Model<Lstm<f32, 3, 16>, Dense<f32, 16, 2>>;
//! let net = Net::init(&Init::default(), &mut Rng::new(7));
//! // Calibration: a few representative sequences of 20 steps.
//! let seqs: Vec<[SVector<f32, 3>; 20]> = (0..8)
//!     .map(|s| core::array::from_fn(|t| SVector::from_fn(|k, _| ((s * 20 + t) as f32 * 0.37 + k as f32).sin())))
//!     .collect();
//! let q = quant::quantize(&net, &seqs)?;
//!
//! // The integer model streams like the float one; its logits follow the float logits.
//! let (mut fs, mut qs) = (Stream::<f32, Net>::new(), QStream::new());
//! for x in &seqs[3] {
//!     let y = fs.step(&net, x);
//!     let yq = q.dequantize_output(&qs.step(&q, &q.quantize_input(x)));
//!     assert!((y - yq).abs().max() < 0.02);
//! }
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! # The scheme
//!
//! Notation: `sat16(v) = clamp(v, −32768, 32767)`; `rshr(v, s) = ⌊(v + 2^(s−1)) / 2^s⌋`, a
//! right shift rounding half up; a value in *Qm.n* is an integer `q` standing for `q·2^−n`.
//! The functions are in [`fixed`]; `tools/quant_reference.py` implements the same integer
//! math in numpy and generates the golden vectors that the host tests and the firmware on
//! every QEMU target match bit for bit.
//!
//! **Activations and states** are `i16`. The hidden state `a` of every cell (and the output of
//! a tanh or sigmoid dense layer) is in Q0.15: it lies in `(−1, 1)`, so it needs no
//! calibration. Any other value `v` (the model's input features, the output of an identity or
//! ReLU dense layer) has a per-feature affine quantisation from calibration:
//!
//! ```text
//! v ≈ (q − zero)·scale,       q = sat16(round(v / scale) + zero)
//! ```
//!
//! with `[lo, hi]` the observed range widened about its centre to twice its span (one bit of
//! headroom for values calibration did not see), `scale = span/65535`, and `zero` chosen so
//! that the range maps onto `[−32768, 32767]`; when that `zero` does not fit `i16`, the range
//! is first extended to include 0. ([`QScale`].)
//!
//! **Weights** are `i8`, symmetric, with one scale per output row (per channel). A gate
//! `z = W·x + b + U·a` has two parts, each a [`QAffine`] map with its own row scales, the
//! input scales folded in:
//!
//! ```text
//! s_j    = max_k |W̃_jk| / 127,        W̃_jk = W_jk·scale_k      (U_jk·2^−15 for the state part)
//! w_jk   = round(W̃_jk / s_j)           ∈ [−127, 127]
//! bias_j = round(b_j / s_j) − Σ_k w_jk·zero_k
//! acc_j  = bias_j + Σ_k w_jk·x_k                      (i32, exact: no overflow, checked)
//! ```
//!
//! so `W·x + b ≈ s_j·acc_j`. Per-channel scales cost nothing at run time (every row is
//! requantised by its own multiplier anyway) and keep a row of small weights from being
//! rounded to zero by a large weight elsewhere in the matrix. Folding the input scales into
//! the weights makes per-feature input scales free, and the zero points fold into the bias,
//! so the kernels multiply raw `i8 × i16` and never subtract an offset. The input and the
//! state part keep separate row scales because their input scales differ, often by 10-100x
//! (a raw sensor range against `2^−15`): one int8 scale over both would leave the part with
//! the finer scale a few levels.
//!
//! **Requantisation** maps `acc_j` to the output's unit with a 16-bit multiplier and a shift:
//!
//! ```text
//! m_j·2^−sh_j ≈ s_j / unit_out          (m_j ∈ [2^15, 2^16), sh_j ∈ 0..=62)
//! rq(acc_j) = ⌊(acc_j·m_j + 2^(sh_j−1)) / 2^sh_j⌋      (the product in 64 bits)
//! ```
//!
//! A gate's two parts go to Q3.12 (`unit_out = 2^−12`), each clamped to `±2^24`
//! ([`fixed::requant_wide`]), and their sum saturates to `i16`: `z_q = sat16(rq_x + rq_a)`,
//! so `[−8, 8)` (`σ(8) = 0.99966`). An identity or ReLU dense layer requantises to its
//! calibrated output scale with saturation ([`fixed::requant`]).
//!
//! **Activations**: [`fixed::tanh_q`] and [`fixed::sigmoid_q`] map Q3.12 to Q0.15 through one
//! 513-entry table of `tanh` on `[0, 8]` with linear interpolation (`σ(x) = (1 + tanh(x/2))/2`),
//! 1 KB of flash.
//!
//! **LSTM** (`c` in Q(15−F).F, `F = c_frac` from the calibrated largest `|c|`, with one bit of
//! headroom):
//!
//! ```text
//! f, i, o = sigmoid_q(zf, zi, zo),   g = tanh_q(zc)                         (Q0.15)
//! c⟨t⟩ = sat16(rshr(f·c⟨t−1⟩, 15) + rshr(i·g, 30 − F))
//! a⟨t⟩ = rshr(o·tanh_q(c_Q3.12), 15),   c_Q3.12 = rshr(c⟨t⟩, F − 12) if F ≥ 12, else sat16(c⟨t⟩·2^(12−F))
//! ```
//!
//! **GRU** (`z`, `r` as above; the candidate's input part `nx` and recurrent part `na` as a
//! gate's two parts, before the sum; `r·na` in 64 bits):
//!
//! ```text
//! ResetAfter:  n = tanh_q(sat16(nx + rshr(r·na(a), 15)))
//! ResetBefore: n = tanh_q(sat16(nx + na(rshr(r·a, 15))))
//! a⟨t⟩ = rshr(z·a⟨t−1⟩ + (32768 − z)·n, 15)
//! ```
//!
//! **RNN**: `a⟨t⟩ = tanh_q(za)`. **Dense**: identity `y = out`, ReLU `y = max(out, 0)`, tanh
//! and sigmoid through the table from Q3.12.
//!
//! Rounding is half up everywhere at run time (`rshr`; `σ`'s final halving rounds down, so
//! that it never reaches 32768), half away from zero at conversion (`round`); every `i16` result saturates; no step can overflow an `i32` (the accumulator
//! bound is checked at conversion, [`QAffine::validate`], and every other product is of two
//! `i16` values). Nothing on the path is floating point: the firmware's Cortex-M0 build of
//! the quantized step links no `__aeabi_f*`/`__aeabi_d*` routine (`qemu-check.sh` checks it).
//!
//! # Memory
//! A quantized row of `K` inputs takes `K` bytes of weights (a quarter of `f32`'s) and 7
//! bytes of bias, multiplier and shift (against 4 for an `f32` bias; a gate has two parts);
//! an input scale takes 6 bytes per feature. The keyword-spotting LSTM (`N_X = 16`,
//! `N_A = 32`) takes 8,036 bytes against 25,088 in `f32` (its weights 6,144 against 24,576);
//! its state is `2·N_A` `i16`, 128 bytes (`tests/memory.rs` checks the sizes).

pub mod fixed;
mod kernel;
mod layers;
mod ptq;

pub use layers::{QDense, QGru, QLstm, QLstmState, QRnn, QuantActivation};
pub use ptq::{quantize, Calibrator, LayerStats, Quantize, Ranges};

use crate::layer::Stack;
use crate::params::Zeroed;
use core::fmt;
use nalgebra::{SMatrix, SVector};

/// How one vector of `N` values is quantized: `v ≈ (q − zero)·scale` per feature (see the
/// [module docs](self)). The hidden states are [`QScale::Q15`].
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::QScale;
///
/// let s = QScale::<2> { scale: SVector::from([0.01, 0.5]), zero: SVector::from([-100, 0]) };
/// let q = s.quantize(&SVector::from([1.0, -2.0]));
/// assert_eq!(q, SVector::from([0, -4]));
/// assert_eq!(s.dequantize(&q), SVector::from([1.0, -2.0]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QScale<const N: usize> {
    /// The real value of one step of `q`, per feature.
    pub scale: SVector<f32, N>,
    /// The `q` that stands for 0, per feature.
    pub zero: SVector<i16, N>,
}

impl<const N: usize> QScale<N> {
    /// Q0.15: `scale = 2^−15`, `zero = 0` (the hidden states, tanh and sigmoid outputs).
    pub const Q15: Self = Self {
        scale: SMatrix::from_array_storage(nalgebra::ArrayStorage([[1.0 / 32768.0; N]; 1])),
        zero: SMatrix::from_array_storage(nalgebra::ArrayStorage([[0; N]; 1])),
    };

    /// `q = sat16(round(v / scale) + zero)`, in `f32` (for a host, or a core with an FPU; on
    /// one without, feed integer samples in the model's input scale). A NaN maps to `zero`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::quant::QScale;
    /// let q = QScale::<1>::Q15.quantize(&SVector::from([0.5]));
    /// assert_eq!(q[0], 16384);
    /// ```
    pub fn quantize(&self, v: &SVector<f32, N>) -> SVector<i16, N> {
        let mut out = SVector::<i16, N>::ZEROS;
        let params = self.scale.iter().zip(self.zero.iter());
        for ((o, &x), (&s, &z)) in out.iter_mut().zip(v.iter()).zip(params) {
            let q = libm::roundf(x / s) + z as f32;
            // `as` saturates, and maps NaN to 0: NaN goes to `zero` instead.
            *o = if q.is_nan() { z } else { q as i16 };
        }
        out
    }

    /// `v = (q − zero)·scale`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::quant::QScale;
    /// let v = QScale::<1>::Q15.dequantize(&SVector::from([-16384]));
    /// assert_eq!(v[0], -0.5);
    /// ```
    pub fn dequantize(&self, q: &SVector<i16, N>) -> SVector<f32, N> {
        let mut out = SVector::<f32, N>::zeros();
        let params = self.scale.iter().zip(self.zero.iter());
        for ((o, &x), (&s, &z)) in out.iter_mut().zip(q.iter()).zip(params) {
            *o = (x as f32 - z as f32) * s;
        }
        out
    }
}

/// An integer affine map with requantisation: `out_j = requant(bias_j + Σ_k w_t[(k, j)]·x_k)`
/// (the [module docs](self) give the scheme). The building block of every quantized layer.
///
/// # Example
/// ```
/// use nalgebra::{SMatrix, SVector};
/// use tinyrnn::quant::QAffine;
///
/// // out = requant(10 + 2·x0 − x1) with the multiplier 2^−1 (m = 2^15, shift 16).
/// let f = QAffine::<2, 1> {
///     w_t: SMatrix::from([[2, -1]]),
///     bias: SVector::from([10]),
///     mult: SVector::from([32768]),
///     shift: SVector::from([16]),
/// };
/// assert_eq!(f.apply_one(&SVector::from([3, 4])), SVector::from([6])); // (10 + 6 − 4)/2
/// assert!(f.validate("f").is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QAffine<const N_IN: usize, const N_OUT: usize> {
    /// `Wᵀ`, `i8`: column `j` holds output `j`'s weights, contiguous.
    pub w_t: SMatrix<i8, N_IN, N_OUT>,
    /// The bias in accumulator units, the input zero points folded in.
    pub bias: SVector<i32, N_OUT>,
    /// Requantisation multipliers, in `[2^15, 2^16)` (0 for an all-zero row).
    pub mult: SVector<u16, N_OUT>,
    /// Requantisation shifts, `0..=62`.
    pub shift: SVector<u8, N_OUT>,
}

impl<const N_IN: usize, const N_OUT: usize> QAffine<N_IN, N_OUT> {
    /// The accumulators `bias_j + Σ_k w_t[(k, j)]·x_k`.
    ///
    /// Always inlined: out of line, the array goes through two 128-byte copies per call (the
    /// bias in, the result out through the return slot), 0.3 instructions per MAC of a
    /// `QLstm<16, 32>` step on the Cortex-M4 (measured in QEMU: 28,127 → 26,239 instructions;
    /// the M3, M0 and RV32 gain 1-4 % too).
    #[inline(always)]
    pub(crate) fn acc(&self, x: &SVector<i16, N_IN>) -> [i32; N_OUT] {
        let [mut acc] = self.bias.data.0;
        kernel::acc_dot(&self.w_t, x, &mut acc);
        acc
    }

    /// `out_j = sat16(requant(acc_j))` for one input.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::quant::QAffine;
    /// let mut f = QAffine::<1, 1>::ZEROS;
    /// (f.w_t[0], f.mult[0], f.shift[0]) = (3, 32768, 15); // multiplier 1
    /// assert_eq!(f.apply_one(&SVector::from([-5])), SVector::from([-15]));
    /// ```
    pub fn apply_one(&self, x: &SVector<i16, N_IN>) -> SVector<i16, N_OUT> {
        requant_all(&self.acc(x), &self.mult, &self.shift)
    }

    /// All zero (a layer whose every output is 0).
    pub const ZEROS: Self = Self {
        w_t: <SMatrix<i8, N_IN, N_OUT> as Zeroed>::ZEROS,
        bias: <SVector<i32, N_OUT> as Zeroed>::ZEROS,
        mult: <SVector<u16, N_OUT> as Zeroed>::ZEROS,
        shift: <SVector<u8, N_OUT> as Zeroed>::ZEROS,
    };

    /// Checks that no accumulator can leave `i32` for any input
    /// (`|bias_j| + 32768·Σ_k |w_jk| < 2^31`), that weights are in `[−127, 127]` and shifts in
    /// `0..=62`. [`quantize`] only produces maps that pass; a hand-made one should be checked.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::quant::QAffine;
    /// let mut f = QAffine::<1, 1>::ZEROS;
    /// f.bias[0] = i32::MAX;
    /// f.w_t[0] = 1;
    /// assert!(f.validate("f").is_err()); // i32::MAX + 32767 overflows
    /// ```
    pub fn validate(&self, what: &'static str) -> Result<(), crate::Error> {
        // Column j holds row j's N_IN weights (none when N_IN = 0: every sum is 0).
        let sums = self.w_t.as_slice().chunks_exact(N_IN.max(1));
        let sums = sums.map(|c| c.iter().map(|&v| (v as i64).abs()).sum::<i64>());
        validate_rows(
            what,
            &self.bias,
            &self.shift,
            sums.chain(core::iter::repeat(0)),
        )?;
        check_weights(what, self.w_t.as_slice())
    }
}

/// A gate over the input and the state: two [`QAffine`] maps, one of the input `x` (with the
/// gate's bias) and one of the state `a`, each with its own per-row scales, requantised each
/// to Q3.12 (without saturation, clamped to `±2^24`) and summed:
///
/// ```text
/// out_j = sat16(rq(x.bias_j + Σ_k x.w_t[(k, j)]·x_k) + rq(a.bias_j + Σ_k a.w_t[(k, j)]·a_k))
/// ```
///
/// Two scales per row instead of one: the input's scale is often far from the state's
/// (`2^−15`), and one int8 scale over both would leave the finer of the two with a few levels.
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::QGate;
/// let mut g = QGate::<1, 2>::ZEROS;
/// (g.x.w_t[(0, 0)], g.x.mult[0], g.x.shift[0]) = (1, 32768, 15); // multiplier 1
/// (g.a.w_t[(1, 0)], g.a.mult[0], g.a.shift[0]) = (2, 32768, 16); // multiplier 1/2
/// let out = g.apply(&SVector::from([100]), &SVector::from([0, 7]));
/// assert_eq!(out[0], 100 + 7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QGate<const N_X: usize, const N_A: usize> {
    /// The input part: `Wxᵀ` and the gate's bias (with the input zero points folded in).
    pub x: QAffine<N_X, N_A>,
    /// The recurrent part: `Waᵀ` (its bias is 0 for the LSTM and RNN gates).
    pub a: QAffine<N_A, N_A>,
}

impl<const N_X: usize, const N_A: usize> QGate<N_X, N_A> {
    /// All zero.
    pub const ZEROS: Self = Self {
        x: QAffine::ZEROS,
        a: QAffine::ZEROS,
    };

    /// The gate's pre-activations in Q3.12, saturated.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::quant::QGate;
    /// let g = QGate::<2, 3>::ZEROS;
    /// assert_eq!(g.apply(&SVector::from([1, 2]), &SVector::from([3, 4, 5])), SVector::<i16, 3>::zeros());
    /// ```
    #[inline]
    pub fn apply(&self, x: &SVector<i16, N_X>, a: &SVector<i16, N_A>) -> SVector<i16, N_A> {
        SVector::from_array_storage(nalgebra::ArrayStorage([self.pre(x, a)]))
    }

    /// [`QGate::apply`] into a plain array (nalgebra's iterators cost instructions per
    /// element on the microcontrollers).
    #[inline]
    pub(crate) fn pre(&self, x: &SVector<i16, N_X>, a: &SVector<i16, N_A>) -> [i16; N_A] {
        let (ax, aa) = (self.x.acc(x), self.a.acc(a));
        let px = per_row(&ax, &self.x.mult, &self.x.shift, fixed::requant_wide);
        let pa = per_row(&aa, &self.a.mult, &self.a.shift, fixed::requant_wide);
        let mut out = [0; N_A];
        for ((o, vx), va) in out.iter_mut().zip(px).zip(pa) {
            *o = fixed::sat16(vx + va);
        }
        out
    }

    /// [`QAffine::validate`] for both parts.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::quant::QGate;
    /// let mut g = QGate::<1, 1>::ZEROS;
    /// g.x.w_t[0] = -128; // outside the symmetric range
    /// assert!(g.validate("g").is_err());
    /// ```
    pub fn validate(&self, what: &'static str) -> Result<(), crate::Error> {
        self.x.validate(what)?;
        self.a.validate(what)
    }
}

#[inline]
fn requant_all<const N: usize>(
    acc: &[i32; N],
    mult: &SVector<u16, N>,
    shift: &SVector<u8, N>,
) -> SVector<i16, N> {
    let mut out = [0; N];
    for (o, r) in out
        .iter_mut()
        .zip(per_row(acc, mult, shift, fixed::requant))
    {
        *o = r;
    }
    SVector::from_array_storage(nalgebra::ArrayStorage([out]))
}

/// `rq(acc_j, mult_j, shift_j)` for `j = 0, 1, …` ([`fixed::requant`] or
/// [`fixed::requant_wide`]), over plain arrays (nalgebra's iterators step through a general
/// strided layout, which costs instructions per element).
#[inline(always)]
pub(crate) fn per_row<'a, R, const N: usize>(
    acc: &'a [i32; N],
    mult: &'a SVector<u16, N>,
    shift: &'a SVector<u8, N>,
    rq: impl Fn(i32, u16, u8) -> R + 'a,
) -> impl Iterator<Item = R> + 'a {
    let ([m], [s]) = (&mult.data.0, &shift.data.0);
    acc.iter()
        .zip(m)
        .zip(s)
        .map(move |((&a, &m), &s)| rq(a, m, s))
}

fn validate_rows<const N: usize>(
    what: &'static str,
    bias: &SVector<i32, N>,
    shift: &SVector<u8, N>,
    abs_sums: impl Iterator<Item = i64>,
) -> Result<(), crate::Error> {
    for (j, ((&b, &s), abs_sum)) in bias.iter().zip(shift.iter()).zip(abs_sums).enumerate() {
        if (b as i64).abs() + 32768 * abs_sum > i32::MAX as i64 {
            return Err(crate::Error::Quantization {
                what,
                index: j,
                problem: "the accumulator of this row can overflow i32",
            });
        }
        if s > 62 {
            return Err(crate::Error::Quantization {
                what,
                index: j,
                problem: "shift above 62",
            });
        }
    }
    Ok(())
}

fn check_weights(what: &'static str, w: &[i8]) -> Result<(), crate::Error> {
    match w.iter().position(|&v| v == i8::MIN) {
        Some(index) => Err(crate::Error::Quantization {
            what,
            index,
            problem: "weight −128 (weights are symmetric, in [−127, 127])",
        }),
        None => Ok(()),
    }
}

/// A quantized layer that runs one step at a time: the integer twin of [`Step`](crate::Step)
/// at batch 1. Implemented by [`QRnn`], [`QLstm`], [`QGru`], [`QDense`] and [`Stack`]s of
/// them; `Stack<A, B>` is one only if `B::X == A::Y` (the compiler checks the sizes).
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::{QDense, QRnn, QStep};
/// use tinyrnn::{params::Zeroed, Identity, Stack};
///
/// type Q = Stack<QRnn<2, 4>, QDense<4, 3, Identity>>;
/// let q = Q { lower: QRnn::ZEROS, upper: QDense::ZEROS };
/// let mut state = Zeroed::ZEROS;
/// let mut y = SVector::<i16, 3>::zeros();
/// q.step(&SVector::from([100, -100]), &mut state, &mut y);
/// assert_eq!(y, SVector::<i16, 3>::zeros());
/// ```
pub trait QStep {
    /// One step's input, `SVector<i16, N_IN>`.
    type X: Copy + Zeroed;
    /// One step's output, `SVector<i16, N_OUT>`.
    type Y: Copy + Zeroed;
    /// What is carried between steps (`()` for a dense layer).
    type State: Copy + Zeroed;
    /// The input in `f32`, `SVector<f32, N_IN>`.
    type XF;
    /// The output in `f32`, `SVector<f32, N_OUT>`.
    type YF;

    /// Advances `state` by one input and writes the output. Integer arithmetic only.
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y);

    /// The input's quantisation, `f32` to `i16` (see [`QScale::quantize`]).
    fn quantize_input(&self, x: &Self::XF) -> Self::X;

    /// The output's dequantisation, `i16` to `f32`.
    fn dequantize_output(&self, y: &Self::Y) -> Self::YF;

    /// Checks every map of the layer ([`QAffine::validate`]).
    fn validate(&self) -> Result<(), crate::Error>;

    /// Writes the layer as a Rust `const` expression (nalgebra and tinyrnn paths in full), so
    /// a model quantized on a host becomes a `static` in a device's flash:
    /// `static MODEL: Q = <what this writes>;`.
    fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result;
}

impl<A: QStep, B: QStep<X = A::Y>> QStep for Stack<A, B> {
    type X = A::X;
    type Y = B::Y;
    type State = (A::State, B::State);
    type XF = A::XF;
    type YF = B::YF;

    #[inline]
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
        let mut mid = A::Y::ZEROS;
        self.lower.step(x, &mut state.0, &mut mid);
        self.upper.step(&mid, &mut state.1, y);
    }
    fn quantize_input(&self, x: &Self::XF) -> Self::X {
        self.lower.quantize_input(x)
    }
    fn dequantize_output(&self, y: &Self::Y) -> Self::YF {
        self.upper.dequantize_output(y)
    }
    fn validate(&self) -> Result<(), crate::Error> {
        self.lower.validate()?;
        self.upper.validate()
    }
    fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::Stack { lower: ")?;
        self.lower.write_rust(f)?;
        f.write_str(", upper: ")?;
        self.upper.write_rust(f)?;
        f.write_str(" }")
    }
}

/// Streaming integer inference: the state of every layer of a quantized model, advanced one
/// sample at a time (the twin of [`Stream`](crate::Stream)).
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::{QLstm, QStream};
///
/// let q = QLstm::<2, 4>::ZEROS;
/// let mut s = QStream::new();
/// let y = s.step(&q, &SVector::from([1000, -1000]));
/// assert_eq!(y, SVector::<i16, 4>::zeros()); // zero weights: a = σ(0)·tanh(σ(0)·tanh(0)) = 0
/// assert_eq!(core::mem::size_of_val(s.state()), 2 * 4 * 2);
/// ```
pub struct QStream<Q: QStep> {
    state: Q::State,
}

impl<Q: QStep> QStream<Q> {
    /// A stream at the zero state, usable in `const` and `static` initialisers.
    pub const ZEROS: Self = Self {
        state: Q::State::ZEROS,
    };

    /// A stream at the zero state.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::quant::{QRnn, QStream};
    /// let s = QStream::<QRnn<1, 3>>::new();
    /// assert_eq!(s.state().sum(), 0);
    /// ```
    pub fn new() -> Self {
        Self::ZEROS
    }

    /// Advances every layer by one input and returns the output.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::quant::{QRnn, QStream};
    /// let mut q = QRnn::<1, 1>::ZEROS;
    /// (q.gate.x.w_t[0], q.gate.x.mult[0], q.gate.x.shift[0]) = (1, 32768, 15);
    /// let mut s = QStream::new();
    /// assert_eq!(s.step(&q, &SVector::from([4096]))[0], 24956); // tanh(1)·32768 = 24956.04
    /// ```
    #[inline]
    pub fn step(&mut self, layer: &Q, x: &Q::X) -> Q::Y {
        let mut y = Q::Y::ZEROS;
        layer.step(x, &mut self.state, &mut y);
        y
    }

    /// Back to the zero state.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::quant::{QRnn, QStream};
    /// let mut q = QRnn::<1, 1>::ZEROS;
    /// q.gate.x.bias[0] = 1;
    /// (q.gate.x.mult[0], q.gate.x.shift[0]) = (32768, 5);
    /// let mut s = QStream::new();
    /// s.step(&q, &SVector::from([0]));
    /// assert_ne!(s.state()[0], 0);
    /// s.reset();
    /// assert_eq!(s.state()[0], 0);
    /// ```
    pub fn reset(&mut self) {
        self.state = Q::State::ZEROS;
    }

    /// The state of every layer.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::quant::{QGru, QStream};
    /// let s = QStream::<QGru<3, 5>>::new();
    /// assert_eq!(s.state().len(), 5);
    /// ```
    pub fn state(&self) -> &Q::State {
        &self.state
    }
}

impl<Q: QStep> Default for QStream<Q> {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes a matrix as a `const` expression, each element by `elem`.
fn write_matrix_with<S, const R: usize, const C: usize>(
    f: &mut dyn fmt::Write,
    m: &SMatrix<S, R, C>,
    elem: impl Fn(&mut dyn fmt::Write, &S) -> fmt::Result,
) -> fmt::Result {
    f.write_str("nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([")?;
    for c in 0..C {
        f.write_str("[")?;
        for r in 0..R {
            elem(f, &m[(r, c)])?;
        }
        f.write_str("],")?;
    }
    f.write_str("]))")
}

/// Writes an integer matrix as a `const` expression.
pub(crate) fn write_matrix<S: fmt::Display, const R: usize, const C: usize>(
    f: &mut dyn fmt::Write,
    m: &SMatrix<S, R, C>,
) -> fmt::Result {
    write_matrix_with(f, m, |f, v| write!(f, "{v},"))
}

/// Writes an `f32` matrix so that it reads back bit for bit.
pub(crate) fn write_matrix_f32<const R: usize, const C: usize>(
    f: &mut dyn fmt::Write,
    m: &SMatrix<f32, R, C>,
) -> fmt::Result {
    write_matrix_with(f, m, |f, v| {
        write!(f, "f32::from_bits({:#010x}),", v.to_bits())
    })
}

impl<const N: usize> QScale<N> {
    pub(crate) fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QScale { scale: ")?;
        write_matrix_f32(f, &self.scale)?;
        f.write_str(", zero: ")?;
        write_matrix(f, &self.zero)?;
        f.write_str(" }")
    }
}

impl<const N_IN: usize, const N_OUT: usize> QAffine<N_IN, N_OUT> {
    pub(crate) fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QAffine { w_t: ")?;
        write_matrix(f, &self.w_t)?;
        f.write_str(", bias: ")?;
        write_matrix(f, &self.bias)?;
        f.write_str(", mult: ")?;
        write_matrix(f, &self.mult)?;
        f.write_str(", shift: ")?;
        write_matrix(f, &self.shift)?;
        f.write_str(" }")
    }
}

impl<const N_X: usize, const N_A: usize> QGate<N_X, N_A> {
    pub(crate) fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QGate { x: ")?;
        self.x.write_rust(f)?;
        f.write_str(", a: ")?;
        self.a.write_rust(f)?;
        f.write_str(" }")
    }
}
