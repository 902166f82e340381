//! Checkpoints: the network, the optimiser state and the loop's counters in one file.
//!
//! The file is an 8-byte magic (`MCTSAZ01`) followed by the [`Checkpoint`] in postcard (a
//! compact serde format). Loading checks the magic, decodes, and checks that every size
//! agrees (parameters against the network's shape, optimiser moments against the parameters,
//! and, with [`Checkpoint::load_for`], the shape against the one expected): a truncated,
//! corrupt or wrong-shape file is a [`MctsError::Checkpoint`] naming the file. Saving writes a
//! temporary file beside the target and renames it, so a crash never leaves half a checkpoint.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::net::{Adam, Mlp, NetShape};
use crate::error::MctsError;

const MAGIC: &[u8; 8] = b"MCTSAZ01";

/// Everything needed to resume training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The network.
    pub net: Mlp,
    /// The optimiser and its moments.
    pub adam: Adam,
    /// Loop iterations completed.
    pub iteration: u64,
    /// Self-play games played.
    pub games: u64,
    /// Training samples recorded (before augmentation).
    pub samples: u64,
    /// Wall time spent in the loop so far, in seconds.
    pub train_seconds: f64,
}

impl Checkpoint {
    /// Writes the checkpoint to `path` (through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<(), MctsError> {
        let err = |reason: String| MctsError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let mut bytes = MAGIC.to_vec();
        bytes.extend(postcard::to_stdvec(self).map_err(|e| err(format!("cannot encode: {e}")))?);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes).map_err(|e| err(format!("cannot write: {e}")))?;
        std::fs::rename(&tmp, path).map_err(|e| err(format!("cannot rename into place: {e}")))
    }

    /// Reads a checkpoint and checks that its sizes agree.
    pub fn load(path: &Path) -> Result<Self, MctsError> {
        let err = |reason: String| MctsError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return Err(err("not a checkpoint (bad magic bytes)".into()));
        };
        let c: Checkpoint = postcard::from_bytes(body).map_err(|e| err(format!("corrupt: {e}")))?;
        let shape = c.net.shape();
        shape
            .validate()
            .map_err(|e| err(format!("bad network shape: {e}")))?;
        if c.net.params().len() != shape.num_params() {
            return Err(err(format!(
                "the network shape needs {} parameters, the file has {}",
                shape.num_params(),
                c.net.params().len()
            )));
        }
        if c.adam.len() != c.net.params().len() {
            return Err(err(format!(
                "the optimiser holds {} moments for {} parameters",
                c.adam.len(),
                c.net.params().len()
            )));
        }
        if c.net.params().iter().any(|p| !p.is_finite()) {
            return Err(err("the network has non-finite parameters".into()));
        }
        Ok(c)
    }

    /// Reads a checkpoint whose network must have the shape `expected`.
    pub fn load_for(path: &Path, expected: &NetShape) -> Result<Self, MctsError> {
        let c = Self::load(path)?;
        if c.net.shape() != expected {
            return Err(MctsError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("network shape {:?}, expected {:?}", c.net.shape(), expected),
            });
        }
        Ok(c)
    }
}
