//! The one error type of `par-cli`.

use std::path::PathBuf;

/// What went wrong in a shared binary concern; each variant names the file or the quantity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// An output file or folder cannot be written.
    #[error("cannot write {}", path.display())]
    Unwritable {
        /// The output path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An output path names something that is not a file (a folder, say).
    #[error("{}: {why}", path.display())]
    NotAFile {
        /// The output path.
        path: PathBuf,
        /// Why it cannot be used.
        why: String,
    },
    /// An input file cannot be read.
    #[error("cannot read {}", path.display())]
    Unreadable {
        /// The input path.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A configuration file is not a JSON object that fits (the reason has line and column).
    #[error("{}: {why}", path.display())]
    BadConfig {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A result cannot be serialised.
    #[error("cannot serialise {what}")]
    Serialise {
        /// What was being serialised.
        what: String,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A problem size would not fit in memory.
    #[error(
        "{what} needs about {} of memory; this machine has {} available (the limit is {}): choose a smaller size",
        crate::memory::human_bytes(*needed),
        crate::memory::human_bytes(*available),
        crate::memory::human_bytes(*limit)
    )]
    TooLarge {
        /// What would be allocated.
        what: String,
        /// Bytes it needs.
        needed: u128,
        /// Bytes the machine reports available.
        available: u128,
        /// The most a run may take.
        limit: u128,
    },
    /// Rank 0 of an MPI job failed a check that it alone makes (its outputs, say), as the
    /// other ranks report it.
    #[error("rank 0: {why}")]
    OnRank0 {
        /// What rank 0 met.
        why: String,
    },
    /// The executor configuration is invalid (a worker count, say).
    #[error(transparent)]
    Exec(#[from] par_core::ExecError),
}
