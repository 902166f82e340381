//! Scenario `mfg` for `cargo xtask bench` (see `par_core::bench`).
//!
//! 1. One 51 x 51 solve of the coupled mean-target LQ game to tolerance 1e-8 (the fixed point
//!    over the mean path), Anderson-accelerated as by default (`solve_51x51_ms`), beside the same
//!    solve with plain Picard and one frozen-path (conditional) solve, with both iteration
//!    counts.
//! 2. Common noise with K in {10, 20, 40} paths: sequential against 2 threads and 2 processes
//!    (`common_noise_k40_efficiency_2w`), and the measured variance reduction of antithetic and
//!    QMC sampling at K = 40.
//! 3. A 3 x 3 x 3 sweep in every mode (`sweep27_speedup_2w`).
//! 4. Worker scaling on a sweep of 64 games, per-task overhead against the problem size, and
//!    error and time against grid size (the convergence plot, `lq_order_u`, `lq_order_var`).
//!
//! Every timing goes through `par_core::bench::Interleave`: the compared variants alternate
//! within each repetition, the median is the headline with min and max beside it, and speed-ups
//! and efficiencies are medians of the per-repetition paired ratios (efficiency = speed-up over
//! the sequential run / workers). The targets are in [`TARGETS`], the one table of this crate.

use std::cell::RefCell;
use std::process::ExitCode;

use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use mfg::sweep::{Axis, SweepConfig, SweepJob, SweepParam};
use mfg::{MfgConfig, SolverConfig};
use par_core::bench::{
    Better, Declared, Interleave, Metric, Plot, ScenarioError, ScenarioRun, Series, Stats, Table,
    load_average, run_scenario,
};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode, Progress};

/// The metrics this scenario promises, with the targets of the mfg issues.
const TARGETS: &[Declared] = &[
    Declared::new(
        "solve_51x51_ms",
        "ms",
        Better::Lower,
        "one 51 x 51 solve of the coupled mean-target LQ game to tolerance 1e-8 (the fixed point \
         over the mean path), Anderson-accelerated (depth 5, the default), one thread",
    )
    .target(5.0),
    Declared::new(
        "solve_51x51_plain_picard_ms",
        "ms",
        Better::Lower,
        "the same coupled solve with plain Picard (anderson_depth = 0)",
    ),
    Declared::new(
        "solve_51x51_iterations",
        "iterations",
        Better::Lower,
        "Picard iterations of the accelerated coupled solve",
    ),
    Declared::new(
        "solve_51x51_plain_picard_iterations",
        "iterations",
        Better::Lower,
        "Picard iterations of the plain coupled solve",
    ),
    Declared::new(
        "frozen_path_solve_51x51_ms",
        "ms",
        Better::Lower,
        "one 51 x 51 frozen-path (conditional) solve of the LQ game whose target is an OU path",
    ),
    Declared::new(
        "common_noise_k40_efficiency_2w",
        "ratio",
        Better::Higher,
        "parallel efficiency of 2 threads on 40 frozen-path solves (51 x 51)",
    )
    .target(0.9),
    Declared::new(
        "common_noise_k40_processes_efficiency_2w",
        "ratio",
        Better::Higher,
        "parallel efficiency of 2 worker processes on 40 frozen-path solves (51 x 51)",
    ),
    Declared::new(
        "common_noise_k40_vrf_antithetic",
        "ratio",
        Better::Higher,
        "measured variance-reduction factor of antithetic paths at K = 40",
    ),
    Declared::new(
        "common_noise_k40_vrf_qmc",
        "ratio",
        Better::Higher,
        "measured variance-reduction factor of randomised QMC (5 replicates) at K = 40",
    ),
    Declared::new(
        "sweep27_speedup_2w",
        "x",
        Better::Higher,
        "speed-up of 2 threads over sequential on a 3 x 3 x 3 sweep of mean-target games",
    )
    .target(1.8),
    Declared::new(
        "sweep27_processes_speedup_2w",
        "x",
        Better::Higher,
        "speed-up of 2 worker processes over sequential on the same sweep",
    ),
    Declared::new(
        "lq_order_u",
        "order",
        Better::Higher,
        "observed order of the value-function error against the LQ closed form (last two sizes)",
    ),
    Declared::new(
        "lq_order_var",
        "order",
        Better::Higher,
        "observed order of the variance error against the LQ closed form (last two sizes)",
    ),
];

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

/// The LQ game of the common-noise runs and the convergence table.
const LQ: LqGame = LqGame {
    eps: 1.0,
    c: 1.0,
    sigma: 0.5,
    horizon: 1.0,
};

fn conditional_game(n: usize) -> MfgConfig {
    LQ.path_target_config([-2.5, 2.5], 0.3, 0.4, n, n)
}

const OU: NoiseProcess = NoiseProcess::OrnsteinUhlenbeck {
    kappa: 1.0,
    mean: 0.0,
    sigma: 0.5,
    x0: 0.4,
};

fn noise_job(n: usize, paths: usize, seed: u64, sampling: Sampling) -> CommonNoiseJob {
    let noise = NoiseConfig {
        paths,
        seed,
        process: OU,
        sampling,
        level: 0.95,
    };
    CommonNoiseJob::new(conditional_game(n), noise).expect("valid job")
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

/// `median (min – max)` of a statistic.
fn spread(s: Stats, scale: f64, digits: usize) -> String {
    format!(
        "{:.d$} ({:.d$} – {:.d$})",
        s.median * scale,
        s.min * scale,
        s.max * scale,
        d = digits
    )
}

fn main() -> ExitCode {
    serve_if_worker(&registry());
    run_scenario("mfg", TARGETS, measure)
}

fn measure(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let quick = run.quick();
    let reps = if quick { 15 } else { 31 };
    let load_before = load_average();
    single_solves(run)?;
    run.checkpoint();
    let seq = exec(Mode::Sequential);
    let thr = exec(Mode::Threads { workers: 2 });
    let pro = exec(Mode::Processes { workers: 2 });
    common_noise(run, reps, [&seq, &thr, &pro])?;
    run.checkpoint();
    sweeps(run, reps, [&seq, &thr, &pro])?;
    run.checkpoint();
    overheads(run, [&seq, &thr, &pro])?;
    run.checkpoint();
    convergence(run)?;
    let report = &mut run.report;
    report.notes.push(format!(
        "Every timing is the median of interleaved repetitions ({reps} for the parallel runs), \
         min and max beside it; speed-ups and efficiencies (speed-up / 2) are medians of \
         per-repetition paired ratios. Load average (1 min) on this machine: {load_before} \
         before, {} after the scenario; with other jobs running, parallel figures understate \
         what an idle machine gives.",
        load_average()
    ));
    if quick {
        report.notes.push(
            "Quick run: 300 repetitions of the single solves (--full: 1000), 15 of the parallel \
             runs (31), 5 of worker scaling and overheads (9), convergence up to n = 400 (800)."
                .into(),
        );
    }
    Ok(())
}

/// Section 1: the single solves, one thread each.
fn single_solves(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let solves = if run.quick() { 300 } else { 1000 };
    let depth = SolverConfig::default().anderson_depth;
    let coupled = |depth: usize| {
        let mut cfg = MfgConfig::default();
        cfg.solver.anderson_depth = depth;
        cfg.solver()
    };
    let mut fast = coupled(depth)?;
    let mut plain = coupled(0)?;
    let job = noise_job(51, 2, 1, Sampling::Plain);
    let theta = job.path(0)?;
    let mut frozen = job.game().solver()?;
    // Iteration counts (deterministic) and a check that every variant converges.
    let fast_iters = fast.solve(None)?;
    let plain_iters = plain.solve(None)?;
    let frozen_iters = frozen.solve(Some(&theta))?;
    for (name, s) in [
        ("accelerated", &fast_iters),
        ("plain", &plain_iters),
        ("frozen-path", &frozen_iters),
    ] {
        if !s.converged() {
            return Err(format!("the {name} solve ended {:?}", s.status).into());
        }
    }
    let runs = Interleave::new(solves)
        .warmup(2)
        .timed("anderson", || {
            let _ = fast.solve(None);
        })
        .timed("plain", || {
            let _ = plain.solve(None);
        })
        .timed("frozen", || {
            let _ = frozen.solve(Some(&theta));
        })
        .run();
    let ms = |name: &str| runs.stats(name).scaled(1e3);
    let report = &mut run.report;
    report.push(Metric::from_stats(
        "solve_51x51_ms",
        ms("anderson"),
        "ms",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "solve_51x51_plain_picard_ms",
        ms("plain"),
        "ms",
        Better::Lower,
    ));
    report.push(Metric::new(
        "solve_51x51_iterations",
        fast_iters.iterations as f64,
        "iterations",
        Better::Lower,
    ));
    report.push(Metric::new(
        "solve_51x51_plain_picard_iterations",
        plain_iters.iterations as f64,
        "iterations",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "frozen_path_solve_51x51_ms",
        ms("frozen"),
        "ms",
        Better::Lower,
    ));
    report.tables.push(Table {
        title: format!(
            "Single 51 x 51 solves to tolerance 1e-8, one thread: median (min – max) of \
             {solves} interleaved repetitions"
        ),
        header: ["solve", "Picard iterations", "ms"]
            .map(String::from)
            .to_vec(),
        rows: vec![
            vec![
                format!("coupled mean-target game, Anderson (depth {depth})"),
                fast_iters.iterations.to_string(),
                spread(ms("anderson"), 1.0, 3),
            ],
            vec![
                "coupled mean-target game, plain Picard".into(),
                plain_iters.iterations.to_string(),
                spread(ms("plain"), 1.0, 3),
            ],
            vec![
                "frozen-path (conditional) game, one OU path".into(),
                frozen_iters.iterations.to_string(),
                spread(ms("frozen"), 1.0, 3),
            ],
        ],
    });
    Ok(())
}

/// Section 2: common noise, sequential against 2 threads and 2 processes.
fn common_noise(
    run: &mut ScenarioRun,
    reps: usize,
    [seq, thr, pro]: [&Executor; 3],
) -> Result<(), ScenarioError> {
    let mut rows = Vec::new();
    for k in [10, 20, 40] {
        let job = noise_job(51, k, 1, Sampling::Plain);
        let go = |e: &Executor| {
            let _ = job.run(e).expect("common-noise run");
        };
        let runs = Interleave::new(reps)
            .warmup(1)
            .timed("sequential", || go(seq))
            .timed("threads", || go(thr))
            .timed("processes", || go(pro))
            .run();
        let e_thr = runs.efficiency("sequential", "threads", 2);
        let e_pro = runs.efficiency("sequential", "processes", 2);
        if k == 40 {
            let workload = "40 frozen-path solves of 51 x 51";
            run.report.push(
                Metric::efficiency("common_noise_k40_efficiency_2w", e_thr).with_workload(workload),
            );
            run.report.push(
                Metric::efficiency("common_noise_k40_processes_efficiency_2w", e_pro)
                    .with_workload(workload),
            );
        }
        rows.push(vec![
            k.to_string(),
            spread(runs.stats("sequential"), 1e3, 2),
            spread(runs.stats("threads"), 1e3, 2),
            spread(e_thr, 1.0, 2),
            spread(runs.stats("processes"), 1e3, 2),
            spread(e_pro, 1.0, 2),
        ]);
    }
    run.report.tables.push(Table {
        title: format!(
            "Common noise, 51 x 51 frozen-path solves: median (min – max) of {reps} interleaved \
             repetitions; efficiency = paired speed-up / 2"
        ),
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
    // Variance reduction at K = 40, measured against plain Monte Carlo at equal K (a property
    // of the estimator, not a timing: one run each).
    for (name, sampling) in [
        ("common_noise_k40_vrf_antithetic", Sampling::Antithetic),
        ("common_noise_k40_vrf_qmc", Sampling::Qmc { replicates: 5 }),
    ] {
        let r = noise_job(51, 40, 2, sampling).run(thr)?;
        run.report.push(Metric::new(
            name,
            r.scalar.variance_reduction,
            "ratio",
            Better::Higher,
        ));
    }
    Ok(())
}

/// Section 3: the 27-point sweep in every mode, and worker scaling on 64 points.
fn sweeps(
    run: &mut ScenarioRun,
    reps: usize,
    [seq, thr, pro]: [&Executor; 3],
) -> Result<(), ScenarioError> {
    let cfg27 = sweep_config(&[0.0, 1.0, 2.0]);
    let go = |e: &Executor| {
        let r = SweepJob::run_with(&cfg27, e, None).expect("sweep");
        assert_eq!(r.computed, 27);
    };
    let runs = Interleave::new(reps)
        .warmup(1)
        .timed("sequential", || go(seq))
        .timed("threads", || go(thr))
        .timed("processes", || go(pro))
        .run();
    let s_thr = runs.speedup("sequential", "threads");
    let s_pro = runs.speedup("sequential", "processes");
    let workload = "27 mean-target games of 51 x 51";
    run.report
        .push(Metric::speedup("sweep27_speedup_2w", s_thr, 2).with_workload(workload));
    run.report
        .push(Metric::speedup("sweep27_processes_speedup_2w", s_pro, 2).with_workload(workload));
    run.report.tables.push(Table {
        title: format!(
            "Sweep of 27 mean-target games, 51 x 51: median (min – max) of {reps} interleaved \
             repetitions; speed-up paired per repetition"
        ),
        header: ["mode", "wall ms", "speed-up"].map(String::from).to_vec(),
        rows: vec![
            vec![
                "sequential".into(),
                spread(runs.stats("sequential"), 1e3, 1),
                "1".into(),
            ],
            vec![
                "threads(2)".into(),
                spread(runs.stats("threads"), 1e3, 1),
                spread(s_thr, 1.0, 2),
            ],
            vec![
                "processes(2)".into(),
                spread(runs.stats("processes"), 1e3, 1),
                spread(s_pro, 1.0, 2),
            ],
        ],
    });

    // Worker scaling on 64 combinations.
    let cfg64 = sweep_config(&[0.0, 0.7, 1.4, 2.1]);
    let workers = run.args.workers.clone();
    let scaled: Vec<Executor> = workers
        .iter()
        .map(|&w| exec(Mode::Threads { workers: w }))
        .collect();
    let scale_reps = if run.quick() { 5 } else { 9 };
    let go64 = |e: &Executor| {
        let _ = SweepJob::run_with(&cfg64, e, None).expect("sweep");
    };
    let mut bench = Interleave::new(scale_reps)
        .warmup(1)
        .timed("sequential", || go64(seq));
    for (&w, e) in workers.iter().zip(&scaled) {
        bench = bench.timed(format!("threads {w}"), move || go64(e));
    }
    let runs = bench.run();
    let (mut speed, mut effs, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for &w in &workers {
        let variant = format!("threads {w}");
        let s = runs.speedup("sequential", &variant);
        let e = runs.efficiency("sequential", &variant, w);
        speed.push((w as f64, s.median));
        effs.push((w as f64, e.median));
        rows.push(vec![
            w.to_string(),
            spread(runs.stats(&variant), 1e3, 1),
            spread(s, 1.0, 2),
            spread(e, 1.0, 2),
        ]);
    }
    run.report.tables.push(Table {
        title: format!(
            "Sweep of 64 games, threads (sequential: {} ms): median (min – max) of {scale_reps} \
             interleaved repetitions, speed-ups paired",
            spread(runs.stats("sequential"), 1e3, 1)
        ),
        header: ["workers", "wall ms", "speed-up", "efficiency"]
            .map(String::from)
            .to_vec(),
        rows,
    });
    run.report.plots.push(Plot {
        name: "sweep64_scaling".into(),
        title: "Sweep of 64 games: threads against sequential (paired medians)".into(),
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
    Ok(())
}

/// Section 4: per-task overhead against the problem size (16 conditional solves per run).
fn overheads(run: &mut ScenarioRun, [seq, thr, pro]: [&Executor; 3]) -> Result<(), ScenarioError> {
    let reps = if run.quick() { 5 } else { 9 };
    let mut rows = Vec::new();
    for n in [30, 50, 100, 200] {
        let job = noise_job(n, 16, 1, Sampling::Plain);
        let thr_over = RefCell::new(Vec::new());
        let pro_over = RefCell::new(Vec::new());
        let go = |e: &Executor, over: &RefCell<Vec<f64>>| {
            let r = job.run(e).expect("common-noise run");
            over.borrow_mut().push(r.report.overhead_per_task_s());
        };
        let runs = Interleave::new(reps)
            .timed("sequential", || {
                let _ = job.run(seq).expect("common-noise run");
            })
            .timed("threads", || go(thr, &thr_over))
            .timed("processes", || go(pro, &pro_over))
            .run();
        let over = |v: &RefCell<Vec<f64>>| -> Result<Stats, ScenarioError> {
            Stats::from_samples(&v.borrow())
                .ok_or_else(|| "an overhead per task was not finite".into())
        };
        rows.push(vec![
            n.to_string(),
            format!("{:.3}", runs.stats("sequential").median * 1e3 / 16.0),
            spread(over(&thr_over)?, 1e3, 3),
            spread(runs.efficiency("sequential", "threads", 2), 1.0, 2),
            spread(over(&pro_over)?, 1e3, 3),
            spread(runs.efficiency("sequential", "processes", 2), 1.0, 2),
        ]);
    }
    run.report.tables.push(Table {
        title: format!(
            "Overhead against problem size (16 conditional solves, nx = nt = n, 2 workers): \
             median (min – max) of {reps} interleaved repetitions"
        ),
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
    Ok(())
}

/// Section 5: error and time against grid size, accelerated and plain.
fn convergence(run: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let game = LQ;
    let sizes: &[usize] = if run.quick() {
        &[25, 50, 100, 200, 400]
    } else {
        &[25, 50, 100, 200, 400, 800]
    };
    let (mut eu, mut ev, mut tm, mut tm_plain) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for &n in sizes {
        // The asymmetric domain [-2, 2] with m0 = N(0.3, 0.4^2), as in the closed-form tests.
        let mut cfg = game.mean_target_config(0.3, 0.4, 2.0, n, n);
        cfg.domain = [-2.0, 2.0];
        let mut plain_cfg = cfg.clone();
        plain_cfg.solver.anderson_depth = 0;
        let mut fast = cfg.solver()?;
        let mut plain = plain_cfg.solver()?;
        let sol = fast.solve(None)?;
        let plain_sol = plain.solve(None)?;
        let reps = if n >= 400 { 1 } else { 3 };
        let runs = Interleave::new(reps)
            .timed("anderson", || {
                let _ = fast.solve(None);
            })
            .timed("plain", || {
                let _ = plain.solve(None);
            })
            .run();
        let e = game.mean_target_errors(&sol, 1.0);
        let (t, tp) = (runs.stats("anderson"), runs.stats("plain"));
        eu.push((n as f64, e.max_err_u));
        ev.push((n as f64, e.max_err_var));
        tm.push((n as f64, t.median));
        tm_plain.push((n as f64, tp.median));
        rows.push(vec![
            n.to_string(),
            format!("{:.3e}", e.max_err_u),
            format!("{:.3e}", e.max_err_var),
            format!("{:.1e}", sol.mass_drift()),
            format!("{} / {}", sol.iterations, plain_sol.iterations),
            format!("{:.3} / {:.3}", 1e3 * t.median, 1e3 * tp.median),
            reps.to_string(),
        ]);
    }
    let order = |v: &[(f64, f64)]| {
        let (a, b) = (v[v.len() - 2], v[v.len() - 1]);
        (a.1 / b.1).ln() / (b.0 / a.0).ln()
    };
    let last = sizes.len() - 1;
    let workload = format!("n = {} -> {}", sizes[last - 1], sizes[last]);
    run.report.push(
        Metric::new("lq_order_u", order(&eu), "order", Better::Higher).with_workload(&workload),
    );
    run.report.push(
        Metric::new("lq_order_var", order(&ev), "order", Better::Higher).with_workload(&workload),
    );
    run.report.tables.push(Table {
        title: "LQ mean-target game: error and time against grid size (nx = nt = n); \
                iterations and times: Anderson (depth 5) / plain Picard, median of the \
                repetitions"
            .into(),
        header: [
            "n",
            "max err u (interior)",
            "max err variance",
            "mass drift",
            "Picard iterations",
            "solve ms",
            "repetitions",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    run.report.plots.push(Plot {
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
                label: "solve time, Anderson (s)".into(),
                points: tm,
            },
            Series {
                label: "solve time, plain Picard (s)".into(),
                points: tm_plain,
            },
        ],
    });
    Ok(())
}
