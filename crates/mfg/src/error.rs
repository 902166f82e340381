//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong before or around a solve.
///
/// Outcomes of a solve that ran (converged, iteration limit reached, timed out, non-finite
/// values) are **not** errors: they are a [`crate::Status`] inside the [`crate::Solution`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MfgError {
    /// A configuration or input field has a bad value; `field` names it (dotted path).
    #[error("invalid `{field}`: {reason}")]
    InvalidField {
        /// Dotted path of the offending field, for example `m0.values[3]` or `sigma`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A common-noise path does not have one value per time level.
    #[error("common-noise path has {got} values, the grid has {expected} time levels")]
    PathLength {
        /// `nt + 1`.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Quasi-Monte Carlo needs more Sobol dimensions than the embedded table holds.
    #[error("Sobol sampling needs {needed} dimensions, the embedded Joe-Kuo table has {available}")]
    SobolDimension {
        /// Dimensions asked for.
        needed: usize,
        /// Dimensions available.
        available: usize,
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
    /// A line of a results file could not be parsed.
    #[error("{path}, line {line}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        reason: String,
    },
}

impl MfgError {
    /// Shorthand for [`MfgError::InvalidField`].
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Fails with [`MfgError::InvalidField`] unless `value` is finite.
pub(crate) fn finite(field: &str, value: f64) -> Result<f64, MfgError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(MfgError::field(
            field,
            format!("must be finite, got {value}"),
        ))
    }
}

/// Fails unless `value` is finite and strictly positive.
pub(crate) fn positive(field: &str, value: f64) -> Result<f64, MfgError> {
    finite(field, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(MfgError::field(field, format!("must be > 0, got {value}")))
    }
}

/// Fails unless `value` is finite and not negative.
pub(crate) fn non_negative(field: &str, value: f64) -> Result<f64, MfgError> {
    finite(field, value)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(MfgError::field(field, format!("must be >= 0, got {value}")))
    }
}
