// Twin of fail_rnn_backward_t_x.rs with the right dimensions: the tape and `da` both have
// T_X = 4 steps.
use nalgebra::SMatrix;
use tinyrnn::{Params, RnnParams};

fn main() {
    let mut p = RnnParams::<f64, 3, 5, 2>::zeros();
    p.waa.fill_with_identity();
    let tape = p.forward(&[SMatrix::<f64, 3, 1>::zeros(); 4], &SMatrix::zeros());
    let da = [SMatrix::<f64, 5, 1>::repeat(1.0); 4];
    let g = p.backward(&da, &tape);
    assert_eq!(g.dx.len(), 4);
    // All states stay 0, so tanh' = 1 and Waa = I: da0 sums the four upstream gradients.
    assert_eq!(g.da0, SMatrix::<f64, 5, 1>::repeat(4.0));
}
