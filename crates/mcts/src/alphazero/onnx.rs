//! Policy-value networks exported elsewhere (PyTorch, JAX, ...) run through ONNX Runtime.
//!
//! [`OnnxEvaluator`] implements [`Evaluator`], so an exported network drives [`Puct`] searches,
//! self-play through the shared [`BatchedEvaluator`] and matches exactly like the crate's own
//! [`Mlp`].
//!
//! # The interface a model must have
//!
//! - one input, `float32 [batch, input_len]`, holding the states as written by
//!   [`Encode::encode`](crate::Encode::encode) (any input name);
//! - an output named `policy`, `float32 [batch, num_actions]`: logits over every action (or
//!   log-probabilities, which are logits too); the evaluator applies the softmax;
//! - an output named `value`, `float32 [batch, 1]` or `[batch]`: the expected return for the
//!   player to move, in `[-1, 1]` (export the value head with its `tanh`).
//!
//! The batch dimension may be dynamic or fixed; with a fixed one, every call must use that
//! batch size. The interface is checked when loading, and a model that does not have it is
//! [`MctsError::Onnx`] naming the file and the mismatch; a non-finite output or a value outside
//! `[-1, 1]` is the same error at evaluation time, never a silent clamp. The ONNX Runtime
//! library is found by the workspace's `ort-env` crate (`cargo xtask setup`, or
//! `ORT_DYLIB_PATH`); a missing library is [`MctsError::OrtLibrary`].
//!
//! The fixture `fixtures/mcts/az_mlp.onnx` (made by `crates/mcts/scripts/make_onnx_fixture.py`)
//! is an [`Mlp`] exported this way; the crate's tests check that ONNX Runtime and [`Mlp`] agree
//! on it.
//!
//! [`Puct`]: super::Puct
//! [`BatchedEvaluator`]: super::BatchedEvaluator
//! [`Mlp`]: super::Mlp

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{TensorElementType, TensorRef};
use ort_env::{check_outlet, environment};

use super::Evaluator;
use crate::error::MctsError;

/// A policy-value network in an ONNX file, evaluated by ONNX Runtime on the CPU.
#[derive(Debug)]
pub struct OnnxEvaluator {
    /// `Session::run` needs exclusive access; a shared evaluator is called from one network
    /// thread anyway (see [`super::BatchedEvaluator`]).
    session: Mutex<Session>,
    path: PathBuf,
    input_name: String,
    input_len: usize,
    num_actions: usize,
    fixed_batch: Option<usize>,
}

impl OnnxEvaluator {
    /// Loads `path` and checks that it maps `input_len` inputs to `num_actions` policy logits
    /// and a value (see the module docs). `intra_threads` is ONNX Runtime's intra-op thread
    /// count (0: par-core's thread budget, i.e. 1 inside a parallel worker).
    pub fn load(
        path: impl AsRef<Path>,
        input_len: usize,
        num_actions: usize,
        intra_threads: usize,
    ) -> Result<Self, MctsError> {
        let path = path.as_ref().to_path_buf();
        let problem = |problem: String| MctsError::Onnx {
            path: path.clone(),
            problem,
        };
        if !path.is_file() {
            return Err(problem("no such file".into()));
        }
        if input_len == 0 || num_actions == 0 {
            return Err(problem(format!(
                "input length {input_len} and action count {num_actions} must be positive"
            )));
        }
        let env = environment()?;
        let intra_threads = if intra_threads == 0 {
            par_core::budget::inner_threads().max(1)
        } else {
            intra_threads
        };
        let session = Session::builder(env)
            .map_err(|e| problem(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| problem(e.to_string()))?
            .with_intra_threads(intra_threads)
            .map_err(|e| problem(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| problem(e.to_string()))?
            .commit_from_file(&path)
            .map_err(|e| problem(e.to_string()))?;
        let (input_name, fixed_batch) =
            check_interface(&session, input_len, num_actions).map_err(problem)?;
        Ok(Self {
            session: Mutex::new(session),
            path,
            input_name,
            input_len,
            num_actions,
            fixed_batch,
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The batch size the model requires, when its batch dimension is fixed.
    pub fn fixed_batch(&self) -> Option<usize> {
        self.fixed_batch
    }
}

/// Checks the interface of the module docs; returns the input's name and the fixed batch size.
fn check_interface(
    session: &Session,
    input_len: usize,
    num_actions: usize,
) -> Result<(String, Option<usize>), String> {
    let inputs = session.inputs();
    let [input] = inputs else {
        let names: Vec<&str> = inputs.iter().map(|o| o.name()).collect();
        return Err(format!("expected one input, found {names:?}"));
    };
    let f32t = TensorElementType::Float32;
    let mut batch = check_outlet(
        &format!("input `{}`", input.name()),
        input.dtype(),
        f32t,
        &[-1, input_len as i64],
    )?;
    let outputs = session.outputs();
    let names: Vec<&str> = outputs.iter().map(|o| o.name()).collect();
    let find = |name: &str| {
        outputs
            .iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| format!("no output named `{name}` (outputs are {names:?})"))
    };
    let policy = find("policy")?;
    batch = batch.or(check_outlet(
        "output `policy`",
        policy.dtype(),
        f32t,
        &[-1, num_actions as i64],
    )?);
    let value = find("value")?;
    let rank2 = check_outlet("output `value`", value.dtype(), f32t, &[-1, 1]);
    let b = match rank2 {
        Ok(b) => b,
        Err(_) => check_outlet("output `value`", value.dtype(), f32t, &[-1])
            .map_err(|e| format!("{e} (or rank 2 [batch, 1])"))?,
    };
    Ok((input.name().to_string(), batch.or(b)))
}

impl Evaluator for OnnxEvaluator {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn num_actions(&self) -> usize {
        self.num_actions
    }

    fn evaluate(
        &self,
        inputs: &[f32],
        policy: &mut [f32],
        values: &mut [f32],
    ) -> Result<(), MctsError> {
        let batch = values.len();
        let problem = |problem: String| MctsError::Onnx {
            path: self.path.clone(),
            problem,
        };
        if inputs.len() != batch * self.input_len || policy.len() != batch * self.num_actions {
            return Err(problem(format!(
                "{} inputs and {} policy entries for a batch of {batch}",
                inputs.len(),
                policy.len()
            )));
        }
        if batch == 0 {
            return Ok(());
        }
        if let Some(fixed) = self.fixed_batch
            && fixed != batch
        {
            return Err(problem(format!(
                "the model's batch size is fixed to {fixed}, got {batch}"
            )));
        }
        let input = TensorRef::from_array_view(([batch, self.input_len], inputs))
            .map_err(|e| problem(e.to_string()))?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| problem("an earlier evaluation panicked".into()))?;
        let outputs = session
            .run(ort::inputs![self.input_name.as_str() => input])
            .map_err(|e| problem(e.to_string()))?;
        let (shape, logits) = outputs["policy"]
            .try_extract_tensor::<f32>()
            .map_err(|e| problem(e.to_string()))?;
        if shape[..] != [batch as i64, self.num_actions as i64] {
            return Err(problem(format!("policy shape {:?}", &shape[..])));
        }
        let (shape, v) = outputs["value"]
            .try_extract_tensor::<f32>()
            .map_err(|e| problem(e.to_string()))?;
        if v.len() != batch || shape.first() != Some(&(batch as i64)) {
            return Err(problem(format!("value shape {:?}", &shape[..])));
        }
        for (row, (out, logits)) in policy
            .chunks_exact_mut(self.num_actions)
            .zip(logits.chunks_exact(self.num_actions))
            .enumerate()
        {
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if !max.is_finite() || logits.iter().any(|l| l.is_nan()) {
                return Err(problem(format!(
                    "policy logits of state {row} are not finite"
                )));
            }
            let mut sum = 0.0;
            for (p, &l) in out.iter_mut().zip(logits) {
                *p = (l - max).exp();
                sum += *p;
            }
            for p in out.iter_mut() {
                *p /= sum;
            }
        }
        for (row, (out, &v)) in values.iter_mut().zip(v).enumerate() {
            if !(-1.0..=1.0).contains(&v) {
                return Err(problem(format!(
                    "value {v} of state {row} is not in [-1, 1] (export the value head with its tanh)"
                )));
            }
            *out = v;
        }
        Ok(())
    }
}
