//! The integer inference path (`tinyrnn::quant`) against an independent reference.
//!
//! - Golden vectors: `tests/fixtures/quant_golden.rs` is written by `tools/quant_reference.py`,
//!   a numpy implementation of the integer scheme of the `src/quant.rs` module docs. Every
//!   model in it must reproduce the reference outputs bit for bit from the zero state.

use nalgebra::SVector;
use tinyrnn::quant::{QStep, QStream};

#[path = "fixtures/quant_golden.rs"]
mod golden;

/// Streams `x` through `model` from the zero state; the first step whose output differs
/// from `y`, if any.
fn first_mismatch<Q, const NI: usize, const NO: usize>(
    model: &Q,
    x: &[[i16; NI]],
    y: &[[i16; NO]],
) -> Option<(usize, [i16; NO], [i16; NO])>
where
    Q: QStep<X = SVector<i16, NI>, Y = SVector<i16, NO>>,
{
    assert_eq!(x.len(), y.len());
    let mut s = QStream::<Q>::new();
    for (t, (xt, yt)) in x.iter().zip(y).enumerate() {
        let out: [i16; NO] = s.step(model, &SVector::from(*xt)).into();
        if out != *yt {
            return Some((t, out, *yt));
        }
    }
    None
}

macro_rules! golden_case {
    ($name:ident) => {
        #[test]
        fn $name() {
            use golden::$name as g;
            assert_eq!(g::MODEL.validate(), Ok(()));
            if let Some((t, got, want)) = first_mismatch(&g::MODEL, &g::X, &g::Y) {
                panic!("step {t}: Rust {got:?}, reference {want:?}");
            }
        }
    };
}

mod golden_cases {
    use super::*;
    golden_case!(rnn);
    golden_case!(lstm);
    golden_case!(gru_after);
    golden_case!(gru_before);
    golden_case!(dense_identity);
    golden_case!(dense_relu);
    golden_case!(dense_tanh);
    golden_case!(dense_sigmoid);
    golden_case!(stack);
    golden_case!(kws_lstm);
    golden_case!(lstm_frac8);
    golden_case!(lstm_frac15);
}

/// FNV-1a (32 bits) of the little-endian bytes of `f(x)` for every `x` in `i16` order.
fn fnv_all(f: fn(i16) -> i16) -> u32 {
    let mut h = 0x811c_9dc5_u32;
    for x in i16::MIN..=i16::MAX {
        for b in f(x).to_le_bytes() {
            h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[test]
fn activations_match_the_reference_on_every_input() {
    use tinyrnn::quant::fixed::{sigmoid_q, tanh_q};
    assert_eq!(fnv_all(tanh_q), golden::TANH_Q_FNV);
    assert_eq!(fnv_all(sigmoid_q), golden::SIGMOID_Q_FNV);
}

/// The LSTM cases also hold the last cell state.
#[test]
fn lstm_cell_states_match_the_reference() {
    fn last_c<const NI: usize, const NO: usize>(
        m: &tinyrnn::quant::QLstm<NI, NO>,
        x: &[[i16; NI]],
    ) -> [i16; NO] {
        let mut s = QStream::new();
        for xt in x {
            s.step(m, &SVector::from(*xt));
        }
        s.state().c.into()
    }
    use golden::{kws_lstm, lstm, lstm_frac15, lstm_frac8};
    assert_eq!(last_c(&lstm::MODEL, &lstm::X), lstm::C_LAST);
    assert_eq!(last_c(&kws_lstm::MODEL, &kws_lstm::X), kws_lstm::C_LAST);
    assert_eq!(
        last_c(&lstm_frac8::MODEL, &lstm_frac8::X),
        lstm_frac8::C_LAST
    );
    assert_eq!(
        last_c(&lstm_frac15::MODEL, &lstm_frac15::X),
        lstm_frac15::C_LAST
    );
}
