//! CoSyNE, cooperative synapse neuroevolution (Gomez, Schmidhuber and Miikkulainen, "Accelerated
//! neural evolution through cooperatively coevolved synapses", JMLR 9, 2008).
//!
//! The population is an `m x n` matrix: column `j` is the subpopulation of weight `j`, row `i`
//! the network made of the `i`-th entry of every subpopulation. Each generation:
//!
//! 1. the rows are ranked by fitness;
//! 2. `offspring` children are bred from the best `elite_fraction` of the rows (two parents
//!    drawn uniformly, one-point crossover, then each gene mutated with probability
//!    `mutation_rate` by Cauchy noise of scale `mutation_scale`) and replace the worst rows;
//! 3. in every column, each surviving entry is marked with probability
//!    `1 - ((f_i - f_min) / (f_max - f_min))^(1/n)` (the probabilistic marking of the paper;
//!    the best row is never marked) and the marked entries are permuted among themselves, so
//!    that weights that did well are tried in new combinations.
//!
//! Only rows that changed are evaluated again (tasks are deterministic), so the count of
//! evaluations is the count of new networks.

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{
    AskTell, MAX_POPULATION, Migrant, ReplacePolicy, check_fitness, ranking, replace_rows,
    uniform_genomes,
};
use crate::NeuroError;
use crate::error::{count_in, in_range};
use par_core::TaskRng;

/// Settings of CoSyNE. Missing fields take the defaults shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CosyneConfig {
    /// Rows of the population (networks per generation). Default: 40.
    pub population: usize,
    /// Share of the rows that breed. Default: 0.25.
    pub elite_fraction: f64,
    /// Children per generation (they replace the worst rows). Default: 10.
    pub offspring: usize,
    /// Probability that a child's gene is mutated. Default: 0.3.
    pub mutation_rate: f64,
    /// Scale of the Cauchy mutation. Default: 0.3.
    pub mutation_scale: f64,
}

impl Default for CosyneConfig {
    fn default() -> Self {
        Self {
            population: 40,
            elite_fraction: 0.25,
            offspring: 10,
            mutation_rate: 0.3,
            mutation_scale: 0.3,
        }
    }
}

impl CosyneConfig {
    /// Checks every field, naming the first bad one (`cosyne.<field>`).
    pub fn validate(&self) -> Result<(), NeuroError> {
        count_in("cosyne.population", self.population, 4, MAX_POPULATION)?;
        in_range("cosyne.elite_fraction", self.elite_fraction, 1e-9, 1.0)?;
        count_in("cosyne.offspring", self.offspring, 1, self.population - 1)?;
        in_range("cosyne.mutation_rate", self.mutation_rate, 0.0, 1.0)?;
        in_range("cosyne.mutation_scale", self.mutation_scale, 0.0, 1e12)?;
        Ok(())
    }
}

/// CoSyNE's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cosyne {
    config: CosyneConfig,
    dim: usize,
    init_range: (f64, f64),
    /// Rows (networks), row-major.
    genomes: Vec<f64>,
    /// Fitness of each row (NaN: not yet evaluated).
    fitness: Vec<f64>,
    /// Rows of the pending batch.
    pending_rows: Vec<usize>,
    /// Their genomes, row-major.
    pending: Vec<f64>,
}

impl Cosyne {
    /// CoSyNE for genomes of length `dim`, initial genes uniform in `init_range`.
    pub fn new(
        config: CosyneConfig,
        dim: usize,
        init_range: (f64, f64),
    ) -> Result<Self, NeuroError> {
        config.validate()?;
        Ok(Self {
            config,
            dim,
            init_range,
            genomes: Vec::new(),
            fitness: Vec::new(),
            pending_rows: Vec::new(),
            pending: Vec::new(),
        })
    }

    /// Breeds and permutes; rows whose genes changed get NaN fitness.
    fn next_generation(&mut self, rng: &mut TaskRng) {
        let (m, n) = (self.config.population, self.dim);
        let order = ranking(&self.fitness);
        let top = ((self.config.elite_fraction * m as f64).ceil() as usize).clamp(1, m);
        let l = self.config.offspring;
        // 2. Offspring replace the worst rows.
        let mut children = Vec::with_capacity(l * n);
        while children.len() < l * n {
            let a = order[rng.random_range(0..top)];
            let b = order[rng.random_range(0..top)];
            let cut = rng.random_range(0..=n);
            let pa = &self.genomes[a * n..(a + 1) * n];
            let pb = &self.genomes[b * n..(b + 1) * n];
            for (first, second) in [(pa, pb), (pb, pa)] {
                if children.len() >= l * n {
                    break;
                }
                for j in 0..n {
                    let mut g = if j < cut { first[j] } else { second[j] };
                    if rng.random::<f64>() < self.config.mutation_rate {
                        // Cauchy(0, scale) by inversion.
                        let u: f64 = rng.random();
                        g += self.config.mutation_scale * (std::f64::consts::PI * (u - 0.5)).tan();
                    }
                    children.push(g);
                }
            }
        }
        let replaced = &order[m - l..];
        for (k, &row) in replaced.iter().enumerate() {
            self.genomes[row * n..(row + 1) * n].copy_from_slice(&children[k * n..(k + 1) * n]);
            self.fitness[row] = f64::NAN;
        }
        // 3. Probabilistic permutation of the surviving entries, column by column.
        let survivors: Vec<usize> = order[..m - l].to_vec();
        let fmax = self.fitness[order[0]];
        let fmin = survivors
            .iter()
            .map(|&r| self.fitness[r])
            .fold(f64::INFINITY, f64::min);
        let prob: Vec<f64> = survivors
            .iter()
            .map(|&r| {
                if fmax > fmin {
                    1.0 - ((self.fitness[r] - fmin) / (fmax - fmin)).powf(1.0 / n as f64)
                } else {
                    1.0
                }
            })
            .collect();
        let mut changed = vec![false; m];
        let mut marked = Vec::with_capacity(survivors.len());
        for j in 0..n {
            marked.clear();
            for (s, &r) in survivors.iter().enumerate() {
                if rng.random::<f64>() < prob[s] {
                    marked.push(r);
                }
            }
            if marked.len() < 2 {
                continue;
            }
            let values: Vec<f64> = marked.iter().map(|&r| self.genomes[r * n + j]).collect();
            let mut perm = marked.clone();
            perm.shuffle(rng);
            for (&r, v) in perm.iter().zip(values) {
                if self.genomes[r * n + j] != v {
                    self.genomes[r * n + j] = v;
                    changed[r] = true;
                }
            }
        }
        for (r, c) in changed.into_iter().enumerate() {
            if c {
                self.fitness[r] = f64::NAN;
            }
        }
    }
}

impl AskTell for Cosyne {
    fn dim(&self) -> usize {
        self.dim
    }

    fn ask(&mut self, rng: &mut TaskRng) -> &[f64] {
        if self.pending_rows.is_empty() {
            if self.fitness.is_empty() {
                self.genomes =
                    uniform_genomes(self.config.population, self.dim, self.init_range, rng);
                self.fitness = vec![f64::NAN; self.config.population];
            } else {
                self.next_generation(rng);
            }
            let n = self.dim;
            self.pending_rows = (0..self.config.population)
                .filter(|&r| self.fitness[r].is_nan())
                .collect();
            self.pending = self
                .pending_rows
                .iter()
                .flat_map(|&r| self.genomes[r * n..(r + 1) * n].iter().copied())
                .collect();
        }
        &self.pending
    }

    fn tell(&mut self, fitness: &[f64], _rng: &mut TaskRng) -> Result<(), NeuroError> {
        check_fitness(fitness, self.pending_rows.len())?;
        for (&r, &f) in self.pending_rows.iter().zip(fitness) {
            self.fitness[r] = f;
        }
        self.pending_rows.clear();
        self.pending.clear();
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

    #[test]
    fn solves_a_sphere_and_reevaluates_only_changed_rows() {
        let mut o = Cosyne::new(CosyneConfig::default(), 6, (-3.0, 3.0)).unwrap();
        let mut rng = TaskRng::seed_from_u64(5);
        let mut asked = Vec::new();
        for _ in 0..150 {
            let batch = o.ask(&mut rng).to_vec();
            asked.push(batch.len() / 6);
            let fit: Vec<f64> = batch
                .chunks(6)
                .map(|g| -g.iter().map(|x| x * x).sum::<f64>())
                .collect();
            o.tell(&fit, &mut rng).unwrap();
        }
        assert_eq!(asked[0], 40);
        assert!(
            asked[1..].iter().all(|&k| (10..=40).contains(&k)),
            "{asked:?}"
        );
        assert!(
            asked[1..].iter().any(|&k| k < 40),
            "the best row is never re-evaluated"
        );
        let best = o
            .population()
            .1
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(best > -0.01, "best {best}");
    }
}
