//! Output heads and losses: what a sequence is trained to produce, the loss, and the gradient
//! of the loss with respect to the head's logits.
//!
//! Both cells end in the same output layer, the logits `z⟨t⟩ = Wy·a⟨t⟩ + by`. The [`Head`]
//! turns logits into predictions (softmax probabilities for classification, the logits
//! themselves for regression), and the [`Target`] says at which steps a target is given and
//! which loss applies:
//!
//! | target | head | loss (a mean, see below) | `∂J/∂z` per step |
//! |---|---|---|---|
//! | class indices | softmax | cross-entropy `−log ŷ[k]` | `(ŷ − onehot(k)) / (M·S)` |
//! | probabilities `p` | softmax | cross-entropy `−Σ_k p_k log ŷ_k` | `(ŷ·Σ_k p_k − p) / (M·S)` |
//! | values `v` | linear | squared error `Σ_k (z_k − v_k)²` | `2 (z − v) / (M·S·N_Y)` |
//!
//! **Reduction.** Every loss is a *mean*: cross-entropy is averaged over the `M` batch columns
//! and the `S` steps that have a target (`S = 1` for the `…Last` targets, `S = T_X` for the
//! `…Each` targets); mean squared error is averaged over all `M·S·N_Y` scalars, as PyTorch's
//! `reduction='mean'`. The gradients above are those of these means, so a learning rate does not
//! depend on the batch size or the sequence length.
//!
//! Cross-entropy is computed from the logits with a log-sum-exp shifted by each column's
//! maximum, so it stays finite and exact where `log(softmax(z))` would underflow to `log 0`.

use crate::activation::softmax_columns_in_place;
use crate::{Error, Real};
use nalgebra::SMatrix;

/// The output layer's activation, applied to the logits `z = Wy·a + by`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::loss::Head;
///
/// let mut z = SMatrix::<f32, 2, 1>::new(0.0, 0.0);
/// Head::Linear.apply(&mut z);
/// assert_eq!(z[0], 0.0);
/// Head::Softmax.apply(&mut z);
/// assert_eq!(z[0], 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// `ŷ = softmax(z)` per column: classification (the seeds' head).
    Softmax,
    /// `ŷ = z`: regression.
    Linear,
}

impl Head {
    /// Turns logits into predictions in place.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::loss::Head;
    /// let mut z = SMatrix::<f64, 3, 1>::new(1.0, 1.0, 1.0);
    /// Head::Softmax.apply(&mut z);
    /// assert!((z.sum() - 1.0).abs() < 1e-15);
    /// ```
    pub fn apply<T: Real, const N_Y: usize, const M: usize>(self, z: &mut SMatrix<T, N_Y, M>) {
        match self {
            Head::Softmax => softmax_columns_in_place(z),
            Head::Linear => {}
        }
    }
}

/// What a sequence of `T_X` steps is trained to produce, for a batch of `M` examples.
///
/// `…Last` targets apply to the last step only (sequence classification or regression);
/// `…Each` targets give one target per step. Class indices select the softmax head and
/// cross-entropy; probability targets (one-hot or soft labels, each column summing to 1) do too;
/// value targets select the linear head and mean squared error.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::loss::{Head, Target};
///
/// let labels = [2_usize, 0, 1];
/// let t: Target<'_, f32, 3, 3, 10> = Target::ClassLast(&labels);
/// assert_eq!((t.head(), t.steps()), (Head::Softmax, 1));
///
/// let values = [SMatrix::<f32, 1, 3>::zeros(); 10];
/// let r: Target<'_, f32, 1, 3, 10> = Target::ValueEach(&values);
/// assert_eq!((r.head(), r.steps()), (Head::Linear, 10));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Target<'a, T, const N_Y: usize, const M: usize, const T_X: usize> {
    /// A class index (`< N_Y`) per example, at the last step.
    ClassLast(&'a [usize; M]),
    /// A class index per example and step.
    ClassEach(&'a [[usize; M]; T_X]),
    /// Class probabilities per example (column), at the last step.
    ProbLast(&'a SMatrix<T, N_Y, M>),
    /// Class probabilities per example and step.
    ProbEach(&'a [SMatrix<T, N_Y, M>; T_X]),
    /// Regression values per example, at the last step.
    ValueLast(&'a SMatrix<T, N_Y, M>),
    /// Regression values per example and step.
    ValueEach(&'a [SMatrix<T, N_Y, M>; T_X]),
}

/// One step's target, as [`step_loss`] takes it.
///
/// # Example
/// ```
/// use tinyrnn::loss::StepTarget;
/// let t: StepTarget<'_, f32, 4, 2> = StepTarget::Class(&[3, 1]);
/// assert!(matches!(t, StepTarget::Class(_)));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum StepTarget<'a, T, const N_Y: usize, const M: usize> {
    /// A class index per example: softmax cross-entropy.
    Class(&'a [usize; M]),
    /// Class probabilities per example: softmax cross-entropy.
    Prob(&'a SMatrix<T, N_Y, M>),
    /// Values per example: squared error.
    Value(&'a SMatrix<T, N_Y, M>),
}

/// A [`Target`] with a weight per example (batch column): the loss becomes the weighted mean
/// `Σ_j w_j·ℓ_j / Σ_j w_j` over the examples (and the target steps, and for squared error the
/// outputs, as for an unweighted target). A weight of 0 leaves an example out entirely: its
/// loss and gradient are never computed, so a **padded batch** trains exactly like the
/// smaller batch without the padding. Weights must be finite and non-negative, and not all 0.
///
/// Made by [`Target::weighted`]; every training call that takes a `&Target` also takes a
/// `Weighted` (a `&Target` converts into one with no weights).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{init::{Init, Rng}, loss::Target, train::RnnWorkspace, RnnParams};
///
/// // 3 real examples in a batch of 4: the 4th column is padding.
/// let model = RnnParams::<f64, 1, 4, 2>::init(&Init::default(), &mut Rng::new(1));
/// let mut x4 = [SMatrix::<f64, 1, 4>::zeros(); 5];
/// x4[0] = SMatrix::from_row_slice(&[1.0, -1.0, 0.5, 0.0]);
/// let mut ws4 = RnnWorkspace::<f64, 1, 4, 2, 4, 5>::zeros();
/// let mask = [1.0, 1.0, 1.0, 0.0];
/// let padded = ws4.accumulate(&model, &x4, Target::ClassLast(&[1, 0, 1, 0]).weighted(&mask))?;
///
/// // The same 3 examples as a batch of 3.
/// let x3 = x4.map(|x| x.fixed_columns::<3>(0).into_owned());
/// let mut ws3 = RnnWorkspace::<f64, 1, 4, 2, 3, 5>::zeros();
/// let alone = ws3.accumulate(&model, &x3, &Target::ClassLast(&[1, 0, 1]))?;
/// assert!((padded - alone).abs() < 1e-12);
/// assert!((ws4.grads.waa - ws3.grads.waa).norm() < 1e-12);
/// # Ok::<(), tinyrnn::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Weighted<'a, T, const N_Y: usize, const M: usize, const T_X: usize> {
    /// The target.
    pub target: Target<'a, T, N_Y, M, T_X>,
    /// One weight per example (batch column); `None`: every example weighs 1.
    pub weights: Option<&'a [T; M]>,
}

impl<'a, T, const N_Y: usize, const M: usize, const T_X: usize> From<Target<'a, T, N_Y, M, T_X>>
    for Weighted<'a, T, N_Y, M, T_X>
{
    fn from(target: Target<'a, T, N_Y, M, T_X>) -> Self {
        Self {
            target,
            weights: None,
        }
    }
}

impl<'a, T: Copy, const N_Y: usize, const M: usize, const T_X: usize>
    From<&Target<'a, T, N_Y, M, T_X>> for Weighted<'a, T, N_Y, M, T_X>
{
    fn from(target: &Target<'a, T, N_Y, M, T_X>) -> Self {
        Self {
            target: *target,
            weights: None,
        }
    }
}

impl<'a, T: Real, const N_Y: usize, const M: usize, const T_X: usize> Weighted<'a, T, N_Y, M, T_X> {
    /// Checks the target ([`Target::validate`]) and the weights: finite, non-negative, not
    /// all 0, with a finite sum.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{loss::Target, Error};
    /// let k = [0_usize, 1];
    /// let t = Target::<'_, f32, 2, 2, 3>::ClassLast(&k);
    /// assert!(t.weighted(&[1.0, 0.0]).validate().is_ok());
    /// assert!(matches!(
    ///     t.weighted(&[0.0, 0.0]).validate(),
    ///     Err(Error::InvalidSetting { what: "weights", .. })
    /// ));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        self.target.validate()?;
        if let Some(w) = self.weights {
            let sum = w.iter().fold(T::zero(), |s, &w| s + w);
            let ok = w.iter().all(|&w| w.is_finite() && w >= T::zero());
            if !ok || !sum.is_finite() || sum <= T::zero() {
                return Err(Error::InvalidSetting {
                    what: "weights",
                    requirement: "finite, non-negative, not all 0, with a finite sum",
                });
            }
        }
        Ok(())
    }

    /// The weight of example `j` (1 without weights).
    pub(crate) fn weight(&self, j: usize) -> T {
        match self.weights {
            Some(w) => w.get(j).copied().unwrap_or(T::zero()),
            None => T::one(),
        }
    }

    /// The factor that turns a weighted sum over the target steps into this target's mean:
    /// `1/(W·S)` for cross-entropy, `1/(W·S·N_Y)` for squared error, `W = Σ_j w_j` (`M`
    /// without weights).
    pub(crate) fn mean_scale(&self) -> T {
        let per_step = match self.target.head() {
            Head::Softmax => 1,
            Head::Linear => N_Y,
        };
        let count = T::lit((per_step * self.target.steps()) as f64);
        match self.weights {
            None => T::one() / T::lit((M * per_step * self.target.steps()) as f64),
            Some(w) => T::one() / (w.iter().fold(T::zero(), |s, &w| s + w) * count),
        }
    }
}

impl<'a, T: Real, const N_Y: usize, const M: usize, const T_X: usize> Target<'a, T, N_Y, M, T_X> {
    /// The head this target trains.
    ///
    /// # Example
    /// ```
    /// use nalgebra::SMatrix;
    /// use tinyrnn::loss::{Head, Target};
    /// let p = SMatrix::<f64, 2, 1>::new(0.25, 0.75);
    /// assert_eq!(Target::<'_, f64, 2, 1, 5>::ProbLast(&p).head(), Head::Softmax);
    /// ```
    pub fn head(&self) -> Head {
        match self {
            Target::ValueLast(_) | Target::ValueEach(_) => Head::Linear,
            _ => Head::Softmax,
        }
    }

    /// How many steps carry a target: 1 or `T_X`.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::loss::Target;
    /// let k = [[0_usize; 4]; 6];
    /// assert_eq!(Target::<'_, f32, 3, 4, 6>::ClassEach(&k).steps(), 6);
    /// ```
    pub fn steps(&self) -> usize {
        match self {
            Target::ClassLast(_) | Target::ProbLast(_) | Target::ValueLast(_) => 1,
            _ => T_X,
        }
    }

    /// The target at step `t`, if that step has one.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::loss::{StepTarget, Target};
    /// let k = [1_usize, 0];
    /// let t = Target::<'_, f32, 2, 2, 3>::ClassLast(&k);
    /// assert!(t.at(1).is_none());
    /// assert!(matches!(t.at(2), Some(StepTarget::Class(_))));
    /// ```
    pub fn at(&self, t: usize) -> Option<StepTarget<'a, T, N_Y, M>> {
        // Not `t + 1 == T_X`: that overflows (a panic in debug builds) for t = usize::MAX.
        let last = T_X.checked_sub(1) == Some(t);
        match *self {
            Target::ClassLast(k) if last => Some(StepTarget::Class(k)),
            Target::ProbLast(p) if last => Some(StepTarget::Prob(p)),
            Target::ValueLast(v) if last => Some(StepTarget::Value(v)),
            Target::ClassEach(k) => k.get(t).map(StepTarget::Class),
            Target::ProbEach(p) => p.get(t).map(StepTarget::Prob),
            Target::ValueEach(v) => v.get(t).map(StepTarget::Value),
            _ => None,
        }
    }

    /// Checks the target: class indices below `N_Y`, probabilities and values finite.
    ///
    /// # Example
    /// ```
    /// use tinyrnn::{loss::Target, Error};
    /// let k = [0_usize, 3];
    /// assert_eq!(
    ///     Target::<'_, f32, 3, 2, 4>::ClassLast(&k).validate(),
    ///     Err(Error::ClassOutOfRange { index: 3, classes: 3 })
    /// );
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        for t in 0..T_X {
            match self.at(t) {
                None => {}
                Some(StepTarget::Class(k)) => {
                    if let Some(&index) = k.iter().find(|&&k| k >= N_Y) {
                        return Err(Error::ClassOutOfRange {
                            index,
                            classes: N_Y,
                        });
                    }
                }
                Some(StepTarget::Prob(v) | StepTarget::Value(v)) => {
                    crate::params::check_finite_slice("target", v.as_slice())?;
                }
            }
        }
        Ok(())
    }

    /// This target with a weight per example (batch column): see [`Weighted`].
    ///
    /// # Example
    /// ```
    /// use tinyrnn::loss::Target;
    /// let k = [2_usize, 0, 0];
    /// let w = Target::<'_, f32, 3, 3, 4>::ClassLast(&k).weighted(&[1.0, 1.0, 0.0]);
    /// assert_eq!(w.weights, Some(&[1.0, 1.0, 0.0]));
    /// ```
    pub fn weighted(self, weights: &'a [T; M]) -> Weighted<'a, T, N_Y, M, T_X> {
        Weighted {
            target: self,
            weights: Some(weights),
        }
    }
}

/// One step of a loss: from the logits `z`, writes the predictions `y` and the gradient
/// `dz = scale·∂(loss)/∂z`, and returns `scale · loss`, where `loss` is the step's sum over the
/// batch (and, for squared error, the outputs). See the [module docs](self) for the formulas.
///
/// Class indices must be below `N_Y` (see [`Target::validate`]); an index out of range
/// contributes nothing rather than panicking.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::loss::{step_loss, StepTarget};
///
/// let z = SMatrix::<f64, 2, 1>::new(0.0, 0.0);
/// let (mut y, mut dz) = (SMatrix::zeros(), SMatrix::zeros());
/// let loss = step_loss(&z, StepTarget::Class(&[1]), 1.0, &mut y, &mut dz);
/// assert!((loss - 2.0_f64.ln()).abs() < 1e-15);
/// assert_eq!(dz, SMatrix::<f64, 2, 1>::new(0.5, -0.5)); // ŷ − onehot(1)
///
/// let v = SMatrix::<f64, 2, 1>::new(1.0, -1.0);
/// let loss = step_loss(&z, StepTarget::Value(&v), 0.5, &mut y, &mut dz);
/// assert_eq!(loss, 1.0); // 0.5 · (1 + 1)
/// assert_eq!(dz, SMatrix::<f64, 2, 1>::new(-1.0, 1.0)); // 0.5 · 2 (z − v)
/// ```
pub fn step_loss<T: Real, const N_Y: usize, const M: usize>(
    z: &SMatrix<T, N_Y, M>,
    target: StepTarget<'_, T, N_Y, M>,
    scale: T,
    y: &mut SMatrix<T, N_Y, M>,
    dz: &mut SMatrix<T, N_Y, M>,
) -> T {
    weighted_step_loss(z, target, scale, |_| T::one(), y, dz)
}

/// [`step_loss`] with a weight per example (column) `weight(j)`: each example's loss terms and
/// gradient are multiplied by its weight (a weight of 1 changes no bit), and an example of
/// weight 0 gets `dz = 0` without its loss being computed.
pub(crate) fn weighted_step_loss<T: Real, const N_Y: usize, const M: usize>(
    z: &SMatrix<T, N_Y, M>,
    target: StepTarget<'_, T, N_Y, M>,
    scale: T,
    weight: impl Fn(usize) -> T,
    y: &mut SMatrix<T, N_Y, M>,
    dz: &mut SMatrix<T, N_Y, M>,
) -> T {
    let mut loss = T::zero();
    for j in 0..M {
        let w = weight(j);
        let zj = z.column(j);
        let mut yj = y.column_mut(j);
        let mut dzj = dz.column_mut(j);
        if w == T::zero() {
            yj.copy_from(&zj);
            dzj.fill(T::zero());
            continue;
        }
        match target {
            StepTarget::Value(v) => {
                yj.copy_from(&zj);
                let two = T::lit(2.0);
                let s = scale * w;
                for ((d, &z), &v) in dzj.iter_mut().zip(zj.iter()).zip(v.column(j).iter()) {
                    let e = z - v;
                    loss += w * (e * e);
                    *d = two * s * e;
                }
            }
            StepTarget::Class(_) | StepTarget::Prob(_) => {
                let mut max = T::NEG_INFINITY;
                for &v in zj.iter() {
                    if v > max {
                        max = v;
                    }
                }
                let mut sum = T::zero();
                for (yk, &zk) in yj.iter_mut().zip(zj.iter()) {
                    *yk = (zk - max).exp_branchless();
                    sum += *yk;
                }
                let lse = max + sum.ln_libm();
                let inv = T::one() / sum;
                yj *= inv;
                match target {
                    StepTarget::Class(k) => {
                        dzj.copy_from(&yj);
                        let k = k.get(j).filter(|&&k| k < N_Y);
                        if let Some((&zk, dk)) = k.and_then(|&k| zj.get(k).zip(dzj.get_mut(k))) {
                            loss += w * (lse - zk);
                            *dk -= T::one();
                        }
                    }
                    StepTarget::Prob(p) => {
                        let pj = p.column(j);
                        let mass = pj.sum();
                        for ((d, &yk), (&pk, &zk)) in
                            dzj.iter_mut().zip(yj.iter()).zip(pj.iter().zip(zj.iter()))
                        {
                            loss += w * (pk * (lse - zk));
                            *d = yk * mass - pk;
                        }
                    }
                    StepTarget::Value(_) => {}
                }
                dzj *= scale * w;
            }
        }
    }
    loss * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cross-entropy from logits far apart stays finite and exact where log(softmax) underflows.
    #[test]
    fn cross_entropy_is_stable_for_large_logits() {
        let z = SMatrix::<f64, 2, 1>::new(1000.0, -1000.0);
        let (mut y, mut dz) = (SMatrix::zeros(), SMatrix::zeros());
        let loss = step_loss(&z, StepTarget::Class(&[1]), 1.0, &mut y, &mut dz);
        assert_eq!(loss, 2000.0);
        assert_eq!(dz, SMatrix::<f64, 2, 1>::new(1.0, -1.0));
        let p = SMatrix::<f64, 2, 1>::new(0.0, 1.0);
        let loss_p = step_loss(&z, StepTarget::Prob(&p), 1.0, &mut y, &mut dz);
        assert_eq!(loss_p, 2000.0);
    }

    /// The analytic gradient of every loss matches central differences.
    #[test]
    fn step_loss_gradients_match_finite_differences() {
        let z = SMatrix::<f64, 3, 2>::new(0.3, -1.2, 2.0, 0.1, -0.4, 0.7);
        let p = SMatrix::<f64, 3, 2>::new(0.2, 0.5, 0.3, 0.1, 0.4, 0.4);
        let v = SMatrix::<f64, 3, 2>::new(1.0, -2.0, 0.5, 0.0, 0.3, -0.7);
        let classes = [2_usize, 0];
        for target in [
            StepTarget::Class(&classes),
            StepTarget::Prob(&p),
            StepTarget::Value(&v),
        ] {
            let (mut y, mut dz) = (SMatrix::zeros(), SMatrix::zeros());
            step_loss(&z, target, 0.7, &mut y, &mut dz);
            for k in 0..6 {
                let h = 1e-6;
                let (mut zp, mut zm) = (z, z);
                zp[k] += h;
                zm[k] -= h;
                let (mut y2, mut d2) = (SMatrix::zeros(), SMatrix::zeros());
                let lp = step_loss(&zp, target, 0.7, &mut y2, &mut d2);
                let lm = step_loss(&zm, target, 0.7, &mut y2, &mut d2);
                let n = (lp - lm) / (2.0 * h);
                assert!(
                    (n - dz[k]).abs() < 1e-8,
                    "{target:?} k={k}: {n} vs {}",
                    dz[k]
                );
            }
        }
    }
}
