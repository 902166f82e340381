//! K conditional (frozen-path) solves of the LQ game whose target is an Ornstein-Uhlenbeck
//! path, aggregated: prints the statistics and writes files a user can plot.
//!
//! ```text
//! cargo run -p mfg --release --example common_noise -- --paths 40 --sampling antithetic \
//!     --mode threads --workers 2 --out target/common_noise
//! ```
//!
//! Files under `--out`: `summary.json` (scalar estimate, standard error, measured variance
//! reduction, run report), `m_stats.csv` and `u_stats.csv` (`t,x,mean,std,band_lo,band_hi`),
//! `paths.csv` (`path,t,theta,first_moment`) and `m_band.svg` (mean density and its pointwise
//! 95% band at four times). Beside the CSV, every array as a NumPy `.npy` file (float64, C
//! order), listed with its shape in `mfg::common_noise::CommonNoiseResult::arrays`: `x.npy`
//! `(nx,)`, `t.npy` `(nt + 1,)`, `m_mean.npy`, `m_std.npy`, `m_std_error.npy`, `m_band_lo.npy`,
//! `m_band_hi.npy` and the same for `u_` (each `(nt + 1, nx)`, time x space), `moment_*.npy`
//! `(nt + 1,)`, `theta.npy` and `first_moment.npy` `(K, nt + 1)` (path x time). In Python:
//! `m = numpy.load("m_mean.npy"); m[n, i]` is the mean density at `t[n]`, `x[i]`. Averaging frozen-path equilibria is not the adapted common-noise
//! equilibrium; see `mfg::common_noise`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use mfg::closed_form::LqGame;
use mfg::common_noise::{CommonNoiseJob, NoiseConfig};
use mfg::noise::{NoiseProcess, Sampling};
use par_core::process::{Registry, serve_if_worker};
use par_core::{ExecConfig, Executor, Mode};
use plotters::prelude::*;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SamplingArg {
    Plain,
    Antithetic,
    Qmc,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    Sequential,
    Threads,
    Processes,
}

#[derive(Parser, Debug)]
#[command(about = "Common noise by conditioning on K paths")]
struct Args {
    /// Number of paths K.
    #[arg(long, default_value_t = 40)]
    paths: usize,
    /// Path sampling.
    #[arg(long, value_enum, default_value_t = SamplingArg::Antithetic)]
    sampling: SamplingArg,
    /// QMC replicates (K must be a multiple).
    #[arg(long, default_value_t = 5)]
    replicates: usize,
    /// Execution mode.
    #[arg(long, value_enum, default_value_t = ModeArg::Threads)]
    mode: ModeArg,
    /// Workers.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Cells and time steps.
    #[arg(long, default_value_t = 51)]
    n: usize,
    /// Output folder.
    #[arg(long, default_value = "target/common_noise")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    serve_if_worker(&Registry::new().with::<CommonNoiseJob>());
    let a = Args::parse();
    let lq = LqGame {
        eps: 1.0,
        c: 1.0,
        sigma: 0.5,
        horizon: 1.0,
    };
    let game = lq.path_target_config([-2.5, 2.5], 0.3, 0.4, a.n, a.n);
    let process = NoiseProcess::OrnsteinUhlenbeck {
        kappa: 1.0,
        mean: 0.0,
        sigma: 0.5,
        x0: 0.4,
    };
    let sampling = match a.sampling {
        SamplingArg::Plain => Sampling::Plain,
        SamplingArg::Antithetic => Sampling::Antithetic,
        SamplingArg::Qmc => Sampling::Qmc {
            replicates: a.replicates,
        },
    };
    let mode = match a.mode {
        ModeArg::Sequential => Mode::Sequential,
        ModeArg::Threads => Mode::Threads { workers: a.workers },
        ModeArg::Processes => Mode::Processes { workers: a.workers },
    };
    let exec = Executor::new(ExecConfig {
        seed: a.seed,
        label: "paths".into(),
        ..ExecConfig::with_mode(mode)
    })?;
    let noise = NoiseConfig {
        paths: a.paths,
        seed: a.seed,
        process,
        sampling,
        level: 0.95,
    };
    let job = CommonNoiseJob::new(game.clone(), noise.clone())?;
    let r = job.run(&exec)?;
    eprintln!("{}", r.report);
    let s = r.scalar;
    println!(
        "E[first moment of m(T)] = {:.6} +- {:.2e} (95% CI [{:.6}, {:.6}]), {} of {} paths converged, max mass drift {:.1e}",
        s.estimate, s.std_error, s.ci[0], s.ci[1], r.converged, a.paths, r.max_mass_drift
    );
    println!(
        "variance reduction against plain MC at equal K (measured): {:.1}",
        s.variance_reduction
    );
    // An independent plain run at equal K, for a direct comparison of standard errors.
    let plain = if matches!(sampling, Sampling::Plain) {
        None
    } else {
        let noise = NoiseConfig {
            sampling: Sampling::Plain,
            seed: a.seed + 1000,
            ..noise
        };
        let p = CommonNoiseJob::new(game, noise)?.run(&exec)?;
        println!(
            "independent plain run: {:.6} +- {:.2e}; squared standard-error ratio {:.1}",
            p.scalar.estimate,
            p.scalar.std_error,
            (p.scalar.std_error / s.std_error).powi(2)
        );
        Some(p.scalar)
    };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let summary = serde_json::json!({
        "scalar": s,
        "independent_plain": plain,
        "converged": r.converged,
        "paths": a.paths,
        "max_mass_drift": r.max_mass_drift,
        "report": r.report,
    });
    std::fs::write(
        a.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
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
        std::fs::write(a.out.join(name), text)?;
    }
    let mut text = String::from("path,t,theta,first_moment\n");
    for (p, path) in r.paths.iter().enumerate() {
        for n in 0..grid.levels() {
            writeln!(text, "{p},{},{},{}", grid.t(n), path.theta[n], path.mean[n])?;
        }
    }
    std::fs::write(a.out.join("paths.csv"), text)?;
    for (name, array) in r.arrays() {
        let path = a.out.join(format!("{name}.npy"));
        ndarray_npy::write_npy(&path, &array)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let svg = a.out.join("m_band.svg");
    plot(&r, &svg)?;
    println!("wrote {}", a.out.display());
    Ok(())
}

fn plot(r: &mfg::common_noise::CommonNoiseResult, path: &std::path::Path) -> anyhow::Result<()> {
    let grid = &r.grid;
    let nx = grid.nx();
    let levels = [0, grid.nt() / 4, grid.nt() / 2, grid.nt()];
    let ymax = r.m.band_hi.iter().copied().fold(0.0, f64::max) * 1.05;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
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
