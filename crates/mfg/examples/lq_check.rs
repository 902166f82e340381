//! Solves the LQ mean-target game for any parameters and prints its errors against the closed
//! form, as JSON on standard output (and into `--out FILE.json`).
//!
//! ```text
//! cargo run -p mfg --release --example lq_check -- --eps 1 --c 1 --sigma 0.5 --horizon 1 \
//!     --nx 51 --nt 51 --out lq.json
//! ```
//!
//! The game: `H = p^2/2`, `F = eps/2 (x - mean)^2`, `g = c/2 (x - mean)^2`, `m0 = N(m0_mean,
//! m0_std^2)` on `[m0_mean - L, m0_mean + L]` with reflecting walls. `L` defaults to five times
//! the largest standard deviation the density reaches (at least 2), and `u` is compared on the
//! interior `|x - mean| <= L/2`.
//!
//! The JSON says how it was made: `"run"` holds the tool, version, commit, command line, the
//! machine, timings and the full resolved configuration (every parameter, the half-width
//! actually used, and the game as `mfg::MfgConfig` with its solver settings); `"status"` says how
//! the solve ended. A solve that did not converge is written, then reported with exit status 1:
//! its errors are those of an unfinished iterate. A grid whose solve would not fit in memory is
//! refused before anything is allocated, with the limit in the message; `--out` and `--npy`
//! are checked writable before the solve.
//!
//! With `--npy DIR` it also writes NumPy arrays (float64, C order) into `DIR`: `u.npy` and
//! `m.npy` of shape `(nt + 1, nx)` (time x space: `u[n, i]` at `t[n]`, `x[i]`), `u_exact.npy`
//! (the closed form on the same grid), `x.npy` `(nx,)`, `t.npy` `(nt + 1,)`, and `variance.npy`
//! and `variance_exact.npy` `(nt + 1,)`. Every file is written atomically.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use mfg::closed_form::LqGame;
use ndarray::{Array1, Array2, ArrayD};
use par_cli::RunRecord;
use par_cli::numbers::{count_in, float_in, positive};
use par_cli::output_files::{check_writable, check_writable_dir, write_atomic, write_json};

/// Largest cell and step counts an option accepts (the memory check refuses smaller grids that
/// do not fit this machine).
const MAX_CELLS: usize = 100_000_000;

/// Solves the LQ mean-target game and prints its errors against the closed form as JSON.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Prints, and with --out FILE writes atomically, a JSON object {\"run\": {tool, \
version, provenance, machine, config, seed, inputs, timings}, \"status\", \"max_err_u\", \
\"max_err_mean\", \"max_err_var\", \"mass_drift\", \"min_density\", \"picard_iterations\", \
\"seconds\"}; run.config holds every parameter, the half-width used and the game (mfg::MfgConfig). \
With --npy DIR: u.npy, m.npy, u_exact.npy, x.npy, t.npy, variance.npy, variance_exact.npy. \
Exit status 1 when the solve does not converge (the JSON is still written)."
)]
struct Args {
    /// Running-cost weight eps, in [0, 1e4].
    #[arg(long, value_parser = float_in(0.0, 1e4))]
    eps: f64,
    /// Terminal-cost weight c, in [0, 1e4].
    #[arg(long, value_parser = float_in(0.0, 1e4))]
    c: f64,
    /// Volatility sigma, in [0, 100].
    #[arg(long, value_parser = float_in(0.0, 100.0))]
    sigma: f64,
    /// Horizon T, in (0, 1e3].
    #[arg(long, value_parser = horizon)]
    horizon: f64,
    /// Number of cells (at least 3).
    #[arg(long, value_parser = count_in(3, MAX_CELLS))]
    nx: usize,
    /// Number of time steps (at least 1).
    #[arg(long, value_parser = count_in(1, MAX_CELLS))]
    nt: usize,
    /// Also write the JSON result to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Mean of the initial Gaussian density, in [-1e6, 1e6].
    #[arg(long, default_value_t = 0.3, value_parser = float_in(-1e6, 1e6))]
    m0_mean: f64,
    /// Standard deviation of the initial Gaussian density, in (0, 1e6].
    #[arg(long, default_value_t = 0.4, value_parser = scale)]
    m0_std: f64,
    /// Half-width L of the domain, in (0, 1e6] [default: five times the largest standard
    /// deviation the density reaches, at least 2].
    #[arg(long, value_parser = scale)]
    half_width: Option<f64>,
    /// Also write the solution as NumPy `.npy` arrays into this folder (created if needed).
    #[arg(long)]
    npy: Option<PathBuf>,
}

fn horizon(text: &str) -> Result<f64, String> {
    let v = positive(text)?;
    float_in(0.0, 1e3)(text).map(|_| v)
}

fn scale(text: &str) -> Result<f64, String> {
    let v = positive(text)?;
    float_in(0.0, 1e6)(text).map(|_| v)
}

#[derive(serde::Serialize)]
struct Report {
    run: RunRecord,
    status: mfg::Status,
    max_err_u: f64,
    max_err_mean: f64,
    max_err_var: f64,
    mass_drift: f64,
    min_density: f64,
    picard_iterations: usize,
    seconds: f64,
}

/// The arrays `--npy` writes.
const ARRAYS: [&str; 7] = ["u", "m", "u_exact", "x", "t", "variance", "variance_exact"];

fn main() -> ExitCode {
    par_cli::main_with(|| {
        let a = Args::parse();
        let mut record = RunRecord::start(
            "mfg lq_check",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_MANIFEST_DIR"),
        );
        if let Some(path) = &a.out {
            check_writable(path)?;
        }
        if let Some(dir) = &a.npy {
            check_writable_dir(dir)?;
            for name in ARRAYS {
                check_writable(&dir.join(format!("{name}.npy")))?;
            }
        }
        let game = LqGame {
            eps: a.eps,
            c: a.c,
            sigma: a.sigma,
            horizon: a.horizon,
        };
        let half_width = a
            .half_width
            .unwrap_or_else(|| game.safe_half_width(a.m0_std));
        if !half_width.is_finite() {
            bail!(
                "the automatic half-width is not finite for these parameters (the density's \
                 variance grows without bound); give --half-width"
            );
        }
        let cfg = game.mean_target_config(a.m0_mean, a.m0_std, half_width, a.nx, a.nt);
        // The solve, and with --npy the closed form, a copy and its encoding (4 fields).
        let field = (a.nx as u128) * (a.nt as u128 + 1) * 8;
        let extra = if a.npy.is_some() { 4 * field } else { 0 };
        par_cli::memory::ensure_fits(
            &format!("a solve on {} cells x {} time steps", a.nx, a.nt),
            cfg.solve_bytes().saturating_add(extra),
        )?;
        let interior = 0.5 * half_width;
        record.set_config(&serde_json::json!({
            "eps": a.eps,
            "c": a.c,
            "sigma": a.sigma,
            "horizon": a.horizon,
            "nx": a.nx,
            "nt": a.nt,
            "m0_mean": a.m0_mean,
            "m0_std": a.m0_std,
            "half_width": half_width,
            "half_width_automatic": a.half_width.is_none(),
            "interior": interior,
            "game": cfg,
        }));
        let start = Instant::now();
        let mut solver = cfg.solver()?;
        let solution = solver.solve(None)?;
        let seconds = start.elapsed().as_secs_f64();
        let e = game.mean_target_errors(&solution, interior);
        record.finish();
        let report = Report {
            run: record,
            status: solution.status,
            max_err_u: e.max_err_u,
            max_err_mean: e.max_err_mean,
            max_err_var: e.max_err_var,
            mass_drift: solution.mass_drift(),
            min_density: solution.min_density(),
            picard_iterations: solution.iterations,
            seconds,
        };
        // Files first: a closed standard output (`lq_check ... | head`) ends the program.
        if let Some(path) = &a.out {
            write_json(path, &report)?;
        }
        if let Some(dir) = &a.npy {
            write_arrays(dir, &game, &solution)?;
        }
        println!("{}", serde_json::to_string_pretty(&report)?);
        if [e.max_err_u, e.max_err_mean, e.max_err_var]
            .iter()
            .any(|v| !v.is_finite())
        {
            bail!(
                "the errors against the closed form are not finite (null in the JSON): the \
                 solution or the closed form overflowed for these parameters"
            );
        }
        if !solution.converged() {
            bail!(
                "the solve did not converge (status {:?} after {} Picard iterations): the errors \
                 above are those of an unfinished iterate, not of the scheme",
                solution.status,
                solution.iterations
            );
        }
        Ok(())
    })
}

fn write_arrays(dir: &Path, game: &LqGame, s: &mfg::Solution) -> anyhow::Result<()> {
    let grid = &s.grid;
    let mean0 = s.mean(0);
    let u_exact = Array2::from_shape_fn((grid.levels(), grid.nx()), |(n, i)| {
        game.mean_target_value(grid.t(n), grid.x(i), mean0)
    });
    let variance_exact = Array1::from(game.variance(s.variance(0), grid.levels(), 100));
    let arrays: [ArrayD<f64>; 7] = [
        s.u.clone().into_dyn(),
        s.m.clone().into_dyn(),
        u_exact.into_dyn(),
        grid.x_axis().into_dyn(),
        grid.t_axis().into_dyn(),
        s.variances().into_dyn(),
        variance_exact.into_dyn(),
    ];
    for (name, array) in ARRAYS.iter().zip(arrays) {
        let path = dir.join(format!("{name}.npy"));
        let mut bytes = Vec::new();
        ndarray_npy::WriteNpyExt::write_npy(&array, &mut bytes)
            .with_context(|| format!("encoding {}", path.display()))?;
        write_atomic(&path, &bytes)?;
    }
    Ok(())
}
