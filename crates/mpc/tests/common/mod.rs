//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mpc::{MpcError, OrtModel, OrtOptions};

/// Loads a model with the official session settings, failing with a clear message when ONNX
/// Runtime is not installed.
pub fn load_model(path: &Path) -> OrtModel {
    match OrtModel::load(path, OrtOptions::official()) {
        Ok(m) => m,
        Err(MpcError::OrtLibrary(e)) => panic!(
            "ONNX Runtime is needed for this test and was not found: {e}\n\
             run `cargo xtask setup` (or set ORT_DYLIB_PATH) and re-run the tests"
        ),
        Err(e) => panic!("could not load {}: {e}", path.display()),
    }
}

/// The tinyphysics reference pack (`../shared/tinyphysics`, or `TINYPHYSICS_DIR`). A test that
/// calls this is `#[ignore = "needs ../shared/tinyphysics (run by cargo xtask test when
/// present)"]`, so a plain `cargo test` does not run it and `cargo xtask test` runs it
/// (`--include-ignored`) when the pack is present; run without the pack it fails with a
/// message saying so, never passes without having checked anything.
pub fn reference_dir() -> PathBuf {
    mpc::fixture::reference_dir().unwrap_or_else(|| {
        panic!(
            "the tinyphysics reference pack is absent: this test needs ../shared/tinyphysics \
             beside the project (or TINYPHYSICS_DIR naming a folder with tinyphysics.onnx, \
             data/ and golden/); it checked nothing"
        )
    })
}
