//! Bad input is a typed error that names the field.

use mfg::*;

fn field_of(r: Result<impl std::fmt::Debug, MfgError>) -> String {
    match r {
        Err(MfgError::InvalidField { field, .. }) => field,
        other => panic!("expected InvalidField, got {other:?}"),
    }
}

#[test]
fn bad_configs_name_the_bad_field() {
    let base = MfgConfig::default();
    let cases: Vec<(MfgConfig, &str)> = vec![
        (
            MfgConfig {
                sigma: -0.1,
                ..base.clone()
            },
            "sigma",
        ),
        (
            MfgConfig {
                sigma: f64::NAN,
                ..base.clone()
            },
            "sigma",
        ),
        (
            MfgConfig {
                nx: 2,
                ..base.clone()
            },
            "nx",
        ),
        (
            MfgConfig {
                nt: 0,
                ..base.clone()
            },
            "nt",
        ),
        (
            MfgConfig {
                horizon: f64::INFINITY,
                ..base.clone()
            },
            "horizon",
        ),
        (
            MfgConfig {
                domain: [1.0, -1.0],
                ..base.clone()
            },
            "domain",
        ),
        (
            MfgConfig {
                domain: [f64::NAN, 1.0],
                ..base.clone()
            },
            "domain.a",
        ),
        (
            MfgConfig {
                hamiltonian: HamiltonianConfig::Quadratic { lambda: 0.0 },
                ..base.clone()
            },
            "hamiltonian.lambda",
        ),
        (
            MfgConfig {
                coupling: CouplingConfig::QuadraticTarget {
                    eps: f64::NAN,
                    target: Target::Mean,
                },
                ..base.clone()
            },
            "coupling.eps",
        ),
        (
            MfgConfig {
                m0: InitialDensity::Gaussian {
                    mean: 0.0,
                    std: -1.0,
                },
                ..base.clone()
            },
            "m0.std",
        ),
        (
            MfgConfig {
                nx: 3,
                m0: InitialDensity::Values {
                    values: vec![1.0, -0.5, 1.0],
                },
                ..base.clone()
            },
            "m0[1]",
        ),
        (
            MfgConfig {
                nx: 3,
                m0: InitialDensity::Values {
                    values: vec![0.0; 3],
                },
                ..base.clone()
            },
            "m0",
        ),
        (
            MfgConfig {
                nx: 3,
                m0: InitialDensity::Values {
                    values: vec![1.0, f64::NAN, 1.0],
                },
                ..base.clone()
            },
            "m0[1]",
        ),
        (
            MfgConfig {
                solver: SolverConfig {
                    damping_m: 0.0,
                    ..SolverConfig::default()
                },
                ..base.clone()
            },
            "solver.damping_m",
        ),
        (
            MfgConfig {
                solver: SolverConfig {
                    tol_abs: f64::NAN,
                    ..SolverConfig::default()
                },
                ..base.clone()
            },
            "solver.tol_abs",
        ),
        (
            MfgConfig {
                solver: SolverConfig {
                    anderson_depth: mfg::anderson::MAX_DEPTH + 1,
                    ..SolverConfig::default()
                },
                ..base.clone()
            },
            "solver.anderson_depth",
        ),
    ];
    for (cfg, want) in cases {
        assert_eq!(field_of(cfg.build()), want, "{cfg:?}");
    }
}

#[test]
fn a_wrong_theta_path_is_an_error_not_a_status() {
    let mut solver = MfgConfig::default().solver().unwrap();
    assert!(matches!(
        solver.solve(Some(&[0.0; 3])),
        Err(MfgError::PathLength {
            expected: 52,
            got: 3
        })
    ));
    let mut path = vec![0.0; 52];
    path[7] = f64::NAN;
    assert_eq!(field_of(solver.solve(Some(&path))), "theta[7]");
}

#[test]
fn json_configs_fill_defaults_and_reject_unknown_fields() {
    let cfg: MfgConfig = serde_json::from_str(r#"{"nx": 41, "sigma": 0.3}"#).unwrap();
    assert_eq!((cfg.nx, cfg.nt, cfg.sigma), (41, 51, 0.3));
    assert_eq!(cfg.solver, SolverConfig::default());
    let text = serde_json::to_string(&MfgConfig::default()).unwrap();
    let back: MfgConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, MfgConfig::default());
    assert!(serde_json::from_str::<MfgConfig>(r#"{"nxx": 41}"#).is_err());
    let tagged: MfgConfig = serde_json::from_str(
        r#"{"coupling": {"kind": "log_congestion", "a": 1.0, "strength": 0.5}, "terminal": {"kind": "none"}}"#,
    )
    .unwrap();
    assert_eq!(
        tagged.coupling,
        CouplingConfig::LogCongestion {
            a: 1.0,
            strength: 0.5
        }
    );
}

#[test]
fn solver_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Problem>();
    check::<Solver>();
    check::<Solution>();
    check::<mfg::common_noise::CommonNoiseJob>();
    check::<mfg::sweep::SweepJob>();
}

/// Every serde configuration of the crate rejects an unknown field, and the error names it: a
/// typo in a JSON configuration is an error, never a silently ignored setting.
#[test]
fn a_typo_in_any_config_is_an_error_naming_the_field() {
    use mfg::common_noise::NoiseConfig;
    use mfg::monte_carlo::McConfig;
    use mfg::noise::{NoiseProcess, Sampling};
    use mfg::sweep::{Axis, SweepConfig};

    fn rejects<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str, typo: &str) {
        match serde_json::from_str::<T>(json) {
            Ok(v) => panic!("{json} was accepted as {v:?}"),
            Err(e) => assert!(
                e.to_string().contains(&format!("unknown field `{typo}`")),
                "{json}: the error does not name `{typo}`: {e}"
            ),
        }
    }
    let ou = r#"{"kind": "ornstein_uhlenbeck", "kappa": 1, "mean": 0, "sigma": 0.5, "x0": 0}"#;
    rejects::<MfgConfig>(r#"{"nxx": 41}"#, "nxx");
    rejects::<MfgConfig>(r#"{"solver": {"anderson_dept": 3}}"#, "anderson_dept");
    rejects::<SolverConfig>(r#"{"tol": 1e-6}"#, "tol");
    rejects::<HamiltonianConfig>(r#"{"kind": "quadratic", "lamda": 1}"#, "lamda");
    rejects::<CouplingConfig>(
        r#"{"kind": "quadratic_target", "eps": 1, "target": {"kind": "mean"}, "epss": 2}"#,
        "epss",
    );
    rejects::<CouplingConfig>(
        r#"{"kind": "log_congestion", "a": 1, "strength": 0.5, "strenght": 1}"#,
        "strenght",
    );
    rejects::<TerminalConfig>(
        r#"{"kind": "quadratic_target", "c": 1, "target": {"kind": "point", "x0": 1, "x": 2}}"#,
        "x",
    );
    rejects::<Target>(r#"{"kind": "point", "x0": 1, "xo": 2}"#, "xo");
    // Variants without fields too (serde ignores extra fields of a unit variant of an
    // internally tagged enum unless the variant is read as an empty struct, as the crate does).
    rejects::<Target>(r#"{"kind": "mean", "x0": 1}"#, "x0");
    rejects::<TerminalConfig>(r#"{"kind": "none", "c": 1}"#, "c");
    rejects::<CouplingConfig>(r#"{"kind": "none", "eps": 1}"#, "eps");
    rejects::<InitialDensity>(r#"{"kind": "uniform", "mean": 0}"#, "mean");
    rejects::<Sampling>(r#"{"kind": "plain", "replicates": 4}"#, "replicates");
    rejects::<Sampling>(r#"{"kind": "antithetic", "pairs": 4}"#, "pairs");
    rejects::<InitialDensity>(r#"{"kind": "gaussian", "mean": 0, "sd": 1}"#, "sd");
    rejects::<NoiseProcess>(
        r#"{"kind": "cir", "kappa": 1, "mean": 1, "sigma": 0.5, "x0": 1, "theta": 0}"#,
        "theta",
    );
    rejects::<Sampling>(
        r#"{"kind": "qmc", "replicates": 4, "replicate": 4}"#,
        "replicate",
    );
    rejects::<NoiseConfig>(
        &format!(r#"{{"paths": 4, "seed": 1, "process": {ou}, "leve": 0.9}}"#),
        "leve",
    );
    rejects::<McConfig>(
        r#"{"samples": 64, "sampler": "sobol", "replicate": 4}"#,
        "replicate",
    );
    rejects::<Axis>(
        r#"{"param": "sigma", "values": [0.5], "value": 1}"#,
        "value",
    );
    rejects::<SweepConfig>(
        r#"{"base": {}, "axes": [], "run_timeout": 3}"#,
        "run_timeout",
    );
    rejects::<QuadraticHamiltonian>(r#"{"lambda": 1, "mu": 2}"#, "mu");
    rejects::<QuadraticTarget>(
        r#"{"weight": 1, "target": {"kind": "mean"}, "wieght": 2}"#,
        "wieght",
    );
    rejects::<LogCongestion>(r#"{"a": 1, "strength": 1, "b": 2}"#, "b");
    rejects::<Grid>(
        r#"{"a": 0, "b": 1, "nx": 3, "nt": 1, "horizon": 1, "boundary": "periodic", "dx": 1}"#,
        "dx",
    );
}
