//! The memory formulas documented in the module docs and the README, checked with `size_of`.
//!
//! If a struct changes, this test fails until the documentation's numbers are updated too.

use core::mem::size_of;
use tinyrnn::lstm::{LstmCache, LstmGates};
use tinyrnn::rnn::RnnCache;
use tinyrnn::{LstmGrads, LstmParams, LstmTape, RnnGrads, RnnParams, RnnTape};

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

/// The training workspace is the tape, the gradients and one `∂J/∂a` per step; Adam keeps two
/// parameter-sized moments (README table).
#[test]
fn training_memory() {
    use tinyrnn::optim::Adam;
    use tinyrnn::train::LstmWorkspace;
    assert_eq!(size_of::<LstmWorkspace<f32, 3, 5, 2, 10, 7>>(), 15_008);
    assert_eq!(size_of::<LstmWorkspace<f32, 16, 32, 12, 1, 50>>(), 87_184);
    assert_eq!(size_of::<LstmWorkspace<f32, 6, 32, 4, 8, 10>>(), 111_632);
    assert_eq!(
        size_of::<LstmWorkspace<f32, 6, 32, 4, 8, 10>>(),
        size_of::<LstmTape<f32, 6, 32, 4, 8, 10>>()
            + size_of::<LstmGrads<f32, 6, 32, 4, 8, 10>>()
            + 4 * 32 * 8 * 10
    );
    assert_eq!(size_of::<LstmParams<f32, 6, 32, 4>>(), 20_496);
    // Two moments plus the hyperparameters, the clip, the step count and the β powers.
    let adam = size_of::<Adam<f32, LstmParams<f32, 3, 5, 2>>>();
    assert!((2 * 768..2 * 768 + 64).contains(&adam), "{adam}");
}
