//! The closed-loop simulator, step for step like the official `tinyphysics.py`.

use crate::controller::{Controller, FuturePlan, Observation, State};
use crate::cost::Costs;
use crate::error::MpcError;
use crate::model::{
    CONTEXT_LENGTH, DynamicsModel, STATE_DIM, TEMPERATURE, softmax_with_temperature,
};
use crate::mt19937::{ChoiceError, Mt19937};
use crate::seed::seed_from_key;
use crate::segment::Segment;
use crate::tokenizer::Tokenizer;

/// First step whose action comes from the controller and whose prediction is kept.
pub const CONTROL_START_IDX: usize = 100;
/// End (exclusive) of the cost window.
pub const COST_END_IDX: usize = 500;
/// Time step, s.
pub const DEL_T: f64 = 0.1;
/// Steering range.
pub const STEER_RANGE: (f64, f64) = (-2.0, 2.0);
/// Largest change of the lateral acceleration per step, m/s^2.
pub const MAX_ACC_DELTA: f64 = 0.5;
/// Nominal length of the future plan (rows `t + 1 .. t + 50`, i.e. 49 entries).
pub const FUTURE_PLAN_STEPS: usize = 50;

/// Appends the `states` rows of a model window: `(action, roll_lataccel, v_ego, a_ego)` of the
/// rows in `rows`, each rounded once from float64 to float32; `actions` holds the actions of those
/// rows.
pub fn push_states(
    out: &mut Vec<f32>,
    actions: &[f64],
    segment: &Segment,
    rows: std::ops::Range<usize>,
) {
    let columns = segment.roll_lataccel[rows.clone()]
        .iter()
        .zip(&segment.v_ego[rows.clone()])
        .zip(&segment.a_ego[rows]);
    for (&action, ((&roll, &v), &a)) in actions.iter().zip(columns) {
        out.extend_from_slice(&[action as f32, roll as f32, v as f32, a as f32]);
    }
}

/// The string whose MD5 digest seeds a segment's random generator.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedKey {
    /// `data/<file name>`, the path string of the official batch evaluation: costs then match the
    /// official ones wherever the files live.
    #[default]
    DataPath,
    /// This prefix followed by the file name (for example `./data/`, which gives other seeds
    /// than the official evaluation).
    Prefix(String),
    /// This exact string, whatever the segment.
    Custom(String),
}

impl SeedKey {
    /// The key string for a segment.
    pub fn key(&self, segment: &Segment) -> String {
        match self {
            Self::DataPath => format!("data/{}", segment.file_name()),
            Self::Prefix(p) => format!("{p}{}", segment.file_name()),
            Self::Custom(s) => s.clone(),
        }
    }
}

/// Options of a rollout. Missing fields take their defaults when deserialised; an unknown field
/// is an error naming it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimOptions {
    /// Seed key (default `data/<file name>`).
    pub seed_key: SeedKey,
    /// Query the model during the warm-up steps 20..99 as well, although their predictions are
    /// discarded (default false: the generator is advanced by one draw per step instead, which
    /// gives identical results and saves 80 model calls).
    pub model_during_warmup: bool,
    /// Record a [`TraceStep`] per step (default false).
    pub record_trace: bool,
}

/// One step of a rollout, with the columns of the official traces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceStep {
    /// Step index `t`.
    pub step: usize,
    /// Action appended at step `t` (logged steering before step 100).
    pub action: f64,
    /// The uniform double drawn at this step.
    pub uniform_u: f64,
    /// The sampled token, when the model was queried.
    pub token: Option<usize>,
    /// Mean of the bin values under the sampling distribution, when the model was queried.
    pub expected_lataccel: Option<f64>,
    /// The sampled bin value clipped to the previous current value +- 0.5, when the model was
    /// queried (discarded before step 100).
    pub pred_clipped: Option<f64>,
    /// Current lateral acceleration at the end of step `t`.
    pub current_lataccel: f64,
}

/// The result of one closed-loop rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// The costs over the cost window.
    pub costs: Costs,
    /// The seed of the simulator's generator.
    pub seed: u32,
    /// Target lateral acceleration history, indexed by step (rows 0..N).
    pub target_lataccel: Vec<f64>,
    /// Current lateral acceleration history, indexed by step.
    pub current_lataccel: Vec<f64>,
    /// Action history, indexed by step.
    pub actions: Vec<f64>,
    /// Per-step trace (empty unless [`SimOptions::record_trace`]).
    pub trace: Vec<TraceStep>,
    /// Model evaluations made by the simulator itself (controllers' own calls not included).
    pub model_calls: usize,
}

/// The simulator: a dynamics model, a tokenizer and scratch buffers, reused across rollouts.
#[derive(Debug)]
pub struct Simulator<M> {
    model: M,
    tokenizer: Tokenizer,
    states: Vec<f32>,
    tokens: Vec<i64>,
    logits: Vec<f32>,
    probs: Vec<f32>,
}

impl<M: DynamicsModel> Simulator<M> {
    /// A simulator over `model`.
    pub fn new(model: M) -> Self {
        Self {
            model,
            tokenizer: Tokenizer::new(),
            states: Vec::with_capacity(CONTEXT_LENGTH * STATE_DIM),
            tokens: Vec::with_capacity(CONTEXT_LENGTH),
            logits: Vec::new(),
            probs: Vec::new(),
        }
    }

    /// The model.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Gives the model back.
    pub fn into_model(self) -> M {
        self.model
    }

    /// Runs `controller` on `segment` for steps 20 ..= N-1 and returns the costs and histories.
    pub fn rollout<C: Controller + ?Sized>(
        &mut self,
        segment: &Segment,
        controller: &mut C,
        options: &SimOptions,
    ) -> Result<Rollout, MpcError> {
        let n = segment.len();
        if n < COST_END_IDX {
            return Err(MpcError::SegmentTooShort {
                path: segment.path.clone(),
                rows: n,
                needed: COST_END_IDX,
            });
        }
        let steer = |t: usize| -> Result<f64, MpcError> {
            segment.steer[t].ok_or_else(|| MpcError::Csv {
                path: segment.path.clone(),
                line: t + 2,
                problem: format!("`steerCommand` is empty in data row {t}"),
            })
        };
        let seed = seed_from_key(&options.seed_key.key(segment));
        let mut rng = Mt19937::new(seed);
        let mut actions = Vec::with_capacity(n);
        for t in 0..CONTEXT_LENGTH {
            actions.push(steer(t)?);
        }
        let mut target_hist: Vec<f64> = segment.target_lataccel[..CONTEXT_LENGTH].to_vec();
        let mut current_hist = target_hist.clone();
        let mut current = current_hist[CONTEXT_LENGTH - 1];
        let mut trace = Vec::new();
        let mut model_calls = 0;

        for t in CONTEXT_LENGTH..n {
            target_hist.push(segment.target_lataccel[t]);
            let future_end = (t + FUTURE_PLAN_STEPS).min(n);
            let future_start = (t + 1).min(future_end);
            let obs = Observation {
                step: t,
                target_lataccel: segment.target_lataccel[t],
                current_lataccel: current,
                state: State {
                    roll_lataccel: segment.roll_lataccel[t],
                    v_ego: segment.v_ego[t],
                    a_ego: segment.a_ego[t],
                },
                future: FuturePlan {
                    lataccel: &segment.target_lataccel[future_start..future_end],
                    roll_lataccel: &segment.roll_lataccel[future_start..future_end],
                    v_ego: &segment.v_ego[future_start..future_end],
                    a_ego: &segment.a_ego[future_start..future_end],
                },
            };
            let mut action = controller.update(&obs)?;
            if t < CONTROL_START_IDX {
                action = steer(t)?;
            }
            let action = action.clamp(STEER_RANGE.0, STEER_RANGE.1);
            actions.push(action);

            let query = t >= CONTROL_START_IDX || options.model_during_warmup;
            let mut step_trace = TraceStep {
                step: t,
                action,
                uniform_u: f64::NAN,
                token: None,
                expected_lataccel: None,
                pred_clipped: None,
                current_lataccel: f64::NAN,
            };
            if query {
                self.states.clear();
                let window = t + 1 - CONTEXT_LENGTH..t + 1;
                push_states(&mut self.states, &actions[window.clone()], segment, window);
                self.tokens.clear();
                self.tokens.extend(
                    current_hist[t - CONTEXT_LENGTH..t]
                        .iter()
                        .map(|&v| self.tokenizer.encode(v) as i64),
                );
                self.model
                    .last_logits(&self.states, &self.tokens, 1, &mut self.logits)?;
                model_calls += 1;
                softmax_with_temperature(&self.logits, TEMPERATURE, &mut self.probs);
                let (token, u) = rng.choice(&self.probs).map_err(|e| MpcError::Sampling {
                    step: t,
                    reason: match e {
                        ChoiceError::Empty => "empty".into(),
                        ChoiceError::Negative { index } => format!("negative entry {index}"),
                        ChoiceError::NotNormalised { sum } => format!("sums to {sum}"),
                    },
                })?;
                let pred = self
                    .tokenizer
                    .decode(token)
                    .clamp(current - MAX_ACC_DELTA, current + MAX_ACC_DELTA);
                step_trace.uniform_u = u;
                step_trace.token = Some(token);
                step_trace.pred_clipped = Some(pred);
                if options.record_trace {
                    let (mean, _) = crate::model::bin_moments(&self.probs, self.tokenizer.bins());
                    step_trace.expected_lataccel = Some(mean);
                }
                current = if t >= CONTROL_START_IDX {
                    pred
                } else {
                    segment.target_lataccel[t]
                };
            } else {
                step_trace.uniform_u = rng.random_sample();
                current = segment.target_lataccel[t];
            }
            current_hist.push(current);
            if options.record_trace {
                step_trace.current_lataccel = current;
                trace.push(step_trace);
            }
        }
        Ok(Rollout {
            costs: Costs::from_histories(&target_hist, &current_hist),
            seed,
            target_lataccel: target_hist,
            current_lataccel: current_hist,
            actions,
            trace,
            model_calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_reject_a_typo_naming_the_field() {
        let parsed: SimOptions =
            serde_json::from_str(r#"{"seed_key": {"prefix": "./data/"}, "record_trace": true}"#)
                .unwrap();
        assert_eq!(parsed.seed_key, SeedKey::Prefix("./data/".into()));
        assert!(parsed.record_trace && !parsed.model_during_warmup);
        let err = serde_json::from_str::<SimOptions>(r#"{"record_traces": true}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `record_traces`"),
            "{err}"
        );
    }
}
