//! cargo-fuzz target; the oracle is `check_quantize` in `tests/fuzz_common/mod.rs`, shared with
//! `tests/fuzz_regressions.rs`.
#![no_main]

#[path = "../../tests/fuzz_common/mod.rs"]
mod fuzz_common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_common::check_quantize(data));
