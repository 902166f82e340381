//! Scenario `par-core`: the overhead analysis behind the whole project.
//!
//! 1. Per-task dispatch overhead and fixed set-up cost of `Threads` and `Processes`, with
//!    small and 1 MB payloads.
//! 2. A break-even table: N in {10, 50, 100} tasks, task times from 10 µs to 100 ms (10 ms in
//!    the quick run), W = 1 and 2: measured speed-up beside the rule's prediction
//!    `N T / (N T / W + O)` with `O = setup + fixed + N d / W` from the measured overheads.
//! 3. Worker scaling (1, 2, 4 workers by default) on a CPU-bound synthetic task.
//!
//! Tasks are real computation (xorshift iterations calibrated to a duration), not sleeps or
//! deadline spins, so over-subscribed workers show up as lost speed-up.

use std::hint::black_box;
use std::time::Instant;

use par_core::bench::{BenchArgs, Better, Metric, Plot, ScenarioReport, Series, Table};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Job, Mode, Progress, RemoteJob, RunReport, TaskContext};
use serde::{Deserialize, Serialize};

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

/// Median wall time of `reps` fresh runs (fresh executor: set-up included).
fn wall<J: RemoteJob>(mode: Mode, job: &J, n: usize, reps: usize) -> f64 {
    let mut walls: Vec<f64> = (0..reps)
        .map(|_| run(&executor(mode), job, n).wall_s)
        .collect();
    walls.sort_by(f64::total_cmp);
    walls[walls.len() / 2]
}

/// Iterations of [`spin`] per microsecond on this machine (best of five 20 ms samples).
fn calibrate() -> f64 {
    let iters = 2_000_000;
    (0..5)
        .map(|_| {
            let t = Instant::now();
            spin(iters, 7);
            iters as f64 / (t.elapsed().as_secs_f64() * 1e6)
        })
        .fold(0.0, f64::max)
}

/// Fitted overheads of one mode at W workers: `wall(N) = intercept + N d / W`.
#[derive(Clone, Copy)]
struct Overheads {
    /// Worker time per task, seconds.
    per_task_s: f64,
    /// Fixed cost per run beyond set-up, seconds.
    fixed_s: f64,
    /// Set-up cost per run (pool build or process spawn), seconds.
    setup_s: f64,
}

impl Overheads {
    /// The rule's overhead O for N tasks on W workers.
    fn total(&self, n: usize, w: usize) -> f64 {
        self.setup_s + self.fixed_s + n as f64 * self.per_task_s / w as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per-task overhead excluding set-up: `((wall − setup) W − busy) / N`.
fn overhead_per_task(r: &RunReport) -> f64 {
    (((r.wall_s - r.setup_s) * r.workers as f64 - r.busy_total_s()) / r.tasks as f64).max(0.0)
}

fn measure_overheads(mode: Mode, n_small: usize, n_large: usize) -> Overheads {
    let w = mode.workers();
    let noop = Work { iters: 0 };
    // Set-up: median of fresh executors.
    let setup_s = median(
        (0..5)
            .map(|_| run(&executor(mode), &noop, 2).setup_s)
            .collect(),
    );
    // Slope and intercept of wall against N, set-up excluded.
    let exec = executor(mode);
    let _ = run(&exec, &noop, 1); // builds the pool where there is one
    let at = |n: usize| {
        median(
            (0..3)
                .map(|_| {
                    let r = run(&exec, &noop, n);
                    r.wall_s - r.setup_s
                })
                .collect(),
        )
    };
    let (w1, w2) = (at(n_small), at(n_large));
    let slope = ((w2 - w1) / (n_large - n_small) as f64).max(0.0);
    Overheads {
        per_task_s: slope * w as f64,
        fixed_s: (w1 - slope * n_small as f64).max(0.0),
        setup_s,
    }
}

fn main() {
    serve_if_worker(&Registry::new().with::<Work>().with::<Payload>());
    let args = match BenchArgs::from_env() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("par-core scenarios: {e}");
            std::process::exit(2);
        }
    };
    let quick = !args.full;
    let mut report = ScenarioReport::new("par-core", quick);
    let per_us = calibrate();
    let job_of = |t: f64| Work {
        iters: (t * 1e6 * per_us).round() as u64,
    };
    eprintln!("par-core: calibrated {per_us:.0} xorshift steps per µs");

    // 1. Overheads.
    eprintln!("par-core: dispatch overheads");
    let threads2 = measure_overheads(Mode::Threads { workers: 2 }, 2_000, 200_000);
    let procs2 = measure_overheads(Mode::Processes { workers: 2 }, 200, 2_000);
    let threads1 = measure_overheads(Mode::Threads { workers: 1 }, 2_000, 200_000);
    let procs1 = measure_overheads(Mode::Processes { workers: 1 }, 200, 2_000);
    let mb = Payload { bytes: 1 << 20 };
    let n_mb = if quick { 100 } else { 400 };
    let t_mb = run(&executor(Mode::Threads { workers: 2 }), &mb, n_mb);
    let p_mb = run(&executor(Mode::Processes { workers: 2 }), &mb, n_mb);
    let t_mb_us = overhead_per_task(&t_mb) * 1e6;
    let p_mb_us = overhead_per_task(&p_mb) * 1e6;
    report.metrics.extend([
        Metric::new(
            "threads_dispatch_us",
            threads2.per_task_s * 1e6,
            "us",
            Better::Lower,
        )
        .with_target(10.0),
        Metric::new(
            "processes_dispatch_us",
            procs2.per_task_s * 1e6,
            "us",
            Better::Lower,
        )
        .with_target(500.0),
        Metric::new(
            "threads_setup_ms",
            threads2.setup_s * 1e3,
            "ms",
            Better::Lower,
        )
        .with_target(1.0),
        Metric::new(
            "processes_setup_ms",
            procs2.setup_s * 1e3,
            "ms",
            Better::Lower,
        ),
        Metric::new(
            "threads_fixed_us",
            threads2.fixed_s * 1e6,
            "us",
            Better::Lower,
        ),
        Metric::new(
            "processes_fixed_us",
            procs2.fixed_s * 1e6,
            "us",
            Better::Lower,
        ),
        Metric::new("threads_dispatch_1mb_us", t_mb_us, "us", Better::Lower),
        Metric::new("processes_dispatch_1mb_us", p_mb_us, "us", Better::Lower),
    ]);
    let row = |mode: &str, w: usize, o: &Overheads| {
        vec![
            mode.to_string(),
            w.to_string(),
            format!("{:.2}", o.per_task_s * 1e6),
            format!("{:.1}", o.fixed_s * 1e6),
            format!("{:.3}", o.setup_s * 1e3),
        ]
    };
    report.tables.push(Table {
        title: "Dispatch overhead (no-op tasks; wall(N) fitted as setup + fixed + N d / W)".into(),
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
            "1 MB payloads ({n_mb} tasks, W = 2): overhead per task beyond the task itself"
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
                format!("{t_mb_us:.1}"),
                format!("{:.2}", t_mb.marshal_s * 1e3),
                format!("{:.3}", t_mb.setup_s * 1e3),
            ],
            vec![
                "processes".into(),
                format!("{p_mb_us:.1}"),
                format!("{:.2}", p_mb.marshal_s * 1e3),
                format!("{:.3}", p_mb.setup_s * 1e3),
            ],
        ],
    });

    // 2. Break-even table.
    eprintln!("par-core: break-even table");
    let mut times = vec![10e-6, 100e-6, 1e-3, 10e-3];
    if !quick {
        times.push(100e-3);
    }
    let mut rows = Vec::new();
    let mut measured_series: Vec<Series> = Vec::new();
    let mut predicted_series: Vec<Series> = Vec::new();
    let mut agree = 0;
    let mut cells = 0;
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
            let reps = if n as f64 * t < 0.05 { 5 } else { 1 };
            let seq = wall(Mode::Sequential, &job, n, reps);
            for (name, w, o) in [
                ("threads", 1, threads1),
                ("threads", 2, threads2),
                ("processes", 1, procs1),
                ("processes", 2, procs2),
            ] {
                let mode = if name == "threads" {
                    Mode::Threads { workers: w }
                } else {
                    Mode::Processes { workers: w }
                };
                let par = wall(mode, &job, n, reps);
                let speedup = seq / par;
                let nt = n as f64 * t;
                let predicted = nt / (nt / w as f64 + o.total(n, w));
                let rule_pays = w > 1 && t > o.total(n, w) / (n as f64 * (1.0 - 1.0 / w as f64));
                let paid = speedup > 1.0;
                cells += 1;
                agree += usize::from(rule_pays == paid);
                if name == "threads" && w == 2 {
                    meas.points.push((t * 1e3, speedup));
                    pred.points.push((t * 1e3, predicted));
                }
                rows.push(vec![
                    name.to_string(),
                    w.to_string(),
                    n.to_string(),
                    format!("{}", t * 1e3),
                    format!("{:.2}", seq * 1e3),
                    format!("{:.2}", par * 1e3),
                    format!("{speedup:.2}"),
                    format!("{predicted:.2}"),
                    if rule_pays { "yes" } else { "no" }.into(),
                    if paid { "yes" } else { "no" }.into(),
                ]);
            }
        }
        measured_series.push(meas);
        predicted_series.push(pred);
    }
    report.tables.push(Table {
        title: "Break-even: measured speed-up against the rule (parallel pays when T > O / (N (1 - 1/W)))".into(),
        header: ["mode", "W", "N", "T (ms)", "sequential (ms)", "parallel (ms)", "speed-up", "predicted", "rule: pays", "paid"]
            .map(String::from)
            .to_vec(),
        rows,
    });
    report.metrics.push(Metric::new(
        "break_even_rule_agreement",
        agree as f64 / cells as f64,
        "ratio",
        Better::Higher,
    ));
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

    // 3. Worker scaling.
    eprintln!("par-core: worker scaling");
    let (n_scale, t_scale) = if quick { (64, 5e-3) } else { (256, 20e-3) };
    let job = job_of(t_scale);
    let seq = wall(Mode::Sequential, &job, n_scale, 1);
    let mut speed = Vec::new();
    let mut eff = Vec::new();
    let mut rows = Vec::new();
    for (name, make) in [
        (
            "threads",
            (|w| Mode::Threads { workers: w }) as fn(usize) -> Mode,
        ),
        ("processes", |w| Mode::Processes { workers: w }),
    ] {
        let mut s = Series {
            label: name.into(),
            points: vec![],
        };
        let mut e = Series {
            label: name.into(),
            points: vec![],
        };
        for &w in &args.workers {
            let r = run(&executor(make(w)), &job, n_scale);
            let speedup = seq / r.wall_s;
            s.points.push((w as f64, speedup));
            e.points.push((w as f64, speedup / w as f64));
            rows.push(vec![
                name.into(),
                w.to_string(),
                format!("{:.1}", r.wall_s * 1e3),
                format!("{speedup:.2}"),
                format!("{:.1} %", 100.0 * speedup / w as f64),
                format!("{:.1} %", 100.0 * r.efficiency),
                format!("{:.1} %", 100.0 * r.imbalance),
            ]);
            if w == 2 {
                report.metrics.push(Metric::new(
                    format!("{name}_speedup_2w"),
                    speedup,
                    "x",
                    Better::Higher,
                ));
            }
        }
        speed.push(s);
        eff.push(e);
    }
    let ideal = Series {
        label: "ideal".into(),
        points: args.workers.iter().map(|&w| (w as f64, w as f64)).collect(),
    };
    speed.push(ideal);
    report.tables.push(Table {
        title: format!(
            "Worker scaling: {n_scale} CPU-bound tasks of {} ms on {} cores (sequential {:.1} ms)",
            t_scale * 1e3,
            report.machine.cores,
            seq * 1e3
        ),
        header: [
            "mode",
            "W",
            "wall (ms)",
            "speed-up",
            "efficiency (speed-up / W)",
            "busy / (wall × W)",
            "imbalance",
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

    // Threads efficiency at 2 workers for 1 ms tasks.
    let n_eff = if quick { 400 } else { 2000 };
    let job = job_of(1e-3);
    // Interleaved repetitions, median of each: one baseline alone moves by several per cent
    // on a shared virtual machine.
    let (mut seqs, mut pars) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        seqs.push(wall(Mode::Sequential, &job, n_eff, 1));
        pars.push(wall(Mode::Threads { workers: 2 }, &job, n_eff, 1));
    }
    let (seq, par) = (median(seqs), median(pars));
    report.metrics.push(
        Metric::new(
            "threads_efficiency_2w_1ms",
            seq / (2.0 * par),
            "ratio",
            Better::Higher,
        )
        .with_target(0.95),
    );
    report.notes.push(format!(
        "Tasks are xorshift loops calibrated to {per_us:.0} steps per µs; timings are medians of \
         up to 5 fresh runs (set-up included) and depend on what else the machine is doing."
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
    match report.write(&args.out) {
        Ok(path) => eprintln!("par-core: wrote {}", path.display()),
        Err(e) => {
            eprintln!(
                "par-core: could not write the report to {}: {e}",
                args.out.display()
            );
            std::process::exit(1);
        }
    }
}
