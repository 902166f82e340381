//! Runs: bit-identical for any worker count and chunk size, resumed runs identical to
//! uninterrupted ones, and the three optimisers solving the pole tasks.

use neuroevo::optimiser::{CmaesConfig, CosyneConfig, GaConfig, OptimiserConfig};
use neuroevo::task::{TaskConfig, TaskKind};
use neuroevo::{Checkpoint, Evolution, GenerationRecord, NeuroError, RunConfig, Status};
use par_core::{ExecConfig, Executor, Mode, Progress};

fn exec(mode: Mode) -> Executor {
    Executor::new(ExecConfig {
        progress: Progress::Hidden,
        ..ExecConfig::with_mode(mode)
    })
    .unwrap()
}

fn history(
    task: TaskKind,
    opt: &OptimiserConfig,
    run: RunConfig,
    mode: Mode,
    generations: usize,
) -> (Vec<GenerationRecord>, Checkpoint) {
    let t = TaskConfig::new(task).build().unwrap();
    let mut e = Evolution::new(t.as_ref(), opt.clone(), run).unwrap();
    let ex = exec(mode);
    let recs = (0..generations).map(|_| e.step(&ex).unwrap()).collect();
    (recs, e.checkpoint())
}

fn optimisers() -> [OptimiserConfig; 3] {
    [
        OptimiserConfig::Ga(GaConfig {
            population: 20,
            ..GaConfig::default()
        }),
        OptimiserConfig::Cosyne(CosyneConfig {
            population: 20,
            offspring: 5,
            ..CosyneConfig::default()
        }),
        OptimiserConfig::Cmaes(CmaesConfig::default()),
    ]
}

#[test]
fn runs_are_bit_identical_for_any_worker_count_mode_and_chunk() {
    for opt in optimisers() {
        let base = RunConfig {
            seed: 3,
            ..RunConfig::default()
        };
        let reference = history(TaskKind::Creature, &opt, base.clone(), Mode::Sequential, 3);
        for (mode, chunk) in [
            (Mode::Threads { workers: 1 }, 1),
            (Mode::Threads { workers: 2 }, 1),
            (Mode::Threads { workers: 3 }, 4),
            (Mode::Auto { workers: 2 }, 7),
        ] {
            let run = RunConfig {
                chunk,
                ..base.clone()
            };
            let got = history(TaskKind::Creature, &opt, run, mode, 3);
            assert_eq!(got.0, reference.0, "{opt:?} {mode} chunk {chunk}");
            assert_eq!(got.1.optimiser, reference.1.optimiser);
        }
    }
}

#[test]
fn a_resumed_run_is_identical_to_an_uninterrupted_one() {
    for opt in optimisers() {
        let run = RunConfig {
            seed: 8,
            ..RunConfig::default()
        };
        let t = TaskConfig::new(TaskKind::Rastrigin).build().unwrap();
        let ex = exec(Mode::Threads { workers: 2 });
        let mut whole = Evolution::new(t.as_ref(), opt.clone(), run.clone()).unwrap();
        let all: Vec<GenerationRecord> = (0..12).map(|_| whole.step(&ex).unwrap()).collect();
        let mut first = Evolution::new(t.as_ref(), opt.clone(), run).unwrap();
        let mut resumed: Vec<GenerationRecord> = (0..5).map(|_| first.step(&ex).unwrap()).collect();
        // Through JSON, as the checkpoint file stores it.
        let text = serde_json::to_string(&first.checkpoint()).unwrap();
        drop(first);
        let cp: Checkpoint = serde_json::from_str(&text).unwrap();
        let mut second = Evolution::resume(t.as_ref(), cp).unwrap();
        resumed.extend((0..7).map(|_| second.step(&ex).unwrap()));
        assert_eq!(resumed, all, "{opt:?}");
        assert_eq!(second.checkpoint(), whole.checkpoint());
    }
}

/// The solutions found by `kind`'s recommended settings on `task` for `seeds`, each checked
/// to lie within the run's spending.
fn solutions(
    task: &dyn neuroevo::task::Task,
    kind: neuroevo::optimiser::OptimiserKind,
    seeds: u64,
) -> Vec<neuroevo::Solution> {
    let ex = exec(Mode::Threads { workers: 2 });
    let opt = kind.default_for(task.kind());
    (0..seeds)
        .filter_map(|seed| {
            let run = RunConfig {
                seed,
                max_evals: 20_000,
                ..RunConfig::default()
            };
            let mut e = Evolution::new(task, opt.clone(), run).unwrap();
            let status = e.run::<NeuroError>(&ex, |_, _| Ok(())).unwrap();
            let s = e
                .state()
                .solution
                .clone()
                .filter(|_| status == Status::Solved)?;
            assert!(s.evaluations <= e.state().evaluations);
            Some(s)
        })
        .collect()
}

#[test]
fn every_optimiser_solves_the_markov_double_pole() {
    let t = TaskConfig::new(TaskKind::DoublePoleMarkov).build().unwrap();
    for kind in neuroevo::optimiser::OptimiserKind::ALL {
        let found = solutions(t.as_ref(), kind, 3);
        assert!(
            found.len() >= 2,
            "{kind}: {} of 3 seeds solved",
            found.len()
        );
        for s in found {
            // The solution balances 100,000 steps when evaluated again.
            assert!(t.evaluate(&s.genome, 0).solved);
        }
    }
}

#[test]
fn worker_entry() {
    par_core::process::serve_if_worker(
        &par_core::process::Registry::new().with::<neuroevo::evolution::GenerationJob>(),
    );
}

#[test]
fn generations_evaluated_in_worker_processes_give_the_same_run() {
    let opt = OptimiserConfig::Cmaes(CmaesConfig::default());
    let run = RunConfig {
        seed: 5,
        chunk: 3,
        ..RunConfig::default()
    };
    let config = TaskConfig::new(TaskKind::Creature);
    let reference = history(TaskKind::Creature, &opt, run.clone(), Mode::Sequential, 3);
    let t = config.build().unwrap();
    let mut e = Evolution::new(t.as_ref(), opt, run).unwrap();
    e.evaluate_remotely(Some(config));
    let procs = Executor::new(ExecConfig {
        progress: Progress::Hidden,
        worker_command: Some(par_core::WorkerCommand::libtest("worker_entry").unwrap()),
        ..ExecConfig::with_mode(Mode::Processes { workers: 2 })
    })
    .unwrap();
    let recs: Vec<GenerationRecord> = (0..3).map(|_| e.step(&procs).unwrap()).collect();
    assert_eq!(recs, reference.0);
    assert!(e.last_report().unwrap().mode.starts_with("processes"));
}

#[test]
fn the_ga_solves_the_double_pole_without_velocities_and_solutions_generalise() {
    let t = TaskConfig::new(TaskKind::DoublePoleNonmarkov)
        .build()
        .unwrap();
    let found = solutions(t.as_ref(), neuroevo::optimiser::OptimiserKind::Ga, 2);
    assert!(!found.is_empty(), "neither seed solved");
    for s in found {
        let g = s
            .generalisation
            .expect("a non-Markov solution carries its generalisation");
        assert!(g >= 200, "generalisation {g}");
        // Verified again from scratch: 100,000 steps and the same generalisation count.
        let v = t.verify(&s.genome).unwrap();
        assert!(v.solved);
        assert_eq!(v.generalisation, Some(g));
    }
}
