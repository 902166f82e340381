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

/// The reference pack, or `None` after printing why the test is skipped.
pub fn reference_dir_or_skip(test: &str) -> Option<PathBuf> {
    let dir = mpc::fixture::reference_dir();
    if dir.is_none() {
        println!(
            "{test}: skipped: the tinyphysics reference pack (../shared/tinyphysics or TINYPHYSICS_DIR) is absent"
        );
    }
    dir
}
