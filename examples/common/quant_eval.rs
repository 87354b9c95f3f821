//! Post-training quantisation of a trained classifier, checked against the `f32` model on the
//! test set. Shared by `basic_motions` and `italy_power`.
//!
//! The model is quantized with `tinyrnn::quant::quantize` (int8 weights, int16 activations
//! and states), calibrated on the training sequences (each from the zero state). Then every
//! test sequence is streamed at batch 1 through the `f32` model (`Stream`) and through the
//! quantized one (`QStream`, the input quantized by `QStep::quantize_input`), and the class of
//! the last step's logits is compared (`tinyrnn::data::argmax`, as `Workspace::evaluate`
//! does; the integer logits are dequantized first, since each has its own scale).
//!
//! The hidden-state deviation of a recurrent layer is `max |a_int·2^−15 − a_f32|` over every
//! test sequence, step and unit, read from the two streams' states after each step (the same
//! streams, so it costs no second pass).
//!
//! Criterion (`Agreement::ok`): the quantized model may get at most `max(⌊n/100⌋, 1)` fewer of
//! the `n` test cases right than the `f32` model, i.e. one percentage point, or one case when
//! a case is worth more than a point (BasicMotions: 40 cases, one case = 2.5 points).

use nalgebra::SVector;
use tinyrnn::data::argmax;
use tinyrnn::quant::{QStep, QStream, Quantize};
use tinyrnn::{Step, Stream};

/// One sequence of `T` steps of `NX` features, as the models see it.
pub type Seq<const NX: usize, const T: usize> = [SVector<f32, NX>; T];

/// How the quantized model's test predictions compare with the `f32` model's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Agreement {
    /// Test cases.
    pub total: usize,
    /// Cases the `f32` model (streamed at batch 1) classifies right.
    pub f32_correct: usize,
    /// Cases the quantized model classifies right.
    pub q_correct: usize,
    /// Cases whose predicted class differs between the two.
    pub differ: usize,
}

impl Agreement {
    /// The `f32` model's test accuracy.
    pub fn f32_acc(&self) -> f64 {
        self.f32_correct as f64 / self.total.max(1) as f64
    }

    /// The quantized model's test accuracy.
    pub fn q_acc(&self) -> f64 {
        self.q_correct as f64 / self.total.max(1) as f64
    }

    /// How many fewer correct cases the criterion allows: one percentage point of the test
    /// set, or one case if a case is worth more.
    pub fn allowed_loss(&self) -> usize {
        (self.total / 100).max(1)
    }

    /// The quantized accuracy is within the allowed loss of the `f32` accuracy.
    pub fn ok(&self) -> bool {
        self.q_correct + self.allowed_loss() >= self.f32_correct
    }
}

/// Streams every test case through `net` and its quantized twin `q` side by side, counts the
/// right and the differing predictions of the last step, and returns with them the largest
/// deviation of each of `L` hidden states over every case, step and unit: after each step,
/// `hidden(f32 state, integer state)` gives that step's deviations (see [`dev`]).
pub fn compare<N, const NX: usize, const NY: usize, const T: usize, const L: usize>(
    net: &N,
    q: &N::Q,
    cases: &[(Seq<NX, T>, usize)],
    hidden: impl Fn(&N::State, &<N::Q as QStep>::State) -> [f64; L],
) -> (Agreement, [f64; L])
where
    N: Quantize<f32> + Step<f32, 1, X = SVector<f32, NX>, Y = SVector<f32, NY>>,
    N::Q: QStep<
        X = SVector<i16, NX>,
        Y = SVector<i16, NY>,
        XF = SVector<f32, NX>,
        YF = SVector<f32, NY>,
    >,
{
    let mut out = Agreement {
        total: cases.len(),
        ..Agreement::default()
    };
    let mut devs = [0.0_f64; L];
    let (mut fs, mut qs) = (Stream::<f32, N>::new(), QStream::<N::Q>::new());
    for (x, class) in cases {
        fs.reset();
        qs.reset();
        let (mut yf, mut yq) = (SVector::zeros(), SVector::zeros());
        for xt in x {
            yf = fs.step(net, xt);
            yq = qs.step(q, &q.quantize_input(xt));
            for (d, step) in devs.iter_mut().zip(hidden(fs.state(), qs.state())) {
                *d = d.max(step);
            }
        }
        let yq = q.dequantize_output(&yq);
        let (kf, kq) = (argmax(&yf, 0), argmax(&yq, 0));
        out.f32_correct += usize::from(kf == *class);
        out.q_correct += usize::from(kq == *class);
        out.differ += usize::from(kf != kq);
    }
    (out, devs)
}

/// `max |a_int·2^−15 − a_f32|` over the units of one hidden state.
pub fn dev<const N: usize>(a_f32: &SVector<f32, N>, a_int: &SVector<i16, N>) -> f64 {
    a_f32.iter().zip(a_int.iter()).fold(0.0, |m, (&f, &i)| {
        m.max((f64::from(i) / 32768.0 - f64::from(f)).abs())
    })
}
