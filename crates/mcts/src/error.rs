//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MctsError {
    /// A move string could not be played (bad character, full column, or a move that ends the
    /// game).
    #[error("move {} ('{found}'): {reason}", index + 1)]
    BadMove {
        /// Zero-based index of the offending move in the string.
        index: usize,
        /// The character found there.
        found: char,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A line of a test-set file could not be read.
    #[error("{}:{line}:{column}: {reason}", path.display())]
    BadTestLine {
        /// The file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// One-based column (in characters) where the fault is: the bad move, the score, or
        /// the start of a line of the wrong shape.
        column: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// A test-set file could not be opened or read.
    #[error("cannot read test set {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration field has an invalid value.
    #[error("invalid configuration: `{field}` {reason}")]
    Config {
        /// The field's name.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// An action that is not legal in the current state.
    #[error("action {action} is not legal here")]
    IllegalAction {
        /// The action.
        action: u16,
    },
    /// A search tree failed a consistency check (see `check_invariants`).
    #[error("tree node {node} is inconsistent: {reason}")]
    Inconsistent {
        /// Index of the node in the arena.
        node: usize,
        /// What does not add up.
        reason: String,
    },
    /// The par-core executor running parallel searches failed.
    #[error("parallel execution failed: {0}")]
    Executor(#[from] par_core::ExecError),
    /// A checkpoint file could not be written, read or decoded, or does not fit.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A network evaluator (for instance a shared, batched one) could not answer.
    #[error("network evaluator failed: {0}")]
    Evaluator(String),
    /// ONNX Runtime could not be found or started.
    #[error(transparent)]
    OrtLibrary(#[from] ort_env::OrtLibraryError),
    /// An ONNX network could not be loaded, does not have the expected interface, or gave an
    /// output that is not a policy and a value.
    #[error("ONNX network {}: {problem}", path.display())]
    Onnx {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}
