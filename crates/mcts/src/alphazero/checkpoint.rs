//! Checkpoints: the network, the optimiser state, the loop's counters and where the network
//! came from, in one file.
//!
//! The file is an 8-byte magic (`MCTSAZ02`) followed by the [`Checkpoint`] in postcard (a
//! compact serde format). Loading checks the magic, decodes, and checks that every size
//! agrees (parameters against the network's shape, optimiser moments against the parameters,
//! and, with [`Checkpoint::load_for`], the shape against the one expected): a truncated,
//! corrupt or wrong-shape file is a [`MctsError::Checkpoint`] naming the file. Saving writes a
//! temporary file beside the target, flushes it to disk and renames it, so a
//! crash never leaves half a checkpoint.
//!
//! A checkpoint holds what a user of the network needs; resuming a training run exactly (the
//! same games and batches as if it had never stopped) needs the replay buffer and the batch
//! generator too: [`TrainingState`](super::TrainingState).
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
    /// Writes the checkpoint to `path` atomically (a temporary file, flushed, then renamed: a
    /// reader, or a run killed in the middle, finds the old file or the new one, never half of
    /// one).
    pub fn save(&self, path: &Path) -> Result<(), MctsError> {
        save_tagged(path, MAGIC, self)
    }

    /// Reads a checkpoint and checks that its sizes agree.
    pub fn load(path: &Path) -> Result<Self, MctsError> {
        let (bytes, err) = read_tagged(path)?;
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
        } else if bytes.starts_with(super::training_state::MAGIC) {
            return Err(err(
                "is a training state (train_state.bin), not a checkpoint: use the \
                 checkpoint.bin beside it"
                    .into(),
            ));
        } else if bytes.is_empty() {
            return Err(err("is empty, not a checkpoint".into()));
        } else {
            return Err(err("not a checkpoint (bad magic bytes)".into()));
        };
        c.check().map_err(err)?;
        Ok(c)
    }

    /// Checks that the sizes of a decoded checkpoint agree and its parameters are finite.
    pub(crate) fn check(&self) -> Result<(), String> {
        let shape = self.net.shape();
        shape
            .validate()
            .map_err(|e| format!("bad network shape: {e}"))?;
        if self.net.params().len() != shape.num_params() {
            return Err(format!(
                "the network shape needs {} parameters, the file has {}",
                shape.num_params(),
                self.net.params().len()
            ));
        }
        if self.adam.len() != self.net.params().len() {
            return Err(format!(
                "the optimiser holds {} moments for {} parameters",
                self.adam.len(),
                self.net.params().len()
            ));
        }
        if self.net.params().iter().any(|p| !p.is_finite()) {
            return Err("the network has non-finite parameters".into());
        }
        Ok(())
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

/// Writes `magic` and `value` in postcard to `path` atomically ([`write_atomic`]).
pub(crate) fn save_tagged<T: Serialize>(
    path: &Path,
    magic: &[u8; 8],
    value: &T,
) -> Result<(), MctsError> {
    let mut bytes = magic.to_vec();
    bytes.extend(
        postcard::to_stdvec(value).map_err(|e| MctsError::Checkpoint {
            path: path.to_path_buf(),
            reason: format!("cannot encode: {e}"),
        })?,
    );
    write_atomic(path, &bytes)
}

/// The bytes of the file at `path`, and the maker of errors naming it.
pub(crate) fn read_tagged(
    path: &Path,
) -> Result<(Vec<u8>, impl Fn(String) -> MctsError + '_), MctsError> {
    let err = move |reason: String| MctsError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    Ok((bytes, err))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// then renamed over `path`. A reader sees the old file or the new one, never a part.
///
/// # Errors
/// [`MctsError::Checkpoint`] naming `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), MctsError> {
    use std::io::Write;
    let err = |what: &str, e: std::io::Error| MctsError::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("cannot {what}: {e}"),
    };
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err("write", e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err("rename into place", e)
    })
}
