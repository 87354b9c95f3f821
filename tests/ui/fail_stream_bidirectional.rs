// Wrong: a bidirectional layer needs the whole sequence before its first output, so it is
// not `Step` and cannot be streamed.
use tinyrnn::{Bidirectional, Concat, Lstm, Stream};

fn main() {
    let _ = Stream::<f32, Bidirectional<Lstm<f32, 3, 8>, Concat<16>>>::new();
}
