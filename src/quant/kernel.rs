//! The integer multiply-accumulate kernel of the quantized path.
//!
//! Integer addition is associative (modulo 2^32, and the accumulators never leave `i32`:
//! [`super::QAffine::validate`]), so any summation order gives the same bits: a kernel is
//! free to block, unroll and reorder for its core.

use nalgebra::{SMatrix, SVector};

/// `acc[j] += Σ_k w_t[(k, j)]·x[k]` for every `j < R`, wrapping `i32` arithmetic. `w_t` is
/// the transposed weight matrix: column `j` holds output `j`'s `K` weights, contiguous.
#[inline]
pub(crate) fn acc_dot<const K: usize, const R: usize>(
    w_t: &SMatrix<i8, K, R>,
    x: &SVector<i16, K>,
    acc: &mut [i32; R],
) {
    if K == 0 {
        return;
    }
    let x = x.as_slice();
    let w = w_t.as_slice();
    #[cfg(tinyrnn_dsp)]
    dsp::acc_dot(w, x, acc);
    #[cfg(not(tinyrnn_dsp))]
    portable(w, x, acc);
}

/// The portable kernel: `acc[j] += Σ_k w[j·K + k]·x[k]` (`K = x.len() > 0`,
/// `w.len() = K·acc.len()`).
#[cfg_attr(tinyrnn_dsp, allow(dead_code))]
#[inline(always)]
fn portable(w: &[i8], x: &[i16], acc: &mut [i32]) {
    let k = x.len();
    if ONE_AT_A_TIME {
        one_by_one(w, x, acc);
        return;
    }
    // Four outputs at a time: each x[k] is loaded once for four weights.
    let blocks = w.chunks_exact(4 * k).zip(acc.chunks_exact_mut(4));
    for (wb, ab) in blocks {
        let (c01, c23) = wb.split_at(2 * k);
        let (c0, c1) = c01.split_at(k);
        let (c2, c3) = c23.split_at(k);
        for (a, s) in ab.iter_mut().zip(dot4_blocked([c0, c1, c2, c3], x)) {
            *a = a.wrapping_add(s);
        }
    }
    // The last R mod 4 outputs, one at a time.
    let done = acc.len() - acc.len() % 4;
    let rest = w.get(done * k..).unwrap_or(&[]);
    one_by_one(rest, x, acc.get_mut(done..).unwrap_or(&mut []));
}

/// ARMv6-M (Cortex-M0/M0+/M1) has eight low registers, and its `LDRSB` only a register
/// offset, so four accumulators spill: there the kernels run one output at a time (measured:
/// 7.5 instructions per MAC for a whole `QLstm<16, 32>` step that way, 9.4 with four at a
/// time). The Cortex-M3 is faster that way too (4.70 against 4.99). The cfgs come from
/// `build.rs` (the target's name).
const ONE_AT_A_TIME: bool = cfg!(any(tinyrnn_armv6m, tinyrnn_armv7m));

/// The four dot products `Σ_k c_i[k]·x[k]` (`c_i.len() = x.len()`) in one pass over `x`:
/// each `x[k]` loaded once for the four weights.
#[inline(always)]
fn dot4_blocked([c0, c1, c2, c3]: [&[i8]; 4], x: &[i16]) -> [i32; 4] {
    let mut s = [0i32; 4];
    let mut mac = |w0: i8, w1: i8, w2: i8, w3: i8, xv: i16| {
        let xv = xv as i32;
        s[0] = s[0].wrapping_add(w0 as i32 * xv);
        s[1] = s[1].wrapping_add(w1 as i32 * xv);
        s[2] = s[2].wrapping_add(w2 as i32 * xv);
        s[3] = s[3].wrapping_add(w3 as i32 * xv);
    };
    // k in fixed chunks of four (unrolled whatever LLVM decides for the whole loop: on RV32
    // it keeps the k loop rolled, and the loop's own three instructions then cost as much as
    // a fourth of the multiply-adds), then the K mod 4 rest.
    let ((q0, r0), (q1, r1)) = (c0.as_chunks::<4>(), c1.as_chunks::<4>());
    let ((q2, r2), (q3, r3)) = (c2.as_chunks::<4>(), c3.as_chunks::<4>());
    let (qx, rx) = x.as_chunks::<4>();
    for ((((w0, w1), w2), w3), xq) in q0.iter().zip(q1).zip(q2).zip(q3).zip(qx) {
        for ((((&w0, &w1), &w2), &w3), &xv) in w0.iter().zip(w1).zip(w2).zip(w3).zip(xq) {
            mac(w0, w1, w2, w3, xv);
        }
    }
    for ((((&w0, &w1), &w2), &w3), &xv) in r0.iter().zip(r1).zip(r2).zip(r3).zip(rx) {
        mac(w0, w1, w2, w3, xv);
    }
    s
}

/// `Σ_k c[k]·x[k]`.
#[inline(always)]
fn dot1(c: &[i8], x: &[i16]) -> i32 {
    let mut s = 0i32;
    for (&wv, &xv) in c.iter().zip(x) {
        s = s.wrapping_add(wv as i32 * xv as i32);
    }
    s
}

/// `acc[j] += Σ_k w[j·K + k]·x[k]`, one output at a time (`K = x.len() > 0`).
#[inline(always)]
fn one_by_one(w: &[i8], x: &[i16], acc: &mut [i32]) {
    for (col, a) in w.chunks_exact(x.len()).zip(acc) {
        *a = a.wrapping_add(dot1(col, x));
    }
}

/// The Cortex-M4/M7 kernel (`cfg(tinyrnn_dsp)`, from `build.rs`): the DSP extension's
/// `SMLAD` does two 16×16-bit multiply-adds in one instruction. Four `i8` weights load in one
/// `LDR`; `SXTB16 w` sign-extends bytes 0 and 2 into the two halves of a register, `SXTB16 w,
/// ROR #8` bytes 1 and 3, so `x` is paired once per call as `(x0, x2)`, `(x1, x3)` per four
/// `k` (a copy on the stack, `CH` = 32 values at a time), and four MACs cost one load and four
/// instructions; four outputs share the `x` words.
///
/// The bulk of a block of four outputs, eight `k` per trip, is one `asm!` loop
/// ([`isa::dot4_x8`]): 2 `LDRD` of `x`, 8 `LDR` of weights, 16 `SXTB16`, 16 `SMLAD` and 3
/// instructions of loop control = 45 instructions per 32 MACs (1.4 per MAC, against about 3.1
/// for the portable kernel on this core). The rest (the last `k mod 8`, the last `R mod 4`
/// outputs, the pairing of `x`) is safe Rust around one-instruction `asm!` blocks for
/// `SXTB16` and `SMLAD`. Measured in QEMU on the Cortex-M4 (rustc 1.95): a whole
/// `QLstm<16, 32>` step 3.87 instructions per MAC instead of 5.59, `QGru<16, 32>` 2.87
/// instead of 4.15.
///
/// Plain Rust cannot get there: rustc (1.95, stable) exposes neither `SMLAD` nor `SXTB16`
/// (`core::arch::arm`'s DSP intrinsics are unstable), and LLVM's own `SMLAD` formation
/// (ARMParallelDSP) needs pairs of adjacent `i16` loads on both sides, not bytes. With the
/// one-instruction blocks in a Rust loop, LLVM reaches 26 instructions per 16 MACs (index
/// arithmetic) and spills when unrolled; the hand-written loop fits in the 12 allocatable
/// registers by keeping its end on the stack. On the host, the tests run all of this Rust
/// with a model of the assembly in its place ([`isa`]: the Arm ARM's pseudo-code for the two
/// instructions, and `dot4_x8` word by word in the loop's order).
#[cfg(any(test, tinyrnn_dsp))]
mod dsp {
    use super::isa::{dot4_x8, smlad, sxtb16, sxtb16_ror8};

    /// How many `k` are paired at a time (the stack copy: `CH / 2` words).
    const CH: usize = 32;

    /// `[x0 | x2 << 16, x1 | x3 << 16]`: the halves that `SXTB16` of a weight word (bytes 0
    /// and 2), then of it rotated by 8 (bytes 1 and 3), meet in `SMLAD`.
    #[inline(always)]
    pub(super) fn pair(&[x0, x1, x2, x3]: &[i16; 4]) -> [u32; 2] {
        let h = |v: i16| v as u16 as u32;
        [h(x0) | h(x2) << 16, h(x1) | h(x3) << 16]
    }

    /// Four weights, little-endian (one `LDR`: the target allows unaligned word loads).
    #[inline(always)]
    fn word(&[a, b, c, d]: &[i8; 4]) -> u32 {
        u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8])
    }

    /// `s + w0·x0 + w1·x1 + w2·x2 + w3·x3` for four weights `v` and their paired `x`.
    #[inline(always)]
    fn mac4(s: i32, v: &[i8; 4], &[p02, p13]: &[u32; 2]) -> i32 {
        let v = word(v);
        smlad(smlad(s, sxtb16(v), p02), sxtb16_ror8(v), p13)
    }

    /// `acc[j] += Σ_k w[j·K + k]·x[k]` (`K = x.len()`, `w.len() = K·acc.len()`; anything
    /// else leaves `acc` unchanged), wrapping.
    #[inline(always)]
    pub(super) fn acc_dot(w: &[i8], x: &[i16], acc: &mut [i32]) {
        let k = x.len();
        if k == 0 || k.checked_mul(acc.len()) != Some(w.len()) {
            return;
        }
        for (c, xc) in x.chunks(CH).enumerate() {
            let (k0, n) = (c * CH, xc.len());
            let (xq, xr) = xc.as_chunks::<4>();
            let mut buf = [[0u32; 2]; CH / 4];
            for (b, q) in buf.iter_mut().zip(xq) {
                *b = pair(q);
            }
            let xp = buf.get(..xq.len()).unwrap_or(&[]);
            // This chunk's `n` weights of one output's column.
            let part = |col| sub(col, k0, n);
            let blocks = w.chunks_exact(4 * k).zip(acc.chunks_exact_mut(4));
            for (wb, ab) in blocks {
                let (c01, c23) = wb.split_at(2 * k);
                let (c0, c1) = c01.split_at(k);
                let (c2, c3) = c23.split_at(k);
                if let Ok(ab) = <&mut [i32; 4]>::try_from(ab) {
                    // The bulk, eight `k` at a time, then the rest of the chunk.
                    let (s, d) = dot4_x8(*ab, wb, k, k0, xp);
                    let (kd, nd) = (k0 + 4 * d, n.saturating_sub(4 * d));
                    let cols = [c0, c1, c2, c3].map(|col| sub(col, kd, nd));
                    *ab = dot4(s, cols, xp.get(d..).unwrap_or(&[]), xr);
                }
            }
            // The last R mod 4 outputs, one at a time.
            let done = acc.len() - acc.len() % 4;
            let rest = w.get(done * k..).unwrap_or(&[]);
            for (col, a) in rest
                .chunks_exact(k)
                .zip(acc.get_mut(done..).unwrap_or(&mut []))
            {
                *a = dot1(*a, part(col), xp, xr);
            }
        }
    }

    /// `col[k0..k0 + n]` (empty if out of range).
    #[inline(always)]
    fn sub(col: &[i8], k0: usize, n: usize) -> &[i8] {
        col.get(k0..k0 + n).unwrap_or(&[])
    }

    /// `s_i` plus the four dot products of `c_i` (`n` weights) with `x`: its first `4·xp.len()` values
    /// paired in `xp`, the `n mod 4` others in `xr`.
    #[inline(always)]
    fn dot4(mut s: [i32; 4], c: [&[i8]; 4], xp: &[[u32; 2]], xr: &[i16]) -> [i32; 4] {
        let [(q0, r0), (q1, r1), (q2, r2), (q3, r3)] = c.map(<[i8]>::as_chunks::<4>);
        for ((((w0, w1), w2), w3), p) in q0.iter().zip(q1).zip(q2).zip(q3).zip(xp) {
            s = [
                mac4(s[0], w0, p),
                mac4(s[1], w1, p),
                mac4(s[2], w2, p),
                mac4(s[3], w3, p),
            ];
        }
        for ((((&w0, &w1), &w2), &w3), &xv) in r0.iter().zip(r1).zip(r2).zip(r3).zip(xr) {
            let xv = xv as i32;
            s[0] = s[0].wrapping_add(w0 as i32 * xv);
            s[1] = s[1].wrapping_add(w1 as i32 * xv);
            s[2] = s[2].wrapping_add(w2 as i32 * xv);
            s[3] = s[3].wrapping_add(w3 as i32 * xv);
        }
        s
    }

    /// `s` plus one output's dot product, as [`dot4`].
    #[inline(always)]
    fn dot1(mut s: i32, c: &[i8], xp: &[[u32; 2]], xr: &[i16]) -> i32 {
        let (q, r) = c.as_chunks::<4>();
        for (v, p) in q.iter().zip(xp) {
            s = mac4(s, v, p);
        }
        for (&wv, &xv) in r.iter().zip(xr) {
            s = s.wrapping_add(wv as i32 * xv as i32);
        }
        s
    }
}

/// The assembly (Armv7E-M): `SXTB16` and `SMLAD`, one instruction each on registers, and the
/// loop of a block of four outputs, `dot4_x8`.
#[cfg(tinyrnn_dsp)]
#[allow(unsafe_code)]
mod isa {
    use core::arch::asm;

    /// `SXTB16 d, v`: `d = sext16(v[7:0]) | sext16(v[23:16]) << 16`.
    #[inline(always)]
    pub(super) fn sxtb16(v: u32) -> u32 {
        let d: u32;
        // SAFETY: one register-to-register instruction of the target (Armv7E-M, which
        // `cfg(tinyrnn_dsp)` guarantees): no memory access (`nomem`), no stack, no flags
        // written (`SXTB16` sets none), no branch; it writes only `d`, an output operand.
        unsafe {
            asm!("sxtb16 {d}, {v}", d = lateout(reg) d, v = in(reg) v,
                 options(pure, nomem, nostack, preserves_flags));
        }
        d
    }

    /// `SXTB16 d, v, ROR #8`: bytes 1 and 3 of `v`, sign-extended into the two halves.
    #[inline(always)]
    pub(super) fn sxtb16_ror8(v: u32) -> u32 {
        let d: u32;
        // SAFETY: as in `sxtb16`.
        unsafe {
            asm!("sxtb16 {d}, {v}, ror #8", d = lateout(reg) d, v = in(reg) v,
                 options(pure, nomem, nostack, preserves_flags));
        }
        d
    }

    /// Two `k` groups of the four-output block (`{p02}`, `{p13}` = the next pair of `x`):
    /// outputs 1, 2, 3 at `c + K`, `c + 2K`, `c + 3K`, then output 0 at `c`, which steps 4.
    #[rustfmt::skip]
    macro_rules! group4 {
        () => {
            concat!(
                "ldrd {p02}, {p13}, [{xp}], #8\n",
                "ldr {w}, [{c}, {k}]\n",
                "sxtb16 {t}, {w}\n", "smlad {s1}, {t}, {p02}, {s1}\n",
                "sxtb16 {w}, {w}, ror #8\n", "smlad {s1}, {w}, {p13}, {s1}\n",
                "ldr {w}, [{c}, {k}, lsl #1]\n",
                "sxtb16 {t}, {w}\n", "smlad {s2}, {t}, {p02}, {s2}\n",
                "sxtb16 {w}, {w}, ror #8\n", "smlad {s2}, {w}, {p13}, {s2}\n",
                "ldr {w}, [{c}, {k3}]\n",
                "sxtb16 {t}, {w}\n", "smlad {s3}, {t}, {p02}, {s3}\n",
                "sxtb16 {w}, {w}, ror #8\n", "smlad {s3}, {w}, {p13}, {s3}\n",
                "ldr {w}, [{c}], #4\n",
                "sxtb16 {t}, {w}\n", "smlad {s0}, {t}, {p02}, {s0}\n",
                "sxtb16 {w}, {w}, ror #8\n", "smlad {s0}, {w}, {p13}, {s0}\n",
            )
        };
    }

    /// `s_i + Σ_{k0 ≤ k' < k0 + 8m} wb[i·k + k']·x[k']` for the four outputs `i` of a block
    /// (`x` paired in `xp`, from `k0`), with `m` = [`super::x8_trips`], and how many pairs
    /// of `xp` it used (`2m`). 45 instructions per 32 MACs.
    #[inline(always)]
    pub(super) fn dot4_x8(
        s: [i32; 4],
        wb: &[i8],
        k: usize,
        k0: usize,
        xp: &[[u32; 2]],
    ) -> ([i32; 4], usize) {
        let m = super::x8_trips(wb, k, k0, xp);
        if m == 0 {
            return (s, 0);
        }
        let [mut s0, mut s1, mut s2, mut s3] = s;
        // In bounds: k0 ≤ k0 + 8m ≤ k ≤ wb.len().
        let c = wb.as_ptr().wrapping_add(k0);
        let end = c.wrapping_add(8 * m);
        // SAFETY: memory — `x8_trips` proves m ≥ 1, wb.len() = 4k and k0 + 8m ≤ k, so every
        // word read, wb[i·k + k0 + 8t + 4g ..][..4] (i < 4, t < m, g < 2), lies inside `wb`,
        // and the 16m bytes of `xp` read (2m pairs ≤ xp.len()) inside `xp`; `LDR` of a weight
        // word may be unaligned, which Armv7-M allows (CCR.UNALIGN_TRP = 0, the reset value,
        // which LLVM assumes too: it emits unaligned `LDR` for this target), `LDRD` of `xp`
        // is 4-byte aligned (`[u32; 2]`). The only store is `end` to the 8 bytes below the
        // stack pointer (`STR … [sp, #-8]!`, keeping the 8-byte alignment), reloaded each trip
        // and freed at the end (`ADD sp, sp, #8`): `nostack` is not claimed. Control — `c`
        // steps 8 bytes per trip from `wb + k0` and the loop ends when it equals `end` =
        // `wb + k0 + 8m`, after m ≥ 1 trips (do-while). Registers — all written general
        // registers are operands (`out`, `inout`); no reserved register (sp is restored);
        // `LDRD`/post-indexed `LDR` write back to a base distinct from their destinations
        // (separate operands); the flags (`CMP`, the `SMLAD` Q flag) are not claimed
        // preserved. Values — `SMLAD` = the two products of signed 16-bit halves added
        // modulo 2^32 (see [`smlad`]), the same bits as the portable kernel's sums.
        unsafe {
            asm!(
                "str {t}, [sp, #-8]!",
                "2:",
                group4!(),
                group4!(),
                "ldr {t}, [sp]",
                "cmp {c}, {t}",
                "bne 2b",
                "add sp, sp, #8",
                s0 = inout(reg) s0,
                s1 = inout(reg) s1,
                s2 = inout(reg) s2,
                s3 = inout(reg) s3,
                p02 = out(reg) _,
                p13 = out(reg) _,
                w = out(reg) _,
                t = inout(reg) end => _,
                c = inout(reg) c => _,
                k = in(reg) k,
                k3 = in(reg) 3 * k,
                xp = inout(reg) xp.as_ptr() => _,
            );
        }
        ([s0, s1, s2, s3], 2 * m)
    }

    /// `SMLAD d, a, b, s`: `d = s + a[15:0]·b[15:0] + a[31:16]·b[31:16]` (signed halves),
    /// modulo 2^32: [`i32::wrapping_add`] of the two products.
    #[inline(always)]
    pub(super) fn smlad(s: i32, a: u32, b: u32) -> i32 {
        let d: i32;
        // SAFETY: one register-to-register instruction of the target (Armv7E-M): no memory
        // access, no stack, no branch; it writes only `d`, an output operand, and the sticky
        // Q flag when the true sum leaves `i32` (the result is then the sum modulo 2^32, the
        // same bits as wrapping arithmetic): `preserves_flags` is not claimed, so the
        // compiler assumes the APSR flags clobbered. Values: the products of two signed
        // 16-bit halves are exact in 32 bits.
        unsafe {
            asm!("smlad {d}, {a}, {b}, {s}", d = lateout(reg) d, a = in(reg) a, b = in(reg) b,
                 s = in(reg) s, options(pure, nomem, nostack));
        }
        d
    }
}

/// The contract of `isa::dot4_x8`, shared by the assembly and the host's model: `m = ⌊xp.len() / 2⌋`
/// trips of eight `k` over the block `wb` of four columns of `k` weights, from `k0`, if
/// `m > 0`, `wb.len() = 4k` and `k0 + 8m ≤ k`; else nothing (`(s, 0)`).
#[cfg(any(test, tinyrnn_dsp))]
#[inline(always)]
fn x8_trips(wb: &[i8], k: usize, k0: usize, xp: &[[u32; 2]]) -> usize {
    let m = xp.len() / 2;
    let ok = m > 0
        && k.checked_mul(4) == Some(wb.len())
        && k0.checked_add(8 * m).is_some_and(|e| e <= k);
    if ok {
        m
    } else {
        0
    }
}

/// The host's model of [`isa`] (the Arm ARM's pseudo-code for `SXTB16` and `SMLAD`, `dot4_x8`
/// word by word in the order of the assembly), so that the tests run the Cortex-M4 kernel's
/// Rust on the host.
#[cfg(all(test, not(tinyrnn_dsp)))]
mod isa {
    /// `sext16(v[7:0]) | sext16(v[23:16]) << 16`.
    pub(super) fn sxtb16(v: u32) -> u32 {
        let lo = v as u8 as i8 as i16 as u16 as u32;
        let hi = (v >> 16) as u8 as i8 as i16 as u16 as u32;
        lo | hi << 16
    }

    /// `SXTB16` of `v` rotated right by 8 bits.
    pub(super) fn sxtb16_ror8(v: u32) -> u32 {
        sxtb16(v.rotate_right(8))
    }

    /// The assembly `dot4_x8` step by step: the same words in the same order.
    pub(super) fn dot4_x8(
        s: [i32; 4],
        wb: &[i8],
        k: usize,
        k0: usize,
        xp: &[[u32; 2]],
    ) -> ([i32; 4], usize) {
        let m = super::x8_trips(wb, k, k0, xp);
        let [mut s0, mut s1, mut s2, mut s3] = s;
        let word = |at: usize| -> u32 {
            let b = |i: usize| wb.get(at + i).map_or(0, |&v| v as u8 as u32);
            b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24
        };
        let mac = |s: i32, w: u32, [p02, p13]: [u32; 2]| {
            smlad(smlad(s, sxtb16(w), p02), sxtb16_ror8(w), p13)
        };
        let mut c = k0;
        for &p in xp.iter().take(2 * m) {
            s1 = mac(s1, word(c + k), p);
            s2 = mac(s2, word(c + 2 * k), p);
            s3 = mac(s3, word(c + 3 * k), p);
            s0 = mac(s0, word(c), p);
            c += 4;
        }
        ([s0, s1, s2, s3], 2 * m)
    }

    /// `s + a[15:0]·b[15:0] + a[31:16]·b[31:16]` (signed halves), modulo 2^32.
    pub(super) fn smlad(s: i32, a: u32, b: u32) -> i32 {
        let p = |a: u32, b: u32| a as u16 as i16 as i32 * b as u16 as i16 as i32;
        s.wrapping_add(p(a, b)).wrapping_add(p(a >> 16, b >> 16))
    }
}

#[cfg(test)]
mod tests {
    //! The kernels and the quantized steps against straightforward scalar references written
    //! from the spec (the module docs of `quant`), with 64-bit arithmetic, on many random
    //! shapes and inputs, bit for bit.
    use super::super::fixed::tests::requant_ref;
    use super::{acc_dot, one_by_one};
    use crate::params::Zeroed;
    use crate::quant::fixed::{sigmoid_q, tanh_q};
    use crate::quant::{QAffine, QGate, QGru, QLstm, QLstmState, QStep};
    use crate::{ResetAfter, ResetBefore};
    use nalgebra::{SMatrix, SVector};

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        /// Uniform in `[lo, hi]`, with the ends drawn more often.
        fn int(&mut self, lo: i64, hi: i64) -> i64 {
            match self.next() % 16 {
                0 => lo,
                1 => hi,
                _ => lo + (self.next() as i64 * 65536 + self.next() as i64 % 65536) % (hi - lo + 1),
            }
        }
    }

    fn weights<const K: usize, const R: usize>(g: &mut Lcg) -> SMatrix<i8, K, R> {
        SMatrix::from_fn(|_, _| g.int(-127, 127) as i8)
    }
    fn input<const K: usize>(g: &mut Lcg) -> SVector<i16, K> {
        SVector::from_fn(|_, _| g.int(-32768, 32767) as i16)
    }

    /// `acc_j + Σ_k w_t[(k, j)]·x_k` in i64, by index.
    fn reference<const K: usize, const R: usize>(
        w_t: &SMatrix<i8, K, R>,
        x: &SVector<i16, K>,
        acc: &[i32; R],
    ) -> [i32; R] {
        core::array::from_fn(|j| {
            let s: i64 = (0..K).map(|k| w_t[(k, j)] as i64 * x[k] as i64).sum();
            (acc[j] as i64 + s) as i32
        })
    }

    fn check_shape<const K: usize, const R: usize>(g: &mut Lcg) {
        for _ in 0..20 {
            let w = weights::<K, R>(g);
            let x = input::<K>(g);
            let acc0: [i32; R] = core::array::from_fn(|_| g.int(-(1 << 24), 1 << 24) as i32);
            let want = reference(&w, &x, &acc0);
            let mut got = acc0;
            acc_dot(&w, &x, &mut got);
            assert_eq!(got, want, "acc_dot, K = {K}, R = {R}");
            let mut one = acc0;
            one_by_one(w.as_slice(), x.as_slice(), &mut one);
            assert_eq!(one, want, "one_by_one, K = {K}, R = {R}");
        }
    }

    /// The Cortex-M4 kernel (with the host's model of `SXTB16` / `SMLAD`) on one shape.
    fn check_dsp<const K: usize, const R: usize>(g: &mut Lcg) {
        for _ in 0..20 {
            let w = weights::<K, R>(g);
            let x = input::<K>(g);
            let acc0: [i32; R] = core::array::from_fn(|_| g.int(-(1 << 24), 1 << 24) as i32);
            let want = reference(&w, &x, &acc0);
            let mut got = acc0;
            super::dsp::acc_dot(w.as_slice(), x.as_slice(), &mut got);
            assert_eq!(got, want, "dsp::acc_dot, K = {K}, R = {R}");
        }
    }

    #[test]
    fn the_dsp_kernel_matches_the_scalar_reference_on_many_shapes() {
        let g = &mut Lcg(3);
        check_dsp::<1, 1>(g);
        check_dsp::<2, 3>(g);
        check_dsp::<3, 5>(g);
        check_dsp::<4, 4>(g);
        check_dsp::<5, 7>(g);
        check_dsp::<8, 9>(g);
        check_dsp::<13, 6>(g);
        check_dsp::<16, 32>(g);
        check_dsp::<32, 32>(g);
        check_dsp::<33, 11>(g);
        // More than one stack copy of `x` (32 values at a time).
        check_dsp::<48, 128>(g);
        check_dsp::<64, 5>(g);
        check_dsp::<70, 8>(g);
        check_dsp::<101, 3>(g);
        // Empty or mismatched: unchanged.
        let mut acc = [5, -6];
        super::dsp::acc_dot(&[], &[], &mut acc);
        super::dsp::acc_dot(&[1, 2, 3], &[4, 5], &mut acc);
        assert_eq!(acc, [5, -6]);
    }

    /// The host's model of the two instructions on values worked out by hand from the Arm
    /// ARM's definitions, and the pairing of `x` that lets them compute a 4-term dot product.
    #[test]
    fn the_instruction_model_follows_the_arm_definitions() {
        use super::isa::{smlad, sxtb16, sxtb16_ror8};
        // Bytes (from 0) FF 01 7F 80: SXTB16 takes bytes 0 and 2 (-1, 127), ROR #8 1 and 3.
        assert_eq!(sxtb16(0x807F_01FF), 0x007F_FFFF);
        assert_eq!(sxtb16_ror8(0x807F_01FF), 0xFF80_0001);
        // 10 + (-1)·3 + 2·(-3) = 1.
        assert_eq!(smlad(10, 0x0002_FFFF, 0xFFFD_0003), 1);
        // -32768·-32768 twice = 2^31: wraps (the Q flag case).
        assert_eq!(smlad(0, 0x8000_8000, 0x8000_8000), i32::MIN);
        assert_eq!(smlad(-1, 0x8000_8000, 0x8000_8000), i32::MAX);
        let g = &mut Lcg(4);
        for _ in 0..1000 {
            let wv: [i8; 4] = core::array::from_fn(|_| g.int(-128, 127) as i8);
            let xv: [i16; 4] = core::array::from_fn(|_| g.int(-32768, 32767) as i16);
            let s0 = g.int(-(1 << 30), 1 << 30) as i32;
            let word = u32::from_le_bytes(wv.map(|v| v as u8));
            let [p02, p13] = super::dsp::pair(&xv);
            let got = smlad(smlad(s0, sxtb16(word), p02), sxtb16_ror8(word), p13);
            let want: i64 = s0 as i64 + (0..4).map(|i| wv[i] as i64 * xv[i] as i64).sum::<i64>();
            assert_eq!(got as i64, want);
        }
    }

    #[test]
    fn acc_dot_matches_the_scalar_reference_on_many_shapes() {
        let g = &mut Lcg(1);
        check_shape::<1, 1>(g);
        check_shape::<1, 4>(g);
        check_shape::<2, 3>(g);
        check_shape::<3, 5>(g);
        check_shape::<5, 7>(g);
        check_shape::<7, 8>(g);
        check_shape::<8, 9>(g);
        check_shape::<13, 6>(g);
        check_shape::<16, 32>(g);
        check_shape::<32, 32>(g);
        check_shape::<33, 11>(g);
        check_shape::<48, 128>(g);
        // K = 0: nothing to add.
        let mut acc = [5, -6];
        acc_dot(
            &SMatrix::<i8, 0, 2>::zeros(),
            &SVector::<i16, 0>::zeros(),
            &mut acc,
        );
        assert_eq!(acc, [5, -6]);
    }

    fn random_gate<const NX: usize, const NA: usize>(g: &mut Lcg) -> QGate<NX, NA> {
        QGate {
            x: random_affine(g),
            a: random_affine(g),
        }
    }

    fn random_affine<const NI: usize, const NO: usize>(g: &mut Lcg) -> QAffine<NI, NO> {
        QAffine {
            w_t: weights(g),
            bias: SVector::from_fn(|_, _| g.int(-(1 << 22), 1 << 22) as i32),
            mult: SVector::from_fn(|_, _| g.int(1 << 15, (1 << 16) - 1) as u16),
            // Low shifts too, so that some parts reach the ±2^24 clamp.
            shift: SVector::from_fn(|_, _| g.int(8, 34) as u8),
        }
    }

    /// One part's requantised value, unsaturated and clamped to ±2^24, by index, in i64.
    fn part_ref<const NI: usize, const NO: usize>(
        q: &QAffine<NI, NO>,
        x: &SVector<i16, NI>,
    ) -> [i64; NO] {
        core::array::from_fn(|j| {
            let mut s = q.bias[j] as i64;
            for k in 0..NI {
                s += q.w_t[(k, j)] as i64 * x[k] as i64;
            }
            requant_ref(s as i32, q.mult[j], q.shift[j]).clamp(-(1 << 24), 1 << 24)
        })
    }

    /// A gate's pre-activations: the sum of its two parts (saturated by the caller).
    fn gate_ref<const NX: usize, const NA: usize>(
        q: &QGate<NX, NA>,
        x: &SVector<i16, NX>,
        a: &SVector<i16, NA>,
    ) -> [i64; NA] {
        let (px, pa) = (part_ref(&q.x, x), part_ref(&q.a, a));
        core::array::from_fn(|j| px[j] + pa[j])
    }

    fn sat(v: i64) -> i16 {
        v.clamp(-32768, 32767) as i16
    }
    fn rshr_ref(v: i64, s: u32) -> i64 {
        if s == 0 {
            v
        } else {
            (v + (1 << (s - 1))) >> s
        }
    }

    fn lstm_ref<const NX: usize, const NA: usize>(
        q: &QLstm<NX, NA>,
        x: &SVector<i16, NX>,
        s: &mut QLstmState<NA>,
    ) {
        let (zf, zi) = (gate_ref(&q.f, x, &s.a), gate_ref(&q.i, x, &s.a));
        let (zc, zo) = (gate_ref(&q.c, x, &s.a), gate_ref(&q.o, x, &s.a));
        let frac = q.c_frac.min(15) as u32;
        for j in 0..NA {
            let f = sigmoid_q(sat(zf[j])) as i64;
            let i = sigmoid_q(sat(zi[j])) as i64;
            let g = tanh_q(sat(zc[j])) as i64;
            let o = sigmoid_q(sat(zo[j])) as i64;
            let c = sat(rshr_ref(f * s.c[j] as i64, 15) + rshr_ref(i * g, 30 - frac));
            s.c[j] = c;
            let c312 = if frac >= 12 {
                rshr_ref(c as i64, frac - 12)
            } else {
                (c as i64) << (12 - frac)
            };
            s.a[j] = sat(rshr_ref(o * tanh_q(sat(c312)) as i64, 15));
        }
    }

    fn gru_ref<const NX: usize, const NA: usize, const AFTER: bool>(
        q_z: &QGate<NX, NA>,
        q_r: &QGate<NX, NA>,
        n: &QGate<NX, NA>,
        x: &SVector<i16, NX>,
        a: &mut SVector<i16, NA>,
    ) {
        let (zz, zr) = (gate_ref(q_z, x, a), gate_ref(q_r, x, a));
        let r: [i64; NA] = core::array::from_fn(|j| sigmoid_q(sat(zr[j])) as i64);
        let ra: SVector<i16, NA> = SVector::from_fn(|j, _| sat(rshr_ref(r[j] * a[j] as i64, 15)));
        let na_in = if AFTER { *a } else { ra };
        let mut out = *a;
        let (px, pa) = (part_ref(&n.x, x), part_ref(&n.a, &na_in));
        for j in 0..NA {
            let (vx, va) = (px[j], pa[j]);
            let pre = if AFTER {
                vx + rshr_ref(r[j] * va, 15)
            } else {
                vx + va
            };
            let n = tanh_q(sat(pre)) as i64;
            let z = sigmoid_q(sat(zz[j])) as i64;
            out[j] = rshr_ref(z * a[j] as i64 + (32768 - z) * n, 15) as i16;
        }
        *a = out;
    }

    fn check_lstm<const NX: usize, const NA: usize>(g: &mut Lcg) {
        for frac in [4u8, 11, 12, 15] {
            let q = QLstm::<NX, NA> {
                f: random_gate(g),
                i: random_gate(g),
                c: random_gate(g),
                o: random_gate(g),
                c_frac: frac,
                ..QLstm::ZEROS
            };
            assert!(q.validate().is_ok());
            let (mut s, mut s_ref) = (QLstmState::<NA>::ZEROS, QLstmState::<NA>::ZEROS);
            let mut y = SVector::zeros();
            for _ in 0..6 {
                let x = input::<NX>(g);
                q.step(&x, &mut s, &mut y);
                lstm_ref(&q, &x, &mut s_ref);
                assert_eq!(s, s_ref, "QLstm<{NX}, {NA}>, c_frac {frac}");
                assert_eq!(y, s.a);
            }
        }
    }

    fn check_gru<const NX: usize, const NA: usize>(g: &mut Lcg) {
        let (z, r, n) = (random_gate(g), random_gate(g), random_gate(g));
        let after = QGru::<NX, NA, ResetAfter> {
            z,
            r,
            n,
            ..QGru::ZEROS
        };
        let before = QGru::<NX, NA, ResetBefore> {
            z,
            r,
            n,
            ..QGru::ZEROS
        };
        assert!(after.validate().is_ok());
        let (mut a1, mut a2, mut r1, mut r2) = (
            SVector::zeros(),
            SVector::zeros(),
            SVector::zeros(),
            SVector::zeros(),
        );
        let mut y = SVector::zeros();
        for _ in 0..6 {
            let x = input::<NX>(g);
            after.step(&x, &mut a1, &mut y);
            gru_ref::<NX, NA, true>(&z, &r, &n, &x, &mut r1);
            assert_eq!(a1, r1, "QGru<{NX}, {NA}, ResetAfter>");
            before.step(&x, &mut a2, &mut y);
            gru_ref::<NX, NA, false>(&z, &r, &n, &x, &mut r2);
            assert_eq!(a2, r2, "QGru<{NX}, {NA}, ResetBefore>");
        }
    }

    #[test]
    fn lstm_and_gru_steps_match_the_scalar_reference() {
        let g = &mut Lcg(2);
        for _ in 0..4 {
            check_lstm::<16, 32>(g);
            check_lstm::<3, 5>(g);
            check_lstm::<1, 1>(g);
            check_lstm::<7, 9>(g);
            check_gru::<16, 32>(g);
            check_gru::<3, 5>(g);
            check_gru::<2, 1>(g);
            check_gru::<5, 6>(g);
        }
    }
}
