//! The crate's error type.

use mcts::MctsError;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectionError {
    /// A configuration field or an input has an invalid value.
    #[error("invalid configuration: `{field}` {reason}")]
    Config {
        /// The field's (or the input's) name.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// An action that is not legal in the current state (out of range, or after the end of
    /// the episode).
    #[error("action {action} is not legal here")]
    IllegalAction {
        /// The action.
        action: u16,
    },
    /// The search (the `mcts` crate) failed: an invalid search setting, an evaluator failure.
    #[error(transparent)]
    Search(#[from] MctsError),
    /// The par-core executor running episodes in parallel failed.
    #[error("parallel execution failed: {0}")]
    Executor(#[from] par_core::ExecError),
}

impl InspectionError {
    /// The name of the bad field, for a configuration error of this crate or of the search
    /// settings it holds ([`MctsError::Config`]); `None` for other errors.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Config { field, .. } | Self::Search(MctsError::Config { field, .. }) => {
                Some(field)
            }
            _ => None,
        }
    }
}
