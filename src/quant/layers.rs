//! The quantized layers: [`QRnn`], [`QLstm`], [`QGru`], [`QDense`].

use super::fixed::{mul_q15, mul_q15_wide, requant_wide, rshr, sat16, sigmoid_q, tanh_q};
use super::{per_row, QAffine, QGate, QScale, QStep};
use crate::dense::Activation;
use crate::gru::GruVariant;
use crate::params::Zeroed;
use crate::{Identity, Relu, ResetAfter, Sigmoid, Tanh};
use core::fmt;
use core::marker::PhantomData;
use nalgebra::SVector;

/// A quantized vanilla RNN: `a⟨t⟩ = tanh_q(requant(bias + Wax·x + Waa·a⟨t−1⟩))`, state and
/// output in Q0.15. The twin of [`Rnn`](crate::Rnn) (`gate.x.w_t = Waxᵀ` with the bias `ba`,
/// `gate.a.w_t = Waaᵀ`).
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::{QRnn, QStep};
/// let mut q = QRnn::<1, 1>::ZEROS;
/// (q.gate.x.bias[0], q.gate.x.mult[0], q.gate.x.shift[0]) = (8192, 32768, 15);
/// let (mut a, mut y) = (SVector::zeros(), SVector::zeros());
/// q.step(&SVector::from([0]), &mut a, &mut y);
/// assert_eq!(y, a);
/// assert!((y[0] as f64 / 32768.0 - 2f64.tanh()).abs() < 1e-4); // tanh(8192/4096)
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QRnn<const N_X: usize, const N_A: usize> {
    /// The one gate, to Q3.12.
    pub gate: QGate<N_X, N_A>,
    /// How the input is quantized.
    pub x_scale: QScale<N_X>,
}

impl<const N_X: usize, const N_A: usize> QRnn<N_X, N_A> {
    /// All zero, input in Q0.15.
    pub const ZEROS: Self = Self {
        gate: QGate::ZEROS,
        x_scale: QScale::Q15,
    };
}

impl<const N_X: usize, const N_A: usize> QStep for QRnn<N_X, N_A> {
    type X = SVector<i16, N_X>;
    type Y = SVector<i16, N_A>;
    type State = SVector<i16, N_A>;
    type XF = SVector<f32, N_X>;
    type YF = SVector<f32, N_A>;

    #[inline]
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
        let z = self.gate.apply(x, state);
        for (yj, &zj) in y.iter_mut().zip(z.iter()) {
            *yj = tanh_q(zj);
        }
        *state = *y;
    }
    fn quantize_input(&self, x: &Self::XF) -> Self::X {
        self.x_scale.quantize(x)
    }
    fn dequantize_output(&self, y: &Self::Y) -> Self::YF {
        QScale::Q15.dequantize(y)
    }
    fn validate(&self) -> Result<(), crate::Error> {
        self.gate.validate("rnn")
    }
    fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QRnn { gate: ")?;
        self.gate.write_rust(f)?;
        f.write_str(", x_scale: ")?;
        self.x_scale.write_rust(f)?;
        f.write_str(" }")
    }
}

/// The state of a [`QLstm`]: hidden state `a` in Q0.15, cell state `c` in Q(15−F).F.
///
/// # Example
/// ```
/// use tinyrnn::{params::Zeroed, quant::QLstmState};
/// let s = QLstmState::<8>::ZEROS;
/// assert_eq!(core::mem::size_of_val(&s), 2 * 8 * 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLstmState<const N_A: usize> {
    /// The hidden state `a`, Q0.15.
    pub a: SVector<i16, N_A>,
    /// The cell state `c`, `c_frac` fractional bits.
    pub c: SVector<i16, N_A>,
}

impl<const N_A: usize> Zeroed for QLstmState<N_A> {
    const ZEROS: Self = Self {
        a: Zeroed::ZEROS,
        c: Zeroed::ZEROS,
    };
}

/// A quantized LSTM, the twin of [`Lstm`](crate::Lstm): four gates over `[x; a]` to Q3.12,
/// the table activations, and the cell update of the [module docs](super):
///
/// ```text
/// c⟨t⟩ = sat16(rshr(f·c⟨t−1⟩, 15) + rshr(i·g, 30 − F)),   a⟨t⟩ = rshr(o·tanh_q(c⟨t⟩), 15)
/// ```
///
/// `f`, `i`, `c`, `o` are the forget, update, candidate and output gates (`f.x.w_t = Wfxᵀ`
/// with the bias `bf`, `f.a.w_t = Wfaᵀ`, …).
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::{QLstm, QStep};
/// let mut q = QLstm::<1, 1>::ZEROS;
/// q.c.x.bias[0] = 4096; // candidate pre-activation 1.0 (multiplier 1)
/// (q.c.x.mult[0], q.c.x.shift[0]) = (32768, 15);
/// let mut s = tinyrnn::params::Zeroed::ZEROS;
/// let mut y = SVector::zeros();
/// q.step(&SVector::from([0]), &mut s, &mut y);
/// // c = σ(0)·tanh(1), a = σ(0)·tanh(c)
/// let c = 0.5 * 1f64.tanh();
/// assert!((y[0] as f64 / 32768.0 - 0.5 * c.tanh()).abs() < 2e-4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QLstm<const N_X: usize, const N_A: usize> {
    /// Forget gate.
    pub f: QGate<N_X, N_A>,
    /// Update (input) gate.
    pub i: QGate<N_X, N_A>,
    /// Candidate.
    pub c: QGate<N_X, N_A>,
    /// Output gate.
    pub o: QGate<N_X, N_A>,
    /// `F`: the cell state's fractional bits, `0..=15`.
    pub c_frac: u8,
    /// How the input is quantized.
    pub x_scale: QScale<N_X>,
}

impl<const N_X: usize, const N_A: usize> QLstm<N_X, N_A> {
    /// All zero, `F = 12`, input in Q0.15.
    pub const ZEROS: Self = Self {
        f: QGate::ZEROS,
        i: QGate::ZEROS,
        c: QGate::ZEROS,
        o: QGate::ZEROS,
        c_frac: 12,
        x_scale: QScale::Q15,
    };
}

/// `c` (F fractional bits) in Q3.12.
#[inline(always)]
fn to_q312(c: i16, frac: u32) -> i16 {
    if frac >= 12 {
        rshr(c as i32, frac - 12) as i16
    } else {
        sat16((c as i32) << (12 - frac))
    }
}

impl<const N_X: usize, const N_A: usize> QStep for QLstm<N_X, N_A> {
    type X = SVector<i16, N_X>;
    type Y = SVector<i16, N_A>;
    type State = QLstmState<N_A>;
    type XF = SVector<f32, N_X>;
    type YF = SVector<f32, N_A>;

    #[inline]
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
        let a = &state.a;
        let (zf, zi) = (self.f.pre(x, a), self.i.pre(x, a));
        let (zc, zo) = (self.c.pre(x, a), self.o.pre(x, a));
        let frac = (self.c_frac as u32).min(15);
        let ([c], [out]) = (&mut state.c.data.0, &mut y.data.0);
        let units = zf.iter().zip(&zi).zip(&zc).zip(&zo);
        for ((((&zf, &zi), &zc), &zo), (c, a)) in units.zip(c.iter_mut().zip(out.iter_mut())) {
            let (f, i, g, o) = (sigmoid_q(zf), sigmoid_q(zi), tanh_q(zc), sigmoid_q(zo));
            let kept = rshr(f as i32 * *c as i32, 15);
            let new = rshr(i as i32 * g as i32, 30 - frac);
            *c = sat16(kept + new);
            *a = mul_q15(o, tanh_q(to_q312(*c, frac)));
        }
        state.a = *y;
    }
    fn quantize_input(&self, x: &Self::XF) -> Self::X {
        self.x_scale.quantize(x)
    }
    fn dequantize_output(&self, y: &Self::Y) -> Self::YF {
        QScale::Q15.dequantize(y)
    }
    fn validate(&self) -> Result<(), crate::Error> {
        self.f.validate("lstm.f")?;
        self.i.validate("lstm.i")?;
        self.c.validate("lstm.c")?;
        self.o.validate("lstm.o")?;
        if self.c_frac > 15 {
            return Err(crate::Error::Quantization {
                what: "lstm.c_frac",
                index: 0,
                problem: "above 15",
            });
        }
        Ok(())
    }
    fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QLstm { f: ")?;
        self.f.write_rust(f)?;
        f.write_str(", i: ")?;
        self.i.write_rust(f)?;
        f.write_str(", c: ")?;
        self.c.write_rust(f)?;
        f.write_str(", o: ")?;
        self.o.write_rust(f)?;
        write!(f, ", c_frac: {}, x_scale: ", self.c_frac)?;
        self.x_scale.write_rust(f)?;
        f.write_str(" }")
    }
}

/// A quantized GRU, the twin of [`Gru`](crate::Gru) in both reset placements: gates `z`, `r`
/// as [`QGate`]s to Q3.12; the candidate `n` is a [`QGate`] too, whose input part
/// `nx = rq(Wnx·x + bnx)` and recurrent part `na = rq(Wna·a + bna)` (of `r ⊙ a` for
/// [`ResetBefore`](crate::ResetBefore)) are combined by the variant:
///
/// ```text
/// ResetAfter:  n = tanh_q(sat16(nx + rshr(r·na, 15)))     ResetBefore: n = tanh_q(sat16(nx + na))
/// a⟨t⟩ = rshr(z·a⟨t−1⟩ + (32768 − z)·n, 15)
/// ```
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::{QGru, QStep};
/// let mut q = QGru::<1, 1>::ZEROS;
/// (q.n.x.w_t[0], q.n.x.mult[0], q.n.x.shift[0]) = (1, 32768, 15);
/// let (mut a, mut y) = (SVector::zeros(), SVector::zeros());
/// q.step(&SVector::from([2048]), &mut a, &mut y); // z = ½, n = tanh(½)
/// assert!((y[0] as f64 / 32768.0 - 0.5 * 0.5f64.tanh()).abs() < 1e-4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QGru<const N_X: usize, const N_A: usize, V = ResetAfter> {
    /// Update gate.
    pub z: QGate<N_X, N_A>,
    /// Reset gate.
    pub r: QGate<N_X, N_A>,
    /// The candidate: `n.x` is `Wnx·x + bnx`, `n.a` is `Wna·a + bna` (reset-after) or
    /// `Wna·(r ⊙ a) + bna` (reset-before).
    pub n: QGate<N_X, N_A>,
    /// How the input is quantized.
    pub x_scale: QScale<N_X>,
    /// The reset placement, a zero-sized marker.
    pub variant: PhantomData<V>,
}

impl<const N_X: usize, const N_A: usize, V> QGru<N_X, N_A, V> {
    /// All zero, input in Q0.15.
    pub const ZEROS: Self = Self {
        z: QGate::ZEROS,
        r: QGate::ZEROS,
        n: QGate::ZEROS,
        x_scale: QScale::Q15,
        variant: PhantomData,
    };
}

impl<const N_X: usize, const N_A: usize, V: GruVariant> QStep for QGru<N_X, N_A, V> {
    type X = SVector<i16, N_X>;
    type Y = SVector<i16, N_A>;
    type State = SVector<i16, N_A>;
    type XF = SVector<f32, N_X>;
    type YF = SVector<f32, N_A>;

    #[inline]
    fn step(&self, x: &Self::X, state: &mut Self::State, y: &mut Self::Y) {
        let zz = self.z.pre(x, state);
        let mut r = self.r.pre(x, state);
        for rj in r.iter_mut() {
            *rj = sigmoid_q(*rj);
        }
        let nx = self.n.x.acc(x);
        let na = if V::RESET_AFTER {
            self.n.a.acc(state)
        } else {
            let mut q = [0i16; N_A];
            let [a] = &state.data.0;
            for ((qj, &rj), &aj) in q.iter_mut().zip(&r).zip(a) {
                *qj = mul_q15(rj, aj);
            }
            self.n
                .a
                .acc(&SVector::from_array_storage(nalgebra::ArrayStorage([q])))
        };
        let (px, pa) = (&self.n.x, &self.n.a);
        let parts = per_row(&nx, &px.mult, &px.shift, requant_wide);
        let parts = parts.zip(per_row(&na, &pa.mult, &pa.shift, requant_wide));
        let gates = zz.iter().zip(&r);
        let ([out], [h]) = (&mut y.data.0, &state.data.0);
        for (((nx, na), (&zj, &rj)), (yj, &hj)) in parts.zip(gates).zip(out.iter_mut().zip(h)) {
            let pre = if V::RESET_AFTER {
                nx + mul_q15_wide(rj, na)
            } else {
                nx + na
            };
            let n = tanh_q(sat16(pre)) as i32;
            let z = sigmoid_q(zj) as i32;
            *yj = rshr(z * hj as i32 + (32768 - z) * n, 15) as i16;
        }
        *state = *y;
    }
    fn quantize_input(&self, x: &Self::XF) -> Self::X {
        self.x_scale.quantize(x)
    }
    fn dequantize_output(&self, y: &Self::Y) -> Self::YF {
        QScale::Q15.dequantize(y)
    }
    fn validate(&self) -> Result<(), crate::Error> {
        self.z.validate("gru.z")?;
        self.r.validate("gru.r")?;
        self.n.validate("gru.n")
    }
    fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QGru { z: ")?;
        self.z.write_rust(f)?;
        f.write_str(", r: ")?;
        self.r.write_rust(f)?;
        f.write_str(", n: ")?;
        self.n.write_rust(f)?;
        f.write_str(", x_scale: ")?;
        self.x_scale.write_rust(f)?;
        f.write_str(", variant: core::marker::PhantomData }")
    }
}

/// How a dense layer's activation runs in integers: tanh and sigmoid read Q3.12 and write
/// Q0.15 through the table; identity and ReLU keep the calibrated output scale.
///
/// # Example
/// ```
/// use tinyrnn::quant::QuantActivation;
/// use tinyrnn::{Relu, Sigmoid};
/// assert_eq!(Relu::apply_q(-5), 0);
/// assert!(Sigmoid::Q15_OUTPUT);
/// assert_eq!(Sigmoid::apply_q(0), 16384);
/// ```
pub trait QuantActivation: Activation {
    /// The output is Q0.15 and the pre-activation Q3.12 (tanh, sigmoid); otherwise both are
    /// in the calibrated output scale.
    const Q15_OUTPUT: bool;
    /// The activation on a requantised pre-activation.
    fn apply_q(z: i16) -> i16;
}

impl QuantActivation for Identity {
    const Q15_OUTPUT: bool = false;
    #[inline(always)]
    fn apply_q(z: i16) -> i16 {
        z
    }
}
impl QuantActivation for Relu {
    const Q15_OUTPUT: bool = false;
    #[inline(always)]
    fn apply_q(z: i16) -> i16 {
        z.max(0)
    }
}
impl QuantActivation for Tanh {
    const Q15_OUTPUT: bool = true;
    #[inline(always)]
    fn apply_q(z: i16) -> i16 {
        tanh_q(z)
    }
}
impl QuantActivation for Sigmoid {
    const Q15_OUTPUT: bool = true;
    #[inline(always)]
    fn apply_q(z: i16) -> i16 {
        sigmoid_q(z)
    }
}

/// A quantized dense layer, the twin of [`Dense`](crate::Dense): `y = φ_q(requant(bias +
/// W·x))`, to Q3.12 then the table for tanh and sigmoid, to `y_scale` for identity and ReLU.
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::quant::{QDense, QStep};
/// use tinyrnn::Relu;
/// let mut d = QDense::<2, 1, Relu>::ZEROS;
/// (d.w.w_t[0], d.w.w_t[1], d.w.mult[0], d.w.shift[0]) = (1, -1, 32768, 15);
/// let mut y = SVector::zeros();
/// d.step(&SVector::from([5, 9]), &mut (), &mut y);
/// assert_eq!(y[0], 0); // ReLU(5 − 9)
/// d.step(&SVector::from([9, 5]), &mut (), &mut y);
/// assert_eq!(y[0], 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QDense<const N_IN: usize, const N_OUT: usize, A = Identity> {
    /// The affine map.
    pub w: QAffine<N_IN, N_OUT>,
    /// How the input is quantized.
    pub x_scale: QScale<N_IN>,
    /// How the output is quantized ([`QScale::Q15`] for tanh and sigmoid).
    pub y_scale: QScale<N_OUT>,
    /// The activation, a zero-sized marker.
    pub activation: PhantomData<A>,
}

impl<const N_IN: usize, const N_OUT: usize, A> QDense<N_IN, N_OUT, A> {
    /// All zero, input and output in Q0.15.
    pub const ZEROS: Self = Self {
        w: QAffine::ZEROS,
        x_scale: QScale::Q15,
        y_scale: QScale::Q15,
        activation: PhantomData,
    };
}

impl<const N_IN: usize, const N_OUT: usize, A: QuantActivation> QStep for QDense<N_IN, N_OUT, A> {
    type X = SVector<i16, N_IN>;
    type Y = SVector<i16, N_OUT>;
    type State = ();
    type XF = SVector<f32, N_IN>;
    type YF = SVector<f32, N_OUT>;

    #[inline]
    fn step(&self, x: &Self::X, _state: &mut (), y: &mut Self::Y) {
        let z = self.w.apply_one(x);
        for (yj, &zj) in y.iter_mut().zip(z.iter()) {
            *yj = A::apply_q(zj);
        }
    }
    fn quantize_input(&self, x: &Self::XF) -> Self::X {
        self.x_scale.quantize(x)
    }
    fn dequantize_output(&self, y: &Self::Y) -> Self::YF {
        self.y_scale.dequantize(y)
    }
    fn validate(&self) -> Result<(), crate::Error> {
        self.w.validate("dense.w")
    }
    fn write_rust(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("tinyrnn::quant::QDense { w: ")?;
        self.w.write_rust(f)?;
        f.write_str(", x_scale: ")?;
        self.x_scale.write_rust(f)?;
        f.write_str(", y_scale: ")?;
        self.y_scale.write_rust(f)?;
        f.write_str(", activation: core::marker::PhantomData }")
    }
}
