//! Controllers: what the simulator asks for a steering action at every step.

use crate::error::MpcError;

/// The vehicle state of one row.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    /// Road-roll lateral acceleration `9.81 * sin(roll)`, m/s^2.
    pub roll_lataccel: f64,
    /// Forward speed, m/s.
    pub v_ego: f64,
    /// Forward acceleration, m/s^2.
    pub a_ego: f64,
}

/// The rows after the current one (up to 49 of them; fewer near the end of a segment).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FuturePlan<'a> {
    /// Target lateral accelerations.
    pub lataccel: &'a [f64],
    /// Road-roll lateral accelerations.
    pub roll_lataccel: &'a [f64],
    /// Forward speeds.
    pub v_ego: &'a [f64],
    /// Forward accelerations.
    pub a_ego: &'a [f64],
}

/// What a controller receives at step `step` (exactly what the official simulator passes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation<'a> {
    /// The step index `t` (20, 21, ...).
    pub step: usize,
    /// Target lateral acceleration of row `t`.
    pub target_lataccel: f64,
    /// Current lateral acceleration as it stood at the end of step `t - 1`.
    pub current_lataccel: f64,
    /// State of row `t`.
    pub state: State,
    /// Rows `t + 1 ..= t + 49`.
    pub future: FuturePlan<'a>,
}

/// A steering controller. It is called at every step from 20 on; before step 100 its answer is
/// replaced by the logged steering (which it never receives), so its internal state evolves
/// during the warm-up exactly as in the official simulator.
///
/// A controller must never touch the simulator's random generator: stochastic controllers own a
/// generator seeded by their configuration.
pub trait Controller {
    /// The steering action for this step (the simulator clips it to [-2, 2]).
    fn update(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError>;
}

impl<C: Controller + ?Sized> Controller for Box<C> {
    fn update(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError> {
        (**self).update(obs)
    }
}

/// Always steers 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZeroController;

impl Controller for ZeroController {
    fn update(&mut self, _obs: &Observation<'_>) -> Result<f64, MpcError> {
        Ok(0.0)
    }
}

/// The reference PID controller of the tinyphysics project (p 0.195, i 0.100, d -0.053).
///
/// `error = target - current`; the error sum is increased by the error before use; the difference
/// term is the error minus the previous error (initially 0);
/// `action = p * error + i * sum + d * difference`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PidController {
    /// Proportional gain.
    pub p: f64,
    /// Integral gain.
    pub i: f64,
    /// Derivative gain.
    pub d: f64,
    error_integral: f64,
    prev_error: f64,
}

impl Default for PidController {
    fn default() -> Self {
        Self::new(0.195, 0.100, -0.053)
    }
}

impl PidController {
    /// A PID controller with the given gains and zero internal state.
    pub fn new(p: f64, i: f64, d: f64) -> Self {
        Self {
            p,
            i,
            d,
            error_integral: 0.0,
            prev_error: 0.0,
        }
    }
}

impl Controller for PidController {
    fn update(&mut self, obs: &Observation<'_>) -> Result<f64, MpcError> {
        let error = obs.target_lataccel - obs.current_lataccel;
        self.error_integral += error;
        let error_diff = error - self.prev_error;
        self.prev_error = error;
        Ok(self.p * error + self.i * self.error_integral + self.d * error_diff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_steps() {
        let mut pid = PidController::default();
        let obs = |target, current| Observation {
            step: 20,
            target_lataccel: target,
            current_lataccel: current,
            state: State::default(),
            future: FuturePlan::default(),
        };
        let a = pid.update(&obs(1.0, 0.0)).unwrap();
        assert!((a - (0.195 + 0.1 - 0.053)).abs() < 1e-15);
        let b = pid.update(&obs(1.0, 0.5)).unwrap();
        assert!((b - (0.195 * 0.5 + 0.1 * 1.5 - 0.053 * -0.5)).abs() < 1e-15);
        assert_eq!(ZeroController.update(&obs(1.0, 0.0)).unwrap(), 0.0);
    }
}
