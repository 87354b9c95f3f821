//! Fixed-point primitives of the integer path: rounding shifts, saturation, requantisation and
//! the integer `tanh` and `σ`. Every function here is total (no panic for any input) and uses
//! integer arithmetic only; `tools/quant_reference.py` implements each one the same way.

/// `clamp(v, −32768, 32767)`: saturation to `i16`.
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::sat16;
/// assert_eq!(sat16(40_000), 32_767);
/// assert_eq!(sat16(-40_000), -32_768);
/// assert_eq!(sat16(-7), -7);
/// ```
#[inline(always)]
pub const fn sat16(v: i32) -> i16 {
    if v > i16::MAX as i32 {
        i16::MAX
    } else if v < i16::MIN as i32 {
        i16::MIN
    } else {
        v as i16
    }
}

/// `⌊(v + 2^(s−1)) / 2^s⌋`: an arithmetic right shift by `s` that rounds half up
/// (`rshr(v, 0) = v`). `s` is taken modulo 32.
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::rshr;
/// assert_eq!(rshr(5, 1), 3);   //  2.5 →  3
/// assert_eq!(rshr(-5, 1), -2); // −2.5 → −2
/// assert_eq!(rshr(-6, 2), -1); // −1.5 → −1
/// assert_eq!(rshr(7, 0), 7);
/// ```
#[inline(always)]
pub const fn rshr(v: i32, s: u32) -> i32 {
    let s = s & 31;
    if s == 0 {
        v
    } else {
        // ⌊(v + 2^(s−1)) / 2^s⌋ = ⌊(q + 1) / 2⌋ with q = ⌊v / 2^(s−1)⌋, and
        // ⌊(q + 1) / 2⌋ = (q >> 1) + (q & 1): no sum that could leave i32, no 64 bits.
        let q = v >> (s - 1);
        (q >> 1) + (q & 1)
    }
}

/// Requantisation: `sat16(⌊(acc·m + 2^(s−1)) / 2^s⌋)`, the product taken exactly (64 bits).
///
/// `m·2^−s` is the real multiplier that maps the accumulator's unit to the output's unit
/// (`m` in `[2^15, 2^16)`, or 0 for a row whose weights are all zero; `s` in `0..=62`, taken
/// modulo 64).
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::requant;
/// // 0.75 = 49152·2^−16: 1000 → 750, −3 → −2.25 → −2, huge → saturated.
/// assert_eq!(requant(1000, 49152, 16), 750);
/// assert_eq!(requant(-3, 49152, 16), -2);
/// assert_eq!(requant(i32::MAX, 49152, 16), 32767);
/// ```
#[inline(always)]
pub const fn requant(acc: i32, m: u16, s: u8) -> i16 {
    sat16(requant_raw(acc, m, s))
}

/// `r = ⌊(acc·m + 2^(s−1)) / 2^s⌋` (`s` modulo 64) in 32-bit arithmetic only: exactly `r`
/// whenever `|r| ≤ 2^24`, and otherwise a value of the same sign and of magnitude at least
/// `2^24`, so `sat16` of it is [`requant`] and clamping it to `±2^24` is [`requant_wide`].
/// No 64-bit multiply (the Cortex-M0 has only `MULS`, 32×32→32).
///
/// With `acc = hi·2^16 + lo` (`lo ∈ [0, 2^16)`): `acc·m = v·2^16 + l`, where
/// `v = hi·m + ⌊lo·m / 2^16⌋` and `l = lo·m mod 2^16`; `|hi·m| ≤ 2^15·(2^16 − 1)`, so `v`
/// fits `i32` (at most `2^31 − 2^15`). Then, for `s ≥ 17` (`t = s − 16`),
/// `r = ⌊(v + 2^(t−1)) / 2^t⌋ = (⌊v / 2^(t−1)⌋ + 1) >> 1` (`l` cannot carry into the
/// rounding bit), where `⌊v / 2^k⌋ = v >> 31` for every `k ≥ 31`; for `s = 16`,
/// `r = v + ((l + 2^15) >> 16)`; for `s < 16`, `r = v·2^(16−s) + ((l + 2^(s−1)) >> s)`, with
/// `v` first clamped to `[−2^(s+8) − 1, 2^(s+8)]` (so the shifted value stays within
/// `±2^24 + 2^16`), which changes only results beyond `±2^24`.
#[inline(always)]
pub(crate) const fn requant_raw(acc: i32, m: u16, s: u8) -> i32 {
    let s = (s & 63) as u32;
    let lo = (acc as u32 & 0xffff) * m as u32;
    let v = (acc >> 16) * m as i32 + (lo >> 16) as i32;
    let l = lo & 0xffff;
    if s > 16 {
        let k = if s - 17 > 31 { 31 } else { s - 17 };
        ((v >> k) + 1) >> 1
    } else if s == 16 {
        v + ((l + 0x8000) >> 16) as i32
    } else {
        let b = 1i32 << (s + 8);
        let v = if v > b {
            b
        } else if v < -b - 1 {
            -b - 1
        } else {
            v
        };
        let round = if s == 0 { 0 } else { 1u32 << (s - 1) };
        (v << (16 - s)) + ((l + round) >> s) as i32
    }
}

/// [`requant`] without the `i16` saturation, for a part of a sum: the value clamped to
/// `±2^24` (in Q3.12, `±4096`, far beyond where `σ` and `tanh` saturate), so that a sum of
/// two parts, or a Q0.15 gate times one in 64 bits, stays exact.
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::requant_wide;
/// assert_eq!(requant_wide(100_000, 32768, 15), 100_000); // no i16 saturation
/// assert_eq!(requant_wide(i32::MAX, 65535, 0), 1 << 24);
/// ```
#[inline(always)]
pub const fn requant_wide(acc: i32, m: u16, s: u8) -> i32 {
    let r = requant_raw(acc, m, s);
    if r > 1 << 24 {
        1 << 24
    } else if r < -(1 << 24) {
        -(1 << 24)
    } else {
        r
    }
}

/// `⌊(g·v + 2^14) / 2^15⌋` for a Q0.15 gate `g` and a wide value `|v| ≤ 2^24` (a GRU's
/// `r·na`), exactly, in 32-bit arithmetic: with `v = h·2^15 + l` (`l ∈ [0, 2^15)`),
/// `g·v + 2^14 = g·h·2^15 + (g·l + 2^14)`, and both products fit `i32`.
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::mul_q15_wide;
/// assert_eq!(mul_q15_wide(16384, 1 << 24), 1 << 23); // ½·2^24
/// assert_eq!(mul_q15_wide(16384, -3), -1);           // −1.5 → −1
/// ```
#[inline(always)]
pub const fn mul_q15_wide(g: i16, v: i32) -> i32 {
    let (h, l) = (v >> 15, v & 0x7fff);
    g as i32 * h + ((g as i32 * l + (1 << 14)) >> 15)
}

/// `round(32768·tanh(j/64))`, capped at 32767, for `j = 0..=512`: `tanh` on `[0, 8]` in steps
/// of 1/64, in Q0.15. Generated by `tools/quant_reference.py` (numpy); `tests/quant.rs`
/// recomputes every entry with `libm::tanh`.
#[rustfmt::skip]
pub const TANH_TABLE: [i16; 513] = [
    0, 512, 1024, 1535, 2045, 2555, 3063, 3570, 4075, 4578, 5079, 5577,
    6073, 6566, 7056, 7542, 8025, 8505, 8980, 9452, 9919, 10382, 10840, 11294,
    11743, 12186, 12625, 13058, 13486, 13909, 14326, 14737, 15143, 15542, 15936, 16324,
    16706, 17082, 17452, 17816, 18173, 18525, 18870, 19209, 19542, 19869, 20189, 20504,
    20813, 21115, 21411, 21702, 21986, 22265, 22538, 22804, 23066, 23321, 23571, 23815,
    24054, 24287, 24516, 24738, 24956, 25168, 25376, 25578, 25776, 25969, 26157, 26340,
    26519, 26694, 26864, 27029, 27191, 27348, 27502, 27651, 27797, 27938, 28076, 28211,
    28341, 28469, 28592, 28713, 28830, 28944, 29055, 29163, 29268, 29370, 29470, 29566,
    29660, 29751, 29840, 29926, 30010, 30091, 30170, 30247, 30322, 30394, 30465, 30533,
    30600, 30664, 30727, 30788, 30847, 30904, 30960, 31014, 31067, 31118, 31167, 31215,
    31262, 31307, 31351, 31394, 31435, 31476, 31515, 31553, 31589, 31625, 31659, 31693,
    31726, 31757, 31788, 31817, 31846, 31874, 31901, 31928, 31953, 31978, 32002, 32025,
    32048, 32070, 32091, 32112, 32132, 32151, 32170, 32188, 32206, 32223, 32240, 32256,
    32271, 32287, 32301, 32316, 32329, 32343, 32356, 32368, 32381, 32392, 32404, 32415,
    32426, 32436, 32447, 32456, 32466, 32475, 32484, 32493, 32501, 32509, 32517, 32525,
    32532, 32540, 32547, 32553, 32560, 32566, 32573, 32579, 32584, 32590, 32596, 32601,
    32606, 32611, 32616, 32620, 32625, 32629, 32634, 32638, 32642, 32646, 32649, 32653,
    32657, 32660, 32663, 32667, 32670, 32673, 32676, 32678, 32681, 32684, 32686, 32689,
    32691, 32694, 32696, 32698, 32700, 32702, 32704, 32706, 32708, 32710, 32712, 32714,
    32715, 32717, 32718, 32720, 32721, 32723, 32724, 32726, 32727, 32728, 32729, 32731,
    32732, 32733, 32734, 32735, 32736, 32737, 32738, 32739, 32740, 32741, 32741, 32742,
    32743, 32744, 32745, 32745, 32746, 32747, 32747, 32748, 32749, 32749, 32750, 32750,
    32751, 32751, 32752, 32752, 32753, 32753, 32754, 32754, 32755, 32755, 32755, 32756,
    32756, 32757, 32757, 32757, 32758, 32758, 32758, 32759, 32759, 32759, 32759, 32760,
    32760, 32760, 32760, 32761, 32761, 32761, 32761, 32762, 32762, 32762, 32762, 32762,
    32762, 32763, 32763, 32763, 32763, 32763, 32763, 32764, 32764, 32764, 32764, 32764,
    32764, 32764, 32764, 32765, 32765, 32765, 32765, 32765, 32765, 32765, 32765, 32765,
    32765, 32765, 32766, 32766, 32766, 32766, 32766, 32766, 32766, 32766, 32766, 32766,
    32766, 32766, 32766, 32766, 32766, 32766, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
];

/// The table entry `j` (callers keep `j ≤ 512`; beyond it, the last entry).
#[inline(always)]
fn entry(j: u32) -> i32 {
    match TANH_TABLE.get(j as usize) {
        Some(&t) => t as i32,
        None => i16::MAX as i32,
    }
}

/// `tanh` in fixed point: input Q3.12 (`x/4096`, so `[−8, 8)`), output Q0.15
/// (`[−32767, 32767]`).
///
/// ```text
/// u = min(|x|, 32767),  j = u >> 6,  f = u & 63
/// y = T[j] + ((T[j+1] − T[j])·f + 32) >> 6          (T = TANH_TABLE)
/// tanh_q(x) = sign(x)·y
/// ```
///
/// Linear interpolation between table points 1/64 apart; `tests/quant.rs` bounds the error
/// against `32768·tanh(x/4096)` over all 65536 inputs.
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::tanh_q;
/// assert_eq!(tanh_q(0), 0);
/// let y = tanh_q(4096) as f64 / 32768.0; // tanh(1)
/// assert!((y - 1f64.tanh()).abs() < 1e-4);
/// assert_eq!(tanh_q(-4096), -tanh_q(4096));
/// assert_eq!(tanh_q(i16::MIN), -32767);
/// ```
#[inline]
pub fn tanh_q(x: i16) -> i16 {
    let u = (x as i32).unsigned_abs().min(32767);
    let (j, f) = (u >> 6, (u & 63) as i32);
    let (t0, t1) = (entry(j), entry(j + 1));
    let y = t0 + (((t1 - t0) * f + 32) >> 6);
    (if x < 0 { -y } else { y }) as i16
}

/// `σ(x) = 1/(1 + e^−x)` in fixed point, from the same table: `σ(x) = (1 + tanh(x/2))/2`.
/// Input Q3.12, output Q0.15 in `[0, 32767]`.
///
/// ```text
/// u = min(|x|, 32767),  j = u >> 7,  f = u & 127      (x/2 in steps of 1/64)
/// h = T[j] + ((T[j+1] − T[j])·f + 64) >> 7
/// sigmoid_q(x) = (32768 + h) >> 1  if x ≥ 0,   (32768 − h) >> 1  otherwise
/// ```
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::sigmoid_q;
/// assert_eq!(sigmoid_q(0), 16384); // σ(0) = 1/2
/// let y = sigmoid_q(8192) as f64 / 32768.0; // σ(2)
/// assert!((y - 1.0 / (1.0 + (-2f64).exp())).abs() < 1e-4);
/// assert_eq!(sigmoid_q(i16::MAX), 32757); // σ(8) = 0.99966
/// assert_eq!(sigmoid_q(i16::MIN), 11);
/// ```
#[inline]
pub fn sigmoid_q(x: i16) -> i16 {
    let u = (x as i32).unsigned_abs().min(32767);
    let (j, f) = (u >> 7, (u & 127) as i32);
    let (t0, t1) = (entry(j), entry(j + 1));
    let h = t0 + (((t1 - t0) * f + 64) >> 7);
    (if x < 0 {
        (32768 - h) >> 1
    } else {
        (32768 + h) >> 1
    }) as i16
}

/// `sat16(rshr(a·b, 15))`: a Q0.15 value times any `i16`, rounded, in the second operand's
/// unit.
///
/// # Example
/// ```
/// use tinyrnn::quant::fixed::mul_q15;
/// assert_eq!(mul_q15(16384, 1000), 500); // ½·1000
/// assert_eq!(mul_q15(16384, -3), -1);    // −1.5 → −1
/// ```
#[inline(always)]
pub const fn mul_q15(a: i16, b: i16) -> i16 {
    sat16(rshr(a as i32 * b as i32, 15))
}

#[cfg(test)]
pub(crate) mod tests {
    //! `requant` and `rshr` (32-bit arithmetic) against the spec's formulas in 64 bits.
    use super::{requant, requant_raw, rshr};
    use proptest::prelude::*;

    /// The spec's formula in 64 bits, unsaturated (also the kernel tests' reference).
    pub(crate) fn requant_ref(acc: i32, m: u16, s: u8) -> i64 {
        let s = (s & 63) as u32;
        let p = acc as i64 * m as i64;
        if s == 0 {
            p
        } else {
            (p + (1i64 << (s - 1))) >> s
        }
    }

    fn check(acc: i32, m: u16, s: u8) {
        let want = requant_ref(acc, m, s);
        assert_eq!(
            requant(acc, m, s) as i64,
            want.clamp(-32768, 32767),
            "{acc} {m} {s}"
        );
        let raw = requant_raw(acc, m, s) as i64;
        if want.abs() <= 1 << 24 {
            assert_eq!(raw, want, "raw {acc} {m} {s}");
        } else {
            assert!(
                raw.signum() == want.signum() && raw.abs() >= 1 << 24,
                "raw {acc} {m} {s}: {raw} for {want}"
            );
        }
    }

    /// Values around every power of two, and the ends of `i32`.
    fn edges() -> Vec<i32> {
        let mut v = vec![0, 1, -1, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1];
        for k in 0..31 {
            for d in [-2i64, -1, 0, 1, 2] {
                for sign in [1i64, -1] {
                    v.push(
                        (sign * ((1i64 << k) + d)).clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                    );
                }
            }
        }
        v
    }

    #[test]
    fn requant_matches_the_64_bit_formula_on_edges() {
        let ms = [
            0u16, 1, 2, 3, 255, 256, 0x7fff, 0x8000, 0x8001, 0xaaaa, 0xc000, 0xfffe, 0xffff,
        ];
        let accs = edges();
        for s in 0..=255u8 {
            for &m in &ms {
                for &acc in &accs {
                    check(acc, m, s);
                }
            }
        }
        // Every multiplier, a spread of accumulators, every shift up to 63.
        for m in 0..=u16::MAX {
            for s in 0..64u8 {
                for acc in [
                    i32::MIN,
                    -(1 << 20) - 7,
                    -32769,
                    -1,
                    0,
                    40_000,
                    123_456_789,
                    i32::MAX,
                ] {
                    check(acc, m, s);
                }
            }
        }
    }

    #[test]
    fn rshr_matches_the_64_bit_formula() {
        for s in 0..40u32 {
            for v in edges() {
                let sm = s & 31;
                let want = if sm == 0 {
                    v as i64
                } else {
                    (v as i64 + (1i64 << (sm - 1))) >> sm
                };
                assert_eq!(rshr(v, s) as i64, want, "{v} {s}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn requant_matches_the_64_bit_formula(acc: i32, m: u16, s in 0u8..64) {
            check(acc, m, s);
        }

        #[test]
        fn rshr_matches_the_64_bit_formula_random(v: i32, s in 0u32..32) {
            let want = if s == 0 { v as i64 } else { (v as i64 + (1i64 << (s - 1))) >> s };
            prop_assert_eq!(rshr(v, s) as i64, want);
        }
    }
}
