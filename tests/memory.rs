//! The memory formulas documented in the module docs and the README, checked with `size_of`.
//!
//! If a struct changes, this test fails until the documentation's numbers are updated too.
//!
//! The layers (bytes, `s = size_of::<T>()`; course config `N_X=3, N_A=5, M=10, T_X=7` and
//! keyword spotting `N_X=16, N_A=32, M=1, T_X=50`, both f32, checked in
//! `readme_layer_numbers`):
//!
//! | type | bytes | course | KWS |
//! |---|---|---:|---:|
//! | `Rnn<T, N_X, N_A>` (= its gradient) | `s·N_A·(N_X + N_A + 1)` | 180 | 6,272 |
//! | `Lstm<T, N_X, N_A>` (= its gradient) | `s·4·N_A·(N_X + N_A + 1)` | 720 | 25,088 |
//! | `Gru<T, N_X, N_A, V>` (= its gradient, either `V`) | `s·(3·N_A·(N_X + N_A + 1) + N_A)` | 560 | 18,944 |
//! | `Dense<T, N_IN, N_OUT, A>` (= its gradient, any `A`) | `s·N_OUT·(N_IN + 1)` | – | – |
//! | `Stack<A, B>` params (= its gradient) | `A + B` | – | – |
//! | `Bidirectional<L, Mg>` params (= its gradient) | `2·L` | – | – |
//! | `LstmState` (an LSTM's state) | `s·2·N_A·M` | 400 | 256 |
//! | `GruGates` (one GRU step's record) | `s·4·N_A·M` | 800 | 512 |
//! | `Rnn` tape, `SeqTape` (`h0` + `h` + `aux = ()`) | `s·N_A·M·(1 + T_X)` | 1,600 | 6,528 |
//! | `Gru` tape, `SeqTape` (`h0` + `h` + `aux = GruGates`) | `s·N_A·M·(1 + 5·T_X)` | 7,200 | 32,128 |
//! | `LstmSeqTape` (`s0` + `a` + `c` + `gates`) | `s·N_A·M·(2 + 7·T_X)` | 10,200 | 45,056 |
//! | `Dense` tape (its outputs) | `s·N_OUT·M·T_X` | – | – |
//! | `Stack<A, B>` tape | `A`'s tape + `B`'s tape + `s·N_MID·M·T_X` | – | – |
//! | `Bidirectional` tape (`τ` = `L`'s tape, `N_H` = `L`'s output) | `2·τ + s·M·T_X·(2·N_IN + N_OUT + 2·N_H)` | – | – |
//! | `Stream` state of `Model<Stack<Gru<T, N_X, N_A1>, Lstm<T, N_A1, N_A2>>, Dense<..>>` | `s·M·(N_A1 + 2·N_A2)` | – | – |
//! | `Workspace<T, N, M, T_X>` (training) | tape + params + `s·M·T_X·(N_X + N_H + N_Y)` | – | – |
//!
//! (`N_MID`: the lower layer's output size; `N_H`: a network's body output size, `N_Y` its
//! logits.) With the notebook's `LstmParams` the workspace is
//! `s·M·(2·N_A + T_X·(N_X + 8·N_A + N_Y))` + params (`training_memory`).

use core::mem::{size_of, size_of_val};
use tinyrnn::gru::GruGates;
use tinyrnn::layer::SeqTape;
use tinyrnn::lstm::{LstmCache, LstmGates, LstmSeqTape, LstmState};
use tinyrnn::rnn::RnnCache;
use tinyrnn::train::Workspace;
use tinyrnn::{
    Bidirectional, Concat, Dense, Gru, Identity, Layer, Lstm, LstmGrads, LstmParams, LstmTape,
    Model, Relu, ResetAfter, ResetBefore, Rnn, RnnGrads, RnnParams, RnnTape, Sigmoid, Stack,
    Stack3, Stream, Sum, Tanh,
};

/// Bytes per the documented formulas, for scalar size `s`.
fn rnn_params(s: usize, n_x: usize, n_a: usize, n_y: usize) -> usize {
    s * (n_a * n_x + n_a * n_a + n_a + n_y * n_a + n_y)
}
fn rnn_tape(s: usize, n_x: usize, n_a: usize, n_y: usize, m: usize, t_x: usize) -> usize {
    s * m * (n_a + t_x * (n_x + n_a + n_y))
}
fn lstm_params(s: usize, n_x: usize, n_a: usize, n_y: usize) -> usize {
    s * (4 * n_a * (n_a + n_x + 1) + n_y * (n_a + 1))
}
fn lstm_tape(s: usize, n_x: usize, n_a: usize, n_y: usize, m: usize, t_x: usize) -> usize {
    s * m * (2 * n_a + t_x * (n_x + 7 * n_a + n_y))
}

/// The layers' formulas (see the table in the module docs).
fn rnn_layer(s: usize, n_x: usize, n_a: usize) -> usize {
    s * n_a * (n_x + n_a + 1)
}
fn lstm_layer(s: usize, n_x: usize, n_a: usize) -> usize {
    s * 4 * n_a * (n_x + n_a + 1)
}
fn gru_layer(s: usize, n_x: usize, n_a: usize) -> usize {
    s * (3 * n_a * (n_x + n_a + 1) + n_a)
}
fn dense(s: usize, n_in: usize, n_out: usize) -> usize {
    s * n_out * (n_in + 1)
}
fn lstm_state(s: usize, n_a: usize, m: usize) -> usize {
    s * 2 * n_a * m
}
fn gru_gates(s: usize, n_a: usize, m: usize) -> usize {
    s * 4 * n_a * m
}
/// A [`SeqTape`]: `h0`, `h[T_X]` and `aux[T_X]`, each `aux` of `aux` bytes.
fn seq_tape(s: usize, n_a: usize, m: usize, t_x: usize, aux: usize) -> usize {
    s * n_a * m * (1 + t_x) + t_x * aux
}
fn rnn_layer_tape(s: usize, n_a: usize, m: usize, t_x: usize) -> usize {
    s * n_a * m * (1 + t_x)
}
fn gru_tape(s: usize, n_a: usize, m: usize, t_x: usize) -> usize {
    s * n_a * m * (1 + 5 * t_x)
}
fn lstm_seq_tape(s: usize, n_a: usize, m: usize, t_x: usize) -> usize {
    s * n_a * m * (2 + 7 * t_x)
}
fn dense_tape(s: usize, n_out: usize, m: usize, t_x: usize) -> usize {
    s * n_out * m * t_x
}
/// Both tapes and `∂J/∂y` of the lower layer (`n_mid` rows) per step.
fn stack_tape(lower: usize, upper: usize, s: usize, n_mid: usize, m: usize, t_x: usize) -> usize {
    lower + upper + s * n_mid * m * t_x
}
/// Both directions' tapes `tau`, the reversed input, the merged outputs and the backward
/// scratch (`dyf`, `dyb_rev`: `n_h` rows; `dx_rev`: `n_in` rows).
#[allow(clippy::too_many_arguments)]
fn bi_tape(
    tau: usize,
    s: usize,
    n_in: usize,
    n_h: usize,
    n_out: usize,
    m: usize,
    t_x: usize,
) -> usize {
    2 * tau + s * m * t_x * (2 * n_in + n_out + 2 * n_h)
}
/// A [`Workspace`]: the body's tape, the gradient (`params` bytes), and per step `dh`, `dx`
/// and `y_pred`.
#[allow(clippy::too_many_arguments)]
fn workspace(
    tape: usize,
    params: usize,
    s: usize,
    n_x: usize,
    n_h: usize,
    n_y: usize,
    m: usize,
    t_x: usize,
) -> usize {
    tape + params + s * m * t_x * (n_x + n_h + n_y)
}

macro_rules! check_config {
    ($t:ty, $n_x:literal, $n_a:literal, $n_y:literal, $m:literal, $t_x:literal) => {{
        let s = size_of::<$t>();
        assert_eq!(
            size_of::<RnnParams<$t, $n_x, $n_a, $n_y>>(),
            rnn_params(s, $n_x, $n_a, $n_y)
        );
        assert_eq!(
            size_of::<RnnTape<$t, $n_x, $n_a, $n_y, $m, $t_x>>(),
            rnn_tape(s, $n_x, $n_a, $n_y, $m, $t_x)
        );
        assert_eq!(
            size_of::<RnnGrads<$t, $n_x, $n_a, $n_y, $m, $t_x>>(),
            s * $m * ($t_x * $n_x + $n_a) + rnn_params(s, $n_x, $n_a, $n_y)
        );
        assert_eq!(
            size_of::<RnnCache<$t, $n_x, $n_a, $m>>(),
            s * $m * ($n_x + 2 * $n_a)
        );
        assert_eq!(
            size_of::<LstmParams<$t, $n_x, $n_a, $n_y>>(),
            lstm_params(s, $n_x, $n_a, $n_y)
        );
        assert_eq!(
            size_of::<LstmTape<$t, $n_x, $n_a, $n_y, $m, $t_x>>(),
            lstm_tape(s, $n_x, $n_a, $n_y, $m, $t_x)
        );
        assert_eq!(
            size_of::<LstmGrads<$t, $n_x, $n_a, $n_y, $m, $t_x>>(),
            s * $m * ($t_x * $n_x + 2 * $n_a) + lstm_params(s, $n_x, $n_a, $n_y)
        );
        assert_eq!(size_of::<LstmGates<$t, $n_a, $m>>(), s * 5 * $n_a * $m);
        assert_eq!(
            size_of::<LstmCache<$t, $n_x, $n_a, $m>>(),
            s * $m * ($n_x + 7 * $n_a)
        );
    }};
}

#[test]
fn documented_formulas_hold() {
    check_config!(f32, 3, 5, 2, 10, 7);
    check_config!(f64, 3, 5, 2, 10, 7);
    check_config!(f32, 16, 32, 12, 1, 50);
    check_config!(f64, 1, 32, 1, 1, 1000);
    check_config!(f32, 6, 32, 4, 8, 100);
}

/// The numbers in the README's memory table (f32).
#[test]
fn readme_table_numbers() {
    // Course configuration: N_X=3, N_A=5, N_Y=2, M=10, T_X=7.
    assert_eq!(size_of::<RnnParams<f32, 3, 5, 2>>(), 228);
    assert_eq!(size_of::<RnnTape<f32, 3, 5, 2, 10, 7>>(), 3_000);
    assert_eq!(size_of::<RnnGrads<f32, 3, 5, 2, 10, 7>>(), 1_268);
    assert_eq!(size_of::<LstmParams<f32, 3, 5, 2>>(), 768);
    assert_eq!(size_of::<LstmTape<f32, 3, 5, 2, 10, 7>>(), 11_600);
    assert_eq!(size_of::<LstmGrads<f32, 3, 5, 2, 10, 7>>(), 2_008);
    // Keyword spotting: N_X=16, N_A=32, N_Y=12, M=1, T_X=50.
    assert_eq!(size_of::<RnnParams<f32, 16, 32, 12>>(), 7_856);
    assert_eq!(size_of::<RnnTape<f32, 16, 32, 12, 1, 50>>(), 12_128);
    assert_eq!(size_of::<RnnGrads<f32, 16, 32, 12, 1, 50>>(), 11_184);
    assert_eq!(size_of::<LstmParams<f32, 16, 32, 12>>(), 26_672);
    assert_eq!(size_of::<LstmTape<f32, 16, 32, 12, 1, 50>>(), 50_656);
    assert_eq!(size_of::<LstmGrads<f32, 16, 32, 12, 1, 50>>(), 30_128);
}

/// The size of an f32 `LstmWorkspace`, checked against the generic workspace formula and
/// its closed form.
fn lstm_workspace<
    const N_X: usize,
    const N_A: usize,
    const N_Y: usize,
    const M: usize,
    const T_X: usize,
>() -> usize {
    let bytes = size_of::<tinyrnn::train::LstmWorkspace<f32, N_X, N_A, N_Y, M, T_X>>();
    let (params, tape) = (lstm_params(4, N_X, N_A, N_Y), lstm_seq_tape(4, N_A, M, T_X));
    assert_eq!(bytes, workspace(tape, params, 4, N_X, N_A, N_Y, M, T_X));
    assert_eq!(
        bytes,
        4 * M * (2 * N_A + T_X * (N_X + 8 * N_A + N_Y)) + params
    );
    bytes
}

/// The training workspace is the body's tape, the parameter gradient, and per step `∂J/∂h`,
/// `∂J/∂x` and the prediction; Adam keeps two parameter-sized moments (README table).
#[test]
fn training_memory() {
    use tinyrnn::optim::Adam;
    use tinyrnn::train::RnnWorkspace;
    assert_eq!(lstm_workspace::<3, 5, 2, 10, 7>(), 13_768);
    assert_eq!(lstm_workspace::<16, 32, 12, 1, 50>(), 83_728);
    assert_eq!(lstm_workspace::<6, 32, 4, 8, 10>(), 107_664);
    assert_eq!(
        size_of::<RnnWorkspace<f64, 3, 5, 2, 10, 7>>(),
        workspace(
            rnn_layer_tape(8, 5, 10, 7),
            rnn_params(8, 3, 5, 2),
            8,
            3,
            5,
            2,
            10,
            7
        )
    );
    assert_eq!(size_of::<LstmParams<f32, 6, 32, 4>>(), 20_496);
    // Two moments plus the hyperparameters, the clip, the step count and the β powers.
    let adam = size_of::<Adam<f32, LstmParams<f32, 3, 5, 2>>>();
    assert!((2 * 768..2 * 768 + 64).contains(&adam), "{adam}");
}

/// The layers' sizes for one scalar type and shape; `$n_2a` must be `2·$n_a`.
macro_rules! check_layers {
    ($t:ty, $n_x:literal, $n_a:literal, $n_y:literal, $m:literal, $t_x:literal, $n_2a:literal) => {{
        let s = size_of::<$t>();
        type R = Rnn<$t, $n_x, $n_a>;
        type L = Lstm<$t, $n_x, $n_a>;
        type G = Gru<$t, $n_x, $n_a>;
        type GB = Gru<$t, $n_x, $n_a, ResetBefore>;

        // Parameters (= gradients: a layer's gradient has its own type).
        assert_eq!(size_of::<R>(), rnn_layer(s, $n_x, $n_a));
        assert_eq!(size_of::<L>(), lstm_layer(s, $n_x, $n_a));
        assert_eq!(
            size_of::<Gru<$t, $n_x, $n_a, ResetAfter>>(),
            gru_layer(s, $n_x, $n_a)
        );
        assert_eq!(size_of::<GB>(), gru_layer(s, $n_x, $n_a));
        assert_eq!(
            size_of::<Dense<$t, $n_x, $n_a, Identity>>(),
            dense(s, $n_x, $n_a)
        );
        assert_eq!(
            size_of::<Dense<$t, $n_x, $n_a, Tanh>>(),
            dense(s, $n_x, $n_a)
        );
        assert_eq!(
            size_of::<Dense<$t, $n_x, $n_a, Sigmoid>>(),
            dense(s, $n_x, $n_a)
        );
        assert_eq!(
            size_of::<Dense<$t, $n_x, $n_a, Relu>>(),
            dense(s, $n_x, $n_a)
        );
        assert_eq!(
            size_of::<Stack<G, Lstm<$t, $n_a, $n_x>>>(),
            gru_layer(s, $n_x, $n_a) + lstm_layer(s, $n_a, $n_x)
        );
        assert_eq!(
            size_of::<
                Stack3<
                    Dense<$t, $n_x, $n_a, Tanh>,
                    Gru<$t, $n_a, $n_a, ResetBefore>,
                    Rnn<$t, $n_a, $n_y>,
                >,
            >(),
            dense(s, $n_x, $n_a) + gru_layer(s, $n_a, $n_a) + rnn_layer(s, $n_a, $n_y)
        );
        assert_eq!(
            size_of::<Bidirectional<L, Concat<$n_2a>>>(),
            2 * lstm_layer(s, $n_x, $n_a)
        );
        assert_eq!(
            size_of::<Bidirectional<G, Sum>>(),
            2 * gru_layer(s, $n_x, $n_a)
        );

        // States and per-step records.
        assert_eq!(
            size_of::<LstmState<$t, $n_a, $m>>(),
            lstm_state(s, $n_a, $m)
        );
        assert_eq!(
            size_of::<<L as Layer<$t, $m>>::State>(),
            lstm_state(s, $n_a, $m)
        );
        assert_eq!(size_of::<<G as Layer<$t, $m>>::State>(), s * $n_a * $m);
        assert_eq!(size_of::<GruGates<$t, $n_a, $m>>(), gru_gates(s, $n_a, $m));

        // Tapes.
        type RTape = <R as Layer<$t, $m>>::Tape<$t_x>;
        type GTape = <G as Layer<$t, $m>>::Tape<$t_x>;
        type LTape = <L as Layer<$t, $m>>::Tape<$t_x>;
        assert_eq!(
            size_of::<SeqTape<nalgebra::SMatrix<$t, $n_a, $m>, (), $t_x>>(),
            seq_tape(s, $n_a, $m, $t_x, 0)
        );
        assert_eq!(size_of::<RTape>(), seq_tape(s, $n_a, $m, $t_x, 0));
        assert_eq!(size_of::<RTape>(), rnn_layer_tape(s, $n_a, $m, $t_x));
        assert_eq!(
            size_of::<GTape>(),
            seq_tape(s, $n_a, $m, $t_x, gru_gates(s, $n_a, $m))
        );
        assert_eq!(size_of::<GTape>(), gru_tape(s, $n_a, $m, $t_x));
        assert_eq!(
            size_of::<<GB as Layer<$t, $m>>::Tape<$t_x>>(),
            gru_tape(s, $n_a, $m, $t_x)
        );
        assert_eq!(size_of::<LTape>(), lstm_seq_tape(s, $n_a, $m, $t_x));
        assert_eq!(
            size_of::<LstmSeqTape<$t, $n_a, $m, $t_x>>(),
            lstm_seq_tape(s, $n_a, $m, $t_x)
        );
        assert_eq!(
            size_of::<<Dense<$t, $n_x, $n_a, Relu> as Layer<$t, $m>>::Tape<$t_x>>(),
            dense_tape(s, $n_a, $m, $t_x)
        );
        assert_eq!(
            size_of::<<Stack<G, Lstm<$t, $n_a, $n_x>> as Layer<$t, $m>>::Tape<$t_x>>(),
            stack_tape(
                gru_tape(s, $n_a, $m, $t_x),
                lstm_seq_tape(s, $n_x, $m, $t_x),
                s,
                $n_a,
                $m,
                $t_x
            )
        );
        assert_eq!(
            size_of::<<Bidirectional<L, Concat<$n_2a>> as Layer<$t, $m>>::Tape<$t_x>>(),
            bi_tape(
                lstm_seq_tape(s, $n_a, $m, $t_x),
                s,
                $n_x,
                $n_a,
                $n_2a,
                $m,
                $t_x
            )
        );
        assert_eq!(
            size_of::<<Bidirectional<G, Sum> as Layer<$t, $m>>::Tape<$t_x>>(),
            bi_tape(gru_tape(s, $n_a, $m, $t_x), s, $n_x, $n_a, $n_a, $m, $t_x)
        );

        // Streaming a 2-layer model keeps both layers' states (the dense head has none).
        type Net = Model<Stack<G, Lstm<$t, $n_a, $n_x>>, Dense<$t, $n_x, $n_y>>;
        let stream = Stream::<$t, Net, $m>::new();
        assert_eq!(size_of_val(stream.state()), s * $m * ($n_a + 2 * $n_x));
        assert_eq!(size_of::<Stream<$t, Net, $m>>(), s * $m * ($n_a + 2 * $n_x));

        // Training workspaces of composed models.
        assert_eq!(
            size_of::<Workspace<$t, Net, $m, $t_x>>(),
            workspace(
                size_of::<<Stack<G, Lstm<$t, $n_a, $n_x>> as Layer<$t, $m>>::Tape<$t_x>>(),
                size_of::<Net>(),
                s,
                $n_x,
                $n_x,
                $n_y,
                $m,
                $t_x
            )
        );
        type BiNet = Model<Bidirectional<L, Concat<$n_2a>>, Dense<$t, $n_2a, $n_y>>;
        assert_eq!(
            size_of::<Workspace<$t, BiNet, $m, $t_x>>(),
            workspace(
                bi_tape(
                    lstm_seq_tape(s, $n_a, $m, $t_x),
                    s,
                    $n_x,
                    $n_a,
                    $n_2a,
                    $m,
                    $t_x
                ),
                2 * lstm_layer(s, $n_x, $n_a) + dense(s, $n_2a, $n_y),
                s,
                $n_x,
                $n_2a,
                $n_y,
                $m,
                $t_x
            )
        );
    }};
}

#[test]
fn layer_formulas_hold() {
    check_layers!(f32, 3, 5, 2, 10, 7, 10);
    check_layers!(f64, 3, 5, 2, 10, 7, 10);
    check_layers!(f32, 16, 32, 12, 1, 50, 64);
    check_layers!(f64, 1, 32, 1, 1, 1000, 64);
    check_layers!(f32, 6, 32, 4, 8, 100, 64);
}

/// The numbers in the layer table of the module docs (f32).
#[test]
fn readme_layer_numbers() {
    // Course configuration: N_X=3, N_A=5, M=10, T_X=7.
    assert_eq!(size_of::<Rnn<f32, 3, 5>>(), 180);
    assert_eq!(size_of::<Lstm<f32, 3, 5>>(), 720);
    assert_eq!(size_of::<Gru<f32, 3, 5>>(), 560);
    assert_eq!(size_of::<LstmState<f32, 5, 10>>(), 400);
    assert_eq!(size_of::<GruGates<f32, 5, 10>>(), 800);
    assert_eq!(
        size_of::<<Rnn<f32, 3, 5> as Layer<f32, 10>>::Tape<7>>(),
        1_600
    );
    assert_eq!(
        size_of::<<Gru<f32, 3, 5> as Layer<f32, 10>>::Tape<7>>(),
        7_200
    );
    assert_eq!(size_of::<LstmSeqTape<f32, 5, 10, 7>>(), 10_200);
    // Keyword spotting: N_X=16, N_A=32, M=1, T_X=50.
    assert_eq!(size_of::<Rnn<f32, 16, 32>>(), 6_272);
    assert_eq!(size_of::<Lstm<f32, 16, 32>>(), 25_088);
    assert_eq!(size_of::<Gru<f32, 16, 32>>(), 18_944);
    assert_eq!(size_of::<LstmState<f32, 32, 1>>(), 256);
    assert_eq!(size_of::<GruGates<f32, 32, 1>>(), 512);
    assert_eq!(
        size_of::<<Rnn<f32, 16, 32> as Layer<f32, 1>>::Tape<50>>(),
        6_528
    );
    assert_eq!(
        size_of::<<Gru<f32, 16, 32> as Layer<f32, 1>>::Tape<50>>(),
        32_128
    );
    assert_eq!(size_of::<LstmSeqTape<f32, 32, 1, 50>>(), 45_056);
}

/// A quantized row of `K` inputs: `K` bytes of `i8` weights, then 4 (bias), 2 (multiplier)
/// and 1 (shift) bytes; a gate has an input part and a state part, each padded to 4 bytes; an
/// input scale is 4 + 2 bytes per feature.
fn q_gate(n_x: usize, n_a: usize) -> usize {
    align4(q_affine(n_x, n_a)) + align4(q_affine(n_a, n_a))
}
fn q_affine(n_in: usize, n_out: usize) -> usize {
    n_out * n_in + 7 * n_out
}
fn q_scale(n: usize) -> usize {
    6 * n
}
/// Rounded up to a multiple of 4 (the `i32` bias sets the alignment).
fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// The quantized layers (README "Quantized inference", `tinyrnn::quant` docs): the weights
/// shrink 4x exactly; with the per-row bias, multiplier and shift and the input scales, the
/// keyword-spotting LSTM takes 8,036 bytes against 25,088 in f32.
#[test]
fn quantized_sizes() {
    use tinyrnn::quant::{QDense, QGru, QLstm, QLstmState, QRnn};
    for (n_x, n_a) in [(16, 32), (3, 5)] {
        // Each struct is padded to a multiple of 4 on its own.
        let (gate, scale) = (align4(q_gate(n_x, n_a)), align4(q_scale(n_x)));
        let lstm = align4(4 * gate + scale + 1);
        let gru = 3 * gate + scale;
        let rnn = gate + scale;
        let (l, g, r) = if n_x == 16 {
            (
                size_of::<QLstm<16, 32>>(),
                size_of::<QGru<16, 32>>(),
                size_of::<QRnn<16, 32>>(),
            )
        } else {
            (
                size_of::<QLstm<3, 5>>(),
                size_of::<QGru<3, 5>>(),
                size_of::<QRnn<3, 5>>(),
            )
        };
        assert_eq!((l, g, r), (lstm, gru, rnn), "N_X={n_x}, N_A={n_a}");
    }
    assert_eq!(size_of::<QLstm<16, 32>>(), 8_036);
    // The weights alone: one byte against four.
    assert_eq!(4 * 32 * (16 + 32), 6_144);
    assert_eq!(size_of::<Lstm<f32, 16, 32>>() - 4 * 32 * 4, 4 * 6_144);
    assert_eq!(
        size_of::<QDense<32, 12>>(),
        align4(q_affine(32, 12) + q_scale(32) + q_scale(12))
    );
    assert_eq!(size_of::<QLstmState<32>>(), 2 * 32 * 2);
}
