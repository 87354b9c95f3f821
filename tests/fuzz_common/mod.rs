//! The fuzzing oracles, written once: the cargo-fuzz targets in `fuzz/fuzz_targets/` and the
//! stable regression test `tests/fuzz_regressions.rs` both call these functions on raw bytes.
//! Each function decodes the bytes into a call of a tinyrnn importer (or the examples' `.ts`
//! parser) and panics if the call panics or breaks one of the invariants written here.
//!
//! Values are decoded by [`Bytes::value`]: a byte below `0x80` is a small finite value (so
//! well-formed inputs are common), any other byte is followed by four raw bytes of an `f32`
//! (so NaN, infinities, subnormals and values near `f32::MAX` are reachable).
// Each includer uses a different subset.
#![allow(dead_code)]

#[path = "../../examples/common/ts.rs"]
mod ts;

use std::fmt::Write as _;
use tinyrnn::error::TensorId;
use tinyrnn::interop::{keras, torch, Interop};
use tinyrnn::lstm::LstmSlices;
use tinyrnn::params::{matrix_from_row_major, matrix_to_row_major};
use tinyrnn::rnn::RnnSlices;
use tinyrnn::{
    Bidirectional, Concat, Dense, Error, Gru, Lstm, LstmParams, Params, ResetBefore, Rnn,
    RnnParams, Stack, Sum,
};

/// A cursor over the fuzz input; reads past the end give zeros.
pub struct Bytes<'a> {
    data: &'a [u8],
    /// Values produced after the input ran out (to vary them).
    filler: u32,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, filler: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// One `f32`: small and finite for a tag byte below `0x80`, else four raw bytes; once
    /// the input is exhausted, small distinct finite values.
    pub fn value(&mut self) -> f32 {
        if self.data.is_empty() {
            self.filler = self.filler.wrapping_add(1);
            return (self.filler % 97) as f32 * 0.125 - 6.0;
        }
        let tag = self.byte();
        if tag < 0x80 {
            (f32::from(tag) - 64.0) / 16.0
        } else {
            f32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
        }
    }

    /// Zero to three values.
    pub fn few(&mut self) -> Vec<f32> {
        let n = usize::from(self.byte() % 4);
        self.values(n)
    }

    pub fn values(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

/// Every parameter of a model, as bits (column-major per tensor, [`Params::copy_to_flat`]).
fn flat_bits<N: Params<f32>>(model: &N) -> Vec<u32> {
    let mut flat = vec![0.0_f32; N::LEN];
    model
        .copy_to_flat(&mut flat)
        .expect("a buffer of LEN values");
    flat.iter().map(|v| v.to_bits()).collect()
}

fn assert_finite<N: Params<f32>>(model: &N, what: &str) {
    let mut flat = vec![0.0_f32; N::LEN];
    model
        .copy_to_flat(&mut flat)
        .expect("a buffer of LEN values");
    if let Some(i) = flat.iter().position(|v| !v.is_finite()) {
        panic!(
            "{what} returned Ok with a non-finite parameter: flat index {i} = {}",
            flat[i]
        );
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// How a variant's biases are combined on import (see the interop module docs).
#[derive(Clone, Copy, PartialEq)]
enum Biases {
    /// Read as is.
    Plain,
    /// PyTorch `bias_ih + bias_hh`, summed everywhere (RNN, LSTM).
    TorchSum,
    /// PyTorch GRU: summed except the last third (the candidate's, kept apart).
    TorchGru,
    /// Keras GRU reset-after `bias (2, 3H)`: blocks z, r summed with the recurrent row.
    KerasGruAfter,
    /// Keras GRU reset-before `bias (3H,)`: imported into `bnx` (`bna = 0`), exported as
    /// `bnx + bna`.
    KerasGruBefore,
}

// ---------------------------------------------------------------- PyTorch

/// How the fuzz input alters one `state_dict` entry.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Op {
    Keep,
    Drop,
    Shorter,
    Longer,
    Duplicate,
    Rename(u8),
    SwapWithPrevious,
    ForeignBefore,
}

fn op(b: u8) -> Op {
    match b % 24 {
        0 => Op::Drop,
        1 => Op::Shorter,
        2 => Op::Longer,
        3 => Op::Duplicate,
        4 => Op::Rename(b / 24),
        5 => Op::SwapWithPrevious,
        6 => Op::ForeignBefore,
        _ => Op::Keep,
    }
}

fn rename(name: &str, how: u8) -> String {
    match how % 6 {
        0 => format!("{name}_reverse"),
        1 => name.replacen("_l0", "_l1", 1),
        2 => name.replacen("_l0", "_l00", 1),
        3 => name.replacen('.', "x.", 1),
        4 => format!("{name}x"),
        _ => name.replacen("weight", "bias", 1),
    }
}

/// Fuzzes [`torch::load`] (and [`torch::save`], [`torch::for_each_tensor`]) on one of several
/// model compositions chosen by the first byte.
pub fn check_torch(data: &[u8]) {
    let mut b = Bytes::new(data);
    match b.byte() % 9 {
        0 => torch_case::<Lstm<f32, 2, 3>>(&mut b, &[""], Biases::TorchSum),
        1 => torch_case::<Gru<f32, 2, 3>>(&mut b, &["rnn"], Biases::TorchGru),
        2 => {
            torch_case::<Stack<Gru<f32, 2, 3>, Gru<f32, 3, 2>>>(&mut b, &["rnn"], Biases::TorchGru)
        }
        3 => torch_case::<Bidirectional<Lstm<f32, 2, 2>, Concat<4>>>(
            &mut b,
            &["rnn"],
            Biases::TorchSum,
        ),
        4 => torch_case::<Dense<f32, 3, 2>>(&mut b, &["fc"], Biases::Plain),
        5 => torch_case::<Stack<Stack<Lstm<f32, 2, 2>, Lstm<f32, 2, 2>>, Dense<f32, 2, 1>>>(
            &mut b,
            &["rnn", "fc"],
            Biases::TorchSum,
        ),
        6 => torch_case::<Stack<Rnn<f32, 1, 2>, Dense<f32, 2, 2>>>(
            &mut b,
            &["rnn", "fc"],
            Biases::TorchSum,
        ),
        // No PyTorch equivalent: always `Unsupported`.
        7 => torch_case::<Gru<f32, 2, 2, ResetBefore>>(&mut b, &[""], Biases::TorchGru),
        _ => torch_case::<Bidirectional<Gru<f32, 1, 2>, Sum>>(&mut b, &[""], Biases::TorchGru),
    }
}

fn torch_case<N: Interop<f32>>(b: &mut Bytes, modules: &'static [&'static str], biases: Biases) {
    let mut layout: Vec<(String, usize)> = Vec::new();
    let listed = torch::for_each_tensor::<f32, N>(modules, |id, len| {
        layout.push((id.to_string(), len));
    });
    // Which modules the importer is told about.
    let told: &'static [&'static str] = match b.byte() % 16 {
        0 => &[],
        1 => &modules[..modules.len() - 1],
        2 if modules == [""] => &["rnn"],
        2 => &[""],
        _ => modules,
    };
    // The state_dict, altered entry by entry.
    let mut dict: Vec<(String, Vec<f32>)> = Vec::new();
    let mut intact = told == modules;
    for (name, len) in &layout {
        let o = op(b.byte());
        intact &= o == Op::Keep;
        match o {
            Op::Keep => dict.push((name.clone(), b.values(*len))),
            Op::Drop => {}
            Op::Shorter => dict.push((name.clone(), b.values(len.saturating_sub(1)))),
            Op::Longer => dict.push((name.clone(), b.values(len + 1))),
            Op::Duplicate => {
                let v = b.values(*len);
                dict.push((name.clone(), v.clone()));
                let w = if b.byte().is_multiple_of(2) {
                    v
                } else {
                    b.values(*len)
                };
                dict.push((name.clone(), w));
            }
            Op::Rename(how) => dict.push((rename(name, how), b.values(*len))),
            Op::SwapWithPrevious => {
                dict.push((name.clone(), b.values(*len)));
                let n = dict.len();
                if n >= 2 {
                    dict.swap(n - 1, n - 2);
                }
            }
            Op::ForeignBefore => {
                dict.push(("other.weight".into(), b.few()));
                dict.push((name.clone(), b.values(*len)));
            }
        }
    }
    // An extra entry at the end: a layer the model does not have, or a foreign one.
    match b.byte() % 8 {
        0 => {
            intact = false;
            let prefix = modules.first().map_or(String::new(), |m| {
                if m.is_empty() {
                    String::new()
                } else {
                    format!("{m}.")
                }
            });
            dict.push((format!("{prefix}weight_ih_l7"), b.values(3)));
        }
        1 => {
            // Every key belongs to the module `""`.
            intact &= modules != [""];
            dict.push(("head.weight".into(), b.values(2)));
        }
        _ => {}
    }
    let pairs: Vec<(&str, &[f32])> = dict.iter().map(|(k, v)| (k.as_str(), &v[..])).collect();
    let loaded = torch::load::<f32, N>(&pairs, told);

    // An unsupported model is refused whatever the input.
    if listed.is_err() {
        assert!(
            loaded.is_err(),
            "load accepted a model for_each_tensor refuses"
        );
        return;
    }
    if intact {
        // The exact layout: Ok iff every value and every summed bias is finite.
        // (Entries of other modules are ignored, whatever they hold.)
        let expect_ok = dict
            .iter()
            .filter(|(k, _)| layout.iter().any(|(n, _)| n == k))
            .all(|(_, v)| v.iter().all(|x| x.is_finite()))
            && sums_finite(&dict, biases);
        assert_eq!(
            loaded.is_ok(),
            expect_ok,
            "intact state_dict: {:?}",
            loaded.as_ref().err()
        );
    }
    let Ok(model) = loaded else { return };
    assert_finite(&model, "torch::load");

    // Export into the listed layout, re-import, export again: the same bits each time.
    let mut out: Vec<(String, Vec<f32>)> = layout
        .iter()
        .map(|(k, len)| (k.clone(), vec![f32::NAN; *len]))
        .collect();
    save_torch(&model, &mut out, modules);
    let pairs: Vec<(&str, &[f32])> = out.iter().map(|(k, v)| (k.as_str(), &v[..])).collect();
    let again = torch::load::<f32, N>(&pairs, modules).expect("re-import of an export");
    assert_eq!(
        flat_bits(&model),
        flat_bits(&again),
        "torch round trip changed the model"
    );
    let mut out2 = out.clone();
    save_torch(&again, &mut out2, modules);
    for ((k, a), (_, b)) in out.iter().zip(&out2) {
        assert_eq!(bits(a), bits(b), "{k}: second export differs");
    }

    if intact {
        // The export reproduces the input: weights bit for bit, biases as sums.
        for ((k, input), (_, saved)) in dict.iter().zip(&out) {
            if biases == Biases::Plain || !k.contains("bias_") {
                assert_eq!(bits(input), bits(saved), "{k}: export differs from input");
            } else if k.contains("bias_ih") {
                let hh = k.replacen("bias_ih", "bias_hh", 1);
                let in_hh = &dict.iter().find(|(n, _)| *n == hh).expect("bias_hh").1;
                let out_hh = &out.iter().find(|(n, _)| *n == hh).expect("bias_hh").1;
                for i in 0..input.len() {
                    let sum_in = input[i] + in_hh[i];
                    let sum_out = saved[i] + out_hh[i];
                    assert_eq!(sum_in, sum_out, "{k}[{i}]: bias sum differs");
                }
            }
        }
    }
}

fn save_torch<N: Interop<f32>>(
    model: &N,
    out: &mut [(String, Vec<f32>)],
    modules: &'static [&'static str],
) {
    let mut dest: Vec<(&str, &mut [f32])> = out
        .iter_mut()
        .map(|(k, v)| (k.as_str(), &mut v[..]))
        .collect();
    torch::save(model, &mut dest, modules).expect("export into the listed layout");
}

/// Whether every bias the importer sums is finite (PyTorch's `bias_ih + bias_hh`).
fn sums_finite(dict: &[(String, Vec<f32>)], biases: Biases) -> bool {
    dict.iter()
        .filter(|(k, _)| k.contains("bias_ih"))
        .all(|(k, ih)| {
            let hh_name = k.replacen("bias_ih", "bias_hh", 1);
            let Some((_, hh)) = dict.iter().find(|(n, _)| *n == hh_name) else {
                return true;
            };
            let summed = match biases {
                Biases::TorchGru => ih.len() / 3 * 2,
                _ => ih.len(),
            };
            (0..summed).all(|i| (ih[i] + hh[i]).is_finite())
        })
}

// ---------------------------------------------------------------- Keras

/// Fuzzes [`keras::load`] (and [`keras::save`], [`keras::for_each_tensor`]) on one of several
/// model compositions chosen by the first byte.
pub fn check_keras(data: &[u8]) {
    let mut b = Bytes::new(data);
    match b.byte() % 9 {
        0 => keras_case::<Lstm<f32, 2, 3>>(&mut b, Biases::Plain),
        1 => keras_case::<Gru<f32, 2, 3>>(&mut b, Biases::KerasGruAfter),
        2 => keras_case::<Stack<Gru<f32, 2, 3>, Gru<f32, 3, 2>>>(&mut b, Biases::KerasGruAfter),
        3 => keras_case::<Bidirectional<Lstm<f32, 2, 2>, Concat<4>>>(&mut b, Biases::Plain),
        4 => keras_case::<Dense<f32, 3, 2>>(&mut b, Biases::Plain),
        5 => keras_case::<Stack<Stack<Lstm<f32, 2, 2>, Lstm<f32, 2, 2>>, Dense<f32, 2, 1>>>(
            &mut b,
            Biases::Plain,
        ),
        6 => keras_case::<Stack<Rnn<f32, 1, 2>, Dense<f32, 2, 2>>>(&mut b, Biases::Plain),
        7 => keras_case::<Gru<f32, 2, 2, ResetBefore>>(&mut b, Biases::KerasGruBefore),
        _ => keras_case::<Bidirectional<Gru<f32, 1, 2>, Sum>>(&mut b, Biases::KerasGruAfter),
    }
}

fn keras_case<N: Interop<f32>>(b: &mut Bytes, biases: Biases) {
    let mut layout: Vec<(&'static str, usize)> = Vec::new();
    keras::for_each_tensor::<f32, N>(|id, len| {
        let TensorId::Keras { index, name } = id else {
            panic!("keras::for_each_tensor gave {id:?}");
        };
        assert_eq!(index, layout.len(), "keras indices are consecutive");
        layout.push((name, len));
    })
    .expect("every layer maps onto Keras");
    let mut list: Vec<Vec<f32>> = Vec::new();
    let mut intact = true;
    for &(_, len) in &layout {
        let o = op(b.byte());
        // Renaming means nothing to a list.
        intact &= matches!(o, Op::Keep | Op::Rename(_));
        match o {
            Op::Keep | Op::Rename(_) => list.push(b.values(len)),
            Op::Drop => {}
            Op::Shorter => list.push(b.values(len.saturating_sub(1))),
            Op::Longer => list.push(b.values(len + 1)),
            Op::Duplicate => {
                list.push(b.values(len));
                list.push(b.values(len));
            }
            Op::SwapWithPrevious => {
                list.push(b.values(len));
                let n = list.len();
                if n >= 2 {
                    list.swap(n - 1, n - 2);
                }
            }
            Op::ForeignBefore => {
                let n = usize::from(b.byte() % 4);
                list.push(b.values(n));
                list.push(b.values(len));
            }
        }
    }
    if b.byte().is_multiple_of(8) {
        intact = false;
        list.push(b.few());
    }
    let slices: Vec<&[f32]> = list.iter().map(|v| &v[..]).collect();
    let loaded = keras::load::<f32, N>(&slices);
    if intact {
        let finite = list.iter().all(|v| v.iter().all(|x| x.is_finite()));
        let sums = biases != Biases::KerasGruAfter
            || layout
                .iter()
                .zip(&list)
                .filter(|((name, _), _)| *name == "bias")
                .all(|(_, v)| {
                    let h3 = v.len() / 2;
                    (0..h3 / 3 * 2).all(|i| (v[i] + v[h3 + i]).is_finite())
                });
        assert_eq!(
            loaded.is_ok(),
            finite && sums,
            "intact weight list: {:?}",
            loaded.as_ref().err()
        );
    }
    let Ok(model) = loaded else { return };
    assert_finite(&model, "keras::load");

    let mut out: Vec<Vec<f32>> = layout.iter().map(|&(_, len)| vec![f32::NAN; len]).collect();
    save_keras(&model, &mut out);
    let slices: Vec<&[f32]> = out.iter().map(|v| &v[..]).collect();
    let again = keras::load::<f32, N>(&slices).expect("re-import of an export");
    assert_eq!(
        flat_bits(&model),
        flat_bits(&again),
        "keras round trip changed the model"
    );
    let mut out2 = out.clone();
    save_keras(&again, &mut out2);
    for (i, (a, b)) in out.iter().zip(&out2).enumerate() {
        assert_eq!(bits(a), bits(b), "array {i}: second export differs");
    }

    if intact {
        for (i, (((name, _), input), saved)) in layout.iter().zip(&list).zip(&out).enumerate() {
            match (biases, *name) {
                (Biases::KerasGruAfter, "bias") => {
                    let h3 = input.len() / 2;
                    for j in 0..h3 {
                        assert_eq!(
                            input[j] + input[h3 + j],
                            saved[j] + saved[h3 + j],
                            "array {i}[{j}]: bias sum differs"
                        );
                    }
                }
                _ => assert_eq!(bits(input), bits(saved), "array {i}: export differs"),
            }
        }
    }
}

fn save_keras<N: Interop<f32>>(model: &N, out: &mut [Vec<f32>]) {
    let mut dest: Vec<&mut [f32]> = out.iter_mut().map(|v| &mut v[..]).collect();
    keras::save(model, &mut dest).expect("export into the listed layout");
}

// ---------------------------------------------------------------- row-major slices

/// A slice of `len` values, or the wrong length, as the input says; and whether its length
/// is right.
fn slice_of(b: &mut Bytes, len: usize) -> (Vec<f32>, bool) {
    match b.byte() % 16 {
        0 => (b.values(len.saturating_sub(1)), len == 0),
        1 => (b.values(len + 1), false),
        2 => (Vec::new(), len == 0),
        _ => (b.values(len), true),
    }
}

/// The error an importer must return for slices `(what, values, length right)` checked in
/// order: the first wrong length or non-finite value.
fn first_error(slices: &[(&'static str, &[f32], usize)]) -> Option<Error> {
    slices.iter().find_map(|&(what, v, expected)| {
        if v.len() != expected {
            Some(Error::LengthMismatch {
                what,
                expected,
                found: v.len(),
            })
        } else {
            v.iter()
                .position(|x| !x.is_finite())
                .map(|index| Error::NonFinite { what, index })
        }
    })
}

const X: usize = 2;
const A: usize = 3;
const Y: usize = 2;

/// Fuzzes [`LstmParams::from_row_major`], [`RnnParams::from_row_major`],
/// [`matrix_from_row_major`] and [`Params::copy_from_flat`]: the result is `Ok` exactly when
/// every length is right and every value finite, the error names the first bad slice and
/// index, and an `Ok` result gives the input back bit for bit.
pub fn check_row_major(data: &[u8]) {
    let mut b = Bytes::new(data);
    match b.byte() % 4 {
        0 => {
            let w: Vec<_> = (0..4).map(|_| slice_of(&mut b, A * (A + X)).0).collect();
            let bs: Vec<_> = (0..4).map(|_| slice_of(&mut b, A).0).collect();
            let wy = slice_of(&mut b, Y * A).0;
            let by = slice_of(&mut b, Y).0;
            let s = LstmSlices {
                wf: &w[0],
                bf: &bs[0],
                wi: &w[1],
                bi: &bs[1],
                wc: &w[2],
                bc: &bs[2],
                wo: &w[3],
                bo: &bs[3],
                wy: &wy,
                by: &by,
            };
            let got = LstmParams::<f32, X, A, Y>::from_row_major(&s);
            let order = [
                ("wf", s.wf, A * (A + X)),
                ("wi", s.wi, A * (A + X)),
                ("wc", s.wc, A * (A + X)),
                ("wo", s.wo, A * (A + X)),
                ("bf", s.bf, A),
                ("bi", s.bi, A),
                ("bc", s.bc, A),
                ("bo", s.bo, A),
                ("wy", s.wy, Y * A),
                ("by", s.by, Y),
            ];
            match (got, first_error(&order)) {
                (Ok(p), None) => {
                    let gates = [
                        (&p.wfa, &p.wfx, s.wf),
                        (&p.wia, &p.wix, s.wi),
                        (&p.wca, &p.wcx, s.wc),
                        (&p.woa, &p.wox, s.wo),
                    ];
                    for (wa, wx, w) in gates {
                        for r in 0..A {
                            for c in 0..A {
                                assert_eq!(wa[(r, c)].to_bits(), w[r * (A + X) + c].to_bits());
                            }
                            for c in 0..X {
                                assert_eq!(wx[(r, c)].to_bits(), w[r * (A + X) + A + c].to_bits());
                            }
                        }
                    }
                    for (m, v) in [(&p.bf, s.bf), (&p.bi, s.bi), (&p.bc, s.bc), (&p.bo, s.bo)] {
                        assert_eq!(bits(m.as_slice()), bits(v));
                    }
                    assert_row_major(&p.wy, s.wy);
                    assert_row_major(&p.by, s.by);
                }
                (Err(e), Some(expected)) => assert_eq!(e, expected),
                (got, expected) => panic!("LstmParams: got {got:?}, expected {expected:?}"),
            }
        }
        1 => {
            let (wax, waa, ba, wya, by) = (
                slice_of(&mut b, A * X).0,
                slice_of(&mut b, A * A).0,
                slice_of(&mut b, A).0,
                slice_of(&mut b, Y * A).0,
                slice_of(&mut b, Y).0,
            );
            let s = RnnSlices {
                wax: &wax,
                waa: &waa,
                ba: &ba,
                wya: &wya,
                by: &by,
            };
            let got = RnnParams::<f32, X, A, Y>::from_row_major(&s);
            let order = [
                ("wax", s.wax, A * X),
                ("waa", s.waa, A * A),
                ("ba", s.ba, A),
                ("wya", s.wya, Y * A),
                ("by", s.by, Y),
            ];
            match (got, first_error(&order)) {
                (Ok(p), None) => {
                    assert_row_major(&p.wax, s.wax);
                    assert_row_major(&p.waa, s.waa);
                    assert_row_major(&p.ba, s.ba);
                    assert_row_major(&p.wya, s.wya);
                    assert_row_major(&p.by, s.by);
                }
                (Err(e), Some(expected)) => assert_eq!(e, expected),
                (got, expected) => panic!("RnnParams: got {got:?}, expected {expected:?}"),
            }
        }
        2 => {
            let v = slice_of(&mut b, 12).0;
            let got = matrix_from_row_major::<f32, 3, 4>("m", &v);
            match (got, first_error(&[("m", &v, 12)])) {
                (Ok(m), None) => assert_row_major(&m, &v),
                (Err(e), Some(expected)) => assert_eq!(e, expected),
                (got, expected) => panic!("matrix: got {got:?}, expected {expected:?}"),
            }
        }
        _ => {
            type P = LstmParams<f32, X, A, Y>;
            let v = slice_of(&mut b, P::LEN).0;
            let mut p = P::zeros();
            p.wfa[(0, 0)] = 1.5;
            let before = flat_bits(&p);
            const WHAT: &str = "flat parameter buffer";
            match (p.copy_from_flat(&v), first_error(&[(WHAT, &v, P::LEN)])) {
                (Ok(()), None) => {
                    let mut back = vec![0.0; P::LEN];
                    p.copy_to_flat(&mut back).expect("LEN values");
                    assert_eq!(bits(&back), bits(&v), "flat round trip");
                }
                (Err(e), Some(expected)) => {
                    assert_eq!(e, expected);
                    assert_eq!(
                        flat_bits(&p),
                        before,
                        "a refused copy changed the parameters"
                    );
                }
                (got, expected) => panic!("copy_from_flat: got {got:?}, expected {expected:?}"),
            }
            let mut short = vec![0.0; v.len()];
            assert_eq!(p.copy_to_flat(&mut short).is_ok(), v.len() == P::LEN);
        }
    }
}

/// `m`, written row-major, is `v` bit for bit.
fn assert_row_major<const R: usize, const C: usize>(m: &nalgebra::SMatrix<f32, R, C>, v: &[f32]) {
    let mut out = vec![0.0; R * C];
    matrix_to_row_major(m, &mut out).expect("R·C values");
    assert_eq!(bits(&out), bits(v), "row-major round trip");
}

// ---------------------------------------------------------------- .ts

/// Fuzzes the examples' `.ts` parser on arbitrary UTF-8: no panic; on `Ok`, the promised shape
/// (every case has `dimensions` channels of `series_length` finite values, a class index iff
/// `@classLabel true`, a finite target iff `@targetlabel true`), and printing the dataset back
/// as `.ts` parses to the same dataset; on `Err`, a line number within the input.
pub fn check_ts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    let d = match ts::parse_ts(text) {
        Ok(d) => d,
        Err(e) => {
            assert!(
                e.line >= 1 && e.line <= lines + 1,
                "error line {} of {lines}",
                e.line
            );
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(d.dimensions >= 1 && d.series_length >= 1 && !d.cases.is_empty());
    let labelled = !d.class_names.is_empty();
    let targets = d.cases.first().is_some_and(|c| c.target.is_some());
    assert!(!(labelled && targets));
    for (k, case) in d.cases.iter().enumerate() {
        assert_eq!(case.channels.len(), d.dimensions, "case {k}: channels");
        for ch in &case.channels {
            assert_eq!(ch.len(), d.series_length, "case {k}: length");
            assert!(
                ch.iter().all(|v| v.is_finite()),
                "case {k}: non-finite value"
            );
        }
        assert_eq!(case.class.is_some(), labelled, "case {k}: class");
        assert!(case.class.is_none_or(|c| c < d.class_names.len()));
        assert_eq!(case.target.is_some(), targets, "case {k}: target");
        assert!(case.target.is_none_or(f64::is_finite));
    }
    let again = ts::parse_ts(&print_ts(&d)).expect("a printed dataset parses");
    assert_eq!(again, d, "print → parse changed the dataset");
}

/// `d` as `.ts` text.
fn print_ts(d: &ts::TsDataset) -> String {
    let mut s = String::new();
    if let Some(name) = &d.problem_name {
        writeln!(s, "@problemName {name}").unwrap();
    }
    writeln!(s, "@dimensions {}", d.dimensions).unwrap();
    writeln!(s, "@seriesLength {}", d.series_length).unwrap();
    if !d.class_names.is_empty() {
        writeln!(s, "@classLabel true {}", d.class_names.join(" ")).unwrap();
    } else if d.cases.iter().any(|c| c.target.is_some()) {
        writeln!(s, "@targetLabel true").unwrap();
    }
    writeln!(s, "@data").unwrap();
    for case in &d.cases {
        let channels: Vec<String> = case
            .channels
            .iter()
            .map(|ch| {
                ch.iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        s.push_str(&channels.join(":"));
        if let Some(c) = case.class {
            write!(s, ":{}", d.class_names[c]).unwrap();
        }
        if let Some(t) = case.target {
            write!(s, ":{t:?}").unwrap();
        }
        s.push('\n');
    }
    s
}

// ---------------------------------------------------------------- quantisation

/// A float model of any kind from the input, its parameters any `f32` (NaN, ∞, huge,
/// subnormal), quantized with calibration sequences from the input; then the quantized model
/// streamed over `i16` inputs from the input. Invariants: no panic (the fuzz build checks
/// integer overflow, so every step's arithmetic is proven in range for the layers `quantize`
/// produces); a non-finite parameter or calibration value, or no calibration step, is an
/// error; a model `quantize` returns passes `validate`; `write_rust` succeeds.
pub fn check_quantize(data: &[u8]) {
    use tinyrnn::{Identity, Relu, ResetAfter, Sigmoid, Tanh};
    let mut b = Bytes::new(data);
    match b.byte() % 9 {
        0 => quantize_case::<Rnn<f32, 2, 3>>(&mut b),
        1 => quantize_case::<Lstm<f32, 2, 3>>(&mut b),
        2 => quantize_case::<Gru<f32, 2, 3, ResetAfter>>(&mut b),
        3 => quantize_case::<Gru<f32, 2, 3, ResetBefore>>(&mut b),
        4 => quantize_case::<Dense<f32, 2, 3, Identity>>(&mut b),
        5 => quantize_case::<Dense<f32, 2, 3, Relu>>(&mut b),
        6 => quantize_case::<Dense<f32, 2, 3, Tanh>>(&mut b),
        7 => quantize_case::<Dense<f32, 2, 3, Sigmoid>>(&mut b),
        _ => quantize_case::<Stack<Lstm<f32, 2, 3>, Dense<f32, 3, 2>>>(&mut b),
    }
    check_hand_made(&mut b);
}

fn quantize_case<N>(b: &mut Bytes)
where
    N: Params<f32> + tinyrnn::quant::Quantize<f32, X = nalgebra::SVector<f32, 2>>,
    N::Q: tinyrnn::quant::QStep<XF = nalgebra::SVector<f32, 2>>,
{
    use tinyrnn::quant::{self, QStep, QStream};
    let mut net = N::zeros();
    let mut finite = true;
    for t in net.tensors_mut() {
        for v in t.iter_mut() {
            *v = b.value();
            finite &= v.is_finite();
        }
    }
    let mut seqs = Vec::new();
    let mut inputs_finite = true;
    for _ in 0..b.byte() % 4 {
        let len = usize::from(b.byte() % 5);
        let seq: Vec<nalgebra::SVector<f32, 2>> = (0..len)
            .map(|_| nalgebra::SVector::from([b.value(), b.value()]))
            .collect();
        inputs_finite &= seq.iter().all(|x| x.iter().all(|v| v.is_finite()));
        seqs.push(seq);
    }
    let steps: usize = seqs.iter().map(Vec::len).sum();
    match quant::quantize(&net, &seqs) {
        Ok(q) => {
            assert!(
                finite && inputs_finite && steps > 0,
                "quantized a model it must refuse"
            );
            assert_eq!(q.validate(), Ok(()));
            let mut s = QStream::<N::Q>::new();
            for _ in 0..4 {
                let x = q.quantize_input(&nalgebra::SVector::from([b.value(), b.value()]));
                let _ = s.step(&q, &x);
            }
            let mut src = String::new();
            q.write_rust(&mut src).expect("write_rust");
        }
        Err(e) => match e {
            Error::InvalidSetting { .. } => assert_eq!(steps, 0, "{e:?}"),
            // A non-finite parameter or input, a float step that overflows, or a model out
            // of the scheme's range.
            Error::NonFinite { .. } | Error::Quantization { .. } => {}
            e => panic!("unexpected error {e:?}"),
        },
    }
}

/// A quantized LSTM and GRU built from raw bytes: if `validate` accepts them, a step must not
/// overflow for any input.
fn check_hand_made(b: &mut Bytes) {
    use tinyrnn::quant::{QAffine, QGate, QGru, QLstm, QStep};
    fn affine<const I: usize, const O: usize>(b: &mut Bytes) -> QAffine<I, O> {
        let mut f = QAffine::<I, O>::ZEROS;
        for w in f.w_t.iter_mut() {
            *w = b.byte() as i8;
        }
        for j in 0..O {
            f.bias[j] = i32::from_le_bytes([b.byte(), b.byte(), b.byte(), b.byte()]);
            f.mult[j] = u16::from_le_bytes([b.byte(), b.byte()]);
            f.shift[j] = b.byte();
        }
        f
    }
    fn gate(b: &mut Bytes) -> QGate<2, 3> {
        QGate {
            x: affine(b),
            a: affine(b),
        }
    }
    let mut lstm = QLstm::<2, 3>::ZEROS;
    (lstm.f, lstm.i, lstm.c, lstm.o, lstm.c_frac) = (gate(b), gate(b), gate(b), gate(b), b.byte());
    let mut gru = QGru::<2, 3>::ZEROS;
    (gru.z, gru.r, gru.n) = (gate(b), gate(b), gate(b));
    let x = |b: &mut Bytes| {
        // Any i16, both ends included.
        nalgebra::SVector::<i16, 2>::from([
            (b.byte() as i16).wrapping_mul(257),
            (b.byte() as i16).wrapping_mul(-129),
        ])
    };
    if lstm.validate().is_ok() {
        let (mut s, mut y) = (tinyrnn::params::Zeroed::ZEROS, nalgebra::SVector::zeros());
        for _ in 0..4 {
            lstm.step(&x(b), &mut s, &mut y);
        }
    }
    if gru.validate().is_ok() {
        let (mut s, mut y) = (nalgebra::SVector::zeros(), nalgebra::SVector::zeros());
        for _ in 0..4 {
            gru.step(&x(b), &mut s, &mut y);
        }
    }
}
