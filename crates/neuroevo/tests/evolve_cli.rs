//! The `evolve` example as a user meets it: a real `--help`, a run killed with SIGKILL and run
//! again ending exactly as an uninterrupted run, and islands in separate processes matching
//! islands in one. Bad input (numbers, files, folders) is covered by the workspace's
//! table-driven suite, `tests/tests/bad_inputs/neuroevo.rs`.
//!
//! `cargo test` builds the examples; these tests run `target/<profile>/examples/evolve`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn evolve() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir
        .join("examples")
        .join(format!("evolve{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo test` builds it (cargo build --examples)",
        bin.display()
    );
    bin
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neuroevo-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(evolve())
        .args(args)
        .env("PAR_CORE_PROGRESS", "0")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_lists_options_defaults_and_files() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let t = text(&o);
    for needle in [
        "--task",
        "--optimiser",
        "--max-evals",
        "--islands",
        "--migration-dir",
        "--migrate-every",
        "[default: 10]",
        "history.csv",
        "summary.json",
        "fitness.svg",
        "best_genome.json",
        "population",
    ] {
        assert!(t.contains(needle), "--help lacks {needle}:\n{t}");
    }
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result() {
    let args = |out: &Path| -> Vec<String> {
        [
            "--task",
            "rastrigin",
            "--optimiser",
            "ga",
            "--seed",
            "3",
            "--max-evals",
            "60000",
            "--workers",
            "2",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.to_str().unwrap().to_string()])
        .collect()
    };
    let whole = tmp("whole");
    let start = std::time::Instant::now();
    let r = Command::new(evolve()).args(args(&whole)).output().unwrap();
    let full = start.elapsed();
    assert!(r.status.success(), "{}", text(&r));
    let killed = tmp("killed");
    let mut kills = 0;
    // Kill moments spread over the uninterrupted run's duration, so the test kills mid-run on
    // fast and slow machines alike (each resumed attempt has less left to do).
    for fraction in [0.15, 0.3, 0.2, 0.35, 0.25] {
        let delay_ms = (full.as_secs_f64() * fraction * 1e3) as u64;
        let mut child = Command::new(evolve())
            .args(args(&killed))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    let r = Command::new(evolve()).args(args(&killed)).output().unwrap();
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        kills >= 1,
        "the run finished before any kill: make it longer"
    );
    assert_eq!(
        std::fs::read_to_string(killed.join("history.csv")).unwrap(),
        std::fs::read_to_string(whole.join("history.csv")).unwrap()
    );
    let (a, b) = (summary(&whole), summary(&killed));
    for k in ["evaluations", "best_fitness", "solved", "generations"] {
        assert_eq!(a[k], b[k], "{k}");
    }
    assert_eq!(
        std::fs::read_to_string(killed.join("best_genome.json")).unwrap(),
        std::fs::read_to_string(whole.join("best_genome.json")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&killed);
}

#[test]
fn island_processes_match_islands_in_one_process() {
    let common = [
        "--task",
        "rastrigin",
        "--optimiser",
        "ga",
        "--seed",
        "2",
        "--max-evals",
        "4000",
        "--islands",
        "2",
        "--migrate-every",
        "3",
        "--migrants",
        "2",
        "--topology",
        "ring",
        "--workers",
        "1",
    ];
    let one = tmp("one");
    let mut args = common.to_vec();
    args.extend(["--out", one.to_str().unwrap()]);
    let r = run(&args);
    assert!(r.status.success(), "{}", text(&r));
    let mig = tmp("mig");
    let outs: Vec<PathBuf> = (0..2).map(|i| tmp(&format!("isl{i}"))).collect();
    let children: Vec<_> = (0..2)
        .map(|i| {
            let i_s = i.to_string();
            let mut a: Vec<&str> = common.to_vec();
            a.extend([
                "--island",
                &i_s,
                "--migration-dir",
                mig.to_str().unwrap(),
                "--migration-timeout",
                "60",
                "--out",
                outs[i].to_str().unwrap(),
            ]);
            Command::new(evolve())
                .args(&a)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let results: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for r in &results {
        assert!(r.status.success(), "{}", text(r));
        assert!(!text(r).contains("warning"), "{}", text(r));
    }
    let whole = summary(&one);
    let best = outs
        .iter()
        .map(|o| summary(o)["best_fitness"].as_f64().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(whole["best_fitness"].as_f64().unwrap(), best);
    let spent: u64 = outs
        .iter()
        .map(|o| summary(o)["evaluations_spent"].as_u64().unwrap())
        .sum();
    assert_eq!(whole["evaluations_spent"].as_u64().unwrap(), spent);
    // Each island's history equals its rows in the one-process history.
    let one_hist = std::fs::read_to_string(one.join("history.csv")).unwrap();
    for (i, o) in outs.iter().enumerate() {
        let rows: Vec<&str> = one_hist
            .lines()
            .skip(1)
            .filter(|l| l.starts_with(&format!("{i},")))
            .collect();
        let own = std::fs::read_to_string(o.join("history.csv")).unwrap();
        let own_rows: Vec<&str> = own.lines().skip(1).collect();
        assert_eq!(rows, own_rows, "island {i}");
    }
    for d in [one, mig].into_iter().chain(outs) {
        let _ = std::fs::remove_dir_all(d);
    }
}
