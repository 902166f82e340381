//! Checkpoints: the network, the optimiser state, the loop's counters and where the network
//! came from, in one file.
//!
//! The file is an 8-byte magic (`MCTSAZ02`) followed by the [`Checkpoint`] in postcard (a
//! compact serde format). Loading checks the magic, decodes, and checks that every size
//! agrees (parameters against the network's shape, optimiser moments against the parameters,
//! and, with [`Checkpoint::load_for`], the shape against the one expected): a truncated,
//! corrupt or wrong-shape file is a [`MctsError::Checkpoint`] naming the file. Saving writes a
//! temporary file beside the target and renames it, so a crash never leaves half a checkpoint.
//!
//! # Provenance
//!
//! A checkpoint records every training session that produced its network
//! ([`TrainingSession`]: the commit of the training code and whether it had uncommitted
//! changes, the date, the command line, the [`TrainConfig`](super::TrainConfig) as JSON, and the
//! training time already done when the session began); with the checkpoint's own training
//! time, [`Checkpoint::provenance`] says which network a result was measured on. Files of the
//! first format (`MCTSAZ01`, written before provenance was stored) are still read; their
//! provenance is unknown (no sessions).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::net::{Adam, Mlp, NetShape};
use crate::error::MctsError;

const MAGIC: &[u8; 8] = b"MCTSAZ02";

/// The magic of the first format, without provenance (still read).
const MAGIC_V1: &[u8; 8] = b"MCTSAZ01";

/// One training session (a start or a resume) of a checkpoint's network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSession {
    /// The git commit of the training code (`git rev-parse --short=12 HEAD` in the crate's
    /// folder), when known.
    pub commit: Option<String>,
    /// Whether that working tree had uncommitted changes to tracked files.
    pub dirty: bool,
    /// When the session started, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// The command line of the process that trained.
    pub command: Vec<String>,
    /// The session's training settings: the `TrainConfig` as JSON.
    pub config: String,
    /// Training seconds already done when the session began (0 for the first).
    pub from_seconds: f64,
}

impl TrainingSession {
    /// A session starting now with `config_json`, after `from_seconds` of earlier training:
    /// the commit read with `git` in this crate's source folder.
    pub fn now(config_json: String, from_seconds: f64) -> Self {
        let code = par_core::provenance::Provenance::now_in(Path::new(env!("CARGO_MANIFEST_DIR")));
        Self {
            commit: code.commit,
            dirty: code.dirty,
            date: code.date,
            command: code.command,
            config: config_json,
            from_seconds,
        }
    }

    /// `commit abc123 (uncommitted changes), 2026-12-07 17:00 UTC` or `commit unknown, ...`.
    pub fn code(&self) -> String {
        format!(
            "commit {}{}, {}",
            self.commit.as_deref().unwrap_or("unknown"),
            if self.dirty {
                " (uncommitted changes)"
            } else {
                ""
            },
            self.date
        )
    }
}

/// Everything needed to resume training, and where the network came from.
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
    /// The training sessions that produced the network, oldest first; empty when unknown (a
    /// file of the first format).
    pub sessions: Vec<TrainingSession>,
}

/// The first format's checkpoint: the same without provenance.
#[derive(Deserialize)]
struct CheckpointV1 {
    net: Mlp,
    adam: Adam,
    iteration: u64,
    games: u64,
    samples: u64,
    train_seconds: f64,
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
        let corrupt = |e: postcard::Error| err(format!("corrupt: {e}"));
        let c: Checkpoint = if let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) {
            postcard::from_bytes(body).map_err(corrupt)?
        } else if let Some(body) = bytes.strip_prefix(MAGIC_V1.as_slice()) {
            let v1: CheckpointV1 = postcard::from_bytes(body).map_err(corrupt)?;
            Checkpoint {
                net: v1.net,
                adam: v1.adam,
                iteration: v1.iteration,
                games: v1.games,
                samples: v1.samples,
                train_seconds: v1.train_seconds,
                sessions: Vec::new(),
            }
        } else {
            return Err(err("not a checkpoint (bad magic bytes)".into()));
        };
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

    /// Where the network came from, in one line: the training time, iterations and games, and
    /// each session's code and settings, or "provenance unknown" for a file of the first format.
    pub fn provenance(&self) -> String {
        let trained = format!(
            "{:.1} minutes of training, {} iterations, {} self-play games",
            self.train_seconds / 60.0,
            self.iteration,
            self.games
        );
        if self.sessions.is_empty() {
            return format!(
                "{trained}; provenance unknown (a checkpoint of the first format, which did not \
                 store it)"
            );
        }
        let sessions: Vec<String> = self
            .sessions
            .iter()
            .map(|s| {
                format!(
                    "from {:.1} min: {}, TrainConfig {}",
                    s.from_seconds / 60.0,
                    s.code(),
                    s.config
                )
            })
            .collect();
        format!("{trained}; trained by {}", sessions.join("; then "))
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
