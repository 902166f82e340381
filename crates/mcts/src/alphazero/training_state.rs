//! Training states: everything a training run needs to go on exactly where it stopped.
//!
//! A [`Checkpoint`] holds the network, the optimiser and the counters: what a user of the
//! network needs. A run resumed from it alone starts with an empty replay buffer and a fresh
//! batch generator, so its later iterations differ from those of a run that never stopped. A
//! [`TrainingState`] adds the replay buffer (with its ring position) and the state of the
//! generator that draws the training batches, and the caller's own record of the run
//! ([`TrainingState::notes`]; the `az_train` example keeps its JSON log there), all in one file
//! written atomically: a run killed at any moment resumes from the last state saved, and,
//! self-play and training being deterministic for a given seed, goes on with the same games,
//! batches and network as if it had never stopped.
//!
//! The file is an 8-byte magic (`MCTSAZS1`) followed by the state in postcard. Loading checks
//! the magic, decodes, and checks the checkpoint's sizes, the replay buffer's consistency and
//! that the two fit each other: a truncated, corrupt or foreign file is a
//! [`MctsError::Checkpoint`] naming the file.

use std::path::Path;

use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::checkpoint::{Checkpoint, read_tagged, save_tagged};
use super::replay::ReplayBuffer;
use crate::error::MctsError;

/// The magic at the head of a training-state file.
pub(crate) const MAGIC: &[u8; 8] = b"MCTSAZS1";

/// A training run's whole state (see the [module docs](self)); made by
/// [`Trainer::training_state`](super::Trainer::training_state) and resumed by
/// [`Trainer::from_state`](super::Trainer::from_state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// The network, the optimiser, the counters and the provenance.
    pub checkpoint: Checkpoint,
    /// The replay buffer.
    pub(crate) replay: ReplayBuffer,
    /// The generator of the training batches.
    pub(crate) rng: Xoshiro256PlusPlus,
    /// The caller's record of the run, saved and restored with the state so that the two
    /// never disagree (the `az_train` example: its log as JSON).
    pub notes: String,
}

impl TrainingState {
    /// The replay buffer.
    pub fn replay(&self) -> &ReplayBuffer {
        &self.replay
    }

    /// Writes the state to `path` atomically (a temporary file in the same folder, flushed to
    /// disk, renamed over `path`).
    ///
    /// # Errors
    /// [`MctsError::Checkpoint`] naming `path`.
    pub fn save(&self, path: &Path) -> Result<(), MctsError> {
        save_parts(path, &self.checkpoint, &self.replay, &self.rng, &self.notes)
    }

    /// Reads a training state and checks it (see the [module docs](self)).
    ///
    /// # Errors
    /// [`MctsError::Checkpoint`] naming `path` and what is wrong.
    pub fn load(path: &Path) -> Result<Self, MctsError> {
        let (bytes, err) = read_tagged(path)?;
        let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return Err(err(if bytes.is_empty() {
                "is empty, not a training state".into()
            } else {
                "not a training state (bad magic bytes)".into()
            }));
        };
        let state: Self = postcard::from_bytes(body).map_err(|e| err(format!("corrupt: {e}")))?;
        state.checkpoint.check().map_err(&err)?;
        state
            .replay
            .check()
            .map_err(|e| err(format!("replay buffer: {e}")))?;
        let shape = state.checkpoint.net.shape();
        if state.replay.input_len() != shape.input || state.replay.num_actions() != shape.actions {
            return Err(err(format!(
                "the replay buffer holds states of {} inputs and {} actions, the network reads \
                 {} and writes {}",
                state.replay.input_len(),
                state.replay.num_actions(),
                shape.input,
                shape.actions
            )));
        }
        Ok(state)
    }
}

/// A [`TrainingState`] made of borrowed parts: the same bytes, without copying the replay
/// buffer first.
#[derive(Serialize)]
struct Parts<'a> {
    checkpoint: &'a Checkpoint,
    replay: &'a ReplayBuffer,
    rng: &'a Xoshiro256PlusPlus,
    notes: &'a str,
}

/// Writes a training state of these parts to `path` atomically (see [`TrainingState::save`]).
pub(crate) fn save_parts(
    path: &Path,
    checkpoint: &Checkpoint,
    replay: &ReplayBuffer,
    rng: &Xoshiro256PlusPlus,
    notes: &str,
) -> Result<(), MctsError> {
    let parts = Parts {
        checkpoint,
        replay,
        rng,
        notes,
    };
    save_tagged(path, MAGIC, &parts)
}
