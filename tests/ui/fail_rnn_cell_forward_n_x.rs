// Wrong: the parameters take N_X = 3 input features, but `xt` has 4 rows.
use nalgebra::SMatrix;
use tinyrnn::{Params, RnnParams};

fn main() {
    let p = RnnParams::<f64, 3, 5, 2>::zeros();
    let xt = SMatrix::<f64, 4, 10>::zeros();
    let a_prev = SMatrix::<f64, 5, 10>::zeros();
    let _ = p.cell_forward(&xt, &a_prev);
}
