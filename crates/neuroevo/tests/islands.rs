//! Migration exactly as configured (who sends what to whom, for each topology and policy),
//! migrant files that are missing, partial or corrupt, and the same results in one process
//! and across "processes" (threads with their own directory transports).

use std::collections::BTreeSet;
use std::time::Duration;

use neuroevo::islands::*;
use neuroevo::optimiser::{GaConfig, OptimiserConfig, ReplacePolicy};
use neuroevo::task::{Task, TaskConfig, TaskKind};
use neuroevo::{Evolution, RunConfig};
use par_core::{ExecConfig, Executor, Mode, Progress};

fn exec(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .unwrap()
}

fn sphere() -> Box<dyn Task> {
    let mut c = TaskConfig::new(TaskKind::Rastrigin);
    c.dim = 4;
    c.target = Some(-1.0); // never solved: runs end on their budget
    c.build().unwrap()
}

fn ga(pop: usize) -> OptimiserConfig {
    OptimiserConfig::Ga(GaConfig {
        population: pop,
        ..GaConfig::default()
    })
}

#[test]
fn topologies_send_where_they_say() {
    for e in 0..3 {
        assert_eq!(destinations(Topology::Ring, 4, 3, e, 9), [0]);
        assert_eq!(sources(Topology::Ring, 4, 0, e, 9), [3]);
        assert_eq!(destinations(Topology::Complete, 4, 1, e, 9), [0, 2, 3]);
        assert_eq!(sources(Topology::Complete, 4, 1, e, 9), [0, 2, 3]);
    }
    assert!(destinations(Topology::Ring, 1, 0, 0, 9).is_empty());
    // Random: one other island, a pure function of (seed, epoch, island), varying by epoch.
    let mut seen = BTreeSet::new();
    for e in 0..40 {
        for i in 0..5 {
            let d = destinations(Topology::Random, 5, i, e, 9);
            assert_eq!(d.len(), 1);
            assert_ne!(d[0], i);
            assert_eq!(d, destinations(Topology::Random, 5, i, e, 9));
            assert!(sources(Topology::Random, 5, d[0], e, 9).contains(&i));
            seen.insert((i, d[0]));
        }
    }
    assert_eq!(seen.len(), 20, "every ordered pair is drawn at some epoch");
}

/// Rows of a population as a set of genomes (bit patterns).
fn rows(genomes: &[f64], dim: usize) -> Vec<Vec<u64>> {
    genomes
        .chunks(dim)
        .map(|g| g.iter().map(|x| x.to_bits()).collect())
        .collect()
}

/// `(epoch, from, to, migrant count)`.
type Delivery = (u64, usize, usize, usize);

struct Snapshot {
    genomes: Vec<Vec<u64>>,
    fitness: Vec<f64>,
}

fn snapshot(evo: &Evolution<'_>) -> Snapshot {
    let (g, f) = neuroevo::optimiser::AskTell::population(evo.optimiser());
    Snapshot {
        genomes: rows(g, 4),
        fitness: f.to_vec(),
    }
}

fn order_best_first(f: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..f.len()).collect();
    idx.sort_by(|&a, &b| f[b].total_cmp(&f[a]));
    idx
}

/// Runs one epoch of 4 islands by hand and returns (before, after, deliveries).
fn one_epoch(config: &MigrationConfig) -> (Vec<Snapshot>, Vec<Snapshot>, Vec<Delivery>) {
    let task = sphere();
    let ex = exec(Mode::Sequential);
    let n = 4;
    let mut islands: Vec<Evolution<'_>> = (0..n)
        .map(|i| {
            Evolution::new(
                task.as_ref(),
                ga(10),
                RunConfig {
                    seed: island_seed(5, i),
                    max_evals: 10_000,
                    ..RunConfig::default()
                },
            )
            .unwrap()
        })
        .collect();
    for evo in &mut islands {
        for _ in 0..config.every {
            evo.step(&ex).unwrap();
        }
    }
    let before: Vec<Snapshot> = islands.iter().map(snapshot).collect();
    let mut t = MemoryTransport::default();
    let active = vec![true; n];
    for (i, evo) in islands.iter().enumerate() {
        send_phase(evo, i, n, 0, 5, config, &active, &mut t).unwrap();
        publish_phase(evo, i, 0, &mut t).unwrap();
    }
    let (solved, next) = gather_phase(0, &active, &mut t).unwrap();
    assert!(!solved);
    assert_eq!(next, active);
    for (i, evo) in islands.iter_mut().enumerate() {
        receive_phase(evo, i, n, 0, 5, config, &active, &mut t).unwrap();
    }
    let after = islands.iter().map(snapshot).collect();
    (before, after, t.log)
}

#[test]
fn ring_best_out_worst_in_moves_exactly_the_best_k_over_the_worst_k() {
    let config = MigrationConfig {
        every: 3,
        migrants: 3,
        topology: Topology::Ring,
        emigrants: EmigrantPolicy::Best,
        replace: ReplacePolicy::Worst,
    };
    let (before, after, log) = one_epoch(&config);
    assert_eq!(
        log,
        [(0, 0, 1, 3), (0, 1, 2, 3), (0, 2, 3, 3), (0, 3, 0, 3)]
    );
    for to in 0..4 {
        let from = (to + 3) % 4;
        let best: Vec<usize> = order_best_first(&before[from].fitness)[..3].to_vec();
        let worst: Vec<usize> = order_best_first(&before[to].fitness)[7..].to_vec();
        // The receiver's worst three rows (worst first) now hold the sender's best three
        // (best first); every other row is unchanged.
        for (k, &row) in worst.iter().rev().enumerate() {
            assert_eq!(
                after[to].genomes[row], before[from].genomes[best[k]],
                "island {to} row {row}"
            );
            assert_eq!(after[to].fitness[row], before[from].fitness[best[k]]);
        }
        for row in (0..10).filter(|r| !worst.contains(r)) {
            assert_eq!(after[to].genomes[row], before[to].genomes[row]);
        }
    }
}

#[test]
fn random_policies_move_k_real_individuals_into_k_rows() {
    let config = MigrationConfig {
        every: 2,
        migrants: 2,
        topology: Topology::Ring,
        emigrants: EmigrantPolicy::Random,
        replace: ReplacePolicy::Random,
    };
    let (before, after, log) = one_epoch(&config);
    assert_eq!(log.len(), 4);
    for to in 0..4 {
        let from = (to + 3) % 4;
        let changed: Vec<usize> = (0..10)
            .filter(|&r| after[to].genomes[r] != before[to].genomes[r])
            .collect();
        assert!(changed.len() <= 2, "island {to}: {changed:?}");
        for r in changed {
            assert!(
                before[from].genomes.contains(&after[to].genomes[r]),
                "a migrant from island {from}"
            );
        }
    }
}

#[test]
fn complete_topology_caps_immigrants_at_half_the_population() {
    let config = MigrationConfig {
        every: 2,
        migrants: 3,
        topology: Topology::Complete,
        emigrants: EmigrantPolicy::Best,
        replace: ReplacePolicy::Worst,
    };
    let (before, after, log) = one_epoch(&config);
    assert_eq!(log.len(), 12, "each of 4 islands sends to the 3 others");
    for to in 0..4 {
        // 9 migrants arrive; the 5 best of them replace the 5 worst rows.
        let mut incoming: Vec<(f64, Vec<u64>)> = (0..4)
            .filter(|&f| f != to)
            .flat_map(|f| {
                order_best_first(&before[f].fitness)[..3]
                    .iter()
                    .map(|&r| (before[f].fitness[r], before[f].genomes[r].clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        incoming.sort_by(|a, b| b.0.total_cmp(&a.0));
        let worst: Vec<usize> = order_best_first(&before[to].fitness)[5..].to_vec();
        for (k, &row) in worst.iter().rev().enumerate() {
            assert_eq!(after[to].genomes[row], incoming[k].1);
        }
    }
}

#[test]
fn missing_partial_and_corrupt_migrant_files_are_skipped_with_warnings() {
    let dir = std::env::temp_dir().join(format!("neuroevo-mig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut t = DirectoryTransport::new(&dir, Duration::from_millis(30)).unwrap();
    let m = neuroevo::optimiser::Migrant {
        genome: vec![1.0, 2.0],
        fitness: 3.5,
        from: 0,
    };
    t.send(0, 0, 1, std::slice::from_ref(&m)).unwrap();
    assert_eq!(t.receive(0, 0, 1).unwrap(), Some(vec![m.clone()]));
    // Partial: the first half of a valid file.
    let good = std::fs::read(t.migrant_path(0, 0, 1)).unwrap();
    std::fs::write(t.migrant_path(1, 0, 1), &good[..good.len() / 2]).unwrap();
    // Corrupt: random bytes.
    std::fs::write(t.migrant_path(2, 0, 1), [0xff, 0x00, 0x13, 0x37]).unwrap();
    // Misnamed: a valid file under another epoch's name.
    std::fs::write(t.migrant_path(3, 0, 1), &good).unwrap();
    for e in 1..=4 {
        assert_eq!(t.receive(e, 0, 1).unwrap(), None, "epoch {e}");
    }
    let w = t.take_warnings();
    assert_eq!(w.len(), 4, "{w:#?}");
    assert!(w[3].contains("no migrants"), "{}", w[3]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_island_whose_neighbour_never_shows_up_finishes_with_warnings() {
    let dir = std::env::temp_dir().join(format!("neuroevo-lonely-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let task = sphere();
    let ex = exec(Mode::Sequential);
    let config = MigrationConfig {
        every: 2,
        migrants: 2,
        ..MigrationConfig::default()
    };
    let mut evo = Evolution::new(
        task.as_ref(),
        ga(8),
        RunConfig {
            seed: 1,
            max_evals: 60,
            ..RunConfig::default()
        },
    )
    .unwrap();
    let mut t = DirectoryTransport::new(&dir, Duration::from_millis(20)).unwrap();
    let mut progress = IslandProgress::new(2);
    let mut warnings = Vec::new();
    // A corrupt file where island 1's migrants for epoch 0 should be.
    std::fs::write(t.migrant_path(0, 1, 0), b"{\"epoch\": 0, \"fro").unwrap();
    run_island::<neuroevo::NeuroError>(
        &mut evo,
        0,
        2,
        1,
        &config,
        &mut progress,
        &mut t,
        &ex,
        |_, _, ev| {
            if let IslandEvent::Warning(w) = ev {
                warnings.push(w);
            }
            Ok(())
        },
    )
    .unwrap();
    assert!(progress.finished(0));
    let w = warnings;
    assert!(w.iter().any(|w| w.contains("did not report")), "{w:#?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn per_island(a: &Archipelago<'_>) -> Vec<(u64, Option<f64>, Vec<f64>)> {
    a.with_islands(|_, e| {
        (
            e.state().evaluations,
            e.state().best_fitness,
            e.state().best_genome.clone(),
        )
    })
}

#[test]
fn islands_give_the_same_results_for_any_worker_count_and_across_processes() {
    let task = sphere();
    let run = RunConfig {
        seed: 11,
        max_evals: 3 * 400,
        ..RunConfig::default()
    };
    let config = IslandsConfig {
        islands: 3,
        migration: MigrationConfig {
            every: 4,
            migrants: 2,
            topology: Topology::Random,
            emigrants: EmigrantPolicy::Best,
            replace: ReplacePolicy::Random,
        },
    };
    let mut results = Vec::new();
    for mode in [
        Mode::Sequential,
        Mode::Threads { workers: 1 },
        Mode::Threads { workers: 2 },
        Mode::Threads { workers: 3 },
    ] {
        let mut a = Archipelago::new(task.as_ref(), &ga(12), &run, config.clone()).unwrap();
        a.run(&exec(mode)).unwrap();
        assert!(a.finished());
        assert!(!a.deliveries().is_empty());
        results.push(per_island(&a));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));

    // The same islands as separate "processes" (threads), each with its own directory transport.
    let dir = std::env::temp_dir().join(format!("neuroevo-procs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let per_island_evals = run.max_evals / 3;
    let outcomes: Vec<(u64, Option<f64>, Vec<f64>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let (task, dir, config) = (task.as_ref(), dir.clone(), config.clone());
                s.spawn(move || {
                    let mut evo = Evolution::new(
                        task,
                        ga(12),
                        RunConfig {
                            seed: island_seed(11, i),
                            max_evals: per_island_evals,
                            ..RunConfig::default()
                        },
                    )
                    .unwrap();
                    let mut t = DirectoryTransport::new(&dir, Duration::from_secs(20)).unwrap();
                    let mut p = IslandProgress::new(3);
                    run_island::<neuroevo::NeuroError>(
                        &mut evo,
                        i,
                        3,
                        11,
                        &config.migration,
                        &mut p,
                        &mut t,
                        &exec(Mode::Sequential),
                        |_, _, ev| {
                            assert!(!matches!(ev, IslandEvent::Warning(_)), "{ev:?}");
                            Ok(())
                        },
                    )
                    .unwrap();
                    (
                        evo.state().evaluations,
                        evo.state().best_fitness,
                        evo.state().best_genome.clone(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes, results[0]);
    std::fs::remove_dir_all(&dir).unwrap();
}
