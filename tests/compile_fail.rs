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
//!
//! Build time: trybuild compiles its project (this crate and every dev-dependency, in
//! `target/tests/trybuild`) first with its rustflags `--cfg trybuild --verbose -A dead_code`,
//! then the cases with `--diagnostic-width=140` added; different rustflags are a different
//! build to cargo, so every dependency was compiled twice. `ui` hands those final flags to
//! all of trybuild's cargo runs (`CARGO_ENCODED_RUSTFLAGS`, which cargo prefers to trybuild's
//! `--config build.rustflags`), so each is compiled once. When `RUSTFLAGS` or
//! `CARGO_ENCODED_RUSTFLAGS` is already set (coverage, say), trybuild's own handling is left
//! alone. If a trybuild update changes its flags, update `TRYBUILD_RUSTFLAGS` to match (a
//! difference shows as `.stderr` mismatches).

/// trybuild's rustflags for building the cases (1.0.122: `src/rustflags.rs`, `src/cargo.rs`).
const TRYBUILD_RUSTFLAGS: [&str; 6] = [
    "--cfg",
    "trybuild",
    "--verbose",
    "-A",
    "dead_code",
    "--diagnostic-width=140",
];

#[test]
fn ui() {
    if std::env::var_os("RUSTFLAGS").is_none()
        && std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_none()
    {
        // The only test in this binary: nothing else reads the environment meanwhile.
        // SAFETY: `set_var` is unsound only while another thread reads or writes the
        // environment; this is the binary's only test, run before trybuild starts any thread.
        unsafe { std::env::set_var("CARGO_ENCODED_RUSTFLAGS", TRYBUILD_RUSTFLAGS.join("\x1f")) };
    }
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
