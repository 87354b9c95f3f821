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
    let x = x.as_slice();
    for (col, a) in w_t.as_slice().chunks_exact(K.max(1)).zip(acc.iter_mut()) {
        let mut s = 0i32;
        for (&w, &xv) in col.iter().zip(x) {
            s = s.wrapping_add(w as i32 * xv as i32);
        }
        *a = a.wrapping_add(s);
    }
}
