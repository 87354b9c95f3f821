// Wrong: the quantized LSTM reads 3 features per step; a 4-feature sample does not compile.
use nalgebra::SVector;
use tinyrnn::quant::{QLstm, QStream};

fn main() {
    let q = QLstm::<3, 8>::ZEROS;
    let mut s = QStream::new();
    let _ = s.step(&q, &SVector::<i16, 4>::zeros());
}
