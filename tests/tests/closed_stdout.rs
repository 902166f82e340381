//! An example whose standard output is closed by its reader (`example | head`) ends quietly
//! with exit code 0: no panic about a broken pipe, no "internal error".

use std::process::{Command, Stdio};

use integration_tests::examples::{CONNECT4_POSITIONS, example};

#[test]
fn examples_exit_quietly_when_their_reader_goes_away() {
    let dir = std::env::temp_dir().join(format!("closed-stdout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let set = dir.join("positions.txt");
    std::fs::write(&set, CONNECT4_POSITIONS).unwrap();
    let set = set.display().to_string();
    let tiny_train = [
        "--set",
        &set,
        "--set2",
        &set,
        "--hidden",
        "8",
        "--games-per-iter",
        "2",
        "--full-sims",
        "8",
        "--eval-sims",
        "8",
        "--eval-fast-sims",
        "4",
        "--iterations",
        "2",
        "--out",
        "train",
    ];
    let rows: [(&str, &[&str]); 7] = [
        ("pi", &["--tasks", "4", "--points", "10"]),
        (
            "az_match",
            &["--games", "2", "--az-sims", "8", "--uct-sims", "8"],
        ),
        ("az_train", &tiny_train),
        ("play", &["--engine-first", "--sims", "50"]),
        ("pons", &["--set", &set, "--sims", "20"]),
        ("speed", &["1000"]),
        (
            "inspect",
            &["--sims", "20", "--steps", "5", "--out", "inspect"],
        ),
    ];
    let mut complaints = Vec::new();
    for (name, args) in rows {
        let mut child = Command::new(example(name))
            .args(args)
            .current_dir(&dir)
            .env("PAR_CORE_PROGRESS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the example has written anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0)
            || stderr.contains("panicked")
            || stderr.contains("internal error")
        {
            complaints.push(format!("{name}: {:?}\n{stderr}", out.status));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}
