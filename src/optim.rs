//! Optimizers: SGD, SGD with momentum and Adam, with gradient clipping.
//!
//! An optimizer's state has the same type as the parameters (Adam's `m` and `v` are two more
//! [`LstmParams`](crate::LstmParams), say), and [`Optimizer::step`] walks parameters,
//! gradients and state together through [`Params`]. Nothing allocates.
//!
//! **Settings and state are separate.** On a host, `Adam::new(lr)` owns its zero state, as
//! PyTorch's optimizers do. On a device, keep the settings a `const` ([`Adam::settings`],
//! [`Momentum::settings`]: a few scalars, folded into the code) and the state a zero-initialised
//! `static` ([`AdamState::ZEROS`], `P::ZEROS`: all zero bits, so it lands in `.bss` and costs
//! no flash), and join them for a step with `with_state(&mut state)`:
//!
//! ```
//! use tinyrnn::optim::{Adam, AdamState, Optimizer};
//! use tinyrnn::{Params, RnnParams};
//! type P = RnnParams<f32, 2, 8, 3>;
//!
//! const ADAM: Adam<f32, P, ()> = Adam::settings(1e-3, 0.9, 0.999, 1e-8);
//! static STATE: std::sync::Mutex<AdamState<f32, P>> = std::sync::Mutex::new(AdamState::ZEROS);
//!
//! let (mut params, grads) = (P::zeros(), P::zeros());
//! let mut state = STATE.lock().unwrap(); // on a device: a critical-section mutex
//! ADAM.with_state(&mut *state).step(&mut params, &grads)?;
//! assert_eq!(state.steps(), 1);
//! # Ok::<(), tinyrnn::Error>(())
//! ```
//!
//! Clipping, as Keras' `clipvalue` / `global_clipnorm`, is part of the optimizer's
//! configuration ([`Clip`]) and applies to the gradient as the update reads it; the gradient
//! buffer itself is not modified.
//!
//! ```
//! use nalgebra::SMatrix;
//! use tinyrnn::optim::{Adam, Clip, Optimizer};
//! use tinyrnn::{Params, RnnParams};
//!
//! let mut p = RnnParams::<f32, 2, 3, 1>::zeros();
//! let mut g = RnnParams::<f32, 2, 3, 1>::zeros();
//! g.ba.fill(10.0);
//! let mut adam = Adam::new(0.01).with_clip(Clip::GlobalNorm(1.0));
//! adam.step(&mut p, &g).unwrap();
//! assert!((p.ba[0] + 0.01).abs() < 1e-6); // Adam's first step moves each weight by ≈ lr
//! ```

use crate::{Error, Params, Real};
use core::borrow::BorrowMut;
use core::marker::PhantomData;

/// Gradient clipping applied by an optimizer before its update.
///
/// # Example
/// ```
/// use tinyrnn::optim::Clip;
/// assert_eq!(Clip::<f32>::default(), Clip::None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Clip<T> {
    /// No clipping.
    #[default]
    None,
    /// Clamp every gradient scalar to `[-max, max]` (the course's `np.clip`).
    Value(T),
    /// Rescale the whole gradient so that its global L2 norm is at most this.
    GlobalNorm(T),
}

impl<T: Real> Clip<T> {
    /// Checks the threshold: finite and positive (a negative one would turn descent into
    /// ascent).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{optim::Clip, Error};
    /// assert_eq!(Clip::GlobalNorm(1.0_f32).validate(), Ok(()));
    /// assert!(matches!(Clip::Value(-1.0_f32).validate(), Err(Error::InvalidSetting { .. })));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        match *self {
            Clip::None => Ok(()),
            Clip::Value(max) | Clip::GlobalNorm(max) => positive("clip threshold", max),
        }
    }

    /// The factor the global-norm clip multiplies every gradient scalar by (1 otherwise).
    fn scale<P: Params<T>>(&self, grads: &P) -> T {
        match *self {
            Clip::GlobalNorm(max) => {
                let norm = grads.norm_squared().sqrt_libm();
                if norm > max {
                    max / norm
                } else {
                    T::one()
                }
            }
            _ => T::one(),
        }
    }

    /// One gradient scalar as the update reads it.
    #[inline(always)]
    fn apply(&self, g: T, scale: T) -> T {
        let g = g * scale;
        match *self {
            Clip::Value(max) if g > max => max,
            Clip::Value(max) if g < -max => -max,
            _ => g,
        }
    }
}

/// A rule that updates parameters from the gradient of a loss to minimise.
///
/// # Example
/// ```
/// use tinyrnn::optim::{Optimizer, Sgd};
/// use tinyrnn::{Params, RnnParams};
///
/// fn descend<O: Optimizer<f64, RnnParams<f64, 1, 1, 1>>>(opt: &mut O) -> f64 {
///     let mut p = RnnParams::zeros();
///     let mut g = RnnParams::zeros();
///     g.wax[0] = 1.0;
///     opt.step(&mut p, &g).unwrap();
///     p.wax[0]
/// }
/// assert_eq!(descend(&mut Sgd::new(0.5)), -0.5);
/// ```
pub trait Optimizer<T: Real, P: Params<T>> {
    /// Updates `params` one step against `grads`, **atomically**: the settings are checked,
    /// then every new value (parameters and optimizer state) is computed and checked to be
    /// finite, and only then written. On an error nothing is changed:
    /// [`Error::InvalidSetting`] for a setting that cannot work, [`Error::NonFiniteUpdate`]
    /// (naming the tensor and index) for an update that would overflow or hit a NaN.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Optimizer, Sgd};
    /// use tinyrnn::{Error, Params, RnnParams};
    ///
    /// let mut p = RnnParams::<f32, 1, 1, 1>::zeros();
    /// let mut g = RnnParams::<f32, 1, 1, 1>::zeros();
    /// (g.wax[0], g.by[0]) = (1.0, f32::MAX);
    /// let mut opt = Sgd::new(10.0);
    /// // by would become −10·f32::MAX = −∞: nothing is written, not even wax.
    /// assert_eq!(opt.step(&mut p, &g), Err(Error::NonFiniteUpdate { what: "by", index: 0 }));
    /// assert_eq!(p, RnnParams::zeros());
    /// g.by[0] = 0.0;
    /// opt.step(&mut p, &g)?;
    /// assert_eq!(p.wax[0], -10.0);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), Error>;
}

/// `Ok` if `x` is finite and positive.
fn positive<T: Real>(what: &'static str, x: T) -> Result<(), Error> {
    if x.is_finite() && x > T::zero() {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            what,
            requirement: "finite and positive",
        })
    }
}

/// `Ok` if `x` is in `[0, 1)`.
fn unit<T: Real>(what: &'static str, x: T) -> Result<(), Error> {
    if x >= T::zero() && x < T::one() {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            what,
            requirement: "in [0, 1)",
        })
    }
}

/// The error for the first scalar whose update is not finite.
fn non_finite<T: Real>(what: &'static str, index: usize, values: &[T]) -> Result<(), Error> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFiniteUpdate { what, index })
    }
}

/// Plain stochastic gradient descent: `θ ← θ − lr·g`.
///
/// # Example
/// ```
/// use tinyrnn::optim::{Clip, Optimizer, Sgd};
/// use tinyrnn::{Params, RnnParams};
///
/// let mut p = RnnParams::<f64, 1, 1, 1>::zeros();
/// let mut g = RnnParams::<f64, 1, 1, 1>::zeros();
/// g.waa[0] = 8.0;
/// Sgd::new(0.1).with_clip(Clip::Value(5.0)).step(&mut p, &g).unwrap();
/// assert_eq!(p.waa[0], -0.5); // the gradient was clipped to 5
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T> {
    /// Learning rate.
    pub lr: T,
    /// Clipping applied to the gradient.
    pub clip: Clip<T>,
}

impl<T: Real> Sgd<T> {
    /// SGD with learning rate `lr` and no clipping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::Sgd;
    /// assert_eq!(Sgd::new(0.1_f32).lr, 0.1);
    /// ```
    pub const fn new(lr: T) -> Self {
        Self {
            lr,
            clip: Clip::None,
        }
    }

    /// The same optimizer with the given clipping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Clip, Sgd};
    /// assert_eq!(Sgd::new(0.1_f32).with_clip(Clip::Value(1.0)).clip, Clip::Value(1.0));
    /// ```
    pub const fn with_clip(self, clip: Clip<T>) -> Self {
        Self { clip, ..self }
    }
}

impl<T: Real> Sgd<T> {
    /// Checks the settings: `lr` finite and positive, the clip valid ([`Clip::validate`]).
    /// [`Optimizer::step`] checks them too, before it writes anything.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{optim::Sgd, Error};
    /// assert!(Sgd::new(0.1_f32).validate().is_ok());
    /// assert!(matches!(Sgd::new(f32::NAN).validate(), Err(Error::InvalidSetting { what: "lr", .. })));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        positive("lr", self.lr)?;
        self.clip.validate()
    }

    /// The settings, validated ([`Sgd::validate`]): a builder's last call, so that a bad
    /// setting is an error where the optimizer is made. (`new` stays `const` for statics.)
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Clip, Sgd};
    /// let opt = Sgd::new(0.1_f32).with_clip(Clip::GlobalNorm(1.0)).checked()?;
    /// assert!(Sgd::new(0.1_f32).with_clip(Clip::Value(-1.0)).checked().is_err());
    /// # let _ = opt;
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn checked(self) -> Result<Self, Error> {
        self.validate().map(|()| self)
    }
}

impl<T: Real, P: Params<T>> Optimizer<T, P> for Sgd<T> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), Error> {
        self.validate()?;
        let s = self.clip.scale(grads);
        let update = |p: T, g: T| p - self.lr * self.clip.apply(g, s);
        for ((what, p), g) in P::names().zip(params.tensors()).zip(grads.tensors()) {
            for (i, (&p, &g)) in p.iter().zip(g).enumerate() {
                non_finite(what, i, &[update(p, g)])?;
            }
        }
        for (p, g) in params.tensors_mut().zip(grads.tensors()) {
            for (p, &g) in p.iter_mut().zip(g) {
                *p = update(*p, g);
            }
        }
        Ok(())
    }
}

/// SGD with momentum, in PyTorch's form: `v ← μ·v + g`, `θ ← θ − lr·v`.
///
/// The velocity `v` has the parameters' type `P`. It is stored in `S`: by default the
/// optimizer owns it (`S = P`); `S = &mut P` borrows it, so that on a device the velocity can
/// be a zero-initialised `static` (in `.bss`: no flash image, no copy at start-up) while the
/// settings are a `const` ([`Momentum::settings`], [`Momentum::with_state`]).
///
/// # Example
/// ```
/// use tinyrnn::optim::{Momentum, Optimizer};
/// use tinyrnn::{Params, RnnParams};
///
/// let mut p = RnnParams::<f64, 1, 1, 1>::zeros();
/// let mut g = RnnParams::<f64, 1, 1, 1>::zeros();
/// g.by[0] = 1.0;
/// let mut opt = Momentum::new(0.1, 0.9);
/// opt.step(&mut p, &g).unwrap(); // v = 1,   θ = −0.1
/// opt.step(&mut p, &g).unwrap(); // v = 1.9, θ = −0.29
/// assert!((p.by[0] + 0.29).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<T, P, S = P> {
    /// Learning rate.
    pub lr: T,
    /// Momentum coefficient `μ`.
    pub momentum: T,
    /// Clipping applied to the gradient.
    pub clip: Clip<T>,
    /// The velocity, one scalar per parameter: a `P`, or a `&mut P`.
    pub velocity: S,
    params: PhantomData<fn() -> P>,
}

impl<T: Real, P: Params<T>> Momentum<T, P> {
    /// Momentum SGD with zero initial velocity (owned) and no clipping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::Momentum;
    /// use tinyrnn::{LstmParams, Params};
    /// let opt = Momentum::<f32, LstmParams<f32, 2, 3, 1>>::new(0.01, 0.9);
    /// assert_eq!(opt.velocity, LstmParams::zeros());
    /// ```
    pub const fn new(lr: T, momentum: T) -> Self {
        Self {
            lr,
            momentum,
            clip: Clip::None,
            velocity: P::ZEROS,
            params: PhantomData,
        }
    }
}

impl<T: Real, P: Params<T>> Momentum<T, P, ()> {
    /// The settings alone, without a velocity, as a `const`: give it one with
    /// [`Momentum::with_state`] before stepping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Momentum, Optimizer};
    /// use tinyrnn::{Params, RnnParams};
    /// type P = RnnParams<f32, 1, 2, 1>;
    ///
    /// const SETTINGS: Momentum<f32, P, ()> = Momentum::settings(0.1, 0.9);
    /// let mut velocity = P::ZEROS; // on a device: a `static`, in .bss
    /// let (mut p, mut g) = (P::zeros(), P::zeros());
    /// g.by[0] = 1.0;
    /// SETTINGS.with_state(&mut velocity).step(&mut p, &g)?;
    /// assert_eq!((p.by[0], velocity.by[0]), (-0.1, 1.0));
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub const fn settings(lr: T, momentum: T) -> Self {
        Self {
            lr,
            momentum,
            clip: Clip::None,
            velocity: (),
            params: PhantomData,
        }
    }
}

impl<T: Real, P: Params<T>, S> Momentum<T, P, S> {
    /// The same settings with the velocity `velocity` (a `P`, or a `&mut P`); the old one is
    /// dropped.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::Momentum;
    /// use tinyrnn::{Params, RnnParams};
    /// type P = RnnParams<f64, 1, 2, 1>;
    /// let mut v = P::zeros();
    /// let opt = Momentum::<f64, P, ()>::settings(0.1, 0.9).with_state(&mut v);
    /// assert_eq!(opt.momentum, 0.9);
    /// ```
    pub fn with_state<S2>(self, velocity: S2) -> Momentum<T, P, S2> {
        Momentum {
            lr: self.lr,
            momentum: self.momentum,
            clip: self.clip,
            velocity,
            params: PhantomData,
        }
    }

    /// The same optimizer with the given clipping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Clip, Momentum};
    /// use tinyrnn::RnnParams;
    /// let opt = Momentum::<f32, RnnParams<f32, 2, 3, 1>>::new(0.01, 0.9).with_clip(Clip::GlobalNorm(5.0));
    /// assert_eq!(opt.clip, Clip::GlobalNorm(5.0));
    /// ```
    pub fn with_clip(self, clip: Clip<T>) -> Self {
        Self { clip, ..self }
    }

    /// Checks the settings: `lr` finite and positive, `momentum` in `[0, 1)`, the clip valid.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{optim::Momentum, RnnParams};
    /// assert!(Momentum::<f32, RnnParams<f32, 1, 2, 1>>::new(0.1, 0.9).validate().is_ok());
    /// assert!(Momentum::<f32, RnnParams<f32, 1, 2, 1>>::new(0.1, 1.0).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        positive("lr", self.lr)?;
        unit("momentum", self.momentum)?;
        self.clip.validate()
    }

    /// The settings, validated ([`Momentum::validate`]), as a builder's last call.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{optim::Momentum, RnnParams};
    /// let opt = Momentum::<f64, RnnParams<f64, 1, 2, 1>>::new(0.1, 0.9).checked()?;
    /// # let _ = opt;
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn checked(self) -> Result<Self, Error> {
        self.validate().map(|()| self)
    }
}

impl<T: Real, P: Params<T>, S: BorrowMut<P>> Optimizer<T, P> for Momentum<T, P, S> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), Error> {
        self.validate()?;
        let s = self.clip.scale(grads);
        let (lr, mu, clip) = (self.lr, self.momentum, self.clip);
        let update = |p: T, g: T, v: T| {
            let v = mu * v + clip.apply(g, s);
            (p - lr * v, v)
        };
        let velocity = self.velocity.borrow_mut();
        let tensors = P::names()
            .zip(params.tensors())
            .zip(grads.tensors())
            .zip(velocity.tensors());
        for (((what, p), g), v) in tensors {
            for (i, ((&p, &g), &v)) in p.iter().zip(g).zip(v).enumerate() {
                let (p, v) = update(p, g, v);
                non_finite(what, i, &[p, v])?;
            }
        }
        let tensors = params
            .tensors_mut()
            .zip(grads.tensors())
            .zip(velocity.tensors_mut());
        for ((p, g), v) in tensors {
            for ((p, &g), v) in p.iter_mut().zip(g).zip(v.iter_mut()) {
                (*p, *v) = update(*p, g, *v);
            }
        }
        Ok(())
    }
}

/// Adam's state: the moment estimates `m`, `v` (each of the parameters' type `P`) and the
/// step count. [`AdamState::ZEROS`] is all zero bits, so a `static` of it lands in `.bss`.
///
/// # Example
/// ```
/// use tinyrnn::optim::AdamState;
/// use tinyrnn::{Params, RnnParams};
/// let s = AdamState::<f32, RnnParams<f32, 1, 2, 1>>::ZEROS;
/// assert_eq!((s.steps(), s.m.norm_squared()), (0, 0.0));
/// ```
///
/// With the `alloc` feature, a large state goes on the heap without touching the stack:
/// `Adam::settings(lr, β1, β2, ε).with_state(tinyrnn::boxed::zeroed::<AdamState<T, P>>())`
/// (a `Box<AdamState>` is a state too).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "alloc", derive(bytemuck::Zeroable), zeroable(bound = ""))]
pub struct AdamState<T, P> {
    /// First moment estimate `m`.
    pub m: P,
    /// Second moment estimate `v`.
    pub v: P,
    steps: u32,
    /// `β1^t` and `β2^t` after `t = steps ≥ 1` steps; unused (zero) before the first step.
    beta1_power: T,
    beta2_power: T,
}

impl<T: Real, P: Params<T>> AdamState<T, P> {
    /// The state before the first step: zero moments, zero steps.
    pub const ZEROS: Self = Self {
        m: P::ZEROS,
        v: P::ZEROS,
        steps: 0,
        beta1_power: T::ZERO,
        beta2_power: T::ZERO,
    };

    /// The number of updates made so far (`t` in the bias correction).
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::AdamState;
    /// use tinyrnn::RnnParams;
    /// assert_eq!(AdamState::<f32, RnnParams<f32, 1, 1, 1>>::ZEROS.steps(), 0);
    /// ```
    pub fn steps(&self) -> u32 {
        self.steps
    }
}
/// Adam (Kingma & Ba 2015) with bias correction:
/// `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
/// `θ ← θ − lr · m̂ / (√v̂ + ε)` with `m̂ = m / (1 − β1^t)`, `v̂ = v / (1 − β2^t)`.
///
/// Defaults: `β1 = 0.9`, `β2 = 0.999`, `ε = 1e-8` (PyTorch's). The moments and the step
/// count are an [`AdamState`] stored in `S`: by default the optimizer owns it
/// (`S = AdamState<T, P>`); with `S = &mut AdamState<T, P>` it borrows it, so that on a device
/// the state is a zero-initialised `static` (in `.bss`) and the settings a `const`
/// ([`Adam::settings`], [`Adam::with_state`]).
///
/// # Example
/// ```
/// use tinyrnn::optim::{Adam, Optimizer};
/// use tinyrnn::{Params, RnnParams};
///
/// let mut p = RnnParams::<f64, 1, 1, 1>::zeros();
/// let mut g = RnnParams::<f64, 1, 1, 1>::zeros();
/// g.wax[0] = 4.0;
/// let mut adam = Adam::new(0.001);
/// adam.step(&mut p, &g).unwrap();
/// // m̂ = g and v̂ = g² after one step, so the update is lr·g/(|g| + ε) ≈ lr.
/// assert!((p.wax[0] + 0.001).abs() < 1e-11);
/// assert_eq!(adam.state.steps(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<T, P, S = AdamState<T, P>> {
    /// Learning rate.
    pub lr: T,
    /// Decay of the first moment, `β1`.
    pub beta1: T,
    /// Decay of the second moment, `β2`.
    pub beta2: T,
    /// `ε`, added to `√v̂`.
    pub eps: T,
    /// Clipping applied to the gradient.
    pub clip: Clip<T>,
    /// The moments and step count: an [`AdamState`], or a `&mut AdamState`.
    pub state: S,
    params: PhantomData<fn() -> P>,
}

impl<T: Real, P: Params<T>> Adam<T, P> {
    /// Adam with learning rate `lr`, the default `β1`, `β2`, `ε`, zero moments, no clipping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::Adam;
    /// use tinyrnn::RnnParams;
    /// let adam = Adam::<f32, RnnParams<f32, 2, 3, 1>>::new(1e-3);
    /// assert_eq!((adam.beta1, adam.beta2, adam.eps), (0.9, 0.999, 1e-8));
    /// ```
    pub fn new(lr: T) -> Self {
        Self::with_hyperparameters(lr, T::lit(0.9), T::lit(0.999), T::lit(1e-8))
    }

    /// Adam with every hyperparameter given and its own zero state, as a `const fn`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::Adam;
    /// use tinyrnn::LstmParams;
    /// static ADAM: Adam<f32, LstmParams<f32, 2, 3, 1>> =
    ///     Adam::with_hyperparameters(1e-3, 0.9, 0.999, 1e-8);
    /// assert_eq!(ADAM, Adam::new(1e-3));
    /// ```
    pub const fn with_hyperparameters(lr: T, beta1: T, beta2: T, eps: T) -> Self {
        Self::from_parts(lr, beta1, beta2, eps, AdamState::ZEROS)
    }
}

impl<T: Real, P: Params<T>> Adam<T, P, ()> {
    /// The settings alone, without a state, as a `const`: a few scalars. Give it a state with
    /// [`Adam::with_state`] before stepping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Adam, AdamState, Optimizer};
    /// use tinyrnn::{Params, RnnParams};
    /// type P = RnnParams<f32, 1, 2, 1>;
    ///
    /// const SETTINGS: Adam<f32, P, ()> = Adam::settings(1e-3, 0.9, 0.999, 1e-8);
    /// // On a device: a `static` (zero bits: in .bss) behind a critical-section mutex.
    /// let mut state = AdamState::<f32, P>::ZEROS;
    /// let (mut p, mut g) = (P::zeros(), P::zeros());
    /// g.by[0] = 1.0;
    /// SETTINGS.with_state(&mut state).step(&mut p, &g)?;
    /// SETTINGS.with_state(&mut state).step(&mut p, &g)?;
    /// assert_eq!(state.steps(), 2);
    /// // The same numbers as an optimizer that owns its state.
    /// let (mut q, mut adam) = (P::zeros(), SETTINGS.with_state(AdamState::ZEROS));
    /// adam.step(&mut q, &g)?;
    /// adam.step(&mut q, &g)?;
    /// assert_eq!(p, q);
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub const fn settings(lr: T, beta1: T, beta2: T, eps: T) -> Self {
        Self::from_parts(lr, beta1, beta2, eps, ())
    }
}

impl<T: Real, P: Params<T>, S> Adam<T, P, S> {
    /// Settings without clipping, and `state`.
    const fn from_parts(lr: T, beta1: T, beta2: T, eps: T, state: S) -> Self {
        Self {
            lr,
            beta1,
            beta2,
            eps,
            clip: Clip::None,
            state,
            params: PhantomData,
        }
    }

    /// The same settings with the state `state` (an [`AdamState`], or a `&mut AdamState`);
    /// the old one is dropped.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Adam, AdamState};
    /// use tinyrnn::RnnParams;
    /// type P = RnnParams<f64, 1, 2, 1>;
    /// let mut state = AdamState::<f64, P>::ZEROS;
    /// let adam = Adam::<f64, P, ()>::settings(1e-3, 0.9, 0.999, 1e-8).with_state(&mut state);
    /// assert_eq!(adam.state.steps(), 0);
    /// ```
    pub fn with_state<S2>(self, state: S2) -> Adam<T, P, S2> {
        Adam {
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            clip: self.clip,
            state,
            params: PhantomData,
        }
    }

    /// The same optimizer with the given clipping.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::optim::{Adam, Clip};
    /// use tinyrnn::RnnParams;
    /// let adam = Adam::<f64, RnnParams<f64, 2, 3, 1>>::new(1e-3).with_clip(Clip::Value(1.0));
    /// assert_eq!(adam.clip, Clip::Value(1.0));
    /// ```
    pub fn with_clip(self, clip: Clip<T>) -> Self {
        Self { clip, ..self }
    }

    /// Checks the settings: `lr` and `eps` finite and positive, `beta1` and `beta2` in
    /// `[0, 1)`, the clip valid.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{optim::Adam, Error, RnnParams};
    /// type P = RnnParams<f32, 1, 2, 1>;
    /// assert!(Adam::<f32, P>::new(1e-3).validate().is_ok());
    /// let bad = Adam::<f32, P>::with_hyperparameters(1e-3, 1.0, 0.999, 1e-8);
    /// assert!(matches!(bad.validate(), Err(Error::InvalidSetting { what: "beta1", .. })));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        positive("lr", self.lr)?;
        unit("beta1", self.beta1)?;
        unit("beta2", self.beta2)?;
        positive("eps", self.eps)?;
        self.clip.validate()
    }

    /// The settings, validated ([`Adam::validate`]), as a builder's last call.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{optim::{Adam, Clip}, RnnParams};
    /// let opt = Adam::<f32, RnnParams<f32, 1, 2, 1>>::new(1e-3)
    ///     .with_clip(Clip::GlobalNorm(1.0))
    ///     .checked()?;
    /// # let _ = opt;
    /// # Ok::<(), tinyrnn::Error>(())
    /// ```
    pub fn checked(self) -> Result<Self, Error> {
        self.validate().map(|()| self)
    }
}

impl<T: Real, P: Params<T>, S: BorrowMut<AdamState<T, P>>> Optimizer<T, P> for Adam<T, P, S> {
    fn step(&mut self, params: &mut P, grads: &P) -> Result<(), Error> {
        self.validate()?;
        let s = self.clip.scale(grads);
        let (b1, b2, eps, clip) = (self.beta1, self.beta2, self.eps, self.clip);
        let st = self.state.borrow_mut();
        // β^t; the zero state (t = 0) stores no power, so that it is all zero bits.
        let (b1_power, b2_power) = match st.steps {
            0 => (b1, b2),
            _ => (st.beta1_power * b1, st.beta2_power * b2),
        };
        let one = T::one();
        // θ −= lr/(1−β1^t) · m / (√(v/(1−β2^t)) + ε)
        let step = self.lr / (one - b1_power);
        let v_scale = one / (one - b2_power);
        let update = |p: T, g: T, m: T, v: T| {
            let g = clip.apply(g, s);
            let m = b1 * m + (one - b1) * g;
            let v = b2 * v + (one - b2) * g * g;
            (p - step * m / ((v * v_scale).sqrt_libm() + eps), m, v)
        };
        let tensors = P::names()
            .zip(params.tensors())
            .zip(grads.tensors())
            .zip(st.m.tensors().zip(st.v.tensors()));
        for (((what, p), g), (m, v)) in tensors {
            for (i, ((&p, &g), (&m, &v))) in p.iter().zip(g).zip(m.iter().zip(v)).enumerate() {
                let (p, m, v) = update(p, g, m, v);
                non_finite(what, i, &[p, m, v])?;
            }
        }
        let tensors = params
            .tensors_mut()
            .zip(grads.tensors())
            .zip(st.m.tensors_mut().zip(st.v.tensors_mut()));
        for ((p, g), (m, v)) in tensors {
            for ((p, &g), (m, v)) in p.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut())) {
                (*p, *m, *v) = update(*p, g, *m, *v);
            }
        }
        st.steps = st.steps.saturating_add(1);
        (st.beta1_power, st.beta2_power) = (b1_power, b2_power);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RnnParams;

    type P = RnnParams<f64, 1, 1, 1>;

    fn grads(wax: f64, waa: f64) -> P {
        let mut g = P::zeros();
        (g.wax[0], g.waa[0]) = (wax, waa);
        g
    }

    /// Adam's first two updates, computed by hand.
    #[test]
    fn adam_first_two_updates_by_hand() {
        let (lr, b1, b2, eps) = (0.1, 0.9, 0.999, 1e-8);
        let mut p = P::zeros();
        p.wax[0] = 1.0;
        let mut adam = Adam::<f64, P>::new(lr);
        let (g1, g2) = (0.5, -2.0);

        adam.step(&mut p, &grads(g1, 0.0)).unwrap();
        let (m1, v1) = ((1.0 - b1) * g1, (1.0 - b2) * g1 * g1);
        let (mh, vh) = (m1 / (1.0 - b1), v1 / (1.0 - b2));
        let p1 = 1.0 - lr * mh / (vh.sqrt() + eps);
        assert!((p.wax[0] - p1).abs() < 1e-15, "{} vs {p1}", p.wax[0]);
        assert!((adam.state.m.wax[0] - m1).abs() < 1e-15);
        assert!((adam.state.v.wax[0] - v1).abs() < 1e-15);

        adam.step(&mut p, &grads(g2, 0.0)).unwrap();
        let (m2, v2) = (b1 * m1 + (1.0 - b1) * g2, b2 * v1 + (1.0 - b2) * g2 * g2);
        let (mh, vh) = (m2 / (1.0 - b1 * b1), v2 / (1.0 - b2 * b2));
        let p2 = p1 - lr * mh / (vh.sqrt() + eps);
        assert!((p.wax[0] - p2).abs() < 1e-15, "{} vs {p2}", p.wax[0]);
        // A parameter whose gradient stayed 0 does not move.
        assert_eq!(p.waa[0], 0.0);
    }

    #[test]
    fn momentum_by_hand() {
        let mut p = P::zeros();
        let mut opt = Momentum::<f64, P>::new(0.5, 0.8);
        opt.step(&mut p, &grads(1.0, -1.0)).unwrap(); // v = 1, θ = -0.5
        opt.step(&mut p, &grads(2.0, 0.0)).unwrap(); // v = 0.8 + 2 = 2.8, θ = -0.5 - 1.4
        assert!((p.wax[0] + 1.9).abs() < 1e-15);
        // waa: v = -1 then -0.8: θ = 0.5 + 0.4
        assert!((p.waa[0] - 0.9).abs() < 1e-15);
    }

    #[test]
    fn clipping_by_value_and_by_global_norm() {
        // Value: each scalar clamped independently.
        let mut p = P::zeros();
        Sgd::new(1.0)
            .with_clip(Clip::Value(1.0))
            .step(&mut p, &grads(3.0, -0.25))
            .unwrap();
        assert_eq!((p.wax[0], p.waa[0]), (-1.0, 0.25));
        // Global norm: (3, 4) has norm 5; clipped to norm 1 it is (0.6, 0.8).
        let mut p = P::zeros();
        Sgd::new(1.0)
            .with_clip(Clip::GlobalNorm(1.0))
            .step(&mut p, &grads(3.0, 4.0))
            .unwrap();
        assert!((p.wax[0] + 0.6).abs() < 1e-15 && (p.waa[0] + 0.8).abs() < 1e-15);
        // Below the threshold nothing changes.
        let mut p = P::zeros();
        Sgd::new(1.0)
            .with_clip(Clip::GlobalNorm(10.0))
            .step(&mut p, &grads(3.0, 4.0))
            .unwrap();
        assert_eq!((p.wax[0], p.waa[0]), (-3.0, -4.0));
    }
}
