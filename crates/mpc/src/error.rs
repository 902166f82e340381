//! The crate's error type.

use std::path::PathBuf;

pub use ort_env::OrtLibraryError;

/// Errors of the simulator, the models, the controllers and the evaluation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MpcError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A segment CSV is malformed.
    #[error("{path}:{line}: {problem}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A segment has too few rows for the simulator.
    #[error("{path}: {rows} data rows, the simulator needs at least {needed}")]
    SegmentTooShort {
        /// The file.
        path: PathBuf,
        /// Data rows found.
        rows: usize,
        /// Data rows needed.
        needed: usize,
    },
    /// ONNX Runtime could not be set up.
    #[error(transparent)]
    OrtLibrary(#[from] OrtLibraryError),
    /// The model file could not be loaded into a session.
    #[error("model {path}: {reason}")]
    ModelLoad {
        /// The model file.
        path: PathBuf,
        /// What ONNX Runtime said.
        reason: String,
    },
    /// The model's inputs or outputs differ from the tinyphysics interface.
    #[error(
        "model {path}: {problem} (expected inputs `states` float32 [batch, 20, 4] and `tokens` int64 [batch, 20], output `output` float32 [batch, 20, 1024])"
    )]
    ModelInterface {
        /// The model file.
        path: PathBuf,
        /// The mismatch.
        problem: String,
    },
    /// The model is not the tinyphysics transformer the native implementation evaluates.
    #[error("model {path}: not the tinyphysics transformer architecture: {problem}")]
    ModelArchitecture {
        /// The model file.
        path: PathBuf,
        /// What is missing or different.
        problem: String,
    },
    /// Running the model failed, or its input was inconsistent.
    #[error("model {path}: inference failed: {reason}")]
    Inference {
        /// The model file (or a description of an in-memory model).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The model's soft-max output could not be sampled (numpy would raise `ValueError`).
    #[error("step {step}: invalid sampling distribution: {reason}")]
    Sampling {
        /// The simulator step.
        step: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration field has an invalid value.
    #[error("invalid configuration: `{field}`: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// The parallel executor failed.
    #[error(transparent)]
    Exec(#[from] par_core::ExecError),
    /// Segments of an evaluation failed (the others finished, and were journaled when the
    /// evaluation keeps a journal).
    #[error("{failed} of {total} segments failed: {}", list_failures(failures))]
    SegmentsFailed {
        /// How many failed.
        failed: usize,
        /// How many the evaluation had.
        total: usize,
        /// `(file, reason)` of each failed segment, in segment order.
        failures: Vec<(String, String)>,
    },
}

fn list_failures(failures: &[(String, String)]) -> String {
    failures
        .iter()
        .map(|(file, reason)| format!("{file}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}
