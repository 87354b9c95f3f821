// Twin of fail_lstm_cell_forward_{a_prev,c_prev}_n_a.rs with the right dimensions:
// `a_prev` and `c_prev` both have N_A = 5 rows.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let p = LstmParams::<f64, 3, 5, 2>::zeros();
    let xt = SMatrix::<f64, 3, 10>::zeros();
    let a_prev = SMatrix::<f64, 5, 10>::zeros();
    let c_prev = SMatrix::<f64, 5, 10>::repeat(2.0);
    let out = p.cell_forward(&xt, &a_prev, &c_prev);
    assert_eq!(out.a_next.shape(), (5, 10));
    assert_eq!(out.c_next.shape(), (5, 10));
    assert_eq!(out.y_pred.shape(), (2, 10));
    // Zero weights: every gate is σ(0) = 0.5 and c̃ = tanh(0) = 0.
    assert_eq!(out.c_next, c_prev * 0.5);
    assert_eq!(out.a_next[(2, 7)], 0.5 * 1.0_f64.tanh());
}
