//! Optimisers behind one ask/tell interface ([`AskTell`]): a GA ([`Ga`]), CoSyNE ([`Cosyne`])
//! and CMA-ES ([`Cmaes`]), together as the serialisable [`Optimiser`].
//!
//! The driver asks for a batch of genomes, evaluates them (in parallel, through par-core) and
//! tells the fitness back (higher is better). Between a `tell` and the next `ask` the islands
//! model may read the [`AskTell::population`] (genomes with known fitness) to pick emigrants
//! and hand in immigrants ([`AskTell::immigrate`]). Each call takes the generator to use, so a
//! run derives it from `(seed, generation)` and a checkpoint holds no generator state.
//!
//! Each optimiser has a serde config (`deny_unknown_fields`, documented defaults) that
//! [`OptimiserConfig::build`] validates into the runtime object, with a typed error naming the
//! bad field.

pub mod cmaes;
pub mod cosyne;
pub mod ga;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::NeuroError;
pub use cmaes::{Cmaes, CmaesConfig, Covariance};
pub use cosyne::{Cosyne, CosyneConfig};
pub use ga::{Crossover, Ga, GaConfig, Selection};
use par_core::TaskRng;

/// Largest population accepted by any optimiser.
pub const MAX_POPULATION: usize = 1_000_000;
/// Largest genome accepted.
pub const MAX_DIM: usize = 100_000;

/// An individual sent from one island to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migrant {
    /// Its genome.
    pub genome: Vec<f64>,
    /// Its fitness on the sending island (tasks are deterministic: the same everywhere).
    pub fitness: f64,
    /// The sending island.
    pub from: usize,
}

/// Which individuals immigrants replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplacePolicy {
    /// The worst individuals (raises selection pressure).
    Worst,
    /// Individuals drawn uniformly without replacement.
    Random,
}

/// The ask/tell interface every optimiser implements.
pub trait AskTell {
    /// Genome length.
    fn dim(&self) -> usize;
    /// The next batch of genomes to evaluate, row-major (`len / dim` genomes). Asking again
    /// before `tell` returns the same batch.
    fn ask(&mut self, rng: &mut TaskRng) -> &[f64];
    /// The fitness of every genome of the last batch, in order.
    fn tell(&mut self, fitness: &[f64], rng: &mut TaskRng) -> Result<(), NeuroError>;
    /// The current population with known fitness: genomes row-major, and their fitness.
    fn population(&self) -> (&[f64], &[f64]);
    /// Takes `migrants` in, replacing individuals chosen by `policy` (at most half the
    /// population; extra migrants are ignored).
    fn immigrate(&mut self, migrants: &[Migrant], policy: ReplacePolicy, rng: &mut TaskRng);
}

/// Which optimiser, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimiserKind {
    /// The genetic algorithm.
    Ga,
    /// Cooperative synapse neuroevolution.
    Cosyne,
    /// Covariance matrix adaptation.
    Cmaes,
}

impl OptimiserKind {
    /// Every optimiser.
    pub const ALL: [Self; 3] = [Self::Ga, Self::Cosyne, Self::Cmaes];

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ga => "ga",
            Self::Cosyne => "cosyne",
            Self::Cmaes => "cmaes",
        }
    }

    /// The configuration the crate recommends for `task`: settings tuned on the pole tasks
    /// (by the runs the bench repeats), [`OptimiserKind::default_config`] elsewhere.
    ///
    /// | task | GA | CoSyNE | CMA-ES |
    /// |---|---|---|---|
    /// | Markov poles | population 30, mutation scale 1 | population 40, 10 offspring, mutation scale 1 | lambda 24, sigma 2 (1.0 of the range) |
    /// | non-Markov double pole | population 30, mutation scale 1 | population 60, 15 offspring, mutation scale 1 | defaults |
    pub fn default_for(self, task: crate::task::TaskKind) -> OptimiserConfig {
        use crate::task::TaskKind as T;
        let pole = matches!(
            task,
            T::CartPole | T::DoublePoleMarkov | T::DoublePoleNonmarkov
        );
        if !pole {
            return self.default_config();
        }
        match self {
            Self::Ga => OptimiserConfig::Ga(GaConfig {
                population: 30,
                mutation_scale: 1.0,
                ..GaConfig::default()
            }),
            Self::Cosyne if task == T::DoublePoleNonmarkov => {
                OptimiserConfig::Cosyne(CosyneConfig {
                    population: 60,
                    offspring: 15,
                    mutation_scale: 1.0,
                    ..CosyneConfig::default()
                })
            }
            Self::Cosyne => OptimiserConfig::Cosyne(CosyneConfig {
                population: 40,
                offspring: 10,
                mutation_scale: 1.0,
                ..CosyneConfig::default()
            }),
            Self::Cmaes if task == T::DoublePoleNonmarkov => {
                OptimiserConfig::Cmaes(CmaesConfig::default())
            }
            Self::Cmaes => OptimiserConfig::Cmaes(CmaesConfig {
                population: Some(24),
                sigma_fraction: 1.0,
                ..CmaesConfig::default()
            }),
        }
    }

    /// The default configuration of this optimiser.
    pub fn default_config(self) -> OptimiserConfig {
        match self {
            Self::Ga => OptimiserConfig::Ga(GaConfig::default()),
            Self::Cosyne => OptimiserConfig::Cosyne(CosyneConfig::default()),
            Self::Cmaes => OptimiserConfig::Cmaes(CmaesConfig::default()),
        }
    }
}

impl std::fmt::Display for OptimiserKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OptimiserKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown optimiser `{s}` (known: ga, cosyne, cmaes)"))
    }
}

/// An optimiser's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum OptimiserConfig {
    /// The GA.
    Ga(GaConfig),
    /// CoSyNE.
    Cosyne(CosyneConfig),
    /// CMA-ES.
    Cmaes(CmaesConfig),
}

impl OptimiserConfig {
    /// Which optimiser.
    pub fn kind(&self) -> OptimiserKind {
        match self {
            Self::Ga(_) => OptimiserKind::Ga,
            Self::Cosyne(_) => OptimiserKind::Cosyne,
            Self::Cmaes(_) => OptimiserKind::Cmaes,
        }
    }

    /// Checks every field and builds the optimiser for genomes of length `dim` whose initial
    /// values are drawn in `init_range`.
    pub fn build(&self, dim: usize, init_range: (f64, f64)) -> Result<Optimiser, NeuroError> {
        crate::error::count_in("dim", dim, 1, MAX_DIM)?;
        let (lo, hi) = init_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(NeuroError::field(
                "init_range",
                format!("must be a finite interval lo < hi, got [{lo}, {hi}]"),
            ));
        }
        Ok(match self {
            Self::Ga(c) => Optimiser::Ga(Ga::new(c.clone(), dim, init_range)?),
            Self::Cosyne(c) => Optimiser::Cosyne(Cosyne::new(c.clone(), dim, init_range)?),
            Self::Cmaes(c) => Optimiser::Cmaes(Cmaes::new(c.clone(), dim, init_range)?),
        })
    }
}

/// One of the optimisers, serialisable whole (the checkpoint of a run holds it).
// One per run: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimiser {
    /// The GA.
    Ga(Ga),
    /// CoSyNE.
    Cosyne(Cosyne),
    /// CMA-ES.
    Cmaes(Cmaes),
}

impl Optimiser {
    /// Which optimiser.
    pub fn kind(&self) -> OptimiserKind {
        match self {
            Self::Ga(_) => OptimiserKind::Ga,
            Self::Cosyne(_) => OptimiserKind::Cosyne,
            Self::Cmaes(_) => OptimiserKind::Cmaes,
        }
    }

    fn inner(&self) -> &dyn AskTell {
        match self {
            Self::Ga(o) => o,
            Self::Cosyne(o) => o,
            Self::Cmaes(o) => o,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn AskTell {
        match self {
            Self::Ga(o) => o,
            Self::Cosyne(o) => o,
            Self::Cmaes(o) => o,
        }
    }
}

impl AskTell for Optimiser {
    fn dim(&self) -> usize {
        self.inner().dim()
    }
    fn ask(&mut self, rng: &mut TaskRng) -> &[f64] {
        self.inner_mut().ask(rng)
    }
    fn tell(&mut self, fitness: &[f64], rng: &mut TaskRng) -> Result<(), NeuroError> {
        self.inner_mut().tell(fitness, rng)
    }
    fn population(&self) -> (&[f64], &[f64]) {
        self.inner().population()
    }
    fn immigrate(&mut self, migrants: &[Migrant], policy: ReplacePolicy, rng: &mut TaskRng) {
        self.inner_mut().immigrate(migrants, policy, rng);
    }
}

/// Indices of `fitness` from best to worst (ties keep index order; NaN never occurs here).
pub fn ranking(fitness: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..fitness.len()).collect();
    idx.sort_by(|&a, &b| fitness[b].total_cmp(&fitness[a]));
    idx
}

/// Checks a fitness vector of a batch of `expected`.
pub(crate) fn check_fitness(fitness: &[f64], expected: usize) -> Result<(), NeuroError> {
    if fitness.len() != expected {
        return Err(NeuroError::FitnessCount {
            expected,
            got: fitness.len(),
        });
    }
    match fitness.iter().position(|f| f.is_nan()) {
        Some(index) => Err(NeuroError::NanFitness { index }),
        None => Ok(()),
    }
}

/// `n` genomes of length `dim` drawn uniformly in `range`, row-major.
pub(crate) fn uniform_genomes(
    n: usize,
    dim: usize,
    range: (f64, f64),
    rng: &mut TaskRng,
) -> Vec<f64> {
    (0..n * dim)
        .map(|_| rng.random_range(range.0..range.1))
        .collect()
}

/// The rows a population's immigrants replace: up to `min(migrants, pop / 2)` rows, the worst
/// by `fitness` or drawn at random, paired with the migrants in order.
pub(crate) fn replacement_rows(
    fitness: &[f64],
    migrants: usize,
    policy: ReplacePolicy,
    rng: &mut TaskRng,
) -> Vec<usize> {
    let k = migrants.min(fitness.len() / 2);
    match policy {
        ReplacePolicy::Worst => {
            let mut r = ranking(fitness);
            r.reverse();
            r.truncate(k);
            r
        }
        ReplacePolicy::Random => rand::seq::index::sample(rng, fitness.len(), k).into_vec(),
    }
}

/// Puts `migrants` into a row-major population at the rows [`replacement_rows`] picks.
pub(crate) fn replace_rows(
    genomes: &mut [f64],
    fitness: &mut [f64],
    dim: usize,
    migrants: &[Migrant],
    policy: ReplacePolicy,
    rng: &mut TaskRng,
) {
    let rows = replacement_rows(fitness, migrants.len(), policy, rng);
    for (&row, m) in rows.iter().zip(migrants) {
        if m.genome.len() != dim || m.fitness.is_nan() {
            continue;
        }
        genomes[row * dim..(row + 1) * dim].copy_from_slice(&m.genome);
        fitness[row] = m.fitness;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn configs_name_the_bad_field() {
        let bad = OptimiserConfig::Ga(GaConfig {
            mutation_rate: 1.5,
            ..GaConfig::default()
        });
        match bad.build(5, (-1.0, 1.0)) {
            Err(NeuroError::InvalidField { field, .. }) => assert_eq!(field, "ga.mutation_rate"),
            other => panic!("{other:?}"),
        }
        let json = r#"{"ga": {"population": 10, "mutaton_rate": 0.1}}"#;
        let e = serde_json::from_str::<OptimiserConfig>(json)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mutaton_rate"), "{e}");
        assert!(
            OptimiserKind::Cmaes
                .default_config()
                .build(0, (-1.0, 1.0))
                .is_err()
        );
        assert!(
            OptimiserKind::Cmaes
                .default_config()
                .build(3, (1.0, -1.0))
                .is_err()
        );
    }

    #[test]
    fn immigrants_replace_the_worst_or_random_rows() {
        let mut rng = TaskRng::seed_from_u64(1);
        let fitness = [5.0, 1.0, 3.0, 0.0, 4.0, 2.0];
        assert_eq!(
            replacement_rows(&fitness, 2, ReplacePolicy::Worst, &mut rng),
            [3, 1]
        );
        assert_eq!(
            replacement_rows(&fitness, 9, ReplacePolicy::Worst, &mut rng),
            [3, 1, 5]
        );
        let r = replacement_rows(&fitness, 3, ReplacePolicy::Random, &mut rng);
        assert_eq!(r.len(), 3);
        let mut sorted = r.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 3);
    }
}
