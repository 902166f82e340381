//! Tridiagonal and cyclic tridiagonal solves (Thomas algorithm, Sherman-Morrison for the
//! periodic corners) on caller-provided scratch: no allocation per solve.
//!
//! Row `i` of the matrix is `lower[i] x[i-1] + diag[i] x[i] + upper[i] x[i+1]`. In the cyclic
//! case `lower[0]` multiplies `x[n-1]` and `upper[n-1]` multiplies `x[0]`; otherwise those two
//! entries are ignored. The systems this crate builds are M-matrices, strictly diagonally
//! dominant by rows (HJB) or by columns (Fokker-Planck, the transpose), for which the Thomas
//! algorithm without pivoting is stable.

/// Reusable scratch for [`solve`] and [`solve_cyclic`] on systems of size `n`.
#[derive(Debug, Clone)]
pub struct Scratch {
    cp: Vec<f64>,
    diag: Vec<f64>,
    z: Vec<f64>,
}

impl Scratch {
    /// Scratch for systems of size `n`.
    pub fn new(n: usize) -> Self {
        Self {
            cp: vec![0.0; n],
            diag: vec![0.0; n],
            z: vec![0.0; n],
        }
    }
}

/// Solves the (non-cyclic) tridiagonal system; `rhs` is overwritten by the solution.
pub fn solve(lower: &[f64], diag: &[f64], upper: &[f64], rhs: &mut [f64], scratch: &mut Scratch) {
    thomas(lower, diag, upper, rhs, &mut scratch.cp);
}

fn thomas(lower: &[f64], diag: &[f64], upper: &[f64], d: &mut [f64], cp: &mut [f64]) {
    let n = d.len();
    debug_assert!(lower.len() == n && diag.len() == n && upper.len() == n && cp.len() >= n);
    let mut w = diag[0];
    cp[0] = upper[0] / w;
    d[0] /= w;
    for i in 1..n {
        w = diag[i] - lower[i] * cp[i - 1];
        cp[i] = upper[i] / w;
        d[i] = (d[i] - lower[i] * d[i - 1]) / w;
    }
    for i in (0..n - 1).rev() {
        d[i] -= cp[i] * d[i + 1];
    }
}

/// Solves the cyclic tridiagonal system (corners `lower[0]`, `upper[n-1]`) by the
/// Sherman-Morrison formula; `rhs` is overwritten by the solution.
pub fn solve_cyclic(
    lower: &[f64],
    diag: &[f64],
    upper: &[f64],
    rhs: &mut [f64],
    scratch: &mut Scratch,
) {
    let n = rhs.len();
    let alpha = upper[n - 1]; // row n-1, column 0
    let beta = lower[0]; // row 0, column n-1
    let gamma = -diag[0];
    let Scratch { cp, diag: bb, z } = scratch;
    bb[..n].copy_from_slice(diag);
    bb[0] = diag[0] - gamma;
    bb[n - 1] = diag[n - 1] - alpha * beta / gamma;
    thomas(lower, &bb[..n], upper, rhs, cp);
    z[..n].fill(0.0);
    z[0] = gamma;
    z[n - 1] = alpha;
    thomas(lower, &bb[..n], upper, &mut z[..n], cp);
    let fact = (rhs[0] + beta * rhs[n - 1] / gamma) / (1.0 + z[0] + beta * z[n - 1] / gamma);
    for (r, zi) in rhs.iter_mut().zip(z.iter()) {
        *r -= fact * zi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matvec(l: &[f64], d: &[f64], u: &[f64], x: &[f64], cyclic: bool) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|i| {
                let mut s = d[i] * x[i];
                if i > 0 {
                    s += l[i] * x[i - 1];
                } else if cyclic {
                    s += l[0] * x[n - 1];
                }
                if i + 1 < n {
                    s += u[i] * x[i + 1];
                } else if cyclic {
                    s += u[n - 1] * x[0];
                }
                s
            })
            .collect()
    }

    #[test]
    fn thomas_and_cyclic_invert_diagonally_dominant_systems() {
        let n = 7;
        let l: Vec<f64> = (0..n).map(|i| -1.0 - 0.1 * i as f64).collect();
        let u: Vec<f64> = (0..n).map(|i| -0.5 + 0.05 * i as f64).collect();
        let d: Vec<f64> = (0..n).map(|i| 3.0 + 0.2 * i as f64).collect();
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() + 0.3).collect();
        let mut s = Scratch::new(n);
        for cyclic in [false, true] {
            let mut b = matvec(&l, &d, &u, &x, cyclic);
            if cyclic {
                solve_cyclic(&l, &d, &u, &mut b, &mut s);
            } else {
                solve(&l, &d, &u, &mut b, &mut s);
            }
            for (xi, bi) in x.iter().zip(&b) {
                assert!((xi - bi).abs() < 1e-13, "cyclic={cyclic}: {xi} vs {bi}");
            }
        }
    }
}
