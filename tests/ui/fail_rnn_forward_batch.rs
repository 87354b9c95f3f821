// Wrong: the inputs `x` have a batch of M = 10 columns, but `a0` has M = 2.
use nalgebra::SMatrix;
use tinyrnn::{Params, RnnParams};

fn main() {
    let p = RnnParams::<f64, 3, 5, 2>::zeros();
    let x = [SMatrix::<f64, 3, 10>::zeros(); 4];
    let a0 = SMatrix::<f64, 5, 2>::zeros();
    let _ = p.forward(&x, &a0);
}
