//! Numpy's pairwise summation, used where the official simulator sums with numpy.
//!
//! `np.sum` and `np.mean` over a contiguous axis add blocks of at most 128 values with 8
//! interleaved partial sums and split longer runs in two halves (the split rounded down to a
//! multiple of 8). Reproducing the order keeps soft-max probabilities and costs bit-identical.

const BLOCK: usize = 128;

macro_rules! pairwise {
    ($name:ident, $t:ty) => {
        /// Numpy's pairwise sum of a contiguous slice, in the element type (as `np.sum` does it).
        pub fn $name(values: &[$t]) -> $t {
            let n = values.len();
            if n < 8 {
                let mut res: $t = 0.0;
                for &v in values {
                    res += v;
                }
                res
            } else if n <= BLOCK {
                let mut r: [$t; 8] = [0.0; 8];
                r.copy_from_slice(&values[..8]);
                let mut i = 8;
                while i < n - (n % 8) {
                    for j in 0..8 {
                        r[j] += values[i + j];
                    }
                    i += 8;
                }
                let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
                while i < n {
                    res += values[i];
                    i += 1;
                }
                res
            } else {
                let mut half = n / 2;
                half -= half % 8;
                $name(&values[..half]) + $name(&values[half..])
            }
        }
    };
}

pairwise!(pairwise_sum_f32, f32);
pairwise!(pairwise_sum_f64, f64);

/// Numpy's `np.mean` of a float64 slice: pairwise sum, then one division by the length.
pub fn numpy_mean(values: &[f64]) -> f64 {
    pairwise_sum_f64(values) / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_like_numpy() {
        let v: Vec<f64> = (0..1000).map(|i| 1.0 / f64::from(i + 1)).collect();
        let exact: f64 = v.iter().sum();
        assert!((pairwise_sum_f64(&v) - exact).abs() < 1e-12);
        assert_eq!(pairwise_sum_f32(&[1.0; 7]), 7.0);
        assert_eq!(pairwise_sum_f32(&[1.0; 1024]), 1024.0);
        assert_eq!(numpy_mean(&[1.0, 2.0, 3.0, 6.0]), 3.0);
    }
}
