//! The integer multiply-accumulate kernel of the quantized path.
//!
//! Integer addition is associative (modulo 2^32, and the accumulators never leave `i32`:
//! [`super::QAffine::validate`]), so any summation order gives the same bits: a kernel is
//! free to block, unroll and reorder for its core.

use nalgebra::{SMatrix, SVector};

/// `acc[j] += Σ_k w_t[(k, j)]·x[k]` for every `j < R`, wrapping `i32` arithmetic. `w_t` is
/// the transposed weight matrix: column `j` holds output `j`'s `K` weights, contiguous.
#[inline]
pub(crate) fn acc_dot<const K: usize, const R: usize>(
    w_t: &SMatrix<i8, K, R>,
    x: &SVector<i16, K>,
    acc: &mut [i32; R],
) {
    if K == 0 {
        return;
    }
    let x = x.as_slice();
    let w = w_t.as_slice();
    if ONE_AT_A_TIME {
        one_by_one(w, x, acc);
        return;
    }
    // Four outputs at a time: each x[k] is loaded once for four weights.
    let blocks = w.chunks_exact(4 * K).zip(acc.chunks_exact_mut(4));
    for (wb, ab) in blocks {
        let (c01, c23) = wb.split_at(2 * K);
        let (c0, c1) = c01.split_at(K);
        let (c2, c3) = c23.split_at(K);
        for (a, s) in ab.iter_mut().zip(dot4_blocked([c0, c1, c2, c3], x)) {
            *a = a.wrapping_add(s);
        }
    }
    // The last R mod 4 outputs, one at a time.
    let done = R - R % 4;
    let rest = w.get(done * K..).unwrap_or(&[]);
    one_by_one(rest, x, acc.get_mut(done..).unwrap_or(&mut []));
}

/// ARMv6-M (Cortex-M0/M0+/M1) has eight low registers, and its `LDRSB` only a register
/// offset, so four accumulators spill: there the kernels run one output at a time (measured:
/// 7.5 instructions per MAC for a whole `QLstm<16, 32>` step that way, 9.4 with four at a
/// time). The Cortex-M3 is faster that way too (4.70 against 4.99). The cfgs come from
/// `build.rs` (the target's name).
const ONE_AT_A_TIME: bool = cfg!(any(tinyrnn_armv6m, tinyrnn_armv7m));

/// The four dot products `Σ_k c_i[k]·x[k]` (`c_i.len() = x.len()`) in one pass over `x`:
/// each `x[k]` loaded once for the four weights.
#[inline(always)]
fn dot4_blocked([c0, c1, c2, c3]: [&[i8]; 4], x: &[i16]) -> [i32; 4] {
    let mut s = [0i32; 4];
    let mut mac = |w0: i8, w1: i8, w2: i8, w3: i8, xv: i16| {
        let xv = xv as i32;
        s[0] = s[0].wrapping_add(w0 as i32 * xv);
        s[1] = s[1].wrapping_add(w1 as i32 * xv);
        s[2] = s[2].wrapping_add(w2 as i32 * xv);
        s[3] = s[3].wrapping_add(w3 as i32 * xv);
    };
    // k in fixed chunks of four (unrolled whatever LLVM decides for the whole loop: on RV32
    // it keeps the k loop rolled, and the loop's own three instructions then cost as much as
    // a fourth of the multiply-adds), then the K mod 4 rest.
    let ((q0, r0), (q1, r1)) = (c0.as_chunks::<4>(), c1.as_chunks::<4>());
    let ((q2, r2), (q3, r3)) = (c2.as_chunks::<4>(), c3.as_chunks::<4>());
    let (qx, rx) = x.as_chunks::<4>();
    for ((((w0, w1), w2), w3), xq) in q0.iter().zip(q1).zip(q2).zip(q3).zip(qx) {
        for ((((&w0, &w1), &w2), &w3), &xv) in w0.iter().zip(w1).zip(w2).zip(w3).zip(xq) {
            mac(w0, w1, w2, w3, xv);
        }
    }
    for ((((&w0, &w1), &w2), &w3), &xv) in r0.iter().zip(r1).zip(r2).zip(r3).zip(rx) {
        mac(w0, w1, w2, w3, xv);
    }
    s
}

/// `Σ_k c[k]·x[k]`.
#[inline(always)]
fn dot1(c: &[i8], x: &[i16]) -> i32 {
    let mut s = 0i32;
    for (&wv, &xv) in c.iter().zip(x) {
        s = s.wrapping_add(wv as i32 * xv as i32);
    }
    s
}

/// `acc[j] += Σ_k w[j·K + k]·x[k]`, one output at a time (`K = x.len() > 0`).
#[inline(always)]
fn one_by_one(w: &[i8], x: &[i16], acc: &mut [i32]) {
    for (col, a) in w.chunks_exact(x.len()).zip(acc) {
        *a = a.wrapping_add(dot1(col, x));
    }
}

#[cfg(test)]
mod tests {
    //! The kernels and the quantized steps against straightforward scalar references written
    //! from the spec (the module docs of `quant`), with 64-bit arithmetic, on many random
    //! shapes and inputs, bit for bit.
    use super::{acc_dot, one_by_one};
    use crate::params::Zeroed;
    use crate::quant::fixed::{sigmoid_q, tanh_q};
    use crate::quant::{QAffine, QGate, QGru, QLstm, QLstmState, QStep};
    use crate::{ResetAfter, ResetBefore};
    use nalgebra::{SMatrix, SVector};

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        /// Uniform in `[lo, hi]`, with the ends drawn more often.
        fn int(&mut self, lo: i64, hi: i64) -> i64 {
            match self.next() % 16 {
                0 => lo,
                1 => hi,
                _ => lo + (self.next() as i64 * 65536 + self.next() as i64 % 65536) % (hi - lo + 1),
            }
        }
    }

    fn weights<const K: usize, const R: usize>(g: &mut Lcg) -> SMatrix<i8, K, R> {
        SMatrix::from_fn(|_, _| g.int(-127, 127) as i8)
    }
    fn input<const K: usize>(g: &mut Lcg) -> SVector<i16, K> {
        SVector::from_fn(|_, _| g.int(-32768, 32767) as i16)
    }

    /// `acc_j + Σ_k w_t[(k, j)]·x_k` in i64, by index.
    fn reference<const K: usize, const R: usize>(
        w_t: &SMatrix<i8, K, R>,
        x: &SVector<i16, K>,
        acc: &[i32; R],
    ) -> [i32; R] {
        core::array::from_fn(|j| {
            let s: i64 = (0..K).map(|k| w_t[(k, j)] as i64 * x[k] as i64).sum();
            (acc[j] as i64 + s) as i32
        })
    }

    fn check_shape<const K: usize, const R: usize>(g: &mut Lcg) {
        for _ in 0..20 {
            let w = weights::<K, R>(g);
            let x = input::<K>(g);
            let acc0: [i32; R] = core::array::from_fn(|_| g.int(-(1 << 24), 1 << 24) as i32);
            let want = reference(&w, &x, &acc0);
            let mut got = acc0;
            acc_dot(&w, &x, &mut got);
            assert_eq!(got, want, "acc_dot, K = {K}, R = {R}");
            let mut one = acc0;
            one_by_one(w.as_slice(), x.as_slice(), &mut one);
            assert_eq!(one, want, "one_by_one, K = {K}, R = {R}");
        }
    }

    #[test]
    fn acc_dot_matches_the_scalar_reference_on_many_shapes() {
        let g = &mut Lcg(1);
        check_shape::<1, 1>(g);
        check_shape::<1, 4>(g);
        check_shape::<2, 3>(g);
        check_shape::<3, 5>(g);
        check_shape::<5, 7>(g);
        check_shape::<7, 8>(g);
        check_shape::<8, 9>(g);
        check_shape::<13, 6>(g);
        check_shape::<16, 32>(g);
        check_shape::<32, 32>(g);
        check_shape::<33, 11>(g);
        check_shape::<48, 128>(g);
        // K = 0: nothing to add.
        let mut acc = [5, -6];
        acc_dot(
            &SMatrix::<i8, 0, 2>::zeros(),
            &SVector::<i16, 0>::zeros(),
            &mut acc,
        );
        assert_eq!(acc, [5, -6]);
    }

    /// `requant` from the spec, in i64: `⌊(acc·m + 2^(s−1)) / 2^s⌋`, unsaturated.
    fn requant_ref(acc: i32, m: u16, s: u8) -> i64 {
        let s = (s & 63) as u32;
        let p = acc as i64 * m as i64;
        if s == 0 {
            p
        } else {
            (p + (1i64 << (s - 1))) >> s
        }
    }

    fn random_gate<const NX: usize, const NA: usize>(g: &mut Lcg) -> QGate<NX, NA> {
        QGate {
            x: random_affine(g),
            a: random_affine(g),
        }
    }

    fn random_affine<const NI: usize, const NO: usize>(g: &mut Lcg) -> QAffine<NI, NO> {
        QAffine {
            w_t: weights(g),
            bias: SVector::from_fn(|_, _| g.int(-(1 << 22), 1 << 22) as i32),
            mult: SVector::from_fn(|_, _| g.int(1 << 15, (1 << 16) - 1) as u16),
            // Low shifts too, so that some parts reach the ±2^24 clamp.
            shift: SVector::from_fn(|_, _| g.int(8, 34) as u8),
        }
    }

    /// One part's requantised value, unsaturated and clamped to ±2^24, by index, in i64.
    fn part_ref<const NI: usize, const NO: usize>(
        q: &QAffine<NI, NO>,
        x: &SVector<i16, NI>,
    ) -> [i64; NO] {
        core::array::from_fn(|j| {
            let mut s = q.bias[j] as i64;
            for k in 0..NI {
                s += q.w_t[(k, j)] as i64 * x[k] as i64;
            }
            requant_ref(s as i32, q.mult[j], q.shift[j]).clamp(-(1 << 24), 1 << 24)
        })
    }

    /// A gate's pre-activations: the sum of its two parts (saturated by the caller).
    fn gate_ref<const NX: usize, const NA: usize>(
        q: &QGate<NX, NA>,
        x: &SVector<i16, NX>,
        a: &SVector<i16, NA>,
    ) -> [i64; NA] {
        let (px, pa) = (part_ref(&q.x, x), part_ref(&q.a, a));
        core::array::from_fn(|j| px[j] + pa[j])
    }

    fn sat(v: i64) -> i16 {
        v.clamp(-32768, 32767) as i16
    }
    fn rshr_ref(v: i64, s: u32) -> i64 {
        if s == 0 {
            v
        } else {
            (v + (1 << (s - 1))) >> s
        }
    }

    fn lstm_ref<const NX: usize, const NA: usize>(
        q: &QLstm<NX, NA>,
        x: &SVector<i16, NX>,
        s: &mut QLstmState<NA>,
    ) {
        let (zf, zi) = (gate_ref(&q.f, x, &s.a), gate_ref(&q.i, x, &s.a));
        let (zc, zo) = (gate_ref(&q.c, x, &s.a), gate_ref(&q.o, x, &s.a));
        let frac = q.c_frac.min(15) as u32;
        for j in 0..NA {
            let f = sigmoid_q(sat(zf[j])) as i64;
            let i = sigmoid_q(sat(zi[j])) as i64;
            let g = tanh_q(sat(zc[j])) as i64;
            let o = sigmoid_q(sat(zo[j])) as i64;
            let c = sat(rshr_ref(f * s.c[j] as i64, 15) + rshr_ref(i * g, 30 - frac));
            s.c[j] = c;
            let c312 = if frac >= 12 {
                rshr_ref(c as i64, frac - 12)
            } else {
                (c as i64) << (12 - frac)
            };
            s.a[j] = sat(rshr_ref(o * tanh_q(sat(c312)) as i64, 15));
        }
    }

    fn gru_ref<const NX: usize, const NA: usize, const AFTER: bool>(
        q_z: &QGate<NX, NA>,
        q_r: &QGate<NX, NA>,
        n: &QGate<NX, NA>,
        x: &SVector<i16, NX>,
        a: &mut SVector<i16, NA>,
    ) {
        let (zz, zr) = (gate_ref(q_z, x, a), gate_ref(q_r, x, a));
        let r: [i64; NA] = core::array::from_fn(|j| sigmoid_q(sat(zr[j])) as i64);
        let ra: SVector<i16, NA> = SVector::from_fn(|j, _| sat(rshr_ref(r[j] * a[j] as i64, 15)));
        let na_in = if AFTER { *a } else { ra };
        let mut out = *a;
        let (px, pa) = (part_ref(&n.x, x), part_ref(&n.a, &na_in));
        for j in 0..NA {
            let (vx, va) = (px[j], pa[j]);
            let pre = if AFTER {
                vx + rshr_ref(r[j] * va, 15)
            } else {
                vx + va
            };
            let n = tanh_q(sat(pre)) as i64;
            let z = sigmoid_q(sat(zz[j])) as i64;
            out[j] = rshr_ref(z * a[j] as i64 + (32768 - z) * n, 15) as i16;
        }
        *a = out;
    }

    fn check_lstm<const NX: usize, const NA: usize>(g: &mut Lcg) {
        for frac in [4u8, 11, 12, 15] {
            let q = QLstm::<NX, NA> {
                f: random_gate(g),
                i: random_gate(g),
                c: random_gate(g),
                o: random_gate(g),
                c_frac: frac,
                ..QLstm::ZEROS
            };
            assert!(q.validate().is_ok());
            let (mut s, mut s_ref) = (QLstmState::<NA>::ZEROS, QLstmState::<NA>::ZEROS);
            let mut y = SVector::zeros();
            for _ in 0..6 {
                let x = input::<NX>(g);
                q.step(&x, &mut s, &mut y);
                lstm_ref(&q, &x, &mut s_ref);
                assert_eq!(s, s_ref, "QLstm<{NX}, {NA}>, c_frac {frac}");
                assert_eq!(y, s.a);
            }
        }
    }

    fn check_gru<const NX: usize, const NA: usize>(g: &mut Lcg) {
        let (z, r, n) = (random_gate(g), random_gate(g), random_gate(g));
        let after = QGru::<NX, NA, ResetAfter> {
            z,
            r,
            n,
            ..QGru::ZEROS
        };
        let before = QGru::<NX, NA, ResetBefore> {
            z,
            r,
            n,
            ..QGru::ZEROS
        };
        assert!(after.validate().is_ok());
        let (mut a1, mut a2, mut r1, mut r2) = (
            SVector::zeros(),
            SVector::zeros(),
            SVector::zeros(),
            SVector::zeros(),
        );
        let mut y = SVector::zeros();
        for _ in 0..6 {
            let x = input::<NX>(g);
            after.step(&x, &mut a1, &mut y);
            gru_ref::<NX, NA, true>(&z, &r, &n, &x, &mut r1);
            assert_eq!(a1, r1, "QGru<{NX}, {NA}, ResetAfter>");
            before.step(&x, &mut a2, &mut y);
            gru_ref::<NX, NA, false>(&z, &r, &n, &x, &mut r2);
            assert_eq!(a2, r2, "QGru<{NX}, {NA}, ResetBefore>");
        }
    }

    #[test]
    fn lstm_and_gru_steps_match_the_scalar_reference() {
        let g = &mut Lcg(2);
        for _ in 0..4 {
            check_lstm::<16, 32>(g);
            check_lstm::<3, 5>(g);
            check_lstm::<1, 1>(g);
            check_lstm::<7, 9>(g);
            check_gru::<16, 32>(g);
            check_gru::<3, 5>(g);
            check_gru::<2, 1>(g);
            check_gru::<5, 6>(g);
        }
    }
}
