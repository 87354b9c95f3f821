// Twin of fail_stream_bidirectional.rs: one direction alone is a `Step` layer and streams;
// the bidirectional layer runs over whole sequences with `Layer::forward`.
use nalgebra::SMatrix;
use tinyrnn::params::Zeroed;
use tinyrnn::{Bidirectional, Concat, Layer, Lstm, Params, Stream};

type Enc = Bidirectional<Lstm<f32, 3, 8>, Concat<16>>;

fn main() {
    let mut enc = Enc::zeros();
    enc.fwd.bc.fill(1.0);
    let x = [SMatrix::<f32, 3, 1>::repeat(0.5); 4];
    let mut tape = Zeroed::ZEROS;
    enc.forward(&x, &Zeroed::ZEROS, &mut tape);
    let y = <Enc as Layer<f32, 1>>::output(&tape);
    // Streaming the forward direction gives the top half of every output.
    let mut s = Stream::<f32, Lstm<f32, 3, 8>>::new();
    for (xt, yt) in x.iter().zip(y) {
        let a = s.step(&enc.fwd, xt);
        assert_eq!(a, yt.fixed_rows::<8>(0));
    }
}
