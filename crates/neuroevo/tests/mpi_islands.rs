//! Islands on MPI ranks give the same results as the in-process archipelago: run by every
//! rank under `mpirun` (`cargo xtask test` does it at 1, 2 and 4 ranks).
//!
//! Each case runs an islands model on the ranks (`neuroevo::mpi::start`, an epoch at a time,
//! collected on rank 0) and, on rank 0, the same run in one process (`Archipelago::new`); the
//! generation records of every island and the final checkpoint of every island (optimiser
//! state included) must be identical. The cases cover the three optimisers, the three
//! topologies, both emigrant and both replacement policies, blocks of one and of several
//! islands per rank (uneven ones too), a run stopped early by a solution, a run without
//! migration, a run resumed on the ranks from a checkpoint taken halfway, and the errors every
//! rank must return alike (fewer islands than ranks, a checkpoint of another run).

use std::process::ExitCode;

use neuroevo::evolution::GenerationRecord;
use neuroevo::islands::{
    Archipelago, ArchipelagoCheckpoint, EmigrantPolicy, IslandsConfig, MigrationConfig, Topology,
};
use neuroevo::mpi::{collect_on_root, start};
use neuroevo::optimiser::{
    CmaesConfig, CosyneConfig, GaConfig, OptimiserConfig, ReplacePolicy, Selection,
};
use neuroevo::task::{Task, TaskConfig, TaskKind};
use neuroevo::{NeuroError, RunConfig};
use par_core::{ExecConfig, Executor, Mode, Progress};

struct Case {
    name: &'static str,
    optimiser: OptimiserConfig,
    islands: usize,
    migration: MigrationConfig,
    /// Rastrigin's success threshold (`f <= target`); negative: never solved.
    target: f64,
    max_evals: u64,
}

fn migration(
    every: u64,
    migrants: usize,
    topology: Topology,
    emigrants: EmigrantPolicy,
    replace: ReplacePolicy,
) -> MigrationConfig {
    MigrationConfig {
        every,
        migrants,
        topology,
        emigrants,
        replace,
    }
}

fn cases() -> Vec<Case> {
    let ga = OptimiserConfig::Ga(GaConfig {
        population: 16,
        ..GaConfig::default()
    });
    let ga_rank = OptimiserConfig::Ga(GaConfig {
        population: 14,
        selection: Selection::Rank { pressure: 1.7 },
        ..GaConfig::default()
    });
    let cosyne = OptimiserConfig::Cosyne(CosyneConfig {
        population: 16,
        offspring: 4,
        ..CosyneConfig::default()
    });
    let cmaes = OptimiserConfig::Cmaes(CmaesConfig {
        population: Some(12),
        ..CmaesConfig::default()
    });
    use EmigrantPolicy as E;
    use ReplacePolicy as R;
    use Topology as T;
    vec![
        Case {
            name: "ga ring best/worst, 4 islands",
            optimiser: ga.clone(),
            islands: 4,
            migration: migration(3, 2, T::Ring, E::Best, R::Worst),
            target: -1.0,
            max_evals: 4 * 16 * 12,
        },
        Case {
            name: "ga random random/random, 6 islands (uneven blocks)",
            optimiser: ga_rank,
            islands: 6,
            migration: migration(2, 3, T::Random, E::Random, R::Random),
            target: -1.0,
            max_evals: 6 * 14 * 9,
        },
        Case {
            name: "cosyne complete best/random, 5 islands",
            optimiser: cosyne,
            islands: 5,
            migration: migration(3, 2, T::Complete, E::Best, R::Random),
            target: -1.0,
            max_evals: 5 * 16 * 10,
        },
        Case {
            name: "cmaes ring random/worst, 8 islands",
            optimiser: cmaes.clone(),
            islands: 8,
            migration: migration(2, 2, T::Ring, E::Random, R::Worst),
            target: -1.0,
            max_evals: 8 * 12 * 10,
        },
        Case {
            name: "cmaes complete best/worst, solved early",
            optimiser: cmaes,
            islands: 4,
            migration: migration(2, 2, T::Complete, E::Best, R::Worst),
            target: 4.0,
            max_evals: 4 * 12 * 400,
        },
        Case {
            name: "ga without migration, 4 islands",
            optimiser: ga,
            islands: 4,
            migration: migration(3, 0, T::Ring, E::Best, R::Worst),
            target: -1.0,
            max_evals: 4 * 16 * 7,
        },
    ]
}

fn task(target: f64) -> Box<dyn Task> {
    let mut c = TaskConfig::new(TaskKind::Rastrigin);
    c.dim = 5;
    c.target = Some(target);
    c.build().expect("a valid task")
}

fn executor(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .expect("an executor")
}

/// The task, run settings and islands settings of `case` with run seed `seed`.
fn settings(case: &Case, seed: u64) -> (Box<dyn Task>, RunConfig, IslandsConfig) {
    let run = RunConfig {
        seed,
        max_evals: case.max_evals,
        ..RunConfig::default()
    };
    let config = IslandsConfig {
        islands: case.islands,
        migration: case.migration.clone(),
    };
    (task(case.target), run, config)
}

/// What a run produced: every record in order, the final checkpoint as JSON (exact floats).
type Outcome = (Vec<(usize, GenerationRecord)>, String);

fn json(cp: &ArchipelagoCheckpoint) -> String {
    serde_json::to_string(cp).expect("a checkpoint serialises")
}

/// The run on the ranks, from `saved` (rank 0's) when given, for at most `epochs` epochs:
/// rank 0's view.
fn on_ranks(
    case: &Case,
    saved: Option<ArchipelagoCheckpoint>,
    epochs: Option<u64>,
    exec: &Executor,
) -> Result<Option<(Outcome, u64)>, NeuroError> {
    let (t, run, config) = settings(case, 23);
    let mut islands = start(t.as_ref(), &case.optimiser, &run, config, saved)?;
    let mut records = Vec::new();
    let mut last = None;
    let mut ran = 0;
    while !islands.finished() && epochs.is_none_or(|e| ran < e) {
        let recs = islands.step_epoch(exec)?;
        ran += 1;
        if let Some(c) = collect_on_root(&mut islands, recs)? {
            records.extend(c.records);
            last = Some(c.checkpoint);
        }
    }
    let migrants_out = islands.transport().stats().migrants_out;
    Ok(last.map(|cp| ((records, json(&cp)), migrants_out)))
}

/// The same run in one process, from `saved` when given.
fn in_process(case: &Case, saved: Option<ArchipelagoCheckpoint>, exec: &Executor) -> Outcome {
    let (t, run, config) = settings(case, 23);
    let mut a = match saved {
        None => Archipelago::new(t.as_ref(), &case.optimiser, &run, config).expect("islands"),
        Some(cp) => Archipelago::resume(t.as_ref(), cp).expect("resumed islands"),
    };
    let mut records = Vec::new();
    while !a.finished() {
        records.extend(a.step_epoch(exec).expect("an epoch"));
    }
    (records, json(&a.checkpoint()))
}

fn main() -> ExitCode {
    // Each rank evaluates its islands on one thread (the test runs up to 4 ranks on 2 cores).
    let exec = executor(Mode::Threads { workers: 1 });
    let (rank, ranks) = match par_core::mpi::init() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start MPI: {e}");
            return ExitCode::FAILURE;
        }
    };
    let root = rank == 0;
    let baseline = executor(Mode::Threads { workers: 2 });
    let mut failures = Vec::new();
    let mut check = |name: &str, ok: bool, detail: String| {
        if ok {
            println!("rank {rank}: {name}: ok");
        } else {
            println!("rank {rank}: {name}: FAILED: {detail}");
            failures.push(name.to_string());
        }
    };

    for case in cases() {
        if case.islands < ranks {
            continue;
        }
        match on_ranks(&case, None, None, &exec) {
            Err(e) => check(case.name, false, format!("{e}")),
            Ok(None) => check(case.name, !root, "rank 0 collected nothing".into()),
            Ok(Some(((records, cp), migrants_out))) => {
                let (want_records, want_cp) = in_process(&case, None, &baseline);
                let solved =
                    serde_json::from_str::<ArchipelagoCheckpoint>(&cp).is_ok_and(|c| c.solved);
                let moved = case.migration.migrants == 0 || ranks == 1 || migrants_out > 0;
                check(
                    case.name,
                    records == want_records && cp == want_cp && moved,
                    format!(
                        "{} records against {} in one process; checkpoints {}; solved {solved}; \
                         migrants sent by rank 0 to other ranks: {migrants_out}",
                        records.len(),
                        want_records.len(),
                        if cp == want_cp { "equal" } else { "differ" }
                    ),
                );
                if case.target > 0.0 {
                    check(
                        "the early-stopping case is solved",
                        solved,
                        "no island solved it".into(),
                    );
                }
            }
        }
    }

    // Resume on the ranks from a checkpoint taken halfway (the whole run's, on rank 0).
    let case = &cases()[1];
    if case.islands >= ranks {
        let halfway = match on_ranks(case, None, Some(2), &exec) {
            Ok(v) => v.map(|((_, cp), _)| {
                serde_json::from_str::<ArchipelagoCheckpoint>(&cp).expect("a checkpoint")
            }),
            Err(e) => {
                check("halfway run", false, format!("{e}"));
                None
            }
        };
        let resumed = on_ranks(case, halfway.clone(), None, &exec);
        match (resumed, halfway) {
            (Ok(Some(((_, cp), _))), Some(halfway)) => {
                let (_, want) = in_process(case, None, &baseline);
                let (_, want_from_half) = in_process(case, Some(halfway), &baseline);
                check(
                    "resumed on the ranks from a halfway checkpoint",
                    cp == want && cp == want_from_half,
                    "the resumed run differs from the uninterrupted one".into(),
                );
            }
            (Ok(None), None) if !root => check("resumed", true, String::new()),
            (Ok(_), _) => check("resumed", false, "nothing collected on rank 0".into()),
            (Err(e), _) => check("resumed", false, format!("{e}")),
        }
    }

    // A checkpoint of another run: every rank fails alike (rank 0 tells them), no hang.
    let case = &cases()[0];
    if case.islands >= ranks {
        let other = root.then(|| {
            let (t, run, config) = settings(case, 99);
            Archipelago::new(t.as_ref(), &case.optimiser, &run, config)
                .expect("islands")
                .checkpoint()
        });
        match on_ranks(case, other, None, &exec) {
            Err(NeuroError::InvalidField { field, reason }) if field == "checkpoint" => check(
                "a checkpoint of another run is refused on every rank",
                reason.contains("another run"),
                reason,
            ),
            other => check(
                "a checkpoint of another run is refused on every rank",
                false,
                format!("{:?}", other.map(|_| ())),
            ),
        }
    }

    // Fewer islands than ranks: a typed error on every rank, before any message.
    if ranks > 1 {
        let case = Case {
            islands: ranks - 1,
            ..cases().remove(0)
        };
        match on_ranks(&case, None, None, &exec) {
            Err(NeuroError::InvalidField { field, .. }) if field == "islands.islands" => {
                check("fewer islands than ranks is an error", true, String::new());
            }
            other => check(
                "fewer islands than ranks is an error",
                false,
                format!("{:?}", other.map(|_| ())),
            ),
        }
    }

    if failures.is_empty() {
        println!("rank {rank} of {ranks}: mpi_islands ok");
        ExitCode::SUCCESS
    } else {
        println!("rank {rank} of {ranks}: mpi_islands FAILED: {failures:?}");
        ExitCode::FAILURE
    }
}
