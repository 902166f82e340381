//! A generational genetic algorithm on real-valued genomes.
//!
//! Each generation keeps the `elites` best individuals unchanged (they are not evaluated
//! again: every task is deterministic) and breeds the rest: two parents chosen by the
//! configured [`Selection`], crossed with probability `crossover_rate` by the configured
//! [`Crossover`] into two children, each gene of each child then mutated with probability
//! `mutation_rate` by adding Gaussian noise of standard deviation `mutation_scale`.
//!
//! * Selection: tournament (best of `size` drawn with replacement), linear rank (Baker 1985:
//!   the best is chosen `pressure` times as often as the median, `pressure` in `[1, 2]`),
//!   truncation (uniform among the best `fraction`).
//! * Crossover: simulated binary crossover (Deb and Agrawal 1995, distribution index `eta`,
//!   each gene crossed with probability 1/2), blend crossover BLX-alpha (Eshelman and Schaffer
//!   1993), or none.

use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::{
    AskTell, MAX_POPULATION, Migrant, ReplacePolicy, check_fitness, ranking, replace_rows,
    uniform_genomes,
};
use crate::NeuroError;
use crate::error::{count_in, in_range};
use par_core::TaskRng;

/// Parent selection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Selection {
    /// The best of `size` individuals drawn uniformly with replacement.
    Tournament {
        /// Tournament size, at least 1.
        size: usize,
    },
    /// Linear ranking with selection pressure in `[1, 2]`.
    Rank {
        /// Expected offspring of the best individual relative to the average.
        pressure: f64,
    },
    /// Uniform among the best `fraction` of the population.
    Truncation {
        /// Share of the population that may breed, in `(0, 1]`.
        fraction: f64,
    },
}

/// Crossover operator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Crossover {
    /// Children are copies of their parents.
    None,
    /// Simulated binary crossover.
    Sbx {
        /// Distribution index (larger: children nearer their parents), in `[0, 1000]`.
        eta: f64,
    },
    /// Blend crossover BLX-alpha.
    Blend {
        /// How far beyond the parents' interval children may fall, in `[0, 10]`.
        alpha: f64,
    },
}

/// Settings of the GA. Missing fields take the defaults shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GaConfig {
    /// Population size. Default: 50.
    pub population: usize,
    /// Parent selection. Default: tournament of 3.
    pub selection: Selection,
    /// Crossover operator. Default: SBX with `eta = 2`.
    pub crossover: Crossover,
    /// Probability that a pair of parents is crossed. Default: 0.9.
    pub crossover_rate: f64,
    /// Probability that a gene is mutated. Default: 0.2.
    pub mutation_rate: f64,
    /// Standard deviation of the Gaussian mutation. Default: 0.3.
    pub mutation_scale: f64,
    /// Individuals copied unchanged into the next generation. Default: 2.
    pub elites: usize,
}

impl Default for GaConfig {
    fn default() -> Self {
        Self {
            population: 50,
            selection: Selection::Tournament { size: 3 },
            crossover: Crossover::Sbx { eta: 2.0 },
            crossover_rate: 0.9,
            mutation_rate: 0.2,
            mutation_scale: 0.3,
            elites: 2,
        }
    }
}

impl GaConfig {
    /// Checks every field, naming the first bad one (`ga.<field>`).
    pub fn validate(&self) -> Result<(), NeuroError> {
        count_in("ga.population", self.population, 2, MAX_POPULATION)?;
        match self.selection {
            Selection::Tournament { size } => {
                count_in("ga.selection.tournament.size", size, 1, self.population)?;
            }
            Selection::Rank { pressure } => {
                in_range("ga.selection.rank.pressure", pressure, 1.0, 2.0)?;
            }
            Selection::Truncation { fraction } => {
                in_range("ga.selection.truncation.fraction", fraction, 1e-9, 1.0)?;
            }
        }
        match self.crossover {
            Crossover::None => {}
            Crossover::Sbx { eta } => {
                in_range("ga.crossover.sbx.eta", eta, 0.0, 1000.0)?;
            }
            Crossover::Blend { alpha } => {
                in_range("ga.crossover.blend.alpha", alpha, 0.0, 10.0)?;
            }
        }
        in_range("ga.crossover_rate", self.crossover_rate, 0.0, 1.0)?;
        in_range("ga.mutation_rate", self.mutation_rate, 0.0, 1.0)?;
        in_range("ga.mutation_scale", self.mutation_scale, 0.0, 1e12)?;
        count_in("ga.elites", self.elites, 0, self.population - 1)?;
        Ok(())
    }
}

/// The GA's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ga {
    config: GaConfig,
    dim: usize,
    init_range: (f64, f64),
    /// Evaluated population, row-major.
    genomes: Vec<f64>,
    fitness: Vec<f64>,
    /// The batch asked and not yet told.
    pending: Vec<f64>,
}

impl Ga {
    /// A GA for genomes of length `dim`, initial genes uniform in `init_range`.
    pub fn new(config: GaConfig, dim: usize, init_range: (f64, f64)) -> Result<Self, NeuroError> {
        config.validate()?;
        Ok(Self {
            config,
            dim,
            init_range,
            genomes: Vec::new(),
            fitness: Vec::new(),
            pending: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GaConfig {
        &self.config
    }

    fn select(&self, order: &[usize], rng: &mut TaskRng) -> usize {
        let n = self.fitness.len();
        match self.config.selection {
            Selection::Tournament { size } => {
                let mut best = rng.random_range(0..n);
                for _ in 1..size {
                    let c = rng.random_range(0..n);
                    if self.fitness[c] > self.fitness[best] {
                        best = c;
                    }
                }
                best
            }
            Selection::Rank { pressure } => {
                // P(rank r from the worst, 0-based) = (2 - s + 2 (s - 1) r / (n - 1)) / n.
                let u: f64 = rng.random();
                let mut acc = 0.0;
                let denom = (n - 1).max(1) as f64;
                for r in 0..n {
                    acc += (2.0 - pressure + 2.0 * (pressure - 1.0) * r as f64 / denom) / n as f64;
                    if u < acc {
                        return order[n - 1 - r];
                    }
                }
                order[0]
            }
            Selection::Truncation { fraction } => {
                let k = ((fraction * n as f64).ceil() as usize).clamp(1, n);
                order[rng.random_range(0..k)]
            }
        }
    }

    fn breed(&self, rng: &mut TaskRng) -> Vec<f64> {
        let d = self.dim;
        let n_children = self.config.population - self.config.elites;
        let order = ranking(&self.fitness);
        let normal = Normal::new(0.0, self.config.mutation_scale).expect("validated scale");
        let mut out = Vec::with_capacity(n_children * d);
        let mut c1 = vec![0.0; d];
        let mut c2 = vec![0.0; d];
        while out.len() < n_children * d {
            let (a, b) = (self.select(&order, rng), self.select(&order, rng));
            let pa = &self.genomes[a * d..(a + 1) * d];
            let pb = &self.genomes[b * d..(b + 1) * d];
            c1.copy_from_slice(pa);
            c2.copy_from_slice(pb);
            if rng.random::<f64>() < self.config.crossover_rate {
                match self.config.crossover {
                    Crossover::None => {}
                    Crossover::Sbx { eta } => {
                        for i in 0..d {
                            if rng.random::<bool>() {
                                let u: f64 = rng.random();
                                let beta = if u <= 0.5 {
                                    (2.0 * u).powf(1.0 / (eta + 1.0))
                                } else {
                                    (1.0 / (2.0 * (1.0 - u))).powf(1.0 / (eta + 1.0))
                                };
                                c1[i] = 0.5 * ((1.0 + beta) * pa[i] + (1.0 - beta) * pb[i]);
                                c2[i] = 0.5 * ((1.0 - beta) * pa[i] + (1.0 + beta) * pb[i]);
                            }
                        }
                    }
                    Crossover::Blend { alpha } => {
                        for i in 0..d {
                            let span = pb[i] - pa[i];
                            let u1: f64 = rng.random();
                            let u2: f64 = rng.random();
                            c1[i] = pa[i] + (u1 * (1.0 + 2.0 * alpha) - alpha) * span;
                            c2[i] = pa[i] + (u2 * (1.0 + 2.0 * alpha) - alpha) * span;
                        }
                    }
                }
            }
            for child in [&mut c1, &mut c2] {
                for g in child.iter_mut() {
                    if rng.random::<f64>() < self.config.mutation_rate {
                        *g += normal.sample(rng);
                    }
                }
                if out.len() < n_children * d {
                    out.extend_from_slice(child);
                }
            }
        }
        out
    }
}

impl AskTell for Ga {
    fn dim(&self) -> usize {
        self.dim
    }

    fn ask(&mut self, rng: &mut TaskRng) -> &[f64] {
        if self.pending.is_empty() {
            self.pending = if self.fitness.is_empty() {
                uniform_genomes(self.config.population, self.dim, self.init_range, rng)
            } else {
                self.breed(rng)
            };
        }
        &self.pending
    }

    fn tell(&mut self, fitness: &[f64], _rng: &mut TaskRng) -> Result<(), NeuroError> {
        check_fitness(fitness, self.pending.len() / self.dim)?;
        let pending = std::mem::take(&mut self.pending);
        if self.fitness.is_empty() {
            self.genomes = pending;
            self.fitness = fitness.to_vec();
            return Ok(());
        }
        let d = self.dim;
        let order = ranking(&self.fitness);
        let mut genomes = Vec::with_capacity(self.config.population * d);
        let mut fit = Vec::with_capacity(self.config.population);
        for &e in order.iter().take(self.config.elites) {
            genomes.extend_from_slice(&self.genomes[e * d..(e + 1) * d]);
            fit.push(self.fitness[e]);
        }
        genomes.extend_from_slice(&pending);
        fit.extend_from_slice(fitness);
        self.genomes = genomes;
        self.fitness = fit;
        Ok(())
    }

    fn population(&self) -> (&[f64], &[f64]) {
        (&self.genomes, &self.fitness)
    }

    fn immigrate(&mut self, migrants: &[Migrant], policy: ReplacePolicy, rng: &mut TaskRng) {
        let d = self.dim;
        replace_rows(
            &mut self.genomes,
            &mut self.fitness,
            d,
            migrants,
            policy,
            rng,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sphere_run(config: GaConfig) -> f64 {
        let mut ga = Ga::new(config, 5, (-3.0, 3.0)).unwrap();
        let mut rng = TaskRng::seed_from_u64(3);
        for _ in 0..60 {
            let batch = ga.ask(&mut rng).to_vec();
            let fit: Vec<f64> = batch
                .chunks(5)
                .map(|g| -g.iter().map(|x| x * x).sum::<f64>())
                .collect();
            ga.tell(&fit, &mut rng).unwrap();
        }
        ga.population()
            .1
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    #[test]
    fn every_selection_and_crossover_improves_a_sphere() {
        let selections = [
            Selection::Tournament { size: 3 },
            Selection::Rank { pressure: 1.8 },
            Selection::Truncation { fraction: 0.3 },
        ];
        let crossovers = [
            Crossover::None,
            Crossover::Sbx { eta: 2.0 },
            Crossover::Blend { alpha: 0.3 },
        ];
        for selection in selections {
            for crossover in crossovers {
                let best = sphere_run(GaConfig {
                    selection,
                    crossover,
                    mutation_scale: 0.1,
                    ..GaConfig::default()
                });
                assert!(best > -0.05, "{selection:?} {crossover:?}: best {best}");
            }
        }
    }

    #[test]
    fn elites_survive_unevaluated() {
        let mut ga = Ga::new(
            GaConfig {
                population: 6,
                elites: 2,
                ..GaConfig::default()
            },
            2,
            (-1.0, 1.0),
        )
        .unwrap();
        let mut rng = TaskRng::seed_from_u64(9);
        let first = ga.ask(&mut rng).to_vec();
        assert_eq!(first.len(), 12);
        ga.tell(&[0.0, 5.0, 1.0, 4.0, 2.0, 3.0], &mut rng).unwrap();
        let second = ga.ask(&mut rng).to_vec();
        assert_eq!(second.len(), 8, "only the 4 children are evaluated");
        ga.tell(&[0.0; 4], &mut rng).unwrap();
        let (g, f) = ga.population();
        assert_eq!(&f[..2], &[5.0, 4.0]);
        assert_eq!(&g[..2], &first[2..4]);
        assert_eq!(&g[2..4], &first[6..8]);
        assert!(matches!(
            ga.tell(&[1.0], &mut rng),
            Err(NeuroError::FitnessCount { .. })
        ));
    }
}
