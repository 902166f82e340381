//! What mfg's examples promise beyond refusing bad input (issue 13): statuses are not results
//! (`sweep` exits 1 when no point converged and reruns timed-out points under a larger
//! `--timeout`), small samples come with a warning (`common_noise`), and the result files
//! describe themselves (`"run"` with the command line and the resolved configuration).

use std::path::{Path, PathBuf};
use std::time::Duration;

use integration_tests::examples::run;

const LIMIT: Duration = Duration::from_secs(120);

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mfg-examples-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn sweep_timed_out_points_are_not_results_and_rerun_under_a_larger_limit() {
    let dir = scratch("sweep");
    let config = dir.join("sweep.json");
    std::fs::write(
        &config,
        r#"{"base": {"nx": 21, "nt": 10}, "axes": [{"param": "sigma", "values": [0.3, 0.5, 0.8]}]}"#,
    )
    .unwrap();
    let out = dir.join("s.jsonl");
    let with = |timeout: &str| {
        args(&[
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--timeout",
            timeout,
        ])
    };
    let first = run("sweep", &with("1e-9"), &dir, LIMIT);
    assert_eq!(first.code, Some(1), "{}", first.text());
    assert!(
        first.stderr.contains("no point produced a usable result")
            && first.stderr.contains("3 timed out"),
        "{}",
        first.stderr
    );
    // The arrays say the timed-out points have no value.
    let summary = json(&dir.join("s.summary.json"));
    assert_eq!(summary["summary"]["timed_out"], 3);
    assert_eq!(summary["run"]["config"]["sweep"]["run_timeout_s"], 1e-9);
    let command = summary["run"]["provenance"]["command"].to_string();
    assert!(command.contains("--timeout"), "{command}");
    let size = std::fs::metadata(&config).unwrap().len();
    assert_eq!(summary["run"]["inputs"][0]["bytes"], size);
    assert_eq!(
        summary["run"]["inputs"][0]["sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    // The same limit changes nothing and still fails; a larger one reruns every point.
    let same = run("sweep", &with("1e-9"), &dir, LIMIT);
    assert_eq!(same.code, Some(1));
    assert!(same.stdout.contains("3 from"), "{}", same.stdout);
    let longer = run("sweep", &with("60"), &dir, LIMIT);
    assert_eq!(longer.code, Some(0), "{}", longer.text());
    assert!(
        longer.stdout.contains("3 run now (3 of them again)")
            && longer.stdout.contains("timed out under a limit of 1e-9 s"),
        "{}",
        longer.stdout
    );
    assert_eq!(json(&dir.join("s.summary.json"))["summary"]["converged"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn common_noise_warns_about_few_paths_and_describes_its_run() {
    let dir = scratch("cn");
    let out = dir.join("cn");
    let small = run(
        "common_noise",
        &args(&[
            "--paths",
            "4",
            "--sampling",
            "plain",
            "--n",
            "20",
            "--out",
            out.to_str().unwrap(),
        ]),
        &dir,
        LIMIT,
    );
    assert_eq!(small.code, Some(0), "{}", small.text());
    assert!(
        small
            .stderr
            .contains("warning: only 4 independent groups behind the standard error")
            && small.stderr.contains("(width ")
            && small
                .stderr
                .contains("warning: --n 20: cells of width 0.250"),
        "{}",
        small.stderr
    );
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["groups"], 4);
    assert_eq!(summary["warnings"].as_array().unwrap().len(), 2);
    assert_eq!(summary["run"]["config"]["noise"]["paths"], 4);
    assert_eq!(summary["run"]["seed"], 1);
    for file in [
        "m_stats.csv",
        "paths.csv",
        "m_band.svg",
        "m_mean.npy",
        "theta.npy",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let enough = run(
        "common_noise",
        &args(&["--paths", "40", "--out", out.to_str().unwrap()]),
        &dir,
        LIMIT,
    );
    assert_eq!(enough.code, Some(0), "{}", enough.text());
    assert!(!enough.stderr.contains("warning"), "{}", enough.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lq_check_records_its_inputs_and_checks_its_output_first() {
    let dir = scratch("lq");
    let out = dir.join("lq.json");
    let game: Vec<&str> = "--eps 1 --c 1 --sigma 0.5 --horizon 1 --nx 31 --nt 20"
        .split(' ')
        .collect();
    let mut a = args(&game);
    a.extend(args(&["--out", out.to_str().unwrap()]));
    let r = run("lq_check", &a, &dir, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.text());
    let written = json(&out);
    let printed: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert_eq!(written, printed);
    let config = &written["run"]["config"];
    assert_eq!(config["eps"], 1.0);
    assert_eq!(config["nx"], 31);
    assert_eq!(config["half_width_automatic"], true);
    let (right, half) = (
        config["game"]["domain"][1].as_f64().unwrap(),
        config["half_width"].as_f64().unwrap(),
    );
    assert!((right - 0.3 - half).abs() < 1e-12, "{right} {half}");
    assert_eq!(config["game"]["solver"]["max_iterations"], 200);
    assert_eq!(written["status"], "converged");
    assert!(written["max_err_u"].as_f64().unwrap() < 0.1);
    assert_eq!(written["run"]["tool"], "mfg lq_check");

    // An unwritable output is refused before the solve: nothing is printed.
    let mut a = args(&game);
    a.extend(args(&["--out", "/proc/no-such-dir/lq.json"]));
    let r = run("lq_check", &a, &dir, LIMIT);
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
