// Twin of fail_rnn_cell_forward_n_x.rs with the right dimensions: `xt` has N_X = 3 rows.
use nalgebra::SMatrix;
use tinyrnn::{Params, RnnParams};

fn main() {
    let mut p = RnnParams::<f64, 3, 5, 2>::zeros();
    p.ba.fill(0.5);
    let xt = SMatrix::<f64, 3, 10>::zeros();
    let a_prev = SMatrix::<f64, 5, 10>::zeros();
    let out = p.cell_forward(&xt, &a_prev);
    assert_eq!(out.a_next.shape(), (5, 10));
    assert_eq!(out.y_pred.shape(), (2, 10));
    assert_eq!(out.a_next[(4, 9)], 0.5_f64.tanh());
    assert_eq!(out.y_pred[(1, 3)], 0.5); // zero logits: uniform over two classes
}
