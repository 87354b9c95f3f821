//! Replays the fuzzing oracles (`tests/fuzz_common/mod.rs`, shared with the cargo-fuzz targets
//! in `fuzz/`) on hand-picked inputs and on every file committed under `fuzz/regressions/`
//! (`fuzz/regressions/<target>/…`, crash reproducers and interesting corpus entries).

mod fuzz_common;

use fuzz_common::{check_keras, check_quantize, check_row_major, check_torch, check_ts};
use std::path::Path;

/// Runs `check` on every file of `fuzz/regressions/<target>/`; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut paths: Vec<_> = entries
        .map(|e| e.expect("a directory entry").path())
        .collect();
    paths.sort();
    for path in &paths {
        let data = std::fs::read(path).expect("a regression file");
        let name = path.display().to_string();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{name} failed");
    }
    paths.len()
}

/// Tag byte `0x80` then the four little-endian bytes of `v`: one raw `f32` value.
fn raw(v: f32) -> Vec<u8> {
    let mut out = vec![0x80];
    out.extend_from_slice(&v.to_le_bytes());
    out
}

#[test]
fn committed_regressions_replay() {
    let n = replay("torch_load", check_torch)
        + replay("keras_load", check_keras)
        + replay("row_major", check_row_major)
        + replay("ts_parse", check_ts)
        + replay("quantize", check_quantize);
    assert!(n > 0, "no files under fuzz/regressions/");
}

#[test]
fn every_torch_and_keras_variant_with_filler_values() {
    // Short inputs: the variant byte, then values from the filler (all finite): every
    // composition loads, exports and re-imports.
    for variant in 0..9_u8 {
        for modules in [3_u8, 0, 1, 2] {
            check_torch(&[variant, modules]);
        }
        check_keras(&[variant]);
        check_keras(&[variant, 7]);
    }
}

#[test]
fn structural_mutations() {
    // Each op byte (drop, shorter, longer, duplicate, rename ×6, swap, foreign) on the first
    // tensor of every variant, then an extra trailing entry or not.
    for variant in 0..9_u8 {
        for op in [0_u8, 1, 2, 3, 4, 28, 52, 76, 100, 124, 5, 6, 7] {
            for tail in [0_u8, 1, 2] {
                let mut input = vec![variant, 3, op];
                input.extend(std::iter::repeat_n(7, 200)); // Keep ops for the rest
                input.push(tail);
                check_torch(&input);
                let mut input = vec![variant, op];
                input.extend(std::iter::repeat_n(7, 200));
                check_keras(&input);
            }
        }
    }
}

#[test]
fn torch_bias_sum_overflow_is_refused() {
    // A bare nn.LSTM(2, 3): weight_ih (12·2), weight_hh (12·3), bias_ih (12), bias_hh (12).
    // f32::MAX in both biases: each finite, their sum +inf.
    let mut input = vec![0_u8, 3];
    for len in [24, 36, 12, 12] {
        input.push(7); // keep
        for _ in 0..len {
            input.extend(if len == 12 { raw(f32::MAX) } else { vec![64] });
        }
    }
    input.push(7);
    check_torch(&input);
}

#[test]
fn keras_gru_bias_sum_overflow_is_refused() {
    // GRU(3) on 2 inputs, reset-after: kernel (2, 9), recurrent_kernel (3, 9), bias (2, 9).
    let mut input = vec![1_u8];
    for (k, len) in [18, 27, 18].into_iter().enumerate() {
        input.push(7);
        for _ in 0..len {
            input.extend(if k == 2 { raw(-f32::MAX) } else { vec![64] });
        }
    }
    input.push(7);
    check_keras(&input);
}

#[test]
fn row_major_edges() {
    for variant in 0..4_u8 {
        check_row_major(&[variant]); // all lengths right, all finite
        for ctrl in [0_u8, 1, 2] {
            check_row_major(&[variant, ctrl]); // first slice of a wrong length
        }
        for bad in [f32::NAN, f32::INFINITY, -f32::INFINITY] {
            let mut input = vec![variant, 3, 64, 64];
            input.extend(raw(bad));
            check_row_major(&input);
        }
    }
}

#[test]
fn ts_edges() {
    for text in [
        "",
        "@data",
        "@data\n1,2:3",
        "\u{feff}@problemName  x y \n@classLabel true a b\n@data\n1,2:a\n3,4:b\r\n",
        "@targetLabel true\n@data\n1:2:1e308\n3:4:-0.0\n",
        "@dimensions 2\n@univariate true\n@data\n1:2\n",
        "@classLabel true a:b c\n@data\n1:c\n",
        "@classLabel true a\n@data\n:a\n",
        "@classLabel true a\n@data\na\n",
        "@seriesLength 18446744073709551616\n@data\n1\n",
        "@data\n1e400\n",
        "@data\n0x10\n",
        "@data\n?\n",
        "@problemName\n@data\n1\n",
    ] {
        check_ts(text.as_bytes());
    }
    check_ts(&[0xff, 0xfe]); // not UTF-8: skipped
}

#[test]
fn keras_gru_reset_before_negative_zero_bias_round_trips() {
    // GRU(2, reset_after=False) on 2 inputs: kernel (2, 6), recurrent_kernel (2, 6),
    // bias (6,) whose last value is -0.0. Export used to write `bnx + bna` = +0.0.
    let mut input = vec![7_u8];
    for (k, len) in [12, 12, 6].into_iter().enumerate() {
        input.push(7);
        for j in 0..len {
            input.extend(if k == 2 && j == 5 {
                raw(-0.0)
            } else {
                vec![70]
            });
        }
    }
    input.push(7);
    check_keras(&input);
}

#[test]
fn quantize_every_variant_with_filler_values() {
    // The variant byte, then the filler's finite values: every layer kind quantizes and
    // streams; with a NaN or a huge weight first, each is refused or (huge) quantized.
    for variant in 0..9u8 {
        check_quantize(&[variant]);
        check_quantize(&[variant, 0x80, 0, 0, 0xc0, 0x7f]); // NaN first
        check_quantize(&[variant, 0x80, 0xff, 0xff, 0x7f, 0x7f, 3, 4]); // f32::MAX first
    }
}
