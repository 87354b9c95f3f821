// Wrong: two 8-unit LSTMs concatenated give 16 outputs per step, not 15. `Concat<N_OUT>` is
// checked by a `const { assert!(..) }` when the forward pass is monomorphized (`cargo build`).
use nalgebra::SMatrix;
use tinyrnn::params::Zeroed;
use tinyrnn::{Bidirectional, Concat, Layer, Lstm, Params};

fn main() {
    let enc = Bidirectional::<Lstm<f32, 3, 8>, Concat<15>>::zeros();
    let x = [SMatrix::<f32, 3, 1>::zeros(); 4];
    let mut tape = Zeroed::ZEROS;
    enc.forward(&x, &Zeroed::ZEROS, &mut tape);
}
