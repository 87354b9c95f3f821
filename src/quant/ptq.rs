//! Post-training quantisation: calibration of the ranges, then conversion.
//!
//! Conversion code, run once (on a host, typically), never on the quantized step: it indexes
//! matrices by row and column, and every index is a loop counter below the const dimension it
//! indexes, so none can panic.
#![allow(clippy::indexing_slicing)]

use super::{QAffine, QDense, QGate, QGru, QLstm, QRnn, QScale, QStep, QuantActivation};
use crate::gru::GruVariant;
use crate::layer::{Stack, Step};
use crate::params::Zeroed;
use crate::{Dense, Error, Gru, Lstm, Real, Rnn};
use core::marker::PhantomData;
use nalgebra::{SMatrix, SVector};

/// The range of each of `N` values seen during calibration.
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::{params::Zeroed, quant::Ranges};
/// let mut r = Ranges::<2>::ZEROS;
/// r.observe(&SVector::from([1.0_f32, 5.0]));
/// r.observe(&SVector::from([3.0_f32, -5.0]));
/// assert_eq!((r.lo[0], r.hi[0], r.lo[1], r.hi[1]), (1.0, 3.0, -5.0, 5.0));
/// // Twice the span about its centre, onto [−32768, 32767]:
/// let s = r.scale().unwrap();
/// assert!((s.scale[0] - 4.0 / 65535.0).abs() < 1e-9); // [0, 4]
/// assert!((s.scale[1] - 20.0 / 65535.0).abs() < 1e-9); // [−10, 10]
/// let v = SVector::from([2.5, -4.0]);
/// assert!((s.dequantize(&s.quantize(&v)) - v).abs().max() < 2e-4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranges<const N: usize> {
    /// The smallest value of each feature.
    pub lo: SVector<f64, N>,
    /// The largest value of each feature.
    pub hi: SVector<f64, N>,
    /// How many vectors were observed.
    pub count: u64,
    /// The first non-finite value seen (its feature), if any.
    pub non_finite: Option<usize>,
}

impl<const N: usize> Zeroed for Ranges<N> {
    const ZEROS: Self = Self {
        lo: Zeroed::ZEROS,
        hi: Zeroed::ZEROS,
        count: 0,
        non_finite: None,
    };
}

impl<const N: usize> Ranges<N> {
    /// Widens the ranges to include `v`.
    pub fn observe<T: Real>(&mut self, v: &SMatrix<T, N, 1>) {
        for (k, &x) in v.iter().enumerate() {
            let x = x.as_f64();
            if !x.is_finite() {
                self.non_finite.get_or_insert(k);
                continue;
            }
            if self.count == 0 {
                (self.lo[(k, 0)], self.hi[(k, 0)]) = (x, x);
            } else {
                self.lo[(k, 0)] = self.lo[(k, 0)].min(x);
                self.hi[(k, 0)] = self.hi[(k, 0)].max(x);
            }
        }
        self.count += 1;
    }

    /// The largest `|v|` seen per feature.
    fn max_abs(&self, k: usize) -> f64 {
        self.lo[(k, 0)].abs().max(self.hi[(k, 0)].abs())
    }

    /// The affine scale of the [module docs](super): the range widened about its centre to
    /// twice its span, onto `[−32768, 32767]`; extended to include 0 first when the zero
    /// point would not fit `i16`. An error for a non-finite value or no observation.
    pub fn scale(&self) -> Result<QScale<N>, Error> {
        self.check()?;
        let mut s = QScale::<N>::Q15;
        for k in 0..N {
            let (mut lo, mut hi) = (self.lo[(k, 0)], self.hi[(k, 0)]);
            let (scale, zero) = loop {
                let (c, h) = ((lo + hi) / 2.0, (hi - lo).max(0.0));
                // A constant feature: a span of its magnitude (or 1).
                let h = if h > 0.0 { h } else { c.abs().max(1.0) };
                let (lo2, span) = (c - h, 2.0 * h);
                let scale = (span / 65535.0) as f32 as f64;
                let zero = libm::round(-32768.0 - lo2 / scale);
                if (-32768.0..=32767.0).contains(&zero) || (lo <= 0.0 && hi >= 0.0) {
                    break (scale, zero.clamp(-32768.0, 32767.0));
                }
                (lo, hi) = (lo.min(0.0), hi.max(0.0));
            };
            s.scale[(k, 0)] = scale as f32;
            s.zero[(k, 0)] = zero as i16;
        }
        Ok(s)
    }

    /// A symmetric scale per feature (`zero = 0`) covering twice the largest `|v|`.
    fn symmetric(&self) -> Result<QScale<N>, Error> {
        self.check()?;
        let mut s = QScale::<N>::Q15;
        for k in 0..N {
            let m = self.max_abs(k);
            s.scale[(k, 0)] = if m > 0.0 {
                (2.0 * m / 32767.0) as f32
            } else {
                1.0 / 32768.0
            };
        }
        Ok(s)
    }

    fn check(&self) -> Result<(), Error> {
        if let Some(index) = self.non_finite {
            return Err(Error::NonFinite {
                what: "calibration data",
                index,
            });
        }
        if self.count == 0 {
            return Err(Error::InvalidSetting {
                what: "calibration",
                requirement: "at least one observed step",
            });
        }
        Ok(())
    }
}

/// What calibration records for one layer: its input ranges, its output ranges (used by
/// identity and ReLU dense layers) and the largest `|c|` (used by the LSTM).
///
/// # Example
/// ```
/// use tinyrnn::{params::Zeroed, quant::LayerStats};
/// let s = LayerStats::<3, 4>::ZEROS;
/// assert_eq!(s.x.count, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerStats<const N_IN: usize, const N_OUT: usize> {
    /// The input's ranges.
    pub x: Ranges<N_IN>,
    /// The output's ranges.
    pub y: Ranges<N_OUT>,
    /// The largest `|c|` of an LSTM's cell state.
    pub c_max: f64,
}

impl<const N_IN: usize, const N_OUT: usize> Zeroed for LayerStats<N_IN, N_OUT> {
    const ZEROS: Self = Self {
        x: Zeroed::ZEROS,
        y: Zeroed::ZEROS,
        c_max: 0.0,
    };
}

/// A float layer that has a quantized twin: [`Rnn`], [`Lstm`], [`Gru`], [`Dense`] and
/// [`Stack`]s of them (any model that can stream at batch 1).
///
/// # Example
/// ```
/// use tinyrnn::quant::{QLstm, Quantize};
/// use tinyrnn::Lstm;
/// fn twin<L: Quantize<f32>>() -> &'static str { core::any::type_name::<L::Q>() }
/// assert!(twin::<Lstm<f32, 4, 8>>().ends_with("QLstm<4, 8>"));
/// ```
pub trait Quantize<T: Real>: Step<T, 1> {
    /// The quantized layer.
    type Q: QStep;
    /// What calibration records.
    type Stats: Copy + Zeroed;
    /// The input's quantisation (`QScale<N_IN>`).
    type XScale;
    /// The output's quantisation (`QScale<N_OUT>`).
    type YScale;

    /// One float step (exactly [`Step::step`]) that records the ranges calibration needs.
    fn observe(
        &self,
        x: &Self::X,
        state: &mut Self::State,
        y: &mut Self::Y,
        stats: &mut Self::Stats,
    );

    /// Converts, given the recorded statistics and the input's quantisation (`None`: from the
    /// recorded input ranges, for the first layer). Returns the layer and its output's
    /// quantisation, which the next layer reads.
    fn quantize_with(
        &self,
        stats: &Self::Stats,
        x_scale: Option<&Self::XScale>,
    ) -> Result<(Self::Q, Self::YScale), Error>;
}

/// Calibration by hand: observe steps (carrying the state across a sequence), then convert.
/// [`quantize`] does all of it in one call.
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::{init::{Init, Initialize, Rng}, quant::{Calibrator, QStep}, Gru};
///
/// let gru = Gru::<f64, 2, 4>::init(&Init::default(), &mut Rng::new(3));
/// let mut cal = Calibrator::<f64, _>::new();
/// for s in 0..4 {
///     for t in 0..30 {
///         cal.observe(&gru, &SVector::from([(t as f64 * 0.3).sin(), s as f64]));
///     }
///     cal.end_sequence();
/// }
/// let q = cal.quantize(&gru)?;
/// assert!(q.validate().is_ok());
/// # Ok::<(), tinyrnn::Error>(())
/// ```
pub struct Calibrator<T: Real, L: Quantize<T>> {
    stats: L::Stats,
    state: L::State,
    scalar: PhantomData<fn() -> T>,
}

impl<T: Real, L: Quantize<T>> Calibrator<T, L> {
    /// No observation yet.
    pub fn new() -> Self {
        Self {
            stats: L::Stats::ZEROS,
            state: L::State::ZEROS,
            scalar: PhantomData,
        }
    }

    /// One step of the float model, recording ranges; returns its output.
    pub fn observe(&mut self, net: &L, x: &L::X) -> L::Y {
        let mut y = L::Y::ZEROS;
        net.observe(x, &mut self.state, &mut y, &mut self.stats);
        y
    }

    /// The sequence ended: the next step starts from the zero state.
    pub fn end_sequence(&mut self) {
        self.state = L::State::ZEROS;
    }

    /// What was recorded.
    pub fn stats(&self) -> &L::Stats {
        &self.stats
    }

    /// Converts `net` with the recorded ranges; the result is validated.
    pub fn quantize(&self, net: &L) -> Result<L::Q, Error> {
        self.convert(net, None)
    }

    /// Converts `net` with a given input quantisation instead of the calibrated one: for a
    /// device without an FPU whose samples are already integers. If the model was trained on
    /// `x = k·counts` (an ADC reading in physical units), `scale = k`, `zero = 0` makes the
    /// quantized input the raw counts themselves, with no conversion on the device.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SVector;
    /// use tinyrnn::init::{Init, Initialize, Rng};
    /// use tinyrnn::quant::{Calibrator, QScale, QStep, QStream};
    /// use tinyrnn::{Lstm, Stream};
    ///
    /// // Trained on millivolts, x = 0.8 mV per ADC count.
    /// let lstm = Lstm::<f32, 1, 8>::init(&Init::default(), &mut Rng::new(5));
    /// let counts: Vec<i16> = (0..40).map(|t| ((t as f32 * 0.4).sin() * 900.0) as i16).collect();
    /// let mut cal = Calibrator::<f32, _>::new();
    /// for &c in &counts {
    ///     cal.observe(&lstm, &SVector::from([0.8e-3 * c as f32]));
    /// }
    /// let adc = QScale { scale: SVector::from([0.8e-3]), zero: SVector::from([0]) };
    /// let q = cal.quantize_with_input(&lstm, &adc)?;
    ///
    /// // On the device: the counts go in as they are.
    /// let (mut fs, mut qs) = (Stream::<f32, _>::new(), QStream::new());
    /// for &c in &counts {
    ///     let y = fs.step(&lstm, &SVector::from([0.8e-3 * c as f32]));
    ///     let yq = qs.step(&q, &SVector::from([c]));
    ///     assert!((q.dequantize_output(&yq) - y).abs().max() < 5e-3);
    /// }
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn quantize_with_input(&self, net: &L, x_scale: &L::XScale) -> Result<L::Q, Error> {
        self.convert(net, Some(x_scale))
    }

    /// Converts with the recorded statistics and validates the result.
    fn convert(&self, net: &L, x_scale: Option<&L::XScale>) -> Result<L::Q, Error> {
        let (q, _) = net.quantize_with(&self.stats, x_scale)?;
        q.validate()?;
        Ok(q)
    }
}

impl<T: Real, L: Quantize<T>> Default for Calibrator<T, L> {
    fn default() -> Self {
        Self::new()
    }
}

/// Post-training quantisation in one call: runs `net` over every calibration sequence (each
/// from the zero state), records the ranges, and converts (see the [module docs](super) for
/// the scheme). Errors: no step, a non-finite value, a model whose accumulators could
/// overflow (weights or a bias too large for the scheme).
///
/// # Example
/// ```
/// use nalgebra::SVector;
/// use tinyrnn::{init::{Init, Initialize, Rng}, quant, Rnn};
/// let rnn = Rnn::<f32, 1, 8>::init(&Init::default(), &mut Rng::new(1));
/// let seqs = [[SVector::from([0.5_f32]); 10], [SVector::from([-2.0_f32]); 10]];
/// let q = quant::quantize(&rnn, &seqs)?;
/// assert!(q.x_scale.scale[0] > 0.0);
/// # Ok::<(), tinyrnn::Error>(())
/// ```
pub fn quantize<T, L, S, const N_X: usize>(
    net: &L,
    calibration: impl IntoIterator<Item = S>,
) -> Result<L::Q, Error>
where
    T: Real,
    L: Quantize<T, X = SVector<T, N_X>>,
    S: AsRef<[SVector<T, N_X>]>,
{
    let mut cal = Calibrator::<T, L>::new();
    for seq in calibration {
        for x in seq.as_ref() {
            cal.observe(net, x);
        }
        cal.end_sequence();
    }
    cal.quantize(net)
}

/// `(m, s)` with `m·2^−s ≈ r`, `m ∈ [2^15, 2^16)`, `s ∈ 0..=62` (0, 0 for a negligible `r`).
fn multiplier(r: f64, what: &'static str, index: usize) -> Result<(u16, u8), Error> {
    if r == 0.0 {
        return Ok((0, 0));
    }
    let (frac, e) = libm::frexp(r); // r = frac·2^e, frac ∈ [0.5, 1)
    let (mut m, mut e) = (libm::round(frac * 65536.0), e);
    if m >= 65536.0 {
        (m, e) = (32768.0, e + 1);
    }
    let s = 16 - e;
    if s < 0 {
        return Err(Error::Quantization {
            what,
            index,
            problem:
                "requantisation multiplier of 2^16 or more (weights huge against the output scale)",
        });
    }
    if s > 62 {
        return Ok((0, 0)); // |acc·r| < 2^31·2^−47: rounds to 0 for every accumulator
    }
    Ok((m as u16, s as u8))
}

/// Quantizes `z = W·x + b` row by row (the [module docs](super)): the input scales folded
/// into the weights, one int8 scale per row, the zero points folded into the bias, and each
/// row's multiplier to `out_unit[j]`.
fn affine<T: Real, const N_IN: usize, const N_OUT: usize>(
    what: &'static str,
    w: &SMatrix<T, N_OUT, N_IN>,
    x_scale: &QScale<N_IN>,
    b: &SVector<T, N_OUT>,
    out_unit: &SVector<f64, N_OUT>,
) -> Result<QAffine<N_IN, N_OUT>, Error> {
    for (index, v) in w.iter().chain(b.iter()).enumerate() {
        if !v.as_f64().is_finite() {
            return Err(Error::NonFinite { what, index });
        }
    }
    let mut out = QAffine::<N_IN, N_OUT>::ZEROS;
    for j in 0..N_OUT {
        let scaled = |k: usize| w[(j, k)].as_f64() * x_scale.scale[(k, 0)] as f64;
        let wmax = (0..N_IN).map(|k| scaled(k).abs()).fold(0.0, f64::max);
        let bj = b[(j, 0)].as_f64();
        // At least |b|/2^29, so that the bias fits the accumulator beside the products even
        // when the row's weights are tiny next to it (its resolution is then still 2^−29 of
        // the bias, far below an output step).
        let s_row = (wmax / 127.0).max(bj.abs() / (1u64 << 29) as f64);
        if s_row == 0.0 {
            continue; // all zero: the row stays 0 (multiplier 0)
        }
        let mut bias = libm::round(bj / s_row);
        let mut abs_sum = 0.0;
        for k in 0..N_IN {
            let q = libm::round(scaled(k) / s_row).clamp(-127.0, 127.0);
            out.w_t[(k, j)] = q as i8;
            bias -= q * x_scale.zero[(k, 0)] as f64;
            abs_sum += q.abs();
        }
        if bias.abs() + 32768.0 * abs_sum > i32::MAX as f64 {
            return Err(Error::Quantization {
                what,
                index: j,
                problem: "the accumulator of this row could overflow i32 (a bias or an input zero point too large against the weights)",
            });
        }
        out.bias[(j, 0)] = bias as i32;
        (out.mult[(j, 0)], out.shift[(j, 0)]) = multiplier(s_row / out_unit[(j, 0)], what, j)?;
    }
    Ok(out)
}

const GATE_UNIT: f64 = 1.0 / 4096.0;

/// A gate `Wx·x + bx + Wa·a + ba` (`a` in Q0.15): its two parts, each to Q3.12.
fn gate<T: Real, const N_X: usize, const N_A: usize>(
    what: &'static str,
    (wx, x_scale, bx): (&SMatrix<T, N_A, N_X>, &QScale<N_X>, &SVector<T, N_A>),
    (wa, ba): (&SMatrix<T, N_A, N_A>, &SVector<T, N_A>),
) -> Result<QGate<N_X, N_A>, Error> {
    let unit = SVector::repeat(GATE_UNIT);
    Ok(QGate {
        x: affine(what, wx, x_scale, bx, &unit)?,
        a: affine(what, wa, &QScale::Q15, ba, &unit)?,
    })
}

fn input_scale<const N: usize>(
    stats: &Ranges<N>,
    given: Option<&QScale<N>>,
) -> Result<QScale<N>, Error> {
    match given {
        Some(s) => Ok(*s),
        None => stats.scale(),
    }
}

impl<T: Real, const N_X: usize, const N_A: usize> Quantize<T> for Rnn<T, N_X, N_A> {
    type Q = QRnn<N_X, N_A>;
    type Stats = LayerStats<N_X, N_A>;
    type XScale = QScale<N_X>;
    type YScale = QScale<N_A>;

    fn observe(
        &self,
        x: &Self::X,
        state: &mut Self::State,
        y: &mut Self::Y,
        stats: &mut Self::Stats,
    ) {
        stats.x.observe(x);
        self.step(x, state, y);
    }

    fn quantize_with(
        &self,
        stats: &Self::Stats,
        x_scale: Option<&QScale<N_X>>,
    ) -> Result<(Self::Q, QScale<N_A>), Error> {
        let x_scale = input_scale(&stats.x, x_scale)?;
        let zero = SVector::zeros();
        let gate = gate("rnn", (&self.wax, &x_scale, &self.ba), (&self.waa, &zero))?;
        Ok((QRnn { gate, x_scale }, QScale::Q15))
    }
}

impl<T: Real, const N_X: usize, const N_A: usize> Quantize<T> for Lstm<T, N_X, N_A> {
    type Q = QLstm<N_X, N_A>;
    type Stats = LayerStats<N_X, N_A>;
    type XScale = QScale<N_X>;
    type YScale = QScale<N_A>;

    fn observe(
        &self,
        x: &Self::X,
        state: &mut Self::State,
        y: &mut Self::Y,
        stats: &mut Self::Stats,
    ) {
        stats.x.observe(x);
        self.step(x, state, y);
        let c = state.c.iter().map(|v| v.as_f64().abs()).fold(0.0, f64::max);
        stats.c_max = stats.c_max.max(c);
    }

    fn quantize_with(
        &self,
        stats: &Self::Stats,
        x_scale: Option<&QScale<N_X>>,
    ) -> Result<(Self::Q, QScale<N_A>), Error> {
        let xs = input_scale(&stats.x, x_scale)?;
        // F: the most fractional bits with 2·max|c| < 2^(15 − F), in 0..=15.
        let c_frac = if stats.c_max > 0.0 && stats.c_max.is_finite() {
            let room = libm::floor(libm::log2(32767.0 / (2.0 * stats.c_max)));
            room.clamp(0.0, 15.0) as u8
        } else {
            12
        };
        let zero = SVector::zeros();
        let q = QLstm {
            f: gate("lstm.f", (&self.wfx, &xs, &self.bf), (&self.wfa, &zero))?,
            i: gate("lstm.i", (&self.wix, &xs, &self.bi), (&self.wia, &zero))?,
            c: gate("lstm.c", (&self.wcx, &xs, &self.bc), (&self.wca, &zero))?,
            o: gate("lstm.o", (&self.wox, &xs, &self.bo), (&self.woa, &zero))?,
            c_frac,
            x_scale: xs,
        };
        Ok((q, QScale::Q15))
    }
}

impl<T: Real, const N_X: usize, const N_A: usize, V: GruVariant> Quantize<T>
    for Gru<T, N_X, N_A, V>
{
    type Q = QGru<N_X, N_A, V>;
    type Stats = LayerStats<N_X, N_A>;
    type XScale = QScale<N_X>;
    type YScale = QScale<N_A>;

    fn observe(
        &self,
        x: &Self::X,
        state: &mut Self::State,
        y: &mut Self::Y,
        stats: &mut Self::Stats,
    ) {
        stats.x.observe(x);
        self.step(x, state, y);
    }

    fn quantize_with(
        &self,
        stats: &Self::Stats,
        x_scale: Option<&QScale<N_X>>,
    ) -> Result<(Self::Q, QScale<N_A>), Error> {
        let xs = input_scale(&stats.x, x_scale)?;
        let zero = SVector::zeros();
        let q = QGru {
            z: gate("gru.z", (&self.wzx, &xs, &self.bz), (&self.wza, &zero))?,
            r: gate("gru.r", (&self.wrx, &xs, &self.br), (&self.wra, &zero))?,
            n: gate("gru.n", (&self.wnx, &xs, &self.bnx), (&self.wna, &self.bna))?,
            x_scale: xs,
            variant: PhantomData,
        };
        Ok((q, QScale::Q15))
    }
}

impl<T: Real, const N_IN: usize, const N_OUT: usize, A: QuantActivation> Quantize<T>
    for Dense<T, N_IN, N_OUT, A>
{
    type Q = QDense<N_IN, N_OUT, A>;
    type Stats = LayerStats<N_IN, N_OUT>;
    type XScale = QScale<N_IN>;
    type YScale = QScale<N_OUT>;

    fn observe(&self, x: &Self::X, state: &mut (), y: &mut Self::Y, stats: &mut Self::Stats) {
        stats.x.observe(x);
        self.step(x, state, y);
        stats.y.observe(y);
    }

    fn quantize_with(
        &self,
        stats: &Self::Stats,
        x_scale: Option<&QScale<N_IN>>,
    ) -> Result<(Self::Q, QScale<N_OUT>), Error> {
        let xs = input_scale(&stats.x, x_scale)?;
        let ys = if A::Q15_OUTPUT {
            QScale::Q15
        } else {
            stats.y.symmetric()?
        };
        let unit = if A::Q15_OUTPUT {
            SVector::repeat(GATE_UNIT)
        } else {
            SVector::from_fn(|j, _| ys.scale[(j, 0)] as f64)
        };
        let q = QDense {
            w: affine("dense", &self.w, &xs, &self.b, &unit)?,
            x_scale: xs,
            y_scale: ys,
            activation: PhantomData,
        };
        Ok((q, ys))
    }
}

impl<T, A, B> Quantize<T> for Stack<A, B>
where
    T: Real,
    A: Quantize<T>,
    B: Quantize<T, X = A::Y, XScale = A::YScale>,
    B::Q: QStep<X = <A::Q as QStep>::Y>,
{
    type Q = Stack<A::Q, B::Q>;
    type Stats = (A::Stats, B::Stats);
    type XScale = A::XScale;
    type YScale = B::YScale;

    fn observe(
        &self,
        x: &Self::X,
        state: &mut Self::State,
        y: &mut Self::Y,
        stats: &mut Self::Stats,
    ) {
        let mut mid = A::Y::ZEROS;
        self.lower.observe(x, &mut state.0, &mut mid, &mut stats.0);
        self.upper.observe(&mid, &mut state.1, y, &mut stats.1);
    }

    fn quantize_with(
        &self,
        stats: &Self::Stats,
        x_scale: Option<&Self::XScale>,
    ) -> Result<(Self::Q, Self::YScale), Error> {
        let (lower, mid) = self.lower.quantize_with(&stats.0, x_scale)?;
        let (upper, out) = self.upper.quantize_with(&stats.1, Some(&mid))?;
        Ok((Stack { lower, upper }, out))
    }
}
