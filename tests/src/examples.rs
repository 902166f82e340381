//! Running the workspace's example binaries from tests: building them once, feeding them bad
//! inputs, and judging how they answered.
//!
//! An example answers bad input well when it exits with a non-zero code that is not a panic's
//! (101), says nothing of a panic or an internal error, and names the input or option it
//! rejects. [`Case`] is one row of the table-driven suite in `tests/tests/bad_inputs.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// The folder cargo put this test binary's profile in (`target/debug`), found from the
/// running executable (`target/debug/deps/<test>-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test executables live in <target>/<profile>/deps")
        .to_path_buf()
}

/// Builds every example of the workspace once per test process (a no-op when `cargo test
/// --workspace` has just built them) and returns the path of example `name`.
///
/// # Panics
/// When the build fails or the example does not exist: the test cannot run without it.
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .args(["build", "--workspace", "--examples"])
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("could not start cargo: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "cargo build --workspace --examples failed ({status})"
            ))
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    let path = profile_dir().join("examples").join(name);
    assert!(path.is_file(), "no example binary {}", path.display());
    path
}

/// How a run of an example ended.
#[derive(Debug)]
pub struct Run {
    /// The command, for messages.
    pub command: String,
    /// Its exit code (`None`: killed by a signal or by the time limit).
    pub code: Option<i32>,
    /// Whether the time limit killed it.
    pub timed_out: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Everything it printed.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Whether it panicked or reported an internal error.
    pub fn panicked(&self) -> bool {
        let t = self.text();
        self.code == Some(101) || t.contains("panicked at") || t.contains("internal error")
    }
}

/// Runs example `name` with `args` in folder `cwd`, killing it after `limit`.
pub fn run(name: &str, args: &[String], cwd: &Path, limit: Duration) -> Run {
    let exe = example(name);
    let mut child = Command::new(&exe)
        .args(args)
        .current_dir(cwd)
        .env("PAR_CORE_PROGRESS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let start = Instant::now();
    let mut timed_out = false;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                timed_out = true;
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {name}: {e}"),
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("collect output");
    Run {
        command: format!("{name} {}", args.join(" ")),
        code: status.code(),
        timed_out,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// What a case expects of the example.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A non-zero exit (not a panic) whose output mentions every one of these strings (the
    /// input, option or field at fault).
    Refuses(Vec<&'static str>),
    /// Exit code 0.
    Succeeds,
}

/// One row of the bad-input suite.
#[derive(Debug, Clone)]
pub struct Case {
    /// The example binary.
    pub example: &'static str,
    /// What the row probes, for messages.
    pub what: &'static str,
    /// Its arguments; `{dir}` is replaced by the case's scratch folder and `{fixtures}` by the
    /// corpus folder.
    pub args: Vec<&'static str>,
    /// What it must answer.
    pub expect: Expect,
    /// Files (`{dir}` replaced) that a successful run must leave behind, each not empty.
    pub writes: Vec<&'static str>,
}

impl Case {
    /// A case whose example must refuse the input and name `mentions`.
    pub fn refuses(
        example: &'static str,
        what: &'static str,
        args: &[&'static str],
        mentions: &[&'static str],
    ) -> Self {
        Self {
            example,
            what,
            args: args.to_vec(),
            expect: Expect::Refuses(mentions.to_vec()),
            writes: Vec::new(),
        }
    }

    /// A case whose example must succeed.
    pub fn succeeds(example: &'static str, what: &'static str, args: &[&'static str]) -> Self {
        Self {
            example,
            what,
            args: args.to_vec(),
            expect: Expect::Succeeds,
            writes: Vec::new(),
        }
    }

    /// The same case, also requiring that the run leaves these files (`{dir}` is the case's
    /// scratch folder), each not empty: a run that succeeds must write what it promises.
    #[must_use]
    pub fn writes(mut self, files: &[&'static str]) -> Self {
        self.writes = files.to_vec();
        self
    }

    /// Runs the case in a fresh scratch folder under `scratch` and returns a complaint, or
    /// `None` when the example answered as expected.
    pub fn check(
        &self,
        index: usize,
        scratch: &Path,
        fixtures: &Path,
        limit: Duration,
    ) -> Option<String> {
        let dir = scratch.join(format!("case-{index}"));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| {
                a.replace("{dir}", &dir.display().to_string())
                    .replace("{fixtures}", &fixtures.display().to_string())
            })
            .collect();
        let run = run(self.example, &args, &dir, limit);
        let show = |why: &str| {
            format!(
                "case {index} ({}: {}): {why}\n  command: {}\n  exit: {:?}{}\n  output:\n{}",
                self.example,
                self.what,
                run.command,
                run.code,
                if run.timed_out {
                    " (killed at the time limit)"
                } else {
                    ""
                },
                indent(&run.text())
            )
        };
        if run.panicked() {
            return Some(show("panicked"));
        }
        if run.timed_out {
            return Some(show("did not finish in time"));
        }
        match &self.expect {
            Expect::Succeeds if run.code == Some(0) => {
                let missing: Vec<String> = self
                    .writes
                    .iter()
                    .map(|f| f.replace("{dir}", &dir.display().to_string()))
                    .filter(|f| !std::fs::metadata(f).is_ok_and(|m| m.len() > 0))
                    .collect();
                (!missing.is_empty())
                    .then(|| show(&format!("succeeded without writing {missing:?}")))
            }
            Expect::Succeeds => Some(show("expected success")),
            Expect::Refuses(_) if run.code == Some(0) => Some(show("exit code 0 on bad input")),
            Expect::Refuses(_) if run.code.is_none() => Some(show("killed by a signal")),
            Expect::Refuses(mentions) => {
                let text = run.text().replace("{dir}", "");
                let missing: Vec<&str> = mentions
                    .iter()
                    .copied()
                    .filter(|m| {
                        let m = m
                            .replace("{dir}", &dir.display().to_string())
                            .replace("{fixtures}", &fixtures.display().to_string());
                        !text.contains(&m)
                    })
                    .collect();
                (!missing.is_empty())
                    .then(|| show(&format!("the message does not mention {missing:?}")))
            }
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .map(|l| format!("    | {l}\n"))
        .collect()
}

/// Configuration files for mfg's `sweep` rows (`{fixtures}/mfg-sweep-*.json`): a tiny sweep that
/// succeeds, one that never converges, and bad ones (cut off, a typo, a wrong type, an empty axis, too
/// many points, a grid too large for memory, a bad value, an unknown parameter, a parameter
/// the game lacks, a bad time limit).
fn mfg_sweep_configs() -> Vec<(&'static str, String)> {
    let ok =
        r#"{"base": {"nx": 21, "nt": 10}, "axes": [{"param": "sigma", "values": [0.3, 0.5]}]}"#;
    let many: Vec<String> = (0..40)
        .map(|i| format!("{}", 0.1 + 0.01 * f64::from(i)))
        .collect();
    let axis = format!(r#"{{"param": "sigma", "values": [{}]}}"#, many.join(", "));
    vec![
        ("mfg-sweep-tiny.json", ok.to_string()),
        (
            "mfg-sweep-stuck.json",
            r#"{"base": {"nx": 21, "nt": 10, "solver": {"max_iterations": 1}}, "axes": [{"param": "sigma", "values": [0.3, 0.5]}]}"#.into(),
        ),
        (
            "mfg-sweep-truncated.json",
            r#"{"base": {"nx": 21}, "axes": [{"param": "sig"#.into(),
        ),
        (
            "mfg-sweep-typo.json",
            r#"{"base": {}, "axes": [{"param": "sigma", "values": [0.5]}], "run_timout_s": 1}"#.into(),
        ),
        (
            "mfg-sweep-wrong-type.json",
            r#"{"base": {"nx": "fifty"}, "axes": []}"#.into(),
        ),
        (
            "mfg-sweep-empty-axis.json",
            r#"{"base": {}, "axes": [{"param": "sigma", "values": []}]}"#.into(),
        ),
        (
            "mfg-sweep-too-many.json",
            format!(r#"{{"base": {{}}, "axes": [{axis}, {axis}, {axis}, {axis}]}}"#),
        ),
        (
            "mfg-sweep-huge-grid.json",
            r#"{"base": {"nx": 100000000, "nt": 100000000}, "axes": []}"#.into(),
        ),
        (
            "mfg-sweep-bad-value.json",
            r#"{"base": {}, "axes": [{"param": "sigma", "values": [0.5, -1.0]}]}"#.into(),
        ),
        (
            "mfg-sweep-unknown-param.json",
            r#"{"base": {}, "axes": [{"param": "sigmaa", "values": [0.5]}]}"#.into(),
        ),
        (
            "mfg-sweep-lacking-param.json",
            r#"{"base": {}, "axes": [{"param": "congestion_strength", "values": [0.5]}]}"#.into(),
        ),
        (
            "mfg-sweep-bad-timeout.json",
            r#"{"base": {}, "axes": [], "run_timeout_s": -1}"#.into(),
        ),
    ]
}

/// Writes the corpus of bad input files into `dir` and returns it: `empty.json`,
/// `truncated.json`, `random.bin`, `array.json`, `not-json.txt`, `nan.json`, a folder
/// `a-folder/`, the crates' own configuration files (`mfg-sweep-*.json`) and the Connect
/// Four files of [`write_connect4_corpus`].
pub fn write_corpus(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("a-folder")).expect("corpus folder");
    let files: [(&str, &[u8]); 6] = [
        ("empty.json", b""),
        ("truncated.json", b"{\"samples\": 3, \"horizon\""),
        (
            "random.bin",
            &[0x9f, 0x00, 0xff, 0x13, 0x37, 0xc3, 0x28, 0x0a, 0xfe, 0x01],
        ),
        ("array.json", b"[1, 2, 3]"),
        ("not-json.txt", b"this is not JSON\n"),
        ("nan.json", b"{\"value\": NaN}"),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("corpus file");
    }
    for (name, text) in mfg_sweep_configs() {
        std::fs::write(dir.join(name), text).expect("corpus file");
    }
    write_connect4_corpus(dir);
    dir.to_path_buf()
}

/// Twelve Connect Four positions of 31 to 35 moves with their exact scores (Pons' format:
/// the columns played, digits 1-7, and the score for the side to move), drawn by random play
/// and solved by the `mcts` crate's solver: quick to judge, so a tiny run of an example that
/// reads a test set takes well under a second.
pub const CONNECT4_POSITIONS: &str = "\
332277342777443245542745211633116 5
54211614566544752741456751777126 5
5232152145364367647242155431134 0
75342513376241512416114347554353 5
6522711451174441527626133437645366 4
4754133377627326417136713442566 6
7571157125276257453335476143632122 4
13212257316513742221317753746755 5
3232422521117556533533261165666 5
132517255317316666513132652345262 5
2267616224212645656737553477571 5
4773474254442322262531637555177 -5
";

/// Writes the corpus of the Connect Four examples into `dir`: `c4-positions.txt`
/// ([`CONNECT4_POSITIONS`]), `c4-bad-move.txt` (line 2, column 3 is not a column),
/// `c4-bad-score.txt` (line 1, column 6 is not a score), `checkpoint-truncated.bin` (the
/// head of a checkpoint, cut), `checkpoint-wrong-magic.bin`, `train-state.bin` (the magic of a
/// training state, where a checkpoint is expected), and two run folders for `az_train
/// --resume`: `az-bad-state/` (a `train_state.bin` of random bytes) and `az-cut-checkpoint/`
/// (a run of an earlier version whose `checkpoint.bin` is cut).
pub fn write_connect4_corpus(dir: &Path) {
    for sub in ["az-bad-state", "az-cut-checkpoint"] {
        std::fs::create_dir_all(dir.join(sub)).expect("corpus folder");
    }
    // A checkpoint starts with its magic and the network's shape (84 inputs, one hidden layer
    // of 8): cut there.
    let cut: &[u8] = b"MCTSAZ02\x54\x01\x08";
    let files: [(&str, &[u8]); 8] = [
        ("c4-positions.txt", CONNECT4_POSITIONS.as_bytes()),
        ("c4-bad-move.txt", b"4455 0\n44x5 1\n"),
        ("c4-bad-score.txt", b"4455 zero\n"),
        ("checkpoint-truncated.bin", cut),
        (
            "checkpoint-wrong-magic.bin",
            b"MCTSAZ99 and the rest of a network",
        ),
        (
            "train-state.bin",
            b"MCTSAZS1 and the rest of a training state",
        ),
        (
            "az-bad-state/train_state.bin",
            &[0x13, 0x37, 0x00, 0xff, 0x42, 0x9f, 0x00, 0x01, 0x02, 0x03],
        ),
        ("az-cut-checkpoint/checkpoint.bin", cut),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("corpus file");
    }
}

/// Starts example `name` again and again, killing it with SIGKILL at a random moment within
/// `max_delay` of its start, `kills` times (a run that finishes before its moment counts as
/// not killed), then lets one last run finish. Returns that run and the number of kills
/// delivered. The moments come from a generator seeded with `seed`, so a failure reproduces.
///
/// # Panics
/// When the example cannot be started.
pub fn run_with_kills(
    name: &str,
    args: &[String],
    cwd: &Path,
    kills: usize,
    max_delay: Duration,
    seed: u64,
    limit: Duration,
) -> (Run, usize) {
    let exe = example(name);
    let mut state = seed | 1;
    let mut next_delay = || {
        // xorshift64*: enough to spread the moments; reproducible from the seed.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let unit = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        max_delay.mul_f64(unit)
    };
    let mut delivered = 0;
    for _ in 0..kills {
        let mut child = Command::new(&exe)
            .args(args)
            .current_dir(cwd)
            .env("PAR_CORE_PROGRESS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let moment = next_delay();
        let start = Instant::now();
        let finished = loop {
            if let Ok(Some(_)) = child.try_wait() {
                break true;
            }
            if start.elapsed() >= moment {
                break false;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        if !finished {
            let _ = child.kill();
            delivered += 1;
        }
        let _ = child.wait();
    }
    (run(name, args, cwd, limit), delivered)
}
