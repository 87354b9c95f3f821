// Wrong: the output layer reads N_H = 6 features, but the GRU body outputs N_A = 8, so the
// model is not a `Network` and cannot be trained.
use nalgebra::SMatrix;
use tinyrnn::loss::Target;
use tinyrnn::optim::Sgd;
use tinyrnn::train::Workspace;
use tinyrnn::{Dense, Gru, Model, Params};

type Net = Model<Gru<f32, 3, 8>, Dense<f32, 6, 2>>;

fn main() {
    let mut net = Net::zeros();
    let mut opt = Sgd::new(0.1);
    let mut ws = Workspace::zeros();
    let x = [SMatrix::<f32, 3, 2>::zeros(); 4];
    let _ = ws.train_step(&mut net, &mut opt, &x, &Target::ClassLast(&[0, 1]));
}
