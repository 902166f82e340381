//! The lateral-acceleration tokenizer: 1024 bins over [-5, 5] (numpy's `linspace(-5, 5, 1024)`).

/// Number of tokens (bins).
pub const VOCAB_SIZE: usize = 1024;
/// Smallest lateral acceleration the tokenizer represents, m/s^2.
pub const LATACCEL_MIN: f64 = -5.0;
/// Largest lateral acceleration the tokenizer represents, m/s^2.
pub const LATACCEL_MAX: f64 = 5.0;

/// Maps lateral accelerations to tokens and back, exactly like the official simulator.
///
/// Bin `i` is `-5 + i * s` with `s = 10 / 1023` (each operation rounded to double) and bin 1023 is
/// exactly 5. Encoding clips to [-5, 5] and takes the smallest bin that is greater than or equal to
/// the value (`np.digitize(x, bins, right=True)`): a ceiling onto the grid, not a rounding.
///
/// ```
/// let tok = mpc::tokenizer::Tokenizer::new();
/// assert_eq!(tok.encode(0.0), 512);
/// assert_eq!(tok.encode(-7.0), 0);
/// assert_eq!(tok.decode(1023), 5.0);
/// ```
#[derive(Debug, Clone)]
pub struct Tokenizer {
    bins: Vec<f64>,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Tokenizer {
    /// The tokenizer of the official simulator.
    pub fn new() -> Self {
        let step = (LATACCEL_MAX - LATACCEL_MIN) / (VOCAB_SIZE - 1) as f64;
        let mut bins: Vec<f64> = (0..VOCAB_SIZE)
            .map(|i| i as f64 * step + LATACCEL_MIN)
            .collect();
        bins[VOCAB_SIZE - 1] = LATACCEL_MAX;
        Self { bins }
    }

    /// The bin values, token order.
    pub fn bins(&self) -> &[f64] {
        &self.bins
    }

    /// The token of a lateral acceleration (clipped to [-5, 5], then the ceiling bin).
    pub fn encode(&self, value: f64) -> usize {
        let clipped = value.clamp(LATACCEL_MIN, LATACCEL_MAX);
        self.bins.partition_point(|&b| b < clipped)
    }

    /// The bin value of a token.
    ///
    /// # Panics
    /// When `token >= VOCAB_SIZE`.
    pub fn decode(&self, token: usize) -> f64 {
        self.bins[token]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_and_encoding() {
        let t = Tokenizer::new();
        assert_eq!(t.decode(0), -5.0);
        assert_eq!(t.decode(1023), 5.0);
        assert_eq!(t.encode(0.0), 512);
        assert!((t.decode(512) - 0.004_887_585_532_746_823).abs() < 1e-15);
        assert_eq!(t.encode(-5.0), 0);
        assert_eq!(t.encode(5.0), 1023);
        assert_eq!(t.encode(f64::INFINITY), 1023);
        for i in 0..VOCAB_SIZE {
            assert_eq!(t.encode(t.decode(i)), i, "a bin value encodes to itself");
        }
    }
}
