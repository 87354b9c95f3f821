//! Finite-difference gradient checks of every backward pass.
//!
//! The loss is `J = Σ_t ⟨w_t, a⟨t⟩⟩ (+ ⟨v, c_next⟩ for the LSTM cell)` with fixed random weights
//! `w_t`, so `∂J/∂a⟨t⟩ = w_t` is exactly the `da` the backward pass takes. Every scalar of every
//! parameter, every input `x⟨t⟩`, `a⟨0⟩` and (LSTM) `c⟨0⟩` is perturbed, and the analytic
//! gradient is compared with the fourth-order central difference
//! `(8(J(θ+h) − J(θ−h)) − (J(θ+2h) − J(θ−2h))) / 12h`.
//!
//! Error measure, per scalar: `|g − n| / max(|g|, |n|)`, except where both are below
//! [`TINY`] (a structurally zero gradient, e.g. `Wy`, which `da` does not reach), which must
//! then agree absolutely to [`TINY`]. Run with `--nocapture` to see the worst error per tensor.

mod common;

use common::Rng;
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params, Real, RnnParams};

/// f64: the largest relative error accepted.
const F64_MAX_REL_ERR: f64 = 1e-6;
/// f64: step of the central difference.
const F64_H: f64 = 1e-3;
/// f32: single precision leaves ~7 digits, and the difference quotient loses about half of them,
/// so f32 is checked norm-wise per tensor: `‖g − n‖ / max(‖g‖, ‖n‖)`.
const F32_MAX_NORM_REL_ERR: f64 = 2e-3;
/// f32: step of the central difference.
const F32_H: f64 = 1e-2;
/// Below this, both gradients are treated as zero and compared absolutely.
const TINY: f64 = 1e-9;

/// Accumulates the comparison of analytic and numeric gradients for one tensor.
#[derive(Default)]
struct Report {
    max_rel: f64,
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
    fn norm_rel(&self) -> f64 {
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
fn check_tensor<T: Real>(
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
fn assert_report<T: Real>(what: &str, r: &Report) {
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

fn step<T: Real>() -> f64 {
    if T::EPS.as_f64() < 1e-10 {
        F64_H
    } else {
        F32_H
    }
}

fn weighted<T: Real, const R: usize, const C: usize, const T_X: usize>(
    w: &[SMatrix<T, R, C>; T_X],
    a: &[SMatrix<T, R, C>; T_X],
) -> f64 {
    w.iter().zip(a).map(|(w, a)| w.dot(a).as_f64()).sum::<f64>()
}

fn from_slice<T: Real, const R: usize, const C: usize>(v: &[T]) -> SMatrix<T, R, C> {
    SMatrix::from_column_slice(v)
}

/// Checks the gradient `dp` of every parameter scalar of `p`; `loss` evaluates `J` at
/// perturbed parameters.
fn check_params<T: Real, P: Params<T>>(p: &P, dp: &P, h: f64, loss: impl Fn(&P) -> f64) {
    for (k, (analytic, &name)) in dp.tensors().zip(P::NAMES).enumerate() {
        let values = p.tensors().nth(k).unwrap().to_vec();
        let r = check_tensor(name, analytic, &values, h, |v| {
            let mut q = p.clone();
            q.tensors_mut().nth(k).unwrap().copy_from_slice(v);
            loss(&q)
        });
        assert_report::<T>(name, &r);
    }
}

fn rnn_check<
    T: Real,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
>(
    seed: u64,
) {
    println!(
        "RNN {} N_X={N_X} N_A={N_A} N_Y={N_Y} M={M} T_X={T_X}",
        core::any::type_name::<T>()
    );
    let mut rng = Rng::new(seed);
    let mut p = RnnParams::<T, N_X, N_A, N_Y>::zeros();
    for t in p.tensors_mut() {
        rng.fill(t, 0.6);
    }
    let x: [SMatrix<T, N_X, M>; T_X] = rng.seq(1.0);
    let a0: SMatrix<T, N_A, M> = rng.matrix(0.8);
    let w: [SMatrix<T, N_A, M>; T_X] = rng.seq(1.0);
    let h = step::<T>();

    let g = p.backward(&w, &p.forward(&x, &a0));
    let loss = |p: &RnnParams<T, N_X, N_A, N_Y>,
                x: &[SMatrix<T, N_X, M>; T_X],
                a0: &SMatrix<T, N_A, M>| { weighted(&w, &p.forward(x, a0).a) };

    check_params(&p, &g.dparams, h, |q| loss(q, &x, &a0));
    for t in 0..T_X {
        let values = x[t].as_slice().to_vec();
        let r = check_tensor(&format!("x[{t}]"), g.dx[t].as_slice(), &values, h, |v| {
            let mut x2 = x;
            x2[t].copy_from_slice(v);
            loss(&p, &x2, &a0)
        });
        assert_report::<T>("dx", &r);
    }
    let values = a0.as_slice().to_vec();
    let r = check_tensor("a0", g.da0.as_slice(), &values, h, |v| {
        loss(&p, &x, &from_slice(v))
    });
    assert_report::<T>("da0", &r);
}

fn lstm_check<
    T: Real,
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
>(
    seed: u64,
) {
    println!(
        "LSTM {} N_X={N_X} N_A={N_A} N_Y={N_Y} M={M} T_X={T_X}",
        core::any::type_name::<T>()
    );
    let mut rng = Rng::new(seed);
    let mut p = LstmParams::<T, N_X, N_A, N_Y>::zeros();
    for t in p.tensors_mut() {
        rng.fill(t, 0.8);
    }
    let x: [SMatrix<T, N_X, M>; T_X] = rng.seq(1.0);
    let a0: SMatrix<T, N_A, M> = rng.matrix(0.8);
    let c0: SMatrix<T, N_A, M> = rng.matrix(1.5);
    let w: [SMatrix<T, N_A, M>; T_X] = rng.seq(1.0);
    let h = step::<T>();

    let g = p.backward(&w, &p.forward_with_c0(&x, &a0, &c0));
    let loss =
        |p: &LstmParams<T, N_X, N_A, N_Y>,
         x: &[SMatrix<T, N_X, M>; T_X],
         a0: &SMatrix<T, N_A, M>,
         c0: &SMatrix<T, N_A, M>| { weighted(&w, &p.forward_with_c0(x, a0, c0).a) };

    check_params(&p, &g.dparams, h, |q| loss(q, &x, &a0, &c0));
    for t in 0..T_X {
        let values = x[t].as_slice().to_vec();
        let r = check_tensor(&format!("x[{t}]"), g.dx[t].as_slice(), &values, h, |v| {
            let mut x2 = x;
            x2[t].copy_from_slice(v);
            loss(&p, &x2, &a0, &c0)
        });
        assert_report::<T>("dx", &r);
    }
    let values = a0.as_slice().to_vec();
    let r = check_tensor("a0", g.da0.as_slice(), &values, h, |v| {
        loss(&p, &x, &from_slice(v), &c0)
    });
    assert_report::<T>("da0", &r);
    let values = c0.as_slice().to_vec();
    let r = check_tensor("c0", g.dc0.as_slice(), &values, h, |v| {
        loss(&p, &x, &a0, &from_slice(v))
    });
    assert_report::<T>("dc0", &r);
}

/// One LSTM step with both upstream gradients: `J = ⟨wa, a_next⟩ + ⟨wc, c_next⟩`, so the
/// `dc_next` path of the cell backward is checked too (a sequence's last step has `dc = 0`).
fn lstm_cell_check<T: Real, const N_X: usize, const N_A: usize, const M: usize>(seed: u64) {
    println!(
        "LSTM cell {} N_X={N_X} N_A={N_A} M={M}",
        core::any::type_name::<T>()
    );
    let mut rng = Rng::new(seed);
    let mut p = LstmParams::<T, N_X, N_A, 2>::zeros();
    for t in p.tensors_mut() {
        rng.fill(t, 0.8);
    }
    let xt: SMatrix<T, N_X, M> = rng.matrix(1.0);
    let a_prev: SMatrix<T, N_A, M> = rng.matrix(0.8);
    let c_prev: SMatrix<T, N_A, M> = rng.matrix(1.5);
    let (wa, wc): (SMatrix<T, N_A, M>, SMatrix<T, N_A, M>) = (rng.matrix(1.0), rng.matrix(1.0));
    let h = step::<T>();
    let loss = |p: &LstmParams<T, N_X, N_A, 2>,
                xt: &SMatrix<T, N_X, M>,
                a_prev: &SMatrix<T, N_A, M>,
                c_prev: &SMatrix<T, N_A, M>| {
        let out = p.cell_forward(xt, a_prev, c_prev);
        wa.dot(&out.a_next).as_f64() + wc.dot(&out.c_next).as_f64()
    };
    let step_out = p.cell_forward(&xt, &a_prev, &c_prev);
    let g = p.cell_backward(&wa, &wc, &step_out.cache);
    check_params(&p, &g.dparams, h, |q| loss(q, &xt, &a_prev, &c_prev));
    let r = check_tensor("xt", g.dxt.as_slice(), xt.as_slice(), h, |v| {
        loss(&p, &from_slice(v), &a_prev, &c_prev)
    });
    assert_report::<T>("dxt", &r);
    let r = check_tensor("a_prev", g.da_prev.as_slice(), a_prev.as_slice(), h, |v| {
        loss(&p, &xt, &from_slice(v), &c_prev)
    });
    assert_report::<T>("da_prev", &r);
    let r = check_tensor("c_prev", g.dc_prev.as_slice(), c_prev.as_slice(), h, |v| {
        loss(&p, &xt, &a_prev, &from_slice(v))
    });
    assert_report::<T>("dc_prev", &r);
}

/// One RNN step: `J = ⟨wa, a_next⟩`.
fn rnn_cell_check<T: Real, const N_X: usize, const N_A: usize, const M: usize>(seed: u64) {
    println!(
        "RNN cell {} N_X={N_X} N_A={N_A} M={M}",
        core::any::type_name::<T>()
    );
    let mut rng = Rng::new(seed);
    let mut p = RnnParams::<T, N_X, N_A, 2>::zeros();
    for t in p.tensors_mut() {
        rng.fill(t, 0.6);
    }
    let xt: SMatrix<T, N_X, M> = rng.matrix(1.0);
    let a_prev: SMatrix<T, N_A, M> = rng.matrix(0.8);
    let wa: SMatrix<T, N_A, M> = rng.matrix(1.0);
    let h = step::<T>();
    let loss =
        |p: &RnnParams<T, N_X, N_A, 2>, xt: &SMatrix<T, N_X, M>, a_prev: &SMatrix<T, N_A, M>| {
            wa.dot(&p.cell_forward(xt, a_prev).a_next).as_f64()
        };
    let g = p.cell_backward(&wa, &p.cell_forward(&xt, &a_prev).cache);
    check_params(&p, &g.dparams, h, |q| loss(q, &xt, &a_prev));
    let r = check_tensor("xt", g.dxt.as_slice(), xt.as_slice(), h, |v| {
        loss(&p, &from_slice(v), &a_prev)
    });
    assert_report::<T>("dxt", &r);
    let r = check_tensor("a_prev", g.da_prev.as_slice(), a_prev.as_slice(), h, |v| {
        loss(&p, &xt, &from_slice(v))
    });
    assert_report::<T>("da_prev", &r);
}

macro_rules! gradcheck_tests {
    ($($name:ident: $t:ty;)*) => {$(
        mod $name {
            use super::*;
            type T = $t;

            /// Batch of one.
            #[test]
            fn rnn_sequence_batch_1() {
                rnn_check::<T, 2, 3, 2, 1, 4>(1);
            }
            /// N_X ≠ N_A, M > 1, T_X ≥ 3.
            #[test]
            fn rnn_sequence_batch_3() {
                rnn_check::<T, 4, 3, 2, 3, 5>(2);
            }
            /// The seeds' configuration.
            #[test]
            fn rnn_sequence_course_config() {
                rnn_check::<T, 3, 5, 2, 10, 7>(3);
            }
            #[test]
            fn lstm_sequence_batch_1() {
                lstm_check::<T, 2, 3, 2, 1, 4>(4);
            }
            #[test]
            fn lstm_sequence_batch_3() {
                lstm_check::<T, 4, 3, 2, 3, 5>(5);
            }
            #[test]
            fn lstm_sequence_course_config() {
                lstm_check::<T, 3, 5, 2, 10, 7>(6);
            }
            #[test]
            fn lstm_cell_with_dc_next() {
                lstm_cell_check::<T, 3, 4, 2>(7);
            }
            #[test]
            fn rnn_cell() {
                rnn_cell_check::<T, 3, 4, 2>(8);
            }
        }
    )*};
}

gradcheck_tests! {
    f64_: f64;
    f32_: f32;
}

/// The f32 and f64 backward passes compute the same math: on the same (f32-representable)
/// inputs, the f32 gradients agree with the f64 ones to single-precision accuracy.
#[test]
fn f32_backward_agrees_with_f64() {
    /// `|g32 − g64| ≤ F32_VS_F64_TOL · max(1, |g64|)`.
    const F32_VS_F64_TOL: f64 = 1e-4;
    let mut rng = Rng::new(9);
    let mut p32 = LstmParams::<f32, 4, 3, 2>::zeros();
    for t in p32.tensors_mut() {
        rng.fill(t, 0.8);
    }
    let x32: [SMatrix<f32, 4, 3>; 6] = rng.seq(1.0);
    let a32: SMatrix<f32, 3, 3> = rng.matrix(0.8);
    let w32: [SMatrix<f32, 3, 3>; 6] = rng.seq(1.0);
    let mut p64 = LstmParams::<f64, 4, 3, 2>::zeros();
    for (d, s) in p64.tensors_mut().zip(p32.tensors()) {
        for (d, &s) in d.iter_mut().zip(s) {
            *d = f64::from(s);
        }
    }
    let x64 = x32.map(|m| m.cast::<f64>());
    let (a64, w64) = (a32.cast::<f64>(), w32.map(|m| m.cast::<f64>()));
    let g32 = p32.backward(&w32, &p32.forward(&x32, &a32));
    let g64 = p64.backward(&w64, &p64.forward(&x64, &a64));
    let mut worst = 0.0_f64;
    for (a, b) in g32.dparams.tensors().zip(g64.dparams.tensors()) {
        for (&a, &b) in a.iter().zip(b) {
            worst = worst.max((f64::from(a) - b).abs() / b.abs().max(1.0));
        }
    }
    for (a, b) in g32.dx.iter().zip(&g64.dx) {
        worst = worst.max((a.cast::<f64>() - b).abs().max());
    }
    println!("f32 vs f64 LSTM gradients: worst scaled difference {worst:.2e}");
    assert!(worst < F32_VS_F64_TOL, "{worst:e}");
}
