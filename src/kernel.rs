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
//! backward pass uses ([`acc_outer`], [`acc_row_sums`], [`acc_tr_mul`]). Keeping them here means a faster
//! implementation (blocked loops, SIMD, a fused gate layout) changes this file only.
//! Everything accumulates into caller-provided storage: no temporaries, no transposes.

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
    z.gemm(T::one(), wx, x, T::one());
}

/// `z ← W·a + b·1ᵀ` (the output layer's logits).
#[inline]
pub(crate) fn head<T: Real, const R: usize, const N_A: usize, const M: usize>(
    z: &mut SMatrix<T, R, M>,
    w: &SMatrix<T, R, N_A>,
    a: &SMatrix<T, N_A, M>,
    b: &SVector<T, R>,
) {
    for mut col in z.column_iter_mut() {
        col.copy_from(b);
    }
    z.gemm(T::one(), w, a, T::one());
}

/// `dW += dz·hᵀ`: one rank-1 update per batch column, accumulated in place.
#[inline]
pub(crate) fn acc_outer<T: Real, const R: usize, const C: usize, const M: usize>(
    dw: &mut SMatrix<T, R, C>,
    dz: &SMatrix<T, R, M>,
    h: &SMatrix<T, C, M>,
) {
    for (dzj, hj) in dz.column_iter().zip(h.column_iter()) {
        dw.ger(T::one(), &dzj, &hj, T::one());
    }
}

/// `db += dz·1`: the bias gradient sums the batch columns.
#[inline]
pub(crate) fn acc_row_sums<T: Real, const R: usize, const M: usize>(
    db: &mut SVector<T, R>,
    dz: &SMatrix<T, R, M>,
) {
    for dzj in dz.column_iter() {
        *db += dzj;
    }
}

/// `out += Wᵀ·dz`.
#[inline]
pub(crate) fn acc_tr_mul<T: Real, const R: usize, const C: usize, const M: usize>(
    out: &mut SMatrix<T, C, M>,
    w: &SMatrix<T, R, C>,
    dz: &SMatrix<T, R, M>,
) {
    out.gemm_tr(T::one(), w, dz, T::one());
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

    fn m<const R: usize, const C: usize>(seed: usize) -> SMatrix<f64, R, C> {
        SMatrix::from_fn(|r, c| ((r * 7 + c * 13 + seed * 31) % 17) as f64 / 8.0 - 1.0)
    }

    #[test]
    fn kernels_match_plain_matrix_algebra() {
        let (wa, wx, b) = (m::<4, 3>(1), m::<4, 2>(2), m::<4, 1>(3));
        let (a, x, dz) = (m::<3, 5>(4), m::<2, 5>(5), m::<4, 5>(6));
        let ones = SMatrix::<f64, 1, 5>::repeat(1.0);

        let mut z = m::<4, 5>(7); // overwritten
        affine(&mut z, &wa, &a, &wx, &x, &b);
        assert!((z - (wa * a + wx * x + b * ones)).abs().max() < 1e-12);

        let mut y = m::<4, 5>(8);
        head(&mut y, &wa, &a, &b);
        assert!((y - (wa * a + b * ones)).abs().max() < 1e-12);

        let (mut dwa, mut dwx, mut db) = (m::<4, 3>(9), m::<4, 2>(10), m::<4, 1>(11));
        let (dwa0, dwx0, db0) = (dwa, dwx, db);
        acc_param_grads(&mut dwa, &mut dwx, &mut db, &dz, &a, &x);
        assert!((dwa - (dwa0 + dz * a.transpose())).abs().max() < 1e-12);
        assert!((dwx - (dwx0 + dz * x.transpose())).abs().max() < 1e-12);
        assert!((db - (db0 + dz * ones.transpose())).abs().max() < 1e-12);

        let (mut da, mut dx) = (m::<3, 5>(12), m::<2, 5>(13));
        let (da0, dx0) = (da, dx);
        acc_input_grads(&mut da, &mut dx, &wa, &wx, &dz);
        assert!((da - (da0 + wa.transpose() * dz)).abs().max() < 1e-12);
        assert!((dx - (dx0 + wx.transpose() * dz)).abs().max() < 1e-12);
    }
}
