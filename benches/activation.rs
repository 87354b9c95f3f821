//! Cost per element of the default activations against the `libm` scalar loops they replaced,
//! on a 128-element column (the size of S2's four gates, `4·N_A` with `N_A = 32`).
//!
//! ```text
//! cargo bench -p tinyrnn-bench --bench activation
//! RUSTFLAGS="-C target-cpu=x86-64-v3" cargo bench -p tinyrnn-bench --bench activation
//! ```
//!
//! For `{sigmoid,tanh,exp}_{f32,f64}`:
//!
//! - `new`: [`sigmoid_in_place`], [`tanh_in_place`], or [`activation::exp`] over the slice: one
//!   flat, call-free loop the compiler vectorises;
//! - `libm`: the scalar loop over `libm` they replaced (`σ` as `1 / (1 + e^{−x})` or
//!   `e^x / (1 + e^x)` with `expf`/`exp`, `tanhf`/`tanh`, `expf`/`exp`);
//! - `copy`: refilling the buffer alone, which both include (subtract it).
//!
//! Inputs are spread over `[−8, 8]`, the range of gate pre-activations. Throughput is in
//! elements, so `1e9 / (elem/s)` is ns per element. Each measured function is
//! `#[inline(never)]`, so its loop can be read with `objdump -d` in the bench binary
//! (`activation::new_sigmoid_f32` and so on).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nalgebra::SMatrix;
use std::hint::black_box;
use std::time::Duration;
use tinyrnn::activation::{self, sigmoid_in_place, tanh_in_place};
use tinyrnn::Real;

/// Elements per call: S2's gate column.
const N: usize = 128;

type Col<T> = SMatrix<T, N, 1>;

/// A named kernel under test.
type Kernel<'a, T> = (&'a str, fn(&mut Col<T>));

/// The `σ` the crate used before: two branches around `libm`'s `exp`.
#[inline(always)]
fn sigmoid_libm<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp_libm())
    } else {
        let e = x.exp_libm();
        e / (T::one() + e)
    }
}

macro_rules! kernels {
    ($t:ty, $ns:ident, $nt:ident, $ne:ident, $ls:ident, $lt:ident, $le:ident) => {
        #[inline(never)]
        fn $ns(z: &mut Col<$t>) {
            sigmoid_in_place(z);
        }
        #[inline(never)]
        fn $nt(z: &mut Col<$t>) {
            tanh_in_place(z);
        }
        #[inline(never)]
        fn $ne(z: &mut Col<$t>) {
            for v in z.as_mut_slice() {
                *v = activation::exp(*v);
            }
        }
        #[inline(never)]
        fn $ls(z: &mut Col<$t>) {
            for v in z.as_mut_slice() {
                *v = sigmoid_libm(*v);
            }
        }
        #[inline(never)]
        fn $lt(z: &mut Col<$t>) {
            for v in z.as_mut_slice() {
                *v = v.tanh_libm();
            }
        }
        #[inline(never)]
        fn $le(z: &mut Col<$t>) {
            for v in z.as_mut_slice() {
                *v = v.exp_libm();
            }
        }
    };
}

kernels!(
    f32,
    new_sigmoid_f32,
    new_tanh_f32,
    new_exp_f32,
    libm_sigmoid_f32,
    libm_tanh_f32,
    libm_exp_f32
);
kernels!(
    f64,
    new_sigmoid_f64,
    new_tanh_f64,
    new_exp_f64,
    libm_sigmoid_f64,
    libm_tanh_f64,
    libm_exp_f64
);

/// Benchmarks `kernel` on a fresh copy of the inputs per call.
fn run<T: Real>(c: &mut Criterion, group: &str, kernels: [Kernel<'_, T>; 2]) {
    let input = Col::<T>::from_fn(|i, _| T::lit(-8.0 + 16.0 * ((i * 37) % N) as f64 / N as f64));
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(N as u64));
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for (name, kernel) in kernels {
        let mut z = input;
        g.bench_function(name, |b| {
            b.iter(|| {
                z.copy_from(black_box(&input));
                kernel(&mut z);
                black_box(&mut z);
            })
        });
    }
    let mut z = input;
    g.bench_function("copy", |b| {
        b.iter(|| {
            z.copy_from(black_box(&input));
            black_box(&mut z);
        })
    });
    g.finish();
}

fn activations(c: &mut Criterion) {
    run::<f32>(
        c,
        "sigmoid_f32",
        [("new", new_sigmoid_f32), ("libm", libm_sigmoid_f32)],
    );
    run::<f32>(
        c,
        "tanh_f32",
        [("new", new_tanh_f32), ("libm", libm_tanh_f32)],
    );
    run::<f32>(c, "exp_f32", [("new", new_exp_f32), ("libm", libm_exp_f32)]);
    run::<f64>(
        c,
        "sigmoid_f64",
        [("new", new_sigmoid_f64), ("libm", libm_sigmoid_f64)],
    );
    run::<f64>(
        c,
        "tanh_f64",
        [("new", new_tanh_f64), ("libm", libm_tanh_f64)],
    );
    run::<f64>(c, "exp_f64", [("new", new_exp_f64), ("libm", libm_exp_f64)]);
}

criterion_group!(benches, activations);
criterion_main!(benches);
