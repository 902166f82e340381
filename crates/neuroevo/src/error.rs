//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong around an evolutionary run.
///
/// Outcomes of a run that went through (solved, evaluation budget spent) are **not** errors:
/// they are a [`crate::Status`] in the run's state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NeuroError {
    /// A configuration field has a bad value; `field` names it (dotted path).
    #[error("invalid `{field}`: {reason}")]
    InvalidField {
        /// Dotted path of the offending field, for example `ga.mutation_rate`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A genome does not have the length the task or optimiser expects.
    #[error("a genome has {got} genes, {expected} expected")]
    GenomeLength {
        /// The expected length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// `tell` received a fitness vector of the wrong length.
    #[error("tell received {got} fitness values for {expected} asked genomes")]
    FitnessCount {
        /// Genomes asked.
        expected: usize,
        /// Fitness values given.
        got: usize,
    },
    /// A fitness value is NaN (infinite values are allowed: they order correctly).
    #[error("fitness of individual {index} is NaN")]
    NanFitness {
        /// Index of the individual in the asked batch.
        index: usize,
    },
    /// The executor refused the run or tasks failed (panic, crash, time-out).
    #[error(transparent)]
    Exec(#[from] par_core::ExecError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its content cannot be used.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A checkpoint belongs to a different run than the one being resumed.
    #[error("checkpoint {path} belongs to another run: {reason}")]
    CheckpointMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// Which setting differs.
        reason: String,
    },
}

impl NeuroError {
    /// Shorthand for [`NeuroError::InvalidField`].
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`NeuroError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
/// Checks that `value` is finite and within `[lo, hi]`, naming `field` otherwise.
pub(crate) fn in_range(field: &str, value: f64, lo: f64, hi: f64) -> Result<f64, NeuroError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(NeuroError::field(
            field,
            format!("must be a finite number in [{lo}, {hi}], got {value}"),
        ))
    }
}

/// Checks that `value` is within `[lo, hi]`, naming `field` otherwise.
pub(crate) fn count_in(
    field: &str,
    value: usize,
    lo: usize,
    hi: usize,
) -> Result<usize, NeuroError> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(NeuroError::field(
            field,
            format!("must be in {lo}..={hi}, got {value}"),
        ))
    }
}
