// Wrong: the parameters have N_A = 5 hidden units, but `c_prev` has 4 rows.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let p = LstmParams::<f64, 3, 5, 2>::zeros();
    let xt = SMatrix::<f64, 3, 10>::zeros();
    let a_prev = SMatrix::<f64, 5, 10>::zeros();
    let c_prev = SMatrix::<f64, 4, 10>::zeros();
    let _ = p.cell_forward(&xt, &a_prev, &c_prev);
}
