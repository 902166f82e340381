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
//! With `--npy DIR` it also writes NumPy arrays (float64, C order) into `DIR`: `u.npy` and
//! `m.npy` of shape `(nt + 1, nx)` (time x space: `u[n, i]` at `t[n]`, `x[i]`), `u_exact.npy`
//! (the closed form on the same grid), `x.npy` `(nx,)`, `t.npy` `(nt + 1,)`, and `variance.npy`
//! and `variance_exact.npy` `(nt + 1,)`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use mfg::closed_form::LqGame;
use ndarray::{Array1, Array2, ArrayD};

#[derive(Parser, Debug)]
#[command(about = "LQ mean-target game against its closed form")]
struct Args {
    /// Running-cost weight eps.
    #[arg(long)]
    eps: f64,
    /// Terminal-cost weight c.
    #[arg(long)]
    c: f64,
    /// Volatility sigma.
    #[arg(long)]
    sigma: f64,
    /// Horizon T.
    #[arg(long)]
    horizon: f64,
    /// Number of cells.
    #[arg(long)]
    nx: usize,
    /// Number of time steps.
    #[arg(long)]
    nt: usize,
    /// Write the JSON result here too.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Mean of the initial Gaussian density.
    #[arg(long, default_value_t = 0.3)]
    m0_mean: f64,
    /// Standard deviation of the initial Gaussian density.
    #[arg(long, default_value_t = 0.4)]
    m0_std: f64,
    /// Half-width L of the domain (default: automatic).
    #[arg(long)]
    half_width: Option<f64>,
    /// Also write the solution as NumPy `.npy` arrays into this folder.
    #[arg(long)]
    npy: Option<PathBuf>,
}

#[derive(serde::Serialize)]
struct Report {
    max_err_u: f64,
    max_err_mean: f64,
    max_err_var: f64,
    mass_drift: f64,
    min_density: f64,
    picard_iterations: usize,
    seconds: f64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if !(a.eps >= 0.0 && a.c >= 0.0 && a.m0_std > 0.0) {
        bail!("need eps >= 0, c >= 0 and m0-std > 0");
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
    let cfg = game.mean_target_config(a.m0_mean, a.m0_std, half_width, a.nx, a.nt);
    let start = Instant::now();
    let mut solver = cfg.solver()?;
    let solution = solver.solve(None)?;
    let seconds = start.elapsed().as_secs_f64();
    if !solution.converged() {
        eprintln!("warning: the solve ended with status {:?}", solution.status);
    }
    let e = game.mean_target_errors(&solution, 0.5 * half_width);
    let report = Report {
        max_err_u: e.max_err_u,
        max_err_mean: e.max_err_mean,
        max_err_var: e.max_err_var,
        mass_drift: solution.mass_drift(),
        min_density: solution.min_density(),
        picard_iterations: solution.iterations,
        seconds,
    };
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = &a.out {
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &a.npy {
        write_arrays(dir, &game, &solution)?;
    }
    Ok(())
}

fn write_arrays(dir: &Path, game: &LqGame, s: &mfg::Solution) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let grid = &s.grid;
    let mean0 = s.mean(0);
    let u_exact = Array2::from_shape_fn((grid.levels(), grid.nx()), |(n, i)| {
        game.mean_target_value(grid.t(n), grid.x(i), mean0)
    });
    let variance_exact = Array1::from(game.variance(s.variance(0), grid.levels(), 100));
    let arrays: [(&str, ArrayD<f64>); 7] = [
        ("u", s.u.clone().into_dyn()),
        ("m", s.m.clone().into_dyn()),
        ("u_exact", u_exact.into_dyn()),
        ("x", grid.x_axis().into_dyn()),
        ("t", grid.t_axis().into_dyn()),
        ("variance", s.variances().into_dyn()),
        ("variance_exact", variance_exact.into_dyn()),
    ];
    for (name, array) in arrays {
        let path = dir.join(format!("{name}.npy"));
        ndarray_npy::write_npy(&path, &array)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
