//! One episode of the spacecraft inspection task, with the no-burn baseline beside it.
//!
//! ```text
//! cargo run -p inspection --release --example inspect -- [--policy mcts|passive|random] \
//!     [--delta-v-budget M_PER_S] \
//!     [--sims 3000] [--threads 1] [--steps N] [--variant default|vbar-hold] [--seed 0] \
//!     [--horizon 6] [--target satellite|cylinder|blocks] [--out inspect-out]
//! ```
//!
//! Prints the entropy, coverage and delta-v after every step, then writes into `--out`:
//! `episode.json` (configuration, every step, the final belief as log-odds per voxel),
//! `trajectory.csv` (step, time, RTN position, ROE, burn, entropy, coverage, delta-v) and
//! `entropy.svg` (belief entropy and coverage against steps, for the policy and the passive
//! baseline).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use inspection::{
    EpisodeRecord, InspectionConfig, PlannerConfig, Policy, TargetShape, Variant, run_episode,
};
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
struct Args {
    /// How burns are chosen.
    #[arg(long, value_enum, default_value_t = PolicyArg::Mcts)]
    policy: PolicyArg,
    /// With `--policy random`: spend at most this delta-v (m/s), each burn drawn among those
    /// that fit in what is left.
    #[arg(long)]
    delta_v_budget: Option<f64>,
    /// MCTS simulations per step.
    #[arg(long, default_value_t = 3000)]
    sims: u64,
    /// MCTS search threads (1 = sequential UCT, more = tree-parallel).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// MCTS look-ahead in steps (tree and rollout).
    #[arg(long, default_value_t = 6)]
    horizon: usize,
    /// Steps in the episode (default: the variant's, 50 or 20).
    #[arg(long)]
    steps: Option<usize>,
    /// Starting conditions.
    #[arg(long, value_enum, default_value_t = VariantArg::Default)]
    variant: VariantArg,
    /// Target shape.
    #[arg(long, value_enum, default_value_t = TargetArg::Satellite)]
    target: TargetArg,
    /// Seed of the sensor and the policy (the target's dimensions use `--target-seed`).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seed of the target's dimensions.
    #[arg(long, default_value_t = 0)]
    target_seed: u64,
    /// Output directory.
    #[arg(long, default_value = "inspect-out")]
    out: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
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
        sims: args.sims,
        threads: args.threads,
        horizon: args.horizon,
        ..PlannerConfig::default()
    };
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

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let json = serde_json::json!({
        "config": config,
        "planner": planner,
        "episode": episode,
        "passive_baseline": { "final_entropy": baseline.final_entropy,
            "entropy": baseline.steps.iter().map(|s| s.entropy).collect::<Vec<_>>() },
    });
    std::fs::write(args.out.join("episode.json"), serde_json::to_string(&json)?)?;
    write_csv(&args.out.join("trajectory.csv"), &episode, config.step_s)?;
    plot(&args.out.join("entropy.svg"), &episode, &baseline)?;
    println!(
        "wrote episode.json, trajectory.csv and entropy.svg in {}",
        args.out.display()
    );
    Ok(())
}

fn write_csv(path: &Path, e: &EpisodeRecord, step_s: f64) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
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
    Ok(())
}

fn plot(path: &Path, e: &EpisodeRecord, base: &EpisodeRecord) -> Result<()> {
    let err = |x: &dyn std::fmt::Display| anyhow::anyhow!("{x}");
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
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
    Ok(())
}
