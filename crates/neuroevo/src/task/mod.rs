//! Tasks: what a genome is scored on, behind one [`Task`] trait.
//!
//! | name | genome | fitness (higher is better) | solved |
//! |---|---|---|---|
//! | `cart-pole` | MLP weights, 4 inputs | steps balanced (of 100,000) | 100,000 steps |
//! | `double-pole-markov` | MLP weights, 6 inputs | steps balanced (of 100,000) | 100,000 steps |
//! | `double-pole-nonmarkov` | recurrent MLP weights (2 hidden), 3 inputs | damping fitness over 1,000 steps | 100,000 steps and >= 200 of 625 starts |
//! | `creature` | MLP weights, 10 inputs, 11 outputs | pellets eaten + progress | never |
//! | `rastrigin`, `rastrigin-rotated`, `rosenbrock`, `ackley`, `schwefel` | the point `x` | `-f(x)` | `f(x) <= target` |
//!
//! Every task here is deterministic: a genome always gets the same fitness. The seed passed to
//! [`Task::evaluate`] (a pure function of the run seed, the generation and the individual's
//! index, never of the worker that runs it) is for stochastic tasks.

pub mod creature;
pub mod functions;
pub mod pole;

use serde::{Deserialize, Serialize};

use crate::NeuroError;
use crate::network::{Mlp, NetworkConfig};

pub use creature::CreatureTask;
pub use functions::{Function, FunctionTask};
pub use pole::{CartPoles, PoleParams, PoleState, PoleTask};

/// One evaluation of one genome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The fitness (higher is better).
    pub fitness: f64,
    /// Whether this evaluation meets the task's success criterion on its own.
    pub solved: bool,
    /// Whether the genome should be checked by [`Task::verify`] (non-Markov double pole: it
    /// balanced the whole training episode).
    pub candidate: bool,
}

/// The result of [`Task::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Whether the genome solves the task.
    pub solved: bool,
    /// Start states balanced of the 625 (non-Markov double pole), when tested.
    pub generalisation: Option<u32>,
}

/// A problem an optimiser works on.
pub trait Task: Send + Sync {
    /// Which task this is.
    fn kind(&self) -> TaskKind;
    /// Genome length.
    fn genome_len(&self) -> usize;
    /// Range in which initial genomes are drawn uniformly (and CMA-ES's initial step size is
    /// set, 0.3 of its width).
    fn init_range(&self) -> (f64, f64);
    /// Scores `genome` (of length [`Task::genome_len`]).
    fn evaluate(&self, genome: &[f64], seed: u64) -> Evaluation;
    /// The extra test of a [`Evaluation::candidate`]; `None` for tasks without one.
    fn verify(&self, _genome: &[f64]) -> Option<Verification> {
        None
    }
}

/// The tasks by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// Single pole, velocities observed.
    CartPole,
    /// Double pole, velocities observed.
    DoublePoleMarkov,
    /// Double pole, velocities hidden, damping fitness.
    DoublePoleNonmarkov,
    /// The soft-body creature.
    Creature,
    /// Rastrigin's function.
    Rastrigin,
    /// Rastrigin's function of a rotated point.
    RastriginRotated,
    /// Rosenbrock's function.
    Rosenbrock,
    /// Ackley's function.
    Ackley,
    /// Schwefel's function.
    Schwefel,
}

impl TaskKind {
    /// Every task.
    pub const ALL: [Self; 9] = [
        Self::CartPole,
        Self::DoublePoleMarkov,
        Self::DoublePoleNonmarkov,
        Self::Creature,
        Self::Rastrigin,
        Self::RastriginRotated,
        Self::Rosenbrock,
        Self::Ackley,
        Self::Schwefel,
    ];

    /// The kebab-case name used on command lines and in files.
    pub fn name(self) -> &'static str {
        match self {
            Self::CartPole => "cart-pole",
            Self::DoublePoleMarkov => "double-pole-markov",
            Self::DoublePoleNonmarkov => "double-pole-nonmarkov",
            Self::Creature => "creature",
            Self::Rastrigin => "rastrigin",
            Self::RastriginRotated => "rastrigin-rotated",
            Self::Rosenbrock => "rosenbrock",
            Self::Ackley => "ackley",
            Self::Schwefel => "schwefel",
        }
    }

    /// The benchmark function of a function task.
    pub fn function(self) -> Option<Function> {
        match self {
            Self::Rastrigin | Self::RastriginRotated => Some(Function::Rastrigin),
            Self::Rosenbrock => Some(Function::Rosenbrock),
            Self::Ackley => Some(Function::Ackley),
            Self::Schwefel => Some(Function::Schwefel),
            _ => None,
        }
    }

    /// Whether the genome is a network's weights.
    pub fn uses_network(self) -> bool {
        self.function().is_none()
    }

    /// The network used when none is configured: single-layer feed-forward for the Markov
    /// poles (7 weights for the double pole), a recurrent hidden layer of 2 for the non-Markov
    /// double pole (15 weights; 3 and 5 hidden units solved fewer seeds within the same budget
    /// in the runs behind the bench), one hidden layer of 8 for the creature.
    pub fn default_network(self) -> NetworkConfig {
        match self {
            Self::DoublePoleNonmarkov => NetworkConfig {
                hidden: vec![2],
                recurrent: true,
            },
            Self::Creature => NetworkConfig {
                hidden: vec![8],
                recurrent: false,
            },
            _ => NetworkConfig::default(),
        }
    }

    /// The success threshold of a function task when none is configured: `f <= 1` for
    /// Rastrigin (inside the global optimum's basin in all but at most one coordinate),
    /// `f <= 1e-2` for Rosenbrock and Ackley, `f <= 1` for Schwefel.
    pub fn default_target(self) -> Option<f64> {
        match self.function()? {
            Function::Rastrigin | Function::Schwefel => Some(1.0),
            Function::Rosenbrock | Function::Ackley => Some(1e-2),
        }
    }
}

impl std::fmt::Display for TaskKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for TaskKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!("unknown task `{s}` (known: {})", names.join(", "))
            })
    }
}

/// Largest dimension of a function task.
pub const MAX_DIM: usize = 10_000;

/// A task as configured; [`TaskConfig::build`] checks it and makes the runtime task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// Which task.
    pub task: TaskKind,
    /// Dimension of a function task (ignored by the others). Default: 30.
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Controller network of a network task; `None` takes [`TaskKind::default_network`].
    #[serde(default)]
    pub network: Option<NetworkConfig>,
    /// Success threshold on `f` of a function task; `None` takes
    /// [`TaskKind::default_target`].
    #[serde(default)]
    pub target: Option<f64>,
    /// Seed of the rotation of `rastrigin-rotated`. Default: 1.
    #[serde(default = "default_rotation_seed")]
    pub rotation_seed: u64,
}

fn default_dim() -> usize {
    30
}

fn default_rotation_seed() -> u64 {
    1
}

impl TaskConfig {
    /// The task `kind` with every other setting at its default.
    pub fn new(kind: TaskKind) -> Self {
        Self {
            task: kind,
            dim: default_dim(),
            network: None,
            target: None,
            rotation_seed: default_rotation_seed(),
        }
    }

    /// The network this configuration resolves to (network tasks).
    pub fn resolved_network(&self) -> NetworkConfig {
        self.network
            .clone()
            .unwrap_or_else(|| self.task.default_network())
    }

    /// Checks the settings and builds the task.
    pub fn build(&self) -> Result<Box<dyn Task>, NeuroError> {
        let net =
            |inputs: usize, outputs: usize| Mlp::new(inputs, outputs, &self.resolved_network());
        Ok(match self.task {
            TaskKind::CartPole => Box::new(PoleTask::new(
                self.task,
                PoleParams::SINGLE,
                true,
                net(PoleTask::observation_len(1, true), 1)?,
            )),
            TaskKind::DoublePoleMarkov => Box::new(PoleTask::new(
                self.task,
                PoleParams::DOUBLE,
                true,
                net(PoleTask::observation_len(2, true), 1)?,
            )),
            TaskKind::DoublePoleNonmarkov => Box::new(PoleTask::new(
                self.task,
                PoleParams::DOUBLE,
                false,
                net(PoleTask::observation_len(2, false), 1)?,
            )),
            TaskKind::Creature => {
                Box::new(CreatureTask::new(net(creature::INPUTS, creature::SPRINGS)?))
            }
            kind => {
                let function = kind.function().expect("function task");
                if self.dim == 0 || self.dim > MAX_DIM {
                    return Err(NeuroError::field(
                        "task.dim",
                        format!("must be in 1..={MAX_DIM}, got {}", self.dim),
                    ));
                }
                let target = match self.target {
                    Some(t) if !t.is_finite() => {
                        return Err(NeuroError::field(
                            "task.target",
                            format!("must be finite, got {t}"),
                        ));
                    }
                    Some(t) => t,
                    None => kind.default_target().expect("function task"),
                };
                let rotation = (kind == TaskKind::RastriginRotated).then_some(self.rotation_seed);
                Box::new(FunctionTask::new(
                    kind, function, self.dim, rotation, target,
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_listed() {
        for k in TaskKind::ALL {
            assert_eq!(k.name().parse::<TaskKind>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.name()));
        }
        let e = "double-pole".parse::<TaskKind>().unwrap_err();
        assert!(e.contains("double-pole-markov"), "{e}");
    }

    #[test]
    fn configs_reject_unknown_fields_and_bad_values() {
        let e = serde_json::from_str::<TaskConfig>(r#"{"task": "rastrigin", "dimm": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("dimm"), "{e}");
        let mut c = TaskConfig::new(TaskKind::Rastrigin);
        c.dim = 0;
        assert!(
            matches!(c.build(), Err(NeuroError::InvalidField { field, .. }) if field == "task.dim")
        );
        c.dim = 5;
        c.target = Some(f64::NAN);
        assert!(
            matches!(c.build(), Err(NeuroError::InvalidField { field, .. }) if field == "task.target")
        );
        let t = TaskConfig::new(TaskKind::DoublePoleMarkov).build().unwrap();
        assert_eq!(t.genome_len(), 7);
    }
}
