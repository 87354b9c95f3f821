//! A stand-in for `tests/fixtures/quant_golden.rs` (numpy's golden vectors, written by
//! `tools/quant_reference.py`) with the same interface, until that file lands: one case, the
//! `QStream::step` example of `src/quant.rs` (`tanh(1)·32768 = 24956.04`), and the activations'
//! checksums (those of `tools/quant_reference.py`; a Python transcription of `tanh_q` and
//! `sigmoid_q` from their docs gives the same).

/// FNV-1a (32 bits) of `tanh_q(x)`, `x` from −32768 to 32767, two little-endian bytes each.
pub const TANH_Q_FNV: u32 = 0x2554b837;
/// The same for `sigmoid_q`.
pub const SIGMOID_Q_FNV: u32 = 0x4f7a880d;

/// `a⟨t⟩ = tanh_q(requant(x))`, multiplier 1, no recurrent weight.
pub mod rnn {
    pub type Q = tinyrnn::quant::QRnn<1, 1>;
    pub static MODEL: Q = tinyrnn::quant::QRnn {
        gate: tinyrnn::quant::QGate {
            x: tinyrnn::quant::QAffine {
                w_t: nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([[1]])),
                bias: nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([[0]])),
                mult: nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([[32768]])),
                shift: nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([[15]])),
            },
            a: tinyrnn::quant::QAffine::ZEROS,
        },
        x_scale: tinyrnn::quant::QScale::Q15,
    };
    pub static X: [[i16; 1]; 3] = [[4096], [0], [-4096]];
    pub static Y: [[i16; 1]; 3] = [[24956], [0], [-24956]];
}
