//! What [`Layer::backward`] writes, and one backward pass into it (shared by the layer and
//! property tests).

use tinyrnn::params::Zeroed;
use tinyrnn::{Layer, Params, Real};

/// What [`Layer::backward`] writes: the parameter gradient (added into), `dx` and `ds0`
/// (overwritten).
pub struct Grads<P, X, S, const T_X: usize> {
    pub dparams: P,
    pub dx: [X; T_X],
    pub ds0: S,
}

impl<P, X: Zeroed + Copy, S: Zeroed, const T_X: usize> Grads<P, X, S, T_X> {
    /// All zero.
    pub fn zeros<T: Real>() -> Self
    where
        P: Params<T>,
    {
        Grads {
            dparams: P::zeros(),
            dx: [X::ZEROS; T_X],
            ds0: S::ZEROS,
        }
    }
}

/// The layer's forward pass from `s0`, then its backward pass from `dy` into `g` (which the
/// caller prepares: zero, or holding values that must be overwritten).
pub fn backward_into<T: Real, L: Layer<T, M>, const M: usize, const T_X: usize>(
    layer: &L,
    x: &[L::X; T_X],
    s0: &L::State,
    dy: &[L::Y; T_X],
    g: &mut Grads<L, L::X, L::State, T_X>,
) {
    let mut tape = L::Tape::<T_X>::ZEROS;
    layer.forward(x, s0, &mut tape);
    layer.backward(x, &mut tape, dy, &mut g.dparams, &mut g.dx, &mut g.ds0);
}
