// Twin of fail_rnn_forward_batch.rs with the right dimensions: `x` and `a0` both have a
// batch of M = 10 columns.
use nalgebra::SMatrix;
use tinyrnn::{Params, RnnParams};

fn main() {
    let mut p = RnnParams::<f64, 3, 5, 2>::zeros();
    p.ba.fill(0.1);
    let x = [SMatrix::<f64, 3, 10>::zeros(); 4];
    let a0 = SMatrix::<f64, 5, 10>::zeros();
    let tape = p.forward(&x, &a0);
    assert_eq!(tape.a.len(), 4);
    assert_eq!(tape.a[3].shape(), (5, 10));
    assert_eq!(tape.y_pred[3].shape(), (2, 10));
    // The same as calling the cell four times.
    let mut a = a0;
    for (xt, tape_a) in x.iter().zip(&tape.a) {
        a = p.cell_forward(xt, &a).a_next;
        assert_eq!(*tape_a, a);
    }
}
