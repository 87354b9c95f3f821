//! Finite-difference gradient checks of every backward pass.
//!
//! The loss is `J = Σ_t ⟨w_t, a⟨t⟩⟩ (+ ⟨v, c_next⟩ for the LSTM cell)` with fixed random weights
//! `w_t`, so `∂J/∂a⟨t⟩ = w_t` is exactly the `da` the backward pass takes. Every scalar of every
//! parameter, every input `x⟨t⟩`, `a⟨0⟩` and (LSTM) `c⟨0⟩` is perturbed, and the analytic
//! gradient is compared with the fourth-order central difference
//! `(8(J(θ+h) − J(θ−h)) − (J(θ+2h) − J(θ−2h))) / 12h`.
//!
//! Error measure, per scalar: `|g − n| / max(|g|, |n|)`, except where both are below
//! `TINY` (a structurally zero gradient, e.g. `Wy`, which `da` does not reach), which must
//! then agree absolutely to `TINY`. Run with `--nocapture` to see the worst error per tensor.

mod common;

use common::fd::{assert_report, check_params, check_tensor, step};
use common::Rng;
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params, Real, RnnParams};

fn weighted<T: Real, const R: usize, const C: usize, const T_X: usize>(
    w: &[SMatrix<T, R, C>; T_X],
    a: &[SMatrix<T, R, C>; T_X],
) -> f64 {
    w.iter().zip(a).map(|(w, a)| w.dot(a).as_f64()).sum::<f64>()
}

fn from_slice<T: Real, const R: usize, const C: usize>(v: &[T]) -> SMatrix<T, R, C> {
    SMatrix::from_column_slice(v)
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
