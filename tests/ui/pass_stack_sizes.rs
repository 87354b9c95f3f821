// Twin of fail_stack_sizes.rs with the right dimensions: the GRU reads the LSTM's 8 outputs.
use nalgebra::SMatrix;
use tinyrnn::params::Zeroed;
use tinyrnn::{Gru, Layer, Lstm, Params, Stack, Step};

type Net = Stack<Lstm<f32, 3, 8>, Gru<f32, 8, 6>>;

fn main() {
    let mut net = Net::zeros();
    net.upper.bnx.fill(1.0);
    let x = [SMatrix::<f32, 3, 1>::repeat(0.5); 5];
    let mut tape = <Net as Layer<f32, 1>>::Tape::<5>::ZEROS;
    net.forward(&x, &Zeroed::ZEROS, &mut tape);
    let y: &[SMatrix<f32, 6, 1>; 5] = Net::output(&tape);
    // The LSTM's weights are zero, so the GRU reads zeros: z = σ(0) = 1/2, n = tanh(1), and
    // a⟨1⟩ = (1 − z)·n.
    assert!((y[0][0] - 0.5 * 1.0_f32.tanh()).abs() < 1e-6);
    // Streaming gives the same outputs.
    let mut state = Zeroed::ZEROS;
    let mut yt = SMatrix::zeros();
    for (xt, want) in x.iter().zip(y) {
        net.step(xt, &mut state, &mut yt);
        assert_eq!(yt, *want);
    }
}
