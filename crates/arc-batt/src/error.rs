//! The crate's error type.

use std::path::PathBuf;

use crate::grid::GridError;

/// Everything that can go wrong reading tasks, programs and libraries, or configuring a
/// search. Outcomes of a search (solved, out of budget) are statuses, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArcError {
    /// A file or folder could not be read.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The system error (in the message, not repeated as a cause).
        error: std::io::Error,
    },
    /// A task file is not valid JSON of the task format.
    #[error("{}: not an ARC task file: {error}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the JSON reader said (with line and column).
        error: serde_json::Error,
    },
    /// A grid in a task file breaks the grid rules.
    #[error("{}: {place}: {error}", path.display())]
    Grid {
        /// The file.
        path: PathBuf,
        /// Which grid, for example `train pair 2 output`.
        place: String,
        /// What is wrong with it.
        error: GridError,
    },
    /// A task without demonstrations or without test inputs.
    #[error("{}: the task has no {part} pairs", path.display())]
    NoPairs {
        /// The file.
        path: PathBuf,
        /// `train` or `test`.
        part: &'static str,
    },
    /// A demonstration without its output.
    #[error("{}: train pair {pair} has no output", path.display())]
    MissingOutput {
        /// The file.
        path: PathBuf,
        /// The pair index.
        pair: usize,
    },
    /// A folder given as tasks holds no `.json` file.
    #[error("{}: no .json task files in this folder", path.display())]
    NoTasks {
        /// The folder.
        path: PathBuf,
    },
    /// A program's text could not be parsed or type-checked.
    #[error("program line {line}: {message}")]
    Program {
        /// 1-based statement number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A library file entry is malformed.
    #[error("{}: line {line}: {message}", path.display())]
    Library {
        /// The library file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A configuration field is out of range.
    #[error("invalid configuration: {field}: {message}")]
    Config {
        /// The field.
        field: &'static str,
        /// Why, with the allowed range.
        message: String,
    },
    /// The parallel executor failed.
    #[error("executor: {0}")]
    Exec(#[from] par_core::ExecError),
}
