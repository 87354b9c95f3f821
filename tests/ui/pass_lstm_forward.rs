// Twin of fail_lstm_forward_batch.rs with the right dimensions: `x` and `a0` both have a
// batch of M = 10 columns.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let mut p = LstmParams::<f64, 3, 5, 2>::zeros();
    p.bc.fill(0.3);
    let x = [SMatrix::<f64, 3, 10>::zeros(); 7];
    let a0 = SMatrix::<f64, 5, 10>::zeros();
    let tape = p.forward(&x, &a0);
    assert_eq!(tape.c.len(), 7);
    assert_eq!(tape.c[6].shape(), (5, 10));
    assert_eq!(tape.y_pred[6].shape(), (2, 10));
    // The same as calling the cell seven times from c = 0.
    let (mut a, mut c) = (a0, SMatrix::zeros());
    for (t, xt) in x.iter().enumerate() {
        let step = p.cell_forward(xt, &a, &c);
        (a, c) = (step.a_next, step.c_next);
        assert_eq!((tape.a[t], tape.c[t]), (a, c));
    }
}
