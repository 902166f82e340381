//! The classic 32-bit Mersenne Twister MT19937 with numpy's legacy `RandomState` semantics.
//!
//! The official tinyphysics simulator draws its samples from numpy's legacy global generator:
//! `np.random.seed(s)` followed by one `np.random.choice(1024, p=probs)` per step. This module
//! reproduces that stream bit for bit: the integer seeding of `init_genrand`, the tempered outputs,
//! `random_sample` (53-bit doubles from two 32-bit outputs) and `choice` with probabilities
//! (float64 running sum normalised by its last entry, then a right-sided binary search).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// Numpy's legacy MT19937 generator (`numpy.random.RandomState`).
///
/// ```
/// let mut rng = mpc::mt19937::Mt19937::new(5489);
/// assert_eq!(rng.next_u32(), 3_499_211_612); // first output of std::mt19937 with its default seed
/// ```
#[derive(Clone)]
pub struct Mt19937 {
    state: [u32; N],
    index: usize,
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mt19937")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// Why [`Mt19937::choice`] refused a probability vector (numpy raises `ValueError` in these cases).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChoiceError {
    /// The vector was empty.
    Empty,
    /// An entry was negative or not a number.
    Negative {
        /// Index of the offending entry.
        index: usize,
    },
    /// The entries do not sum to 1 within `sqrt(float32 epsilon)`.
    NotNormalised {
        /// The compensated sum of the entries.
        sum: f64,
    },
}

impl Mt19937 {
    /// A generator seeded like `np.random.seed(seed)` (Matsumoto and Nishimura's `init_genrand`).
    pub fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, index: N }
    }

    fn regenerate(&mut self) {
        for i in 0..N {
            let y = (self.state[i] & UPPER_MASK) | (self.state[(i + 1) % N] & LOWER_MASK);
            let mut next = self.state[(i + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                next ^= MATRIX_A;
            }
            self.state[i] = next;
        }
        self.index = 0;
    }

    /// The next tempered 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.regenerate();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A uniform double in `[0, 1)` with 53 random bits, like numpy's `random_sample`: two
    /// outputs `a`, `b` give `((a >> 5) * 2^26 + (b >> 6)) / 2^53`.
    pub fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `np.random.choice(len(probs), p=probs)` for float32 probabilities: the index drawn, and the
    /// uniform double that decided it.
    ///
    /// The probabilities are widened to float64, checked like numpy does (non-negative, compensated
    /// sum within `sqrt(f32::EPSILON)` of 1), summed left to right, normalised by the last running
    /// sum, and the result is the number of normalised running sums that are `<= u`. Exactly one
    /// uniform draw is consumed when the checks pass, none otherwise.
    pub fn choice(&mut self, probs: &[f32]) -> Result<(usize, f64), ChoiceError> {
        if probs.is_empty() {
            return Err(ChoiceError::Empty);
        }
        if let Some(index) = probs.iter().position(|&p| p.is_nan() || p < 0.0) {
            return Err(ChoiceError::Negative { index });
        }
        let sum = kahan_sum(probs);
        let tolerance = f64::from(f32::EPSILON).sqrt().max(f64::EPSILON.sqrt());
        if (sum - 1.0).abs() > tolerance {
            return Err(ChoiceError::NotNormalised { sum });
        }
        let mut cdf = Vec::with_capacity(probs.len());
        let mut running = 0.0f64;
        for &p in probs {
            running += f64::from(p);
            cdf.push(running);
        }
        let last = running;
        for c in &mut cdf {
            *c /= last;
        }
        let u = self.random_sample();
        let index = cdf.partition_point(|&c| c <= u);
        Ok((index, u))
    }
}

/// Numpy's `kahan_sum` over float64-widened entries (used only for the normalisation check).
fn kahan_sum(values: &[f32]) -> f64 {
    let mut sum = f64::from(values[0]);
    let mut compensation = 0.0f64;
    for &v in &values[1..] {
        let y = f64::from(v) - compensation;
        let t = sum + y;
        compensation = (t - sum) - y;
        sum = t;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_mt19937() {
        // The 10000th output of std::mt19937 with the default seed 5489 is 4123659995 (C++11 [rand.predef]).
        let mut rng = Mt19937::new(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = rng.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn random_sample_matches_numpy() {
        // np.random.seed(0); np.random.random_sample() == 0.5488135039273248
        let mut rng = Mt19937::new(0);
        assert_eq!(rng.random_sample(), 0.548_813_503_927_324_8);
        assert_eq!(rng.random_sample(), 0.715_189_366_372_419_5);
    }

    #[test]
    fn choice_rules() {
        let mut rng = Mt19937::new(0);
        // u = 0.5488...: cumulative [0.25, 0.5, 0.75, 1.0] -> two entries <= u.
        assert_eq!(rng.choice(&[0.25, 0.25, 0.25, 0.25]).unwrap().0, 2);
        assert_eq!(rng.choice(&[]), Err(ChoiceError::Empty));
        assert_eq!(
            rng.choice(&[-0.5, 1.5]),
            Err(ChoiceError::Negative { index: 0 })
        );
        assert!(matches!(
            rng.choice(&[0.5, 0.4]),
            Err(ChoiceError::NotNormalised { .. })
        ));
        // Zero-probability entries are never chosen.
        for _ in 0..100 {
            assert_eq!(rng.choice(&[0.0, 1.0, 0.0]).unwrap().0, 1);
        }
    }
}
