//! mcts's examples: `az_train`, `az_match`, `play`, `pons` and `speed`. None needs the Pons
//! data of `../shared`: the test sets are the corpus's own small files
//! (`integration_tests::examples::write_connect4_corpus`).

use integration_tests::examples::Case;

/// The rows of mcts's examples.
pub fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    c.extend(az_train());
    c.extend(az_match());
    c.extend(play());
    c.extend(pons());
    c.extend(speed());
    c
}

/// `az_train` with a tiny network and a few games, then `extra`, whose options replace those
/// of the tiny run (clap refuses an option given twice).
fn tiny_train(extra: &[&'static str]) -> Vec<&'static str> {
    const TINY: [(&str, &str); 12] = [
        ("--set", "{fixtures}/c4-positions.txt"),
        ("--set2", "{fixtures}/c4-positions.txt"),
        ("--hidden", "8"),
        ("--games-per-iter", "2"),
        ("--full-sims", "8"),
        ("--eval-sims", "8"),
        ("--eval-fast-sims", "4"),
        ("--eval-positions", "4"),
        ("--games-per-worker", "1"),
        ("--workers", "1"),
        ("--replay", "100"),
        ("--seed", "3"),
    ];
    let mut args: Vec<&'static str> = TINY
        .iter()
        .filter(|(option, _)| !extra.contains(option))
        .flat_map(|&(option, value)| [option, value])
        .collect();
    args.extend_from_slice(extra);
    args
}

fn az_train() -> Vec<Case> {
    let e = "az_train";
    vec![
        Case::succeeds(
            e,
            "a tiny run of 2 iterations",
            &tiny_train(&["--iterations", "2", "--out", "{dir}/run"]),
        )
        .writes(&[
            "{dir}/run/train_state.bin",
            "{dir}/run/checkpoint.bin",
            "{dir}/run/log.json",
        ]),
        Case::succeeds(e, "help", &["--help"]),
        Case::refuses(
            e,
            "zero minutes",
            &tiny_train(&["--minutes", "0", "--out", "{dir}/run"]),
            &["--minutes", "greater than 0"],
        ),
        Case::refuses(
            e,
            "negative minutes",
            &tiny_train(&["--minutes", "-1", "--out", "{dir}/run"]),
            &["--minutes", "greater than 0"],
        ),
        Case::refuses(
            e,
            "NaN minutes",
            &tiny_train(&["--minutes", "NaN", "--out", "{dir}/run"]),
            &["--minutes", "not a finite number"],
        ),
        Case::refuses(
            e,
            "huge minutes",
            &tiny_train(&["--minutes", "1e12", "--out", "{dir}/run"]),
            &["--minutes", "above the maximum"],
        ),
        Case::refuses(
            e,
            "zero iterations",
            &tiny_train(&["--iterations", "0", "--out", "{dir}/run"]),
            &["--iterations", "minimum 1"],
        ),
        Case::refuses(
            e,
            "zero games per iteration",
            &tiny_train(&["--games-per-iter", "0", "--out", "{dir}/run"]),
            &["--games-per-iter", "minimum 1"],
        ),
        Case::refuses(
            e,
            "negative simulations",
            &tiny_train(&["--full-sims", "-5", "--out", "{dir}/run"]),
            &["--full-sims", "minimum 1"],
        ),
        Case::refuses(
            e,
            "a zero search probability",
            &tiny_train(&["--full-prob", "0", "--out", "{dir}/run"]),
            &["--full-prob", "greater than 0"],
        ),
        Case::refuses(
            e,
            "a value weight above 1",
            &tiny_train(&["--q-weight", "1.5", "--out", "{dir}/run"]),
            &["--q-weight", "maximum 1"],
        ),
        Case::refuses(
            e,
            "a hidden width that is not a number",
            &tiny_train(&["--hidden", "8,abc", "--out", "{dir}/run"]),
            &["--hidden", "abc"],
        ),
        Case::refuses(
            e,
            "a replay buffer beyond 2^26",
            &tiny_train(&["--replay", "67108865", "--out", "{dir}/run"]),
            &["--replay", "maximum"],
        ),
        Case::refuses(
            e,
            "NaN step size",
            &tiny_train(&["--lr", "NaN", "--out", "{dir}/run"]),
            &["--lr", "not a finite number"],
        ),
        Case::refuses(
            e,
            "zero evaluation positions",
            &tiny_train(&["--eval-positions", "0", "--out", "{dir}/run"]),
            &["--eval-positions", "minimum 1"],
        ),
        Case::refuses(
            e,
            "5000 workers",
            &tiny_train(&["--workers", "5000", "--out", "{dir}/run"]),
            &["--workers", "per core"],
        ),
        Case::refuses(
            e,
            "no cheap searches below a full-search probability of 1",
            &tiny_train(&[
                "--fast-sims",
                "0",
                "--full-prob",
                "0.5",
                "--out",
                "{dir}/run",
            ]),
            &["fast_sims"],
        ),
        Case::refuses(
            e,
            "a missing test set",
            &[
                "--iterations",
                "1",
                "--set",
                "{dir}/no-such-set.txt",
                "--out",
                "{dir}/run",
            ],
            &["no-such-set.txt"],
        ),
        Case::refuses(
            e,
            "an empty test set",
            &tiny_train(&[
                "--set2",
                "{fixtures}/empty.json",
                "--iterations",
                "1",
                "--out",
                "{dir}/run",
            ]),
            &["empty.json", "no position"],
        ),
        Case::refuses(
            e,
            "a test set of random bytes",
            &tiny_train(&[
                "--set2",
                "{fixtures}/random.bin",
                "--iterations",
                "1",
                "--out",
                "{dir}/run",
            ]),
            &["random.bin"],
        ),
        Case::refuses(
            e,
            "a test set with a bad move",
            &tiny_train(&[
                "--set2",
                "{fixtures}/c4-bad-move.txt",
                "--iterations",
                "1",
                "--out",
                "{dir}/run",
            ]),
            &["c4-bad-move.txt:2:3", "move 3"],
        ),
        Case::refuses(
            e,
            "an unwritable output folder",
            &tiny_train(&["--iterations", "1", "--out", "/proc/no-such-dir/run"]),
            &["/proc/no-such-dir/run"],
        ),
        Case::refuses(
            e,
            "an output folder that is a file",
            &tiny_train(&["--iterations", "1", "--out", "{fixtures}/not-json.txt"]),
            &["not-json.txt", "not a folder"],
        ),
        Case::refuses(
            e,
            "a training state of random bytes to resume",
            &tiny_train(&[
                "--iterations",
                "1",
                "--resume",
                "--out",
                "{fixtures}/az-bad-state",
            ]),
            &["train_state.bin", "bad magic"],
        ),
        Case::refuses(
            e,
            "a cut checkpoint of an earlier version to resume",
            &tiny_train(&[
                "--iterations",
                "1",
                "--resume",
                "--out",
                "{fixtures}/az-cut-checkpoint",
            ]),
            &["az-cut-checkpoint/checkpoint.bin", "corrupt"],
        ),
        Case::refuses(
            e,
            "a folder that holds a run, without --resume",
            &tiny_train(&["--iterations", "1", "--out", "{fixtures}/az-bad-state"]),
            &["already holds a training run", "--resume"],
        ),
        Case::refuses(e, "unknown option", &["--bogus"], &["--bogus"]),
    ]
}

fn az_match() -> Vec<Case> {
    let e = "az_match";
    let tiny = ["--games", "2", "--az-sims", "8", "--uct-sims", "8"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        tiny.iter().copied().chain(extra.iter().copied()).collect()
    };
    let mut rows = vec![
        Case::succeeds(e, "help", &["--help"]),
        Case::refuses(
            e,
            "zero games",
            &["--games", "0"],
            &["--games", "minimum 1"],
        ),
        Case::refuses(
            e,
            "negative games",
            &["--games", "-3"],
            &["--games", "minimum 1"],
        ),
        Case::refuses(
            e,
            "NaN games",
            &["--games", "NaN"],
            &["--games", "not a whole number"],
        ),
        Case::refuses(
            e,
            "zero AlphaZero simulations",
            &["--az-sims", "0"],
            &["--az-sims"],
        ),
        Case::refuses(
            e,
            "huge UCT simulations",
            &["--uct-sims", "1e40"],
            &["--uct-sims"],
        ),
        Case::refuses(
            e,
            "zero leaf batch",
            &["--leaf-batch", "0"],
            &["--leaf-batch"],
        ),
        Case::refuses(
            e,
            "huge leaf batch",
            &["--leaf-batch", "5000"],
            &["--leaf-batch", "maximum"],
        ),
        Case::refuses(
            e,
            "NaN c_puct",
            &["--c-puct", "NaN"],
            &["--c-puct", "not a finite"],
        ),
        Case::refuses(
            e,
            "negative c_puct",
            &["--c-puct", "-1"],
            &["--c-puct", "minimum"],
        ),
        Case::refuses(e, "fractional seed", &["--seed", "1.5"], &["--seed"]),
        Case::refuses(e, "unknown option", &["--bogus"], &["--bogus"]),
    ];
    let files: [(&'static str, &'static str, &'static [&'static str]); 7] = [
        (
            "a missing checkpoint",
            "{dir}/none.bin",
            &["none.bin", "cannot read"],
        ),
        (
            "an empty checkpoint",
            "{fixtures}/empty.json",
            &["empty.json", "is empty"],
        ),
        (
            "a checkpoint of random bytes",
            "{fixtures}/random.bin",
            &["random.bin", "bad magic"],
        ),
        (
            "a cut checkpoint",
            "{fixtures}/checkpoint-truncated.bin",
            &["checkpoint-truncated.bin", "corrupt"],
        ),
        (
            "a checkpoint of another magic",
            "{fixtures}/checkpoint-wrong-magic.bin",
            &["checkpoint-wrong-magic.bin", "bad magic"],
        ),
        (
            "a training state instead of a checkpoint",
            "{fixtures}/train-state.bin",
            &["train-state.bin", "training state"],
        ),
        (
            "a folder as checkpoint",
            "{fixtures}/a-folder",
            &["a-folder", "cannot read"],
        ),
    ];
    for (what, path, mentions) in files {
        rows.push(Case::refuses(
            e,
            what,
            &with(&["--checkpoint", path]),
            mentions,
        ));
    }
    rows.extend([
        Case::succeeds(e, "a tiny match", &with(&["--out", "{dir}/match.json"]))
            .writes(&["{dir}/match.json"]),
        Case::refuses(
            e,
            "an unwritable output",
            &[
                "--games",
                "1000000",
                "--out",
                "/proc/no-such-dir/match.json",
            ],
            &["/proc/no-such-dir/match.json"],
        ),
        Case::refuses(
            e,
            "an output that is a folder",
            &["--games", "1000000", "--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
    ]);
    rows
}

fn play() -> Vec<Case> {
    let e = "play";
    vec![
        Case::succeeds(e, "help", &["--help"]),
        // Standard input is closed: the engine plays its first stone, then the game is
        // abandoned.
        Case::succeeds(e, "one engine move", &["--engine-first", "--sims", "50"]),
        Case::succeeds(
            e,
            "one tree-parallel move",
            &["--engine-first", "--sims", "50", "--threads", "2"],
        ),
        Case::refuses(
            e,
            "zero simulations",
            &["--sims", "0"],
            &["--sims", "minimum 1"],
        ),
        Case::refuses(
            e,
            "negative simulations",
            &["--sims", "-1"],
            &["--sims", "minimum 1"],
        ),
        Case::refuses(e, "NaN simulations", &["--sims", "NaN"], &["--sims"]),
        Case::refuses(
            e,
            "huge simulations",
            &["--sims", "99999999999"],
            &["--sims", "maximum"],
        ),
        Case::refuses(
            e,
            "zero threads",
            &["--threads", "0"],
            &["--threads", "minimum 1"],
        ),
        Case::refuses(
            e,
            "5000 threads",
            &["--threads", "5000"],
            &["--threads", "maximum 1024"],
        ),
        Case::refuses(e, "negative seed", &["--seed", "-1"], &["--seed"]),
        Case::refuses(e, "unknown option", &["--bogus"], &["--bogus"]),
    ]
}

fn pons() -> Vec<Case> {
    let e = "pons";
    let set = "{fixtures}/c4-positions.txt";
    vec![
        Case::succeeds(e, "help", &["--help"]),
        Case::succeeds(
            e,
            "a tiny run",
            &["--set", set, "--sims", "50", "--out", "{dir}/p.json"],
        )
        .writes(&["{dir}/p.json"]),
        Case::succeeds(
            e,
            "a tiny tree-parallel run at a time per move",
            &[
                "--set",
                set,
                "--ms-per-move",
                "0.5",
                "--threads",
                "2",
                "--limit",
                "3",
            ],
        ),
        Case::refuses(
            e,
            "a missing set",
            &["--set", "{dir}/no-such-set.txt", "--sims", "10"],
            &["no-such-set.txt"],
        ),
        Case::refuses(
            e,
            "an empty set",
            &["--set", "{fixtures}/empty.json", "--sims", "10"],
            &["empty.json", "no position"],
        ),
        Case::refuses(
            e,
            "a set of random bytes",
            &["--set", "{fixtures}/random.bin", "--sims", "10"],
            &["random.bin"],
        ),
        Case::refuses(
            e,
            "a set of JSON",
            &["--set", "{fixtures}/array.json", "--sims", "10"],
            &["array.json:1:1", "expected `<moves> <score>`"],
        ),
        Case::refuses(
            e,
            "a bad move",
            &["--set", "{fixtures}/c4-bad-move.txt", "--sims", "10"],
            &["c4-bad-move.txt:2:3", "move 3"],
        ),
        Case::refuses(
            e,
            "a bad score",
            &["--set", "{fixtures}/c4-bad-score.txt", "--sims", "10"],
            &["c4-bad-score.txt:1:6", "score `zero`"],
        ),
        Case::refuses(
            e,
            "a folder as set",
            &["--set", "{fixtures}/a-folder", "--sims", "10"],
            &["a-folder"],
        ),
        Case::refuses(
            e,
            "limit 0",
            &["--set", set, "--sims", "10", "--limit", "0"],
            &["--limit", "minimum 1"],
        ),
        Case::refuses(
            e,
            "zero simulations",
            &["--set", set, "--sims", "0"],
            &["--sims", "minimum 1"],
        ),
        Case::refuses(e, "no budget", &["--set", set], &["--sims"]),
        Case::refuses(
            e,
            "two budgets",
            &["--set", set, "--sims", "10", "--ms-per-move", "1"],
            &["--ms-per-move"],
        ),
        Case::refuses(
            e,
            "NaN time per move",
            &["--set", set, "--ms-per-move", "NaN"],
            &["--ms-per-move", "not a finite"],
        ),
        Case::refuses(
            e,
            "zero time per move",
            &["--set", set, "--ms-per-move", "0"],
            &["--ms-per-move", "minimum"],
        ),
        Case::refuses(
            e,
            "negative time per move",
            &["--set", set, "--ms-per-move", "-1"],
            &["--ms-per-move", "minimum"],
        ),
        Case::refuses(
            e,
            "huge time per move",
            &["--set", set, "--ms-per-move", "1e9"],
            &["--ms-per-move", "maximum"],
        ),
        Case::refuses(
            e,
            "zero threads",
            &["--set", set, "--sims", "10", "--threads", "0"],
            &["--threads", "minimum 1"],
        ),
        Case::refuses(
            e,
            "5000 threads",
            &["--set", set, "--sims", "10", "--threads", "5000"],
            &["--threads", "maximum"],
        ),
        Case::refuses(
            e,
            "NaN virtual loss",
            &["--set", set, "--sims", "10", "--virtual-loss", "NaN"],
            &["--virtual-loss"],
        ),
        Case::refuses(
            e,
            "negative virtual loss",
            &["--set", set, "--sims", "10", "--virtual-loss", "-1"],
            &["--virtual-loss", "minimum"],
        ),
        Case::refuses(
            e,
            "infinite exploration",
            &["--set", set, "--sims", "10", "--exploration", "inf"],
            &["--exploration"],
        ),
        Case::refuses(
            e,
            "unknown rollout",
            &["--set", set, "--sims", "10", "--rollout", "smart"],
            &["--rollout", "smart"],
        ),
        Case::refuses(
            e,
            "an unwritable output",
            &[
                "--set",
                set,
                "--sims",
                "10",
                "--out",
                "/proc/no-such-dir/p.json",
            ],
            &["/proc/no-such-dir/p.json"],
        ),
        Case::refuses(
            e,
            "an output that is a folder",
            &["--set", set, "--sims", "10", "--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
    ]
}

fn speed() -> Vec<Case> {
    let e = "speed";
    vec![
        Case::succeeds(e, "help", &["--help"]),
        Case::succeeds(e, "a tiny sequential run", &["1000", "0"]),
        Case::succeeds(e, "a tiny tree-parallel run", &["2000", "2", "0.5"]),
        Case::refuses(
            e,
            "5000 threads",
            &["1000", "5000"],
            &["THREADS", "maximum 1024"],
        ),
        Case::refuses(
            e,
            "NaN virtual loss",
            &["1000", "2", "NaN"],
            &["VIRTUAL_LOSS", "not a finite"],
        ),
        Case::refuses(
            e,
            "negative virtual loss",
            &["1000", "2", "-1"],
            &["VIRTUAL_LOSS", "minimum"],
        ),
        Case::refuses(e, "zero simulations", &["0"], &["SIMS", "minimum 1"]),
        Case::refuses(
            e,
            "simulations that are not a number",
            &["abc"],
            &["SIMS", "abc"],
        ),
        Case::refuses(e, "huge simulations", &["1e30"], &["SIMS"]),
        Case::refuses(
            e,
            "negative threads",
            &["1000", "-1"],
            &["THREADS", "minimum 0"],
        ),
        Case::refuses(e, "an extra argument", &["1000", "2", "1", "7"], &["7"]),
        Case::refuses(e, "unknown option", &["--bogus"], &["--bogus"]),
    ]
}
