//! Tells the tests whether the build host has the instructions of the image caster's 8-lane
//! marcher (AVX-512F and AVX-512DQ): the cfg `host_avx512`, set when it has them (and the
//! build is for the host itself, not cross-compiled). The test of the 8-lane marcher is
//! ignored without it, with the reason, so that a CPU without AVX-512 does not report as
//! passed a comparison of the scalar path with itself.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(host_avx512)");
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    if native && var("CARGO_CFG_TARGET_ARCH") == "x86_64" && host_has_avx512() {
        println!("cargo::rustc-cfg=host_avx512");
    }
}

/// Whether the processor running this build script has AVX-512F and AVX-512DQ.
#[cfg(target_arch = "x86_64")]
fn host_has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq")
}

/// Whether the processor running this build script has AVX-512F and AVX-512DQ: never, off
/// x86-64.
#[cfg(not(target_arch = "x86_64"))]
fn host_has_avx512() -> bool {
    false
}
