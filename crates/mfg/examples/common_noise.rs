//! K conditional (frozen-path) solves of the LQ game whose target is an Ornstein-Uhlenbeck
//! path, aggregated: prints the statistics and writes files a user can plot.
//!
//! ```text
//! cargo run -p mfg --release --example common_noise -- --paths 40 --sampling antithetic \
//!     --mode threads --workers 2 --out target/common_noise
//! ```
//!
//! On MPI (build with `--features mpi`; every rank runs the same command and gets the same
//! statistics, rank 0 alone prints and writes the files):
//!
//! ```text
//! mpirun -np 4 target/release/examples/common_noise --mode mpi --workers 1 --paths 400
//! ```
//!
//! Files under `--out`: `summary.json` (the run's self-description, scalar estimate, standard
//! error, measured variance reduction, warnings, run report), `m_stats.csv` and `u_stats.csv`
//! (`t,x,mean,std,band_lo,band_hi`), `paths.csv` (`path,t,theta,first_moment`) and `m_band.svg`
//! (mean density and its pointwise 95% band at four times). Beside the CSV, every array as a
//! NumPy `.npy` file (float64, C order), listed with its shape in
//! `mfg::common_noise::CommonNoiseResult::arrays`: `x.npy` `(nx,)`, `t.npy` `(nt + 1,)`,
//! `m_mean.npy`, `m_std.npy`, `m_std_error.npy`, `m_band_lo.npy`, `m_band_hi.npy` and the same
//! for `u_` (each `(nt + 1, nx)`, time x space), `moment_*.npy` `(nt + 1,)`, `theta.npy` and
//! `first_moment.npy` `(K, nt + 1)` (path x time). In Python: `m = numpy.load("m_mean.npy");
//! m[n, i]` is the mean density at `t[n]`, `x[i]`. Every file is written atomically. Averaging
//! frozen-path equilibria is not the adapted common-noise equilibrium; see `mfg::common_noise`.
//!
//! **Thresholds.** The standard error comes from independent groups (paths for plain sampling,
//! antithetic pairs, QMC replicates): fewer than 2 is an error (no variance), fewer than
//! `mfg::common_noise::FEW_GROUPS` (20) prints a warning with the interval and its width. The
//! grid `--n` must resolve the initial density `N(0.3, 0.4^2)` on `[-2.5, 2.5]`: cells no wider
//! than its standard deviation (`--n 13` or more, an error below), and a warning while they are
//! wider than half of it (below `--n 25`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, CommonNoiseResult, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use par_cli::numbers::{count_in, seed};
use par_cli::output_files::{check_writable_on_root, write_atomic, write_json};
use par_cli::{ExecArgs, RunRecord};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor};
use plotters::prelude::*;

/// The domain and the initial density of the game.
const DOMAIN: [f64; 2] = [-2.5, 2.5];
const M0_MEAN: f64 = 0.3;
const M0_STD: f64 = 0.4;
/// Fewest cells: no wider than the initial density's standard deviation.
const MIN_N: usize = 13;
/// Below this many cells, a warning: cells wider than half the standard deviation.
const COARSE_N: usize = 25;

/// How the paths are drawn.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum SamplingArg {
    /// Independent paths.
    Plain,
    /// Pairs of mirrored paths (K even, at least 4).
    Antithetic,
    /// Randomised quasi-Monte Carlo (scrambled Sobol), in --replicates independent replicates.
    Qmc,
}

/// Common noise by conditioning on K paths of an Ornstein-Uhlenbeck target: the LQ game
/// (eps = c = 1, sigma = 0.5, T = 1) on [-2.5, 2.5] with m0 = N(0.3, 0.4^2), solved once per
/// path, aggregated into means, standard deviations and confidence bands.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Writes into --out DIR: summary.json ({\"run\": {tool, version, provenance, \
machine, config, seed, inputs, timings}, \"scalar\", \"independent_plain\", \"groups\", \
\"converged\", \"paths\", \"max_mass_drift\", \"warnings\", \"report\"}), m_stats.csv, \
u_stats.csv, paths.csv, m_band.svg, and NumPy arrays x, t, m_*, u_*, moment_*, theta, \
first_moment (.npy). Every file is written atomically.

Thresholds: fewer than 2 independent groups (paths, antithetic pairs, QMC replicates) is an \
error; fewer than 20 prints a warning with the interval and its width. --n below 13 is refused \
(cells wider than the initial density's standard deviation), below 25 warned about."
)]
struct Args {
    #[command(flatten)]
    exec: ExecArgs,
    /// Number of paths K.
    #[arg(long, default_value_t = 40, value_parser = count_in(1, 1_000_000))]
    paths: usize,
    /// Path sampling.
    #[arg(long, value_enum, default_value_t = SamplingArg::Antithetic)]
    sampling: SamplingArg,
    /// QMC replicates (independent randomisations; K must be a multiple), used with --sampling qmc.
    #[arg(long, default_value_t = 5, value_parser = count_in(2, 100_000))]
    replicates: usize,
    /// Seed of the paths (path k depends on (seed, k) only); the independent plain run uses
    /// seed + 1000.
    #[arg(long, default_value_t = 1, value_parser = seed)]
    seed: u64,
    /// Cells and time steps of the grid (at least 13: see the thresholds below).
    #[arg(long, default_value_t = 51, value_parser = count_in(1, 100_000))]
    n: usize,
    /// Output folder (created if needed).
    #[arg(long, default_value = "target/common_noise")]
    out: PathBuf,
}

/// The files written besides the arrays.
const FILES: [&str; 5] = [
    "summary.json",
    "m_stats.csv",
    "u_stats.csv",
    "paths.csv",
    "m_band.svg",
];

fn main() -> ExitCode {
    serve_if_worker(&Registry::new().with::<CommonNoiseJob>());
    par_cli::main_with(|| {
        let a = Args::parse();
        let mut record = RunRecord::start(
            "mfg common_noise",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_MANIFEST_DIR"),
        );
        let dx = (DOMAIN[1] - DOMAIN[0]) / a.n as f64;
        if a.n < MIN_N {
            bail!(
                "--n {}: cells of width {dx:.3} are wider than the initial density's standard \
                 deviation {M0_STD}, which the grid cannot resolve; use --n {MIN_N} or more",
                a.n
            );
        }
        // Built first: with --mode mpi it starts MPI, and only rank 0 writes files and prints.
        let exec = Executor::new(ExecConfig {
            label: "paths".into(),
            ..a.exec.exec_config(a.seed)
        })?;
        let root = par_core::mpi::is_root();
        let files: Vec<PathBuf> = FILES.iter().map(|name| a.out.join(name)).collect();
        check_writable_on_root(&exec, std::slice::from_ref(&a.out), &files)?;
        let lq = LqGame {
            eps: 1.0,
            c: 1.0,
            sigma: 0.5,
            horizon: 1.0,
        };
        let game = lq.path_target_config(DOMAIN, M0_MEAN, M0_STD, a.n, a.n);
        let sampling = match a.sampling {
            SamplingArg::Plain => Sampling::Plain,
            SamplingArg::Antithetic => Sampling::Antithetic,
            SamplingArg::Qmc => Sampling::Qmc {
                replicates: a.replicates,
            },
        };
        let concurrent = exec.config().mode.workers().min(a.paths);
        // The independent plain run keeps its own paths while the first run's are alive.
        let runs = if matches!(sampling, Sampling::Plain) {
            1
        } else {
            2
        };
        let cells = (a.n as u128) * (a.n as u128 + 1);
        // CSV text (about 130 bytes a line, two files) and the arrays' copies for the writers.
        let outputs = cells * (2 * 130 + 12 * 8);
        par_cli::memory::ensure_fits(
            &format!("{} paths on a {} x {} grid", a.paths, a.n, a.n),
            CommonNoiseJob::memory_bytes(&game, a.paths, concurrent)
                .saturating_mul(runs)
                .saturating_add(outputs),
        )?;
        let noise = NoiseConfig {
            paths: a.paths,
            seed: a.seed,
            process: NoiseProcess::OrnsteinUhlenbeck {
                kappa: 1.0,
                mean: 0.0,
                sigma: 0.5,
                x0: 0.4,
            },
            sampling,
            level: 0.95,
        };
        let job = CommonNoiseJob::new(game.clone(), noise.clone()).with_context(|| {
            format!(
                "--paths {} with --sampling {}{}",
                a.paths,
                a.sampling
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string()),
                match a.sampling {
                    SamplingArg::Qmc => format!(" --replicates {}", a.replicates),
                    _ => String::new(),
                }
            )
        })?;
        let plain_seed = a.seed.wrapping_add(1000);
        record.seed = Some(a.seed);
        record.set_config(&serde_json::json!({
            "game": game,
            "noise": noise,
            "n": a.n,
            "mode": exec.config().mode.to_string(),
            "independent_plain_seed": (runs == 2).then_some(plain_seed),
        }));
        // Under MPI every rank runs the paths and gets the same statistics.
        let r = job.run(&exec)?;
        let s = r.scalar;
        if root {
            eprintln!("{}", r.report);
            println!(
                "E[first moment of m(T)] = {:.6} +- {:.2e} (95% CI [{:.6}, {:.6}]), {} of {} paths converged, max mass drift {:.1e}",
                s.estimate, s.std_error, s.ci[0], s.ci[1], r.converged, a.paths, r.max_mass_drift
            );
            println!(
                "variance reduction against plain MC at equal K (measured): {:.1}",
                s.variance_reduction
            );
        }
        let mut warnings = r.warnings();
        if a.n < COARSE_N {
            warnings.push(format!(
                "--n {}: cells of width {dx:.3} are wider than half the initial density's \
                 standard deviation {M0_STD}; the first-order scheme's error grows with the cell \
                 width (use --n {COARSE_N} or more)",
                a.n
            ));
        }
        for w in warnings.iter().filter(|_| root) {
            eprintln!("warning: {w}");
        }
        // An independent plain run at equal K, for a direct comparison of standard errors.
        let plain = if runs == 1 {
            None
        } else {
            let noise = NoiseConfig {
                sampling: Sampling::Plain,
                seed: plain_seed,
                ..noise
            };
            let p = CommonNoiseJob::new(game, noise)?.run(&exec)?;
            if root {
                println!(
                    "independent plain run: {:.6} +- {:.2e}; squared standard-error ratio {:.1}",
                    p.scalar.estimate,
                    p.scalar.std_error,
                    (p.scalar.std_error / s.std_error).powi(2)
                );
            }
            Some(p.scalar)
        };
        record.finish();
        let summary = serde_json::json!({
            "run": record,
            "scalar": s,
            "independent_plain": plain,
            "groups": r.groups,
            "converged": r.converged,
            "paths": a.paths,
            "max_mass_drift": r.max_mass_drift,
            "warnings": warnings,
            "report": r.report,
        });
        if root {
            write_json(&a.out.join("summary.json"), &summary)?;
            write_files(&r, &a.out)?;
            println!("wrote {}", a.out.display());
        }
        if !(s.estimate.is_finite() && s.std_error.is_finite()) {
            bail!(
                "the estimate is not finite: a path's solve produced non-finite values (see {})",
                a.out.join("summary.json").display()
            );
        }
        if r.converged == 0 {
            bail!(
                "none of the {} paths converged: the estimate is not a result (see {})",
                a.paths,
                a.out.join("summary.json").display()
            );
        }
        Ok(())
    })
}

/// The CSV files, the arrays and the plot, each written atomically.
fn write_files(r: &CommonNoiseResult, out: &Path) -> anyhow::Result<()> {
    let grid = &r.grid;
    let nx = grid.nx();
    for (name, stats) in [("m_stats.csv", &r.m), ("u_stats.csv", &r.u)] {
        let mut text = String::from("t,x,mean,std,band_lo,band_hi\n");
        for n in 0..grid.levels() {
            for i in 0..nx {
                writeln!(
                    text,
                    "{},{},{},{},{},{}",
                    grid.t(n),
                    grid.x(i),
                    stats.mean[[n, i]],
                    stats.std[[n, i]],
                    stats.band_lo[[n, i]],
                    stats.band_hi[[n, i]]
                )?;
            }
        }
        write_atomic(&out.join(name), text.as_bytes())?;
    }
    let mut text = String::from("path,t,theta,first_moment\n");
    for (p, path) in r.paths.iter().enumerate() {
        for n in 0..grid.levels() {
            writeln!(text, "{p},{},{},{}", grid.t(n), path.theta[n], path.mean[n])?;
        }
    }
    write_atomic(&out.join("paths.csv"), text.as_bytes())?;
    for (name, array) in r.arrays() {
        let path = out.join(format!("{name}.npy"));
        let mut bytes = Vec::new();
        ndarray_npy::WriteNpyExt::write_npy(&array, &mut bytes)
            .with_context(|| format!("encoding {}", path.display()))?;
        write_atomic(&path, &bytes)?;
    }
    let mut svg = String::new();
    plot(r, &mut svg)?;
    write_atomic(&out.join("m_band.svg"), svg.as_bytes())?;
    Ok(())
}

fn plot(r: &CommonNoiseResult, svg: &mut String) -> anyhow::Result<()> {
    let grid = &r.grid;
    let nx = grid.nx();
    let levels = [0, grid.nt() / 4, grid.nt() / 2, grid.nt()];
    let ymax = r.m.band_hi.iter().copied().fold(0.0, f64::max) * 1.05;
    let ymax = if ymax.is_finite() && ymax > 0.0 {
        ymax
    } else {
        1.0
    };
    let root = SVGBackend::with_string(svg, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "mean density m(t, x) over K paths, with its pointwise 95% band",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(grid.a()..grid.b(), 0.0..ymax)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("m")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (c, &n) in levels.iter().enumerate() {
        let color = Palette99::pick(c).to_rgba();
        let xs = grid.xs();
        let slice = |v: &ndarray::Array2<f64>| -> Vec<(f64, f64)> {
            (0..nx).map(|i| (xs[i], v[[n, i]])).collect()
        };
        chart
            .draw_series(LineSeries::new(slice(&r.m.mean), color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(format!("t = {:.2}", grid.t(n)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        for band in [&r.m.band_lo, &r.m.band_hi] {
            chart
                .draw_series(LineSeries::new(slice(band), color.mix(0.5)))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
