//! Activations, their derivatives, and the per-column softmax.
//!
//! Every cell calls these few functions, so a faster implementation (a vectorised rational
//! `tanh`, say) changes one place. Derivatives are written in terms of the activation's
//! *output*, which the forward pass has already stored:
//! `σ'(z) = s (1 - s)` with `s = σ(z)`, and `tanh'(z) = 1 - y²` with `y = tanh(z)`.

use crate::Real;
use nalgebra::SMatrix;

/// Applies the logistic function elementwise in place: `z ← σ(z) = 1 / (1 + e^{-z})`.
///
/// Uses [`Real::sigmoid`], which never overflows.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::sigmoid_in_place;
///
/// let mut z = SMatrix::<f32, 1, 3>::new(-1000.0, 0.0, 1000.0);
/// sigmoid_in_place(&mut z);
/// assert_eq!(z, SMatrix::<f32, 1, 3>::new(0.0, 0.5, 1.0));
/// ```
#[inline]
pub fn sigmoid_in_place<T: Real, const R: usize, const C: usize>(z: &mut SMatrix<T, R, C>) {
    for v in z.iter_mut() {
        *v = v.sigmoid();
    }
}

/// Applies `tanh` elementwise in place: `z ← tanh(z)`.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::tanh_in_place;
///
/// let mut z = SMatrix::<f64, 2, 1>::new(0.0, 1.0e6);
/// tanh_in_place(&mut z);
/// assert_eq!(z, SMatrix::<f64, 2, 1>::new(0.0, 1.0));
/// ```
#[inline]
pub fn tanh_in_place<T: Real, const R: usize, const C: usize>(z: &mut SMatrix<T, R, C>) {
    for v in z.iter_mut() {
        *v = v.tanh_libm();
    }
}

/// The derivative of the logistic function from its output: `σ'(z) = s (1 - s)`, `s = σ(z)`.
///
/// # Example
/// ```
/// use tinyrnn::activation::sigmoid_grad_from_output;
/// assert_eq!(sigmoid_grad_from_output(0.5_f64), 0.25);
/// ```
#[inline(always)]
pub fn sigmoid_grad_from_output<T: Real>(s: T) -> T {
    s * (T::one() - s)
}

/// The derivative of `tanh` from its output: `tanh'(z) = 1 - y²`, `y = tanh(z)`.
///
/// # Example
/// ```
/// use tinyrnn::activation::tanh_grad_from_output;
/// assert_eq!(tanh_grad_from_output(0.0_f32), 1.0);
/// assert_eq!(tanh_grad_from_output(1.0_f32), 0.0);
/// ```
#[inline(always)]
pub fn tanh_grad_from_output<T: Real>(y: T) -> T {
    T::one() - y * y
}

/// Softmax of each column, in place: `y[k, j] = e^{z[k, j] - m_j} / Σ_k e^{z[k, j] - m_j}`,
/// where `m_j` is column `j`'s own maximum.
///
/// Subtracting each column's maximum (not the whole matrix's, as the seed notebooks do) keeps
/// every column exact even when the columns' scales differ by hundreds: no `0/0`.
///
/// Edge cases, per column: a NaN anywhere makes the whole column NaN; if some entries are `+∞`
/// they share the probability mass equally (the limit of the softmax); if every entry is `-∞`
/// the column is uniform (the softmax of equal values).
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::softmax_columns_in_place;
///
/// // Column 0 is ordinary; column 1 sits 1000 below column 0 and would underflow to 0/0
/// // with a whole-matrix maximum.
/// let mut z = SMatrix::<f64, 2, 2>::new(0.0, -1000.0,
///                                       0.0, -1001.0);
/// softmax_columns_in_place(&mut z);
/// assert_eq!(z[(0, 0)], 0.5);
/// assert!((z[(0, 1)] - 1.0 / (1.0 + (-1.0_f64).exp())).abs() < 1e-15);
/// assert!((z.column(1).sum() - 1.0).abs() < 1e-15);
/// ```
pub fn softmax_columns_in_place<T: Real, const R: usize, const C: usize>(z: &mut SMatrix<T, R, C>) {
    for mut col in z.column_iter_mut() {
        let mut max = T::NEG_INFINITY;
        let mut nan = false;
        for &v in col.iter() {
            if v.is_nan() {
                nan = true;
            } else if v > max {
                max = v;
            }
        }
        if nan {
            col.fill(T::NAN);
            continue;
        }
        if max == T::INFINITY || max == T::NEG_INFINITY {
            // All mass on the +∞ entries, or uniform over an all -∞ column.
            let count = col.iter().filter(|&&v| v == max).count();
            let share = T::one() / T::lit(count as f64);
            for v in col.iter_mut() {
                *v = if *v == max { share } else { T::zero() };
            }
            continue;
        }
        let mut sum = T::zero();
        for v in col.iter_mut() {
            *v = (*v - max).exp_libm();
            sum += *v;
        }
        // sum ≥ 1 because the maximum contributes e^0 = 1.
        let inv = T::one() / sum;
        for v in col.iter_mut() {
            *v *= inv;
        }
    }
}

/// Softmax of each column, by value. See [`softmax_columns_in_place`].
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::activation::softmax_columns;
///
/// let y = softmax_columns(&SMatrix::<f32, 3, 1>::new(1.0, 1.0, 1.0));
/// assert!((y[0] - 1.0 / 3.0).abs() < 1e-7);
/// ```
#[inline]
pub fn softmax_columns<T: Real, const R: usize, const C: usize>(
    z: &SMatrix<T, R, C>,
) -> SMatrix<T, R, C> {
    let mut y = *z;
    softmax_columns_in_place(&mut y);
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! gen_tests {
        ($($name:ident: $t:ty),*) => {$(
            mod $name {
                use super::*;
                type T = $t;

                #[test]
                fn softmax_columns_sum_to_one_and_match_definition() {
                    let z = SMatrix::<T, 3, 2>::new(1.0, -2.0, 0.5, 40.0, -3.0, 41.0);
                    let y = softmax_columns(&z);
                    for j in 0..2 {
                        let s: f64 = (0..3).map(|k| z[(k, j)].as_f64().exp()).sum();
                        for k in 0..3 {
                            let want = z[(k, j)].as_f64().exp() / s;
                            assert!((y[(k, j)].as_f64() - want).abs() < 4.0 * T::EPS.as_f64());
                        }
                    }
                }

                #[test]
                fn softmax_columns_far_apart_do_not_underflow() {
                    let z = SMatrix::<T, 2, 2>::new(0.0, -5000.0, 1.0, -5001.0);
                    let y = softmax_columns(&z);
                    assert!(y.iter().all(|v| v.is_finite()));
                    // Column 1 is column 0 shifted by -5000 and flipped.
                    assert!((y[(0, 1)] - y[(1, 0)]).abs() < 4.0 * T::EPS);
                }

                #[test]
                fn softmax_edge_cases() {
                    let y = softmax_columns(&SMatrix::<T, 3, 1>::new(T::INFINITY, 0.0, T::INFINITY));
                    assert_eq!(y, SMatrix::<T, 3, 1>::new(0.5, 0.0, 0.5));
                    let y = softmax_columns(&SMatrix::<T, 2, 1>::new(T::NEG_INFINITY, T::NEG_INFINITY));
                    assert_eq!(y, SMatrix::<T, 2, 1>::new(0.5, 0.5));
                    let y = softmax_columns(&SMatrix::<T, 2, 1>::new(T::NEG_INFINITY, 3.0));
                    assert_eq!(y, SMatrix::<T, 2, 1>::new(0.0, 1.0));
                    let y = softmax_columns(&SMatrix::<T, 2, 2>::new(T::NAN, 1.0, 0.0, 2.0));
                    assert!(y[(0, 0)].is_nan() && y[(1, 0)].is_nan());
                    assert!((y[(0, 1)] + y[(1, 1)] - 1.0).abs() < 4.0 * T::EPS);
                    let y = softmax_columns(&SMatrix::<T, 2, 1>::new(T::MAX, T::MAX));
                    assert_eq!(y, SMatrix::<T, 2, 1>::new(0.5, 0.5));
                }

                #[test]
                fn elementwise_maps_and_derivatives() {
                    let mut z = SMatrix::<T, 1, 5>::new(T::NEG_INFINITY, -3.0, 0.0, 3.0, T::INFINITY);
                    let mut s = z;
                    sigmoid_in_place(&mut s);
                    tanh_in_place(&mut z);
                    assert_eq!(s[0], 0.0);
                    assert_eq!(s[4], 1.0);
                    assert_eq!(z[0], -1.0);
                    assert_eq!(z[4], 1.0);
                    // Central-difference check of the derivative-from-output formulas.
                    for &x in &[-2.0, -0.3, 0.0, 0.7, 1.9] {
                        let x: T = x;
                        let h: T = if T::EPS > 1e-10 { 1e-2 } else { 1e-6 };
                        let tol: T = if T::EPS > 1e-10 { 1e-3 } else { 1e-9 };
                        let ds = ((x + h).sigmoid() - (x - h).sigmoid()) / (2.0 * h);
                        assert!((ds - sigmoid_grad_from_output(x.sigmoid())).abs() < tol);
                        let dt = ((x + h).tanh_libm() - (x - h).tanh_libm()) / (2.0 * h);
                        assert!((dt - tanh_grad_from_output(x.tanh_libm())).abs() < tol);
                    }
                }
            }
        )*};
    }
    gen_tests!(f32_: f32, f64_: f64);
}
