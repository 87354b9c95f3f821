// Wrong: a quantized model keeps the float model's compile-time shapes. The dense head reads
// 4 features, but the quantized LSTM under it outputs 8, so the stack is not a `QStep` and
// cannot be streamed.
use tinyrnn::quant::{QDense, QLstm, QStream};
use tinyrnn::Stack;

type Q = Stack<QLstm<3, 8>, QDense<4, 2>>;

fn main() {
    let _ = QStream::<Q>::new();
}
