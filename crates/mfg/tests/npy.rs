//! The result arrays are `ndarray`s of the documented shapes (time x space), and a `.npy` file
//! written from them with `ndarray-npy` (as the examples do) reads back equal.

use std::path::PathBuf;

use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam};
use mfg::*;
use ndarray::{Array2, ArrayD};
use ndarray_npy::{read_npy, write_npy};
use par_core::{ExecConfig, Executor, Mode, Progress};

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("mfg-npy-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sequential() -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(Mode::Sequential)
    })
    .unwrap()
}

#[test]
fn solution_fields_are_time_by_space_and_round_trip_through_npy() {
    let cfg = MfgConfig {
        nx: 31,
        nt: 20,
        ..MfgConfig::default()
    };
    let s = cfg.solver().unwrap().solve(None).unwrap();
    assert!(s.converged());
    assert_eq!(s.u.shape(), &[21, 31]);
    assert_eq!(s.m.shape(), &[21, 31]);
    assert!(s.u.is_standard_layout() && s.m.is_standard_layout());
    // Axis 0 is time: row n is level n, whose mass is 1 and whose mean is `Solution::mean(n)`.
    for n in [0, 7, 20] {
        let row = s.m.row(n);
        assert!((row.sum() * s.grid.dx() - 1.0).abs() < 1e-12);
        assert_eq!(s.means()[n], s.mean(n));
    }
    assert_eq!(s.grid.x_axis().len(), 31);
    assert_eq!(s.grid.t_axis().len(), 21);
    assert_eq!(s.grid.t_axis()[20], s.grid.horizon());
    let dir = scratch("solution");
    for (name, field) in [("u", &s.u), ("m", &s.m)] {
        let path = dir.join(format!("{name}.npy"));
        write_npy(&path, field).unwrap();
        let back: Array2<f64> = read_npy(&path).unwrap();
        assert_eq!(back.shape(), &[21, 31], "{name}");
        assert_eq!(&back, field, "{name}");
    }
}

#[test]
fn common_noise_arrays_have_the_documented_shapes_and_round_trip_through_npy() {
    let lq = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    let game = lq.path_target_config([-2.5, 2.5], 0.3, 0.4, 21, 10);
    let noise = NoiseConfig {
        paths: 6,
        seed: 3,
        process: NoiseProcess::OrnsteinUhlenbeck {
            kappa: 1.0,
            mean: 0.0,
            sigma: 0.5,
            x0: 0.4,
        },
        sampling: Sampling::Antithetic,
        level: 0.95,
    };
    let r = CommonNoiseJob::new(game, noise)
        .unwrap()
        .run(&sequential())
        .unwrap();
    let (k, levels, nx) = (6, 11, 21);
    let arrays = r.arrays();
    let want = |name: &str| -> Vec<usize> {
        match name {
            "x" => vec![nx],
            "t" => vec![levels],
            "theta" | "first_moment" => vec![k, levels],
            n if n.starts_with("m_") || n.starts_with("u_") => vec![levels, nx],
            n if n.starts_with("moment_") => vec![levels],
            other => panic!("undocumented array {other}"),
        }
    };
    assert_eq!(arrays.len(), 19);
    let dir = scratch("common_noise");
    for (name, array) in &arrays {
        assert_eq!(array.shape(), want(name).as_slice(), "{name}");
        let path = dir.join(format!("{name}.npy"));
        write_npy(&path, array).unwrap();
        let back: ArrayD<f64> = read_npy(&path).unwrap();
        assert_eq!(&back, array, "{name}");
    }
    // Rows of the stacked arrays are the paths, in path order.
    let theta = r.thetas();
    for (p, path) in r.paths.iter().enumerate() {
        assert_eq!(theta.row(p), path.theta);
    }
    // The band is built pointwise from the mean and the standard error.
    let (n, i) = (5, 10);
    assert!(r.m.band_lo[[n, i]] <= r.m.mean[[n, i]]);
    assert!(r.m.mean[[n, i]] <= r.m.band_hi[[n, i]]);
}

#[test]
fn sweep_outputs_form_an_array_with_one_axis_per_sweep_axis() {
    let config = SweepConfig {
        base: MfgConfig {
            nx: 21,
            nt: 10,
            ..MfgConfig::default()
        },
        axes: vec![
            Axis {
                param: SweepParam::Sigma,
                values: vec![0.3, 0.5],
            },
            Axis {
                param: SweepParam::TerminalC,
                values: vec![0.0, 1.0, 2.0],
            },
        ],
        run_timeout_s: None,
    };
    let r = SweepJob::run_with(&config, &sequential(), None).unwrap();
    let var = r.output_array(|o| o.variance_t);
    assert_eq!(var.shape(), &[2, 3]);
    for (index, rec) in r.records.iter().enumerate() {
        let (a, b) = (index / 3, index % 3);
        assert_eq!(var[[a, b]], rec.output.as_ref().unwrap().variance_t);
        assert_eq!(rec.params[0].1, config.axes[0].values[a]);
        assert_eq!(rec.params[1].1, config.axes[1].values[b]);
    }
    let path = scratch("sweep").join("variance_t.npy");
    write_npy(&path, &var).unwrap();
    let back: ArrayD<f64> = read_npy(&path).unwrap();
    assert_eq!(back, var);
}
