//! The ONNX Runtime implementation of [`DynamicsModel`], through the `ort` crate with the runtime
//! library loaded at run time.
//!
//! The library is found and started by the workspace's `ort-env` crate: `ORT_DYLIB_PATH` when
//! that is set, else the `libonnxruntime.so*` that `cargo xtask setup` puts in
//! `<workspace>/.ort/lib/`. A missing library is an
//! [`OrtLibraryError::Missing`](crate::OrtLibraryError::Missing), not a panic.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{TensorElementType, TensorRef};
use ort_env::check_outlet;
pub use ort_env::{environment, library_path, workspace_root};

use crate::error::MpcError;
use crate::model::{CONTEXT_LENGTH, DynamicsModel, STATE_DIM, check_batch};
use crate::tokenizer::VOCAB_SIZE;

/// How many intra-op threads a session uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntraThreads {
    /// `par_core::budget::inner_threads()` at load time: 1 inside a parallel worker, the process's
    /// budget otherwise.
    #[default]
    Budget,
    /// A fixed count (1 reproduces the official simulator's setting).
    Fixed(usize),
}

/// Options of an ONNX Runtime session. Missing fields take their defaults when deserialised; an
/// unknown field is an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrtOptions {
    /// Intra-op threads (default: from the thread budget). The official simulator uses one
    /// intra-op and one inter-op thread; inter-op threads are always 1 here.
    pub intra_threads: IntraThreads,
}

impl OrtOptions {
    /// The official simulator's settings: one intra-op thread.
    pub fn official() -> Self {
        Self {
            intra_threads: IntraThreads::Fixed(1),
        }
    }
}

/// A tinyphysics-compatible model running in ONNX Runtime on the CPU.
///
/// The interface is checked when loading: inputs `states` float32 `[batch, 20, 4]` and `tokens`
/// int64 `[batch, 20]`, output `output` float32 `[batch, 20, 1024]` (dynamic dimensions accepted).
/// The session uses graph optimisation level "all" and one inter-op thread, like the official
/// simulator.
#[derive(Debug)]
pub struct OrtModel {
    session: Session,
    path: PathBuf,
    fixed_batch: Option<usize>,
    intra_threads: usize,
}

impl OrtModel {
    /// Loads a model file and checks its interface.
    pub fn load(path: impl AsRef<Path>, options: OrtOptions) -> Result<Self, MpcError> {
        let path = path.as_ref().to_path_buf();
        if !path.is_file() {
            return Err(MpcError::ModelLoad {
                path,
                reason: "no such file".into(),
            });
        }
        let env = environment()?;
        let intra_threads = match options.intra_threads {
            IntraThreads::Budget => par_core::budget::inner_threads().max(1),
            IntraThreads::Fixed(n) => n.max(1),
        };
        let load_err = |reason: String| MpcError::ModelLoad {
            path: path.clone(),
            reason,
        };
        let session = Session::builder(env)
            .map_err(|e| load_err(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| load_err(e.to_string()))?
            .with_intra_threads(intra_threads)
            .map_err(|e| load_err(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| load_err(e.to_string()))?
            .commit_from_file(&path)
            .map_err(|e| load_err(e.to_string()))?;
        let fixed_batch =
            Self::check_interface(&session).map_err(|problem| MpcError::ModelInterface {
                path: path.clone(),
                problem,
            })?;
        Ok(Self {
            session,
            path,
            fixed_batch,
            intra_threads,
        })
    }

    fn check_interface(session: &Session) -> Result<Option<usize>, String> {
        let inputs = session.inputs();
        let names: Vec<&str> = inputs.iter().map(|o| o.name()).collect();
        if inputs.len() != 2 || !names.contains(&"states") || !names.contains(&"tokens") {
            return Err(format!("inputs are {names:?}"));
        }
        let mut batch = None;
        for input in inputs {
            let b = if input.name() == "states" {
                check_outlet(
                    "input `states`",
                    input.dtype(),
                    TensorElementType::Float32,
                    &[-1, CONTEXT_LENGTH as i64, STATE_DIM as i64],
                )?
            } else {
                check_outlet(
                    "input `tokens`",
                    input.dtype(),
                    TensorElementType::Int64,
                    &[-1, CONTEXT_LENGTH as i64],
                )?
            };
            batch = batch.or(b);
        }
        let outputs = session.outputs();
        let out_names: Vec<&str> = outputs.iter().map(|o| o.name()).collect();
        if out_names != ["output"] {
            return Err(format!("outputs are {out_names:?}"));
        }
        let b = check_outlet(
            "output `output`",
            outputs[0].dtype(),
            TensorElementType::Float32,
            &[-1, CONTEXT_LENGTH as i64, VOCAB_SIZE as i64],
        )?;
        Ok(batch.or(b))
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The intra-op thread count the session was built with.
    pub fn intra_threads(&self) -> usize {
        self.intra_threads
    }

    /// The batch size the model requires, when its batch dimension is fixed.
    pub fn fixed_batch(&self) -> Option<usize> {
        self.fixed_batch
    }
}

impl DynamicsModel for OrtModel {
    fn last_logits(
        &mut self,
        states: &[f32],
        tokens: &[i64],
        batch: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        let fail = |reason: String| MpcError::Inference {
            path: self.path.clone(),
            reason,
        };
        check_batch(states, tokens, batch).map_err(fail)?;
        if let Some(fixed) = self.fixed_batch
            && fixed != batch
        {
            return Err(fail(format!(
                "the model's batch size is fixed to {fixed}, got {batch}"
            )));
        }
        let states_t = TensorRef::from_array_view(([batch, CONTEXT_LENGTH, STATE_DIM], states))
            .map_err(|e| fail(e.to_string()))?;
        let tokens_t = TensorRef::from_array_view(([batch, CONTEXT_LENGTH], tokens))
            .map_err(|e| fail(e.to_string()))?;
        let path = &self.path;
        let fail = |reason: String| MpcError::Inference {
            path: path.clone(),
            reason,
        };
        let outputs = self
            .session
            .run(ort::inputs!["states" => states_t, "tokens" => tokens_t])
            .map_err(|e| fail(e.to_string()))?;
        let (shape, data) = outputs["output"]
            .try_extract_tensor::<f32>()
            .map_err(|e| fail(e.to_string()))?;
        let want = [batch as i64, CONTEXT_LENGTH as i64, VOCAB_SIZE as i64];
        if shape[..] != want {
            return Err(fail(format!(
                "output shape {:?}, expected {want:?}",
                &shape[..]
            )));
        }
        logits.clear();
        let row = CONTEXT_LENGTH * VOCAB_SIZE;
        for b in 0..batch {
            let last = b * row + (CONTEXT_LENGTH - 1) * VOCAB_SIZE;
            logits.extend_from_slice(&data[last..last + VOCAB_SIZE]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_reject_a_typo_naming_the_field() {
        let parsed: OrtOptions =
            serde_json::from_str(r#"{"intra_threads": {"fixed": 1}}"#).unwrap();
        assert_eq!(parsed, OrtOptions::official());
        assert_eq!(
            serde_json::from_str::<OrtOptions>("{}").unwrap(),
            OrtOptions::default()
        );
        let err = serde_json::from_str::<OrtOptions>(r#"{"intra_thread": "budget"}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `intra_thread`"),
            "{err}"
        );
    }
}
