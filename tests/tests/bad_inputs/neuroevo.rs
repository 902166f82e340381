//! neuroevo's examples: `evolve` and `hyper`.

use integration_tests::examples::Case;

/// The rows of neuroevo's examples.
pub fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    let ev = |what, extra: &[&'static str], needles: &[&'static str]| {
        let mut args = vec![
            "--task",
            "rastrigin",
            "--optimiser",
            "ga",
            "--out",
            "{dir}/run",
        ];
        args.extend_from_slice(extra);
        Case::refuses("evolve", what, &args, needles)
    };
    c.extend([
        Case::succeeds("evolve", "help", &["--help"]),
        Case::succeeds(
            "evolve",
            "a small run",
            &[
                "--task",
                "rastrigin",
                "--optimiser",
                "cmaes",
                "--max-evals",
                "200",
                "--dim",
                "5",
                "--out",
                "{dir}/ok",
            ],
        ),
        ev(
            "zero evaluations",
            &["--max-evals", "0"],
            &["--max-evals", "minimum 1"],
        ),
        ev(
            "negative evaluations",
            &["--max-evals", "-1"],
            &["--max-evals", "minimum 1"],
        ),
        ev(
            "huge evaluations",
            &["--max-evals", "1e30"],
            &["--max-evals"],
        ),
        ev(
            "zero workers",
            &["--workers", "0"],
            &["--workers", "minimum 1"],
        ),
        ev(
            "5000 workers",
            &["--workers", "5000"],
            &["--workers", "per core"],
        ),
        ev(
            "NaN timeout",
            &["--migration-timeout", "NaN"],
            &["--migration-timeout"],
        ),
        ev(
            "negative timeout",
            &["--migration-timeout", "-1"],
            &["--migration-timeout"],
        ),
        ev(
            "infinite timeout",
            &["--migration-timeout", "inf"],
            &["--migration-timeout"],
        ),
        ev("zero dimensions", &["--dim", "0"], &["--dim", "minimum 1"]),
        ev(
            "zero islands",
            &["--islands", "0"],
            &["--islands", "minimum 1"],
        ),
        ev(
            "zero migration interval",
            &["--migrate-every", "0"],
            &["--migrate-every", "minimum 1"],
        ),
        ev("negative migrants", &["--migrants", "-2"], &["--migrants"]),
        ev("negative seed", &["--seed", "-3"], &["--seed"]),
        ev(
            "unknown topology",
            &["--topology", "star"],
            &["--topology", "star"],
        ),
        ev("unknown option", &["--bogus"], &["--bogus"]),
        ev("unknown mode", &["--mode", "gpu"], &["--mode", "gpu"]),
        ev(
            "islands in one process as processes",
            &["--islands", "2", "--mode", "processes"],
            &["--mode processes", "--island"],
        ),
        ev(
            "island beyond the count",
            &[
                "--islands",
                "2",
                "--island",
                "5",
                "--migration-dir",
                "{dir}/mig",
            ],
            &["--island 5"],
        ),
        ev(
            "island without a folder",
            &["--islands", "2", "--island", "1"],
            &["--migration-dir"],
        ),
        ev(
            "empty optimiser config",
            &["--config", "{fixtures}/empty.json"],
            &["empty.json"],
        ),
        ev(
            "truncated optimiser config",
            &["--config", "{fixtures}/truncated.json"],
            &["truncated.json"],
        ),
        ev(
            "random bytes as config",
            &["--config", "{fixtures}/random.bin"],
            &["random.bin"],
        ),
        ev(
            "array as config",
            &["--config", "{fixtures}/array.json"],
            &["array.json", "object"],
        ),
        ev(
            "NaN in config",
            &["--config", "{fixtures}/nan.json"],
            &["nan.json"],
        ),
        ev(
            "missing config",
            &["--config", "{dir}/no-such.json"],
            &["no-such.json"],
        ),
        ev(
            "folder as config",
            &["--config", "{fixtures}/a-folder"],
            &["a-folder"],
        ),
        ev(
            "bad task config",
            &["--task-config", "{fixtures}/not-json.txt"],
            &["not-json.txt"],
        ),
        Case::refuses(
            "evolve",
            "unknown task",
            &[
                "--task",
                "double-pole",
                "--optimiser",
                "ga",
                "--out",
                "{dir}/run",
            ],
            &["double-pole-markov"],
        ),
        Case::refuses(
            "evolve",
            "unwritable output",
            &[
                "--task",
                "rastrigin",
                "--optimiser",
                "ga",
                "--out",
                "/proc/no-such-dir/run",
            ],
            &["/proc/no-such-dir/run"],
        ),
        Case::refuses(
            "evolve",
            "output is a file",
            &[
                "--task",
                "rastrigin",
                "--optimiser",
                "ga",
                "--out",
                "{fixtures}/empty.json",
            ],
            &["empty.json"],
        ),
    ]);
    let hy = |what, extra: &[&'static str], needles: &[&'static str]| {
        let mut args = vec![
            "--task",
            "cart-pole",
            "--optimiser",
            "ga",
            "--out",
            "{dir}/trials.jsonl",
        ];
        args.extend_from_slice(extra);
        Case::refuses("hyper", what, &args, needles)
    };
    c.extend([
        Case::succeeds("hyper", "help", &["--help"]),
        hy(
            "zero trials",
            &["--trials", "0"],
            &["--trials", "minimum 1"],
        ),
        hy(
            "negative seeds",
            &["--seeds", "-1"],
            &["--seeds", "minimum 1"],
        ),
        hy(
            "zero evaluations",
            &["--max-evals", "0"],
            &["--max-evals", "minimum 1"],
        ),
        hy(
            "zero workers",
            &["--workers", "0"],
            &["--workers", "minimum 1"],
        ),
        Case::refuses(
            "hyper",
            "unknown optimiser",
            &[
                "--task",
                "cart-pole",
                "--optimiser",
                "pso",
                "--out",
                "{dir}/t.jsonl",
            ],
            &["--optimiser", "pso"],
        ),
        Case::refuses(
            "hyper",
            "unwritable output",
            &[
                "--task",
                "cart-pole",
                "--optimiser",
                "ga",
                "--out",
                "/proc/no-such-dir/t.jsonl",
            ],
            &["/proc/no-such-dir/t.jsonl"],
        ),
        Case::refuses(
            "hyper",
            "output is a folder",
            &[
                "--task",
                "cart-pole",
                "--optimiser",
                "ga",
                "--out",
                "{fixtures}/a-folder",
            ],
            &["a-folder", "is a folder"],
        ),
    ]);
    c
}
