// Right: the quantized dense head reads the 8 features the quantized LSTM outputs, and the
// stream takes 3-feature samples.
use nalgebra::SVector;
use tinyrnn::quant::{QDense, QLstm, QStream};
use tinyrnn::Stack;

type Q = Stack<QLstm<3, 8>, QDense<8, 2>>;

fn main() {
    let q: Q = Stack { lower: QLstm::ZEROS, upper: QDense::ZEROS };
    let mut s = QStream::<Q>::new();
    let y: SVector<i16, 2> = s.step(&q, &SVector::<i16, 3>::zeros());
    assert_eq!(y, SVector::<i16, 2>::zeros());
}
