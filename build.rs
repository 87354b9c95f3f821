//! Tells the quantized kernels which core they are built for, from the target's name: rustc
//! exposes neither the Arm architecture version nor the DSP extension to `cfg` on stable.
//!
//! - `tinyrnn_armv6m` (`thumbv6m-*`: Cortex-M0, M0+, M1): eight low registers, no `SMULL`;
//! - `tinyrnn_armv7m` (`thumbv7m-*`: Cortex-M3);
//! - `tinyrnn_dsp` (`thumbv7em-*`: Cortex-M4, M7, with the DSP extension's `SMLAD`).
//!
//! Every other target (hosts, RISC-V, ARMv8-M) gets none and compiles the portable code.
fn main() {
    for cfg in ["tinyrnn_armv6m", "tinyrnn_armv7m", "tinyrnn_dsp"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let target = std::env::var("TARGET").unwrap_or_default();
    let cfg = if target.starts_with("thumbv6m") {
        Some("tinyrnn_armv6m")
    } else if target.starts_with("thumbv7m") {
        Some("tinyrnn_armv7m")
    } else if target.starts_with("thumbv7em") {
        Some("tinyrnn_dsp")
    } else {
        None
    };
    if let Some(cfg) = cfg {
        println!("cargo::rustc-cfg={cfg}");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
