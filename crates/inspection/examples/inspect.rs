//! One episode of the spacecraft inspection task, with the no-burn baseline beside it.
//!
//! ```text
//! cargo run -p inspection --release --example inspect -- [--policy mcts|passive|random] \
//!     [--delta-v-budget M_PER_S] \
//!     [--sims 3000] [--threads 1] [--steps N] [--variant default|vbar-hold] [--seed 0] \
//!     [--horizon 6] [--target satellite|cylinder|blocks] [--out inspect-out]
//! ```
//!
//! Prints the entropy, coverage and delta-v after every step, then writes into `--out`
//! (checked writable before the episode starts; each file written atomically):
//! `episode.json` (configuration, every step, the final belief as log-odds per voxel),
//! `trajectory.csv` (step, time, RTN position, ROE, burn, entropy, coverage, delta-v) and
//! `entropy.svg` (belief entropy and coverage against steps, for the policy and the passive
//! baseline).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use inspection::{
    EpisodeRecord, Inspection, InspectionConfig, PlannerConfig, Policy, TargetShape, Variant,
    run_episode,
};
use mcts::{ParallelConfig, TreeParallelUct, Uct};
use par_cli::RunRecord;
use par_cli::numbers::{count_in, float_in, seed};
use plotters::prelude::*;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PolicyArg {
    Mcts,
    Passive,
    Random,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum VariantArg {
    Default,
    VbarHold,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TargetArg {
    Satellite,
    Cylinder,
    Blocks,
}

/// Runs one inspection episode and writes the belief, the trajectory and a plot.
#[derive(Debug, Parser)]
#[command(
    allow_negative_numbers = true,
    after_help = "Prints the entropy, coverage and delta-v after every step, then writes into \
                  --out (checked writable before the episode), each file atomically:\n  \
                  episode.json    {\"run\": {tool, version, provenance, machine, config, seed, \
                  inputs, timings}, \"config\", \"planner\", \"episode\" (every step, the \
                  final belief as log-odds per voxel), \"passive_baseline\"}\n  \
                  trajectory.csv  step, time, RTN position, ROE, burn, entropy, coverage, \
                  delta-v\n  \
                  entropy.svg     belief entropy and coverage against steps, for the policy and \
                  the passive baseline"
)]
struct Args {
    /// How burns are chosen.
    #[arg(long, value_enum, default_value_t = PolicyArg::Mcts)]
    policy: PolicyArg,
    /// With `--policy random`: spend at most this delta-v (m/s, 0 to 10000), each burn drawn
    /// among those that fit in what is left.
    #[arg(long, value_parser = float_in(0.0, 1e4))]
    delta_v_budget: Option<f64>,
    /// MCTS simulations per step.
    #[arg(long, default_value_t = 3000, value_parser = count_in(1, 1_000_000_000))]
    sims: usize,
    /// MCTS search threads (1 = sequential UCT, more = tree-parallel; at most 1024).
    #[arg(long, default_value_t = 1, value_parser = count_in(1, 1024))]
    threads: usize,
    /// MCTS look-ahead in steps (tree and rollout; 1 to 1000).
    #[arg(long, default_value_t = 6, value_parser = count_in(1, 1000))]
    horizon: usize,
    /// Steps in the episode (1 to 100000) [default: the variant's, 50 or 20].
    #[arg(long, value_parser = count_in(1, 100_000))]
    steps: Option<usize>,
    /// Starting conditions.
    #[arg(long, value_enum, default_value_t = VariantArg::Default)]
    variant: VariantArg,
    /// Target shape.
    #[arg(long, value_enum, default_value_t = TargetArg::Satellite)]
    target: TargetArg,
    /// Seed of the sensor and the policy (the target's dimensions use `--target-seed`).
    #[arg(long, default_value_t = 0, value_parser = seed)]
    seed: u64,
    /// Seed of the target's dimensions.
    #[arg(long, default_value_t = 0, value_parser = seed)]
    target_seed: u64,
    /// Output directory (created if needed).
    #[arg(long, default_value = "inspect-out")]
    out: PathBuf,
}

fn main() -> ExitCode {
    par_cli::main_with(|| inspect(Args::parse()))
}

fn inspect(args: Args) -> Result<()> {
    par_cli::output_files::check_writable_dir(&args.out)?;
    let mut record = RunRecord::start(
        "inspection inspect",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_MANIFEST_DIR"),
    );
    let variant = match args.variant {
        VariantArg::Default => Variant::Default,
        VariantArg::VbarHold => Variant::VbarHold,
    };
    let config = InspectionConfig {
        steps: args.steps.unwrap_or(variant.steps()),
        target: match args.target {
            TargetArg::Satellite => TargetShape::Satellite,
            TargetArg::Cylinder => TargetShape::Cylinder,
            TargetArg::Blocks => TargetShape::Blocks,
        },
        target_seed: args.target_seed,
        ..variant.config()
    };
    let policy = match args.policy {
        PolicyArg::Mcts => Policy::Mcts,
        PolicyArg::Passive => Policy::Passive,
        PolicyArg::Random => match args.delta_v_budget {
            Some(delta_v) => Policy::RandomWithinBudget { delta_v },
            None => Policy::Random,
        },
    };
    let planner = PlannerConfig {
        sims: args.sims as u64,
        threads: args.threads,
        horizon: args.horizon,
        ..PlannerConfig::default()
    };
    config.validate()?;
    planner.validate()?;
    if policy == Policy::Mcts {
        let parallel = ParallelConfig {
            threads: planner.threads,
            virtual_loss: planner.virtual_loss,
        };
        par_cli::memory::ensure_fits(
            &format!(
                "the search tree of {} simulations per step (--sims)",
                planner.sims
            ),
            if planner.threads <= 1 {
                Uct::<Inspection>::arena_bytes(&planner.uct, planner.sims)
            } else {
                TreeParallelUct::<Inspection>::arena_bytes(&planner.uct, &parallel, planner.sims)
            },
        )?;
    }
    record.seed = Some(args.seed);
    record.set_config(&serde_json::json!({
        "config": &config, "policy": policy, "planner": &planner, "variant": format!("{variant:?}"),
    }));
    println!(
        "{:?} policy, {:?} variant, {} steps{}",
        policy,
        variant,
        config.steps,
        if policy == Policy::Mcts {
            format!(
                ", {} sims/step, {} thread(s)",
                planner.sims, planner.threads
            )
        } else {
            String::new()
        }
    );
    println!("step  action  entropy(nats)  coverage  delta-v(m/s)  range(m)");
    let episode = run_episode(&config, policy, &planner, args.seed, |s| {
        let range = s.position.iter().map(|x| x * x).sum::<f64>().sqrt();
        println!(
            "{:>4}  {:>6}  {:>13.1}  {:>8.3}  {:>12.3}  {:>8.1}",
            s.step, s.action, s.entropy, s.coverage, s.delta_v, range
        );
    })?;
    let baseline = if policy == Policy::Passive {
        episode.clone()
    } else {
        run_episode(&config, Policy::Passive, &planner, args.seed, |_| {})?
    };
    println!(
        "final entropy {:.1} nats ({:.1}% of the initial), delta-v {:.3} m/s, {:.1} s; \
         passive baseline: {:.1} nats; (H_passive - H) / H_passive = {:.3}",
        episode.final_entropy,
        100.0 * episode.final_entropy / episode.initial_entropy,
        episode.delta_v,
        episode.seconds,
        baseline.final_entropy,
        (baseline.final_entropy - episode.final_entropy) / baseline.final_entropy
    );

    record.finish();
    let json = serde_json::json!({
        "run": record,
        "config": config,
        "planner": planner,
        "episode": episode,
        "passive_baseline": { "final_entropy": baseline.final_entropy,
            "entropy": baseline.steps.iter().map(|s| s.entropy).collect::<Vec<_>>() },
    });
    let file = |name: &str| args.out.join(name);
    par_cli::output_files::write_json(&file("episode.json"), &json)?;
    par_cli::output_files::write_atomic(
        &file("trajectory.csv"),
        trajectory_csv(&episode, config.step_s)?.as_bytes(),
    )?;
    par_cli::output_files::write_atomic(
        &file("entropy.svg"),
        plot(&episode, &baseline)?.as_bytes(),
    )
    .context("writing the plot")?;
    println!(
        "wrote episode.json, trajectory.csv and entropy.svg in {}",
        args.out.display()
    );
    Ok(())
}

/// The trajectory as CSV: a row for the start and one per step.
fn trajectory_csv(e: &EpisodeRecord, step_s: f64) -> Result<String> {
    let mut f = String::new();
    writeln!(
        f,
        "step,time_s,r_m,t_m,n_m,a_da_m,a_dlambda_m,a_dex_m,a_dey_m,a_dix_m,a_diy_m,\
         burn_r,burn_t,burn_n,entropy,coverage,delta_v"
    )?;
    let p = e.start_position;
    writeln!(
        f,
        "0,0,{},{},{},,,,,,,0,0,0,{},0,0",
        p[0], p[1], p[2], e.initial_entropy
    )?;
    for s in &e.steps {
        let r = s.roe_m;
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            s.step,
            s.step as f64 * step_s,
            s.position[0],
            s.position[1],
            s.position[2],
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            s.burn[0],
            s.burn[1],
            s.burn[2],
            s.entropy,
            s.coverage,
            s.delta_v
        )?;
    }
    Ok(f)
}

/// The entropy and coverage plot, as SVG text.
fn plot(e: &EpisodeRecord, base: &EpisodeRecord) -> Result<String> {
    let err = |x: &dyn std::fmt::Display| anyhow::anyhow!("{x}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| err(&x))?;
        let steps = e.steps.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "belief entropy (fraction of initial) and coverage against steps",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..steps, 0.0..1.0)
            .map_err(|x| err(&x))?;
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc("fraction")
            .draw()
            .map_err(|x| err(&x))?;
        let series = |r: &EpisodeRecord, coverage: bool| -> Vec<(f64, f64)> {
            let first = if coverage { 0.0 } else { 1.0 };
            std::iter::once((0.0, first))
                .chain(r.steps.iter().map(|s| {
                    let y = if coverage {
                        s.coverage
                    } else {
                        s.entropy / r.initial_entropy
                    };
                    (s.step as f64, y)
                }))
                .collect()
        };
        let lines = [
            (series(e, false), format!("entropy, {:?}", e.policy), 0),
            (series(base, false), "entropy, passive".to_string(), 1),
            (series(e, true), format!("coverage, {:?}", e.policy), 2),
            (series(base, true), "coverage, passive".to_string(), 3),
        ];
        for (points, label, c) in lines {
            let color = Palette99::pick(c).to_rgba();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|x| err(&x))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|x| err(&x))?;
        root.present().map_err(|x| err(&x))?;
    }
    Ok(svg)
}
