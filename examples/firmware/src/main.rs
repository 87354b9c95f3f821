//! tinyrnn on a microcontroller, under QEMU: golden checks of the forward and backward passes,
//! training on the device, models whose weights sit in flash (one of them a stacked GRU,
//! streamed one frame at a time, another a GRU trained in PyTorch and converted by
//! `tools/tinyrnn_convert.py`, checked against PyTorch's outputs), and instruction counts.
//!
//! The numerical work is in `workload.rs`, which the host test `tests/firmware_golden.rs` runs
//! too, to produce `golden.rs`; this file adds what only a device has: the instruction-count
//! markers, stack painting, fault handlers, and the verdict as the semihosting exit status
//! (0 all checks passed, 3 a check failed, 101 a panic, 2 a fault). Floats are printed as
//! integers (core's float formatter would add about 24 KB of flash).
//!
//! What runs depends on the RAM the target has and, for the stacked GRU, on its flash
//! (`build.rs` sets the cfgs):
//!
//! | phase | M0 (16 KB, `fw_reduced`) | M3 (64 KB) | M4F, RV32 (256 KB, `fw_kws_train`) |
//! |---|---|---|---|
//! | activations, course RNN (passes, training step), course LSTM passes, keyword-spotting forward from flash | yes | yes | yes |
//! | course LSTM training step (about 16 KB of stack with `M = 10`) | – | yes | yes |
//! | keyword-spotting backward (27 KB gradient) | – | yes | yes |
//! | keyword-spotting training step (about 117 KB) | – | – | yes |
//! | stacked GRU from flash, streamed and by `Layer::forward` (a 16-frame tape: 25 KB with `N_A = 32`) | `N_A = 8` (256 KB flash, `fw_stack_small`) | – (256 KB flash, nearly full: `fw_no_stack`) | `N_A = 32` |
//! | GRU trained in PyTorch (`pytorch_model.rs`, 10 KB), streamed from flash over 4 ItalyPowerDemand test series, vs PyTorch | yes | – (flash: `fw_no_pytorch`) | yes |
//! | BasicMotions training | `N_A = 6, M = 2` | `N_A = 16, M = 4` | `N_A = 16, M = 4` |
//!
//! Measurement builds run a subset instead, on every target: `--features inference-only`, the
//! `f32` keyword-spotting forward pass alone; `--features quant`, integer inference alone
//! (`qrun.rs`: numpy's golden vectors, the quantized keyword-spotting model and GRU, no
//! floating point); `--features quant,inference-only`, the quantized keyword-spotting model
//! alone (the twin of the first).
#![no_std]
#![no_main]
// The inference-only and quant builds (flash measurements) leave the training helpers unused.
#![cfg_attr(
    any(feature = "inference-only", feature = "quant"),
    allow(dead_code, unused_imports)
)]

mod workload;

// The quant build (`--features quant`): integer inference only (`qrun.rs`).
#[cfg(feature = "quant")]
mod qrun;
#[cfg(feature = "quant")]
mod qworkload;
// The quantized keyword-spotting model and GRU, and the host's outputs for them, written by
// `tests/firmware_quant.rs`.
#[cfg(feature = "quant")]
#[rustfmt::skip]
mod quant_model;
// numpy's golden vectors of the integer scheme, written by `tools/quant_reference.py`.
#[cfg(feature = "quant")]
#[path = "../../../tests/fixtures/quant_golden.rs"]
#[rustfmt::skip]
mod quant_golden;

#[rustfmt::skip]
#[allow(dead_code)] // generated; each target uses a subset
mod data;
#[rustfmt::skip]
#[allow(dead_code)] // generated; each target uses a subset
mod golden;
#[rustfmt::skip]
#[allow(dead_code)] // generated; each target uses a subset
mod model;
// Not in the inference-only and quant builds, whose flash figure is the keyword-spotting
// model's alone, nor on the Cortex-M3, whose flash has no room for it (`build.rs`).
#[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_stack)))]
#[cfg_attr(fw_stack_small, path = "stack_model_small.rs")]
#[rustfmt::skip]
mod stack_model;
// The ItalyPowerDemand GRU trained in PyTorch, as `tools/tinyrnn_convert.py` wrote it (regenerate
// with `python3 examples/firmware/gen_pytorch_model.py`). Not in the inference-only build, nor
// on the Cortex-M3, whose flash has no room for it (`build.rs`).
#[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_pytorch)))]
mod pytorch_model;

use core::hint::black_box;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};

use semihosting::{println, process};
use tinyrnn::Error;
use workload::{Dataset, Probe, Sink, TrainSpec};

// Linked for their `critical-section` implementations (single core / single hart).
#[cfg(target_arch = "arm")]
use cortex_m as _;
#[cfg(target_arch = "arm")]
use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
use riscv as _;
#[cfg(target_arch = "riscv32")]
use riscv_rt::entry;

// ---------------------------------------------------------------------------------------------
// Region markers for the `insncount` QEMU plugin (qemu-plugin/insncount.c): it counts the guest
// instructions from the entry of `bench_begin` to the entry of the next `bench_end`. The bodies
// differ (different statics), so LLVM cannot merge the two functions into one symbol.
// ---------------------------------------------------------------------------------------------
/// The keyword-spotting training step's Adam state (`m`, `v`: two copies of the model, 51 KB):
/// all zero bits, so it lands in `.bss` (no flash image, zeroed at start-up); qemu-check.sh
/// checks the section. The settings are `workload::KWS_ADAM`, a `const`. Only in the full build
/// (the inference-only and quant builds' static RAM is what inference needs).
#[cfg(all(fw_kws_train, not(any(feature = "inference-only", feature = "quant"))))]
#[no_mangle]
static KWS_ADAM_STATE: critical_section::Mutex<
    core::cell::RefCell<tinyrnn::optim::AdamState<f32, workload::KwsModel>>,
> = critical_section::Mutex::new(core::cell::RefCell::new(tinyrnn::optim::AdamState::ZEROS));

static mut MARK_BEGIN: u32 = 0;
static mut MARK_END: u32 = 0;

#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_begin(id: u32) {
    // SAFETY: a volatile store to a static only this function writes; single core, no interrupts.
    unsafe { write_volatile(addr_of_mut!(MARK_BEGIN), id) }
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_end(id: u32) {
    // SAFETY: as in `bench_begin`.
    unsafe { write_volatile(addr_of_mut!(MARK_END), id) }
}

const MAX_REGIONS: usize = 24;

/// The device's [`Probe`]: brackets each region with the markers and remembers its name, so
/// that the k-th count the plugin prints can be matched with the k-th name printed here.
struct Markers {
    names: [&'static str; MAX_REGIONS],
    count: usize,
}

impl Probe for Markers {
    fn region<R>(&mut self, name: &'static str, f: impl FnOnce() -> R) -> R {
        let id = self.count as u32;
        bench_begin(id);
        let r = f();
        black_box(&r); // the result exists before the end marker
        bench_end(id);
        self.names[self.count] = name;
        self.count += 1;
        r
    }
}

// ---------------------------------------------------------------------------------------------
// Stack high-water mark by painting: fill the unused stack with a pattern at the start of main,
// run the workload, then find the lowest overwritten word. cortex-m-rt and riscv-rt both define
// `_stack_start` (top of the stack, which grows down) and `__sheap` (end of the statics).
// ---------------------------------------------------------------------------------------------
const PAINT: u32 = 0xDEAD_BEEF;

extern "C" {
    static _stack_start: u32;
    #[link_name = "__sheap"]
    static STACK_BOTTOM: u32;
}

fn stack_top() -> usize {
    addr_of!(_stack_start) as usize
}

fn stack_bottom() -> usize {
    (addr_of!(STACK_BOTTOM) as usize + 3) & !3
}

#[inline(never)]
fn paint_stack() {
    let here = 0u32;
    // Leave 64 bytes below this frame alone.
    let limit = (black_box(addr_of!(here)) as usize - 64) & !3;
    let mut p = stack_bottom();
    while p < limit {
        // SAFETY: [stack_bottom, limit) is free RAM between the statics and this frame.
        unsafe { write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

#[inline(never)]
fn stack_high_water() -> usize {
    let mut p = stack_bottom();
    let top = stack_top();
    // SAFETY: reads RAM between the statics and the top of the stack.
    while p < top && unsafe { read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    top - p
}

// ---------------------------------------------------------------------------------------------
// Faults must end the run with a distinct status, not spin in the runtime's default handler.
// ---------------------------------------------------------------------------------------------
#[cfg(target_arch = "arm")]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    println!("HardFault at pc={:#010x}", ef.pc());
    process::exit(2)
}

#[cfg(target_arch = "riscv32")]
#[export_name = "ExceptionHandler"]
fn exception_handler(_tf: &riscv_rt::TrapFrame) -> ! {
    println!(
        "exception mcause={:#x} mepc={:#x}",
        riscv::register::mcause::read().bits(),
        riscv::register::mepc::read()
    );
    process::exit(2)
}

// ---------------------------------------------------------------------------------------------
// Golden comparisons.
// ---------------------------------------------------------------------------------------------

/// A value passes if `|got - want| <= rel * max(|want|, floor)`.
#[derive(Clone, Copy)]
struct Tol {
    rel: f32,
    floor: f32,
}

/// Forward and backward passes, activations: relative 1e-5, absolute 1e-7 near zero.
const TOL_PASS: Tol = Tol {
    rel: 1e-5,
    floor: 1e-2,
};
/// Bit for bit (`+0` and `-0` aside): the stacked GRU, streamed from flash.
#[cfg_attr(fw_no_stack, allow(dead_code))]
const TOL_EXACT: Tol = Tol {
    rel: 0.0,
    floor: 0.0,
};
/// A whole training run (rounding differences would grow over the steps): relative 1e-3,
/// absolute 1e-5 near zero. The hit counts must match exactly.
const TOL_TRAIN: Tol = Tol {
    rel: 1e-3,
    floor: 1e-2,
};

/// A float's position on the number line, in ULPs (+0 and -0 coincide).
fn ulp_key(x: f32) -> i64 {
    let b = x.to_bits();
    let mag = i64::from(b & 0x7fff_ffff);
    if b >> 31 == 1 {
        -mag
    } else {
        mag
    }
}

/// Totals over every compared value.
#[derive(Default)]
struct Totals {
    values: u32,
    outside: u32,
    max_ulps: u64,
    /// Largest `|got - want|`, in units of 1e-9 (saturating).
    max_abs_e9: u64,
    failures: u32,
    /// The deepest stack seen in any phase, in bytes.
    stack_hwm: usize,
}

/// The device's [`Sink`]: compares each tensor with the next entry of a golden table.
struct Checker<'t> {
    phase: &'static str,
    table: golden::Table,
    next: usize,
    tol: Tol,
    /// demo-fail: shift the first golden value before comparing (a real mismatch).
    perturb: bool,
    totals: &'t mut Totals,
}

impl Sink for Checker<'_> {
    fn tensor(&mut self, group: &str, name: &str, values: &mut dyn Iterator<Item = f32>) {
        let Some(&(golden_name, want)) = self.table.get(self.next) else {
            println!(
                "FAIL {}: no golden entry for {}.{}",
                self.phase, group, name
            );
            self.totals.failures += 1;
            return;
        };
        self.next += 1;
        let same_name = if group.is_empty() {
            golden_name == name
        } else {
            golden_name
                .strip_prefix(group)
                .and_then(|r| r.strip_prefix('.'))
                == Some(name)
        };
        let (mut n, mut outside, mut max_ulps, mut max_abs) = (0usize, 0u32, 0u64, 0.0f32);
        for got in values {
            let Some(&w) = want.get(n) else {
                n += 1;
                continue;
            };
            n += 1;
            let w = if core::mem::take(&mut self.perturb) {
                w + 1e-3 * w.abs().max(1.0)
            } else {
                w
            };
            let diff = (got - w).abs();
            if diff.is_nan() || diff > self.tol.rel * w.abs().max(self.tol.floor) {
                outside += 1;
            }
            max_ulps = max_ulps.max(ulp_key(got).abs_diff(ulp_key(w)));
            if diff > max_abs || diff.is_nan() {
                max_abs = if diff.is_nan() { f32::INFINITY } else { diff };
            }
        }
        let abs_e9 = if max_abs.is_finite() {
            (max_abs * 1e9) as u64
        } else {
            u64::MAX
        };
        let ok = same_name && n == want.len() && outside == 0;
        println!(
            "  {} {}: {} values, max {} ULP, max |diff| {}e-9{}",
            self.phase,
            golden_name,
            n,
            max_ulps,
            abs_e9,
            if ok { "" } else { "  FAIL" }
        );
        if !same_name {
            println!(
                "FAIL {}: got {}.{}, golden.rs has {}",
                self.phase, group, name, golden_name
            );
        }
        if n != want.len() {
            println!(
                "FAIL {}: {} values, golden.rs has {}",
                self.phase,
                n,
                want.len()
            );
        }
        let t = &mut *self.totals;
        t.values += n as u32;
        t.outside += outside;
        t.max_ulps = t.max_ulps.max(max_ulps);
        t.max_abs_e9 = t.max_abs_e9.max(abs_e9);
        t.failures += u32::from(!ok);
    }
}

/// Runs one phase against its golden table.
fn phase(
    name: &'static str,
    table: golden::Table,
    tol: Tol,
    totals: &mut Totals,
    run: impl FnOnce(&mut Checker) -> Result<(), Error>,
) {
    let mut checker = Checker {
        phase: name,
        table,
        next: 0,
        tol,
        perturb: cfg!(feature = "demo-fail") && name == "course_rnn",
        totals,
    };
    if let Err(e) = run(&mut checker) {
        println!("FAIL {}: {}", name, e);
        checker.totals.failures += 1;
    }
    if checker.next != table.len() {
        println!(
            "FAIL {}: {} of {} golden tensors produced",
            name,
            checker.next,
            table.len()
        );
        checker.totals.failures += 1;
    }
    // The stack this phase needed (main's frame included); repaint for the next one.
    let hwm = stack_high_water();
    println!("stack {} {}", name, hwm);
    totals.stack_hwm = totals.stack_hwm.max(hwm);
    paint_stack();
}

// ---------------------------------------------------------------------------------------------
// The BasicMotions configuration for this target.
// ---------------------------------------------------------------------------------------------
#[cfg(all(
    not(fw_reduced),
    not(feature = "inference-only"),
    not(feature = "quant")
))]
mod config {
    pub use crate::golden::TRAIN_LARGE as GOLDEN;
    pub use crate::workload::{
        LARGE_LEN as LEN, LARGE_M as M, LARGE_NA as N_A, TRAIN_LARGE as SPEC,
    };
    pub const NAME: &str = "large";
}
#[cfg(all(fw_reduced, not(feature = "inference-only"), not(feature = "quant")))]
mod config {
    pub use crate::golden::TRAIN_REDUCED as GOLDEN;
    pub use crate::workload::{
        REDUCED_LEN as LEN, REDUCED_M as M, REDUCED_NA as N_A, TRAIN_REDUCED as SPEC,
    };
    pub const NAME: &str = "reduced";
}

/// The stacked GRU this target has the flash for (`build.rs` sets the cfg).
#[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_stack)))]
mod stack_config {
    #[cfg(not(fw_stack_small))]
    pub use crate::golden::{STACK_GRU_FORWARD as FORWARD, STACK_GRU_STREAM as STREAM};
    #[cfg(fw_stack_small)]
    pub use crate::golden::{STACK_GRU_FORWARD_SMALL as FORWARD, STACK_GRU_STREAM_SMALL as STREAM};
    #[cfg(not(fw_stack_small))]
    pub use crate::workload::S_NA as N_A;
    #[cfg(fw_stack_small)]
    pub use crate::workload::S_NA_SMALL as N_A;
}

/// `round(v · 1e6)`, through integers (no float formatter in the image; saturates).
#[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_pytorch)))]
fn micro(v: f32) -> i32 {
    let s = v * 1e6;
    (if s < 0.0 { s - 0.5 } else { s + 0.5 }) as i32
}

/// `|a − b|` in units of 1e-9 (saturating; NaN counts as the largest).
#[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_pytorch)))]
fn nano_diff(a: f32, b: f32) -> u64 {
    let d = (a - b).abs();
    if d.is_nan() {
        u64::MAX
    } else {
        (d * 1e9) as u64
    }
}

/// The ItalyPowerDemand GRU trained in PyTorch, converted by `tools/tinyrnn_convert.py`
/// (`pytorch_model.rs`): its golden series (real test series) streamed from flash. Checked
/// bit for bit against the host's tinyrnn (`golden::PYTORCH_GRU`), against PyTorch's outputs
/// with the converter's tolerance at every step, by the converter's own self-check
/// (`italy_power_gru_golden_error()`), and class by class; prints tinyrnn's last-step logits
/// next to PyTorch's.
///
/// Out of line, so that its logits (768 bytes) and the printing's temporaries never sit in
/// main's frame during the other phases (the Cortex-M0 has 16 KB of RAM).
#[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_pytorch)))]
#[inline(never)]
fn pytorch_gru(m: &mut Markers, totals: &mut Totals) {
    use pytorch_model::{
        italy_power_gru_golden_error, ITALY_POWER_GRU as MODEL, ITALY_POWER_GRU_GOLDEN_TOL as TOL,
        ITALY_POWER_GRU_GOLDEN_X as GOLDEN_X, ITALY_POWER_GRU_GOLDEN_Y as GOLDEN_Y,
    };
    use workload::{pt_class, PT_CLASSES, PT_TEST_CLASS, PT_TEST_INDEX, PT_TX};
    let mut result = None;
    phase("pytorch_gru", golden::PYTORCH_GRU, TOL_EXACT, totals, |s| {
        let y = workload::pytorch_gru(&MODEL, &GOLDEN_X, m, s);
        // The converter's self-check as generated: it streams the golden series once more.
        result = Some((y, italy_power_gru_golden_error()));
        Ok(())
    });
    let Some((y, self_check)) = result else {
        return;
    };
    println!(
        "pytorch_gru: GRU trained in PyTorch (ItalyPowerDemand), converted by tools/tinyrnn_convert.py, streamed from flash; last-step logits x 1e6, tinyrnn vs PyTorch:"
    );
    let mut class_mismatch = 0;
    for (k, (ys, want)) in y.iter().zip(&GOLDEN_Y).enumerate() {
        let (a, b) = (ys[PT_TX - 1], want[PT_TX - 1]);
        let (ca, cb) = (pt_class(a.as_slice()), pt_class(&b));
        class_mismatch += u32::from(ca != cb);
        println!(
            "  test #{} (class {}): tinyrnn [{}, {}] pytorch [{}, {}] diff [{}, {}] ULP [{}, {}]e-9 -> class tinyrnn {} pytorch {}{}",
            PT_TEST_INDEX[k],
            PT_CLASSES[PT_TEST_CLASS[k]],
            micro(a[0]),
            micro(a[1]),
            micro(b[0]),
            micro(b[1]),
            ulp_key(a[0]).abs_diff(ulp_key(b[0])),
            ulp_key(a[1]).abs_diff(ulp_key(b[1])),
            nano_diff(a[0], b[0]),
            nano_diff(a[1], b[1]),
            PT_CLASSES[ca],
            PT_CLASSES[cb],
            if ca == cb { "" } else { "  FAIL" }
        );
    }
    let (worst, outside) = workload::pt_error(&y, &GOLDEN_Y, TOL);
    let e9 = |e: f32| {
        if e.is_nan() {
            u64::MAX
        } else {
            (e * 1e9) as u64
        }
    };
    println!(
        "pytorch_gru: every step vs PyTorch: {} logits, worst |y - pytorch| / max(1, |pytorch|) {}e-9, {} outside the converter's tolerance {}e-9; self-check italy_power_gru_golden_error() {}e-9",
        y.len() * PT_TX * 2,
        e9(worst),
        outside,
        e9(TOL),
        e9(self_check)
    );
    let self_check_failed = self_check.is_nan() || self_check > TOL;
    if outside > 0 || self_check_failed || class_mismatch > 0 {
        println!("FAIL pytorch_gru: tinyrnn differs from PyTorch");
        totals.failures += 1;
    }
    // Facts for the report (qemu-check.sh parses this line).
    println!(
        "pytorch_gru series {} steps {} macs_per_step {} state_bytes {} model_bytes {}",
        workload::PT_SERIES,
        PT_TX,
        workload::PT_MACS_PER_STEP,
        workload::pt_state_bytes(),
        core::mem::size_of_val(&MODEL)
    );
}

/// Prints a float with 4 decimals through integers (no float formatter in the image).
struct Fixed4(f32);

impl core::fmt::Display for Fixed4 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = (self.0 * 1e4) as i32; // rounds toward zero; saturates
        let sign = if v < 0 { "-" } else { "" };
        let v = v.unsigned_abs();
        write!(f, "{}{}.{:04}", sign, v / 10_000, v % 10_000)
    }
}

/// Keyword-spotting inference from the model in flash, checked against the host.
fn kws_inference(m: &mut Markers, totals: &mut Totals) {
    phase("kws_forward", golden::KWS_FORWARD, TOL_PASS, totals, |s| {
        workload::kws_forward(&model::KWS_MODEL, m, s);
        Ok(())
    });
}

/// Every phase this target has the RAM for.
#[cfg(not(any(feature = "inference-only", feature = "quant")))]
fn full_run(m: &mut Markers, totals: &mut Totals) {
    println!("tinyrnn firmware: {} training configuration", config::NAME);
    phase("activations", golden::ACTIVATIONS, TOL_PASS, totals, |s| {
        workload::activations(m, s);
        Ok(())
    });
    phase("course_rnn", golden::COURSE_RNN, TOL_PASS, totals, |s| {
        workload::course_rnn(m, s);
        Ok(())
    });
    phase(
        "course_rnn_train_step",
        golden::COURSE_RNN_TRAIN_STEP,
        TOL_PASS,
        totals,
        |s| workload::course_rnn_train_step(m, s),
    );
    phase("course_lstm", golden::COURSE_LSTM, TOL_PASS, totals, |s| {
        workload::course_lstm(m, s);
        Ok(())
    });
    // Needs about 16.2 KB of stack with M = 10 (workspace 9.2 KB, Adam 1.6 KB, backward pass
    // frame 2.1 KB, ...): more than the Cortex-M0 has.
    #[cfg(not(fw_reduced))]
    phase(
        "course_lstm_train_step",
        golden::COURSE_LSTM_TRAIN_STEP,
        TOL_PASS,
        totals,
        |s| workload::course_lstm_train_step(m, s),
    );
    kws_inference(m, totals);
    #[cfg(not(fw_reduced))]
    phase(
        "kws_backward",
        golden::KWS_BACKWARD,
        TOL_PASS,
        totals,
        |s| {
            workload::kws_backward(&model::KWS_MODEL, m, s);
            Ok(())
        },
    );
    #[cfg(fw_kws_train)]
    phase(
        "kws_train_step",
        golden::KWS_TRAIN_STEP,
        TOL_PASS,
        totals,
        |s| {
            critical_section::with(|cs| {
                let mut state = KWS_ADAM_STATE.borrow_ref_mut(cs);
                workload::kws_train_step(&model::KWS_MODEL, &mut state, m, s)
            })
        },
    );
    // The stacked GRU from flash, streamed (no tape), then by `Layer::forward` into a tape: both
    // bit for bit against the same golden values. Two phases, so that the first one's stack
    // is what streaming inference needs.
    #[cfg(not(fw_no_stack))]
    {
        use stack_config::{FORWARD, N_A, STREAM};
        let model = &stack_model::STACK_MODEL;
        phase("stack_gru_stream", STREAM, TOL_EXACT, totals, |s| {
            workload::stack_stream::<N_A>(model, m, s);
            Ok(())
        });
        phase("stack_gru_forward", FORWARD, TOL_EXACT, totals, |s| {
            workload::stack_forward::<N_A, { workload::S_TX }>(model, m, s);
            Ok(())
        });
    }

    #[cfg(not(fw_no_pytorch))]
    pytorch_gru(m, totals);

    let spec: &TrainSpec = &config::SPEC;
    let dataset = Dataset {
        train_x: &data::TRAIN_X,
        train_y: &data::TRAIN_Y,
        test_x: &data::TEST_X,
        test_y: &data::TEST_Y,
    };
    let mut summary = None;
    phase("basic_motions", config::GOLDEN, TOL_TRAIN, totals, |s| {
        summary = Some(workload::basic_motions::<
            { config::N_A },
            { config::M },
            { config::LEN },
        >(spec, &dataset, m, s)?);
        Ok(())
    });
    if let Some(s) = summary {
        println!(
            "train: LstmParams<f32, 6, {}, 4>, batch {}, {} Adam steps (lr {}), on the device",
            config::N_A,
            config::M,
            spec.steps,
            Fixed4(spec.lr)
        );
        println!(
            "train: mean loss of the first {} steps {}, of the last {} steps {} (must be < {}% of the first)",
            spec.window,
            Fixed4(s.first),
            spec.window,
            Fixed4(s.last),
            spec.max_ratio_pct
        );
        println!(
            "train: accuracy train {}/40, test {}/40",
            s.train_hits, s.test_hits
        );
        if !s.loss_fell(spec) {
            println!("FAIL basic_motions: the loss did not fall enough");
            totals.failures += 1;
        }
    }
}

#[entry]
fn main() -> ! {
    paint_stack();
    let mut totals = Totals::default();
    let mut m = Markers {
        names: [""; MAX_REGIONS],
        count: 0,
    };
    m.region("marker_overhead", || ()); // empty region: subtract it from the others
    #[cfg(not(any(feature = "inference-only", feature = "quant")))]
    full_run(&mut m, &mut totals);
    #[cfg(feature = "quant")]
    qrun::quant_run(&mut m, &mut totals);
    #[cfg(all(feature = "inference-only", not(feature = "quant")))]
    {
        println!("tinyrnn firmware: keyword-spotting inference only");
        kws_inference(&mut m, &mut totals);
    }

    // Facts for the report (qemu-check.sh parses these lines).
    for k in 0..m.count {
        println!("region {} {}", k, m.names[k]);
    }
    use workload as w;
    println!("steps course {} kws {}", w::C_TX, w::K_TX);
    println!(
        "macs_per_step course_lstm {} course_rnn {} kws {}",
        w::C_LSTM_MACS_PER_STEP,
        w::C_RNN_MACS_PER_STEP,
        w::K_MACS_PER_STEP
    );
    println!(
        "activations_per_step course_lstm {} {} kws {} {}",
        w::C_LSTM_EXPF_PER_STEP,
        w::C_LSTM_TANHF_PER_STEP,
        w::K_EXPF_PER_STEP,
        w::K_TANHF_PER_STEP
    );
    #[cfg(not(any(feature = "inference-only", feature = "quant", fw_no_stack)))]
    println!(
        "stack_gru n_a {} steps {} macs_per_step {} expf_per_step {} tanhf_per_step {} state_bytes {}",
        stack_config::N_A,
        w::S_TX,
        w::stack_macs_per_step(stack_config::N_A),
        w::stack_expf_per_step(stack_config::N_A),
        w::stack_tanhf_per_step(stack_config::N_A),
        w::stack_state_bytes::<{ stack_config::N_A }>()
    );
    println!(
        "golden: {} values compared, {} outside tolerance, max {} ULP, max |diff| {}e-9",
        totals.values, totals.outside, totals.max_ulps, totals.max_abs_e9
    );
    let (hwm, region) = (totals.stack_hwm, stack_top() - stack_bottom());
    println!(
        "stack high-water mark: {} bytes (stack region {} bytes)",
        hwm, region
    );
    if hwm + 256 > region {
        // On RISC-V `virt` the stack would have grown into the statics and the image.
        println!("FAIL stack: less than 256 bytes left below the high-water mark");
        totals.failures += 1;
    }

    #[cfg(feature = "demo-fault")]
    // SAFETY: deliberately executes an undefined instruction to test the fault handler.
    unsafe {
        #[cfg(target_arch = "arm")]
        core::arch::asm!("udf #0");
        #[cfg(target_arch = "riscv32")]
        core::arch::asm!("unimp");
    }
    if cfg!(feature = "demo-panic") {
        panic!("demo-panic feature: deliberate panic");
    }
    if totals.failures == 0 {
        println!("tinyrnn firmware: all checks passed");
        process::exit(0)
    } else {
        println!("tinyrnn firmware: {} check(s) failed", totals.failures);
        process::exit(3)
    }
}
