//! The scalar trait: [`Real`], implemented for `f32` and `f64`.
//!
//! Every public item of the crate is generic over one `T: Real`, so signatures stay short.
//! `Real` is nalgebra's [`RealField`] plus `Copy` (which `RealField` does not require) plus the
//! handful of functions the cells need, computed in plain IEEE arithmetic (the crate's own, or
//! [`libm`]'s) so that a host test and a Cortex-M or RISC-V build of the same code produce the
//! same bits.
//!
//! The activations the cells use, [`Real::sigmoid`], [`Real::tanh_branchless`] and
//! [`Real::exp_branchless`] (also reachable as [`crate::activation::sigmoid`], `tanh` and `exp`),
//! are the crate's own call-free, branch-free algorithms, described in [`crate::activation`];
//! the per-type code lives there too. The `_libm` methods are [`libm`]'s functions: the
//! references the accuracy tests compare against, and `ln`/`sqrt` for the loss and optimisers.
//!
//! The method names carry a suffix on purpose: `RealField` already has `exp` and `tanh`,
//! and two methods of the same name on one type make every call ambiguous.

use core::fmt::{Debug, Display};
use nalgebra::RealField;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar the cells compute in: `f32` or `f64`.
///
/// # Example
/// ```
/// use tinyrnn::Real;
///
/// fn logistic<T: Real>(x: T) -> T {
///     x.sigmoid()
/// }
/// assert_eq!(logistic(0.0_f32), 0.5);
/// assert!((logistic(2.0_f64) - 1.0 / (1.0 + (-2.0_f64).exp())).abs() < 1e-16);
/// ```
pub trait Real:
    RealField + Copy + Default + Debug + Display + Send + Sync + 'static + sealed::Sealed
{
    /// Zero, usable in `const` contexts (`RealField::zero()` is not `const`).
    const ZERO: Self;
    /// One, usable in `const` contexts.
    const ONE: Self;
    /// Machine epsilon of the type (`f32::EPSILON` or `f64::EPSILON`).
    const EPS: Self;
    /// Not a number.
    const NAN: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// The largest finite value.
    const MAX: Self;

    /// Converts an `f64` constant to this type (rounding to nearest for `f32`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(f32::lit(0.1), 0.1_f32);
    /// assert_eq!(f64::lit(0.1), 0.1_f64);
    /// ```
    fn lit(x: f64) -> Self;

    /// Widens to `f64` (exact for both `f32` and `f64`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(0.5_f32.as_f64(), 0.5_f64);
    /// ```
    fn as_f64(self) -> f64;

    /// A uniform sample in `[0, 1)` from 64 random bits: the top 24 bits for `f32`, the top
    /// 53 for `f64`, converted exactly (no `f64` arithmetic on an `f32` device).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(f32::unit_from_bits(0), 0.0);
    /// assert_eq!(f32::unit_from_bits(u64::MAX), 1.0 - f32::EPSILON / 2.0);
    /// assert_eq!(f64::unit_from_bits(1 << 63), 0.5);
    /// ```
    fn unit_from_bits(bits: u64) -> Self;

    /// `e^x`, computed by `libm` (`expf` / `exp`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(0.0_f32.exp_libm(), 1.0);
    /// assert!((1.0_f64.exp_libm() - core::f64::consts::E).abs() < 1e-15);
    /// ```
    fn exp_libm(self) -> Self;

    /// `tanh(x)`, computed by `libm` (`tanhf` / `tanh`). Saturates to ±1 without overflow.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(0.0_f32.tanh_libm(), 0.0);
    /// assert_eq!(1.0e4_f64.tanh_libm(), 1.0);
    /// ```
    fn tanh_libm(self) -> Self;

    /// Natural logarithm, computed by `libm` (`logf` / `log`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(1.0_f32.ln_libm(), 0.0);
    /// ```
    fn ln_libm(self) -> Self;

    /// Square root, computed by `libm` (`sqrtf` / `sqrt`).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(9.0_f64.sqrt_libm(), 3.0);
    /// ```
    fn sqrt_libm(self) -> Self;

    /// `e^x` without calls or branches, so that loops over it vectorise: the crate's default
    /// exponential, [`crate::activation::exp`]. Within 1 ULP of the correctly rounded result
    /// for every `f32`, within `10⁻¹⁴` relative in `f64`; `e^{−∞} = 0`, `e^{+∞} = ∞`, overflow
    /// gives `∞`, underflow subnormals then `0`, NaN stays NaN.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(0.0_f32.exp_branchless(), 1.0);
    /// assert!((1.0_f64.exp_branchless() - core::f64::consts::E).abs() < 1e-15);
    /// assert_eq!(1000.0_f64.exp_branchless(), f64::INFINITY);
    /// ```
    fn exp_branchless(self) -> Self;

    /// `tanh(x)` without calls or branches: the crate's default `tanh`,
    /// [`crate::activation::tanh`]. Within 2 ULP of the correctly rounded result for every
    /// `f32`, within `10⁻¹⁴` relative in `f64`; `tanh(±∞) = ±1`, `tanh(±0) = ±0`, NaN stays
    /// NaN.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!(0.0_f32.tanh_branchless(), 0.0);
    /// assert_eq!(1.0e4_f64.tanh_branchless(), 1.0);
    /// assert!((0.5_f64.tanh_branchless() - 0.5_f64.tanh_libm()).abs() < 1e-16);
    /// ```
    fn tanh_branchless(self) -> Self;

    /// The logistic function `σ(x) = 1 / (1 + e^{-x})`, without calls or branches.
    ///
    /// Evaluated as `n / (1 + e)` with `e = e^{−|x|}`, `n = 1` for `x ≥ 0` and `n = e` for
    /// `x < 0` (both computed, then selected), so `e^{…}` never overflows: `σ(-1000) = 0`,
    /// `σ(1000) = 1`, NaN stays NaN, and the negative tail keeps its relative accuracy. Within
    /// 2 ULP of the correctly rounded result for every `f32`, within `10⁻¹⁴` relative in `f64`;
    /// see [`crate::activation`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// assert_eq!((-1000.0_f32).sigmoid(), 0.0);
    /// assert_eq!(1000.0_f32.sigmoid(), 1.0);
    /// assert!((-30.0_f64).sigmoid() > 0.0); // no cancellation to zero
    /// assert!(f64::NAN.sigmoid().is_nan());
    /// ```
    fn sigmoid(self) -> Self;

    /// Whether the value is NaN. (`is_finite` comes from nalgebra's `ComplexField`.)
    ///
    /// # Example
    /// ```
    /// use tinyrnn::Real;
    /// fn check<T: Real>(x: T) -> bool { x.is_nan() }
    /// assert!(check(f32::NAN));
    /// assert!(!check(1.0_f64));
    /// ```
    fn is_nan(self) -> bool;
}

macro_rules! impl_real {
    ($t:ty, $mantissa:literal, $exp:path, $tanh:path, $ln:path, $sqrt:path, $imp:ident) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPS: Self = <$t>::EPSILON;
            const NAN: Self = <$t>::NAN;
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const MAX: Self = <$t>::MAX;
            #[inline(always)]
            fn lit(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn as_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn unit_from_bits(bits: u64) -> Self {
                // The top `$mantissa` bits, scaled by 2^-$mantissa: exact in the target type.
                (bits >> (64 - $mantissa)) as $t * (1.0 / (1_u64 << $mantissa) as $t)
            }
            #[inline(always)]
            fn exp_libm(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            fn tanh_libm(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn ln_libm(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn sqrt_libm(self) -> Self {
                $sqrt(self)
            }
            #[inline(always)]
            fn exp_branchless(self) -> Self {
                crate::activation::$imp::exp(self)
            }
            #[inline(always)]
            fn tanh_branchless(self) -> Self {
                crate::activation::$imp::tanh(self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                crate::activation::$imp::sigmoid(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}

impl_real!(
    f32,
    24,
    libm::expf,
    libm::tanhf,
    libm::logf,
    libm::sqrtf,
    f32_impl
);
impl_real!(
    f64,
    53,
    libm::exp,
    libm::tanh,
    libm::log,
    libm::sqrt,
    f64_impl
);

#[cfg(test)]
mod tests {
    use super::Real;

    macro_rules! gen_tests {
        ($($name:ident: $t:ty),*) => {$(
            mod $name {
                use super::Real;
                type T = $t;

                #[test]
                fn sigmoid_edges() {
                    assert_eq!(T::lit(0.0).sigmoid(), 0.5);
                    assert_eq!(T::lit(-1.0e6).sigmoid(), 0.0);
                    assert_eq!(T::lit(1.0e6).sigmoid(), 1.0);
                    assert_eq!(T::NEG_INFINITY.sigmoid(), 0.0);
                    assert_eq!(T::INFINITY.sigmoid(), 1.0);
                    assert!(T::NAN.sigmoid().is_nan());
                    // Symmetry σ(-x) = 1 - σ(x) away from saturation.
                    for k in -40..=40 {
                        let x = T::lit(k as f64 * 0.25);
                        let s = x.sigmoid() + (-x).sigmoid();
                        assert!((s - 1.0).abs() <= T::lit(4.0) * T::EPS, "x = {x}");
                    }
                    // Tiny but non-zero deep in the negative tail.
                    assert!(T::lit(-30.0).sigmoid() > 0.0);
                }

                #[test]
                fn tanh_edges() {
                    assert_eq!(T::lit(0.0).tanh_libm(), 0.0);
                    assert_eq!(T::lit(1.0e6).tanh_libm(), 1.0);
                    assert_eq!(T::lit(-1.0e6).tanh_libm(), -1.0);
                    assert_eq!(T::INFINITY.tanh_libm(), 1.0);
                    assert_eq!(T::NEG_INFINITY.tanh_libm(), -1.0);
                    assert!(T::NAN.tanh_libm().is_nan());
                }

                #[test]
                fn branchless_edges() {
                    assert_eq!(T::lit(0.0).tanh_branchless(), 0.0);
                    assert_eq!(T::lit(1.0e6).tanh_branchless(), 1.0);
                    assert_eq!(T::lit(-1.0e6).tanh_branchless(), -1.0);
                    assert_eq!(T::INFINITY.tanh_branchless(), 1.0);
                    assert_eq!(T::NEG_INFINITY.tanh_branchless(), -1.0);
                    assert!(T::NAN.tanh_branchless().is_nan());
                    assert_eq!(T::lit(0.0).exp_branchless(), 1.0);
                    assert_eq!(T::NEG_INFINITY.exp_branchless(), 0.0);
                    assert_eq!(T::INFINITY.exp_branchless(), T::INFINITY);
                    assert!(T::NAN.exp_branchless().is_nan());
                    // Agreement with libm's tanh and exp, within the documented bounds.
                    for k in -100..=100 {
                        let x = T::lit(k as f64 * 0.173);
                        let tol = T::lit(3.0) * T::EPS;
                        let (t, tl) = (x.tanh_branchless(), x.tanh_libm());
                        assert!((t - tl).abs() <= tol * tl.abs(), "tanh({x})");
                        let (e, el) = (x.exp_branchless(), x.exp_libm());
                        assert!((e - el).abs() <= tol * el, "exp({x})");
                    }
                }

                #[test]
                fn exp_ln_sqrt() {
                    assert_eq!(T::lit(0.0).exp_libm(), 1.0);
                    assert_eq!(T::NEG_INFINITY.exp_libm(), 0.0);
                    assert_eq!(T::lit(1.0).ln_libm(), 0.0);
                    assert_eq!(T::lit(16.0).sqrt_libm(), 4.0);
                    assert!(T::lit(-1.0).sqrt_libm().is_nan());
                }
            }
        )*};
    }
    gen_tests!(f32_: f32, f64_: f64);

    #[test]
    fn lit_round_trips() {
        assert_eq!(f64::lit(0.1).as_f64(), 0.1);
        assert_eq!(f32::lit(0.1).as_f64(), 0.1_f32 as f64);
    }
}
