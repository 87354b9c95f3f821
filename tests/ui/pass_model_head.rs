// Twin of fail_model_head.rs with the right dimensions: the output layer reads the GRU's 8
// outputs.
use nalgebra::SMatrix;
use tinyrnn::init::{Init, Initialize, Rng};
use tinyrnn::loss::Target;
use tinyrnn::optim::Sgd;
use tinyrnn::train::Workspace;
use tinyrnn::{Dense, Gru, Model};

type Net = Model<Gru<f32, 3, 8>, Dense<f32, 8, 2>>;

fn main() {
    let mut net = Net::init(&Init::default(), &mut Rng::new(7));
    let mut opt = Sgd::new(0.1);
    let mut ws = Workspace::zeros();
    let x = [SMatrix::<f32, 3, 2>::repeat(0.5); 4];
    let loss = ws
        .train_step(&mut net, &mut opt, &x, &Target::ClassLast(&[0, 1]))
        .unwrap();
    // Two classes: an untrained model's cross-entropy is near ln 2 ≈ 0.69.
    assert!(loss > 0.1 && loss < 2.0, "{loss}");
    let _: &Workspace<f32, Net, 2, 4> = &ws;
}
