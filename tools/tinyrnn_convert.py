#!/usr/bin/env python3
"""tinyrnn_convert: a trained PyTorch or Keras 3 model as a Rust source file for tinyrnn.

The output is one `.rs` file, used as a module (`mod model;`), holding:

* `pub type <Name> = ...;`, the tinyrnn type of the model (`Stack`, `Bidirectional`, `Lstm`,
  `Gru`, `Rnn`, `Dense`), scalar `f32` (or `f64` with `--f64`);
* `pub static <NAME>: <Name> = ...;`, the weights as a struct literal built only by `const fn`s
  (`matrix_from_rows`, `vector_from_array`): the linker places it in flash and inference reads
  it in place, nothing is copied to RAM;
* `pub const <NAME>_TENSORS`, the framework's own tensors with their names (the `state_dict`
  keys; for Keras `"<layer index>/<weight name>"` in `get_weights()` order), for verification
  with `tinyrnn::interop::{torch, keras}::load` (a `const`: it costs flash only where used);
  for PyTorch also `<NAME>_MODULES`, the module names `torch::load` takes;
* a golden pair for an on-device self-check: `<NAME>_GOLDEN_X` (one sequence, batch 1, drawn
  from `numpy.random.default_rng(seed)`), `<NAME>_GOLDEN_Y` (the framework's outputs at every
  step from the zero initial state), `<NAME>_GOLDEN_TOL`, and `<name>_golden_error()`, which
  runs the static model on the golden input and returns the worst
  `|y - golden| / max(1, |golden|)` (the check passes when it is at most the tolerance).

The framework tensors are mapped onto tinyrnn's fields exactly as `src/interop.rs` documents
(`tests/converted.rs` proves the mapping equal to the Rust importers', bit for bit). Before
writing, the script re-runs the mapped model with a numpy transcription of tinyrnn's equations
and checks it against the framework's outputs (`--no-verify` skips this).

Usage (see tools/README.md):

    # PyTorch: a state_dict, the architecture given by the module names in order and the kind
    python3 tools/tinyrnn_convert.py torch --state-dict net.pt --modules rnn,fc --kind lstm \
        -o model.rs
    # PyTorch: a module (an instance, or a zero-argument class/factory, optionally + --state-dict)
    python3 tools/tinyrnn_convert.py torch --module mypkg.nets:Net --state-dict net.pt -o model.rs
    python3 tools/tinyrnn_convert.py torch --module net_pickled.pt -o model.rs
    # Keras 3 (any backend; this script sets KERAS_BACKEND=torch unless set)
    python3 tools/tinyrnn_convert.py keras model.keras -o model.rs
    # The two committed samples, tests/fixtures/converted_{torch,keras}.rs
    python3 tools/tinyrnn_convert.py --selftest

Importable: `convert_torch(...)`, `convert_keras(...)` return a `Converted`, whose
`.to_rust()` is the file's text and `.write(path)` writes it.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.util
import os
import re
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

__all__ = ["Converted", "ConvertError", "Layer", "convert_torch", "convert_keras", "main"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SEQ_LEN = 16
DEFAULT_SEED = 0
# |tinyrnn - framework| <= TOL * max(1, |framework|), per output.
TOL_F32 = 1e-5
TOL_F64 = 1e-12

ACTIVATIONS = {"identity": "Identity", "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}
RECURRENT = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# Struct fields in declaration order (src/rnn.rs, src/lstm.rs, src/gru.rs, src/dense.rs).
FIELDS = {
    "rnn": ["wax", "waa", "ba"],
    "lstm": ["wfa", "wfx", "bf", "wia", "wix", "bi", "wca", "wcx", "bc", "woa", "wox", "bo"],
    "gru": ["wzx", "wza", "bz", "wrx", "wra", "br", "wnx", "wna", "bnx", "bna"],
    "dense": ["w", "b"],
}


class ConvertError(Exception):
    """The model cannot be converted (unsupported layer or option, inconsistent tensors)."""


# ---------------------------------------------------------------------------------------------
# The intermediate form: a list of tinyrnn layers with their fields.
# ---------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """One tinyrnn layer: `kind` in rnn|lstm|gru|dense, fields as 2-D (matrix) / 1-D arrays."""

    kind: str
    n_in: int
    n_out: int
    fields: dict
    reset_after: bool = True  # gru only
    activation: str = "identity"  # dense only


@dataclass
class Layer:
    """A cell, or a bidirectional pair of cells (`merge` "concat" or "sum")."""

    fwd: Cell
    bwd: Cell | None = None
    merge: str = "concat"

    @property
    def n_in(self):
        return self.fwd.n_in

    @property
    def n_out(self):
        if self.bwd is None or self.merge == "sum":
            return self.fwd.n_out
        return 2 * self.fwd.n_out


@dataclass
class Converted:
    """A converted model: layers, raw framework tensors, golden pair; `to_rust()` renders it."""

    name: str
    framework: str  # "torch" | "keras"
    layers: list
    tensors: list  # [(name, np.ndarray in the framework's shape)]
    golden_x: np.ndarray  # (T, N_X), or (S, T, N_X): S sequences, each from the zero state
    golden_y: np.ndarray  # (T, N_OUT), or (S, T, N_OUT)
    tol: float
    f64: bool = False
    modules: list = field(default_factory=list)  # torch only
    golden_dtype: str = "float32"
    reference_error: float | None = None  # numpy transcription vs framework
    versions: str = ""
    source: str = ""
    golden_source: str = ""  # where a given golden input came from ("" = drawn from the seed)

    def to_rust(self, provenance=None):
        return render(self, provenance)

    def write(self, path, provenance=None):
        text = self.to_rust(provenance)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return text


def dtype_of(f64):
    return np.float64 if f64 else np.float32


def rust_scalar(f64):
    return "f64" if f64 else "f32"


# ---------------------------------------------------------------------------------------------
# Float literals that parse back to the same bits.
# ---------------------------------------------------------------------------------------------
def float_literal(v, f64=False):
    """The shortest decimal that reads back as `v` (in f32 or f64), as a suffix-free Rust float
    literal (its type comes from the array it sits in)."""
    v = dtype_of(f64)(v)
    if not np.isfinite(v):
        raise ConvertError(f"non-finite value {v!r}: tinyrnn's importers reject it too")
    if v == 0:
        return "-0.0" if np.signbit(v) else "0.0"
    a = abs(float(v))
    if 1e-4 <= a < 1e7:
        s = np.format_float_positional(v, unique=True, trim="0")
    else:
        s = np.format_float_scientific(v, unique=True, trim="0", exp_digits=1)
    check_literal(s, v)
    return s


def check_literal(s, v):
    """Exact check: the decimal `s` rounds (to nearest, ties to even) to `v` in `v`'s type, as
    Rust's literal parser does."""
    d = Fraction(s)
    t = type(v)
    x = Fraction(float(v))
    lo = Fraction(float(np.nextafter(v, t(-np.inf))))
    hi_v = np.nextafter(v, t(np.inf))
    hi = Fraction(float(hi_v)) if np.isfinite(hi_v) else x + (x - lo)
    m_lo, m_hi = (lo + x) / 2, (x + hi) / 2
    even = (int(np.asarray(v).view(np.uint32 if t == np.float32 else np.uint64)) & 1) == 0
    ok = m_lo < d < m_hi or (even and d in (m_lo, m_hi))
    if not ok:
        raise ConvertError(f"literal {s} does not read back as {v!r}")


def fmt_list(values, f64, per_line=8, indent=0):
    """`[a, b, ...]` on one line, or over several lines of `per_line` values."""
    lits = [float_literal(v, f64) for v in np.ravel(values)]
    if len(lits) <= per_line:
        return "[" + ", ".join(lits) + "]"
    pad = " " * (indent + 4)
    lines = [pad + ", ".join(lits[i : i + per_line]) + "," for i in range(0, len(lits), per_line)]
    return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"


def fmt_rows(m, f64, indent):
    """`[[...], [...]]` for a 2-D array, one row per line."""
    m = np.asarray(m)
    pad = " " * (indent + 4)
    rows = [pad + fmt_list(r, f64, indent=indent + 4) + "," for r in m]
    return "[\n" + "\n".join(rows) + "\n" + " " * indent + "]"


def fmt_seqs(a, f64):
    """`[[[...], ...], ...]` for a 3-D array: one sequence after another, one step per line."""
    a = np.asarray(a)
    seqs = ["    " + fmt_rows(m, f64, 4) + "," for m in a]
    return "[\n" + "\n".join(seqs) + "\n]"


# ---------------------------------------------------------------------------------------------
# Rust rendering.
# ---------------------------------------------------------------------------------------------
def cell_type(c: Cell, f64):
    t = rust_scalar(f64)
    if c.kind == "rnn":
        return f"Rnn<{t}, {c.n_in}, {c.n_out}>"
    if c.kind == "lstm":
        return f"Lstm<{t}, {c.n_in}, {c.n_out}>"
    if c.kind == "gru":
        v = "" if c.reset_after else ", ResetBefore"
        return f"Gru<{t}, {c.n_in}, {c.n_out}{v}>"
    a = "" if c.activation == "identity" else f", {ACTIVATIONS[c.activation]}"
    return f"Dense<{t}, {c.n_in}, {c.n_out}{a}>"


def layer_type(l: Layer, f64):
    if l.bwd is None:
        return cell_type(l.fwd, f64)
    merge = f"Concat<{l.n_out}>" if l.merge == "concat" else "Sum"
    return f"Bidirectional<{cell_type(l.fwd, f64)}, {merge}>"


def model_type(layers, f64):
    acc = layer_type(layers[0], f64)
    for l in layers[1:]:
        acc = f"Stack<{acc}, {layer_type(l, f64)}>"
    return acc


def cell_literal(c: Cell, f64, indent):
    pad = " " * (indent + 4)
    name = {"rnn": "Rnn", "lstm": "Lstm", "gru": "Gru", "dense": "Dense"}[c.kind]
    out = [name + " {"]
    for f in FIELDS[c.kind]:
        v = np.asarray(c.fields[f])
        if v.ndim == 2:
            out.append(f"{pad}{f}: matrix_from_rows({fmt_rows(v, f64, indent + 4)}),")
        else:
            out.append(f"{pad}{f}: vector_from_array({fmt_list(v, f64, indent=indent + 4)}),")
    if c.kind == "gru":
        out.append(f"{pad}variant: PhantomData,")
    if c.kind == "dense":
        out.append(f"{pad}activation: PhantomData,")
    out.append(" " * indent + "}")
    return "\n".join(out)


def layer_literal(l: Layer, f64, indent):
    if l.bwd is None:
        return cell_literal(l.fwd, f64, indent)
    pad = " " * (indent + 4)
    return "\n".join(
        [
            "Bidirectional {",
            f"{pad}fwd: {cell_literal(l.fwd, f64, indent + 4)},",
            f"{pad}bwd: {cell_literal(l.bwd, f64, indent + 4)},",
            f"{pad}merge: PhantomData,",
            " " * indent + "}",
        ]
    )


def stack_literal(layers, f64, indent):
    """`Stack { lower: <all but the last>, upper: <the last> }`, nested to the left."""
    if len(layers) == 1:
        return layer_literal(layers[0], f64, indent)
    pad = " " * (indent + 4)
    return "\n".join(
        [
            "Stack {",
            f"{pad}lower: {stack_literal(layers[:-1], f64, indent + 4)},",
            f"{pad}upper: {layer_literal(layers[-1], f64, indent + 4)},",
            " " * indent + "}",
        ]
    )


def camel(name):
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", name) if p)


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_").lower()


def describe(layers):
    parts = []
    for l in layers:
        c = l.fwd
        if c.kind == "dense":
            d = f"Dense({c.n_in} -> {c.n_out}"
            d += ")" if c.activation == "identity" else f", {c.activation})"
        else:
            k = {"rnn": "RNN(tanh)", "lstm": "LSTM", "gru": "GRU"}[c.kind]
            if c.kind == "gru":
                k += "(reset_after)" if c.reset_after else "(reset_before)"
            d = f"{k} {c.n_in} -> {c.n_out}"
        if l.bwd is not None:
            d = f"Bidirectional[{l.merge}]({d})"
        parts.append(d)
    return " → ".join(parts)


def render(cv: Converted, provenance=None):
    f64 = cv.f64
    t = rust_scalar(f64)
    ty = camel(cv.name)
    up = snake(cv.name).upper()
    fn = snake(cv.name) + "_golden_error"
    layers = cv.layers
    n_x, n_out = layers[0].n_in, layers[-1].n_out
    several = cv.golden_x.ndim == 3  # S sequences, each from the zero state
    n_seq = cv.golden_x.shape[0] if several else 1
    t_x = cv.golden_x.shape[-2]
    streams = all(l.bwd is None for l in layers)
    needs_phantom = any(l.bwd is not None or l.fwd.kind in ("gru", "dense") for l in layers)

    names = set()
    for l in layers:
        names.add(cell_type(l.fwd, f64).split("<")[0])
        if l.fwd.kind == "gru" and not l.fwd.reset_after:
            names.add("ResetBefore")
        if l.fwd.kind == "dense" and l.fwd.activation != "identity":
            names.add(ACTIVATIONS[l.fwd.activation])
        if l.bwd is not None:
            names.add("Bidirectional")
            names.add("Concat" if l.merge == "concat" else "Sum")
    if len(layers) > 1:
        names.add("Stack")
    names.add("Layer")
    if streams:
        names.add("Stream")

    prov = provenance or ("python3 tools/tinyrnn_convert.py " + " ".join(sys.argv[1:]))
    src = f" from `{cv.source}`" if cv.source else ""
    if cv.framework == "torch":
        mapping = (
            f"`tinyrnn::interop::torch::load({up}_TENSORS, {up}_MODULES)` builds the same model: "
            "PyTorch's `bias_ih + bias_hh` summed where tinyrnn keeps one bias (GRU: "
            "`bnx = b_in`, `bna = b_hn`), gate blocks in PyTorch's row order (LSTM i, f, g, o; "
            "GRU r, z, n)."
        )
        golden_from = "the framework's outputs for it (the listed modules run in order)"
    else:
        mapping = (
            f"`tinyrnn::interop::keras::load` on the values of `{up}_TENSORS` builds the same "
            "model: kernels transposed, gate blocks in Keras' column order (LSTM i, f, c, o; "
            "GRU z, r, h), the GRU's `reset_after` bias `(2, 3H)` split into its input and "
            "recurrent rows (`reset_after=False`: `bna = 0`)."
        )
        golden_from = "the framework's outputs for it (`model(x, training=False)`)"
    paragraphs = [
        f"`{ty}`: `{describe(layers)}`, converted{src} ({cv.versions}).",
        f"`{up}` is a `static` built by `const fn`s only: the linker places it in flash "
        f"(`.rodata`) and inference reads it in place. `{up}_TENSORS` holds the framework's own "
        f"tensors, for verification; it is a `const`, so it costs flash only where it is used. "
        + mapping,
        f"Golden pair for a self-check on the device: `{up}_GOLDEN_X` is "
        + (f"{n_seq} sequences of {t_x} steps" if several else f"one sequence ({t_x} steps")
        + (", batch 1, " if not several else " (batch 1, ")
        + (f"from {cv.golden_source}" if cv.golden_source
           else "`numpy.random.default_rng(seed).standard_normal`")
        + "), "
        + f"`{up}_GOLDEN_Y` {golden_from.replace(' for it ', ' for them ') if several else golden_from}, computed in {cv.golden_dtype} from the zero initial "
        + ("state, one sequence at a time. " if several else "state. ")
        + f"`{fn}()` runs `{up}` on the input "
        + ("(each sequence from the zero state) " if several else "")
        + "and returns the worst `|y − golden| / max(1, |golden|)`; the check passes when it is "
        f"at most `{up}_GOLDEN_TOL`.",
    ]
    if cv.reference_error is not None:
        paragraphs.append(
            f"Host check when generated: a numpy transcription of tinyrnn's equations on these "
            f"weights vs the framework: worst error {cv.reference_error:.3g} (relative to "
            f"`max(1, |y|)`)."
        )
    docs = "\n//!\n".join(
        "\n".join("//! " + line for line in textwrap.wrap(p, 96, break_long_words=False,
                                                          break_on_hyphens=False))
        for p in paragraphs
    )
    prov_lines = "\n".join("// " + l for l in prov.split("\n"))
    head = f"""// @generated by tools/tinyrnn_convert.py: do not edit.
{prov_lines}
{docs}
#![allow(
    dead_code,
    clippy::approx_constant,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]
"""
    out = [head]
    if needs_phantom:
        out.append("use core::marker::PhantomData;")
    out.append("use tinyrnn::params::{matrix_from_rows, vector_from_array, Zeroed};")
    out.append("use tinyrnn::{" + ", ".join(sorted(names)) + "};")
    out.append("")
    out.append(f"/// The model's type: `{describe(layers)}`.")
    out.append("#[rustfmt::skip]")
    out.append(f"pub type {ty} = {model_type(layers, f64)};")
    out.append("")
    out.append(f"/// The weights, in flash. Input {n_x} features a step, output {n_out}.")
    out.append("#[rustfmt::skip]")
    out.append(f"pub static {up}: {ty} = {stack_literal(layers, f64, 0)};")
    out.append("")
    if cv.framework == "torch":
        mods = ", ".join(f'"{m}"' for m in cv.modules)
        out.append("/// The module names, in order, for `tinyrnn::interop::torch::load`.")
        out.append(f"pub const {up}_MODULES: &[&str] = &[{mods}];")
        out.append("")
        what = "`state_dict()` entries of those modules, in order"
    else:
        what = "`model.get_weights()` arrays, in order, named `<layer index>/<weight name>`"
    out.append(f"/// The framework's {what}; values row-major (`np.ravel`). For")
    out.append("/// verification: a `const`, so it costs flash only where it is used.")
    out.append("#[rustfmt::skip]")
    out.append(f"pub const {up}_TENSORS: &[(&str, &[{t}])] = &[")
    for name, arr in cv.tensors:
        shape = ", ".join(str(s) for s in arr.shape) + ("," if arr.ndim == 1 else "")
        out.append(f"    // ({shape})")
        out.append(f'    ("{name}", &{fmt_list(arr, f64, indent=4)}),')
    out.append("];")
    out.append("")
    if several:
        out.append(f"/// The golden input: {n_seq} sequences of {t_x} steps of {n_x} features "
                   "(batch 1), each")
        out.append("/// run from the zero state.")
        out.append("#[rustfmt::skip]")
        gx = fmt_seqs(cv.golden_x, f64)
        out.append(f"pub static {up}_GOLDEN_X: [[[{t}; {n_x}]; {t_x}]; {n_seq}] = {gx};")
        out.append("")
        out.append(f"/// The framework's outputs for `{up}_GOLDEN_X`, every step of every "
                   "sequence, each")
        out.append("/// from the zero state.")
        out.append("#[rustfmt::skip]")
        gy = fmt_seqs(cv.golden_y, f64)
        out.append(f"pub static {up}_GOLDEN_Y: [[[{t}; {n_out}]; {t_x}]; {n_seq}] = {gy};")
    else:
        out.append(f"/// The golden input: {t_x} steps of {n_x} features (batch 1).")
        out.append("#[rustfmt::skip]")
        gx = fmt_rows(cv.golden_x, f64, 0)
        out.append(f"pub static {up}_GOLDEN_X: [[{t}; {n_x}]; {t_x}] = {gx};")
        out.append("")
        out.append(f"/// The framework's outputs for `{up}_GOLDEN_X`, every step, from the zero state.")
        out.append("#[rustfmt::skip]")
        out.append(
            f"pub static {up}_GOLDEN_Y: [[{t}; {n_out}]; {t_x}] = {fmt_rows(cv.golden_y, f64, 0)};"
        )
    out.append("")
    out.append("/// The golden check's tolerance: `|y − golden| ≤ TOL · max(1, |golden|)`, per")
    out.append("/// output.")
    out.append(f"pub const {up}_GOLDEN_TOL: {t} = {float_literal(cv.tol, f64)};")
    out.append("")
    if several:
        out.append(f"/// Runs `{up}` on each sequence of `{up}_GOLDEN_X`,")
        out.append("/// each from the zero state, and returns the worst `|y − golden| / max(1, "
                   "|golden|)`")
        out.append("/// over every output (NaN if an output is NaN).")
    else:
        out.append(f"/// Runs `{up}` on `{up}_GOLDEN_X` from the zero state and returns the worst")
    if not several:
        out.append("/// `|y − golden| / max(1, |golden|)` over every output (NaN if an output is NaN).")
    if streams:
        out.append("/// Streams one step at a time: no tape, the state only.")
    else:
        out.append("/// A bidirectional layer needs the whole sequence: one forward pass, its")
        out.append("/// tape on the stack.")
    out.append(f"pub fn {fn}() -> {t} {{")
    out.append(f"    type L = {ty};")
    out.append(f"    let mut worst: {t} = 0.0;")
    out.append(f"    let mut note = |y: &<L as Layer<{t}, 1>>::Y, want: &[{t}; {n_out}]| {{")
    out.append("        for (a, b) in y.iter().zip(want) {")
    out.append("            // |a − b| / max(1, |b|) with core's operators (NaN stays NaN).")
    out.append("            let d = if a > b { a - b } else { b - a };")
    out.append("            let mag = if *b < 0.0 { -*b } else { *b };")
    out.append("            let e = if mag > 1.0 { d / mag } else { d };")
    out.append("            if e.is_nan() || e > worst {")
    out.append("                worst = e;")
    out.append("            }")
    out.append("        }")
    out.append("    };")
    if streams and several:
        out.append(f"    for (xs, wants) in {up}_GOLDEN_X.iter().zip(&{up}_GOLDEN_Y) {{")
        out.append(f"        let mut stream = Stream::<{t}, L>::new();")
        out.append("        for (xt, want) in xs.iter().zip(wants) {")
        out.append(f"            let mut x = <<L as Layer<{t}, 1>>::X as Zeroed>::ZEROS;")
        out.append("            for (xi, v) in x.iter_mut().zip(xt) {")
        out.append("                *xi = *v;")
        out.append("            }")
        out.append(f"            note(&stream.step(&{up}, &x), want);")
        out.append("        }")
        out.append("    }")
    elif streams:
        out.append(f"    let mut stream = Stream::<{t}, L>::new();")
        out.append(f"    for (xt, want) in {up}_GOLDEN_X.iter().zip(&{up}_GOLDEN_Y) {{")
        out.append(f"        let mut x = <<L as Layer<{t}, 1>>::X as Zeroed>::ZEROS;")
        out.append("        for (xi, v) in x.iter_mut().zip(xt) {")
        out.append("            *xi = *v;")
        out.append("        }")
        out.append(f"        note(&stream.step(&{up}, &x), want);")
        out.append("    }")
    elif several:
        out.append(f"    let mut tape = <L as Layer<{t}, 1>>::Tape::<{t_x}>::ZEROS;")
        out.append(f"    for (xs, wants) in {up}_GOLDEN_X.iter().zip(&{up}_GOLDEN_Y) {{")
        out.append(f"        let mut x = [<<L as Layer<{t}, 1>>::X as Zeroed>::ZEROS; {t_x}];")
        out.append("        for (x, xt) in x.iter_mut().zip(xs) {")
        out.append("            for (xi, v) in x.iter_mut().zip(xt) {")
        out.append("                *xi = *v;")
        out.append("            }")
        out.append("        }")
        out.append(f"        <L as Layer<{t}, 1>>::forward(&{up}, &x, &Zeroed::ZEROS, &mut tape);")
        out.append(f"        let y = <L as Layer<{t}, 1>>::output(&tape);")
        out.append("        for (y, want) in y.iter().zip(wants) {")
        out.append("            note(y, want);")
        out.append("        }")
        out.append("    }")
    else:
        out.append(f"    let mut x = [<<L as Layer<{t}, 1>>::X as Zeroed>::ZEROS; {t_x}];")
        out.append(f"    for (x, xt) in x.iter_mut().zip(&{up}_GOLDEN_X) {{")
        out.append("        for (xi, v) in x.iter_mut().zip(xt) {")
        out.append("            *xi = *v;")
        out.append("        }")
        out.append("    }")
        out.append(f"    let mut tape = <L as Layer<{t}, 1>>::Tape::<{t_x}>::ZEROS;")
        out.append(f"    <L as Layer<{t}, 1>>::forward(&{up}, &x, &Zeroed::ZEROS, &mut tape);")
        out.append(f"    let y = <L as Layer<{t}, 1>>::output(&tape);")
        out.append(f"    for (y, want) in y.iter().zip(&{up}_GOLDEN_Y) {{")
        out.append("        note(y, want);")
        out.append("    }")
    out.append("    worst")
    out.append("}")
    out.append("")
    return rustfmt("\n".join(out))


def rustfmt(text):
    """The text as `cargo fmt` would leave it (the data items are `#[rustfmt::skip]`), when
    rustfmt is installed; unchanged otherwise."""
    import shutil
    import subprocess

    exe = shutil.which("rustfmt")
    if exe is None:
        return text
    try:
        r = subprocess.run([exe, "--edition", "2021", "--emit", "stdout"], input=text,
                           capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError):
        return text
    return r.stdout if r.returncode == 0 and r.stdout.strip() else text


# ---------------------------------------------------------------------------------------------
# A numpy transcription of tinyrnn's forward equations (float64), to check the mapping.
# ---------------------------------------------------------------------------------------------
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _act(name, z):
    return {"identity": lambda v: v, "tanh": np.tanh, "sigmoid": _sigmoid,
            "relu": lambda v: np.maximum(v, 0.0)}[name](z)


def _run_cell(c: Cell, xs):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in c.fields.items()}
    if c.kind == "dense":
        return [_act(c.activation, p["w"] @ x + p["b"]) for x in xs]
    a = np.zeros(c.n_out)
    cc = np.zeros(c.n_out)
    ys = []
    for x in xs:
        if c.kind == "rnn":
            a = np.tanh(p["wax"] @ x + p["waa"] @ a + p["ba"])
        elif c.kind == "lstm":
            f = _sigmoid(p["wfx"] @ x + p["wfa"] @ a + p["bf"])
            i = _sigmoid(p["wix"] @ x + p["wia"] @ a + p["bi"])
            g = np.tanh(p["wcx"] @ x + p["wca"] @ a + p["bc"])
            o = _sigmoid(p["wox"] @ x + p["woa"] @ a + p["bo"])
            cc = f * cc + i * g
            a = o * np.tanh(cc)
        else:
            z = _sigmoid(p["wzx"] @ x + p["wza"] @ a + p["bz"])
            r = _sigmoid(p["wrx"] @ x + p["wra"] @ a + p["br"])
            if c.reset_after:
                n = np.tanh(p["wnx"] @ x + p["bnx"] + r * (p["wna"] @ a + p["bna"]))
            else:
                n = np.tanh(p["wnx"] @ x + p["bnx"] + p["wna"] @ (r * a) + p["bna"])
            a = (1.0 - z) * n + z * a
        ys.append(a)
    return ys


def reference_forward(layers, x):
    """tinyrnn's forward pass in numpy float64: (T, N_X) -> (T, N_OUT)."""
    hs = [np.asarray(v, dtype=np.float64) for v in x]
    for l in layers:
        yf = _run_cell(l.fwd, hs)
        if l.bwd is None:
            hs = yf
            continue
        yb = _run_cell(l.bwd, hs[::-1])[::-1]
        hs = [np.concatenate([f, b]) if l.merge == "concat" else f + b for f, b in zip(yf, yb)]
    return np.stack(hs)


def worst_error(y, want):
    y, want = np.asarray(y, np.float64), np.asarray(want, np.float64)
    e = np.abs(y - want) / np.maximum(1.0, np.abs(want))
    return float(np.max(e)) if e.size else 0.0


def golden_input(n_x, seq_len, seed, dtype):
    return np.random.default_rng(seed).standard_normal((seq_len, n_x)).astype(dtype)


def read_golden_input(path):
    """A golden input from a file: `.npy` of shape (T, N_X) (one sequence) or (S, T, N_X) (S
    sequences, each run from the zero state); or a text file (`.csv` comma-separated, other
    names whitespace-separated) with one step per line and one column per feature."""
    if str(path).endswith(".npy"):
        return np.load(path, allow_pickle=False)
    delim = "," if str(path).endswith(".csv") else None
    return np.loadtxt(path, delimiter=delim, ndmin=2, comments="#")


def check_golden_x(x, n_x, dt):
    """A given golden input as an array of dtype `dt`, of shape (T, N_X) or (S, T, N_X)."""
    x = np.asarray(x)
    if x.ndim not in (2, 3) or x.shape[-1] != n_x or x.shape[-2] < 1 or x.size == 0:
        raise ConvertError(f"golden input of shape {x.shape}: expected (T, {n_x}) or "
                           f"(S, T, {n_x}), T >= 1")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ConvertError(f"golden input of dtype {x.dtype}: expected numbers")
    x = x.astype(dt)
    if not np.all(np.isfinite(x)):
        raise ConvertError("golden input: non-finite values")
    return x


def check_chain(layers):
    for lo, hi in zip(layers, layers[1:]):
        if hi.n_in != lo.n_out:
            raise ConvertError(
                f"layer sizes do not chain: {describe([lo])} outputs {lo.n_out}, "
                f"{describe([hi])} reads {hi.n_in}"
            )


def finish(cv: Converted, verify):
    check_chain(cv.layers)
    if verify:
        if cv.golden_x.ndim == 3:
            ref = np.stack([reference_forward(cv.layers, x) for x in cv.golden_x])
        else:
            ref = reference_forward(cv.layers, cv.golden_x)
        cv.reference_error = worst_error(ref, cv.golden_y)
        if not cv.reference_error <= cv.tol:
            raise ConvertError(
                f"the converted model does not reproduce the framework: worst error "
                f"{cv.reference_error:.3g} > {cv.tol:g} (an option of a layer tinyrnn does not "
                f"model?); --no-verify writes the file anyway"
            )
    return cv


# ---------------------------------------------------------------------------------------------
# PyTorch.
# ---------------------------------------------------------------------------------------------
_TORCH_KEY = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")


def _blocks(t, g):
    """Splits the rows of a (g·H, ...) tensor into g blocks."""
    return np.split(np.asarray(t), g, axis=0)


def torch_cell(kind, ent, dt):
    """A tinyrnn cell from one layer/direction of a PyTorch recurrent module: `ent` maps
    weight_ih, weight_hh, bias_ih, bias_hh to arrays (already of dtype `dt`)."""
    w_ih, w_hh, b_ih, b_hh = (ent[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    h = w_hh.shape[1]
    g = GATES[kind]
    if w_hh.shape != (g * h, h) or w_ih.shape[0] != g * h or b_ih.shape != (g * h,) \
            or b_hh.shape != (g * h,):
        raise ConvertError(
            f"shapes {w_ih.shape}, {w_hh.shape}, {b_ih.shape}, {b_hh.shape} are not those of "
            f"a {kind.upper()} layer ({g}H rows)"
        )
    n_x = w_ih.shape[1]
    wx, wa, bi, bh = (_blocks(t, g) for t in (w_ih, w_hh, b_ih, b_hh))
    s = [(bi[k] + bh[k]).astype(dt) for k in range(g)]  # summed in the target type
    if kind == "rnn":
        f = {"wax": wx[0], "waa": wa[0], "ba": s[0]}
    elif kind == "lstm":  # rows i, f, g, o
        f = {"wix": wx[0], "wia": wa[0], "bi": s[0], "wfx": wx[1], "wfa": wa[1], "bf": s[1],
             "wcx": wx[2], "wca": wa[2], "bc": s[2], "wox": wx[3], "woa": wa[3], "bo": s[3]}
    else:  # rows r, z, n
        f = {"wrx": wx[0], "wra": wa[0], "br": s[0], "wzx": wx[1], "wza": wa[1], "bz": s[1],
             "wnx": wx[2], "wna": wa[2], "bnx": bi[2], "bna": bh[2]}
    return Cell(kind, n_x, h, f)


def torch_module_layers(sd, prefix, spec, dt):
    """The tinyrnn layers of one module of a state_dict: `spec` is ("dense", activation) or
    (kind, None). Returns (layers, keys read, structure for rebuilding the module)."""
    p = prefix + "." if prefix else ""
    own = [k for k in sd if k.startswith(p)] if p else list(sd)
    if not own:
        raise ConvertError(f"no state_dict entries for module {prefix!r}")
    kind, act = spec
    if kind == "dense":
        if sorted(own) != sorted([p + "weight", p + "bias"]):
            missing = {p + "weight", p + "bias"} - set(own)
            what = f"missing {sorted(missing)} (bias=False is not supported)" if missing \
                else f"unexpected entries {sorted(set(own) - {p + 'weight', p + 'bias'})}"
            raise ConvertError(f"module {prefix!r} is not an nn.Linear: {what}")
        w, b = sd[p + "weight"].astype(dt), sd[p + "bias"].astype(dt)
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise ConvertError(f"nn.Linear {prefix!r}: shapes {w.shape}, {b.shape}")
        c = Cell("dense", w.shape[1], w.shape[0], {"w": w, "b": b}, activation=act)
        return [Layer(c)], own, ("linear", w.shape[1], w.shape[0])
    per = {}
    for k in own:
        m = _TORCH_KEY.match(k[len(p):])
        if not m:
            hint = " (proj_size is not supported)" if "weight_hr" in k else ""
            raise ConvertError(f"unexpected entry {k!r} in recurrent module {prefix!r}{hint}")
        per.setdefault((int(m.group(2)), bool(m.group(3))), {})[m.group(1)] = sd[k].astype(dt)
    n_layers = 1 + max(l for l, _ in per)
    bi = any(r for _, r in per)
    layers = []
    for l in range(n_layers):
        cells = []
        for r in ([False, True] if bi else [False]):
            ent = per.get((l, r), {})
            miss = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"} - set(ent)
            if miss:
                extra = " (bias=False is not supported)" if miss <= {"bias_ih", "bias_hh"} else ""
                names = sorted(f"{p}{m}_l{l}{'_reverse' if r else ''}" for m in miss)
                raise ConvertError(f"missing {names}{extra}")
            g = ent["weight_hh"].shape[0] // max(1, ent["weight_hh"].shape[1])
            if g != GATES[kind]:
                other = {v: k for k, v in GATES.items()}.get(g, "?")
                raise ConvertError(
                    f"module {prefix!r} has {g}H-row weights ({other.upper()}), not "
                    f"{kind.upper()} ({GATES[kind]}H): check --kind"
                )
            cells.append(torch_cell(kind, ent, dt))
        layers.append(Layer(cells[0], cells[1] if bi else None))
    struct = (kind, layers[0].n_in, layers[0].fwd.n_out, n_layers, bi)
    return layers, own, struct


def _parse_modules(text):
    """"rnn:lstm,fc:tanh" -> [("rnn", "lstm"), ("fc", "tanh")]; the spec may be empty."""
    out = []
    for tok in text.split(","):
        tok = tok.strip()
        name, _, spec = tok.partition(":")
        spec = spec.strip().lower() or None
        if spec is not None and spec not in RECURRENT + tuple(ACTIVATIONS) + ("linear",):
            raise ConvertError(
                f"--modules {tok!r}: after ':' give a kind (lstm|gru|rnn) or a Linear's "
                f"activation (identity|tanh|sigmoid|relu)"
            )
        out.append((name.strip(), "identity" if spec == "linear" else spec))
    return out


def _infer_prefixes(sd):
    """Module names in order of first appearance in a state_dict ("" for a bare module)."""
    out = []
    for k in sd:
        head, _, tail = k.rpartition(".")
        if _TORCH_KEY.match(tail) or tail in ("weight", "bias"):
            if head not in out:
                out.append(head)
    return out


def _load_object(spec):
    """`pkg.mod:attr`, `path/to/file.py:attr`, or a `.pt` holding a pickled module."""
    import torch

    if spec.endswith((".pt", ".pth")) and ":" not in spec:
        print(f"note: unpickling {spec} (torch.load(weights_only=False) runs the file's code: "
              f"only load files you trust)", file=sys.stderr)
        return torch.load(spec, map_location="cpu", weights_only=False)
    mod, sep, attr = spec.rpartition(":")
    if not sep:
        raise ConvertError(f"--module {spec!r}: expected module:attr, file.py:attr or a .pt file")
    if mod.endswith(".py"):
        name = "_tinyrnn_user_" + re.sub(r"\W", "_", os.path.basename(mod)[:-3])
        s = importlib.util.spec_from_file_location(name, mod)
        m = importlib.util.module_from_spec(s)
        sys.modules[name] = m
        s.loader.exec_module(m)
    else:
        m = importlib.import_module(mod)
    obj = m
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _as_numpy_state_dict(sd):
    import torch

    out = {}
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise ConvertError(f"state_dict entry {k!r} is not a tensor")
        out[k] = v.detach().cpu().numpy()
    return out


def convert_torch(module=None, state_dict=None, modules=None, kind=None, *, name="net",
                  f64=False, seq_len=DEFAULT_SEQ_LEN, seed=DEFAULT_SEED, verify=True,
                  source="", golden_x=None, golden_source="the caller"):
    """Converts a PyTorch model.

    `module`: an `nn.Module` (or None); `state_dict`: a dict of tensors, or a path to a
    `torch.save`d one (loaded into `module` when both are given). `modules`: the module names
    in order, a list or "rnn,fc" (each may carry ":lstm|gru|rnn" for a recurrent module or
    ":tanh|sigmoid|relu" for an nn.Linear's activation); inferred from the module's children or
    the state_dict's key prefixes when None. `kind`: the recurrent kind for modules without
    one (required without a module object; checked against the weights' 4H/3H/1H rows).
    `golden_x`: the golden input, (T, N_X) or (S, T, N_X) (S sequences, each run from the zero
    state; `seq_len` and `seed` are then unused), described in the file as `golden_source`;
    None draws one sequence from `seed`.
    """
    import torch
    from torch import nn

    dt = dtype_of(f64)
    if isinstance(state_dict, (str, os.PathLike)) and str(state_dict).endswith(".safetensors"):
        # A `.safetensors` state_dict, as tinyrnn's `torch::save` + the `safetensors` crate
        # write it (`cargo run --example from_pytorch -- --export PATH`).
        from safetensors.torch import load_file
        state_dict = load_file(str(state_dict))
    elif isinstance(state_dict, (str, os.PathLike)):
        state_dict = torch.load(state_dict, map_location="cpu", weights_only=True)
        if isinstance(state_dict, dict) and "state_dict" in state_dict \
                and isinstance(state_dict["state_dict"], dict):
            state_dict = state_dict["state_dict"]
    if module is not None:
        if not isinstance(module, nn.Module):
            if callable(module):
                module = module()
            if not isinstance(module, nn.Module):
                raise ConvertError(f"{type(module).__name__} is not an nn.Module")
        module = copy.deepcopy(module).cpu()
        if state_dict is not None:
            module.load_state_dict(state_dict)
        sd_t = module.state_dict()
    elif state_dict is not None:
        sd_t = state_dict
    else:
        raise ConvertError("give a module, a state_dict, or both")
    if kind is not None and kind not in RECURRENT:
        raise ConvertError(f"--kind {kind!r}: one of lstm, gru, rnn")
    sd = _as_numpy_state_dict(sd_t)

    # The module list: names, plus kind / activation per name.
    if modules is None:
        if module is not None:
            if isinstance(module, (nn.RNNBase, nn.Linear)):
                names = [""]
            else:
                names = [n for n, _ in module.named_children()]
        else:
            names = _infer_prefixes(sd)
        print(f"note: modules in order: {','.join(names) or '(bare module)'} "
              f"(pass --modules to choose)", file=sys.stderr)
        modules = [(n, None) for n in names]
    elif isinstance(modules, str):
        modules = _parse_modules(modules)
    else:
        modules = [m if isinstance(m, tuple) else _parse_modules(m)[0] for m in modules]

    # Resolve each name to ("dense", act) or (kind, None), and the runnable framework modules.
    plan = []  # [(name, spec, torch module or None)]
    for mname, spec in modules:
        sub = None
        if module is not None:
            try:
                sub = module.get_submodule(mname)
            except AttributeError as e:
                raise ConvertError(f"module has no submodule {mname!r}") from e
            if isinstance(sub, (nn.Tanh, nn.Sigmoid, nn.ReLU, nn.Identity)):
                act = {nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.ReLU: "relu",
                       nn.Identity: "identity"}[type(sub)]
                if not plan or plan[-1][1][0] != "dense" or plan[-1][1][1] != "identity":
                    raise ConvertError(f"activation module {mname!r} must follow an nn.Linear")
                plan[-1] = (plan[-1][0], ("dense", act), plan[-1][2])
                continue
            if isinstance(sub, nn.Dropout):
                continue  # the identity at inference
            if isinstance(sub, nn.Linear):
                s = ("dense", spec if spec not in (None,) + RECURRENT else "identity")
                if spec in RECURRENT:
                    raise ConvertError(f"{mname!r} is an nn.Linear, not {spec.upper()}")
            elif isinstance(sub, nn.RNNBase):
                k = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}.get(type(sub))
                if k is None:
                    raise ConvertError(f"{mname!r}: unsupported {type(sub).__name__}")
                if spec is not None and spec != k:
                    raise ConvertError(f"{mname!r} is an nn.{type(sub).__name__}, not {spec}")
                if k == "rnn" and sub.nonlinearity != "tanh":
                    raise ConvertError(f"{mname!r}: nn.RNN(nonlinearity='{sub.nonlinearity}') "
                                       f"is not supported (tinyrnn's Rnn is tanh)")
                if getattr(sub, "proj_size", 0):
                    raise ConvertError(f"{mname!r}: LSTM proj_size is not supported")
                if not sub.bias:
                    raise ConvertError(f"{mname!r}: bias=False is not supported")
                s = (k, None)
            else:
                raise ConvertError(f"{mname!r}: unsupported {type(sub).__name__} "
                                   f"(nn.LSTM, nn.GRU, nn.RNN, nn.Linear, activations, Dropout)")
        else:
            p = mname + "." if mname else ""
            if p + "weight" in sd or (not mname and "weight" in sd):
                if spec in RECURRENT:
                    raise ConvertError(f"{mname!r} holds an nn.Linear's weight, not {spec}")
                s = ("dense", spec or "identity")
            else:
                k = spec or kind
                if k is None:
                    raise ConvertError(
                        f"module {mname!r} is recurrent: say which kind with --kind "
                        f"lstm|gru|rnn (or --modules {mname}:lstm)"
                    )
                s = (k, None)
        plan.append((mname, s, sub))

    layers, tensors, structs = [], [], []
    for mname, s, _ in plan:
        ls, keys, struct = torch_module_layers(sd, mname, s, dt)
        layers += ls
        structs.append(struct)
        tensors += [(k, sd[k].astype(dt)) for k in keys]
    # state_dict order, as the framework lists them.
    order = {k: i for i, k in enumerate(sd)}
    tensors.sort(key=lambda kv: order[kv[0]])

    # Golden pair: the framework's own modules, chained (rebuilt from the shapes when only a
    # state_dict was given), batch 1, from the zero state.
    tdt = torch.float64 if f64 else torch.float32
    runnable = []
    for (mname, s, sub), struct in zip(plan, structs):
        if sub is None:
            p = mname + "." if mname else ""
            own = {k[len(p):]: v for k, v in sd_t.items() if k.startswith(p)}
            if struct[0] == "linear":
                sub = nn.Linear(struct[1], struct[2])
            else:
                cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[struct[0]]
                sub = cls(struct[1], struct[2], num_layers=struct[3], bidirectional=struct[4])
            sub.load_state_dict(own)
        runnable.append((s, copy.deepcopy(sub).to(tdt).eval()))
    if golden_x is None:
        x, golden_source = golden_input(layers[0].n_in, seq_len, seed, dt), ""
    else:
        x = check_golden_x(golden_x, layers[0].n_in, dt)

    def run_one(x):  # one sequence (T, N_X), batch 1, from the zero state
        with torch.no_grad():
            h = torch.from_numpy(np.asarray(x, np.float64)).to(tdt)  # (T, N)
            for (k, act), sub in runnable:
                if k == "dense":
                    h = sub(h)
                    h = {"identity": lambda v: v, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                         "relu": torch.relu}[act](h)
                else:
                    inp = h[None] if sub.batch_first else h[:, None]
                    y, _ = sub(inp)
                    h = y[0] if sub.batch_first else y[:, 0]
            return h.numpy().astype(dt)

    y = np.stack([run_one(s) for s in x]) if x.ndim == 3 else run_one(x)
    cv = Converted(
        name=name, framework="torch", layers=layers, tensors=tensors, golden_x=x, golden_y=y,
        tol=TOL_F64 if f64 else TOL_F32, f64=f64, modules=[m for m, _, _ in plan],
        golden_dtype="float64" if f64 else "float32",
        versions=f"torch {torch.__version__}, numpy {np.__version__}", source=source,
        golden_source=golden_source,
    )
    return finish(cv, verify)


# ---------------------------------------------------------------------------------------------
# Keras 3.
# ---------------------------------------------------------------------------------------------
def _keras_cell(layer, dt, backward=False):
    """A tinyrnn cell from a Keras SimpleRNN / LSTM / GRU / Dense layer (`backward`: the
    go_backwards layer of a Bidirectional)."""
    import keras

    cfg = layer.get_config()
    w = {v.name: np.asarray(keras.ops.convert_to_numpy(v.value)).astype(dt) for v in layer.weights}
    lname = f"{type(layer).__name__} {layer.name!r}"
    if isinstance(layer, keras.layers.Dense):
        act = cfg.get("activation", "linear")
        act = "identity" if act in ("linear", None) else act
        if act not in ACTIVATIONS:
            raise ConvertError(f"{lname}: activation {act!r} (linear, tanh, sigmoid, relu)")
        if not cfg.get("use_bias", True):
            raise ConvertError(f"{lname}: use_bias=False is not supported")
        k, b = w["kernel"], w["bias"]
        if k.ndim != 2:
            raise ConvertError(f"{lname}: kernel {k.shape}")
        return Cell("dense", k.shape[0], k.shape[1], {"w": k.T.copy(), "b": b}, activation=act)
    kinds = {keras.layers.SimpleRNN: "rnn", keras.layers.LSTM: "lstm", keras.layers.GRU: "gru"}
    kind = kinds.get(type(layer))
    if kind is None:
        raise ConvertError(f"{lname} is not supported (SimpleRNN, LSTM, GRU, Bidirectional, "
                           f"Dense, Dropout)")
    problems = []
    if cfg.get("activation", "tanh") != "tanh":
        problems.append(f"activation={cfg['activation']!r}")
    if kind != "rnn" and cfg.get("recurrent_activation", "sigmoid") != "sigmoid":
        problems.append(f"recurrent_activation={cfg['recurrent_activation']!r}")
    if not cfg.get("use_bias", True):
        problems.append("use_bias=False")
    if not cfg.get("return_sequences", False):
        problems.append("return_sequences=False (tinyrnn outputs every step: set it True)")
    if bool(cfg.get("go_backwards", False)) != backward:
        problems.append(f"go_backwards={cfg.get('go_backwards', False)}")
    if cfg.get("return_state", False):
        problems.append("return_state=True")
    if problems:
        raise ConvertError(f"{lname}: unsupported {', '.join(problems)}")
    k, rk, b = w["kernel"], w["recurrent_kernel"], w["bias"]
    g = GATES[kind]
    h = rk.shape[0]
    if rk.shape != (h, g * h) or k.shape[1] != g * h:
        raise ConvertError(f"{lname}: kernel {k.shape}, recurrent_kernel {rk.shape}")
    kx = [c.T.copy() for c in np.split(k, g, axis=1)]
    ka = [c.T.copy() for c in np.split(rk, g, axis=1)]
    reset_after = True
    if kind == "rnn":
        f = {"wax": kx[0], "waa": ka[0], "ba": b}
    elif kind == "lstm":  # columns i, f, c, o
        bb = np.split(b, 4)
        f = {"wix": kx[0], "wia": ka[0], "bi": bb[0], "wfx": kx[1], "wfa": ka[1], "bf": bb[1],
             "wcx": kx[2], "wca": ka[2], "bc": bb[2], "wox": kx[3], "woa": ka[3], "bo": bb[3]}
    else:  # columns z, r, h
        reset_after = bool(cfg.get("reset_after", True))
        f = {"wzx": kx[0], "wza": ka[0], "wrx": kx[1], "wra": ka[1], "wnx": kx[2], "wna": ka[2]}
        if reset_after:
            if b.shape != (2, 3 * h):
                raise ConvertError(f"{lname}: reset_after bias {b.shape}, expected (2, {3 * h})")
            bi_, bh_ = np.split(b[0], 3), np.split(b[1], 3)
            f.update(bz=(bi_[0] + bh_[0]).astype(dt), br=(bi_[1] + bh_[1]).astype(dt),
                     bnx=bi_[2], bna=bh_[2])
        else:
            bb = np.split(b, 3)
            f.update(bz=bb[0], br=bb[1], bnx=bb[2], bna=np.zeros(h, dt))
    return Cell(kind, k.shape[0], h, f, reset_after=reset_after)


def convert_keras(model, *, name="net", f64=False, seq_len=DEFAULT_SEQ_LEN, seed=DEFAULT_SEED,
                  verify=True, source="", golden_x=None, golden_source="the caller"):
    """Converts a Keras 3 Sequential model (a model object, or a path to a `.keras` file) of
    SimpleRNN / LSTM / GRU (return_sequences=True), Bidirectional (concat or sum) and Dense
    layers; Dropout layers are skipped (the identity at inference). `golden_x`, `golden_source`: as for
    `convert_torch`."""
    import keras

    dt = dtype_of(f64)
    if isinstance(model, (str, os.PathLike)):
        model = keras.saving.load_model(model, compile=False)
    if not isinstance(model, keras.Sequential):
        raise ConvertError(f"{type(model).__name__}: only keras.Sequential models are supported")
    if not model.built:
        raise ConvertError("the model is not built: give it an input shape (keras.Input((None, "
                           "n_features)) as its first layer) or call it once")
    layers, tensors = [], []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            continue
        if isinstance(layer, keras.layers.Bidirectional):
            if layer.merge_mode not in ("concat", "sum"):
                raise ConvertError(f"Bidirectional {layer.name!r}: merge_mode "
                                   f"{layer.merge_mode!r} (concat or sum)")
            fl, bl = layer.forward_layer, layer.backward_layer
            if type(fl) is not type(bl):
                raise ConvertError(f"Bidirectional {layer.name!r}: two different layer kinds")
            fwd = _keras_cell(fl, dt)
            bwd = _keras_cell(bl, dt, backward=True)
            if (fwd.kind, fwd.n_in, fwd.n_out, fwd.reset_after) != \
                    (bwd.kind, bwd.n_in, bwd.n_out, bwd.reset_after):
                raise ConvertError(f"Bidirectional {layer.name!r}: directions differ")
            layers.append(Layer(fwd, bwd, layer.merge_mode))
            for v in layer.weights:
                d = "forward" if any(v is u for u in fl.weights) else "backward"
                tensors.append((f"{i}/{d}/{v.name}", v))
        else:
            layers.append(Layer(_keras_cell(layer, dt)))
            tensors += [(f"{i}/{v.name}", v) for v in layer.weights]
    if not layers:
        raise ConvertError("the model has no layers")
    # The list must be exactly model.get_weights(), in order.
    got = model.get_weights()
    mine = [np.asarray(keras.ops.convert_to_numpy(v.value)) for _, v in tensors]
    if len(got) != len(mine) or any(a.shape != b.shape or not np.array_equal(a, b)
                                    for a, b in zip(got, mine)):
        raise ConvertError("internal: the layers' weights are not model.get_weights() in order")
    tensors = [(n, a.astype(dt)) for (n, _), a in zip(tensors, got)]

    if golden_x is None:
        x, golden_source = golden_input(layers[0].n_in, seq_len, seed, dt), ""
    else:
        x = check_golden_x(golden_x, layers[0].n_in, dt)

    def run_one(x):  # one sequence (T, N_X), batch 1
        y = model(np.asarray(x, np.float32)[None], training=False)
        y = np.asarray(keras.ops.convert_to_numpy(y))
        if y.ndim != 3 or y.shape[:2] != (1, x.shape[0]):
            raise ConvertError(f"the model's output has shape {y.shape}, expected "
                               f"(1, {x.shape[0]}, N)")
        return y[0].astype(dt)

    y = np.stack([run_one(s) for s in x]) if x.ndim == 3 else run_one(x)
    cv = Converted(
        name=name, framework="keras", layers=layers, tensors=tensors, golden_x=x,
        golden_y=y, tol=TOL_F32, f64=f64, golden_dtype="float32", golden_source=golden_source,
        versions=f"keras {keras.__version__} ({keras.backend.backend()} backend), "
                 f"numpy {np.__version__}",
        source=source,
    )
    return finish(cv, verify)


# ---------------------------------------------------------------------------------------------
# The committed samples.
# ---------------------------------------------------------------------------------------------
SELFTEST_TORCH_SEED = 0
SELFTEST_KERAS_SEED = 1
SELFTEST_SEQ_LEN = 10


def _sample_torch_net():
    """{rnn: nn.LSTM(3, 8, num_layers=2), fc: nn.Linear(8, 2)}; also `SampleNet`."""
    from torch import nn

    class SampleNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 8, num_layers=2)
            self.fc = nn.Linear(8, 2)

        def forward(self, x):  # (T, batch, 3) -> (T, batch, 2)
            return self.fc(self.rnn(x)[0])

    return SampleNet


def SampleNet():  # noqa: N802 (a zero-argument factory, importable as tools/...:SampleNet)
    """The torch sample's architecture, untrained (load a state_dict into it)."""
    return _sample_torch_net()()


def selftest(out_dir=None):
    """Regenerates tests/fixtures/converted_torch.rs and converted_keras.rs through the CLI,
    checking on the way that the PyTorch module and state_dict paths agree."""
    import torch
    import keras

    out_dir = out_dir or os.path.join(REPO, "tests", "fixtures")
    me = os.path.abspath(__file__)
    with tempfile.TemporaryDirectory() as tmp:
        # PyTorch: default init under torch.manual_seed(0), saved as a state_dict.
        torch.manual_seed(SELFTEST_TORCH_SEED)
        net = SampleNet()
        sd_path = os.path.join(tmp, "sample_lstm.pt")
        torch.save(net.state_dict(), sd_path)
        out_t = os.path.join(out_dir, "converted_torch.rs")
        common = ["--name", "torch_lstm", "--seq-len", str(SELFTEST_SEQ_LEN), "--seed", "0"]
        prov = ("python3 tools/tinyrnn_convert.py --selftest: torch.manual_seed(0); "
                "{rnn: nn.LSTM(3, 8, num_layers=2), fc: nn.Linear(8, 2)}, default init;\n"
                "  torch --module tools/tinyrnn_convert.py:SampleNet --state-dict <its state_dict> "
                "--modules rnn,fc " + " ".join(common))
        a = main(["torch", "--module", f"{me}:SampleNet", "--state-dict", sd_path,
                  "--modules", "rnn,fc", *common, "-o", out_t], provenance=prov)
        b = main(["torch", "--state-dict", sd_path, "--modules", "rnn,fc", "--kind", "lstm",
                  *common, "-o", os.path.join(tmp, "b.rs")], provenance=prov)
        # Everything but the header (which names the source) must agree.
        if a.split("\n#![allow(", 1)[1] != b.split("\n#![allow(", 1)[1]:
            raise ConvertError("selftest: the module and state_dict paths disagree")

        # Keras: Bidirectional(GRU(6, reset_after=True)) + Dense(2) on 3 inputs, every weight
        # uniform in [-0.5, 0.5) from numpy default_rng(1) (Keras' default init zeroes biases).
        keras.utils.set_random_seed(SELFTEST_KERAS_SEED)
        model = keras.Sequential([
            keras.Input((None, 3)),
            keras.layers.Bidirectional(
                keras.layers.GRU(6, reset_after=True, return_sequences=True)),
            keras.layers.Dense(2),
        ])
        rng = np.random.default_rng(SELFTEST_KERAS_SEED)
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
                           for w in model.get_weights()])
        k_path = os.path.join(tmp, "sample_bigru.keras")
        model.save(k_path)
        out_k = os.path.join(out_dir, "converted_keras.rs")
        prov_k = ("python3 tools/tinyrnn_convert.py --selftest: "
                  "keras.Sequential([Input((None, 3)), "
                  "Bidirectional(GRU(6, reset_after=True, return_sequences=True)), Dense(2)]),\n"
                  "  every weight uniform in [-0.5, 0.5) from numpy default_rng(1), "
                  "saved as .keras; "
                  "keras <it> --name keras_bigru --seq-len 10 --seed 0")
        main(["keras", k_path, "--name", "keras_bigru", "--seq-len", str(SELFTEST_SEQ_LEN),
              "--seed", "0", "-o", out_k], provenance=prov_k)
    print(f"wrote {out_t}\nwrote {out_k}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------------------------
def _parser():
    ap = argparse.ArgumentParser(
        prog="tinyrnn_convert.py",
        description="Write a PyTorch or Keras RNN model as a Rust source file for tinyrnn: the "
                    "model as a static in flash, its framework tensors, and a golden pair.",
    )
    ap.add_argument("--selftest", action="store_true",
                    help="regenerate tests/fixtures/converted_{torch,keras}.rs (or into --out-dir)")
    ap.add_argument("--out-dir", help="with --selftest: where to write the samples")
    sub = ap.add_subparsers(dest="framework")

    def common(p):
        p.add_argument("-o", "--out", help="the .rs file to write (default: stdout)")
        p.add_argument("--name", help="the model's name: type Name, static NAME "
                                      "(default: the output file's stem, or 'net')")
        p.add_argument("--f64", action="store_true", help="scalar f64 instead of f32")
        p.add_argument("--seq-len", type=int, default=DEFAULT_SEQ_LEN,
                       help=f"golden sequence length (default {DEFAULT_SEQ_LEN})")
        p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                       help=f"golden input seed, numpy default_rng (default {DEFAULT_SEED})")
        p.add_argument("--golden-input", metavar="FILE",
                       help="the golden input instead of random numbers: .npy of shape (T, N_X) "
                            "or (S, T, N_X) (S sequences, each from the zero state), or a "
                            ".csv/.txt with one step per line, one column per feature")
        p.add_argument("--no-verify", action="store_true",
                       help="skip the numpy check of the converted model against the framework")

    t = sub.add_parser("torch", help="a PyTorch module and/or state_dict")
    t.add_argument("--module", help="module:attr, file.py:attr (an nn.Module, or a zero-argument "
                                    "class/factory), or a .pt holding a pickled module")
    t.add_argument("--state-dict", help="a torch.save()d state_dict (.pt)")
    t.add_argument("--modules", help="the module names in order, e.g. rnn,fc; each may carry "
                                     ":lstm|gru|rnn or, for an nn.Linear, :tanh|sigmoid|relu "
                                     "(default: the module's children / the keys' prefixes)")
    t.add_argument("--kind", choices=RECURRENT,
                   help="the recurrent modules' kind (needed with a state_dict alone)")
    common(t)
    k = sub.add_parser("keras", help="a Keras 3 Sequential model")
    k.add_argument("model", help="a .keras file, or module:attr / file.py:attr (a model or a "
                                 "zero-argument factory)")
    common(k)
    return ap


def main(argv=None, provenance=None):
    """The command line; returns the generated text."""
    ap = _parser()
    args = ap.parse_args(argv)
    if args.selftest:
        selftest(args.out_dir)
        return None
    if args.framework is None:
        ap.error("choose torch or keras (or --selftest)")
    if args.seq_len < 1:
        ap.error("--seq-len must be at least 1")
    name = args.name or (os.path.splitext(os.path.basename(args.out))[0] if args.out else "net")
    if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name):
        ap.error(f"--name {name!r}: letters, digits and _ (starting with a letter)")
    opts = dict(name=name, f64=args.f64, seq_len=args.seq_len, seed=args.seed,
                verify=not args.no_verify)
    try:
        if args.golden_input:
            try:
                opts["golden_x"] = read_golden_input(args.golden_input)
            except (OSError, ValueError) as e:
                raise ConvertError(f"--golden-input {args.golden_input}: {e}") from e
            opts["golden_source"] = f"`--golden-input {os.path.basename(args.golden_input)}`"
        if args.framework == "torch":
            if not args.module and not args.state_dict:
                ap.error("torch: give --module, --state-dict, or both")
            module = _load_object(args.module) if args.module else None
            src = " + ".join(os.path.basename(s) for s in (args.module, args.state_dict) if s)
            cv = convert_torch(module, args.state_dict, args.modules, args.kind, source=src,
                               **opts)
        else:
            m = args.model
            if ":" in m and not os.path.exists(m):
                m = _load_object(m)
                if not hasattr(m, "get_weights") and callable(m):
                    m = m()
            cv = convert_keras(m, source=os.path.basename(args.model), **opts)
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    text = cv.to_rust(provenance)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        ref = "skipped" if cv.reference_error is None else f"{cv.reference_error:.3g}"
        g = cv.golden_x.shape
        golden = f"{g[0]} sequences of {g[1]} steps" if len(g) == 3 else f"{g[0]} steps"
        print(f"{args.out}: {describe(cv.layers)}; golden {golden}; "
              f"numpy transcription vs framework: {ref}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return text


if __name__ == "__main__":
    main()
