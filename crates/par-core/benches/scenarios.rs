//! Scenario `par-core`: the overhead analysis behind the whole project.
//!
//! 1. Per-task dispatch overhead and fixed set-up cost of `Threads` and `Processes`, with
//!    small and 1 MB payloads, fitted as `wall(N) = fixed + N d / W` from interleaved runs at
//!    two task counts (the fitted values are reported as fitted, negative ones included).
//! 2. A break-even table: N in {10, 50, 100} tasks, task times from 10 µs to 100 ms (10 ms in
//!    the quick run), W = 2: measured speed-up (median of paired repetitions) beside the rule's
//!    prediction `N T / (N T / W + O)` with `O = setup + fixed + N d / W`, and what
//!    `Mode::Auto` chose in the same cell against what paid.
//! 3. Worker scaling (1, 2, 4 workers by default) on a CPU-bound synthetic task.
//!
//! Every timing goes through `par_core::bench::Interleave`: the compared modes alternate within
//! each repetition, the median is the headline, min and max beside it. Tasks are real
//! computation (xorshift iterations calibrated to a duration), not sleeps or deadline spins, so
//! over-subscribed workers show up as lost speed-up.

use std::hint::black_box;
use std::process::ExitCode;

use par_core::bench::{
    Better, Declared, Interleave, Interleaved, Metric, Plot, ScenarioError, ScenarioRun, Series,
    Stats, Table, run_scenario, time,
};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Job, Mode, Progress, RemoteJob, RunReport, TaskContext};
use serde::{Deserialize, Serialize};

/// The metrics this scenario promises, with the targets of the par-core issue.
const TARGETS: &[Declared] = &[
    Declared::new(
        "threads_dispatch_us",
        "us",
        Better::Lower,
        "worker time per no-op task on 2 threads (fitted slope d of wall against N)",
    )
    .target(10.0),
    Declared::new(
        "processes_dispatch_us",
        "us",
        Better::Lower,
        "worker time per no-op task on 2 worker processes (fitted slope d, small payloads)",
    )
    .target(500.0),
    Declared::new(
        "threads_setup_ms",
        "ms",
        Better::Lower,
        "building a 2-thread pool",
    )
    .target(1.0),
    Declared::new(
        "processes_setup_ms",
        "ms",
        Better::Lower,
        "starting 2 worker processes until the first is ready",
    ),
    Declared::new(
        "threads_fixed_us",
        "us",
        Better::Lower,
        "fixed cost of a 2-thread run beyond set-up (fitted intercept)",
    ),
    Declared::new(
        "processes_fixed_us",
        "us",
        Better::Lower,
        "fixed cost of a 2-process run beyond set-up (fitted intercept)",
    ),
    Declared::new(
        "threads_dispatch_1mb_us",
        "us",
        Better::Lower,
        "overhead per task returning 1 MB, 2 threads",
    ),
    Declared::new(
        "processes_dispatch_1mb_us",
        "us",
        Better::Lower,
        "overhead per task returning 1 MB through pipes, 2 processes",
    ),
    Declared::new(
        "break_even_rule_agreement",
        "ratio",
        Better::Higher,
        "share of break-even cells (W = 2) where the rule's verdict matches whether parallelism paid",
    ),
    Declared::new(
        "auto_choice_agreement",
        "ratio",
        Better::Higher,
        "share of break-even cells where Mode::Auto's own choice matches whether threads paid",
    ),
    Declared::new(
        "threads_speedup_2w",
        "x",
        Better::Higher,
        "speed-up of 2 threads over sequential on the worker-scaling workload",
    ),
    Declared::new(
        "processes_speedup_2w",
        "x",
        Better::Higher,
        "speed-up of 2 worker processes over sequential on the worker-scaling workload",
    ),
    Declared::new(
        "threads_efficiency_2w_1ms",
        "ratio",
        Better::Higher,
        "parallel efficiency of 2 threads on 1 ms tasks",
    )
    .target(0.95),
];

/// `iters` xorshift steps: about a nanosecond each, calibrated at start-up.
#[derive(Serialize, Deserialize)]
struct Work {
    iters: u64,
}

fn spin(iters: u64, seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..iters {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    black_box(x)
}

impl Job for Work {
    type Output = u64;
    fn run(&self, ctx: &mut TaskContext) -> u64 {
        spin(self.iters, ctx.index as u64)
    }
}

impl RemoteJob for Work {
    const NAME: &'static str = "par-core.bench.work";
}

/// Returns `bytes` bytes per task.
#[derive(Serialize, Deserialize)]
struct Payload {
    bytes: usize,
}

#[derive(Serialize, Deserialize)]
struct Blob(#[serde(with = "par_core::process::bytes")] Vec<u8>);

impl Job for Payload {
    type Output = Blob;
    fn run(&self, ctx: &mut TaskContext) -> Blob {
        Blob(vec![ctx.index as u8; self.bytes])
    }
}

impl RemoteJob for Payload {
    const NAME: &'static str = "par-core.bench.payload";
}

fn executor(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .expect("valid bench configuration")
}

fn run<J: RemoteJob>(exec: &Executor, job: &J, n: usize) -> RunReport {
    let out = exec.run(job, n).expect("bench run");
    assert!(
        out.is_complete(),
        "bench tasks failed: {:?}",
        out.report.failures
    );
    out.report
}

/// Wall time of one run on a fresh executor (set-up included, as a user pays it).
fn fresh_wall<J: RemoteJob>(mode: Mode, job: &J, n: usize) -> f64 {
    run(&executor(mode), job, n).wall_s
}

/// Iterations of [`spin`] per microsecond on this machine (median of five 20 ms samples).
fn calibrate() -> f64 {
    let iters = 2_000_000;
    let runs = Interleave::new(5).timed("spin", || {
        spin(iters, 7);
    });
    iters as f64 / (runs.run().stats("spin").median * 1e6)
}

/// Fitted overheads of one mode at W workers: `wall(N) − setup = fixed + N d / W`, each a
/// median over repetitions of the two-point fit, reported as fitted (a negative value means the
/// quantity is below the noise of the measurement).
#[derive(Clone, Copy)]
struct Overheads {
    /// Worker time per task `d`, seconds.
    per_task: Stats,
    /// Fixed cost per run beyond set-up, seconds.
    fixed: Stats,
    /// Set-up cost per run (pool build or process spawn), seconds.
    setup: Stats,
}

impl Overheads {
    /// The rule's overhead O for N tasks on W workers (medians; a negative fitted total is
    /// taken as zero, the least an overhead can be).
    fn total(&self, n: usize, w: usize) -> f64 {
        (self.setup.median + self.fixed.median + n as f64 * self.per_task.median / w as f64)
            .max(0.0)
    }
}

/// Per-task overhead excluding set-up: `((wall − setup) W − busy) / N`.
fn overhead_per_task(r: &RunReport) -> f64 {
    ((r.wall_s - r.setup_s) * r.workers as f64 - r.busy_total_s()) / r.tasks as f64
}

fn stats(samples: &[f64]) -> Stats {
    Stats::from_samples(samples).expect("finite timings")
}

fn measure_overheads(mode: Mode, n_small: usize, n_large: usize, reps: usize) -> Overheads {
    let w = mode.workers() as f64;
    let noop = Work { iters: 0 };
    let setup = Interleave::new(reps)
        .sampled("setup", || run(&executor(mode), &noop, 2).setup_s)
        .run()
        .stats("setup");
    // Wall against N on one executor (set-up excluded), the two sizes interleaved.
    let exec = executor(mode);
    let _ = run(&exec, &noop, 1); // builds the pool where there is one
    let after_setup = |n: usize| {
        let r = run(&exec, &noop, n);
        r.wall_s - r.setup_s
    };
    let runs = Interleave::new(reps)
        .sampled("small", || after_setup(n_small))
        .sampled("large", || after_setup(n_large))
        .run();
    let (small, large) = (runs.samples("small"), runs.samples("large"));
    let slopes: Vec<f64> = small
        .iter()
        .zip(large)
        .map(|(a, b)| (b - a) / (n_large - n_small) as f64)
        .collect();
    let fixed: Vec<f64> = small
        .iter()
        .zip(&slopes)
        .map(|(a, slope)| a - slope * n_small as f64)
        .collect();
    let per_task: Vec<f64> = slopes.iter().map(|s| s * w).collect();
    Overheads {
        per_task: stats(&per_task),
        fixed: stats(&fixed),
        setup,
    }
}

fn main() -> ExitCode {
    serve_if_worker(&Registry::new().with::<Work>().with::<Payload>());
    run_scenario("par-core", TARGETS, measure)
}

fn measure(run_: &mut ScenarioRun) -> Result<(), ScenarioError> {
    let quick = run_.quick();
    let per_us = calibrate();
    let job_of = |t: f64| Work {
        iters: (t * 1e6 * per_us).round() as u64,
    };
    eprintln!("par-core: calibrated {per_us:.0} xorshift steps per µs");
    let reps = if quick { 5 } else { 9 };

    // 1. Overheads.
    eprintln!("par-core: dispatch overheads");
    let threads2 = measure_overheads(Mode::Threads { workers: 2 }, 2_000, 200_000, reps);
    let procs2 = measure_overheads(Mode::Processes { workers: 2 }, 200, 2_000, reps);
    let threads1 = measure_overheads(Mode::Threads { workers: 1 }, 2_000, 200_000, reps);
    let procs1 = measure_overheads(Mode::Processes { workers: 1 }, 200, 2_000, reps);
    let report = &mut run_.report;
    let us = |s: Stats| s.scaled(1e6);
    let ms = |s: Stats| s.scaled(1e3);
    report.push(Metric::from_stats(
        "threads_dispatch_us",
        us(threads2.per_task),
        "us",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "processes_dispatch_us",
        us(procs2.per_task),
        "us",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "threads_setup_ms",
        ms(threads2.setup),
        "ms",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "processes_setup_ms",
        ms(procs2.setup),
        "ms",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "threads_fixed_us",
        us(threads2.fixed),
        "us",
        Better::Lower,
    ));
    report.push(Metric::from_stats(
        "processes_fixed_us",
        us(procs2.fixed),
        "us",
        Better::Lower,
    ));

    let mb = Payload { bytes: 1 << 20 };
    let n_mb = if quick { 100 } else { 400 };
    let (mut t_mb, mut p_mb) = (None, None);
    let mb_runs = Interleave::new(reps)
        .sampled("threads", || {
            let r = run(&executor(Mode::Threads { workers: 2 }), &mb, n_mb);
            let o = overhead_per_task(&r);
            t_mb = Some(r);
            o
        })
        .sampled("processes", || {
            let r = run(&executor(Mode::Processes { workers: 2 }), &mb, n_mb);
            let o = overhead_per_task(&r);
            p_mb = Some(r);
            o
        })
        .run();
    let (t_mb, p_mb) = (t_mb.expect("ran"), p_mb.expect("ran"));
    let t_mb_us = us(mb_runs.stats("threads"));
    let p_mb_us = us(mb_runs.stats("processes"));
    let workload = format!("{n_mb} tasks of 1 MB");
    report.push(
        Metric::from_stats("threads_dispatch_1mb_us", t_mb_us, "us", Better::Lower)
            .with_workload(&workload),
    );
    report.push(
        Metric::from_stats("processes_dispatch_1mb_us", p_mb_us, "us", Better::Lower)
            .with_workload(&workload),
    );
    let spread = |s: Stats, digits: usize| {
        format!(
            "{:.digits$} ({:.digits$} – {:.digits$})",
            s.median, s.min, s.max
        )
    };
    let row = |mode: &str, w: usize, o: &Overheads| {
        vec![
            mode.to_string(),
            w.to_string(),
            spread(us(o.per_task), 2),
            spread(us(o.fixed), 1),
            spread(ms(o.setup), 3),
        ]
    };
    report.tables.push(Table {
        title: format!(
            "Dispatch overhead (no-op tasks; wall(N) fitted as setup + fixed + N d / W from two \
             task counts; median (min – max) of {reps} interleaved repetitions, as fitted: a \
             negative value is below the measurement's noise)"
        ),
        header: [
            "mode",
            "W",
            "d: worker time per task (µs)",
            "fixed per run (µs)",
            "set-up (ms)",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            row("threads", 1, &threads1),
            row("threads", 2, &threads2),
            row("processes", 1, &procs1),
            row("processes", 2, &procs2),
        ],
    });
    report.tables.push(Table {
        title: format!(
            "1 MB payloads ({n_mb} tasks, W = 2): overhead per task beyond the task itself, \
             median (min – max) of {reps}; marshalling and set-up of the last repetition"
        ),
        header: [
            "mode",
            "overhead per task (µs)",
            "marshalling total (ms)",
            "set-up (ms)",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            vec![
                "threads".into(),
                spread(t_mb_us, 1),
                format!("{:.2}", t_mb.marshal_s * 1e3),
                format!("{:.3}", t_mb.setup_s * 1e3),
            ],
            vec![
                "processes".into(),
                spread(p_mb_us, 1),
                format!("{:.2}", p_mb.marshal_s * 1e3),
                format!("{:.3}", p_mb.setup_s * 1e3),
            ],
        ],
    });
    run_.checkpoint();

    // 2. Break-even table at W = 2 (at W = 1 parallelism cannot pay: no cells there).
    eprintln!("par-core: break-even table");
    let mut times = vec![10e-6, 100e-6, 1e-3, 10e-3];
    if !quick {
        times.push(100e-3);
    }
    let mut rows = Vec::new();
    let mut measured_series: Vec<Series> = Vec::new();
    let mut predicted_series: Vec<Series> = Vec::new();
    let (mut agree, mut auto_agree, mut cells, mut auto_cells) = (0, 0, 0, 0);
    const W: usize = 2;
    for n in [10usize, 50, 100] {
        let mut meas = Series {
            label: format!("threads W=2, N={n}: measured"),
            points: vec![],
        };
        let mut pred = Series {
            label: format!("threads W=2, N={n}: predicted"),
            points: vec![],
        };
        for &t in &times {
            let job = job_of(t);
            let cell_reps = if n as f64 * t < 0.05 { reps } else { 3 };
            let mut auto_parallel = 0;
            let runs = Interleave::new(cell_reps)
                .timed("sequential", || {
                    fresh_wall(Mode::Sequential, &job, n);
                })
                .sampled("threads", || {
                    fresh_wall(Mode::Threads { workers: W }, &job, n)
                })
                .sampled("processes", || {
                    fresh_wall(Mode::Processes { workers: W }, &job, n)
                })
                .sampled("auto", || {
                    let (r, wall) = time(|| run(&executor(Mode::Auto { workers: W }), &job, n));
                    auto_parallel += usize::from(r.mode.starts_with("threads"));
                    wall
                })
                .run();
            let auto_chose_threads = 2 * auto_parallel > cell_reps;
            for (name, o) in [("threads", threads2), ("processes", procs2)] {
                let speedup = runs.speedup("sequential", name);
                let nt = n as f64 * t;
                let overhead = o.total(n, W);
                let predicted = nt / (nt / W as f64 + overhead);
                let rule_pays = t > overhead / (n as f64 * (1.0 - 1.0 / W as f64));
                let paid = speedup.median > 1.0;
                cells += 1;
                agree += usize::from(rule_pays == paid);
                let auto_cell = if name == "threads" {
                    auto_cells += 1;
                    auto_agree += usize::from(auto_chose_threads == paid);
                    let auto_speedup = runs.speedup("sequential", "auto").median;
                    meas.points.push((t * 1e3, speedup.median));
                    pred.points.push((t * 1e3, predicted));
                    format!(
                        "{} ({auto_speedup:.2}x)",
                        if auto_chose_threads {
                            "threads"
                        } else {
                            "sequential"
                        }
                    )
                } else {
                    "–".into()
                };
                rows.push(vec![
                    name.to_string(),
                    n.to_string(),
                    format!("{}", t * 1e3),
                    format!("{:.2}", runs.stats("sequential").median * 1e3),
                    format!("{:.2}", runs.stats(name).median * 1e3),
                    format!(
                        "{:.2} ({:.2} – {:.2})",
                        speedup.median, speedup.min, speedup.max
                    ),
                    format!("{predicted:.2}"),
                    if rule_pays { "yes" } else { "no" }.into(),
                    if paid { "yes" } else { "no" }.into(),
                    auto_cell,
                ]);
            }
        }
        measured_series.push(meas);
        predicted_series.push(pred);
    }
    let report = &mut run_.report;
    report.tables.push(Table {
        title: format!(
            "Break-even at W = {W}: measured speed-up (median (min – max) of paired repetitions, \
             fresh executors, set-up included) against the rule (parallel pays when \
             T > O / (N (1 - 1/W))), and what Mode::Auto chose in the same cell (its own speed-up)"
        ),
        header: [
            "mode",
            "N",
            "T (ms)",
            "sequential (ms)",
            "parallel (ms)",
            "speed-up",
            "predicted",
            "rule: pays",
            "paid",
            "auto chose",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    report.push(
        Metric::new(
            "break_even_rule_agreement",
            agree as f64 / cells as f64,
            "ratio",
            Better::Higher,
        )
        .with_workload(format!("{cells} cells")),
    );
    report.push(
        Metric::new(
            "auto_choice_agreement",
            auto_agree as f64 / auto_cells as f64,
            "ratio",
            Better::Higher,
        )
        .with_workload(format!("{auto_cells} cells")),
    );
    let mut series = measured_series;
    series.extend(predicted_series);
    report.plots.push(Plot {
        name: "break_even".into(),
        title: "Threads, W = 2: speed-up against task time".into(),
        x_label: "task time (ms)".into(),
        y_label: "speed-up over sequential".into(),
        log_x: true,
        log_y: false,
        series,
    });
    run_.checkpoint();

    // 3. Worker scaling.
    eprintln!("par-core: worker scaling");
    let workers = run_.args.workers.clone();
    let (n_scale, t_scale) = if quick { (64, 5e-3) } else { (256, 20e-3) };
    let job = job_of(t_scale);
    let scale_reps = if quick { 3 } else { 5 };
    let mut bench = Interleave::new(scale_reps).timed("sequential", || {
        fresh_wall(Mode::Sequential, &job, n_scale);
    });
    let modes = [
        (
            "threads",
            (|w| Mode::Threads { workers: w }) as fn(usize) -> Mode,
        ),
        ("processes", |w| Mode::Processes { workers: w }),
    ];
    let job = &job;
    for (name, make) in modes {
        for &w in &workers {
            bench = bench.sampled(format!("{name} {w}"), move || {
                fresh_wall(make(w), job, n_scale)
            });
        }
    }
    let runs: Interleaved = bench.run();
    let mut speed = Vec::new();
    let mut eff = Vec::new();
    let mut rows = Vec::new();
    let report = &mut run_.report;
    for (name, _) in modes {
        let mut s = Series {
            label: name.into(),
            points: vec![],
        };
        let mut e = Series {
            label: name.into(),
            points: vec![],
        };
        for &w in &workers {
            let variant = format!("{name} {w}");
            let speedup = runs.speedup("sequential", &variant);
            let efficiency = runs.efficiency("sequential", &variant, w);
            s.points.push((w as f64, speedup.median));
            e.points.push((w as f64, efficiency.median));
            rows.push(vec![
                name.into(),
                w.to_string(),
                format!("{:.1}", runs.stats(&variant).median * 1e3),
                format!(
                    "{:.2} ({:.2} – {:.2})",
                    speedup.median, speedup.min, speedup.max
                ),
                format!("{:.1} %", 100.0 * efficiency.median),
            ]);
            if w == 2 {
                report.push(
                    Metric::speedup(format!("{name}_speedup_2w"), speedup, 2)
                        .with_workload(format!("{n_scale} tasks of {} ms", t_scale * 1e3)),
                );
            }
        }
        speed.push(s);
        eff.push(e);
    }
    if !workers.contains(&2) {
        for name in ["threads_speedup_2w", "processes_speedup_2w"] {
            report.not_measured(name, "--workers does not include 2");
        }
    }
    let ideal = Series {
        label: "ideal".into(),
        points: workers.iter().map(|&w| (w as f64, w as f64)).collect(),
    };
    speed.push(ideal);
    report.tables.push(Table {
        title: format!(
            "Worker scaling: {n_scale} CPU-bound tasks of {} ms on {} cores (sequential {:.1} ms); \
             speed-up = median (min – max) of {scale_reps} paired repetitions",
            t_scale * 1e3,
            report.machine.cores,
            runs.stats("sequential").median * 1e3
        ),
        header: [
            "mode",
            "W",
            "wall (ms)",
            "speed-up",
            "efficiency (speed-up / W)",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    report.plots.push(Plot {
        name: "scaling_speedup".into(),
        title: format!(
            "Speed-up against workers ({n_scale} tasks of {} ms)",
            t_scale * 1e3
        ),
        x_label: "workers".into(),
        y_label: "speed-up".into(),
        log_x: false,
        log_y: false,
        series: speed,
    });
    report.plots.push(Plot {
        name: "scaling_efficiency".into(),
        title: "Efficiency (speed-up / workers)".into(),
        x_label: "workers".into(),
        y_label: "efficiency".into(),
        log_x: false,
        log_y: false,
        series: eff,
    });
    run_.checkpoint();

    // Threads efficiency at 2 workers for 1 ms tasks.
    let n_eff = if quick { 400 } else { 2000 };
    let job = job_of(1e-3);
    let runs = Interleave::new(reps)
        .timed("sequential", || {
            fresh_wall(Mode::Sequential, &job, n_eff);
        })
        .sampled("threads", || {
            fresh_wall(Mode::Threads { workers: 2 }, &job, n_eff)
        })
        .run();
    let report = &mut run_.report;
    report.push(
        Metric::efficiency(
            "threads_efficiency_2w_1ms",
            runs.efficiency("sequential", "threads", 2),
        )
        .with_workload(format!("{n_eff} tasks of 1 ms")),
    );
    report.notes.push(format!(
        "Tasks are xorshift loops calibrated to {per_us:.0} steps per µs. Every timing is the \
         median of interleaved repetitions (the compared modes alternate within each), with min \
         and max beside it; speed-ups and efficiencies are medians of per-repetition paired \
         ratios. Parallel figures move with what the host gives the second core."
    ));
    if report.machine.cores < 4 {
        report.notes.push(format!(
            "This machine has {} cores: worker counts above that over-subscribe it, so their \
             speed-up is bounded by the core count.",
            report.machine.cores
        ));
    }
    if quick {
        report.notes.push("Quick run: task times up to 10 ms in the break-even table; --full adds 100 ms and larger scaling runs.".into());
    }
    Ok(())
}
