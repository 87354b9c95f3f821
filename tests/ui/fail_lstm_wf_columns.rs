// Wrong: with N_A = 5 and N_X = 3, a gate weight in the seeds' layout has
// N_A + N_X = 8 columns, not 9. Caught by a `const { assert!(..) }` at `cargo build`.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let p = LstmParams::<f64, 3, 5, 2>::zeros();
    let w: SMatrix<f64, 5, 9> = p.wf();
    assert_eq!(w.ncols(), 9);
}
