//! inspection's example: `inspect`.

use integration_tests::examples::Case;

/// The rows of inspection's example `inspect`.
pub fn cases() -> Vec<Case> {
    let e = "inspect";
    let out = "{dir}/out";
    vec![
        Case::succeeds(e, "help", &["--help"]),
        Case::succeeds(
            e,
            "a tiny MCTS episode",
            &["--sims", "20", "--steps", "2", "--out", out],
        )
        .writes(&[
            "{dir}/out/episode.json",
            "{dir}/out/trajectory.csv",
            "{dir}/out/entropy.svg",
        ]),
        Case::succeeds(
            e,
            "a tiny random episode within a budget",
            &[
                "--policy",
                "random",
                "--delta-v-budget",
                "0.05",
                "--steps",
                "2",
                "--out",
                out,
            ],
        )
        .writes(&["{dir}/out/episode.json"]),
        Case::succeeds(
            e,
            "a tiny tree-parallel episode",
            &[
                "--sims",
                "40",
                "--threads",
                "2",
                "--steps",
                "1",
                "--variant",
                "vbar-hold",
                "--out",
                out,
            ],
        ),
        Case::refuses(
            e,
            "zero simulations",
            &["--sims", "0", "--out", out],
            &["--sims", "minimum 1"],
        ),
        Case::refuses(
            e,
            "NaN simulations",
            &["--sims", "NaN", "--out", out],
            &["--sims"],
        ),
        Case::refuses(
            e,
            "huge simulations",
            &["--sims", "99999999999", "--out", out],
            &["--sims", "maximum"],
        ),
        Case::refuses(
            e,
            "zero threads",
            &["--threads", "0", "--out", out],
            &["--threads", "minimum 1"],
        ),
        Case::refuses(
            e,
            "5000 threads",
            &["--threads", "5000", "--out", out],
            &["--threads", "maximum 1024"],
        ),
        Case::refuses(
            e,
            "zero horizon",
            &["--horizon", "0", "--out", out],
            &["--horizon", "minimum 1"],
        ),
        Case::refuses(
            e,
            "zero steps",
            &["--steps", "0", "--out", out],
            &["--steps", "minimum 1"],
        ),
        Case::refuses(
            e,
            "huge steps",
            &["--steps", "1000000", "--out", out],
            &["--steps", "maximum"],
        ),
        Case::refuses(
            e,
            "negative steps",
            &["--steps", "-2", "--out", out],
            &["--steps", "minimum 1"],
        ),
        Case::refuses(
            e,
            "negative delta-v budget",
            &["--policy", "random", "--delta-v-budget", "-1", "--out", out],
            &["--delta-v-budget", "minimum 0"],
        ),
        Case::refuses(
            e,
            "NaN delta-v budget",
            &[
                "--policy",
                "random",
                "--delta-v-budget",
                "NaN",
                "--out",
                out,
            ],
            &["--delta-v-budget", "not a finite"],
        ),
        Case::refuses(
            e,
            "negative seed",
            &["--seed", "-1", "--out", out],
            &["--seed"],
        ),
        Case::refuses(
            e,
            "target seed not a number",
            &["--target-seed", "abc", "--out", out],
            &["--target-seed"],
        ),
        Case::refuses(
            e,
            "unknown policy",
            &["--policy", "greedy"],
            &["--policy", "greedy"],
        ),
        Case::refuses(
            e,
            "unknown variant",
            &["--variant", "sideways"],
            &["--variant", "sideways"],
        ),
        Case::refuses(
            e,
            "unknown target",
            &["--target", "moon"],
            &["--target", "moon"],
        ),
        // The default episode (3000 simulations, 50 steps) takes minutes: a refusal within the
        // time limit shows the output is checked before the work.
        Case::refuses(
            e,
            "an unwritable output folder",
            &["--out", "/proc/no-such-dir/out"],
            &["/proc/no-such-dir/out"],
        ),
        Case::refuses(
            e,
            "an output folder that is a file",
            &["--out", "{fixtures}/not-json.txt"],
            &["not-json.txt", "not a folder"],
        ),
        Case::refuses(e, "unknown option", &["--bogus"], &["--bogus"]),
    ]
}
