//! Dimension mismatches are compile errors.
//!
//! Every `tests/ui/fail_*.rs` must fail to compile with the error recorded in its `.stderr`
//! snapshot; every `tests/ui/pass_*.rs` is the same program with the right dimensions and
//! must compile and run. The pass cases also make trybuild use `cargo build` instead of
//! `cargo check`, which the LSTM seeds'-layout cases and the bidirectional `Concat<N_OUT>`
//! case need: their `const { assert!(..) }` fires only when the code is monomorphized.
//!
//! | case | what the compiler rejects |
//! |---|---|
//! | `*_rnn_*`, `*_lstm_*` | the notebook types' passes with a wrong `N_X`, `N_A`, `M`, `T_X`, or a seeds'-layout width `≠ N_A + N_X` |
//! | `*_stack_sizes` | `Stack<Lstm<f32, 3, 8>, Gru<f32, 4, 6>>` as a layer: the GRU reads 4, the LSTM outputs 8 |
//! | `*_model_head` | training `Model<Gru<f32, 3, 8>, Dense<f32, 6, 2>>`: the head reads 6, the body outputs 8 |
//! | `*_bidirectional_concat` | `Bidirectional<Lstm<f32, 3, 8>, Concat<15>>`: two 8-unit directions concatenate to 16 |
//! | `*_stream_bidirectional` | a `Stream` of a bidirectional layer, which is not `Step` |
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
