// Twin of fail_lstm_backward_t_x.rs with the right dimensions: the tape and `da` both have
// T_X = 4 steps.
use nalgebra::SMatrix;
use tinyrnn::{LstmParams, Params};

fn main() {
    let p = LstmParams::<f64, 3, 5, 2>::zeros();
    let c0 = SMatrix::<f64, 5, 1>::repeat(1.0);
    let tape = p.forward_with_c0(&[SMatrix::<f64, 3, 1>::zeros(); 4], &SMatrix::zeros(), &c0);
    let mut da = [SMatrix::<f64, 5, 1>::zeros(); 4];
    da[3].fill(1.0);
    let g = p.backward(&da, &tape);
    assert_eq!(g.dx.len(), 4);
    // The gradient reaches c0 through four forget gates (Γf = 0.5 each).
    let (o, tc) = (tape.gates[3].o[0], tape.gates[3].tanh_c[0]);
    assert!((g.dc0[0] - o * (1.0 - tc * tc) * 0.0625).abs() < 1e-16);
}
