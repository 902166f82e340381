//! Cart-pole and double-pole balancing after Wieland (1991), with the constants of the
//! neuroevolution literature (ESP, NEAT, CoSyNE, CMA-ES).
//!
//! # Physics
//!
//! A cart of mass `M = 1 kg` on a track, with poles of masses `m1 = 0.1 kg`, `m2 = 0.01 kg`
//! and half-lengths `l1 = 0.5 m`, `l2 = 0.05 m` hinged on it; friction `mu_c = 5e-4` between
//! cart and track and `mu_p = 2e-6` at the hinges; gravity `g = 9.8 m/s²`. With `theta_i` the
//! angle of pole `i` from the vertical (Wieland's equations, exact for uniform rods):
//!
//! ```text
//! x''       = (F - mu_c sgn(x') + sum_i Ft_i) / (M + sum_i mt_i)
//! theta_i'' = -3 / (4 l_i) (x'' cos theta_i - g sin theta_i + mu_p theta_i' / (m_i l_i))
//! Ft_i = m_i l_i theta_i'^2 sin theta_i + 3/4 m_i cos theta_i (mu_p theta_i' / (m_i l_i) - g sin theta_i)
//! mt_i = m_i (1 - 3/4 cos^2 theta_i)
//! ```
//!
//! integrated by classical fourth-order Runge-Kutta at `tau = 0.01 s`, two steps per action
//! (the controller acts every 0.02 s), with the force `F = 10 N x output` (`output` in
//! `[-1, 1]`). The state fails when `|x| > 2.4 m` or any `|theta_i| > 36°`. Without friction
//! and force the total energy
//! `E = M x'^2 / 2 + sum_i [m_i (x'^2 + 2 x' l_i theta_i' cos theta_i + 4/3 l_i^2 theta_i'^2) / 2 + m_i g l_i cos theta_i]`
//! is conserved ([`CartPoles::energy`]; the tests check both).
//!
//! # Tasks
//!
//! * **Markov** (velocities given): inputs `x / 4.8, x' / 2, theta1 / 0.52, theta1' / 2`
//!   (and `theta2 / 0.52, theta2' / 2` for two poles); start at `theta1 = 4.5°`, everything else 0;
//!   fitness = steps balanced, at most 100,000; **solved** when 100,000 steps are balanced.
//! * **Non-Markov** (two poles, inputs `x / 4.8, theta1 / 0.52, theta2 / 0.52`): fitness over
//!   1,000 steps is the damping fitness of Gruau, Whitley and Pyeatt (1996),
//!   `F = 0.1 t / 1000 + 0.9 f2` with `f2 = 0` for `t < 100` and otherwise
//!   `f2 = 0.75 / sum over the last 100 steps of (|x| + |x'| + |theta1| + |theta1'|)`. A network
//!   that balanced all 1,000 steps is a candidate: [`Task::verify`] runs it 100,000 steps from
//!   the standard start and then from the 625 standard start states (each of `x, x', theta1,
//!   theta1'` at 0.05, 0.25, 0.5, 0.75, 0.95 of the ranges +-2.16 m, +-1.35 m/s, +-3.6°,
//!   +-8.6°/s; pole 2 upright and still) for 1,000 steps each; **solved** when it passes the
//!   100,000 steps and balances from at least 200 of the 625 start states.

use serde::{Deserialize, Serialize};

use crate::network::{Mlp, MlpScratch};
use crate::task::{Evaluation, Task, TaskKind, Verification};

/// Physical constants of the cart and poles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoleParams {
    /// Cart mass (kg).
    pub cart_mass: f64,
    /// Pole masses (kg).
    pub pole_mass: [f64; 2],
    /// Pole half-lengths (m).
    pub half_length: [f64; 2],
    /// Cart-track friction coefficient.
    pub mu_cart: f64,
    /// Pole hinge friction coefficient.
    pub mu_pole: f64,
    /// Gravity (m/s², positive).
    pub gravity: f64,
    /// Largest force magnitude (N).
    pub force_max: f64,
    /// Integration step (s).
    pub tau: f64,
    /// Number of poles (1 or 2).
    pub poles: usize,
}

impl PoleParams {
    /// The standard double pole.
    pub const DOUBLE: Self = Self {
        cart_mass: 1.0,
        pole_mass: [0.1, 0.01],
        half_length: [0.5, 0.05],
        mu_cart: 5e-4,
        mu_pole: 2e-6,
        gravity: 9.8,
        force_max: 10.0,
        tau: 0.01,
        poles: 2,
    };

    /// The standard single pole (the first pole of the double pole).
    pub const SINGLE: Self = Self {
        poles: 1,
        ..Self::DOUBLE
    };

    /// The same system without friction (for energy checks).
    #[must_use]
    pub fn frictionless(mut self) -> Self {
        self.mu_cart = 0.0;
        self.mu_pole = 0.0;
        self
    }
}

/// State `[x, x', theta1, theta1', theta2, theta2']` (m, m/s, rad, rad/s).
pub type PoleState = [f64; 6];

/// Largest cart position before failure (m).
pub const TRACK_LIMIT: f64 = 2.4;
/// Largest pole angle before failure (rad): 36 degrees.
pub const ANGLE_LIMIT: f64 = 36.0 * std::f64::consts::PI / 180.0;
/// The standard start angle of pole 1 (rad): 4.5 degrees.
pub const START_ANGLE: f64 = 4.5 * std::f64::consts::PI / 180.0;

/// The cart-and-poles system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CartPoles {
    /// Its constants.
    pub params: PoleParams,
}

impl CartPoles {
    /// The system with constants `params`.
    pub fn new(params: PoleParams) -> Self {
        Self { params }
    }

    /// Time derivative of `s` under force `force` (N).
    pub fn derivatives(&self, s: &PoleState, force: f64) -> PoleState {
        let p = &self.params;
        let g = p.gravity;
        let mut ft = 0.0;
        let mut mt = 0.0;
        let mut parts = [(0.0, 0.0, 0.0); 2];
        for (i, part) in parts.iter_mut().enumerate().take(p.poles) {
            let (th, om) = (s[2 + 2 * i], s[3 + 2 * i]);
            let (sin, cos) = th.sin_cos();
            let ml = p.pole_mass[i] * p.half_length[i];
            let fric = p.mu_pole * om / ml;
            ft += ml * om * om * sin + 0.75 * p.pole_mass[i] * cos * (fric - g * sin);
            mt += p.pole_mass[i] * (1.0 - 0.75 * cos * cos);
            *part = (sin, cos, fric);
        }
        let xdot = s[1];
        let cart_fric = p.mu_cart
            * if xdot > 0.0 {
                1.0
            } else if xdot < 0.0 {
                -1.0
            } else {
                0.0
            };
        let xacc = (force - cart_fric + ft) / (p.cart_mass + mt);
        let mut d = [xdot, xacc, s[3], 0.0, s[5], 0.0];
        for (i, &(sin, cos, fric)) in parts.iter().enumerate().take(p.poles) {
            d[3 + 2 * i] = -0.75 * (xacc * cos - g * sin + fric) / p.half_length[i];
        }
        if p.poles < 2 {
            d[4] = 0.0;
        }
        d
    }

    /// One classical Runge-Kutta step of length `dt` under a constant force.
    pub fn rk4_step(&self, s: &mut PoleState, force: f64, dt: f64) {
        let add = |a: &PoleState, k: &PoleState, h: f64| -> PoleState {
            std::array::from_fn(|i| a[i] + h * k[i])
        };
        let k1 = self.derivatives(s, force);
        let k2 = self.derivatives(&add(s, &k1, 0.5 * dt), force);
        let k3 = self.derivatives(&add(s, &k2, 0.5 * dt), force);
        let k4 = self.derivatives(&add(s, &k3, dt), force);
        for i in 0..6 {
            s[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }

    /// One control interval: two RK4 steps of `tau` under `force`.
    pub fn act(&self, s: &mut PoleState, force: f64) {
        let f = force.clamp(-self.params.force_max, self.params.force_max);
        self.rk4_step(s, f, self.params.tau);
        self.rk4_step(s, f, self.params.tau);
    }

    /// Whether the cart left the track or a pole fell past 36 degrees.
    pub fn failed(&self, s: &PoleState) -> bool {
        s[0].abs() > TRACK_LIMIT
            || s[2].abs() > ANGLE_LIMIT
            || (self.params.poles > 1 && s[4].abs() > ANGLE_LIMIT)
    }

    /// Total mechanical energy (J), conserved without friction and force.
    pub fn energy(&self, s: &PoleState) -> f64 {
        let p = &self.params;
        let xd = s[1];
        let mut e = 0.5 * p.cart_mass * xd * xd;
        for i in 0..p.poles {
            let (m, l) = (p.pole_mass[i], p.half_length[i]);
            let (th, om) = (s[2 + 2 * i], s[3 + 2 * i]);
            e += 0.5 * m * (xd * xd + 2.0 * xd * l * om * th.cos() + 4.0 / 3.0 * l * l * om * om)
                + m * p.gravity * l * th.cos();
        }
        e
    }
}

/// Steps an episode must balance to be solved.
pub const SOLVE_STEPS: u64 = 100_000;
/// Steps of a non-Markov training episode.
pub const TRAIN_STEPS: u64 = 1_000;
/// Steps of each generalisation episode.
pub const GENERALISATION_STEPS: u64 = 1_000;
/// Start states (of 625) a non-Markov solution must balance from.
pub const GENERALISATION_NEEDED: u32 = 200;

/// The 625 standard start states of the generalisation test.
pub fn generalisation_starts() -> Vec<PoleState> {
    const FRACTIONS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];
    let deg = std::f64::consts::PI / 180.0;
    let half = [2.16, 1.35, 3.6 * deg, 8.6 * deg];
    let mut out = Vec::with_capacity(625);
    for a in FRACTIONS {
        for b in FRACTIONS {
            for c in FRACTIONS {
                for d in FRACTIONS {
                    let v = [a, b, c, d];
                    let mut s = [0.0; 6];
                    for k in 0..4 {
                        s[k] = (2.0 * v[k] - 1.0) * half[k];
                    }
                    out.push(s);
                }
            }
        }
    }
    out
}

/// A pole-balancing task: the system, whether velocities are observed, and the controller.
#[derive(Debug, Clone)]
pub struct PoleTask {
    system: CartPoles,
    markov: bool,
    mlp: Mlp,
    kind: TaskKind,
}

impl PoleTask {
    /// A task on `params` with `mlp` as controller (its inputs must match the observation).
    pub(crate) fn new(kind: TaskKind, params: PoleParams, markov: bool, mlp: Mlp) -> Self {
        Self {
            system: CartPoles::new(params),
            markov,
            mlp,
            kind,
        }
    }

    /// Observation count for `poles` poles with or without velocities.
    pub fn observation_len(poles: usize, markov: bool) -> usize {
        if markov { 2 + 2 * poles } else { 1 + poles }
    }

    fn observe(&self, s: &PoleState, obs: &mut [f64; 6]) -> usize {
        let poles = self.system.params.poles;
        if self.markov {
            obs[0] = s[0] / 4.8;
            obs[1] = s[1] / 2.0;
            for i in 0..poles {
                obs[2 + 2 * i] = s[2 + 2 * i] / 0.52;
                obs[3 + 2 * i] = s[3 + 2 * i] / 2.0;
            }
            2 + 2 * poles
        } else {
            obs[0] = s[0] / 4.8;
            for i in 0..poles {
                obs[1 + i] = s[2 + 2 * i] / 0.52;
            }
            1 + poles
        }
    }

    /// Runs the controller from `start` for at most `max_steps`; returns the steps balanced
    /// and, when `damping` is given, fills it with the damping sum of the last 100 steps.
    fn episode(
        &self,
        w: &[f64],
        start: PoleState,
        max_steps: u64,
        scratch: &mut MlpScratch,
        mut damping: Option<&mut [f64; 100]>,
    ) -> u64 {
        self.mlp.reset(scratch);
        let mut s = start;
        let mut obs = [0.0; 6];
        let force_max = self.system.params.force_max;
        let mut steps = 0;
        while steps < max_steps {
            let n = self.observe(&s, &mut obs);
            let out = self.mlp.forward(w, &obs[..n], scratch)[0];
            self.system.act(&mut s, force_max * out);
            if self.system.failed(&s) {
                break;
            }
            if let Some(ring) = damping.as_deref_mut() {
                ring[(steps % 100) as usize] = s[0].abs() + s[1].abs() + s[2].abs() + s[3].abs();
            }
            steps += 1;
        }
        steps
    }

    /// The standard start: pole 1 at 4.5 degrees, everything else at rest.
    pub fn standard_start() -> PoleState {
        [0.0, 0.0, START_ANGLE, 0.0, 0.0, 0.0]
    }

    /// How many of the 625 standard start states the controller balances for 1,000 steps.
    pub fn generalisation(&self, w: &[f64]) -> u32 {
        self.generalisation_until(w, 626)
    }

    /// [`PoleTask::generalisation`], stopping early (with a count below `needed`) once
    /// `needed` successes can no longer be reached.
    fn generalisation_until(&self, w: &[f64], needed: u32) -> u32 {
        let mut scratch = self.mlp.scratch();
        let starts = generalisation_starts();
        let total = starts.len() as u32;
        let (mut ok, mut failed) = (0u32, 0u32);
        for s in starts {
            if self.episode(w, s, GENERALISATION_STEPS, &mut scratch, None) == GENERALISATION_STEPS
            {
                ok += 1;
            } else {
                failed += 1;
                if needed <= total && total - failed < needed {
                    break;
                }
            }
        }
        ok
    }
}

impl Task for PoleTask {
    fn kind(&self) -> TaskKind {
        self.kind
    }

    fn genome_len(&self) -> usize {
        self.mlp.n_weights()
    }

    fn init_range(&self) -> (f64, f64) {
        (-1.0, 1.0)
    }

    fn evaluate(&self, genome: &[f64], _seed: u64) -> Evaluation {
        let mut scratch = self.mlp.scratch();
        if self.markov {
            let steps = self.episode(
                genome,
                Self::standard_start(),
                SOLVE_STEPS,
                &mut scratch,
                None,
            );
            Evaluation {
                fitness: steps as f64,
                solved: steps == SOLVE_STEPS,
                candidate: false,
            }
        } else {
            let mut ring = [0.0; 100];
            let t = self.episode(
                genome,
                Self::standard_start(),
                TRAIN_STEPS,
                &mut scratch,
                Some(&mut ring),
            );
            let f1 = t as f64 / TRAIN_STEPS as f64;
            let f2 = if t < 100 {
                0.0
            } else {
                let sum: f64 = ring.iter().sum();
                if sum > 0.0 {
                    0.75 / sum
                } else {
                    0.75 / f64::MIN_POSITIVE
                }
            };
            Evaluation {
                fitness: 0.1 * f1 + 0.9 * f2,
                solved: false,
                candidate: t == TRAIN_STEPS,
            }
        }
    }

    fn verify(&self, genome: &[f64]) -> Option<Verification> {
        if self.markov {
            return None;
        }
        let mut scratch = self.mlp.scratch();
        let long = self.episode(
            genome,
            Self::standard_start(),
            SOLVE_STEPS,
            &mut scratch,
            None,
        );
        if long < SOLVE_STEPS {
            return Some(Verification {
                solved: false,
                generalisation: None,
            });
        }
        // A candidate that cannot reach 200 is not tested to the end (its count is a lower
        // bound then); a solution's count is exact.
        let g = self.generalisation_until(genome, GENERALISATION_NEEDED);
        if g < GENERALISATION_NEEDED {
            return Some(Verification {
                solved: false,
                generalisation: Some(g),
            });
        }
        Some(Verification {
            solved: true,
            generalisation: Some(self.generalisation(genome)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_625_starts_span_the_standard_ranges() {
        let s = generalisation_starts();
        assert_eq!(s.len(), 625);
        assert!((s[0][0] + 0.9 * 2.16).abs() < 1e-12);
        assert!((s[624][3] - 0.9 * 8.6f64.to_radians()).abs() < 1e-12);
        assert!(s.iter().all(|x| x[4] == 0.0 && x[5] == 0.0));
    }
}
