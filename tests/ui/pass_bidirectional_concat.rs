// Twin of fail_bidirectional_concat.rs with the right dimensions: 2 × 8 = 16 outputs.
use nalgebra::SMatrix;
use tinyrnn::params::Zeroed;
use tinyrnn::{Bidirectional, Concat, Layer, Lstm, Params};

type Enc = Bidirectional<Lstm<f32, 3, 8>, Concat<16>>;

fn main() {
    let mut enc = Enc::zeros();
    enc.fwd.bc.fill(1.0);
    let x = [SMatrix::<f32, 3, 1>::zeros(); 4];
    let mut tape = Zeroed::ZEROS;
    enc.forward(&x, &Zeroed::ZEROS, &mut tape);
    let y: &[SMatrix<f32, 16, 1>; 4] = <Enc as Layer<f32, 1>>::output(&tape);
    assert!(y[3][0] > y[0][0]); // forward half: y_f⟨4⟩ has seen 4 steps, y_f⟨1⟩ one
    assert_eq!(y[0][8], 0.0); // backward half: zero weights
}
