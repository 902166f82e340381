//! Deterministic per-task seeding.
//!
//! Task `i` of a run with seed `s` always gets the generator [`task_rng`]`(s, i)`, whichever
//! mode, worker or retry runs it. That, together with results returned in index order, is what
//! makes every run's output bit-identical for any worker count.

use rand::SeedableRng;

/// The random generator each task receives: xoshiro256++ (Blackman and Vigna, 2018), small,
/// fast and statistically strong, seeded from `(run seed, task index)`.
pub type TaskRng = rand_xoshiro::Xoshiro256PlusPlus;

/// SplitMix64 finaliser (Steele, Lea and Flood, 2014): a bijection on `u64` with good avalanche.
#[inline]
pub const fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 64-bit seed of task `index` in a run seeded with `run_seed`.
///
/// For a fixed `run_seed` it is injective in `index` (a XOR of a constant with a bijection),
/// so no two tasks of one run share a seed.
#[inline]
pub const fn task_seed(run_seed: u64, index: u64) -> u64 {
    splitmix64(run_seed) ^ splitmix64(index ^ 0xD1B5_4A32_D192_ED03)
}

/// The generator of task `index` in a run seeded with `run_seed`.
///
/// ```
/// use rand::Rng;
/// let a: u64 = par_core::seed::task_rng(7, 3).random();
/// let b: u64 = par_core::seed::task_rng(7, 3).random();
/// assert_eq!(a, b);
/// ```
pub fn task_rng(run_seed: u64, index: usize) -> TaskRng {
    TaskRng::seed_from_u64(task_seed(run_seed, index as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use std::collections::HashSet;

    #[test]
    fn seeds_differ_across_tasks_and_runs() {
        let seeds: HashSet<u64> = (0..10_000).map(|i| task_seed(42, i)).collect();
        assert_eq!(seeds.len(), 10_000);
        assert_ne!(task_seed(1, 0), task_seed(2, 0));
    }

    #[test]
    fn streams_are_reproducible() {
        let a: Vec<u32> = (0..8)
            .map(|_| 0)
            .scan(task_rng(9, 5), |r, _: u32| Some(r.random()))
            .collect();
        let b: Vec<u32> = (0..8)
            .map(|_| 0)
            .scan(task_rng(9, 5), |r, _: u32| Some(r.random()))
            .collect();
        assert_eq!(a, b);
    }
}
