//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod fd;
pub mod flat;
pub mod grads;

use nalgebra::SMatrix;
use tinyrnn::Real;

/// A `(R, C)` fixture array (`[[f64; C]; R]`, row `r` is numpy's `a[r]`) as a matrix.
pub fn mat<T: Real, const R: usize, const C: usize>(a: &[[f64; C]; R]) -> SMatrix<T, R, C> {
    SMatrix::from_fn(|r, c| T::lit(a[r][c]))
}

/// A `(T_X, R, C)` fixture sequence (numpy's `(R, C, T_X)` transposed) as an array of matrices.
pub fn seq<T: Real, const R: usize, const C: usize, const T_X: usize>(
    a: &[[[f64; C]; R]; T_X],
) -> [SMatrix<T, R, C>; T_X] {
    core::array::from_fn(|t| mat(&a[t]))
}

/// Elementwise `|got - want| ≤ tol · max(1, |want|)`; panics with the worst element otherwise.
pub fn assert_close<T: Real, const R: usize, const C: usize>(
    what: &str,
    got: &SMatrix<T, R, C>,
    want: &[[f64; C]; R],
    tol: f64,
) {
    let mut worst = (0.0_f64, 0, 0); // NaN counts as the worst error
    for r in 0..R {
        for c in 0..C {
            let (g, w) = (got[(r, c)].as_f64(), want[r][c]);
            let err = (g - w).abs() / w.abs().max(1.0);
            if err.is_nan() || err > worst.0 {
                worst = (err, r, c);
            }
        }
    }
    let (err, r, c) = worst;
    assert!(
        err <= tol,
        "{what}: element ({r}, {c}) is {} but the reference is {} (scaled error {err:.3e} > {tol:.0e})",
        got[(r, c)],
        want[r][c]
    );
}

/// [`assert_close`] for every step of a sequence.
pub fn assert_close_seq<T: Real, const R: usize, const C: usize, const T_X: usize>(
    what: &str,
    got: &[SMatrix<T, R, C>; T_X],
    want: &[[[f64; C]; R]; T_X],
    tol: f64,
) {
    for t in 0..T_X {
        assert_close(&format!("{what}[t={t}]"), &got[t], &want[t], tol);
    }
}

/// A small deterministic generator (SplitMix64) for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[-scale, scale)`.
    pub fn uniform(&mut self, scale: f64) -> f64 {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
    }
    pub fn fill<T: Real>(&mut self, s: &mut [T], scale: f64) {
        for v in s {
            *v = T::lit(self.uniform(scale));
        }
    }
    pub fn matrix<T: Real, const R: usize, const C: usize>(
        &mut self,
        scale: f64,
    ) -> SMatrix<T, R, C> {
        let mut m = SMatrix::<T, R, C>::zeros();
        self.fill(m.as_mut_slice(), scale);
        m
    }
    pub fn seq<T: Real, const R: usize, const C: usize, const T_X: usize>(
        &mut self,
        scale: f64,
    ) -> [SMatrix<T, R, C>; T_X] {
        core::array::from_fn(|_| self.matrix(scale))
    }
}
