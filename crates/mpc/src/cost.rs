//! The official cost: tracking error and jerk over the cost window.

use crate::pairwise_sum::numpy_mean;
use crate::simulator::{CONTROL_START_IDX, COST_END_IDX, DEL_T};

/// Weight of the lateral-acceleration cost in the total cost.
pub const LAT_ACCEL_COST_MULTIPLIER: f64 = 50.0;

/// The three costs of a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Costs {
    /// `100 * mean((target - current)^2)` over the cost window.
    pub lataccel_cost: f64,
    /// `100 * mean(((current[k+1] - current[k]) / 0.1)^2)` over the cost window.
    pub jerk_cost: f64,
    /// `50 * lataccel_cost + jerk_cost`.
    pub total_cost: f64,
}

impl Costs {
    /// The costs of histories indexed by step, over indices 100..500 (400 values, 399
    /// differences), computed like the official simulator (numpy's pairwise means, float64).
    ///
    /// # Panics
    /// When either history has fewer than 500 entries.
    pub fn from_histories(target: &[f64], current: &[f64]) -> Self {
        let target = &target[CONTROL_START_IDX..COST_END_IDX];
        let current = &current[CONTROL_START_IDX..COST_END_IDX];
        let sq: Vec<f64> = target
            .iter()
            .zip(current)
            .map(|(t, c)| {
                let d = t - c;
                d * d
            })
            .collect();
        let lataccel_cost = numpy_mean(&sq) * 100.0;
        let jerk: Vec<f64> = current
            .windows(2)
            .map(|w| {
                let j = (w[1] - w[0]) / DEL_T;
                j * j
            })
            .collect();
        let jerk_cost = numpy_mean(&jerk) * 100.0;
        Self {
            lataccel_cost,
            jerk_cost,
            total_cost: lataccel_cost * LAT_ACCEL_COST_MULTIPLIER + jerk_cost,
        }
    }

    /// The arithmetic mean of each cost (the official batch evaluation's summary); zeros when empty.
    pub fn mean(costs: &[Costs]) -> Self {
        if costs.is_empty() {
            return Self::default();
        }
        let n = costs.len() as f64;
        Self {
            lataccel_cost: costs.iter().map(|c| c.lataccel_cost).sum::<f64>() / n,
            jerk_cost: costs.iter().map(|c| c.jerk_cost).sum::<f64>() / n,
            total_cost: costs.iter().map(|c| c.total_cost).sum::<f64>() / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_offset() {
        let target = vec![1.0; 600];
        let current = vec![0.9; 600];
        let c = Costs::from_histories(&target, &current);
        assert!((c.lataccel_cost - 1.0).abs() < 1e-12);
        assert_eq!(c.jerk_cost, 0.0);
        assert!((c.total_cost - 50.0).abs() < 1e-10);
        let m = Costs::mean(&[c, Costs::default()]);
        assert!((m.total_cost - 25.0).abs() < 1e-10);
    }
}
