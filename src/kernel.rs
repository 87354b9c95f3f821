//! The shared linear-algebra kernels every cell calls.
//!
//! A cell's heavy math is three operations on an affine map `z = Wa·a + Wx·x + b·1ᵀ` (the RNN's
//! single pre-activation and each of the LSTM's four gates have this form):
//!
//! - [`affine`] — the forward pre-activation;
//! - [`acc_param_grads`] — `dWa += dz·aᵀ`, `dWx += dz·xᵀ`, `db += dz·1` (weight gradients,
//!   accumulated in place so that summing over time steps and mini-batches is free);
//! - [`acc_input_grads`] — `da += Waᵀ·dz`, `dx += Wxᵀ·dz` (gradients flowing back to the
//!   inputs and the previous state), and [`acc_tr_mul_gates`], the same summed over several
//!   gates that read one input (one dot product per element for all of them).
//!
//! plus [`head`] (`z = W·a + b·1ᵀ`, the output layer) and the pieces the output layer's
//! backward pass uses ([`acc_outer`], [`acc_row_sums`], [`acc_tr_mul`]). Everything
//! accumulates into caller-provided storage: no temporaries, no transposes.
//!
//! # How they are computed
//!
//! Each kernel works on the matrices' column-major storage as slices and is **register
//! tiled**: a block of output rows (and, with a batch, of output columns) is held in local
//! arrays — registers, after optimisation — for the whole reduction, so each weight is loaded
//! once per block instead of once per multiply-add, and the inner loops are straight-line code
//! over fixed-size arrays that the compiler turns into SIMD on the host and into block loads
//! on a microcontroller. Block sizes are compile-time constants; remainders use smaller blocks.
//!
//! # Summation order (the bits are part of the contract)
//!
//! Floating-point addition is not associative, so a kernel's result depends on the order of
//! its sums. Every kernel here fixes that order independently of the blocking, and it is the
//! order of nalgebra's `gemm`, `gemm_tr` and `ger` on fixed-size matrices (a test checks each
//! kernel against them bit for bit), on every target:
//!
//! - `W·X` ([`head`], [`head_steps`], and both products of [`affine`]):
//!   `z[r, m] ← (…((z[r, m] + W[r, 0]·X[0, m]) + W[r, 1]·X[1, m]) + …)`, in column order; blocks
//!   span rows and batch columns (or steps) only. [`affine`] adds the input projection to the
//!   bias first, then the recurrent product: `z = (b + Wx·x) + Wa·a`.
//! - `Wᵀ·dz` ([`acc_tr_mul`]): each dot product `Σ_r W[r, c]·dz[r, m]` keeps eight partial
//!   sums `p_k` over the rows `r ≡ k (mod 8)` of the leading multiple of eight, then forms
//!   `(((0 + (p0 + p4)) + (p1 + p5)) + (p2 + p6)) + (p3 + p7)` and adds the remaining rows in
//!   order (with nalgebra's special cases for two, three and four rows), and finally adds it to
//!   the output.
//! - `dz·hᵀ` ([`acc_outer`]) and `dz·1` ([`acc_row_sums`]): batch columns in order.
//!
//! No fused multiply-add is used anywhere, so the host and every microcontroller produce the
//! same bits.
//!
//! # One assembly kernel, on hard-float Arm
//!
//! For `f32` on a hard-float Arm core (Cortex-M4F, M7, M33; `target_abi = "eabihf"`),
//! [`gemm_acc`] — every gate product — goes through a short `asm!` kernel: `VLDM` loads eight
//! weights in one instruction and `VMLA.F32` does one multiply-add, 19 instructions per 16
//! MACs, about 1.27 instructions per MAC against 2.3 for the best plain Rust (LLVM emits
//! `VMLA` but cannot merge its weight loads into `VLDM`). `VMLA.F32` is not fused: Arm defines
//! it as `FPAdd(Sd, FPMul(Sn, Sm))`, two roundings (the fused one is `VFMA`), and the Cortex-M
//! FPU resets to round-to-nearest without flush-to-zero, so it gives the bits of the portable
//! kernel; the firmware's golden checks compare them with the host's at tolerance 0. The
//! soundness argument is in the comments of `fpu::gemv16`. Every other target, type and the
//! soft-float cores compile only the portable code.

use crate::Real;
use nalgebra::{SMatrix, SVector};

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use core::any::Any;

/// `Some` when `T` is `f32`: a safe, compile-time type test (the `TypeId` comparison folds
/// away after monomorphisation; no code is left on either path).
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[inline(always)]
fn as_f32<T: Real, const R: usize, const C: usize>(
    m: &SMatrix<T, R, C>,
) -> Option<&SMatrix<f32, R, C>> {
    (m as &dyn Any).downcast_ref()
}

/// [`as_f32`] for a mutable matrix.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[inline(always)]
fn as_f32_mut<T: Real, const R: usize, const C: usize>(
    m: &mut SMatrix<T, R, C>,
) -> Option<&mut SMatrix<f32, R, C>> {
    (m as &mut dyn Any).downcast_mut()
}

/// Block-load multiply-accumulate kernels for hard-float Arm cores (Cortex-M4F, M7, M33, …):
/// `VLDM` loads eight weights in one instruction and `VMLA.F32` does one multiply-add, so a
/// column of a 16-row block costs 2 loads, 16 `VMLA` and one pointer step: 19 instructions
/// for 16 MACs. Plain Rust does not get there: LLVM (rustc 1.95) emits `VMLA` but one `VLDR`
/// per weight, because it allocates the loaded values to non-consecutive S registers (s0, s2,
/// s4, …, then s1, s3, …), so its load/store optimiser cannot merge them into a `VLDM`; with
/// `-C target-cpu=cortex-m4` it also splits every multiply-add into `VMUL` + `VADD`. Best
/// plain Rust measured 2.27-2.39 instructions per MAC (16-row blocks in local arrays); this
/// kernel 1.23-1.33 (QEMU counts, call included).
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[allow(unsafe_code)]
mod fpu {
    use core::arch::asm;

    /// The assembly for one column of a 16-row block: weights of rows 0-7 into s8-s15 (the
    /// pointer moves 32 bytes), 8 `VMLA` into s16-s23, rows 8-15, 8 `VMLA` into s24-s31, then
    /// `{step}` = column stride − 32 bytes moves the pointer to the next column's block.
    /// `$s` holds this column's `x`.
    #[rustfmt::skip]
    macro_rules! col16 {
        ($s:literal) => {
            concat!(
                "vldmia {w}!, {{s8-s15}}\n",
                "vmla.f32 s16, s8, ", $s, "\n", "vmla.f32 s17, s9, ", $s, "\n",
                "vmla.f32 s18, s10, ", $s, "\n", "vmla.f32 s19, s11, ", $s, "\n",
                "vmla.f32 s20, s12, ", $s, "\n", "vmla.f32 s21, s13, ", $s, "\n",
                "vmla.f32 s22, s14, ", $s, "\n", "vmla.f32 s23, s15, ", $s, "\n",
                "vldmia {w}, {{s8-s15}}\n",
                "vmla.f32 s24, s8, ", $s, "\n", "vmla.f32 s25, s9, ", $s, "\n",
                "vmla.f32 s26, s10, ", $s, "\n", "vmla.f32 s27, s11, ", $s, "\n",
                "vmla.f32 s28, s12, ", $s, "\n", "vmla.f32 s29, s13, ", $s, "\n",
                "vmla.f32 s30, s14, ", $s, "\n", "vmla.f32 s31, s15, ", $s, "\n",
                "add {w}, {w}, {step}\n",
            )
        };
    }

    /// One column of an 8-row block (`{step}` = column stride in bytes), into s24-s31.
    #[rustfmt::skip]
    macro_rules! col8 {
        ($s:literal) => {
            concat!(
                "vldmia {w}, {{s8-s15}}\n",
                "vmla.f32 s24, s8, ", $s, "\n", "vmla.f32 s25, s9, ", $s, "\n",
                "vmla.f32 s26, s10, ", $s, "\n", "vmla.f32 s27, s11, ", $s, "\n",
                "vmla.f32 s28, s12, ", $s, "\n", "vmla.f32 s29, s13, ", $s, "\n",
                "vmla.f32 s30, s14, ", $s, "\n", "vmla.f32 s31, s15, ", $s, "\n",
                "add {w}, {w}, {step}\n",
            )
        };
    }

    /// `z += W·x` for one column: `z` has the rows, `x` the columns, `w` is `W` column-major
    /// (`z.len() × x.len()`). Blocks of 16 rows, then one of 8, in assembly; the last < 8
    /// rows in Rust. Every `z[r]` receives its products in column order, each as
    /// `z[r] + (w·x)` with the product rounded first: the bits of the portable kernel.
    /// Mismatched lengths leave `z` unchanged (callers pass exact sizes).
    #[inline(always)]
    pub(super) fn gemv_acc(z: &mut [f32], w: &[f32], x: &[f32]) {
        let rows = z.len();
        if rows == 0 || x.is_empty() || rows.checked_mul(x.len()) != Some(w.len()) {
            return;
        }
        // Rows in blocks of 16 (r < r16), at most one block of 8 (r16 ≤ r < r0), the rest.
        let (z16, rest) = z.as_chunks_mut::<16>();
        let r16 = rows - rest.len();
        if !z16.is_empty() {
            gemv16(z16.as_flattened_mut(), w, rows, x);
        }
        let (z8, rest) = rest.as_chunks_mut::<8>();
        if let (Some(zb), Some(wb)) = (z8.first_mut(), w.get(r16..)) {
            gemv8(zb, wb, rows, x);
        }
        let r0 = rows - rest.len();
        for (r, zr) in (r0..).zip(rest) {
            let mut acc = *zr;
            // Every column of `w` has `rows` > r entries: `get` always succeeds.
            for (wcol, &xv) in w.chunks_exact(rows).zip(x) {
                let Some(&wv) = wcol.get(r) else {
                    return;
                };
                acc += wv * xv;
            }
            *zr = acc;
        }
    }

    /// `z[16b + k] += Σ_c w[16b + c·ws + k] · x[c]` for every block `b < z.len() / 16`,
    /// `k < 16`, `c < x.len()`, column by column: the first `16·⌊z.len()/16⌋` rows of
    /// `z += W·x` for `W` column-major with column stride `ws`. Out-of-range sizes: no-op.
    /// Not inlined: one copy of the 0.7 KB loop serves every matrix shape.
    #[inline(never)]
    fn gemv16(z: &mut [f32], w: &[f32], ws: usize, x: &[f32]) {
        let (nb, n) = (z.len() / 16, x.len());
        // The highest index read is w[16(nb − 1) + 15 + (n − 1)·ws] < 16·nb + (n − 1)·ws.
        let ok = nb > 0
            && n > 0
            && ws >= 16 * nb
            && ws <= (u32::MAX / 8) as usize
            && (n - 1)
                .checked_mul(ws)
                .and_then(|e| e.checked_add(16 * nb))
                .is_some_and(|e| e <= w.len());
        if !ok {
            return;
        }
        // SAFETY: memory — `ok` proves that every word read, w[16b + c·ws + k] and x[c]
        // (b < nb, c < n, k < 16), lies inside `w` and `x`, and that the only stores, VSTM of
        // 16 words at z[16b..] (b < nb), lie inside `z`, which is borrowed mutably for the
        // call; f32 slices are 4-byte aligned, as VLDM/VSTM require. Control — each block runs
        // ⌊n/8⌋ eight-column trips and n mod 8 one-column trips (exactly n columns: `{c}` is
        // reloaded from `{n}` per block), then nb blocks; the loops end. Registers — every
        // general register the code writes is an `inout`/`out` operand; every S register it
        // writes (s0-s31) is declared clobbered, so the compiler saves the callee-saved
        // s16-s31; the flags are not declared preserved. No stack, no calls, no FPSCR change.
        // Values — VMLA.F32 = FPAdd(Sd, FPMul(Sn, Sm)) with the FPSCR's round-to-nearest:
        // the same bits as `acc += w * x` in Rust.
        unsafe {
            asm!(
                "1:",
                "vldmia {z}, {{s16-s31}}",
                "mov {w}, {wb}",
                "mov {xp}, {x0}",
                "lsrs {c}, {n}, #3",
                "beq 3f",
                "2:",
                "vldmia {xp}!, {{s0-s7}}",
                col16!("s0"), col16!("s1"), col16!("s2"), col16!("s3"),
                col16!("s4"), col16!("s5"), col16!("s6"), col16!("s7"),
                "subs {c}, {c}, #1",
                "bne 2b",
                "3:",
                "ands {c}, {n}, #7",
                "beq 5f",
                "4:",
                "vldmia {xp}!, {{s0}}",
                col16!("s0"),
                "subs {c}, {c}, #1",
                "bne 4b",
                "5:",
                "vstmia {z}!, {{s16-s31}}",
                "adds {wb}, {wb}, #64",
                "subs {nb}, {nb}, #1",
                "bne 1b",
                z = inout(reg) z.as_mut_ptr() => _,
                wb = inout(reg) w.as_ptr() => _,
                w = out(reg) _,
                x0 = in(reg) x.as_ptr(),
                xp = out(reg) _,
                n = in(reg) n,
                c = out(reg) _,
                nb = inout(reg) nb => _,
                step = in(reg) (ws - 8) * 4,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                out("s16") _, out("s17") _, out("s18") _, out("s19") _,
                out("s20") _, out("s21") _, out("s22") _, out("s23") _,
                out("s24") _, out("s25") _, out("s26") _, out("s27") _,
                out("s28") _, out("s29") _, out("s30") _, out("s31") _,
                options(nostack),
            );
        }
    }

    /// `z[k] += Σ_c w[c·ws + k] · x[c]` for `k < 8`, column by column (as [`gemv16`]).
    #[inline(never)]
    fn gemv8(z: &mut [f32; 8], w: &[f32], ws: usize, x: &[f32]) {
        let n = x.len();
        let ok = n > 0
            && ws >= 8
            && ws <= (u32::MAX / 8) as usize
            && (n - 1)
                .checked_mul(ws)
                .and_then(|e| e.checked_add(8))
                .is_some_and(|e| e <= w.len());
        if !ok {
            return;
        }
        // SAFETY: as in `gemv16`, for one block of 8 rows: reads w[c·ws + k] and x[c]
        // (c < n, k < 8), all inside `w` and `x` by `ok`; stores 8 words to `z`; clobbers
        // s0-s15 and s24-s31 (declared) and the flags.
        unsafe {
            asm!(
                "vldmia {z}, {{s24-s31}}",
                "lsrs {c}, {n}, #3",
                "beq 3f",
                "2:",
                "vldmia {x}!, {{s0-s7}}",
                col8!("s0"), col8!("s1"), col8!("s2"), col8!("s3"),
                col8!("s4"), col8!("s5"), col8!("s6"), col8!("s7"),
                "subs {c}, {c}, #1",
                "bne 2b",
                "3:",
                "ands {c}, {n}, #7",
                "beq 5f",
                "4:",
                "vldmia {x}!, {{s0}}",
                col8!("s0"),
                "subs {c}, {c}, #1",
                "bne 4b",
                "5:",
                "vstmia {z}, {{s24-s31}}",
                z = in(reg) z.as_mut_ptr(),
                w = inout(reg) w.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                n = in(reg) n,
                c = out(reg) _,
                step = in(reg) ws * 4,
                out("s0") _, out("s1") _, out("s2") _, out("s3") _,
                out("s4") _, out("s5") _, out("s6") _, out("s7") _,
                out("s8") _, out("s9") _, out("s10") _, out("s11") _,
                out("s12") _, out("s13") _, out("s14") _, out("s15") _,
                out("s24") _, out("s25") _, out("s26") _, out("s27") _,
                out("s28") _, out("s29") _, out("s30") _, out("s31") _,
                options(nostack),
            );
        }
    }
}

/// Whether `T` is `f32` on a hard-float Arm core, where [`gemm_acc`] takes the assembly path.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[inline(always)]
fn fpu_f32<T: Real>() -> bool {
    core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>()
}

/// `z ← (b·1ᵀ + Wx·x) + Wa·a` (the bias broadcast over the `M` batch columns), in that order:
/// the input projection first, as a sequence forward pass that projects every step's input
/// ahead of the recurrence ([`head_steps`]) computes it.
#[inline]
pub(crate) fn affine<
    T: Real,
    const R: usize,
    const N_A: usize,
    const N_X: usize,
    const M: usize,
>(
    z: &mut SMatrix<T, R, M>,
    wa: &SMatrix<T, R, N_A>,
    a: &SMatrix<T, N_A, M>,
    wx: &SMatrix<T, R, N_X>,
    x: &SMatrix<T, N_X, M>,
    b: &SVector<T, R>,
) {
    head(z, wx, x, b);
    gemm_acc(z, wa, a);
}

/// `z ← W·a + b·1ᵀ` (the output layer's logits).
#[inline]
pub(crate) fn head<T: Real, const R: usize, const N_A: usize, const M: usize>(
    z: &mut SMatrix<T, R, M>,
    w: &SMatrix<T, R, N_A>,
    a: &SMatrix<T, N_A, M>,
    b: &SVector<T, R>,
) {
    for col in z.as_mut_slice().chunks_exact_mut(R) {
        col.copy_from_slice(b.as_slice());
    }
    gemm_acc(z, w, a);
}

/// `z_k ← b + W·x_k` for four separate steps `k` at batch size one, with each column of `W`
/// loaded once for the four: a sequence's input projections, computed ahead of the
/// recurrence. Equal, bit for bit, to four calls of [`head`]. Other batch sizes call [`head`]
/// per step (their products already share each weight across the batch columns).
#[inline]
pub(crate) fn head_steps<T: Real, const R: usize, const C: usize, const M: usize>(
    z: [&mut SMatrix<T, R, M>; 4],
    w: &SMatrix<T, R, C>,
    x: [&SMatrix<T, C, M>; 4],
    b: &SVector<T, R>,
) {
    // On hard-float Arm, f32 steps go one by one through `head` to the assembly kernel.
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    let per_step = fpu_f32::<T>();
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    let per_step = false;
    if M != 1 || R == 0 || C == 0 || per_step {
        for (z, x) in z.into_iter().zip(x) {
            head(z, w, x, b);
        }
        return;
    }
    let mut z = z.map(|z| z.as_mut_slice());
    for z in z.iter_mut() {
        z.copy_from_slice(b.as_slice());
    }
    gemm_cols(&mut z, w.as_slice(), &x.map(|x| x.as_slice()), R);
}

/// `z += W·X`, column order (see the module docs). On hard-float Arm, `f32` goes through the
/// block-load kernels of [`fpu`].
#[inline]
pub(crate) fn gemm_acc<T: Real, const R: usize, const C: usize, const M: usize>(
    z: &mut SMatrix<T, R, M>,
    w: &SMatrix<T, R, C>,
    x: &SMatrix<T, C, M>,
) {
    if R == 0 || C == 0 || M == 0 {
        return;
    }
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    if let (Some(zf), Some(wf), Some(xf)) = (as_f32_mut(z), as_f32(w), as_f32(x)) {
        let w = wf.as_slice();
        for (zc, xc) in zf
            .as_mut_slice()
            .chunks_exact_mut(R)
            .zip(xf.as_slice().chunks_exact(C))
        {
            fpu::gemv_acc(zc, w, xc);
        }
        return;
    }
    let (z, w, x) = (z.as_mut_slice(), w.as_slice(), x.as_slice());
    // Batch columns four at a time: each weight loaded once serves four columns.
    let mut zc = z.chunks_exact_mut(4 * R);
    let mut xc = x.chunks_exact(4 * C);
    for (z4, x4) in (&mut zc).zip(&mut xc) {
        let (z0, z4) = z4.split_at_mut(R);
        let (z1, z4) = z4.split_at_mut(R);
        let (z2, z3) = z4.split_at_mut(R);
        let (x0, x4) = x4.split_at(C);
        let (x1, x4) = x4.split_at(C);
        let (x2, x3) = x4.split_at(C);
        gemm_cols(&mut [z0, z1, z2, z3], w, &[x0, x1, x2, x3], R);
    }
    for (z1, x1) in zc
        .into_remainder()
        .chunks_exact_mut(R)
        .zip(xc.remainder().chunks_exact(C))
    {
        gemm_cols(&mut [z1], w, &[x1], R);
    }
}

/// `z_j += W·x_j` for `MB` columns `z_j` (of `rows`) and `x_j`, by row blocks.
#[inline(always)]
fn gemm_cols<T: Real, const MB: usize>(
    z: &mut [&mut [T]; MB],
    w: &[T],
    x: &[&[T]; MB],
    rows: usize,
) {
    let mut r0 = 0;
    if MB == 1 {
        // One column: the accumulators are only the rows, so take many at once.
        if core::mem::size_of::<T>() <= 4 {
            while r0 + 32 <= rows {
                if gemm_block::<T, 32, MB>(z, w, x, r0, rows).is_none() {
                    return;
                }
                r0 += 32;
            }
        }
        while r0 + 16 <= rows {
            if gemm_block::<T, 16, MB>(z, w, x, r0, rows).is_none() {
                return;
            }
            r0 += 16;
        }
    } else {
        while r0 + 8 <= rows {
            if gemm_block::<T, 8, MB>(z, w, x, r0, rows).is_none() {
                return;
            }
            r0 += 8;
        }
    }
    while r0 + 4 <= rows {
        if gemm_block::<T, 4, MB>(z, w, x, r0, rows).is_none() {
            return;
        }
        r0 += 4;
    }
    while r0 < rows {
        if gemm_block::<T, 1, MB>(z, w, x, r0, rows).is_none() {
            return;
        }
        r0 += 1;
    }
}

/// The micro-kernel: rows `r0..r0 + RB` of `MB` columns, accumulated in registers over every
/// column of `W`. `None` if a block lies outside its slice, which the callers' sizes rule out;
/// the caller then stops. (Stopping the kernel compiles as indexing did; leaving only this
/// block measured up to 36% slower on a host, `f64` `N_A = 64`, `M = 32` forward.)
#[inline(always)]
fn gemm_block<T: Real, const RB: usize, const MB: usize>(
    z: &mut [&mut [T]; MB],
    w: &[T],
    x: &[&[T]; MB],
    r0: usize,
    rows: usize,
) -> Option<()> {
    // The callers keep r0 + RB ≤ rows, every `z_j` and column of `w` has `rows` entries and
    // every `x_j` one per column of `w`: each `block` and `get` below succeeds.
    let mut acc = [[T::zero(); RB]; MB];
    for (acc, z) in acc.iter_mut().zip(z.iter()) {
        *acc = *block(z, r0)?;
    }
    for (c, wcol) in w.chunks_exact(rows).enumerate() {
        let wb = block::<T, RB>(wcol, r0)?;
        for (acc, x) in acc.iter_mut().zip(x) {
            let xv = *x.get(c)?;
            for (a, &wv) in acc.iter_mut().zip(wb) {
                *a += wv * xv;
            }
        }
    }
    for (acc, z) in acc.iter().zip(z.iter_mut()) {
        *block_mut(z, r0)? = *acc;
    }
    Some(())
}

/// `s[at..at + N]`, or `None` past the end of `s`: the row block of one column that a
/// register-tiled kernel works on (the kernels' loop bounds keep it inside the column).
#[inline(always)]
fn block<T, const N: usize>(s: &[T], at: usize) -> Option<&[T; N]> {
    s.get(at..)?.first_chunk()
}

/// [`block`], mutable.
#[inline(always)]
fn block_mut<T, const N: usize>(s: &mut [T], at: usize) -> Option<&mut [T; N]> {
    s.get_mut(at..)?.first_chunk_mut()
}

/// `dW += dz·hᵀ`, batch columns in order, accumulated in place.
#[inline]
pub(crate) fn acc_outer<T: Real, const R: usize, const C: usize, const M: usize>(
    dw: &mut SMatrix<T, R, C>,
    dz: &SMatrix<T, R, M>,
    h: &SMatrix<T, C, M>,
) {
    if R == 0 || C == 0 || M == 0 {
        return;
    }
    let (dw, dz, h) = (dw.as_mut_slice(), dz.as_slice(), h.as_slice());
    if M == 1 {
        // One batch column: `dW[:, c] += dz·h[c]`, a plain vectorised update per column.
        for (col, &hv) in dw.chunks_exact_mut(R).zip(h) {
            for (d, &zv) in col.iter_mut().zip(dz) {
                *d += zv * hv;
            }
        }
        return;
    }
    outer_first(dw, dz, h, R, C, M);
}

/// `dW += dz·hᵀ` over the first `n ≤ K` columns of `dz` and `h` only, in column order: the
/// flush of [`GradBuffer`]. Equal, bit for bit, to `n` rank-1 updates in that order.
#[inline]
fn acc_outer_first<T: Real, const R: usize, const C: usize, const K: usize>(
    dw: &mut SMatrix<T, R, C>,
    dz: &SMatrix<T, R, K>,
    h: &SMatrix<T, C, K>,
    n: usize,
) {
    if R == 0 || C == 0 || n == 0 {
        return;
    }
    outer_first(
        dw.as_mut_slice(),
        dz.as_slice(),
        h.as_slice(),
        R,
        C,
        n.min(K),
    );
}

/// The tiled body of [`acc_outer`]: columns of `dW` four at a time over `batch` columns.
/// Not inlined on soft-float cores, for the reason of [`tr_gates`].
#[cfg_attr(all(target_os = "none", not(target_abi = "eabihf")), inline(never))]
#[cfg_attr(
    not(all(target_os = "none", not(target_abi = "eabihf"))),
    inline(always)
)]
fn outer_first<T: Real>(dw: &mut [T], dz: &[T], h: &[T], rows: usize, cols: usize, batch: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    // Four columns of dW at a time share every load of dz.
    let mut cs = dw.chunks_exact_mut(4 * rows);
    let mut c0 = 0;
    for dw4 in &mut cs {
        outer_cols::<T, 4>(dw4, dz, h, c0, rows, cols, batch);
        c0 += 4;
    }
    for dw1 in cs.into_remainder().chunks_exact_mut(rows) {
        outer_cols::<T, 1>(dw1, dz, h, c0, rows, cols, batch);
        c0 += 1;
    }
}

/// Columns `c0..c0 + CB` of `dW += dz·hᵀ` (`dw` holds just those columns).
#[inline(always)]
fn outer_cols<T: Real, const CB: usize>(
    dw: &mut [T],
    dz: &[T],
    h: &[T],
    c0: usize,
    rows: usize,
    cols: usize,
    batch: usize,
) {
    let mut r0 = 0;
    while r0 + 8 <= rows {
        outer_block::<T, 8, CB>(dw, dz, h, c0, r0, rows, cols, batch);
        r0 += 8;
    }
    while r0 + 4 <= rows {
        outer_block::<T, 4, CB>(dw, dz, h, c0, r0, rows, cols, batch);
        r0 += 4;
    }
    while r0 < rows {
        outer_block::<T, 1, CB>(dw, dz, h, c0, r0, rows, cols, batch);
        r0 += 1;
    }
}

/// The micro-kernel of [`acc_outer`]: rows `r0..r0 + RB` of `CB` columns of `dW`, over every
/// batch column.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn outer_block<T: Real, const RB: usize, const CB: usize>(
    dw: &mut [T],
    dz: &[T],
    h: &[T],
    c0: usize,
    r0: usize,
    rows: usize,
    cols: usize,
    batch: usize,
) {
    // The callers keep r0 + RB ≤ rows and c0 + CB ≤ cols, and the columns of `dw` and `dz`
    // have `rows` entries, those of `h` `cols`: each `block` below succeeds. (The `else`
    // branches leave; skipping the block instead measured up to 10% slower on a host.)
    let mut acc = [[T::zero(); RB]; CB];
    for (acc, dwcol) in acc.iter_mut().zip(dw.chunks_exact(rows)) {
        let Some(b) = block(dwcol, r0) else {
            return;
        };
        *acc = *b;
    }
    for (m, dzcol) in dz.chunks_exact(rows).enumerate().take(batch) {
        let (Some(d), Some(hb)) = (block::<T, RB>(dzcol, r0), block::<T, CB>(h, m * cols + c0))
        else {
            return;
        };
        for (acc, &hv) in acc.iter_mut().zip(hb) {
            for (a, &dv) in acc.iter_mut().zip(d) {
                *a += dv * hv;
            }
        }
    }
    for (acc, dwcol) in acc.iter().zip(dw.chunks_exact_mut(rows)) {
        let Some(b) = block_mut(dwcol, r0) else {
            return;
        };
        *b = *acc;
    }
}

/// `db += dz·1`: the bias gradient sums the batch columns in order.
#[inline]
pub(crate) fn acc_row_sums<T: Real, const R: usize, const M: usize>(
    db: &mut SVector<T, R>,
    dz: &SMatrix<T, R, M>,
) {
    let db = db.as_mut_slice();
    for col in dz.as_slice().chunks_exact(R.max(1)) {
        for (b, &d) in db.iter_mut().zip(col) {
            *b += d;
        }
    }
}

/// `out += Wᵀ·dz`: one dot product per output element, in the order of the module docs.
#[inline]
pub(crate) fn acc_tr_mul<T: Real, const R: usize, const C: usize, const M: usize>(
    out: &mut SMatrix<T, C, M>,
    w: &SMatrix<T, R, C>,
    dz: &SMatrix<T, R, M>,
) {
    if R == 0 || C == 0 || M == 0 {
        return;
    }
    let (out, w, dz) = (out.as_mut_slice(), w.as_slice(), dz.as_slice());
    for (ocol, dzcol) in out.chunks_exact_mut(C).zip(dz.chunks_exact(R)) {
        for (o, wcol) in ocol.iter_mut().zip(w.chunks_exact(R)) {
            *o = dot(wcol, dzcol) + *o;
        }
    }
}

/// `out += Σ_g W_gᵀ·dz_g` over `G` gates that share one input (the LSTM's four): each output
/// element is one dot product of length `G·R`, so its reduction is paid once instead of `G`
/// times, and it keeps sixteen partial sums (four independent 4-wide vectors, so the additions
/// do not wait on each other). Order: partial sums `p_k` over the rows `r ≡ k (mod 16)` of the
/// leading multiple of sixteen rows of each gate in turn (gate order); the remaining rows of
/// each gate summed in order into a separate `tail`; then `s_l = (p_l + p_{4+l}) + (p_{8+l} +
/// p_{12+l})`, `res = (((0 + s_0) + s_1) + s_2) + s_3`, and `out ← (res + tail) + out`
/// (`out ← tail + out` when `R < 16`).
#[inline]
pub(crate) fn acc_tr_mul_gates<
    T: Real,
    const G: usize,
    const R: usize,
    const C: usize,
    const M: usize,
>(
    out: &mut SMatrix<T, C, M>,
    w: [&SMatrix<T, R, C>; G],
    dz: [&SMatrix<T, R, M>; G],
) {
    if R == 0 || C == 0 || M == 0 {
        return;
    }
    tr_gates(
        out.as_mut_slice(),
        w.map(|w| w.as_slice()),
        dz.map(|d| d.as_slice()),
        R,
        C,
    );
}

/// The body of [`acc_tr_mul_gates`] on runtime sizes. Inlined on a host and on hard-float Arm,
/// where the sizes become constants again; on a bare-metal soft-float core (Cortex-M0/M3,
/// RV32IMAC), where every operation is a call, one copy per scalar type and gate count serves
/// every shape: a copy per shape does not fit in flash (measured: +32 KB over the Cortex-M3's
/// 256 KB firmware).
#[cfg_attr(all(target_os = "none", not(target_abi = "eabihf")), inline(never))]
#[cfg_attr(
    not(all(target_os = "none", not(target_abi = "eabihf"))),
    inline(always)
)]
fn tr_gates<T: Real, const G: usize>(
    out: &mut [T],
    w: [&[T]; G],
    dz: [&[T]; G],
    rows: usize,
    cols: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    for (m, ocol) in out.chunks_exact_mut(cols).enumerate() {
        for (c, o) in ocol.iter_mut().enumerate() {
            let mut q = [[T::zero(); 4]; 4];
            let mut tail = T::zero();
            for (wg, dg) in w.iter().zip(&dz) {
                // Column c of W_g (rows × cols) and column m of dz_g (rows × M), in range by
                // the callers' matrix types. Indexed, because LLVM allocates registers worse
                // for every panic-free form tried: `get` with an exit, +3.4% instructions in
                // this kernel (callgrind, N_A = 32 f32) and up to 16% slower LSTM backward
                // passes on x86-64; per-gate column iterators, up to 28% slower; `nth`, +10%
                // instructions (N_A = 64, M = 32 f32).
                #[allow(clippy::indexing_slicing)]
                let (wc, dc) = (
                    &wg[c * rows..c * rows + rows],
                    &dg[m * rows..m * rows + rows],
                );
                let (w16, d16) = (wc.chunks_exact(16), dc.chunks_exact(16));
                for (&wv, &dv) in w16.remainder().iter().zip(d16.remainder()) {
                    tail += wv * dv;
                }
                for (wc, dc) in w16.zip(d16) {
                    for ((q, w4), d4) in
                        q.iter_mut().zip(wc.chunks_exact(4)).zip(dc.chunks_exact(4))
                    {
                        for ((a, &wv), &dv) in q.iter_mut().zip(w4).zip(d4) {
                            *a += wv * dv;
                        }
                    }
                }
            }
            if rows < 16 {
                // No partial sums: the whole dot product is the tail.
                *o = tail + *o;
                continue;
            }
            // s_l = (p_l + p_{4+l}) + (p_{8+l} + p_{12+l}).
            let [mut s, q1, q2, q3] = q;
            for (((s, q1), q2), q3) in s.iter_mut().zip(q1).zip(q2).zip(q3) {
                *s = (*s + q1) + (q2 + q3);
            }
            // The barrier of [`dot`], for the same reason.
            let s = core::hint::black_box(s);
            let mut res = T::zero();
            for v in s {
                res += v;
            }
            *o = (res + tail) + *o;
        }
    }
}

/// `⟨w, d⟩` in nalgebra's order (module docs): eight partial sums, then the remainder.
#[inline(always)]
fn dot<T: Real>(w: &[T], d: &[T]) -> T {
    match (w, d) {
        // nalgebra's special cases for short vectors.
        ([w0, w1], [d0, d1, ..]) => *w0 * *d0 + *w1 * *d1,
        ([w0, w1, w2], [d0, d1, d2, ..]) => *w0 * *d0 + *w1 * *d1 + *w2 * *d2,
        ([w0, w1, w2, w3], [d0, d1, d2, d3, ..]) => {
            (*w0 * *d0 + *w2 * *d2) + (*w1 * *d1 + *w3 * *d3)
        }
        _ => {
            // Partial sums p0..p3 in `lo`, p4..p7 in `hi`: two 4-wide vectors.
            let (mut lo, mut hi) = ([T::zero(); 4], [T::zero(); 4]);
            let (w8, d8) = (w.chunks_exact(8), d.chunks_exact(8));
            let (wr, dr) = (w8.remainder(), d8.remainder());
            for (wc, dc) in w8.zip(d8) {
                let ((wl, wh), (dl, dh)) = (wc.split_at(4), dc.split_at(4));
                for ((a, &wv), &dv) in lo.iter_mut().zip(wl).zip(dl) {
                    *a += wv * dv;
                }
                for ((a, &wv), &dv) in hi.iter_mut().zip(wh).zip(dh) {
                    *a += wv * dv;
                }
            }
            let ([l0, l1, l2, l3], [h0, h1, h2, h3]) = (lo, hi);
            let pairs = [l0 + h0, l1 + h1, l2 + h2, l3 + h3];
            // The barrier keeps the eight partial sums in two 4-wide vectors. Without it, LLVM
            // fuses the sequential sum below into the loop and vectorises that loop two
            // lanes wide, at half the speed (measured on x86-64 SSE2). It changes no value.
            let pairs = core::hint::black_box(pairs);
            let mut res = T::zero();
            for p in pairs {
                res += p;
            }
            for (&wv, &dv) in wr.iter().zip(dr) {
                res += wv * dv;
            }
            res
        }
    }
}

/// `dWa += dz·aᵀ`, `dWx += dz·xᵀ`, `db += dz·1` (the weight gradients of [`affine`]).
#[inline]
pub(crate) fn acc_param_grads<
    T: Real,
    const R: usize,
    const N_A: usize,
    const N_X: usize,
    const M: usize,
>(
    dwa: &mut SMatrix<T, R, N_A>,
    dwx: &mut SMatrix<T, R, N_X>,
    db: &mut SVector<T, R>,
    dz: &SMatrix<T, R, M>,
    a: &SMatrix<T, N_A, M>,
    x: &SMatrix<T, N_X, M>,
) {
    acc_outer(dwa, dz, a);
    acc_outer(dwx, dz, x);
    acc_row_sums(db, dz);
}

/// Weight gradients of an affine map at batch size one, deferred over up to `K` time steps and
/// added as one rank-`K` product ([`acc_param_grads`] per step would read and write every
/// `dW` once per step; this does it once per `K` steps, with the products register-tiled).
/// The sums run in the order the steps were pushed, so the result equals, bit for bit, calling
/// [`acc_param_grads`] after each step. Costs `s·K·(G·R + N_A + N_X)` bytes of stack for `G`
/// gates (`K = 8`: 5.6 KB for an `f32` LSTM with `N_A = 32`, `N_X = 16`).
pub(crate) struct GradBuffer<
    T,
    const G: usize,
    const R: usize,
    const N_A: usize,
    const N_X: usize,
    const K: usize,
> {
    dz: [SMatrix<T, R, K>; G],
    a: SMatrix<T, N_A, K>,
    x: SMatrix<T, N_X, K>,
    n: usize,
}

/// One gate's weight gradients `(dWa, dWx, db)`, borrowed, for [`GradBuffer::flush`].
pub(crate) type GateGradsMut<'a, T, const R: usize, const N_A: usize, const N_X: usize> = (
    &'a mut SMatrix<T, R, N_A>,
    &'a mut SMatrix<T, R, N_X>,
    &'a mut SVector<T, R>,
);

impl<
        T: Real,
        const G: usize,
        const R: usize,
        const N_A: usize,
        const N_X: usize,
        const K: usize,
    > GradBuffer<T, G, R, N_A, N_X, K>
{
    /// An empty buffer.
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            dz: [SMatrix::zeros(); G],
            a: SMatrix::zeros(),
            x: SMatrix::zeros(),
            n: 0,
        }
    }

    /// Records one step's `dz` (per gate) and inputs `a`, `x` (single columns: batch size
    /// one); flushes into `dw` when full.
    #[inline]
    pub(crate) fn push(
        &mut self,
        dz: [&[T]; G],
        a: &[T],
        x: &[T],
        dw: [GateGradsMut<'_, T, R, N_A, N_X>; G],
    ) {
        if K == 0 {
            return;
        }
        let k = self.n.min(K - 1);
        // Column k < K of each buffer (a matrix's storage is its array of columns).
        for (buf, dz) in self.dz.iter_mut().zip(dz) {
            if let Some(col) = buf.data.0.get_mut(k) {
                copy_into(col, dz);
            }
        }
        if let Some(col) = self.a.data.0.get_mut(k) {
            copy_into(col, a);
        }
        if let Some(col) = self.x.data.0.get_mut(k) {
            copy_into(col, x);
        }
        self.n = k + 1;
        if self.n == K {
            self.flush(dw);
        }
    }

    /// Adds the recorded steps into `dw` and empties the buffer.
    #[inline]
    pub(crate) fn flush(&mut self, dw: [GateGradsMut<'_, T, R, N_A, N_X>; G]) {
        let n = self.n;
        for ((dwa, dwx, db), dz) in dw.into_iter().zip(&self.dz) {
            acc_outer_first(dwa, dz, &self.a, n);
            acc_outer_first(dwx, dz, &self.x, n);
            for col in dz.as_slice().chunks_exact(R.max(1)).take(n) {
                for (b, &d) in db.as_mut_slice().iter_mut().zip(col) {
                    *b += d;
                }
            }
        }
        self.n = 0;
    }
}

/// `dst ← src` over their common length (callers pass equal lengths).
#[inline(always)]
fn copy_into<T: Copy>(dst: &mut [T], src: &[T]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// `da += Waᵀ·dz`, `dx += Wxᵀ·dz` (the input gradients of [`affine`]).
#[inline]
pub(crate) fn acc_input_grads<
    T: Real,
    const R: usize,
    const N_A: usize,
    const N_X: usize,
    const M: usize,
>(
    da: &mut SMatrix<T, N_A, M>,
    dx: &mut SMatrix<T, N_X, M>,
    wa: &SMatrix<T, R, N_A>,
    wx: &SMatrix<T, R, N_X>,
    dz: &SMatrix<T, R, M>,
) {
    acc_tr_mul(da, wa, dz);
    acc_tr_mul(dx, wx, dz);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::SMatrix;

    /// Deterministic values with full mantissas, so that any change of summation order shows.
    fn m<T: Real, const R: usize, const C: usize>(seed: u64) -> SMatrix<T, R, C> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        SMatrix::from_fn(|_, _| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::unit_from_bits(s) * T::lit(2.0) - T::one()
        })
    }

    /// Every kernel against nalgebra's own `gemm`, `gemm_tr` and `ger`: equal bits.
    fn check<T: Real, const R: usize, const C: usize, const M: usize>() {
        let (w, x, dz) = (m::<T, R, C>(1), m::<T, C, M>(2), m::<T, R, M>(3));
        let b = m::<T, R, 1>(4);

        let mut z = m::<T, R, M>(5);
        let mut want = z;
        gemm_acc(&mut z, &w, &x);
        want.gemm(T::one(), &w, &x, T::one());
        assert_eq!(z, want, "gemm_acc {R}x{C}x{M}");

        let mut y = m::<T, R, M>(6);
        head(&mut y, &w, &x, &b);
        let mut want = SMatrix::<T, R, M>::from_fn(|r, _| b[r]);
        want.gemm(T::one(), &w, &x, T::one());
        assert_eq!(y, want, "head {R}x{C}x{M}");

        let mut zs = [
            m::<T, R, M>(11),
            m::<T, R, M>(12),
            m::<T, R, M>(13),
            m::<T, R, M>(14),
        ];
        let xs = [x, m::<T, C, M>(15), m::<T, C, M>(16), m::<T, C, M>(17)];
        let [z0, z1, z2, z3] = &mut zs;
        head_steps([z0, z1, z2, z3], &w, [&xs[0], &xs[1], &xs[2], &xs[3]], &b);
        for (z, x) in zs.iter().zip(&xs) {
            let mut want = SMatrix::<T, R, M>::zeros();
            head(&mut want, &w, x, &b);
            assert_eq!(*z, want, "head_steps {R}x{C}x{M}");
        }

        let mut out = m::<T, C, M>(7);
        let mut want = out;
        acc_tr_mul(&mut out, &w, &dz);
        want.gemm_tr(T::one(), &w, &dz, T::one());
        assert_eq!(out, want, "acc_tr_mul {R}x{C}x{M}");

        let mut dw = m::<T, R, C>(8);
        let mut want = dw;
        acc_outer(&mut dw, &dz, &x);
        for (dzj, xj) in dz.column_iter().zip(x.column_iter()) {
            want.ger(T::one(), &dzj, &xj, T::one());
        }
        assert_eq!(dw, want, "acc_outer {R}x{C}x{M}");

        let mut db = m::<T, R, 1>(9);
        let mut want = db;
        acc_row_sums(&mut db, &dz);
        for dzj in dz.column_iter() {
            want += dzj;
        }
        assert_eq!(db, want, "acc_row_sums {R}x{M}");
    }

    /// [`acc_tr_mul_gates`] against a scalar rendering of its documented order (bit for bit)
    /// and against the sum of plain products (to rounding).
    fn check_gates<T: Real, const R: usize, const C: usize, const M: usize>() {
        let w = [m::<T, R, C>(21), m::<T, R, C>(22), m::<T, R, C>(23)];
        let dz = [m::<T, R, M>(24), m::<T, R, M>(25), m::<T, R, M>(26)];
        let out0 = m::<T, C, M>(27);
        let mut out = out0;
        acc_tr_mul_gates(&mut out, [&w[0], &w[1], &w[2]], [&dz[0], &dz[1], &dz[2]]);
        let full = R - R % 16;
        for mm in 0..M {
            for c in 0..C {
                let mut p = [T::zero(); 16];
                let mut tail = T::zero();
                for g in 0..3 {
                    for r in full..R {
                        tail += w[g][(r, c)] * dz[g][(r, mm)];
                    }
                    for r in 0..full {
                        p[r % 16] += w[g][(r, c)] * dz[g][(r, mm)];
                    }
                }
                if R < 16 {
                    assert_eq!(out[(c, mm)], tail + out0[(c, mm)], "gates {R}x{C}x{M}");
                    continue;
                }
                let mut res = T::zero();
                for l in 0..4 {
                    res += (p[l] + p[4 + l]) + (p[8 + l] + p[12 + l]);
                }
                assert_eq!(
                    out[(c, mm)],
                    (res + tail) + out0[(c, mm)],
                    "gates {R}x{C}x{M}"
                );
                let plain = (0..3).fold(T::zero(), |s, g| s + (w[g].transpose() * dz[g])[(c, mm)]);
                let err = (out[(c, mm)] - out0[(c, mm)] - plain).abs();
                assert!(err <= T::lit(64.0) * T::EPS * T::lit(R as f64), "{err}");
            }
        }
    }

    /// [`GradBuffer`] equals updating after every step, bit for bit, for every number of steps
    /// around its flushes.
    fn check_buffer<T: Real, const R: usize, const N_A: usize, const N_X: usize>() {
        for steps in 0..20_u64 {
            let (mut wa, mut wx, mut b) = (m::<T, R, N_A>(1), m::<T, R, N_X>(2), m::<T, R, 1>(3));
            let (mut wa2, mut wx2, mut b2) = (wa, wx, b);
            let mut buffer = GradBuffer::<T, 1, R, N_A, N_X, 8>::new();
            for t in 0..steps {
                let (dz, a, x) = (
                    m::<T, R, 1>(10 + t),
                    m::<T, N_A, 1>(40 + t),
                    m::<T, N_X, 1>(70 + t),
                );
                acc_param_grads(&mut wa, &mut wx, &mut b, &dz, &a, &x);
                let dw = [(&mut wa2, &mut wx2, &mut b2)];
                buffer.push([dz.as_slice()], a.as_slice(), x.as_slice(), dw);
            }
            buffer.flush([(&mut wa2, &mut wx2, &mut b2)]);
            assert_eq!(
                (wa, wx, b),
                (wa2, wx2, b2),
                "{steps} steps, {R}x{N_A}+{N_X}"
            );
        }
    }

    #[test]
    fn deferred_weight_gradients_equal_per_step_updates() {
        check_buffer::<f32, 32, 32, 16>();
        check_buffer::<f32, 5, 5, 3>();
        check_buffer::<f64, 13, 7, 9>();
    }

    #[test]
    fn gate_fused_transposed_product_follows_its_order() {
        check_gates::<f32, 5, 3, 10>();
        check_gates::<f32, 32, 16, 1>();
        check_gates::<f32, 37, 9, 3>();
        check_gates::<f32, 64, 32, 4>();
        check_gates::<f64, 8, 4, 2>();
        check_gates::<f64, 70, 5, 1>();
    }

    macro_rules! shapes {
        ($t:ty; $(($r:literal, $c:literal, $m:literal)),* $(,)?) => {
            $(check::<$t, $r, $c, $m>();)*
        };
    }

    fn all_shapes<T: Real>() {
        shapes!(T;
            (1, 1, 1), (2, 3, 1), (3, 2, 2), (4, 5, 3), (4, 4, 4), (5, 3, 10), (5, 8, 10),
            (7, 9, 5), (8, 8, 1), (9, 7, 6), (12, 16, 1), (13, 17, 9), (16, 1, 1), (17, 33, 2),
            (20, 6, 4), (31, 15, 1), (32, 16, 1), (32, 32, 1), (33, 31, 3), (40, 12, 7),
            (64, 32, 5), (128, 64, 1), (2, 40, 8), (3, 25, 1), (4, 19, 2),
        );
    }

    #[test]
    fn kernels_equal_nalgebra_bit_for_bit_f32() {
        all_shapes::<f32>();
    }

    #[test]
    fn kernels_equal_nalgebra_bit_for_bit_f64() {
        all_shapes::<f64>();
    }

    #[test]
    fn affine_is_head_plus_input_product() {
        let (wa, wx, b) = (m::<f64, 6, 5>(1), m::<f64, 6, 3>(2), m::<f64, 6, 1>(3));
        let (a, x) = (m::<f64, 5, 4>(4), m::<f64, 3, 4>(5));
        let ones = SMatrix::<f64, 1, 4>::repeat(1.0);
        let mut z = m::<f64, 6, 4>(7); // overwritten
        affine(&mut z, &wa, &a, &wx, &x, &b);
        assert!((z - (wa * a + wx * x + b * ones)).abs().max() < 1e-12);
        let (mut da, mut dx, dz) = (m::<f64, 5, 4>(8), m::<f64, 3, 4>(9), m::<f64, 6, 4>(10));
        let (da0, dx0) = (da, dx);
        acc_input_grads(&mut da, &mut dx, &wa, &wx, &dz);
        assert!((da - (da0 + wa.transpose() * dz)).abs().max() < 1e-12);
        assert!((dx - (dx0 + wx.transpose() * dz)).abs().max() < 1e-12);
        let (mut dwa, mut dwx, mut db) = (m::<f64, 6, 5>(11), m::<f64, 6, 3>(12), b);
        let (dwa0, dwx0, db0) = (dwa, dwx, db);
        acc_param_grads(&mut dwa, &mut dwx, &mut db, &dz, &a, &x);
        assert!((dwa - (dwa0 + dz * a.transpose())).abs().max() < 1e-12);
        assert!((dwx - (dwx0 + dz * x.transpose())).abs().max() < 1e-12);
        assert!((db - (db0 + dz * ones.transpose())).abs().max() < 1e-12);
    }
}
