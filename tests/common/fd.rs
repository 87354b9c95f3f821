//! Finite-difference gradient checking shared by the gradient-check tests.
//!
//! Every scalar is perturbed and the analytic gradient compared with the fourth-order central
//! difference `(8(J(θ+h) − J(θ−h)) − (J(θ+2h) − J(θ−2h))) / 12h`. Error measure, per scalar:
//! `|g − n| / max(|g|, |n|)`, except where both are below [`TINY`] (a structurally zero
//! gradient), which must then agree absolutely to [`TINY`].

use tinyrnn::{Params, Real};

/// f64: the largest relative error accepted.
pub const F64_MAX_REL_ERR: f64 = 1e-6;
/// f64: step of the central difference.
const F64_H: f64 = 1e-3;
/// f32: single precision leaves ~7 digits, and the difference quotient loses about half of them,
/// so f32 is checked norm-wise per tensor: `‖g − n‖ / max(‖g‖, ‖n‖)`.
pub const F32_MAX_NORM_REL_ERR: f64 = 2e-3;
/// f32: step of the central difference.
const F32_H: f64 = 1e-2;
/// Below this, both gradients are treated as zero and compared absolutely.
pub const TINY: f64 = 1e-9;

/// Accumulates the comparison of analytic and numeric gradients for one tensor.
#[derive(Default)]
pub struct Report {
    pub max_rel: f64,
    diff_sq: f64,
    g_sq: f64,
    n_sq: f64,
    count: usize,
}

impl Report {
    fn add(&mut self, g: f64, n: f64) {
        let scale = g.abs().max(n.abs());
        let rel = if scale < TINY {
            if (g - n).abs() <= TINY {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (g - n).abs() / scale
        };
        self.max_rel = self.max_rel.max(rel);
        self.diff_sq += (g - n) * (g - n);
        self.g_sq += g * g;
        self.n_sq += n * n;
        self.count += 1;
    }
    pub fn norm_rel(&self) -> f64 {
        let scale = self.g_sq.max(self.n_sq).sqrt();
        if scale < TINY {
            self.diff_sq.sqrt()
        } else {
            self.diff_sq.sqrt() / scale
        }
    }
}

/// Checks one tensor: `analytic` is its gradient, `values` its current scalars, and `loss`
/// evaluates `J` with the tensor replaced by the given scalars.
pub fn check_tensor<T: Real>(
    label: &str,
    analytic: &[T],
    values: &[T],
    h: f64,
    loss: impl Fn(&[T]) -> f64,
) -> Report {
    let mut r = Report::default();
    let mut v = values.to_vec();
    for k in 0..v.len() {
        let orig = v[k];
        let mut at = |d: f64| {
            v[k] = T::lit(orig.as_f64() + d);
            loss(&v)
        };
        // Fourth-order central difference.
        let (p1, m1, p2, m2) = (at(h), at(-h), at(2.0 * h), at(-2.0 * h));
        v[k] = orig;
        r.add(
            analytic[k].as_f64(),
            (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * h),
        );
    }
    println!(
        "  {label:<8} {:>4} scalars  max rel err {:.2e}  norm rel err {:.2e}",
        r.count,
        r.max_rel,
        r.norm_rel()
    );
    r
}

/// Asserts the tolerance for the scalar type: element-wise for f64, norm-wise for f32.
pub fn assert_report<T: Real>(what: &str, r: &Report) {
    if T::EPS.as_f64() < 1e-10 {
        assert!(
            r.max_rel < F64_MAX_REL_ERR,
            "{what}: max relative error {:.3e} ≥ {F64_MAX_REL_ERR:e}",
            r.max_rel
        );
    } else {
        assert!(
            r.norm_rel() < F32_MAX_NORM_REL_ERR,
            "{what}: norm relative error {:.3e} ≥ {F32_MAX_NORM_REL_ERR:e}",
            r.norm_rel()
        );
    }
}

pub fn step<T: Real>() -> f64 {
    if T::EPS.as_f64() < 1e-10 {
        F64_H
    } else {
        F32_H
    }
}

/// Checks the gradient `dp` of every parameter scalar of `p`; `loss` evaluates `J` at
/// perturbed parameters.
pub fn check_params<T: Real, P: Params<T>>(p: &P, dp: &P, h: f64, loss: impl Fn(&P) -> f64) {
    for (k, (analytic, name)) in dp.tensors().zip(P::names()).enumerate() {
        let values = p.tensors().nth(k).unwrap().to_vec();
        let r = check_tensor(name, analytic, &values, h, |v| {
            let mut q = p.clone();
            q.tensors_mut().nth(k).unwrap().copy_from_slice(v);
            loss(&q)
        });
        assert_report::<T>(name, &r);
    }
}
