//! The shared linear-algebra kernels every cell calls.
//!
//! A cell's heavy math is three operations on an affine map `z = Wa·a + Wx·x + b·1ᵀ` (the RNN's
//! single pre-activation and each of the LSTM's four gates have this form):
//!
//! - [`affine`] — the forward pre-activation;
//! - [`acc_param_grads`] — `dWa += dz·aᵀ`, `dWx += dz·xᵀ`, `db += dz·1` (weight gradients,
//!   accumulated in place so that summing over time steps and mini-batches is free);
//! - [`acc_input_grads`] — `da += Waᵀ·dz`, `dx += Wxᵀ·dz` (gradients flowing back to the
//!   inputs and the previous state).
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
//! order of nalgebra's `gemm`, `gemm_tr` and `ger` on fixed-size matrices, so results are
//! bit-identical to the straightforward nalgebra code they replace, on every target:
//!
//! - `W·X` ([`affine`], [`head`]): `z[r, m] ← (…((z[r, m] + W[r, 0]·X[0, m]) + W[r, 1]·X[1, m]) + …)`,
//!   in column order; blocks span rows and batch columns only.
//! - `Wᵀ·dz` ([`acc_tr_mul`]): each dot product `Σ_r W[r, c]·dz[r, m]` keeps eight partial
//!   sums `p_k` over the rows `r ≡ k (mod 8)` of the leading multiple of eight, then forms
//!   `(((0 + (p0 + p4)) + (p1 + p5)) + (p2 + p6)) + (p3 + p7)` and adds the remaining rows in
//!   order (with nalgebra's special cases for two, three and four rows), and finally adds it to
//!   the output.
//! - `dz·hᵀ` ([`acc_outer`]) and `dz·1` ([`acc_row_sums`]): batch columns in order.
//!
//! No fused multiply-add is used anywhere, so the host and every microcontroller produce the
//! same bits.

use crate::Real;
use nalgebra::{SMatrix, SVector};

/// `z ← Wa·a + Wx·x + b·1ᵀ` (the bias broadcast over the `M` batch columns).
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
    head(z, wa, a, b);
    gemm_acc(z, wx, x);
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

/// `z += W·X`, column order (see the module docs).
#[inline]
pub(crate) fn gemm_acc<T: Real, const R: usize, const C: usize, const M: usize>(
    z: &mut SMatrix<T, R, M>,
    w: &SMatrix<T, R, C>,
    x: &SMatrix<T, C, M>,
) {
    if R == 0 || C == 0 || M == 0 {
        return;
    }
    let (z, w, x) = (z.as_mut_slice(), w.as_slice(), x.as_slice());
    // Batch columns four at a time: each weight loaded once serves four columns.
    let mut zc = z.chunks_exact_mut(4 * R);
    let mut xc = x.chunks_exact(4 * C);
    for (z4, x4) in (&mut zc).zip(&mut xc) {
        gemm_cols::<T, 4>(z4, w, x4, R, C);
    }
    for (z1, x1) in zc
        .into_remainder()
        .chunks_exact_mut(R)
        .zip(xc.remainder().chunks_exact(C))
    {
        gemm_cols::<T, 1>(z1, w, x1, R, C);
    }
}

/// `z += W·X` for `MB` batch columns (`z`: `MB` columns of `rows`, `x`: `MB` columns of
/// `cols`), by row blocks.
#[inline(always)]
fn gemm_cols<T: Real, const MB: usize>(
    z: &mut [T],
    w: &[T],
    x: &[T],
    rows: usize,
    cols: usize,
) {
    let mut r0 = 0;
    if MB == 1 {
        // One column: the accumulators are only the rows, so take many at once.
        if core::mem::size_of::<T>() <= 4 {
            while r0 + 32 <= rows {
                gemm_block::<T, 32, MB>(z, w, x, r0, rows, cols);
                r0 += 32;
            }
        }
        while r0 + 16 <= rows {
            gemm_block::<T, 16, MB>(z, w, x, r0, rows, cols);
            r0 += 16;
        }
    } else {
        while r0 + 8 <= rows {
            gemm_block::<T, 8, MB>(z, w, x, r0, rows, cols);
            r0 += 8;
        }
    }
    while r0 + 4 <= rows {
        gemm_block::<T, 4, MB>(z, w, x, r0, rows, cols);
        r0 += 4;
    }
    while r0 < rows {
        gemm_block::<T, 1, MB>(z, w, x, r0, rows, cols);
        r0 += 1;
    }
}

/// The micro-kernel: rows `r0..r0 + RB` of `MB` batch columns, accumulated in registers over
/// every column of `W`.
#[inline(always)]
fn gemm_block<T: Real, const RB: usize, const MB: usize>(
    z: &mut [T],
    w: &[T],
    x: &[T],
    r0: usize,
    rows: usize,
    cols: usize,
) {
    let mut acc = [[T::zero(); RB]; MB];
    for (j, acc) in acc.iter_mut().enumerate() {
        acc.copy_from_slice(&z[j * rows + r0..j * rows + r0 + RB]);
    }
    for (c, wcol) in w.chunks_exact(rows).enumerate().take(cols) {
        let wb = &wcol[r0..r0 + RB];
        for (j, acc) in acc.iter_mut().enumerate() {
            let xv = x[j * cols + c];
            for (a, &wv) in acc.iter_mut().zip(wb) {
                *a += wv * xv;
            }
        }
    }
    for (j, acc) in acc.iter().enumerate() {
        z[j * rows + r0..j * rows + r0 + RB].copy_from_slice(acc);
    }
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
    // Four columns of dW at a time share every load of dz.
    let mut cols = dw.chunks_exact_mut(4 * R);
    let mut c0 = 0;
    for dw4 in &mut cols {
        outer_cols::<T, 4>(dw4, dz, h, c0, R, C, M);
        c0 += 4;
    }
    for dw1 in cols.into_remainder().chunks_exact_mut(R) {
        outer_cols::<T, 1>(dw1, dz, h, c0, R, C, M);
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
    let mut acc = [[T::zero(); RB]; CB];
    for (k, acc) in acc.iter_mut().enumerate() {
        acc.copy_from_slice(&dw[k * rows + r0..k * rows + r0 + RB]);
    }
    for (m, dzcol) in dz.chunks_exact(rows).enumerate().take(batch) {
        let d = &dzcol[r0..r0 + RB];
        for (k, acc) in acc.iter_mut().enumerate() {
            let hv = h[m * cols + c0 + k];
            for (a, &dv) in acc.iter_mut().zip(d) {
                *a += dv * hv;
            }
        }
    }
    for (k, acc) in acc.iter().enumerate() {
        dw[k * rows + r0..k * rows + r0 + RB].copy_from_slice(acc);
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
            let pairs: [T; 4] = core::array::from_fn(|k| lo[k] + hi[k]);
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
