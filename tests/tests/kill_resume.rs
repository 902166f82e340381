//! Kill-and-resume: a long-running example is killed with SIGKILL at random moments, 20 times,
//! and started again each time with the same command until a last run finishes. Nothing it
//! had finished may be lost, and what it leaves must equal what a run that was never
//! interrupted leaves (timings and provenance aside). Small workloads in threads mode (a
//! SIGKILL reaches the parent process only).

use std::path::Path;
use std::time::{Duration, Instant};

use integration_tests::examples::{CONNECT4_POSITIONS, example, run, run_with_kills};
use mcts::alphazero::{Checkpoint, TrainingState};
use serde_json::Value;

/// How long one run may take.
const LIMIT: Duration = Duration::from_secs(300);

/// The SIGKILLs each test delivers (a run that finishes before its moment is not counted).
const KILLS: usize = 20;

/// A fresh scratch folder for `name`.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kill-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// An `az_train` log without what differs between two runs of the same work: the run's
/// self-description and the wall times.
fn comparable_log(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut log: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let top = log.as_object_mut().expect("the log is an object");
    assert!(top.remove("run").is_some(), "the log has its run record");
    for it in top["iterations"].as_array_mut().expect("iterations") {
        let it = it.as_object_mut().expect("an iteration is an object");
        for timing in ["selfplay_s", "train_s", "total_s", "eval_s"] {
            it.remove(timing);
        }
        if let Some(Value::Object(selfplay)) = it.get_mut("selfplay") {
            selfplay.remove("seconds");
        }
    }
    log
}

#[test]
fn az_train_survives_20_sigkills() {
    let dir = scratch("az-train");
    let set = dir.join("positions.txt");
    std::fs::write(&set, CONNECT4_POSITIONS).expect("test set");
    let iterations = 40u64;
    let args = |out: &str| -> Vec<String> {
        let set = set.display().to_string();
        [
            "--set",
            &set,
            "--set2",
            &set,
            "--hidden",
            "16",
            "--games-per-iter",
            "4",
            "--full-sims",
            "16",
            "--eval-sims",
            "8",
            "--eval-fast-sims",
            "4",
            "--eval-every",
            "5",
            "--workers",
            "2",
            "--games-per-worker",
            "2",
            "--replay",
            "500",
            "--match-games",
            "2",
            "--iterations",
            &iterations.to_string(),
            "--resume",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };

    // Built before the clock starts (the first call builds every example).
    example("az_train");
    let started = Instant::now();
    let straight = run("az_train", &args("straight"), &dir, LIMIT);
    assert_eq!(straight.code, Some(0), "{}", straight.text());
    let took = started.elapsed();

    // Kill moments within an eighth of an uninterrupted run: 20 killed runs cover about the
    // whole of it, from the start-up to the last writes.
    let window = (took / 8).max(Duration::from_millis(50));
    let (last, kills) = run_with_kills(
        "az_train",
        &args("killed"),
        &dir,
        KILLS,
        window,
        2026,
        LIMIT,
    );
    assert_eq!(last.code, Some(0), "{}", last.text());
    assert!(
        kills >= KILLS * 3 / 4,
        "only {kills} of {KILLS} runs were killed before they finished (window {window:?})"
    );

    // Every iteration, once, in order: nothing finished was lost.
    let killed_log = comparable_log(&dir.join("killed/log.json"));
    let numbers: Vec<u64> = killed_log["iterations"]
        .as_array()
        .expect("iterations")
        .iter()
        .map(|it| it["iteration"].as_u64().expect("an iteration number"))
        .collect();
    assert_eq!(numbers, (0..=iterations).collect::<Vec<_>>());
    assert!(killed_log["final_match"]["games"] == 2, "{killed_log}");
    // The same history as the uninterrupted run: iteration by iteration (the first that
    // differs is the one reported), then the rest.
    let mut straight_log = comparable_log(&dir.join("straight/log.json"));
    let mut killed_log = killed_log;
    let (a, b) = (
        straight_log["iterations"].take(),
        killed_log["iterations"].take(),
    );
    for (a, b) in a.as_array().unwrap().iter().zip(b.as_array().unwrap()) {
        assert_eq!(a, b, "iteration {} differs after the kills", a["iteration"]);
    }
    assert_eq!(straight_log, killed_log);

    // The same network, optimiser, counters and replay buffer.
    let state = |run: &str| TrainingState::load(&dir.join(run).join("train_state.bin")).unwrap();
    let (a, b) = (state("straight"), state("killed"));
    let (ca, cb) = (&a.checkpoint, &b.checkpoint);
    assert_eq!(ca.net, cb.net);
    assert_eq!(ca.adam, cb.adam);
    assert_eq!(
        (ca.iteration, ca.games, ca.samples),
        (cb.iteration, cb.games, cb.samples)
    );
    assert_eq!(a.replay(), b.replay());
    let checkpoint = Checkpoint::load(&dir.join("killed/checkpoint.bin")).unwrap();
    assert_eq!(
        checkpoint.net, cb.net,
        "the checkpoint is the state's network"
    );
    assert!(
        cb.sessions.len() > 1,
        "the killed run was resumed: {} session(s)",
        cb.sessions.len()
    );
    // No temporary file of an interrupted write is left behind (a run removes those it finds
    // when it starts).
    let leftovers: Vec<String> = std::fs::read_dir(dir.join("killed"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("az_train: {kills} SIGKILLs, resumed to the uninterrupted run's log and network");
}
