//! Benchmark functions for the islands study, minimised; the task's fitness is `-f(x)` (higher
//! is better) and the genome is `x` itself.
//!
//! | function | f(x) | search range | minimum |
//! |---|---|---|---|
//! | Rastrigin | `10 n + sum (x_i^2 - 10 cos(2 pi x_i))` | `[-5.12, 5.12]^n` | 0 at 0 |
//! | rotated Rastrigin | Rastrigin of `R x`, `R` a random rotation (seeded) | same | 0 at 0 |
//! | Rosenbrock | `sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2` | `[-5, 10]^n` | 0 at 1 |
//! | Ackley | `-20 exp(-0.2 sqrt(mean x_i^2)) - exp(mean cos(2 pi x_i)) + 20 + e` | `[-32.768, 32.768]^n` | 0 at 0 |
//! | Schwefel | `418.9829 n - sum x_i sin(sqrt(abs(x_i)))` | `[-500, 500]^n` | about 0 at 420.9687 |
//!
//! Schwefel's function is deceptive outside its range (it keeps falling), so a coordinate
//! beyond `+-500` is evaluated at the bound plus a penalty of the squared excess. The rotation
//! is the Q factor of a matrix of standard normal draws (Gram-Schmidt), seeded, so every
//! process of a run builds the same one. A run is **solved** when `f(x) <= target`.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::task::{Evaluation, Task, TaskKind};

/// Which benchmark function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Function {
    /// Rastrigin's function.
    Rastrigin,
    /// Rosenbrock's function.
    Rosenbrock,
    /// Ackley's function.
    Ackley,
    /// Schwefel's function 2.26.
    Schwefel,
}

impl Function {
    /// The search range of every coordinate.
    pub fn range(self) -> (f64, f64) {
        match self {
            Self::Rastrigin => (-5.12, 5.12),
            Self::Rosenbrock => (-5.0, 10.0),
            Self::Ackley => (-32.768, 32.768),
            Self::Schwefel => (-500.0, 500.0),
        }
    }

    /// `f(x)`.
    pub fn value(self, x: &[f64]) -> f64 {
        use std::f64::consts::{E, PI};
        let n = x.len() as f64;
        match self {
            Self::Rastrigin => {
                10.0 * n
                    + x.iter()
                        .map(|&v| v * v - 10.0 * (2.0 * PI * v).cos())
                        .sum::<f64>()
            }
            Self::Rosenbrock => x
                .windows(2)
                .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
                .sum(),
            Self::Ackley => {
                let sq = x.iter().map(|v| v * v).sum::<f64>() / n;
                let cs = x.iter().map(|v| (2.0 * PI * v).cos()).sum::<f64>() / n;
                -20.0 * (-0.2 * sq.sqrt()).exp() - cs.exp() + 20.0 + E
            }
            Self::Schwefel => {
                let mut s = 418.982_887_272_433_9 * n;
                for &v in x {
                    let c = v.clamp(-500.0, 500.0);
                    s -= c * c.abs().sqrt().sin();
                    s += (v - c) * (v - c);
                }
                s
            }
        }
    }
}

/// A seeded random rotation of `n` dimensions, row-major.
pub fn random_rotation(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand_xoshiro_like(seed);
    let mut q: Vec<f64> = (0..n * n)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    // Modified Gram-Schmidt on the rows (twice, for orthogonality to round-off).
    for _ in 0..2 {
        for i in 0..n {
            for j in 0..i {
                let dot: f64 = (0..n).map(|k| q[i * n + k] * q[j * n + k]).sum();
                for k in 0..n {
                    q[i * n + k] -= dot * q[j * n + k];
                }
            }
            let norm = (0..n).map(|k| q[i * n + k].powi(2)).sum::<f64>().sqrt();
            for k in 0..n {
                q[i * n + k] /= norm;
            }
        }
    }
    q
}

fn rand_xoshiro_like(seed: u64) -> par_core::TaskRng {
    par_core::TaskRng::seed_from_u64(seed)
}

/// A benchmark function as a task.
#[derive(Debug, Clone)]
pub struct FunctionTask {
    kind: TaskKind,
    function: Function,
    dim: usize,
    rotation: Option<Vec<f64>>,
    target: f64,
}

impl FunctionTask {
    /// `function` in `dim` dimensions, rotated when `rotation_seed` is given, solved at
    /// `f <= target`.
    pub(crate) fn new(
        kind: TaskKind,
        function: Function,
        dim: usize,
        rotation_seed: Option<u64>,
        target: f64,
    ) -> Self {
        Self {
            kind,
            function,
            dim,
            rotation: rotation_seed.map(|s| random_rotation(dim, s)),
            target,
        }
    }

    /// `f(x)` (rotated when the task is).
    pub fn value(&self, x: &[f64]) -> f64 {
        match &self.rotation {
            None => self.function.value(x),
            Some(r) => {
                let n = self.dim;
                let y: Vec<f64> = (0..n)
                    .map(|i| {
                        r[i * n..(i + 1) * n]
                            .iter()
                            .zip(x)
                            .map(|(a, b)| a * b)
                            .sum()
                    })
                    .collect();
                self.function.value(&y)
            }
        }
    }

    /// The success threshold on `f`.
    pub fn target(&self) -> f64 {
        self.target
    }
}

impl Task for FunctionTask {
    fn kind(&self) -> TaskKind {
        self.kind
    }

    fn genome_len(&self) -> usize {
        self.dim
    }

    fn init_range(&self) -> (f64, f64) {
        self.function.range()
    }

    fn evaluate(&self, genome: &[f64], _seed: u64) -> Evaluation {
        let f = self.value(genome);
        Evaluation {
            fitness: -f,
            solved: f <= self.target,
            candidate: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minima_and_known_values() {
        let z = vec![0.0; 30];
        assert_eq!(Function::Rastrigin.value(&z), 0.0);
        assert!(Function::Ackley.value(&z).abs() < 1e-12);
        assert_eq!(Function::Rosenbrock.value(&[1.0; 30]), 0.0);
        assert!(Function::Schwefel.value(&[420.968_746; 30]).abs() < 1e-3);
        assert!((Function::Rastrigin.value(&[1.0, 0.5]) - (1.0 + 0.25 + 20.0)).abs() < 1e-12);
        // Beyond the Schwefel bound the penalty keeps the function from falling further.
        assert!(Function::Schwefel.value(&[600.0]) > Function::Schwefel.value(&[500.0]));
    }

    #[test]
    fn rotations_are_orthogonal_and_seeded() {
        let n = 10;
        let r = random_rotation(n, 7);
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..n).map(|k| r[i * n + k] * r[j * n + k]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert_eq!(r, random_rotation(n, 7));
        assert_ne!(r, random_rotation(n, 8));
    }
}
