// Wrong: the inputs `x` have a batch of M = 10 columns, but `a0` has M = 1.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let p = LstmParams::<f64, 3, 5, 2>::zeros();
    let x = [SMatrix::<f64, 3, 10>::zeros(); 7];
    let a0 = SMatrix::<f64, 5, 1>::zeros();
    let _ = p.forward(&x, &a0);
}
