//! The soft-body creature: a two-dimensional mass-spring body whose muscles a network drives,
//! walking to pellets, in the spirit of the "Evolution Lab" creatures.
//!
//! # Exact specification
//!
//! * **Body.** Six nodes of mass 1 kg, at rest at `(0, 0), (0.5, 0), (1, 0)` (the feet) and
//!   `(0, 0.5), (0.5, 0.5), (1, 0.5)` (m). Eleven springs join them: the four horizontal edges
//!   `0-1, 1-2, 3-4, 4-5`, the three verticals `0-3, 1-4, 2-5` and the four diagonals
//!   `0-4, 1-3, 1-5, 2-4`, each with stiffness `k = 300 N/m`, damping `c = 5 N s/m` along its
//!   axis, and a natural length `L0` equal to its length in the rest shape.
//! * **Muscles.** Every spring is a muscle: its rest length is `L0 (1 + 0.25 u_k)`, where
//!   `u_k` in `[-1, 1]` is network output `k` at that step.
//! * **Network.** Ten inputs: `sin` and `cos` of a 1 Hz clock, `tanh(p - c_x)` (the direction
//!   and nearness of the active pellet `p` from the body's centre `c_x`, the mean of the node
//!   `x`), the centre's velocity `v_x / 2`, and one ground-contact flag per node (1 when the
//!   node's height is 0). Eleven tanh outputs; hidden layers as configured (default one of 8).
//! * **Forces.** Gravity `9.8 m/s²` downwards; spring forces `(k (L - rest) + c dL/dt)` along
//!   each spring.
//! * **Integration.** Semi-implicit Euler at `dt = 1/30 s` for 900 steps (30 s): velocities
//!   from forces, then the ground, then positions from the new velocities.
//! * **Ground** (`y = 0`). A node whose next position would fall below the ground gets the
//!   vertical velocity that puts it exactly on it, `v_y' = -y / dt`; the change
//!   `J = v_y' - v_y` (an impulse per unit mass) bounds Coulomb friction with `mu = 0.8`: the
//!   horizontal speed shrinks by `mu J`, never changing sign.
//! * **Pellets.** One active at a time, on the ground at `x = 2, -1, 4, 0, 6, 2, 8, 4` in turn;
//!   a pellet is eaten when `|c_x - p| < 0.25 m`, and the next appears.
//! * **Fitness.** Pellets eaten, plus the progress toward the active pellet since it appeared,
//!   `1 - |c_x - p| / |c_x(appeared) - p|`, floored at -1. A body whose state stops being
//!   finite scores -1. The task is never "solved": runs end on their evaluation budget.

use serde::{Deserialize, Serialize};

use crate::network::Mlp;
use crate::task::{Evaluation, Task, TaskKind};

/// Time step (s).
pub const DT: f64 = 1.0 / 30.0;
/// Steps per evaluation.
pub const STEPS: usize = 900;
/// Node count.
pub const NODES: usize = 6;
/// Spring (and muscle) count.
pub const SPRINGS: usize = 11;
/// Network input count.
pub const INPUTS: usize = 10;
/// Pellet positions, in order.
pub const PELLETS: [f64; 8] = [2.0, -1.0, 4.0, 0.0, 6.0, 2.0, 8.0, 4.0];

const REST: [(f64, f64); NODES] = [
    (0.0, 0.0),
    (0.5, 0.0),
    (1.0, 0.0),
    (0.0, 0.5),
    (0.5, 0.5),
    (1.0, 0.5),
];
const EDGES: [(usize, usize); SPRINGS] = [
    (0, 1),
    (1, 2),
    (3, 4),
    (4, 5),
    (0, 3),
    (1, 4),
    (2, 5),
    (0, 4),
    (1, 3),
    (1, 5),
    (2, 4),
];
const MASS: f64 = 1.0;
const STIFFNESS: f64 = 300.0;
const DAMPING: f64 = 5.0;
const MUSCLE: f64 = 0.25;
const GRAVITY: f64 = 9.8;
const FRICTION: f64 = 0.8;
const EAT_RADIUS: f64 = 0.25;

/// What an episode ended with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CreatureOutcome {
    /// Pellets eaten.
    pub eaten: usize,
    /// The fitness.
    pub fitness: f64,
    /// Final centre `x` (m).
    pub final_x: f64,
}

/// The creature task with its controller network.
#[derive(Debug, Clone)]
pub struct CreatureTask {
    mlp: Mlp,
}

impl CreatureTask {
    pub(crate) fn new(mlp: Mlp) -> Self {
        Self { mlp }
    }

    /// Runs one 900-step episode.
    pub fn simulate(&self, w: &[f64]) -> CreatureOutcome {
        let mut scratch = self.mlp.scratch();
        let mut px = [0.0; NODES];
        let mut py = [0.0; NODES];
        let mut vx = [0.0; NODES];
        let mut vy = [0.0; NODES];
        for (i, &(x, y)) in REST.iter().enumerate() {
            px[i] = x;
            py[i] = y;
        }
        let mut l0 = [0.0; SPRINGS];
        for (k, &(a, b)) in EDGES.iter().enumerate() {
            l0[k] = ((REST[b].0 - REST[a].0).powi(2) + (REST[b].1 - REST[a].1).powi(2)).sqrt();
        }
        let centre = |px: &[f64; NODES]| px.iter().sum::<f64>() / NODES as f64;
        let mut eaten = 0usize;
        let mut from = centre(&px);
        let mut input = [0.0; INPUTS];
        let omega = 2.0 * std::f64::consts::PI;
        for step in 0..STEPS {
            let cx = centre(&px);
            let pellet = PELLETS[eaten.min(PELLETS.len() - 1)];
            let t = step as f64 * DT;
            let (s, c) = (omega * t).sin_cos();
            input[0] = s;
            input[1] = c;
            input[2] = (pellet - cx).tanh();
            input[3] = vx.iter().sum::<f64>() / NODES as f64 / 2.0;
            for i in 0..NODES {
                input[4 + i] = if py[i] <= 0.0 { 1.0 } else { 0.0 };
            }
            let u = self.mlp.forward(w, &input, &mut scratch);
            let mut fx = [0.0; NODES];
            let mut fy = [-MASS * GRAVITY; NODES];
            for (k, &(a, b)) in EDGES.iter().enumerate() {
                let (dx, dy) = (px[b] - px[a], py[b] - py[a]);
                let len = (dx * dx + dy * dy).sqrt().max(1e-9);
                let (ux, uy) = (dx / len, dy / len);
                let rate = (vx[b] - vx[a]) * ux + (vy[b] - vy[a]) * uy;
                let rest = l0[k] * (1.0 + MUSCLE * u[k]);
                let f = STIFFNESS * (len - rest) + DAMPING * rate;
                fx[a] += f * ux;
                fy[a] += f * uy;
                fx[b] -= f * ux;
                fy[b] -= f * uy;
            }
            for i in 0..NODES {
                vx[i] += fx[i] / MASS * DT;
                vy[i] += fy[i] / MASS * DT;
                if py[i] + vy[i] * DT < 0.0 {
                    let landed = -py[i] / DT;
                    let j = landed - vy[i];
                    let slow = FRICTION * j;
                    vx[i] = if vx[i].abs() <= slow {
                        0.0
                    } else {
                        vx[i] - slow.copysign(vx[i])
                    };
                    vy[i] = landed;
                }
                px[i] += vx[i] * DT;
                py[i] = (py[i] + vy[i] * DT).max(0.0);
            }
            let cx = centre(&px);
            if !cx.is_finite() {
                return CreatureOutcome {
                    eaten,
                    fitness: -1.0,
                    final_x: cx,
                };
            }
            if (cx - pellet).abs() < EAT_RADIUS && eaten < PELLETS.len() {
                eaten += 1;
                from = cx;
            }
        }
        let cx = centre(&px);
        let progress = if eaten < PELLETS.len() {
            let p = PELLETS[eaten];
            let d0 = (from - p).abs().max(EAT_RADIUS);
            (1.0 - (cx - p).abs() / d0).max(-1.0)
        } else {
            0.0
        };
        CreatureOutcome {
            eaten,
            fitness: eaten as f64 + progress,
            final_x: cx,
        }
    }
}

impl Task for CreatureTask {
    fn kind(&self) -> TaskKind {
        TaskKind::Creature
    }

    fn genome_len(&self) -> usize {
        self.mlp.n_weights()
    }

    fn init_range(&self) -> (f64, f64) {
        (-1.0, 1.0)
    }

    fn evaluate(&self, genome: &[f64], _seed: u64) -> Evaluation {
        let o = self.simulate(genome);
        Evaluation {
            fitness: o.fitness,
            solved: false,
            candidate: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::NetworkConfig;

    #[test]
    fn a_still_body_settles_and_stays_near_its_start() {
        let mlp = Mlp::new(INPUTS, SPRINGS, &NetworkConfig::default()).unwrap();
        let task = CreatureTask::new(mlp.clone());
        let zero = vec![0.0; mlp.n_weights()];
        let o = task.simulate(&zero);
        assert_eq!(o.eaten, 0);
        assert!((o.final_x - 0.5).abs() < 1e-6, "{o:?}");
        assert!(o.fitness.abs() < 1e-6);
    }
}
