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
    /// A tensor of a PyTorch or Keras model, as an importer or exporter looked for it, was
    /// missing, of the wrong length, non-finite, left over, or not representable
    /// (see [`crate::interop`]).
    Tensor {
        /// Which tensor.
        id: TensorId,
        /// What is wrong with it.
        problem: TensorProblem,
    },
    /// An optimizer step would have written a NaN or an infinity into a parameter or into the
    /// optimizer's state (a learning rate too large, a gradient too large for it). Nothing was
    /// written: the model and the optimizer are as before the call.
    NonFiniteUpdate {
        /// The parameter tensor (by [`Params::names`](crate::Params::names)).
        what: &'static str,
        /// Its position in the tensor (nalgebra's column-major order).
        index: usize,
    },
    /// An optimizer or clipping setting that cannot work (a learning rate that is not finite
    /// and positive, a momentum or `β` outside `[0, 1)`, a negative `ε`, a clipping threshold
    /// that is not finite and positive). Checked before anything is written.
    InvalidSetting {
        /// Which setting.
        what: &'static str,
        /// What it must be.
        requirement: &'static str,
    },
    /// A model cannot be represented by the integer scheme of [`crate::quant`], or a
    /// hand-made quantized layer breaks one of its invariants.
    Quantization {
        /// Which tensor or gate.
        what: &'static str,
        /// The row (output unit) or element.
        index: usize,
        /// What is wrong.
        problem: &'static str,
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
            Error::Tensor { id, problem } => write!(f, "{id}: {problem}"),
            Error::NonFiniteUpdate { what, index } => write!(
                f,
                "{what}: the update at index {index} would be NaN or infinite; nothing was changed"
            ),
            Error::InvalidSetting { what, requirement } => {
                write!(f, "{what}: must be {requirement}")
            }
            Error::Quantization {
                what,
                index,
                problem,
            } => write!(f, "{what}, row {index}: {problem}"),
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

/// A tensor of a framework's model, named as the framework names it.
///
/// # Example
/// ```
/// use tinyrnn::error::TensorId;
/// let id = TensorId::Torch { module: "rnn", name: "weight_ih", layer: Some(1), reverse: true };
/// assert_eq!(id.to_string(), "rnn.weight_ih_l1_reverse");
/// let id = TensorId::Keras { index: 4, name: "recurrent_kernel" };
/// assert_eq!(id.to_string(), "weights[4] (recurrent_kernel)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorId {
    /// A PyTorch `state_dict` entry: `{module}.{name}` for a linear layer,
    /// `{module}.{name}_l{layer}` (and `_reverse`) for a recurrent one; no `{module}.` when the
    /// module name is empty.
    Torch {
        /// The module's attribute name (`"rnn"`, `"fc"`), or `""`.
        module: &'static str,
        /// The tensor (`"weight_ih"`, `"bias_hh"`, `"weight"`).
        name: &'static str,
        /// The layer index of a recurrent module.
        layer: Option<usize>,
        /// The reverse direction of a bidirectional module.
        reverse: bool,
    },
    /// An array of Keras' `model.get_weights()` list.
    Keras {
        /// Its position in the list.
        index: usize,
        /// What the layer reads there (`"kernel"`, `"recurrent_kernel"`, `"bias"`).
        name: &'static str,
    },
    /// The entry at this position of the list given to an importer.
    Entry {
        /// Its position in the list.
        index: usize,
    },
}

impl fmt::Display for TensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TensorId::Torch {
                module,
                name,
                layer,
                reverse,
            } => {
                if !module.is_empty() {
                    write!(f, "{module}.")?;
                }
                write!(f, "{name}")?;
                if let Some(l) = layer {
                    write!(f, "_l{l}")?;
                }
                if reverse {
                    write!(f, "_reverse")?;
                }
                Ok(())
            }
            TensorId::Keras { index, name } => write!(f, "weights[{index}] ({name})"),
            TensorId::Entry { index } => write!(f, "entry {index}"),
        }
    }
}

/// What is wrong with a tensor an importer or exporter looked for.
///
/// # Example
/// ```
/// use tinyrnn::error::TensorProblem;
/// let p = TensorProblem::Length { expected: 48, found: 36 };
/// assert_eq!(p.to_string(), "expected 48 values, found 36");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorProblem {
    /// No tensor of that name (or list position).
    Missing,
    /// The tensor has the wrong number of values for the model's sizes.
    Length {
        /// How many values the model's sizes need.
        expected: usize,
        /// How many values were given.
        found: usize,
    },
    /// The value at this (row-major) index is NaN or infinite.
    NonFinite {
        /// The index in the tensor as given.
        index: usize,
    },
    /// A tensor of the listed modules (or of the weight list) that no layer of the model reads:
    /// the model and the checkpoint do not have the same layers.
    Unused,
    /// The framework cannot represent this layer (PyTorch has no reset-before GRU).
    Unsupported,
}

impl fmt::Display for TensorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TensorProblem::Missing => write!(f, "missing"),
            TensorProblem::Length { expected, found } => {
                write!(f, "expected {expected} values, found {found}")
            }
            TensorProblem::NonFinite { index } => {
                write!(f, "value at index {index} is NaN or infinite")
            }
            TensorProblem::Unused => {
                write!(f, "not read by any layer of the model (the layers differ)")
            }
            TensorProblem::Unsupported => write!(f, "this layer has no equivalent there"),
        }
    }
}
