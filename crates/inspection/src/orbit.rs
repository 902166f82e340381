//! Relative orbital motion in quasi-nonsingular relative orbital elements (ROE).
//!
//! The chief (the inspected target) flies a circular orbit of radius `a` and mean motion
//! `n = sqrt(mu / a^3)`. The deputy (the inspector) is described by the dimensionless ROE of
//! D'Amico ("Autonomous formation flying in low Earth orbit", PhD thesis, TU Delft, 2010, ch. 2;
//! D'Amico and Montenbruck, "Proximity operations of formation-flying spacecraft using an
//! eccentricity/inclination vector separation", JGCD 29(3), 2006, doi:10.2514/1.15114):
//!
//! ```text
//! da   = (a_d - a_c) / a_c                      relative semi-major axis
//! dlam = (u_d - u_c) + (Om_d - Om_c) cos i_c     relative mean longitude
//! dex  = e_x,d - e_x,c,  dey = e_y,d - e_y,c     relative eccentricity vector (e cos w, e sin w)
//! dix  = i_d - i_c,      diy = (Om_d - Om_c) sin i_c   relative inclination vector
//! ```
//!
//! For a near-circular chief and separations small against `a`, the deputy's position in the
//! chief's RTN frame (R radial, T along-track, N orbit normal) at argument of latitude `u` is
//! linear in the ROE (D'Amico 2010, eq. 2.28, the Hill-Clohessy-Wiltshire solution in other
//! coordinates):
//!
//! ```text
//! r_R / a = da - dex cos u - dey sin u
//! r_T / a = dlam + 2 dex sin u - 2 dey cos u
//! r_N / a = dix sin u - diy cos u
//! ```
//!
//! Without perturbations only `dlam` changes, `d(dlam)/dt = -3/2 n da` (Keplerian drift; J2 and
//! drag are not modelled). An impulsive manoeuvre `dv = (dv_R, dv_T, dv_N)` at `u` changes the
//! ROE by the Gauss variational equations for near-circular orbits (D'Amico 2010, eq. 2.38):
//!
//! ```text
//! a n D(da)   = 2 dv_T
//! a n D(dlam) = -2 dv_R
//! a n D(dex)  = sin u dv_R + 2 cos u dv_T
//! a n D(dey)  = -cos u dv_R + 2 sin u dv_T
//! a n D(dix)  = cos u dv_N
//! a n D(diy)  = sin u dv_N
//! ```
//!
//! which leaves the position unchanged and changes the RTN velocity by exactly `dv` (checked
//! in the tests, along with the Clohessy-Wiltshire solution).

use serde::{Deserialize, Serialize};

use crate::error::InspectionError;
use crate::voxel_sensor::Vec3;

/// Earth's gravitational parameter (m^3 / s^2), EGM2008.
pub const MU_EARTH: f64 = 3.986_004_418e14;

/// Earth's equatorial radius (m), WGS-84.
pub const R_EARTH: f64 = 6_378_137.0;

/// The chief's circular orbit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiefOrbit {
    /// Semi-major axis (m).
    pub a: f64,
    /// Mean motion (rad / s).
    pub n: f64,
}

impl ChiefOrbit {
    /// A circular orbit at `altitude_m` above the equatorial radius.
    pub fn from_altitude(altitude_m: f64) -> Result<Self, InspectionError> {
        if !(altitude_m.is_finite() && altitude_m > 0.0 && altitude_m < 1e9) {
            return Err(InspectionError::Config {
                field: "altitude_km",
                reason: format!("must be finite and in (0, 1e6) km, got {} m", altitude_m),
            });
        }
        let a = R_EARTH + altitude_m;
        Ok(Self {
            a,
            n: (MU_EARTH / (a * a * a)).sqrt(),
        })
    }

    /// Orbital period (s).
    pub fn period(&self) -> f64 {
        std::f64::consts::TAU / self.n
    }
}

/// Quasi-nonsingular relative orbital elements, dimensionless (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Roe {
    /// Relative semi-major axis.
    pub da: f64,
    /// Relative mean longitude (rad).
    pub dlambda: f64,
    /// Relative eccentricity vector, x component.
    pub dex: f64,
    /// Relative eccentricity vector, y component.
    pub dey: f64,
    /// Relative inclination vector, x component (rad).
    pub dix: f64,
    /// Relative inclination vector, y component (rad).
    pub diy: f64,
}

impl Roe {
    /// The ROE from their values scaled by the chief's semi-major axis, in metres,
    /// `(a da, a dlambda, a dex, a dey, a dix, a diy)`.
    pub fn from_metres(m: [f64; 6], chief: &ChiefOrbit) -> Self {
        let k = 1.0 / chief.a;
        Self {
            da: m[0] * k,
            dlambda: m[1] * k,
            dex: m[2] * k,
            dey: m[3] * k,
            dix: m[4] * k,
            diy: m[5] * k,
        }
    }

    /// The ROE scaled by the chief's semi-major axis (m), in the order of
    /// [`Roe::from_metres`].
    pub fn to_metres(&self, chief: &ChiefOrbit) -> [f64; 6] {
        let a = chief.a;
        [
            a * self.da,
            a * self.dlambda,
            a * self.dex,
            a * self.dey,
            a * self.dix,
            a * self.diy,
        ]
    }

    /// RTN position (m) at argument of latitude `u` (rad).
    pub fn position(&self, chief: &ChiefOrbit, u: f64) -> Vec3 {
        let (s, c) = u.sin_cos();
        let a = chief.a;
        [
            a * (self.da - self.dex * c - self.dey * s),
            a * (self.dlambda + 2.0 * self.dex * s - 2.0 * self.dey * c),
            a * (self.dix * s - self.diy * c),
        ]
    }

    /// RTN velocity (m/s, time derivative in the rotating frame) at `u`.
    pub fn velocity(&self, chief: &ChiefOrbit, u: f64) -> Vec3 {
        let (s, c) = u.sin_cos();
        let an = chief.a * chief.n;
        [
            an * (self.dex * s - self.dey * c),
            an * (-1.5 * self.da + 2.0 * self.dex * c + 2.0 * self.dey * s),
            an * (self.dix * c + self.diy * s),
        ]
    }

    /// The ROE of the deputy at RTN position `r` (m) and velocity `v` (m/s) at `u`: the inverse
    /// of [`Roe::position`] and [`Roe::velocity`].
    pub fn from_rtn(chief: &ChiefOrbit, u: f64, r: Vec3, v: Vec3) -> Self {
        let (s, c) = u.sin_cos();
        let a = chief.a;
        let an = a * chief.n;
        // r_R/a = da - C, v_T/(a n) = -3/2 da + 2 C, with C = dex cos u + dey sin u and
        // S = dex sin u - dey cos u = v_R/(a n).
        let (rr, wt) = (r[0] / a, v[1] / an);
        let da = 4.0 * rr + 2.0 * wt;
        let cc = 3.0 * rr + 2.0 * wt;
        let ss = v[0] / an;
        let (rn, wn) = (r[2] / a, v[2] / an);
        Self {
            da,
            dlambda: r[1] / a - 2.0 * ss,
            dex: cc * c + ss * s,
            dey: cc * s - ss * c,
            dix: rn * s + wn * c,
            diy: -rn * c + wn * s,
        }
    }

    /// Keplerian propagation by `dt` seconds: only the mean longitude drifts.
    pub fn propagate(&mut self, chief: &ChiefOrbit, dt: f64) {
        self.dlambda -= 1.5 * chief.n * self.da * dt;
    }

    /// Applies an impulsive manoeuvre `dv` (RTN, m/s) at argument of latitude `u` (Gauss
    /// variational equations for near-circular orbits).
    pub fn apply_burn(&mut self, chief: &ChiefOrbit, u: f64, dv: Vec3) {
        let (s, c) = u.sin_cos();
        let k = 1.0 / (chief.a * chief.n);
        let [r, t, nn] = dv;
        self.da += 2.0 * t * k;
        self.dlambda += -2.0 * r * k;
        self.dex += (s * r + 2.0 * c * t) * k;
        self.dey += (-c * r + 2.0 * s * t) * k;
        self.dix += c * nn * k;
        self.diy += s * nn * k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chief() -> ChiefOrbit {
        ChiefOrbit::from_altitude(500e3).unwrap()
    }

    #[test]
    fn chief_at_500_km() {
        let c = chief();
        // a = 6878.137 km, period about 94.6 minutes.
        assert!((c.a - 6_878_137.0).abs() < 1e-6);
        assert!((c.period() / 60.0 - 94.62).abs() < 0.02, "{}", c.period());
        assert!(ChiefOrbit::from_altitude(f64::NAN).is_err());
        assert!(ChiefOrbit::from_altitude(-1.0).is_err());
    }

    /// Clohessy-Wiltshire closed form (x radial, y along-track, z normal).
    fn cw(n: f64, r0: Vec3, v0: Vec3, t: f64) -> Vec3 {
        let (s, c) = (n * t).sin_cos();
        let [x0, y0, z0] = r0;
        let [vx, vy, vz] = v0;
        [
            (4.0 - 3.0 * c) * x0 + s / n * vx + 2.0 / n * (1.0 - c) * vy,
            6.0 * (s - n * t) * x0 + y0 - 2.0 / n * (1.0 - c) * vx
                + (4.0 * s - 3.0 * n * t) / n * vy,
            z0 * c + vz / n * s,
        ]
    }

    #[test]
    fn roe_propagation_matches_clohessy_wiltshire() {
        let c = chief();
        let u0 = 0.7;
        let r0 = [12.0, -80.0, 25.0];
        let v0 = [0.03, -0.02, 0.01];
        let roe0 = Roe::from_rtn(&c, u0, r0, v0);
        // Round trip.
        let back = roe0.position(&c, u0);
        let vback = roe0.velocity(&c, u0);
        for k in 0..3 {
            assert!((back[k] - r0[k]).abs() < 1e-9);
            assert!((vback[k] - v0[k]).abs() < 1e-12);
        }
        for t in [60.0, 120.0, 1000.0, 3000.0, 6000.0] {
            let mut roe = roe0;
            roe.propagate(&c, t);
            let p = roe.position(&c, u0 + c.n * t);
            let q = cw(c.n, r0, v0, t);
            for k in 0..3 {
                assert!(
                    (p[k] - q[k]).abs() < 1e-6,
                    "t {t} axis {k}: {} vs {}",
                    p[k],
                    q[k]
                );
            }
        }
    }

    #[test]
    fn pure_along_track_drift() {
        let c = chief();
        let roe0 = Roe::from_metres([10.0, 0.0, 0.0, 0.0, 0.0, 0.0], &c);
        let mut roe = roe0;
        roe.propagate(&c, 1000.0);
        let p = roe.position(&c, 2.0);
        // Radial offset a da, along-track drift -3/2 n (a da) t.
        assert!((p[0] - 10.0).abs() < 1e-9);
        assert!((p[1] + 1.5 * c.n * 10.0 * 1000.0).abs() < 1e-9);
        assert_eq!(p[2], 0.0);
    }

    #[test]
    fn a_burn_changes_velocity_not_position() {
        let c = chief();
        let roe0 = Roe::from_metres([3.0, -40.0, 20.0, -10.0, 15.0, 5.0], &c);
        for (u, dv) in [
            (0.3, [0.05, 0.0, 0.0]),
            (1.9, [0.0, -0.01, 0.0]),
            (4.0, [0.0, 0.0, 0.05]),
            (5.5, [0.01, 0.02, -0.03]),
        ] {
            let mut roe = roe0;
            roe.apply_burn(&c, u, dv);
            let (p0, p1) = (roe0.position(&c, u), roe.position(&c, u));
            let (v0, v1) = (roe0.velocity(&c, u), roe.velocity(&c, u));
            for k in 0..3 {
                assert!((p1[k] - p0[k]).abs() < 1e-9, "position moved on axis {k}");
                assert!((v1[k] - v0[k] - dv[k]).abs() < 1e-12, "velocity axis {k}");
            }
        }
        // A tangential burn of dv raises a da by 2 dv / n.
        let mut roe = Roe::default();
        roe.apply_burn(&c, 0.0, [0.0, 0.01, 0.0]);
        let m = roe.to_metres(&c);
        assert!((m[0] - 0.02 / c.n).abs() < 1e-9);
    }
}
