//! Kill-and-resume: long-running examples are killed with SIGKILL at random moments, 20 times,
//! then run to the end; no finished result may be lost and the resumed output must equal an
//! uninterrupted run's (timings and provenance aside). Threads mode: SIGKILL reaches the
//! parent only.

use std::path::Path;
use std::time::{Duration, Instant};

use integration_tests::examples::{CONNECT4_POSITIONS, example, run, run_with_kills};
use mcts::alphazero::{Checkpoint, TrainingState};
use serde_json::Value;

/// How long one whole run may take.
const LIMIT: Duration = Duration::from_secs(300);

/// The SIGKILLs each test delivers (a run that finishes before its moment is not counted).
const KILLS: usize = 20;

/// Held by each test for its whole length: the kill windows are scaled by an uninterrupted
/// run's wall time, which a test running beside it would distort.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`ONE_AT_A_TIME`] (a test that failed while holding it does not block the others).
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kill-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

/// The JSON value of `path`.
fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The records of a sweep's summary without their wall-clock times.
fn timeless_records(summary: &serde_json::Value) -> Vec<serde_json::Value> {
    summary["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().expect("record").remove("seconds");
            r
        })
        .collect()
}

/// mfg `sweep`: 200 points of some tens of milliseconds each (2 workers), killed 20 times at
/// random moments up to 3/40 of an uninterrupted run's wall time after each start, so that the
/// kills spread over about three quarters of the work whatever the machine's speed. Every point
/// must end with exactly one parseable record in the results file (a finished point is never
/// run again; a record torn by a kill does not count), and the final records and arrays must
/// equal an uninterrupted run's.
#[test]
fn sweep_survives_20_sigkills() {
    let _alone = one_at_a_time();
    let dir = scratch("sweep");
    let sigmas: Vec<String> = (0..20)
        .map(|i| format!("{}", 0.3 + 0.025 * f64::from(i)))
        .collect();
    let config = format!(
        r#"{{"base": {{"nx": 101, "nt": 101}}, "axes": [
            {{"param": "sigma", "values": [{}]}},
            {{"param": "coupling_eps", "values": [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75]}}
        ]}}"#,
        sigmas.join(", ")
    );
    let config_path = dir.join("sweep.json");
    std::fs::write(&config_path, config).expect("config");
    let args = |out: &str| -> Vec<String> {
        [
            "--config",
            &config_path.display().to_string(),
            "--out",
            &dir.join(out).display().to_string(),
            "--mode",
            "threads",
            "--workers",
            "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };

    let start = std::time::Instant::now();
    let whole = run("sweep", &args("whole.jsonl"), &dir, LIMIT);
    let wall = start.elapsed();
    assert_eq!(whole.code, Some(0), "uninterrupted run:\n{}", whole.text());

    let (last, kills) = run_with_kills(
        "sweep",
        &args("killed.jsonl"),
        &dir,
        20,
        wall.mul_f64(3.0 / 40.0),
        2026,
        LIMIT,
    );
    assert_eq!(last.code, Some(0), "final run:\n{}", last.text());
    assert!(
        kills >= 15,
        "only {kills} of 20 kills landed before the run finished: the workload is too small"
    );

    // No finished result lost: one parseable record per point, all converged.
    let text = std::fs::read_to_string(dir.join("killed.jsonl")).expect("results file");
    let mut per_point = vec![0usize; 200];
    let mut torn = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(rec) => {
                let i = rec["index"].as_u64().expect("index") as usize;
                per_point[i] += 1;
                assert_eq!(rec["status"], "converged", "point {i}: {rec}");
            }
            Err(_) => torn += 1,
        }
    }
    let twice: Vec<usize> = (0..200).filter(|&i| per_point[i] > 1).collect();
    let missing: Vec<usize> = (0..200).filter(|&i| per_point[i] == 0).collect();
    assert!(
        twice.is_empty() && missing.is_empty(),
        "points run twice (a finished result was lost): {twice:?}; points without a record: \
         {missing:?} ({kills} kills, {torn} torn lines)"
    );

    // The resumed output equals the uninterrupted one.
    let a = json(&dir.join("whole.summary.json"));
    let b = json(&dir.join("killed.summary.json"));
    assert_eq!(b["summary"]["converged"], 200);
    assert_eq!(timeless_records(&a), timeless_records(&b));
    for array in ["mean_t", "variance_t", "u0_at_mean", "iterations"] {
        let read = |stem: &str| {
            std::fs::read(dir.join(format!("{stem}.{array}.npy"))).expect("array file")
        };
        assert_eq!(read("whole"), read("killed"), "{array}.npy differs");
    }
    eprintln!(
        "sweep: uninterrupted in {wall:.2?}; {kills} kills, {torn} torn lines; final run: {}",
        last.stdout.lines().next().unwrap_or_default()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mpc` `eval`: MPC on synthetic segments with a journal. The resumed costs and mean equal an
/// uninterrupted run's bit for bit, and the journal holds exactly one whole record per
/// segment: no segment that had finished was computed again.
#[test]
fn mpc_eval_survives_20_sigkills() {
    let _alone = one_at_a_time();
    const SEGMENTS: usize = 200;
    let root = scratch("mpc-eval");
    let config = root.join("mpc.json");
    std::fs::write(
        &config,
        r#"{"horizon": 2, "samples": 3, "iterations": 1, "elites": 1}"#,
    )
    .expect("configuration");
    let args = |dir: &Path| -> Vec<String> {
        let mut a: Vec<String> = [
            "--controller",
            "mpc",
            "--mode",
            "threads",
            "--workers",
            "2",
            "--seed",
            "11",
            "--synthetic",
        ]
        .map(String::from)
        .to_vec();
        a.push(SEGMENTS.to_string());
        for (flag, path) in [("--config", config.clone()), ("--out", dir.join("r.json"))] {
            a.push(flag.into());
            a.push(path.display().to_string());
        }
        a
    };

    // The uninterrupted run, and how long a run takes that has nothing left to compute.
    let clean = root.join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    let t0 = std::time::Instant::now();
    let whole = run("eval", &args(&clean), &clean, LIMIT);
    let wall = t0.elapsed();
    assert_eq!(whole.code, Some(0), "{}", whole.text());
    let t0 = std::time::Instant::now();
    let idle = run("eval", &args(&clean), &clean, LIMIT);
    let startup = t0.elapsed();
    assert_eq!(idle.code, Some(0), "{}", idle.text());
    assert!(
        idle.stdout
            .contains(&format!("{SEGMENTS} of {SEGMENTS} segments read back")),
        "a rerun of a finished evaluation computes nothing:\n{}",
        idle.stdout
    );

    // Kill moments within the start-up plus four segments' time (the median rollout of the
    // uninterrupted run): every run is killed with work left, a run finishes a few segments,
    // and the twenty runs together a part of them that stays well below the whole even when
    // the machine runs them three times faster or slower than the uninterrupted run (many
    // short segments, a journal without traces, so that the start-up time stays the same).
    let mut seconds: Vec<f64> = json(&clean.join("r.json"))["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| s["seconds"].as_f64().expect("seconds"))
        .collect();
    seconds.sort_by(f64::total_cmp);
    let segment = Duration::from_secs_f64(seconds[SEGMENTS / 2]);
    let max_delay = startup + 4 * segment;
    let killed = root.join("killed");
    std::fs::create_dir_all(&killed).unwrap();
    let (last, kills) = run_with_kills(
        "eval",
        &args(&killed),
        &killed,
        20,
        max_delay,
        0x5eed_2026,
        LIMIT,
    );
    assert_eq!(last.code, Some(0), "the final run:\n{}", last.text());
    assert!(
        kills >= 15,
        "only {kills} of 20 runs were killed before finishing (kill moments up to {max_delay:?})"
    );

    let a = json(&clean.join("r.json"));
    let b = json(&killed.join("r.json"));
    let costs = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .map(|s| {
                serde_json::json!([
                    s["index"],
                    s["file"],
                    s["lataccel_cost"],
                    s["jerk_cost"],
                    s["total_cost"]
                ])
            })
            .collect()
    };
    assert_eq!(costs(&a).len(), SEGMENTS);
    assert_eq!(costs(&a), costs(&b), "per-segment costs");
    assert_eq!(a["mean"], b["mean"], "mean costs");
    let settings = |v: &serde_json::Value| {
        let mut c = v["run"]["config"].clone();
        let c = c.as_object_mut().expect("configuration");
        // The two runs write into folders of their own.
        c.remove("out");
        c.remove("trace");
        c.clone()
    };
    assert_eq!(settings(&a), settings(&b), "resolved configuration");
    let resumed = b["resumed"].as_u64().expect("resumed count") as usize;
    assert!(
        (1..SEGMENTS).contains(&resumed),
        "the killed runs finished {resumed} of {SEGMENTS} segments: kills must land mid-work"
    );
    // The journal: exactly one whole record per segment (a second one would mean a finished
    // segment was lost and computed again); lines cut by a kill are the only others.
    let journal = std::fs::read_to_string(killed.join("r.json.jsonl")).expect("journal");
    let mut records = vec![0usize; SEGMENTS];
    let mut torn = 0;
    for line in journal.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(r) => records[r["result"]["index"].as_u64().expect("index") as usize] += 1,
            Err(_) => torn += 1,
        }
    }
    assert!(
        records.iter().all(|&n| n == 1),
        "records per segment: {records:?}"
    );
    assert!(torn <= kills, "{torn} torn lines from {kills} kills");
    eprintln!(
        "mpc eval: {kills} kills (moments up to {max_delay:?}; uninterrupted {wall:?}, start-up \
         {startup:?}, median segment {segment:?}), \
         {resumed} of {SEGMENTS} segments resumed, {torn} torn journal lines"
    );
    let _ = std::fs::remove_dir_all(&root);
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
    let _alone = one_at_a_time();
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
    // The case of the issue: a log.json left empty. The log lives in the training state too:
    // a rerun of the finished run rewrites it whole, and plays nothing again.
    std::fs::write(dir.join("killed/log.json"), "").unwrap();
    let again = run("az_train", &args("killed"), &dir, LIMIT);
    assert_eq!(again.code, Some(0), "{}", again.text());
    assert_eq!(
        comparable_log(&dir.join("killed/log.json")),
        comparable_log(&dir.join("straight/log.json"))
    );
    assert_eq!(state("killed").checkpoint.net, cb.net);
    let _ = std::fs::remove_dir_all(&dir);
    // The killed runs had finished some of the work that the last run resumed.
    let resumed_at: u64 = last
        .stderr
        .lines()
        .find_map(|l| l.split(" at iteration ").nth(1)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("the last run did not resume:\n{}", last.stderr));
    assert!(resumed_at > 0, "the killed runs finished no iteration");
    eprintln!("az_train: the last of {kills} killed runs had reached iteration {resumed_at}");
    eprintln!("az_train: {kills} SIGKILLs, resumed to the uninterrupted run's log and network");
}
