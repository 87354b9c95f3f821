//! Picks the memory map for the QEMU machine that matches the target triple, puts it on the
//! linker search path as `memory.x` (cortex-m-rt's and riscv-rt's `link.x` INCLUDE it), and
//! tells the firmware how much RAM it has to work with:
//!
//! - `fw_reduced` (Cortex-M0, micro:bit, 16 KB RAM): the reduced training configuration, and
//!   no keyword-spotting backward pass or training step;
//! - `fw_kws_train` (Cortex-M4F with 256 KB, RV32 `virt`): the keyword-spotting model also
//!   trains (parameters, gradient, Adam state and tape are about 120 KB);
//! - neither (Cortex-M3, 64 KB RAM): the full BasicMotions configuration and the
//!   keyword-spotting forward and backward passes, but no keyword-spotting training step.
//!
//! and what the flash has room for besides, for the stacked GRU:
//!
//! - neither cfg (Cortex-M4F with 1 MB, RV32 `virt`): 32 hidden units per layer (a 45 KB model);
//! - `fw_stack_small` (Cortex-M0, 256 KB): 8 hidden units per layer (a 4.5 KB model); with 32
//!   the firmware would overflow its flash by about 2 KB;
//! - `fw_no_stack` (Cortex-M3, 256 KB): no stacked GRU. The rest of its firmware, which has more
//!   phases than the M0's, leaves 12 KB of flash free, and even the 8-unit model with its code
//!   (unrolled for the Cortex-M3) needs about 30 KB.
//!
//! and, for the GRU trained in PyTorch (`pytorch_model.rs`, 10 KB of weights):
//!
//! - `fw_no_pytorch` (Cortex-M3, 256 KB): not built in. The rest of the M3's firmware leaves
//!   10.9 KB of flash free; the phase needs 27.1 KB there (measured: the 10 KB model, 1.9 KB of
//!   golden values, 15 KB of code), so the image would overflow by 16.3 KB. The model and its
//!   golden values alone do not fit.
use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap();
    let (map, ram_tier, flash_tier) = if target.starts_with("thumbv7em") {
        ("mps2-an386.x", Some("fw_kws_train"), None) // Cortex-M4F
    } else if target.starts_with("thumbv7m") {
        ("lm3s6965evb.x", None, Some("fw_no_stack")) // Cortex-M3 (and fw_no_pytorch, below)
    } else if target.starts_with("thumbv6m") {
        ("microbit.x", Some("fw_reduced"), Some("fw_stack_small")) // Cortex-M0
    } else if target.starts_with("riscv32") {
        ("riscv-virt.x", Some("fw_kws_train"), None)
    } else {
        panic!("no QEMU memory map for target {target}");
    };
    println!("cargo::rustc-check-cfg=cfg(fw_reduced)");
    println!("cargo::rustc-check-cfg=cfg(fw_kws_train)");
    println!("cargo::rustc-check-cfg=cfg(fw_stack_small)");
    println!("cargo::rustc-check-cfg=cfg(fw_no_stack)");
    println!("cargo::rustc-check-cfg=cfg(fw_no_pytorch)");
    for cfg in [ram_tier, flash_tier].into_iter().flatten() {
        println!("cargo::rustc-cfg={cfg}");
    }
    if target.starts_with("thumbv7m") {
        println!("cargo::rustc-cfg=fw_no_pytorch");
    }

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::copy(format!("memory/{map}"), out.join("memory.x")).unwrap();
    println!("cargo::rustc-link-search={}", out.display());
    // The runtime's linker script (it INCLUDEs memory.x). Passed from here rather than from
    // .cargo/config.toml `rustflags`, so that a RUSTFLAGS env var or a --manifest-path build
    // from another directory cannot silently drop it.
    println!("cargo::rustc-link-arg-bins=-Tlink.x");
    if target.starts_with("thumb") {
        println!("cargo::rustc-link-arg-bins=--nmagic");
    }
    println!("cargo::rerun-if-changed=memory");
    println!("cargo::rerun-if-changed=build.rs");
}
