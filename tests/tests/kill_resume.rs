//! Kill-and-resume: each long-running example is killed with SIGKILL at random moments, then
//! run to the end, and its output must equal an uninterrupted run's (timings and provenance
//! aside), with no finished result lost. Small workloads, threads mode (SIGKILL reaches the
//! parent only).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use integration_tests::examples::{run, run_with_kills};
use serde_json::Value;

/// How long one complete run may take.
const LIMIT: Duration = Duration::from_secs(300);

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kill-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// `mpc` `eval`: MPC on synthetic segments with a journal. The resumed costs and mean equal an
/// uninterrupted run's bit for bit, and the journal holds exactly one whole record per
/// segment: no segment that had finished was computed again.
#[test]
fn mpc_eval_survives_20_sigkills() {
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
    let t0 = Instant::now();
    let whole = run("eval", &args(&clean), &clean, LIMIT);
    let wall = t0.elapsed();
    assert_eq!(whole.code, Some(0), "{}", whole.text());
    let t0 = Instant::now();
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
    let mut seconds: Vec<f64> = read_json(&clean.join("r.json"))["segments"]
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

    let a = read_json(&clean.join("r.json"));
    let b = read_json(&killed.join("r.json"));
    let costs = |v: &Value| -> Vec<Value> {
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
    let settings = |v: &Value| {
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
        match serde_json::from_str::<Value>(line) {
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
