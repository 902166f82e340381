//! A missing ONNX Runtime library is a typed error that says how to install it, not a panic.
//! (Its own test binary: the runtime is set up once per process.)

use mpc::{MpcError, OrtLibraryError, OrtModel, OrtOptions};

#[test]
fn missing_runtime_library_is_a_typed_error() {
    // SAFETY: this test binary has this single test, so no other thread reads the environment.
    unsafe { std::env::set_var("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so") };
    let err =
        OrtModel::load(mpc::fixture::fixture_model_path(), OrtOptions::official()).unwrap_err();
    assert!(
        matches!(err, MpcError::OrtLibrary(OrtLibraryError::Missing { .. })),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("cargo xtask setup"), "{message}");
    assert!(
        message.contains("/nonexistent/libonnxruntime.so"),
        "{message}"
    );
}
