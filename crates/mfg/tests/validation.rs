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
