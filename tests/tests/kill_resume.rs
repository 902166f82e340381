//! Kill-and-resume: long-running examples are killed with SIGKILL at random moments, 20 times,
//! then run to the end; no finished result may be lost and the resumed output must equal an
//! uninterrupted run's (timings and provenance aside). Threads mode: SIGKILL reaches the
//! parent only.

use std::path::Path;
use std::time::Duration;

use integration_tests::examples::{run, run_with_kills};

/// How long one whole run may take.
const LIMIT: Duration = Duration::from_secs(300);

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
