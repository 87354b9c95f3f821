// Wrong: the GRU on top reads N_X = 4 features per step, but the LSTM under it outputs
// N_A = 8. `Stack<A, B>` is a layer only if B's input is A's output, so naming its tape
// and calling its forward pass are both errors.
use nalgebra::SMatrix;
use tinyrnn::params::Zeroed;
use tinyrnn::{Gru, Layer, Lstm, Params, Stack};

type Net = Stack<Lstm<f32, 3, 8>, Gru<f32, 4, 6>>;

fn main() {
    let net = Net::zeros();
    let x = [SMatrix::<f32, 3, 1>::zeros(); 5];
    let mut tape = <Net as Layer<f32, 1>>::Tape::<5>::ZEROS;
    net.forward(&x, &Zeroed::ZEROS, &mut tape);
}
