//! A missing ONNX Runtime library is a typed error that says how to install it, and the
//! failure is remembered for later callers. (Its own test binary: the environment variable and
//! the process-wide runtime are per process.)

use ort_env::{OrtLibraryError, environment, library_path};

#[test]
fn missing_runtime_library_is_a_typed_error() {
    // SAFETY: this test binary has this single test, so no other thread reads the environment.
    unsafe { std::env::set_var("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so") };
    assert!(matches!(
        library_path(),
        Err(OrtLibraryError::Missing { .. })
    ));
    for _ in 0..2 {
        let err = environment().unwrap_err();
        let message = err.to_string();
        assert!(message.contains("cargo xtask setup"), "{message}");
        assert!(
            message.contains("/nonexistent/libonnxruntime.so"),
            "{message}"
        );
    }
}
