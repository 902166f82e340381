//! Scrambled Sobol points and the inverse normal distribution function, written here to keep the
//! dependency tree lean.
//!
//! * **Direction numbers**: the first 128 dimensions of Joe and Kuo's `new-joe-kuo-6.21201`
//!   table (S. Joe, F. Y. Kuo, *Constructing Sobol sequences with better two-dimensional
//!   projections*, SIAM J. Sci. Comput. 30(5) (2008) 2635-2654, doi:10.1137/070709359), with
//!   the Bratley-Fox recurrence; dimension 0 is the van der Corput sequence. 32-bit points in
//!   natural (not Gray-code) order, so a prefix of `2^m` points is a digital net.
//! * **Randomisation**: Matousek's random *linear matrix scrambling* (a random lower-triangular
//!   binary matrix with unit diagonal applied to every generator matrix) followed by a random
//!   *digital shift* (J. Matousek, *On the L2-discrepancy for anchored boxes*, J. Complexity
//!   14(4) (1998) 527-556, doi:10.1006/jcom.1998.0489). This is **not** Owen's full nested
//!   uniform scrambling. Each randomised point is uniform on the `2^-32` grid, so estimators are
//!   unbiased, and the net structure (one point per elementary interval) is preserved.
//! * **Inverse normal**: Wichura's algorithm AS 241 (PPND16), relative accuracy about 1e-16
//!   (M. J. Wichura, Applied Statistics 37(3) (1988) 477-484, doi:10.2307/2347330).

use std::sync::OnceLock;

use rand::Rng;

use crate::error::MfgError;

/// Dimensions 2..=128 of Joe and Kuo's `new-joe-kuo-6.21201`, one `|`-separated record
/// `s a m_1 ... m_s` per dimension (degree, polynomial coefficients, initial direction numbers).
const TABLE: &str = include_str!("sobol_joe_kuo.txt");

/// Number of dimensions the embedded direction-number table supports.
pub const MAX_DIMENSIONS: usize = 128;

fn directions() -> &'static Vec<[u32; 32]> {
    static DIRS: OnceLock<Vec<[u32; 32]>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let mut all = Vec::with_capacity(MAX_DIMENSIONS);
        let mut first = [0u32; 32];
        for (j, v) in first.iter_mut().enumerate() {
            *v = 1u32 << (31 - j);
        }
        all.push(first);
        for row in TABLE.trim().split('|') {
            let nums: Vec<u32> = row
                .split_whitespace()
                .map(|t| t.parse().expect("table"))
                .collect();
            let (s, a, m) = (nums[0] as usize, nums[1], &nums[2..]);
            let mut v = [0u32; 32];
            for j in 0..32 {
                if j < s {
                    v[j] = m[j] << (31 - j);
                } else {
                    let mut x = v[j - s] ^ (v[j - s] >> s);
                    for k in 1..s {
                        if (a >> (s - 1 - k)) & 1 == 1 {
                            x ^= v[j - k];
                        }
                    }
                    v[j] = x;
                }
            }
            all.push(v);
        }
        debug_assert_eq!(all.len(), MAX_DIMENSIONS);
        all
    })
}

/// A randomised (or plain) Sobol point set in `dim` dimensions.
#[derive(Debug, Clone)]
pub struct Sobol {
    dirs: Vec<[u32; 32]>,
    shift: Vec<u32>,
}

impl Sobol {
    /// The unscrambled sequence (first point is the origin).
    pub fn new(dim: usize) -> Result<Self, MfgError> {
        if dim == 0 || dim > MAX_DIMENSIONS {
            return Err(MfgError::SobolDimension {
                needed: dim,
                available: MAX_DIMENSIONS,
            });
        }
        Ok(Self {
            dirs: directions()[..dim].to_vec(),
            shift: vec![0; dim],
        })
    }

    /// The sequence randomised by linear matrix scrambling and a digital shift drawn from `rng`.
    pub fn scrambled(dim: usize, rng: &mut impl Rng) -> Result<Self, MfgError> {
        let mut s = Self::new(dim)?;
        for (d, v) in s.dirs.iter_mut().enumerate() {
            // Row r (output digit r, bit 31 - r) of the lower-triangular matrix: the diagonal bit
            // plus random bits for the earlier (more significant) digits.
            let mut rows = [0u32; 32];
            for (r, row) in rows.iter_mut().enumerate() {
                let diag = 1u32 << (31 - r);
                let above = if r == 0 {
                    0
                } else {
                    !((diag << 1).wrapping_sub(1))
                };
                *row = diag | (rng.random::<u32>() & above);
            }
            for col in v.iter_mut() {
                let mut out = 0u32;
                for (r, row) in rows.iter().enumerate() {
                    if (row & *col).count_ones() & 1 == 1 {
                        out |= 1u32 << (31 - r);
                    }
                }
                *col = out;
            }
            s.shift[d] = rng.random::<u32>();
        }
        Ok(s)
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.dirs.len()
    }

    /// Writes point `index` into `out` (`out.len() == dim`), each coordinate
    /// `(x + 1/2) / 2^32` for the 32-bit digital value `x`, so strictly inside `(0, 1)`.
    pub fn point(&self, index: u32, out: &mut [f64]) {
        for ((o, v), s) in out.iter_mut().zip(&self.dirs).zip(&self.shift) {
            let mut x = *s;
            let mut i = index;
            let mut j = 0;
            while i != 0 {
                if i & 1 == 1 {
                    x ^= v[j];
                }
                i >>= 1;
                j += 1;
            }
            *o = (f64::from(x) + 0.5) / 4_294_967_296.0;
        }
    }
}

/// The standard normal quantile `Phi^-1(p)` for `0 < p < 1` (Wichura's AS 241); `-inf`/`+inf`
/// at 0/1 and NaN outside `[0, 1]`.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -z } else { z }
}

fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, k| acc * x + k)
}

#[allow(clippy::excessive_precision)] // Wichura's published digits, kept for transcription checks.
const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
#[allow(clippy::excessive_precision)] // Wichura's published digits, kept for transcription checks.
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
#[allow(clippy::excessive_precision)] // Wichura's published digits, kept for transcription checks.
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
#[allow(clippy::excessive_precision)] // Wichura's published digits, kept for transcription checks.
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
#[allow(clippy::excessive_precision)] // Wichura's published digits, kept for transcription checks.
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
#[allow(clippy::excessive_precision)] // Wichura's published digits, kept for transcription checks.
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_normal_matches_known_quantiles() {
        let cases = [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.025, -1.959_963_984_540_054),
            (0.841_344_746_068_542_9, 1.0),
            (1e-10, -6.361_340_902_404_056),
        ];
        for (p, z) in cases {
            let got = inverse_normal_cdf(p);
            assert!(
                (got - z).abs() <= 1e-9 * (1.0 + z.abs()),
                "p={p}: {got} vs {z}"
            );
        }
    }

    #[test]
    fn first_points_are_the_known_sobol_points() {
        let s = Sobol::new(3).unwrap();
        let mut x = [0.0; 3];
        let half = 0.5 / 4_294_967_296.0;
        s.point(1, &mut x);
        assert_eq!(x, [0.5 + half; 3]);
        s.point(2, &mut x);
        assert_eq!(x, [0.25 + half, 0.75 + half, 0.75 + half]);
        s.point(3, &mut x);
        assert_eq!(x, [0.75 + half, 0.25 + half, 0.25 + half]);
    }

    #[test]
    fn scrambled_prefixes_keep_the_net_property() {
        let mut rng = par_core::seed::task_rng(7, 0);
        let s = Sobol::scrambled(MAX_DIMENSIONS, &mut rng).unwrap();
        let m = 8;
        let n = 1usize << m;
        let mut pts = vec![vec![0.0; MAX_DIMENSIONS]; n];
        for (i, p) in pts.iter_mut().enumerate() {
            s.point(i as u32, p);
        }
        // Every one-dimensional projection is a (0, m, 1)-net: one point per interval of 2^-m.
        for d in 0..MAX_DIMENSIONS {
            let mut seen = vec![false; n];
            for p in &pts {
                let cell = (p[d] * n as f64) as usize;
                assert!(!seen[cell], "dimension {d}: two points in cell {cell}");
                seen[cell] = true;
            }
        }
        // Dimensions 0 and 1 form a (0, m, 2)-net: one point per 2^-a x 2^-(m-a) box.
        for a in 0..=m {
            let (na, nb) = (1usize << a, 1usize << (m - a));
            let mut seen = vec![false; n];
            for p in &pts {
                let cell = (p[0] * na as f64) as usize * nb + (p[1] * nb as f64) as usize;
                assert!(!seen[cell], "boxes 2^-{a} x 2^-{}", m - a);
                seen[cell] = true;
            }
        }
    }

    #[test]
    fn too_many_dimensions_is_a_typed_error() {
        assert!(matches!(
            Sobol::new(MAX_DIMENSIONS + 1),
            Err(MfgError::SobolDimension { .. })
        ));
    }
}
