//! Dimension mismatches are compile errors.
//!
//! Every `tests/ui/fail_*.rs` must fail to compile with the error recorded in its `.stderr`
//! snapshot; every `tests/ui/pass_*.rs` is the same program with the right dimensions and
//! must compile and run. The pass cases also make trybuild use `cargo build` instead of
//! `cargo check`, which the LSTM seeds'-layout cases need: their `const { assert!(..) }`
//! fires only when the code is monomorphized.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test --test compile_fail`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
