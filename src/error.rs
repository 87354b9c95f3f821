//! The crate's one error type, for runtime input that the type system cannot check.

use core::fmt;

/// Why runtime input was rejected.
///
/// Shapes are checked by the compiler; what is left for run time is data that arrives as flat
/// slices (weights saved by numpy or PyTorch, a checkpoint in flash) and values that must be
/// finite. Every fallible function returns this instead of panicking or computing silently
/// wrong numbers.
///
/// # Example
/// ```
/// use nalgebra::SMatrix;
/// use tinyrnn::{params::matrix_from_row_major, Error};
///
/// let err = matrix_from_row_major::<f32, 2, 3>("wax", &[1.0; 5]).unwrap_err();
/// assert_eq!(err, Error::LengthMismatch { what: "wax", expected: 6, found: 5 });
/// assert_eq!(err.to_string(), "wax: expected 6 values, found 5");
///
/// let err = matrix_from_row_major::<f32, 1, 2>("ba", &[0.0, f32::NAN]).unwrap_err();
/// assert_eq!(err, Error::NonFinite { what: "ba", index: 1 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A flat slice had the wrong number of elements.
    LengthMismatch {
        /// Which tensor (or buffer) was being read or written.
        what: &'static str,
        /// How many values the shape needs.
        expected: usize,
        /// How many values were given.
        found: usize,
    },
    /// A value that must be finite was NaN or infinite.
    NonFinite {
        /// Which tensor held the value.
        what: &'static str,
        /// Its position in the slice as given (row-major for numpy layouts, nalgebra's
        /// column-major order for [`Params`](crate::Params) tensors).
        index: usize,
    },
    /// A class-index target was not below the number of classes `N_Y`.
    ClassOutOfRange {
        /// The class index given.
        index: usize,
        /// The number of classes, `N_Y`.
        classes: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::LengthMismatch {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected {expected} values, found {found}"),
            Error::NonFinite { what, index } => {
                write!(f, "{what}: value at index {index} is NaN or infinite")
            }
            Error::ClassOutOfRange { index, classes } => {
                write!(
                    f,
                    "class index {index} is out of range for {classes} classes"
                )
            }
        }
    }
}

impl core::error::Error for Error {}
