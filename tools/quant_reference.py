#!/usr/bin/env python3
"""Bit-exact numpy reference of tinyrnn's integer inference, and its golden vectors.

    python3 tools/quant_reference.py            # rewrites tests/fixtures/quant_golden.rs
    python3 tools/quant_reference.py --check    # exits 1 if the committed file differs
    python3 tools/quant_reference.py --table    # prints TANH_TABLE as a Rust literal

Needs numpy only. It implements the integer scheme of the module docs of `src/quant.rs`
(independently of the Rust code: int64 arrays, explicit arithmetic `>>`, no float on the
run-time path), draws random valid quantized layers and random `i16` input sequences from a
fixed seed (the script's own 64-bit LCG, so that the file does not depend on the numpy
version: numpy does not promise its generators' streams across versions), runs them, and writes the models, inputs and per-step
outputs as Rust source. `tests/quant.rs` (host) and the QEMU firmware check that the Rust
layers reproduce every output bit for bit. Running it twice writes the same file.

Rounding: the run-time rounding is `rshr`, half up (floor of `v + 2^(s-1)` over `2^s`), never
`np.round` (half to even). The one conversion-time rounding (the tanh table) is half away from
zero, done with `math.floor(v + 0.5)` on a non-negative `v`.
"""

import math
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "quant_golden.rs")
SEED = 20261130
I64 = np.int64


# --- fixed-point primitives (src/quant/fixed.rs) -------------------------------------------

def sat16(v):
    return np.clip(np.asarray(v, dtype=I64), -32768, 32767)


def rshr(v, s):
    """floor((v + 2^(s-1)) / 2^s), s taken modulo 32; rshr(v, 0) = v."""
    v = np.asarray(v, dtype=I64)
    s = int(s) & 31
    return v if s == 0 else (v + (1 << (s - 1))) >> s


def _requant64(acc, m, s):
    acc, m, s = (np.asarray(a, dtype=I64) for a in (acc, m, s))
    s = s & 63
    p = acc * m  # |acc| < 2^31, m < 2^16: exact in int64
    half = np.where(s == 0, 0, np.left_shift(I64(1), np.maximum(s - 1, 0)))
    return (p + half) >> s


def requant(acc, m, s):
    """sat16(floor((acc*m + 2^(s-1)) / 2^s)), per element."""
    return sat16(_requant64(acc, m, s))


def requant_wide(acc, m, s):
    """requant without the i16 saturation, for one part of a sum: clamped to +-2^24."""
    return np.clip(_requant64(acc, m, s), -(1 << 24), 1 << 24)


def tanh_table():
    """round(32768 tanh(j/64)) (half away from zero), capped at 32767, j = 0..=512."""
    return np.array([min(32767, math.floor(32768.0 * math.tanh(j / 64.0) + 0.5))
                     for j in range(513)], dtype=I64)


T = tanh_table()


def tanh_q(x):
    """Q3.12 -> Q0.15 by linear interpolation in T (steps of 1/64)."""
    x = np.asarray(x, dtype=I64)
    u = np.minimum(np.abs(x), 32767)
    j, f = u >> 6, u & 63
    y = T[j] + (((T[j + 1] - T[j]) * f + 32) >> 6)
    return np.where(x < 0, -y, y)


def sigmoid_q(x):
    """Q3.12 -> Q0.15: (1 + tanh(x/2))/2 from the same table."""
    x = np.asarray(x, dtype=I64)
    u = np.minimum(np.abs(x), 32767)
    j, f = u >> 7, u & 127
    h = T[j] + (((T[j + 1] - T[j]) * f + 64) >> 7)
    return np.where(x < 0, (32768 - h) >> 1, (32768 + h) >> 1)


def mul_q15(a, b):
    return sat16(rshr(np.asarray(a, dtype=I64) * np.asarray(b, dtype=I64), 15))


# --- layers (src/quant/layers.rs). Weights are (rows, inputs): row j is output j. ----------

def affine_acc(p, x):
    return p["bias"] + p["w"] @ x


def part(p, x):
    """One part of a gate: its affine map, requantised to Q3.12 without saturation."""
    return requant_wide(affine_acc(p, x), p["mult"], p["shift"])


def gate(g, x, a):
    """A gate's input part and state part, each to Q3.12, summed and saturated."""
    return sat16(part(g["x"], x) + part(g["a"], a))


def to_q312(c, frac):
    if frac >= 12:
        return rshr(c, frac - 12)
    return sat16(c * (1 << (12 - frac)))


class Rnn:
    def __init__(self, g, x_scale):
        self.g, self.x_scale = g, x_scale
        self.n_x, self.n_y = g["x"]["w"].shape[1], g["x"]["w"].shape[0]

    def zero_state(self):
        return np.zeros(self.n_y, dtype=I64)

    def step(self, x, a):
        a = tanh_q(gate(self.g, x, a))
        return a, a


class Lstm:
    def __init__(self, f, i, c, o, c_frac, x_scale):
        self.f, self.i, self.c, self.o, self.c_frac, self.x_scale = f, i, c, o, c_frac, x_scale
        self.n_x, self.n_y = f["x"]["w"].shape[1], f["x"]["w"].shape[0]

    def zero_state(self):
        return (np.zeros(self.n_y, dtype=I64), np.zeros(self.n_y, dtype=I64))

    def step(self, x, state):
        a, c = state
        f = sigmoid_q(gate(self.f, x, a))
        i = sigmoid_q(gate(self.i, x, a))
        g = tanh_q(gate(self.c, x, a))
        o = sigmoid_q(gate(self.o, x, a))
        frac = min(self.c_frac, 15)
        c = sat16(rshr(f * c, 15) + rshr(i * g, 30 - frac))
        a = rshr(o * tanh_q(to_q312(c, frac)), 15)
        return a, (a, c)


class Gru:
    def __init__(self, z, r, n, x_scale, reset_after):
        self.z, self.r, self.n, self.x_scale = z, r, n, x_scale
        self.reset_after = reset_after
        self.n_x, self.n_y = z["x"]["w"].shape[1], z["x"]["w"].shape[0]

    def zero_state(self):
        return np.zeros(self.n_y, dtype=I64)

    def step(self, x, h):
        z = sigmoid_q(gate(self.z, x, h))
        r = sigmoid_q(gate(self.r, x, h))
        nx = part(self.n["x"], x)
        if self.reset_after:
            pre = nx + ((r * part(self.n["a"], h) + (1 << 14)) >> 15)  # r·na: 40 bits
        else:
            pre = nx + part(self.n["a"], mul_q15(r, h))
        n = tanh_q(sat16(pre))
        a = rshr(z * h + (32768 - z) * n, 15)
        return a, a


ACTIVATIONS = {
    "Identity": lambda v: v,
    "Relu": lambda v: np.maximum(v, 0),
    "Tanh": tanh_q,
    "Sigmoid": sigmoid_q,
}


class Dense:
    def __init__(self, w, activation, x_scale, y_scale):
        self.w, self.activation, self.x_scale, self.y_scale = w, activation, x_scale, y_scale
        self.n_x, self.n_y = w["w"].shape[1], w["w"].shape[0]

    def zero_state(self):
        return ()

    def step(self, x, _state):
        z = requant(affine_acc(self.w, x), self.w["mult"], self.w["shift"])
        return ACTIVATIONS[self.activation](z), ()


class Stack:
    def __init__(self, lower, upper):
        self.lower, self.upper = lower, upper
        self.n_x, self.n_y = lower.n_x, upper.n_y

    def zero_state(self):
        return (self.lower.zero_state(), self.upper.zero_state())

    def step(self, x, state):
        mid, s0 = self.lower.step(x, state[0])
        y, s1 = self.upper.step(mid, state[1])
        return y, (s0, s1)


def run(model, xs):
    state, ys = model.zero_state(), []
    for x in xs:
        y, state = model.step(np.asarray(x, dtype=I64), state)
        ys.append(np.asarray(y, dtype=I64))
    return np.array(ys, dtype=I64), state


# --- random valid parameters --------------------------------------------------------------

class Rng:
    """A 64-bit LCG (Knuth's MMIX constants) with the few numpy-style draws the cases use.
    Only exact IEEE arithmetic (no transcendental functions), so every platform and numpy
    version draws the same values."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def _bits53(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return self.state >> 11

    def _int(self, lo, hi):
        """Uniform in [lo, hi)."""
        return lo + ((self._bits53() * (hi - lo)) >> 53)

    def integers(self, lo, hi, size=None):
        if size is None:
            return self._int(lo, hi)
        n = int(np.prod(size))
        return np.array([self._int(lo, hi) for _ in range(n)], dtype=I64).reshape(size)

    def random(self, size):
        n = int(np.prod(size))
        return np.array([self._bits53() / 2.0**53 for _ in range(n)]).reshape(size)

    def normal(self, mean, sigma, size):
        """Irwin-Hall: the sum of 12 uniforms minus 6 (mean 0, variance 1)."""
        return mean + sigma * (sum(self.random(size) for _ in range(12)) - 6.0)

    def choice(self, values, size):
        return values[self.integers(0, len(values), size)]


ACC_BOUND = 2**31 - 1


def rand_weights(rng, rows, cols):
    w = rng.integers(-127, 128, size=(rows, cols))
    # Some small and some zero weights, as a trained int8 matrix has.
    w = np.where(rng.random((rows, cols)) < 0.4, w // 8, w)
    w[rng.random((rows, cols)) < 0.05] = 0
    return w.astype(I64)


def rand_rows(rng, rows, shift_lo, shift_hi, abs_sum, bias_scale):
    """bias, mult, shift of `rows` rows; `abs_sum[j]` = sum of |w| of row j."""
    bias = np.array([int(rng.integers(-bias_scale, bias_scale + 1)) for _ in range(rows)],
                    dtype=I64)
    bound = ACC_BOUND - 32768 * abs_sum
    bias = np.clip(bias, -bound, bound)
    mult = rng.integers(1 << 15, 1 << 16, size=rows).astype(I64)
    shift = rng.integers(shift_lo, shift_hi + 1, size=rows).astype(I64)
    return bias, mult, shift


def rand_gate(rng, n_x, n_a, shift_lo=22, shift_hi=28):
    """A gate: its input part (with the bias) and its state part, each an affine map."""
    return dict(x=rand_affine(rng, n_x, n_a, shift_lo, shift_hi),
                a=rand_affine(rng, n_a, n_a, shift_lo, shift_hi))


def rand_affine(rng, n_in, n_out, shift_lo, shift_hi):
    w = rand_weights(rng, n_out, n_in)
    bias, mult, shift = rand_rows(rng, n_out, shift_lo, shift_hi, np.abs(w).sum(1), 1 << 22)
    return dict(w=w, bias=bias, mult=mult, shift=shift)


def rand_scale(rng, n, q15=False):
    if q15:
        return (np.full(n, 1.0 / 32768.0, dtype=np.float32), np.zeros(n, dtype=I64))
    # (1 + u)·2^e, exact in float64: 7.6e-6 to 0.25.
    scale = np.ldexp(1.0 + rng.random(n), rng.integers(-17, -2, size=n)).astype(np.float32)
    zero = rng.integers(-20000, 20001, size=n).astype(I64)
    return scale, zero


def rand_inputs(rng, steps, n):
    """i16 sequences: mostly moderate, with full-scale steps (and both extremes)."""
    x = np.clip(np.round(rng.normal(0.0, 9000.0, size=(steps, n))), -32768, 32767).astype(I64)
    big = rng.random((steps, n)) < 0.15
    x[big] = rng.choice(np.array([-32768, -32767, -30000, 30000, 32767], dtype=I64),
                        size=int(big.sum()))
    return x


def edge_rows(p):
    """Row 0 at the accumulator bound (the largest valid bias); row 1 all zero (m = 0)."""
    p["bias"][0] = ACC_BOUND - 32768 * np.abs(p["w"][0]).sum()
    p["w"][1] = 0
    p["bias"][1], p["mult"][1], p["shift"][1] = 0, 0, 0


# --- Rust output (the format of QStep::write_rust) ----------------------------------------

def mat(cols):
    """nalgebra const expression; `cols` is a list of columns (each a list of ints)."""
    body = "".join("[" + "".join(f"{int(v)}," for v in c) + "]," for c in cols)
    return f"nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([{body}]))"


def mat_f32(v):
    bits = np.asarray(v, dtype=np.float32).view(np.uint32)
    body = "".join(f"f32::from_bits({int(b):#010x})," for b in bits)
    return f"nalgebra::SMatrix::from_array_storage(nalgebra::ArrayStorage([[{body}],]))"


def vec(v):
    return mat([list(v)])


def rs_scale(s):
    return f"tinyrnn::quant::QScale {{ scale: {mat_f32(s[0])}, zero: {vec(s[1])} }}"


def rs_gate(g):
    return f"tinyrnn::quant::QGate {{ x: {rs_affine(g['x'])}, a: {rs_affine(g['a'])} }}"


def rs_affine(p):
    # Rust stores Wᵀ: column j of w_t is row j of w.
    return (f"tinyrnn::quant::QAffine {{ w_t: {mat(p['w'])}, bias: {vec(p['bias'])}, "
            f"mult: {vec(p['mult'])}, shift: {vec(p['shift'])} }}")


def rs_value(m):
    if isinstance(m, Rnn):
        return f"tinyrnn::quant::QRnn {{ gate: {rs_gate(m.g)}, x_scale: {rs_scale(m.x_scale)} }}"
    if isinstance(m, Lstm):
        return (f"tinyrnn::quant::QLstm {{ f: {rs_gate(m.f)}, i: {rs_gate(m.i)}, "
                f"c: {rs_gate(m.c)}, o: {rs_gate(m.o)}, c_frac: {m.c_frac}, "
                f"x_scale: {rs_scale(m.x_scale)} }}")
    if isinstance(m, Gru):
        return (f"tinyrnn::quant::QGru {{ z: {rs_gate(m.z)}, r: {rs_gate(m.r)}, "
                f"n: {rs_gate(m.n)}, x_scale: {rs_scale(m.x_scale)}, "
                f"variant: core::marker::PhantomData }}")
    if isinstance(m, Dense):
        return (f"tinyrnn::quant::QDense {{ w: {rs_affine(m.w)}, x_scale: {rs_scale(m.x_scale)}, "
                f"y_scale: {rs_scale(m.y_scale)}, activation: core::marker::PhantomData }}")
    return f"tinyrnn::Stack {{ lower: {rs_value(m.lower)}, upper: {rs_value(m.upper)} }}"


def rs_type(m):
    if isinstance(m, Rnn):
        return f"tinyrnn::quant::QRnn<{m.n_x}, {m.n_y}>"
    if isinstance(m, Lstm):
        return f"tinyrnn::quant::QLstm<{m.n_x}, {m.n_y}>"
    if isinstance(m, Gru):
        v = "ResetAfter" if m.reset_after else "ResetBefore"
        return f"tinyrnn::quant::QGru<{m.n_x}, {m.n_y}, tinyrnn::{v}>"
    if isinstance(m, Dense):
        return f"tinyrnn::quant::QDense<{m.n_x}, {m.n_y}, tinyrnn::{m.activation}>"
    return f"tinyrnn::Stack<{rs_type(m.lower)}, {rs_type(m.upper)}>"


def rs_rows(a):
    return "[" + ", ".join("[" + ", ".join(str(int(v)) for v in r) + "]" for r in a) + "]"


def fnv1a(values):
    h = 0x811C9DC5
    for b in np.asarray(values, dtype="<i2").tobytes():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


# --- the cases ----------------------------------------------------------------------------

def build_cases(rng):
    cases = []

    def xs(n):
        return rand_scale(rng, n)

    # RNN 3 -> 5, 12 steps.
    g = rand_gate(rng, 3, 5)
    edge_rows(g["x"])
    edge_rows(g["a"])
    cases.append(("rnn", "QRnn<3, 5>: one row at the accumulator bound, one all zero.",
                  Rnn(g, xs(3)), 12))

    # LSTM 3 -> 5, 12 steps, one c_frac per LSTM case.
    for name, c_frac, steps in (("lstm", 11, 12),):
        gates = [rand_gate(rng, 3, 5) for _ in range(4)]
        cases.append((name, f"QLstm<3, 5>, c_frac = {c_frac}.",
                      Lstm(*gates, c_frac, xs(3)), steps))

    # GRU 3 -> 5 in both variants; low shifts on some candidate rows reach the +-2^24 clamp.
    for name, after in (("gru_after", True), ("gru_before", False)):
        z, r = rand_gate(rng, 3, 5), rand_gate(rng, 3, 5)
        n = rand_gate(rng, 3, 5, 12, 27)
        v = "ResetAfter" if after else "ResetBefore"
        cases.append((name, f"QGru<3, 5, {v}>: some candidate parts clamp at 2^24.",
                      Gru(z, r, n, xs(3), after), 12))

    # Dense 5 -> 4, every activation, 10 independent steps.
    for act in ("Identity", "Relu", "Tanh", "Sigmoid"):
        w = rand_affine(rng, 5, 4, 20, 28)
        y_scale = rand_scale(rng, 4, q15=act in ("Tanh", "Sigmoid"))
        if act in ("Identity", "Relu"):
            y_scale = (y_scale[0], np.zeros(4, dtype=I64))
        cases.append((f"dense_{act.lower()}", f"QDense<5, 4, {act}>.",
                      Dense(w, act, xs(5), y_scale), 10))

    # Stack: QLstm<3, 6> -> QGru<6, 5> -> QDense<5, 3> (Stack3), 10 steps.
    lstm = Lstm(*[rand_gate(rng, 3, 6) for _ in range(4)], 13, xs(3))
    gru = Gru(rand_gate(rng, 6, 5), rand_gate(rng, 6, 5), rand_gate(rng, 6, 5, 20, 27),
              rand_scale(rng, 6, q15=True), True)
    dense = Dense(rand_affine(rng, 5, 3, 20, 27), "Identity", rand_scale(rng, 5, q15=True),
                  (rand_scale(rng, 3)[0], np.zeros(3, dtype=I64)))
    cases.append(("stack", "Stack3<QLstm<3, 6>, QGru<6, 5>, QDense<5, 3>>.",
                  Stack(Stack(lstm, gru), dense), 10))

    # The keyword-spotting shape: QLstm<16, 32>, 8 steps.
    gates = [rand_gate(rng, 16, 32, 23, 29) for _ in range(4)]
    cases.append(("kws_lstm", "QLstm<16, 32> (keyword spotting), c_frac = 9.",
                  Lstm(*gates, 9, xs(16)), 8))
    return cases


def extra_lstm_cases(rng):
    """Two more small LSTMs at the ends of c_frac (8 and 15). Units 0 and 1 have their forget
    and update gates pinned open and their candidate at +1 and -1, so `c` grows by about 1 a
    step and saturates: in `c` itself at F = 15, in the shift to Q3.12 at F = 8."""
    out = []
    for name, c_frac in (("lstm_frac8", 8), ("lstm_frac15", 15)):
        f, i, c, o = (rand_gate(rng, 2, 3) for _ in range(4))
        for unit, sign in ((0, 1), (1, -1)):
            f["x"]["bias"][unit] = i["x"]["bias"][unit] = 1 << 27
            c["x"]["bias"][unit] = sign * (1 << 27)
        out.append((name, f"QLstm<2, 3>, c_frac = {c_frac}; units 0, 1 saturate c.",
                    Lstm(f, i, c, o, c_frac, rand_scale(rng, 2)), 12))
    return out


def render():
    rng = Rng(SEED)
    cases = build_cases(rng) + extra_lstm_cases(rng)
    out = [
        "// Generated by tools/quant_reference.py (numpy reference of the integer scheme of",
        "// src/quant.rs). Do not edit: run `python3 tools/quant_reference.py` to regenerate.",
        f"// numpy seed {SEED}. Each case: the model `MODEL: Q`, the inputs `X` (one row per step)",
        "// and the reference outputs `Y` of every step from the zero state; LSTM cases also hold",
        "// the last cell state `C_LAST`. no_std: only `tinyrnn::`, `nalgebra::` and `core::` paths.",
        "",
    ]
    grid = np.arange(-32768, 32768, dtype=I64)
    out.append("/// FNV-1a (32 bits) of the little-endian `i16` bytes of `tanh_q(x)`, "
               "`x = -32768..=32767`.")
    out.append(f"pub const TANH_Q_FNV: u32 = {fnv1a(tanh_q(grid)):#010x};")
    out.append("/// The same for `sigmoid_q`.")
    out.append(f"pub const SIGMOID_Q_FNV: u32 = {fnv1a(sigmoid_q(grid)):#010x};")
    out.append("")
    stats = {}
    for name, doc, model, steps in cases:
        x = rand_inputs(rng, steps, model.n_x)
        y, state = run(model, x)
        stats[name] = (int((np.abs(y) == 32767).sum()), y.size)
        out.append(f"/// {doc}")
        out.append("#[rustfmt::skip]")
        out.append("#[allow(dead_code)]")
        out.append(f"pub mod {name} {{")
        out.append(f"    pub const T: usize = {steps};")
        out.append(f"    pub type Q = {rs_type(model)};")
        out.append(f"    pub static MODEL: Q = {rs_value(model)};")
        out.append(f"    pub static X: [[i16; {model.n_x}]; T] = {rs_rows(x)};")
        out.append(f"    pub static Y: [[i16; {model.n_y}]; T] = {rs_rows(y)};")
        if isinstance(model, Lstm):
            out.append(f"    pub static C_LAST: [i16; {model.n_y}] = {rs_rows([state[1]])[1:-1]};")
        out.append("}")
        out.append("")
    return "\n".join(out), stats


def rust_table():
    rows = [", ".join(str(int(v)) for v in T[i:i + 12]) for i in range(0, 513, 12)]
    return "[\n" + "".join(f"    {r},\n" for r in rows) + "]"


def check_rust_table():
    """The table in src/quant/fixed.rs must be this script's."""
    path = os.path.join(ROOT, "src", "quant", "fixed.rs")
    if not os.path.exists(path):
        return
    src = open(path, encoding="utf-8").read()
    start = src.index("pub const TANH_TABLE: [i16; 513] = [") + len("pub const TANH_TABLE: [i16; 513] = ")
    body = src[start:src.index("];", start) + 1]
    rust = [int(v) for v in body.strip("[]").replace("\n", " ").split(",") if v.strip()]
    if rust != [int(v) for v in T]:
        sys.exit("src/quant/fixed.rs: TANH_TABLE differs from round(32768 tanh(j/64))")


def main():
    if "--table" in sys.argv:
        print(rust_table())
        return
    check_rust_table()
    text, stats = render()
    if "--check" in sys.argv:
        old = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else ""
        if old != text:
            sys.exit(f"{OUT} is stale: run python3 tools/quant_reference.py")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    for name, (sat, n) in stats.items():
        print(f"{name:14} {n:4} outputs, {sat:3} at +-32767")
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
