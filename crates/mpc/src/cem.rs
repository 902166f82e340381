//! Sampling-based model-predictive control: random shooting refined by the cross-entropy method,
//! with batched rollouts through the dynamics model.
//!
//! At every controlled step `t` the planner searches action sequences `a_t .. a_{t+H-1}`:
//!
//! 1. Candidates: `samples` sequences drawn around the current plan mean with the current
//!    per-step standard deviation (the first candidate is the mean itself), correlated along
//!    the horizon (`noise_correlation`), clipped to the steering range. The mean starts from
//!    the previous step's plan shifted by one (warm start).
//! 2. Rollout: for horizon step `h`, all candidates' windows are evaluated in **one model call**
//!    (batch = `samples`), through [`DynamicsModel::shared_prefix_logits`]: the windows share
//!    their first `19 - h` rows of real history, which a native model computes once
//!    ([`crate::native::NativeModel`], the default planner model for the tinyphysics
//!    architecture; its logits differ from ONNX Runtime's by float rounding only). Each window is the real history (states, the controller's own past
//!    actions, past lateral accelerations) extended by the candidate's actions and its predicted
//!    lateral accelerations. By default a prediction is the **expected value** of the soft-max
//!    (temperature 0.8) over the bins, clipped to ±0.5 of the previous value like the simulator;
//!    [`RolloutMode::Sampled`] draws a token instead, for comparison.
//! 3. Cost per candidate, in the units of the official cost: tracking
//!    `5000 * ((target - mean)^2 + variance)`, jerk `10000 * ((mean_h - mean_{h-1})^2 + variance)`
//!    and an action-change penalty `smoothness * (a_h - a_{h-1})^2` (the first change measured
//!    from the last applied action). The variance terms make the planner avoid states where the
//!    model is uncertain; without them and the change penalty a planner chatters.
//! 4. Cross-entropy refit: the `elites` cheapest candidates give the new mean and standard
//!    deviation; after `iterations` rounds the first action of the elite mean is applied.
//!
//! The controller sees only what the official simulator gives a controller. The logged steering
//! that the simulator applies before step 100 is never shown to it: the planner estimates those
//! actions as `(target - roll lateral acceleration) / warmup_steer_gain`. Before step 100 and
//! after the cost window (step 500 on, which no longer affects the cost) it returns the reference
//! PID's action without planning. It draws only from its own generator, seeded by its caller.
//!
//! Compute: `horizon * samples * iterations` model samples (`horizon * iterations` batched calls)
//! per planned step, 400 planned steps per segment; the default configuration makes 192,000
//! samples per segment. With the native planner model, prefix sharing makes a candidate-step
//! about 5 times cheaper in arithmetic than a full 20-step window: the default configuration
//! took about 43 s of CPU per real segment on one core of the development machine (ONNX
//! Runtime's batched full windows: about 138 s).

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::controller::{Controller, Observation, PidController};
use crate::error::MpcError;
use crate::model::{
    CONTEXT_LENGTH, DynamicsModel, STATE_DIM, TEMPERATURE, bin_moments, softmax_with_temperature,
};
use crate::simulator::{CONTROL_START_IDX, COST_END_IDX, DEL_T, MAX_ACC_DELTA, STEER_RANGE};
use crate::tokenizer::{Tokenizer, VOCAB_SIZE};

/// How a candidate's rollout turns the model's distribution into the next lateral acceleration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutMode {
    /// The soft-max mean over the bins (the default: smooth and much less noisy).
    #[default]
    Expected,
    /// A token drawn from the soft-max with the controller's own generator.
    Sampled,
}

/// Configuration of the [`MpcController`]. Missing fields take the defaults below when
/// deserialised; [`MpcConfig::validate`] checks the ranges.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MpcConfig {
    /// Planning horizon H in steps (default 10; at most 19).
    pub horizon: usize,
    /// Candidate sequences per iteration S (default 24).
    pub samples: usize,
    /// Cross-entropy iterations per step (default 2; 1 is plain random shooting).
    pub iterations: usize,
    /// Elite candidates used to refit the distribution (default 6).
    pub elites: usize,
    /// Weight W of the action-change penalty (default 20000).
    pub smoothness: f64,
    /// Initial per-step standard deviation of the candidate actions (default 0.03).
    pub noise_std: f64,
    /// Smallest standard deviation kept after a refit (default 0.01).
    pub min_std: f64,
    /// Correlation of a candidate's perturbations along the horizon, in [0, 1): each step's
    /// noise is `rho * previous + sqrt(1 - rho^2) * fresh` (default 0.9; 0 is white noise).
    /// Smooth perturbations search fewer effective dimensions and pass less noise into the
    /// applied action: on segment 00001 white noise cost 2.2 times more (49.9 against 22.9).
    pub noise_correlation: f64,
    /// Start each step from the previous plan shifted by one (default true); otherwise from the
    /// last applied action repeated.
    pub warm_start: bool,
    /// Expected-value or sampled rollouts (default expected).
    pub rollout: RolloutMode,
    /// Steering gain (m/s^2 per unit) used to estimate the unseen logged actions before step
    /// 100 (default 2.0).
    pub warmup_steer_gain: f64,
}

impl Default for MpcConfig {
    fn default() -> Self {
        Self {
            horizon: 10,
            samples: 24,
            iterations: 2,
            elites: 6,
            smoothness: 20_000.0,
            noise_std: 0.03,
            min_std: 0.01,
            noise_correlation: 0.9,
            warm_start: true,
            rollout: RolloutMode::Expected,
            warmup_steer_gain: 2.0,
        }
    }
}

impl MpcConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), MpcError> {
        let bad = |field: &'static str, reason: &str| {
            Err(MpcError::Config {
                field,
                reason: reason.to_owned(),
            })
        };
        if !(1..CONTEXT_LENGTH).contains(&self.horizon) {
            return bad("horizon", "must be between 1 and 19");
        }
        if self.samples == 0 {
            return bad("samples", "must be at least 1");
        }
        if self.iterations == 0 {
            return bad("iterations", "must be at least 1");
        }
        if self.elites == 0 || self.elites > self.samples {
            return bad("elites", "must be between 1 and `samples`");
        }
        if !(self.smoothness.is_finite() && self.smoothness >= 0.0) {
            return bad("smoothness", "must be a finite non-negative number");
        }
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return bad("noise_std", "must be a finite non-negative number");
        }
        if !(self.min_std.is_finite() && self.min_std >= 0.0) {
            return bad("min_std", "must be a finite non-negative number");
        }
        if !(0.0..1.0).contains(&self.noise_correlation) {
            return bad("noise_correlation", "must be in [0, 1)");
        }
        if !(self.warmup_steer_gain.is_finite() && self.warmup_steer_gain > 0.0) {
            return bad("warmup_steer_gain", "must be a finite positive number");
        }
        Ok(())
    }

    /// Model samples (candidate-steps) per planned step: `horizon * samples * iterations`.
    pub fn samples_per_step(&self) -> usize {
        self.horizon * self.samples * self.iterations
    }
}

/// What the controller has observed so far, indexed by row.
#[derive(Debug, Default, Clone)]
struct History {
    roll: Vec<f64>,
    v_ego: Vec<f64>,
    a_ego: Vec<f64>,
    target: Vec<f64>,
    /// Lateral acceleration at the end of each step (known one step late).
    current: Vec<f64>,
    /// Actions applied (own actions from step 100, estimates before).
    actions: Vec<f64>,
}

/// The batched sampling MPC controller (see the module documentation).
///
/// It builds its history from the observations it receives, starting at the first one: use a
/// fresh controller for every segment.
#[derive(Debug)]
pub struct MpcController<M> {
    model: M,
    config: MpcConfig,
    rng: Xoshiro256PlusPlus,
    pid: PidController,
    tokenizer: Tokenizer,
    hist: History,
    plan: Vec<f64>,
    model_calls: usize,
    model_samples: usize,
    // Scratch buffers.
    prefix_states: Vec<f32>,
    prefix_tokens: Vec<i64>,
    states: Vec<f32>,
    tokens: Vec<i64>,
    logits: Vec<f32>,
    probs: Vec<f32>,
}

impl<M: DynamicsModel> MpcController<M> {
    /// A controller planning with `model`, its generator seeded with `seed`.
    pub fn new(model: M, config: MpcConfig, seed: u64) -> Result<Self, MpcError> {
        config.validate()?;
        Ok(Self {
            model,
            plan: Vec::with_capacity(config.horizon),
            config,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            pid: PidController::default(),
            tokenizer: Tokenizer::new(),
            hist: History::default(),
            model_calls: 0,
            model_samples: 0,
            prefix_states: Vec::new(),
            prefix_tokens: Vec::new(),
            states: Vec::new(),
            tokens: Vec::new(),
            logits: Vec::new(),
            probs: Vec::new(),
        })
    }

    /// Gives the planning model back.
    pub fn into_model(self) -> M {
        self.model
    }

    /// Model calls made so far.
    pub fn model_calls(&self) -> usize {
        self.model_calls
    }

    /// Model samples (windows evaluated) so far.
    pub fn model_samples(&self) -> usize {
        self.model_samples
    }

    /// The configuration.
    pub fn config(&self) -> &MpcConfig {
        &self.config
    }

    /// Records the observation of step `t` (rows are pushed in order from step 20).
    fn observe(&mut self, obs: &Observation<'_>) {
        let h = &mut self.hist;
        // Rows before the first observation are unknown: pad with the first values seen.
        while h.target.len() < obs.step {
            h.roll.push(obs.state.roll_lataccel);
            h.v_ego.push(obs.state.v_ego);
            h.a_ego.push(obs.state.a_ego);
            h.target.push(obs.target_lataccel);
            h.current.push(obs.current_lataccel);
            h.actions.push(
                (obs.target_lataccel - obs.state.roll_lataccel) / self.config.warmup_steer_gain,
            );
        }
        // The current value reported at step t is the one at the end of step t - 1.
        if obs.step >= 1 {
            h.current[obs.step - 1] = obs.current_lataccel;
        }
        h.roll.push(obs.state.roll_lataccel);
        h.v_ego.push(obs.state.v_ego);
        h.a_ego.push(obs.state.a_ego);
        h.target.push(obs.target_lataccel);
        h.current.push(obs.current_lataccel); // placeholder until the next step reports it
        h.actions
            .push((obs.target_lataccel - obs.state.roll_lataccel) / self.config.warmup_steer_gain);
    }

    /// Plans at step `t` and returns the first action of the elite mean.
    fn plan_step(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError> {
        let t = obs.step;
        let horizon = self.config.horizon.min(obs.future.lataccel.len() + 1);
        let samples = self.config.samples;
        let last_action = self.hist.actions[t - 1];
        // Warm start.
        if self.config.warm_start && !self.plan.is_empty() {
            self.plan.remove(0);
        } else {
            self.plan.clear();
        }
        while self.plan.len() < horizon {
            let fill = self.plan.last().copied().unwrap_or(last_action);
            self.plan.push(fill);
        }
        self.plan.truncate(horizon);
        let mut mean = self.plan.clone();
        let mut std = vec![self.config.noise_std; horizon];
        let mut candidates = vec![0.0f64; samples * horizon];
        let mut costs = vec![0.0f64; samples];
        for _ in 0..self.config.iterations {
            let rho = self.config.noise_correlation;
            let fresh_scale = (1.0 - rho * rho).sqrt();
            for c in 0..samples {
                let mut noise = 0.0f64;
                for h in 0..horizon {
                    if c > 0 {
                        let fresh: f64 = self.rng.sample(StandardNormal);
                        noise = if h == 0 {
                            fresh
                        } else {
                            rho * noise + fresh_scale * fresh
                        };
                    }
                    candidates[c * horizon + h] =
                        (mean[h] + std[h] * noise).clamp(STEER_RANGE.0, STEER_RANGE.1);
                }
            }
            self.rollout_costs(obs, &candidates, horizon, &mut costs)?;
            let mut order: Vec<usize> = (0..samples).collect();
            order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
            let elites = &order[..self.config.elites];
            for h in 0..horizon {
                let m = elites
                    .iter()
                    .map(|&c| candidates[c * horizon + h])
                    .sum::<f64>()
                    / elites.len() as f64;
                let var = elites
                    .iter()
                    .map(|&c| (candidates[c * horizon + h] - m).powi(2))
                    .sum::<f64>()
                    / elites.len() as f64;
                mean[h] = m;
                std[h] = var.sqrt().max(self.config.min_std);
            }
        }
        self.plan = mean;
        Ok(self.plan[0])
    }

    /// Rolls every candidate out over the horizon, one batched model call per horizon step.
    fn rollout_costs(
        &mut self,
        obs: &Observation<'_>,
        candidates: &[f64],
        horizon: usize,
        costs: &mut [f64],
    ) -> Result<(), MpcError> {
        let t = obs.step;
        let samples = costs.len();
        let hist = &self.hist;
        // Predicted lateral accelerations per candidate (rows t .. t + horizon), and the previous
        // value the first prediction is clipped against.
        let prev0 = obs.current_lataccel;
        let mut preds = vec![0.0f64; samples * horizon];
        let last_action = hist.actions[t - 1];
        costs.iter_mut().for_each(|c| *c = 0.0);
        for h in 0..horizon {
            let row = t + h;
            // Window of rows row-19..=row: the first 19-h rows (before t) are real history,
            // shared by every candidate; rows t..=row are the candidate's own (its actions and,
            // from t+1 on, its predicted lateral accelerations as the previous-step tokens).
            let k = h + 1;
            self.prefix_states.clear();
            self.prefix_tokens.clear();
            for r in row + 1 - CONTEXT_LENGTH..t {
                self.prefix_states.extend_from_slice(&[
                    hist.actions[r] as f32,
                    hist.roll[r] as f32,
                    hist.v_ego[r] as f32,
                    hist.a_ego[r] as f32,
                ]);
                self.prefix_tokens
                    .push(self.tokenizer.encode(hist.current[r - 1]) as i64);
            }
            self.states.clear();
            self.tokens.clear();
            for c in 0..samples {
                for r in t..=row {
                    let (roll, v, a) = if r == t {
                        (hist.roll[r], hist.v_ego[r], hist.a_ego[r])
                    } else {
                        let f = r - t - 1;
                        (
                            obs.future.roll_lataccel[f],
                            obs.future.v_ego[f],
                            obs.future.a_ego[f],
                        )
                    };
                    self.states.extend_from_slice(&[
                        candidates[c * horizon + r - t] as f32,
                        roll as f32,
                        v as f32,
                        a as f32,
                    ]);
                    let value = if r == t {
                        hist.current[r - 1]
                    } else {
                        preds[c * horizon + r - 1 - t]
                    };
                    self.tokens.push(self.tokenizer.encode(value) as i64);
                }
            }
            debug_assert_eq!(self.states.len(), samples * k * STATE_DIM);
            self.model.shared_prefix_logits(
                &self.prefix_states,
                &self.prefix_tokens,
                &self.states,
                &self.tokens,
                samples,
                &mut self.logits,
            )?;
            self.model_calls += 1;
            self.model_samples += samples;
            let target = if h == 0 {
                obs.target_lataccel
            } else {
                obs.future.lataccel[h - 1]
            };
            for c in 0..samples {
                let logits = &self.logits[c * VOCAB_SIZE..(c + 1) * VOCAB_SIZE];
                softmax_with_temperature(logits, TEMPERATURE, &mut self.probs);
                let (mu, var) = bin_moments(&self.probs, self.tokenizer.bins());
                let prev = if h == 0 {
                    prev0
                } else {
                    preds[c * horizon + h - 1]
                };
                let value = match self.config.rollout {
                    RolloutMode::Expected => mu,
                    RolloutMode::Sampled => {
                        let u: f64 = self.rng.random();
                        let mut acc = 0.0;
                        let token = self
                            .probs
                            .iter()
                            .position(|&p| {
                                acc += f64::from(p);
                                acc > u
                            })
                            .unwrap_or(VOCAB_SIZE - 1);
                        self.tokenizer.decode(token)
                    }
                };
                let value = value.clamp(prev - MAX_ACC_DELTA, prev + MAX_ACC_DELTA);
                preds[c * horizon + h] = value;
                let err = target - value;
                let jerk = (value - prev) / DEL_T;
                let action = candidates[c * horizon + h];
                let prev_action = if h == 0 {
                    last_action
                } else {
                    candidates[c * horizon + h - 1]
                };
                costs[c] += 5000.0 * (err * err + var)
                    + 100.0 * (jerk * jerk + var / (DEL_T * DEL_T))
                    + self.config.smoothness * (action - prev_action).powi(2);
            }
        }
        Ok(())
    }
}

impl<M: DynamicsModel> Controller for MpcController<M> {
    fn update(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError> {
        self.observe(obs);
        let pid_action = self.pid.update(obs)?;
        let t = obs.step;
        let action = if (CONTROL_START_IDX..COST_END_IDX).contains(&t) {
            self.plan_step(obs)?
        } else {
            pid_action
        };
        // Before step 100 the simulator applies logged steering the controller never sees:
        // keep the estimate recorded by `observe` for those rows.
        if t >= CONTROL_START_IDX {
            self.hist.actions[t] = action.clamp(STEER_RANGE.0, STEER_RANGE.1);
        }
        Ok(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_validation_names_the_field() {
        assert!(MpcConfig::default().validate().is_ok());
        let bad = MpcConfig {
            elites: 100,
            ..MpcConfig::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MpcError::Config {
                field: "elites",
                ..
            })
        ));
        let bad = MpcConfig {
            horizon: 20,
            ..MpcConfig::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MpcError::Config {
                field: "horizon",
                ..
            })
        ));
        let bad = MpcConfig {
            noise_correlation: 1.0,
            ..MpcConfig::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(MpcError::Config {
                field: "noise_correlation",
                ..
            })
        ));
        let parsed: MpcConfig = serde_json::from_str(r#"{"horizon": 8}"#).unwrap();
        assert_eq!(parsed.horizon, 8);
        assert_eq!(parsed.samples, MpcConfig::default().samples);
        let err = serde_json::from_str::<MpcConfig>(r#"{"horizn": 8}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `horizn`"), "{err}");
    }
}
