//! The dynamics-model interface and the official soft-max.

use crate::error::MpcError;
use crate::pairwise_sum::pairwise_sum_f32;
use crate::tokenizer::VOCAB_SIZE;

/// Length of the model's context window (steps).
pub const CONTEXT_LENGTH: usize = 20;
/// Features per step of the `states` input: (action, road-roll lateral acceleration, vEgo, aEgo).
pub const STATE_DIM: usize = 4;
/// Sampling temperature of the official simulator.
pub const TEMPERATURE: f32 = 0.8;

/// A learned lateral-acceleration model with the tinyphysics interface, evaluated in batches.
///
/// Input window `b` of a batch is `states[b]`, a `[20, 4]` block of (action, road-roll lateral
/// acceleration, vEgo, aEgo) rows, and `tokens[b]`, the 20 tokens of the lateral accelerations one
/// step behind. Only the logits of the last position are used by the simulator and the planners, so
/// that is what the trait returns. Implementations: [`crate::onnx::OrtModel`] (ONNX Runtime) and
/// [`crate::native::NativeModel`] (native, with prefix sharing).
pub trait DynamicsModel {
    /// Logits of the last position of each window: `states` is `[batch, 20, 4]` row-major,
    /// `tokens` is `[batch, 20]`; on success `logits` holds `[batch, 1024]` row-major (its previous
    /// content is replaced).
    fn last_logits(
        &mut self,
        states: &[f32],
        tokens: &[i64],
        batch: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError>;

    /// Logits of the last position of `samples` windows that share their first `20 - k` steps:
    /// `prefix_states` `[20 - k, 4]` and `prefix_tokens` `[20 - k]` are common to all windows,
    /// `suffix_states` `[samples, k, 4]` and `suffix_tokens` `[samples, k]` are each window's own
    /// last `k` steps (`1 <= k <= 20`). On success `logits` holds `[samples, 1024]`.
    ///
    /// This is the shape of a planner's horizon rollout at horizon step `k`. The default builds
    /// the full windows and calls [`DynamicsModel::last_logits`]; a model with a causal mask can
    /// compute the shared prefix once ([`crate::native::NativeModel`] does).
    fn shared_prefix_logits(
        &mut self,
        prefix_states: &[f32],
        prefix_tokens: &[i64],
        suffix_states: &[f32],
        suffix_tokens: &[i64],
        samples: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        let k = check_shared(
            prefix_states,
            prefix_tokens,
            suffix_states,
            suffix_tokens,
            samples,
        )
        .map_err(|reason| MpcError::Inference {
            path: "<shared-prefix batch>".into(),
            reason,
        })?;
        let mut states = Vec::with_capacity(samples * CONTEXT_LENGTH * STATE_DIM);
        let mut tokens = Vec::with_capacity(samples * CONTEXT_LENGTH);
        for c in 0..samples {
            states.extend_from_slice(prefix_states);
            states.extend_from_slice(&suffix_states[c * k * STATE_DIM..(c + 1) * k * STATE_DIM]);
            tokens.extend_from_slice(prefix_tokens);
            tokens.extend_from_slice(&suffix_tokens[c * k..(c + 1) * k]);
        }
        self.last_logits(&states, &tokens, samples, logits)
    }
}

impl<M: DynamicsModel + ?Sized> DynamicsModel for &mut M {
    fn last_logits(
        &mut self,
        states: &[f32],
        tokens: &[i64],
        batch: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        (**self).last_logits(states, tokens, batch, logits)
    }

    fn shared_prefix_logits(
        &mut self,
        prefix_states: &[f32],
        prefix_tokens: &[i64],
        suffix_states: &[f32],
        suffix_tokens: &[i64],
        samples: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        (**self).shared_prefix_logits(
            prefix_states,
            prefix_tokens,
            suffix_states,
            suffix_tokens,
            samples,
            logits,
        )
    }
}

impl<M: DynamicsModel + ?Sized> DynamicsModel for Box<M> {
    fn last_logits(
        &mut self,
        states: &[f32],
        tokens: &[i64],
        batch: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        (**self).last_logits(states, tokens, batch, logits)
    }

    fn shared_prefix_logits(
        &mut self,
        prefix_states: &[f32],
        prefix_tokens: &[i64],
        suffix_states: &[f32],
        suffix_tokens: &[i64],
        samples: usize,
        logits: &mut Vec<f32>,
    ) -> Result<(), MpcError> {
        (**self).shared_prefix_logits(
            prefix_states,
            prefix_tokens,
            suffix_states,
            suffix_tokens,
            samples,
            logits,
        )
    }
}

/// Checks the lengths of a batch against the interface; used by implementations.
pub fn check_batch(states: &[f32], tokens: &[i64], batch: usize) -> Result<(), String> {
    if states.len() != batch * CONTEXT_LENGTH * STATE_DIM {
        return Err(format!(
            "`states` has {} values, batch {batch} needs {}",
            states.len(),
            batch * CONTEXT_LENGTH * STATE_DIM
        ));
    }
    if tokens.len() != batch * CONTEXT_LENGTH {
        return Err(format!(
            "`tokens` has {} values, batch {batch} needs {}",
            tokens.len(),
            batch * CONTEXT_LENGTH
        ));
    }
    if let Some(t) = tokens
        .iter()
        .find(|&&t| !(0..VOCAB_SIZE as i64).contains(&t))
    {
        return Err(format!("token {t} is outside 0..{VOCAB_SIZE}"));
    }
    Ok(())
}

/// Checks the lengths of a shared-prefix batch (see [`DynamicsModel::shared_prefix_logits`])
/// and returns `k`, the steps of each window's own suffix.
pub fn check_shared(
    prefix_states: &[f32],
    prefix_tokens: &[i64],
    suffix_states: &[f32],
    suffix_tokens: &[i64],
    samples: usize,
) -> Result<usize, String> {
    let plen = prefix_tokens.len();
    if plen >= CONTEXT_LENGTH {
        return Err(format!(
            "shared prefix of {plen} steps leaves no own step in a window of {CONTEXT_LENGTH}"
        ));
    }
    let k = CONTEXT_LENGTH - plen;
    if prefix_states.len() != plen * STATE_DIM {
        return Err(format!(
            "prefix `states` has {} values, {plen} steps need {}",
            prefix_states.len(),
            plen * STATE_DIM
        ));
    }
    if suffix_states.len() != samples * k * STATE_DIM || suffix_tokens.len() != samples * k {
        return Err(format!(
            "suffixes have {} state values and {} tokens, {samples} windows of {k} own steps need {} and {}",
            suffix_states.len(),
            suffix_tokens.len(),
            samples * k * STATE_DIM,
            samples * k
        ));
    }
    if let Some(t) = prefix_tokens
        .iter()
        .chain(suffix_tokens)
        .find(|&&t| !(0..VOCAB_SIZE as i64).contains(&t))
    {
        return Err(format!("token {t} is outside 0..{VOCAB_SIZE}"));
    }
    Ok(k)
}

/// The official soft-max with temperature, in float32 as numpy computes it: logits divided by the
/// temperature, the maximum subtracted, `exp`, and each entry divided by the (pairwise) sum.
///
/// `probs` is resized to `logits.len()`.
pub fn softmax_with_temperature(logits: &[f32], temperature: f32, probs: &mut Vec<f32>) {
    probs.clear();
    probs.extend(logits.iter().map(|&l| l / temperature));
    let max = probs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for p in probs.iter_mut() {
        *p = (*p - max).exp();
    }
    let sum = pairwise_sum_f32(probs);
    for p in probs.iter_mut() {
        *p /= sum;
    }
}

/// Mean and variance of the bin values under a probability vector (float64).
pub fn bin_moments(probs: &[f32], bins: &[f64]) -> (f64, f64) {
    let mut mean = 0.0;
    let mut second = 0.0;
    for (&p, &b) in probs.iter().zip(bins) {
        let p = f64::from(p);
        mean += p * b;
        second += p * b * b;
    }
    (mean, (second - mean * mean).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_a_distribution() {
        let logits: Vec<f32> = (0..VOCAB_SIZE)
            .map(|i| -((i as f32 - 500.0) / 30.0).powi(2))
            .collect();
        let mut p = Vec::new();
        softmax_with_temperature(&logits, TEMPERATURE, &mut p);
        let s: f64 = p.iter().map(|&x| f64::from(x)).sum();
        assert!((s - 1.0).abs() < 1e-5);
        let argmax = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(argmax, 500);
        let bins: Vec<f64> = (0..VOCAB_SIZE).map(|i| i as f64).collect();
        let (m, v) = bin_moments(&p, &bins);
        assert!((m - 500.0).abs() < 1e-3 && v > 0.0);
    }

    #[test]
    fn batch_checks() {
        assert!(check_batch(&[0.0; 80], &[0; 20], 1).is_ok());
        assert!(check_batch(&[0.0; 79], &[0; 20], 1).is_err());
        assert!(check_batch(&[0.0; 80], &[1024; 20], 1).is_err());
    }
}
