// Twin of fail_lstm_set_wf_columns.rs and fail_lstm_wf_columns.rs with the right
// dimensions: with N_A = 5 and N_X = 3, a gate weight in the seeds' layout has 8 columns.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let mut p = LstmParams::<f64, 3, 5, 2>::zeros();
    let wf = SMatrix::<f64, 5, 8>::from_fn(|r, c| (10 * r + c) as f64);
    p.set_wf(&wf);
    assert_eq!(p.wfa[(2, 4)], 24.0); // a_prev block
    assert_eq!(p.wfx[(2, 0)], 25.0); // x block
    let w: SMatrix<f64, 5, 8> = p.wf();
    assert_eq!(w, wf);
}
