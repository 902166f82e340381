//! Scenario `mfg` for `cargo xtask bench` (see `par_core::bench`).
//!
//! Measures: one 51 x 51 conditional solve (`solve_51x51_ms`), common noise with K in
//! {10, 20, 40} sequential against threads and processes (`common_noise_k40_efficiency_2w`),
//! a 3 x 3 x 3 sweep in every mode (`sweep27_speedup_2w`), worker scaling on 64 combinations,
//! per-task overhead against the problem size, and error and time against grid size (the
//! convergence plot). Efficiency here is speed-up over the sequential run divided by the
//! worker count; each timing is the best of a few repetitions, because the machine may be
//! shared.

use std::time::Instant;

use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam};
use mfg::{CouplingConfig, InitialDensity, MfgConfig, Target, TerminalConfig};
use par_core::bench::{BenchArgs, Better, Metric, Plot, ScenarioReport, Series, Table};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode, Progress};

fn registry() -> Registry {
    Registry::new().with::<CommonNoiseJob>().with::<SweepJob>()
}

fn exec(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .expect("valid executor")
}

fn conditional_game(n: usize) -> MfgConfig {
    MfgConfig {
        domain: [-2.5, 2.5],
        nx: n,
        nt: n,
        coupling: CouplingConfig::QuadraticTarget {
            eps: 1.0,
            target: Target::Path,
        },
        terminal: TerminalConfig::QuadraticTarget {
            c: 1.0,
            target: Target::Path,
        },
        m0: InitialDensity::Gaussian {
            mean: 0.3,
            std: 0.4,
        },
        ..MfgConfig::default()
    }
}

fn noise_job(n: usize, paths: usize) -> CommonNoiseJob {
    let process = NoiseProcess::OrnsteinUhlenbeck {
        kappa: 1.0,
        mean: 0.0,
        sigma: 0.5,
        x0: 0.4,
    };
    let noise = NoiseConfig {
        paths,
        seed: 1,
        process,
        sampling: Sampling::Plain,
        level: 0.95,
    };
    CommonNoiseJob::new(conditional_game(n), noise).expect("valid job")
}

/// Best wall time in seconds of `reps` runs of `f`.
fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Best wall time of `f` on each executor, the executors taken in turn `reps` times, so that a
/// change of load on a shared machine affects all of them alike.
fn interleaved(reps: usize, execs: &[&Executor], f: impl Fn(&Executor)) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; execs.len()];
    for _ in 0..reps {
        for (b, e) in best.iter_mut().zip(execs) {
            let t = Instant::now();
            f(e);
            *b = b.min(t.elapsed().as_secs_f64());
        }
    }
    best
}

fn sweep_config(per_axis: &[f64]) -> SweepConfig {
    SweepConfig {
        base: MfgConfig::default(),
        axes: vec![
            Axis {
                param: SweepParam::Sigma,
                values: per_axis.iter().map(|v| 0.3 + 0.25 * v).collect(),
            },
            Axis {
                param: SweepParam::CouplingEps,
                values: per_axis.iter().map(|v| 0.5 + v).collect(),
            },
            Axis {
                param: SweepParam::TerminalC,
                values: per_axis.iter().map(|v| 0.5 * v).collect(),
            },
        ],
        run_timeout_s: None,
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    serve_if_worker(&registry());
    let args = match BenchArgs::from_env() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mfg scenarios: {e}");
            std::process::exit(2);
        }
    };
    let quick = !args.full;
    let reps = if quick { 5 } else { 9 };
    let mut report = ScenarioReport::new("mfg", quick);
    let load_before = load_average();

    // 1. One 51 x 51 conditional (frozen-path) solve to tolerance 1e-8, one core.
    let job = noise_job(51, 2);
    let theta = job.path(0).expect("path");
    let mut solver = job.game().solver().expect("solver");
    let _ = solver.solve(Some(&theta)).expect("warm-up");
    let mut times: Vec<f64> = (0..if quick { 200 } else { 1000 })
        .map(|_| {
            let t = Instant::now();
            let s = solver.solve(Some(&theta)).expect("solve");
            assert!(s.converged());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let solve_ms = 1e3 * times[times.len() / 2];
    report
        .metrics
        .push(Metric::new("solve_51x51_ms", solve_ms, "ms", Better::Lower).with_target(5.0));
    let mut lq_solver = MfgConfig::default().solver().expect("solver");
    let lq_ms = 1e3
        * best_of(20, || {
            let _ = lq_solver.solve(None).expect("solve");
        });
    report.metrics.push(Metric::new(
        "solve_51x51_mean_target_ms",
        lq_ms,
        "ms",
        Better::Lower,
    ));
    report.notes.push(format!(
        "solve_51x51_ms: median of {} frozen-path (conditional) solves, 51 cells x 51 steps, Picard \
         tolerance 1e-8 (absolute and relative), one thread; the mean-target LQ game on [-3, 3] \
         (coupled through the mean) takes {lq_ms:.3} ms (best of 20).",
        times.len()
    ));

    // 2. Common noise, K in {10, 20, 40}, sequential against 2 threads and 2 processes.
    let seq = exec(Mode::Sequential);
    let thr = exec(Mode::Threads { workers: 2 });
    let pro = exec(Mode::Processes { workers: 2 });
    let mut rows = Vec::new();
    let mut eff_k40 = f64::NAN;
    for k in [10, 20, 40] {
        let job = noise_job(51, k);
        let t = interleaved(reps, &[&seq, &thr, &pro], |e| {
            let _ = job.run(e).expect("run");
        });
        let (t_seq, t_thr, t_pro) = (t[0], t[1], t[2]);
        let (e_thr, e_pro) = (t_seq / (2.0 * t_thr), t_seq / (2.0 * t_pro));
        if k == 40 {
            eff_k40 = e_thr;
        }
        rows.push(vec![
            k.to_string(),
            format!("{:.2}", 1e3 * t_seq),
            format!("{:.2}", 1e3 * t_thr),
            format!("{e_thr:.2}"),
            format!("{:.2}", 1e3 * t_pro),
            format!("{e_pro:.2}"),
        ]);
    }
    report.metrics.push(
        Metric::new(
            "common_noise_k40_efficiency_2w",
            eff_k40,
            "ratio",
            Better::Higher,
        )
        .with_target(0.9),
    );
    report.tables.push(Table {
        title: "Common noise, 51 x 51 frozen-path solves (best of runs)".into(),
        header: [
            "K",
            "sequential ms",
            "threads(2) ms",
            "efficiency",
            "processes(2) ms",
            "efficiency",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });

    // Variance reduction at K = 40, measured against plain Monte Carlo at equal K.
    for (name, sampling) in [
        ("common_noise_k40_vrf_antithetic", Sampling::Antithetic),
        ("common_noise_k40_vrf_qmc", Sampling::Qmc { replicates: 5 }),
    ] {
        let process = NoiseProcess::OrnsteinUhlenbeck {
            kappa: 1.0,
            mean: 0.0,
            sigma: 0.5,
            x0: 0.4,
        };
        let noise = NoiseConfig {
            paths: 40,
            seed: 2,
            process,
            sampling,
            level: 0.95,
        };
        let job = CommonNoiseJob::new(conditional_game(51), noise).expect("valid job");
        let r = job.run(&thr).expect("run");
        report.metrics.push(Metric::new(
            name,
            r.scalar.variance_reduction,
            "ratio",
            Better::Higher,
        ));
    }

    // 3. Sweep of 27 (3 x 3 x 3) in every mode.
    let cfg27 = sweep_config(&[0.0, 1.0, 2.0]);
    let t = interleaved(reps, &[&seq, &thr, &pro], |e| {
        let r = SweepJob::run_with(&cfg27, e, None).expect("sweep");
        assert_eq!(r.computed, 27);
    });
    let (s_seq, s_thr, s_pro) = (t[0], t[1], t[2]);
    report.metrics.push(
        Metric::new("sweep27_speedup_2w", s_seq / s_thr, "ratio", Better::Higher).with_target(1.8),
    );
    report.metrics.push(Metric::new(
        "sweep27_processes_speedup_2w",
        s_seq / s_pro,
        "ratio",
        Better::Higher,
    ));
    report.tables.push(Table {
        title: "Sweep of 27 mean-target games, 51 x 51".into(),
        header: ["mode", "wall ms", "speed-up"].map(String::from).to_vec(),
        rows: vec![
            vec![
                "sequential".into(),
                format!("{:.1}", 1e3 * s_seq),
                "1.00".into(),
            ],
            vec![
                "threads(2)".into(),
                format!("{:.1}", 1e3 * s_thr),
                format!("{:.2}", s_seq / s_thr),
            ],
            vec![
                "processes(2)".into(),
                format!("{:.1}", 1e3 * s_pro),
                format!("{:.2}", s_seq / s_pro),
            ],
        ],
    });

    // 4. Worker scaling on 64 combinations.
    let cfg64 = sweep_config(&[0.0, 0.7, 1.4, 2.1]);
    let scaled: Vec<Executor> = args
        .workers
        .iter()
        .map(|&w| exec(Mode::Threads { workers: w }))
        .collect();
    let mut all: Vec<&Executor> = vec![&seq];
    all.extend(scaled.iter());
    let t = interleaved(reps.min(3), &all, |e| {
        let _ = SweepJob::run_with(&cfg64, e, None).expect("sweep");
    });
    let mut speed = Vec::new();
    let mut effs = Vec::new();
    for (&w, tw) in args.workers.iter().zip(&t[1..]) {
        speed.push((w as f64, t[0] / tw));
        effs.push((w as f64, t[0] / tw / w as f64));
    }
    let mut rows = Vec::new();
    for (&w, tw) in args.workers.iter().zip(&t[1..]) {
        rows.push(vec![
            w.to_string(),
            format!("{:.1}", 1e3 * tw),
            format!("{:.2}", t[0] / tw),
        ]);
    }
    report.tables.push(Table {
        title: format!(
            "Sweep of 64 games, threads (sequential: {:.1} ms)",
            1e3 * t[0]
        ),
        header: ["workers", "wall ms", "speed-up"]
            .map(String::from)
            .to_vec(),
        rows,
    });
    report.plots.push(Plot {
        name: "sweep64_scaling".into(),
        title: "Sweep of 64 games: threads against sequential".into(),
        x_label: "workers".into(),
        y_label: "speed-up / efficiency".into(),
        log_x: false,
        log_y: false,
        series: vec![
            Series {
                label: "speed-up".into(),
                points: speed,
            },
            Series {
                label: "efficiency".into(),
                points: effs,
            },
        ],
    });

    // 5. Per-task overhead against problem size.
    let mut rows = Vec::new();
    for n in [30, 50, 100, 200] {
        let job = noise_job(n, 16);
        let t_seq = best_of(reps.min(2), || {
            let _ = job.run(&seq).expect("run");
        });
        let mut row = vec![n.to_string(), format!("{:.3}", 1e3 * t_seq / 16.0)];
        for e in [&thr, &pro] {
            let mut best: Option<par_core::RunReport> = None;
            for _ in 0..reps.min(2) {
                let r = job.run(e).expect("run").report;
                if best.as_ref().is_none_or(|b| r.wall_s < b.wall_s) {
                    best = Some(r);
                }
            }
            let r = best.expect("ran");
            row.push(format!("{:.3}", 1e3 * r.overhead_per_task_s()));
            row.push(format!("{:.2}", t_seq / (2.0 * r.wall_s)));
        }
        rows.push(row);
    }
    report.tables.push(Table {
        title: "Overhead against problem size (16 conditional solves, nx = nt = n, 2 workers)"
            .into(),
        header: [
            "n",
            "task ms",
            "threads overhead ms/task",
            "threads efficiency",
            "processes overhead ms/task",
            "processes efficiency",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });

    // 6. Error and time against grid size (convergence plot).
    let game = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    let sizes: &[usize] = if quick {
        &[25, 50, 100, 200, 400]
    } else {
        &[25, 50, 100, 200, 400, 800]
    };
    let (mut eu, mut ev, mut tm) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for &n in sizes {
        // The asymmetric domain [-2, 2] with m0 = N(0.3, 0.4^2), as in the closed-form tests.
        let mut cfg = game.mean_target_config(0.3, 0.4, 2.0, n, n);
        cfg.domain = [-2.0, 2.0];
        let mut solver = cfg.solver().expect("solver");
        let mut sol = None;
        let t = best_of(if n >= 400 { 1 } else { 3 }, || {
            sol = Some(solver.solve(None).expect("solve"))
        });
        let sol = sol.expect("solved");
        let e = game.mean_target_errors(&sol, 1.0);
        eu.push((n as f64, e.max_err_u));
        ev.push((n as f64, e.max_err_var));
        tm.push((n as f64, t));
        rows.push(vec![
            n.to_string(),
            format!("{:.3e}", e.max_err_u),
            format!("{:.3e}", e.max_err_var),
            format!("{:.1e}", sol.mass_drift()),
            sol.iterations.to_string(),
            format!("{:.3}", 1e3 * t),
        ]);
    }
    let order = |v: &[(f64, f64)]| {
        let (a, b) = (v[v.len() - 2], v[v.len() - 1]);
        (a.1 / b.1).ln() / (b.0 / a.0).ln()
    };
    report.metrics.push(Metric::new(
        "lq_order_u",
        order(&eu),
        "order",
        Better::Higher,
    ));
    report.metrics.push(Metric::new(
        "lq_order_var",
        order(&ev),
        "order",
        Better::Higher,
    ));
    report.tables.push(Table {
        title: "LQ mean-target game: error and time against grid size (nx = nt = n)".into(),
        header: [
            "n",
            "max err u (interior)",
            "max err variance",
            "mass drift",
            "Picard iterations",
            "solve ms",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    report.plots.push(Plot {
        name: "convergence".into(),
        title: "LQ mean-target game: error and solve time against grid size".into(),
        x_label: "n = nx = nt".into(),
        y_label: "error / seconds".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series {
                label: "max error u".into(),
                points: eu,
            },
            Series {
                label: "max error variance".into(),
                points: ev,
            },
            Series {
                label: "solve time (s)".into(),
                points: tm,
            },
        ],
    });

    report.notes.push(format!(
        "Efficiency = sequential time / (2 x parallel time), best of {reps} runs each. Load \
         average (1 min) on this machine: {load_before} before, {} after the scenario; with other \
         jobs running, parallel figures understate what an idle machine gives.",
        load_average()
    ));
    if quick {
        report.notes.push(
            "Quick run: 200 single solves, best of 5 (interleaved) for the parallel timings, worker scaling best \
             of 3, convergence up to n = 400 (--full: 1000 solves, best of 9, n up to 800)."
                .into(),
        );
    }
    match report.write(&args.out) {
        Ok(path) => eprintln!("wrote {}", path.display()),
        Err(e) => {
            eprintln!("mfg scenarios: cannot write report: {e}");
            std::process::exit(1);
        }
    }
    for m in &report.metrics {
        eprintln!("{:<34} {:>12.4?} {}", m.name, m.value, m.unit);
    }
}
