//! Weight initialisation without `std`: a small seedable generator ([`Rng`]) and the
//! initialisation schemes ([`Init`]).
//!
//! The same seed gives the same weights on every target: the generator is integer-only
//! (SplitMix64) and samples are converted to `f32`/`f64` exactly ([`Real::unit_from_bits`]).
//!
//! ```
//! use tinyrnn::init::{Init, Rng};
//! use tinyrnn::LstmParams;
//!
//! let a = LstmParams::<f32, 6, 32, 4>::init(&Init::default(), &mut Rng::new(42));
//! let b = LstmParams::<f32, 6, 32, 4>::init(&Init::default(), &mut Rng::new(42));
//! assert_eq!(a, b);
//! assert!(a.bf.iter().all(|&v| v == 1.0)); // forget-gate bias 1 by default
//! ```

use crate::{Error, Real};
use nalgebra::SMatrix;

/// A small, fast, seedable pseudo-random generator (SplitMix64, Steele, Lea & Flood 2014).
///
/// Not cryptographic. Passes BigCrush; every seed, including 0, gives a full-period stream.
///
/// # Example
/// ```
/// use tinyrnn::init::Rng;
/// let mut rng = Rng::new(7);
/// let x: f64 = rng.uniform(-1.0, 1.0);
/// assert!((-1.0..1.0).contains(&x));
/// assert_eq!(Rng::new(7).next_u64(), Rng::new(7).next_u64());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator with the given seed.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::Rng;
    /// assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    /// ```
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::Rng;
    /// // SplitMix64's published first output for seed 0.
    /// assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform sample in `[lo, hi)`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::Rng;
    /// let mut rng = Rng::new(3);
    /// assert!((0..1000).map(|_| rng.uniform(2.0_f32, 3.0)).all(|v| (2.0..3.0).contains(&v)));
    /// ```
    pub fn uniform<T: Real>(&mut self, lo: T, hi: T) -> T {
        lo + (hi - lo) * T::unit_from_bits(self.next_u64())
    }

    /// A uniform integer in `0..n` (`n > 0`; returns 0 for `n = 0`). Lemire's multiply-shift,
    /// bias below `n / 2^64`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::Rng;
    /// let mut rng = Rng::new(5);
    /// assert!((0..1000).all(|_| rng.below(7) < 7));
    /// ```
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Shuffles a slice in place (Fisher–Yates), e.g. the order of training examples.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::Rng;
    /// let mut order = [0, 1, 2, 3, 4, 5, 6, 7];
    /// Rng::new(11).shuffle(&mut order);
    /// let mut sorted = order;
    /// sorted.sort();
    /// assert_eq!(sorted, [0, 1, 2, 3, 4, 5, 6, 7]);
    /// ```
    pub fn shuffle<U>(&mut self, items: &mut [U]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// Fills a matrix with uniform samples in `[-limit, limit)`.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::init::Rng;
    /// let mut w = SMatrix::<f32, 4, 3>::zeros();
    /// Rng::new(9).fill_uniform(&mut w, 0.5);
    /// assert!(w.iter().all(|v| v.abs() <= 0.5) && w.iter().any(|&v| v != 0.0));
    /// ```
    pub fn fill_uniform<T: Real, const R: usize, const C: usize>(
        &mut self,
        w: &mut SMatrix<T, R, C>,
        limit: T,
    ) {
        for v in w.iter_mut() {
            *v = self.uniform(-limit, limit);
        }
    }
}

/// How weight matrices are drawn.
///
/// # Example
/// ```
/// use tinyrnn::init::WeightInit;
/// assert_eq!(WeightInit::default(), WeightInit::GlorotUniform);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum WeightInit {
    /// Glorot/Xavier uniform: each `(fan_out, fan_in)` block drawn from `U(−l, l)` with
    /// `l = √(6 / (fan_in + fan_out))` (Glorot & Bengio 2010; Keras' default kernel
    /// initializer). For a square recurrent block this gives spectral radius ≈ 1, the scale
    /// an orthogonal initialisation has, without needing a QR decomposition.
    #[default]
    GlorotUniform,
    /// `U(−1/√N_A, 1/√N_A)` for every weight (PyTorch's `nn.RNN`/`nn.LSTM` default).
    UniformFanIn,
}

/// An initialisation recipe: the weight scheme and the forget-gate bias.
///
/// Biases start at zero, except the LSTM forget gate's `bf`, which starts at
/// [`Init::forget_bias`] (1.0 by default, as Keras' `unit_forget_bias=True` and Jozefowicz et
/// al. 2015 recommend, so that the cell remembers by default early in training).
///
/// # Example
/// ```
/// use tinyrnn::init::{Init, Rng, WeightInit};
/// use tinyrnn::{LstmParams, RnnParams};
///
/// let init = Init { weights: WeightInit::UniformFanIn, forget_bias: 0.0 };
/// let p = LstmParams::<f64, 3, 16, 2>::init(&init, &mut Rng::new(1));
/// assert!(p.wfa.iter().all(|v| v.abs() <= 0.25)); // 1/√16
/// assert_eq!(p.bf.sum(), 0.0);
/// let r = RnnParams::<f64, 3, 16, 2>::init(&Init::default(), &mut Rng::new(1));
/// assert!(r.wax.iter().all(|v| v.abs() <= (6.0_f64 / 19.0).sqrt()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Init {
    /// How weight matrices are drawn.
    pub weights: WeightInit,
    /// The initial value of every LSTM forget-gate bias `bf` (ignored by the RNN).
    pub forget_bias: f64,
}

impl Default for Init {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Init {
    /// A checked recipe: the forget bias must be finite (a NaN one used to give a NaN model).
    /// `const`, so a checked recipe can be a `const` or a `static`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, WeightInit};
    /// const INIT: Init = match Init::new(WeightInit::GlorotUniform, 1.0) {
    ///     Ok(init) => init,
    ///     Err(_) => Init::DEFAULT,
    /// };
    /// assert_eq!(INIT, Init::default());
    /// assert!(Init::new(WeightInit::GlorotUniform, f64::NAN).is_err());
    /// ```
    pub const fn new(weights: WeightInit, forget_bias: f64) -> Result<Self, Error> {
        let init = Self {
            weights,
            forget_bias,
        };
        match init.validate() {
            Ok(()) => Ok(init),
            Err(e) => Err(e),
        }
    }

    /// The default recipe (Glorot uniform weights, forget bias 1), usable in `const`.
    pub const DEFAULT: Init = Init {
        weights: WeightInit::GlorotUniform,
        forget_bias: 1.0,
    };

    /// Checks the recipe (for one built by its public fields): the forget bias finite.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, WeightInit};
    /// assert!(Init::default().validate().is_ok());
    /// let bad = Init { weights: WeightInit::UniformFanIn, forget_bias: f64::INFINITY };
    /// assert!(bad.validate().is_err());
    /// ```
    pub const fn validate(&self) -> Result<(), Error> {
        if self.forget_bias.is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidSetting {
                what: "forget_bias",
                requirement: "finite",
            })
        }
    }

    /// The half-width of the uniform range for a `(fan_out, fan_in)` block in a model with
    /// `n_a` hidden units.
    pub(crate) fn limit<T: Real>(&self, fan_out: usize, fan_in: usize, n_a: usize) -> T {
        match self.weights {
            WeightInit::GlorotUniform => {
                (T::lit(6.0) / T::lit((fan_in + fan_out) as f64)).sqrt_libm()
            }
            WeightInit::UniformFanIn => T::one() / T::lit(n_a as f64).sqrt_libm(),
        }
    }

    /// Fills an `(R, C)` weight block (fan-out `R`, fan-in `C`).
    pub(crate) fn fill<T: Real, const R: usize, const C: usize>(
        &self,
        w: &mut SMatrix<T, R, C>,
        n_a: usize,
        rng: &mut Rng,
    ) {
        rng.fill_uniform(w, self.limit(R, C, n_a));
    }
}

/// Parameters that can be freshly initialised from an [`Init`] recipe and a seeded [`Rng`]:
/// every layer, and every composition of layers (each part in order, from one generator).
///
/// # Example
/// ```
/// use tinyrnn::init::{Init, Initialize, Rng};
/// use tinyrnn::{Dense, Gru, Model, Params};
///
/// type Net = Model<Gru<f32, 3, 8>, Dense<f32, 8, 2>>;
/// let a = Net::init(&Init::default(), &mut Rng::new(7));
/// let b = Net::init(&Init::default(), &mut Rng::new(7));
/// assert_eq!(a, b); // reproducible from the seed
/// assert!(a.lower.wzx.iter().any(|&w| w != 0.0));
/// ```
pub trait Initialize: Sized {
    /// Fresh parameters: weights drawn by `init.weights`, biases zero except where a layer
    /// documents otherwise (the LSTM forget gate).
    ///
    /// Returns the value, which may sit on the stack more than once in a debug build; on a
    /// small stack, initialise storage you already own with [`Initialize::init_into`] (or, with
    /// the `alloc` feature, on the heap with `tinyrnn::boxed::init`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Initialize, Rng, WeightInit};
    /// use tinyrnn::Lstm;
    ///
    /// let init = Init { weights: WeightInit::UniformFanIn, forget_bias: 1.0 };
    /// let lstm: Lstm<f64, 3, 4> = Initialize::init(&init, &mut Rng::new(42));
    /// // Weights uniform in ±1/√N_A, the forget-gate bias 1, the other biases 0.
    /// assert!(lstm.wix.iter().chain(lstm.wca.iter()).all(|w| w.abs() <= 0.5));
    /// assert!(lstm.wix.iter().any(|&w| w != 0.0));
    /// assert!(lstm.bf.iter().all(|&b| b == 1.0));
    /// assert_eq!(lstm.bi.sum(), 0.0);
    /// ```
    fn init(init: &Init, rng: &mut Rng) -> Self;

    /// Initialises `self` in place: every value is overwritten with exactly what
    /// [`Initialize::init`] returns for the same recipe and generator state, bit for bit (the
    /// same numbers drawn in the same order), whatever `self` held before. No copy of the
    /// parameters is made, so a `static` model on a device can be (re)initialised without
    /// stack room for it.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::init::{Init, Initialize, Rng};
    /// use tinyrnn::{Dense, Lstm, Model, Params};
    ///
    /// type Net = Model<Lstm<f32, 3, 16>, Dense<f32, 16, 2>>;
    /// let mut net = Net::zeros(); // or a `static`, or a `Box`
    /// net.init_into(&Init::default(), &mut Rng::new(5));
    /// assert_eq!(net, Net::init(&Init::default(), &mut Rng::new(5)));
    /// ```
    fn init_into(&mut self, init: &Init, rng: &mut Rng);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_moments_and_below_cover_the_range() {
        let mut rng = Rng::new(123);
        let n = 100_000;
        let (mut sum, mut sq) = (0.0, 0.0);
        for _ in 0..n {
            let u: f64 = rng.uniform(0.0, 1.0);
            sum += u;
            sq += u * u;
        }
        let mean = sum / n as f64;
        let var = sq / n as f64 - mean * mean;
        assert!((mean - 0.5).abs() < 5e-3, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 2e-3, "var {var}");
        let mut seen = [0usize; 5];
        for _ in 0..10_000 {
            seen[rng.below(5)] += 1;
        }
        assert!(seen.iter().all(|&c| (1800..2200).contains(&c)), "{seen:?}");
    }

    #[test]
    fn glorot_limits() {
        let init = Init::default();
        assert_eq!(init.limit::<f64>(4, 2, 4), 1.0);
        let fan = Init {
            weights: WeightInit::UniformFanIn,
            forget_bias: 1.0,
        };
        assert_eq!(fan.limit::<f64>(4, 2, 16), 0.25);
    }

    #[test]
    fn shuffle_is_a_permutation_and_depends_on_the_seed() {
        let mut a: [usize; 32] = core::array::from_fn(|k| k);
        let mut b = a;
        Rng::new(1).shuffle(&mut a);
        Rng::new(2).shuffle(&mut b);
        assert_ne!(a, b);
        let mut s = a;
        s.sort_unstable();
        assert_eq!(s, core::array::from_fn::<usize, 32, _>(|k| k));
    }
}
