// Wrong: the tape comes from a forward pass over T_X = 4 steps, but `da` has 3 steps.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let p = LstmParams::<f64, 3, 5, 2>::zeros();
    let tape = p.forward(&[SMatrix::<f64, 3, 1>::zeros(); 4], &SMatrix::zeros());
    let da = [SMatrix::<f64, 5, 1>::zeros(); 3];
    let _ = p.backward(&da, &tape);
}
