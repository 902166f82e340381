//! The cart-pole physics against hand-computed values, and energy conservation.

use neuroevo::task::{CartPoles, PoleParams, PoleState};

#[test]
fn derivatives_at_rest_match_the_closed_form() {
    // Upright, at rest, F = 1 N: x'' = F / (M + m1/4 + m2/4) (cos = 1 gives mt_i = m_i / 4),
    // theta_i'' = -3/(4 l_i) x''.
    let sys = CartPoles::new(PoleParams::DOUBLE);
    let d = sys.derivatives(&[0.0; 6], 1.0);
    let xacc = 1.0 / (1.0 + 0.025 + 0.0025);
    assert!((d[1] - xacc).abs() < 1e-15);
    assert!((d[3] + 0.75 / 0.5 * xacc).abs() < 1e-14);
    assert!((d[5] + 0.75 / 0.05 * xacc).abs() < 1e-13);
    assert_eq!([d[0], d[2], d[4]], [0.0, 0.0, 0.0]);
}

/// Reference values computed separately (a 20-line Python transcription of Wieland's equations
/// and the classical RK4 formulas, double precision) for the state below and F = 3 N.
const STATE: PoleState = [
    0.1,
    -0.2,
    4.5 * std::f64::consts::PI / 180.0,
    0.3,
    -0.05,
    0.7,
];
const DERIV: PoleState = [
    -0.2,
    2.866826879412078,
    0.3,
    -3.133653406147608,
    0.7,
    -50.33759926759124,
];
const RK4: PoleState = [
    0.09814329776986667,
    -0.17134457227873381,
    0.08138392899292103,
    0.2688997997405281,
    -0.04550187561701146,
    0.20082500718195995,
];

#[test]
fn one_rk4_step_matches_the_reference() {
    let sys = CartPoles::new(PoleParams::DOUBLE);
    let d = sys.derivatives(&STATE, 3.0);
    for i in 0..6 {
        assert!(
            (d[i] - DERIV[i]).abs() <= 1e-12 * DERIV[i].abs().max(1.0),
            "d[{i}] = {}",
            d[i]
        );
    }
    let mut s = STATE;
    sys.rk4_step(&mut s, 3.0, 0.01);
    for i in 0..6 {
        assert!(
            (s[i] - RK4[i]).abs() <= 1e-12,
            "s[{i}] = {} vs {}",
            s[i],
            RK4[i]
        );
    }
}

#[test]
fn rk4_is_fourth_order() {
    // Error of one step against a fine reference shrinks by about 2^5 = 32 when h halves
    // (local error O(h^5)).
    let sys = CartPoles::new(PoleParams::DOUBLE);
    let integrate = |h: f64, n: usize| {
        let mut s = STATE;
        for _ in 0..n {
            sys.rk4_step(&mut s, 3.0, h);
        }
        s
    };
    let reference = integrate(0.04 / 256.0, 256);
    let err = |s: PoleState| {
        (0..6)
            .map(|i| (s[i] - reference[i]).abs())
            .fold(0.0, f64::max)
    };
    let (e1, e2) = (err(integrate(0.04, 1)), err(integrate(0.02, 2)));
    let ratio = e1 / e2;
    assert!(
        (12.0..40.0).contains(&ratio),
        "global error ratio {ratio} (e1 {e1}, e2 {e2})"
    );
}

#[test]
fn energy_is_conserved_without_friction_or_force() {
    let sys = CartPoles::new(PoleParams::DOUBLE.frictionless());
    let mut s: PoleState = [0.0, 0.3, 0.2, -0.4, -0.1, 1.0];
    let e0 = sys.energy(&s);
    // 10 s of free motion (the poles swing through large angles; no failure check here).
    let mut worst: f64 = 0.0;
    for _ in 0..1000 {
        sys.rk4_step(&mut s, 0.0, 0.01);
        worst = worst.max((sys.energy(&s) - e0).abs());
    }
    assert!(
        worst / e0.abs() < 1e-6,
        "relative energy drift {}",
        worst / e0.abs()
    );
    // With friction the energy falls.
    let fric = CartPoles::new(PoleParams::DOUBLE);
    let mut s: PoleState = [0.0, 0.3, 0.2, -0.4, -0.1, 1.0];
    let e0 = fric.energy(&s);
    for _ in 0..1000 {
        fric.rk4_step(&mut s, 0.0, 0.01);
    }
    assert!(fric.energy(&s) < e0);
}

#[test]
fn an_uncontrolled_pole_falls_and_fails() {
    let sys = CartPoles::new(PoleParams::DOUBLE);
    let mut s: PoleState = [0.0, 0.0, 4.5f64.to_radians(), 0.0, 0.0, 0.0];
    let mut steps = 0;
    while !sys.failed(&s) && steps < 10_000 {
        sys.act(&mut s, 0.0);
        steps += 1;
    }
    assert!(steps < 100, "fell after {steps} actions");
    assert!(s[2] > 0.0, "pole 1 falls the way it leans");
}
