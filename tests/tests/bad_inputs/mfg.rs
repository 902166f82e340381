//! mfg's examples: `sweep`, `common_noise` and `lq_check`.

use integration_tests::examples::Case;

/// The rows of mfg's examples.
pub fn cases() -> Vec<Case> {
    let mut c = sweep();
    c.extend(common_noise());
    c.extend(lq_check());
    c
}

fn sweep() -> Vec<Case> {
    let out = "{dir}/s.jsonl";
    let tiny = "{fixtures}/mfg-sweep-tiny.json";
    vec![
        Case::succeeds("sweep", "help", &["--help"]),
        Case::succeeds(
            "sweep",
            "the built-in 27-point sweep",
            &["--out", out, "--workers", "2"],
        ),
        Case::succeeds(
            "sweep",
            "a tiny sweep from a config file, in processes mode with a time limit",
            &[
                "--config",
                tiny,
                "--out",
                out,
                "--mode",
                "processes",
                "--workers",
                "2",
                "--timeout",
                "30",
            ],
        ),
        Case::refuses(
            "sweep",
            "NaN time limit in processes mode (panicked)",
            &["--mode", "processes", "--timeout", "NaN", "--out", out],
            &["--timeout", "not a finite number"],
        ),
        Case::refuses(
            "sweep",
            "negative time limit in processes mode (panicked)",
            &["--mode", "processes", "--timeout", "-1", "--out", out],
            &["--timeout", "greater than 0"],
        ),
        Case::refuses(
            "sweep",
            "infinite time limit in processes mode (panicked)",
            &["--mode", "processes", "--timeout", "inf", "--out", out],
            &["--timeout", "not a finite number"],
        ),
        Case::refuses(
            "sweep",
            "zero time limit",
            &["--timeout", "0", "--out", out],
            &["--timeout", "greater than 0"],
        ),
        Case::refuses(
            "sweep",
            "huge time limit",
            &["--timeout", "1e30", "--out", out],
            &["--timeout", "maximum"],
        ),
        Case::refuses(
            "sweep",
            "every point timed out (was exit 0 without a word)",
            &["--config", tiny, "--timeout", "1e-9", "--out", out],
            &[
                "no point produced a usable result",
                "2 timed out",
                "larger --timeout",
            ],
        ),
        Case::refuses(
            "sweep",
            "no point converges (iteration limit)",
            &["--config", "{fixtures}/mfg-sweep-stuck.json", "--out", out],
            &["no point produced a usable result", "iteration limit"],
        ),
        Case::refuses(
            "sweep",
            "negative retries",
            &["--retries", "-1", "--out", out],
            &["--retries", "minimum 0"],
        ),
        Case::refuses(
            "sweep",
            "zero workers",
            &["--workers", "0", "--out", out],
            &["--workers", "minimum 1"],
        ),
        Case::refuses(
            "sweep",
            "missing config file",
            &["--config", "{dir}/missing.json", "--out", out],
            &["{dir}/missing.json"],
        ),
        Case::refuses(
            "sweep",
            "empty config file",
            &["--config", "{fixtures}/empty.json", "--out", out],
            &["empty.json", "is empty"],
        ),
        Case::refuses(
            "sweep",
            "truncated config file",
            &["--config", "{fixtures}/truncated.json", "--out", out],
            &["truncated.json"],
        ),
        Case::refuses(
            "sweep",
            "a sweep config cut off mid-write",
            &[
                "--config",
                "{fixtures}/mfg-sweep-truncated.json",
                "--out",
                out,
            ],
            &["mfg-sweep-truncated.json", "EOF"],
        ),
        Case::refuses(
            "sweep",
            "random bytes as config",
            &["--config", "{fixtures}/random.bin", "--out", out],
            &["random.bin"],
        ),
        Case::refuses(
            "sweep",
            "a JSON array as config",
            &["--config", "{fixtures}/array.json", "--out", out],
            &["array.json", "JSON object"],
        ),
        Case::refuses(
            "sweep",
            "NaN in the config",
            &["--config", "{fixtures}/nan.json", "--out", out],
            &["nan.json"],
        ),
        Case::refuses(
            "sweep",
            "a folder as config",
            &["--config", "{fixtures}/a-folder", "--out", out],
            &["a-folder"],
        ),
        Case::refuses(
            "sweep",
            "unknown field in the config",
            &["--config", "{fixtures}/mfg-sweep-typo.json", "--out", out],
            &["mfg-sweep-typo.json", "unknown field `run_timout_s`"],
        ),
        Case::refuses(
            "sweep",
            "wrong type in the config",
            &[
                "--config",
                "{fixtures}/mfg-sweep-wrong-type.json",
                "--out",
                out,
            ],
            &["mfg-sweep-wrong-type.json", "invalid type", "fifty"],
        ),
        Case::refuses(
            "sweep",
            "an axis without values (0 points)",
            &[
                "--config",
                "{fixtures}/mfg-sweep-empty-axis.json",
                "--out",
                out,
            ],
            &["axes[0].values", "is empty"],
        ),
        Case::refuses(
            "sweep",
            "2.56 million points",
            &[
                "--config",
                "{fixtures}/mfg-sweep-too-many.json",
                "--out",
                out,
            ],
            &["40 x 40 x 40 x 40", "1000000"],
        ),
        Case::refuses(
            "sweep",
            "a grid that does not fit in memory",
            &[
                "--config",
                "{fixtures}/mfg-sweep-huge-grid.json",
                "--out",
                out,
            ],
            &["of memory", "the limit is"],
        ),
        Case::refuses(
            "sweep",
            "a negative sigma on an axis",
            &[
                "--config",
                "{fixtures}/mfg-sweep-bad-value.json",
                "--out",
                out,
            ],
            &["`sigma`", "at point 1: sigma = -1"],
        ),
        Case::refuses(
            "sweep",
            "an unknown parameter",
            &[
                "--config",
                "{fixtures}/mfg-sweep-unknown-param.json",
                "--out",
                out,
            ],
            &["sigmaa"],
        ),
        Case::refuses(
            "sweep",
            "a parameter the game lacks",
            &[
                "--config",
                "{fixtures}/mfg-sweep-lacking-param.json",
                "--out",
                out,
            ],
            &["coupling.strength"],
        ),
        Case::refuses(
            "sweep",
            "a negative time limit in the config",
            &[
                "--config",
                "{fixtures}/mfg-sweep-bad-timeout.json",
                "--out",
                out,
            ],
            &["run_timeout_s", "must be > 0"],
        ),
        Case::refuses(
            "sweep",
            "unwritable results file",
            &["--out", "/proc/no-such-dir/s.jsonl"],
            &["/proc/no-such-dir/s.jsonl"],
        ),
        Case::refuses(
            "sweep",
            "results file is a folder",
            &["--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
        Case::refuses(
            "sweep",
            "results file is some other file (left alone)",
            &["--config", tiny, "--out", "{fixtures}/not-json.txt"],
            &["not-json.txt", "not a sweep results file"],
        ),
    ]
}

fn common_noise() -> Vec<Case> {
    let out = "{dir}/cn";
    vec![
        Case::succeeds("common_noise", "help", &["--help"]),
        Case::succeeds(
            "common_noise",
            "a small run (with a warning: few groups, coarse grid)",
            &[
                "--paths",
                "4",
                "--sampling",
                "plain",
                "--n",
                "13",
                "--out",
                out,
            ],
        ),
        Case::succeeds(
            "common_noise",
            "QMC in processes mode",
            &[
                "--paths",
                "10",
                "--sampling",
                "qmc",
                "--replicates",
                "5",
                "--n",
                "21",
                "--mode",
                "processes",
                "--workers",
                "2",
                "--out",
                out,
            ],
        ),
        Case::refuses(
            "common_noise",
            "a 3-cell grid (was an estimate without a warning)",
            &["--n", "3", "--out", out],
            &["--n 3", "--n 13 or more"],
        ),
        Case::refuses(
            "common_noise",
            "zero cells",
            &["--n", "0", "--out", out],
            &["--n", "minimum 1"],
        ),
        Case::refuses(
            "common_noise",
            "NaN cells",
            &["--n", "NaN", "--out", out],
            &["--n", "not a whole number"],
        ),
        Case::refuses(
            "common_noise",
            "a huge grid",
            &["--n", "1e9", "--out", out],
            &["--n"],
        ),
        Case::refuses(
            "common_noise",
            "3 antithetic paths (was an estimate without a warning)",
            &["--paths", "3", "--out", out],
            &["--paths 3", "even count >= 4"],
        ),
        Case::refuses(
            "common_noise",
            "one plain path: no variance",
            &["--paths", "1", "--sampling", "plain", "--out", out],
            &["--paths 1", "at least 2 paths"],
        ),
        Case::refuses(
            "common_noise",
            "zero paths",
            &["--paths", "0", "--out", out],
            &["--paths", "minimum 1"],
        ),
        Case::refuses(
            "common_noise",
            "negative paths",
            &["--paths", "-5", "--out", out],
            &["--paths", "minimum 1"],
        ),
        Case::refuses(
            "common_noise",
            "a million paths on a fine grid: more than memory",
            &["--paths", "1000000", "--n", "1000", "--out", out],
            &["1000000 paths", "the limit is"],
        ),
        Case::refuses(
            "common_noise",
            "one QMC replicate",
            &["--sampling", "qmc", "--replicates", "1", "--out", out],
            &["--replicates", "minimum 2"],
        ),
        Case::refuses(
            "common_noise",
            "replicates that do not divide the paths",
            &[
                "--sampling",
                "qmc",
                "--paths",
                "10",
                "--replicates",
                "3",
                "--out",
                out,
            ],
            &["--replicates 3", "divide the path count 10"],
        ),
        Case::refuses(
            "common_noise",
            "QMC on more steps than Sobol dimensions",
            &[
                "--sampling",
                "qmc",
                "--paths",
                "10",
                "--n",
                "200",
                "--out",
                out,
            ],
            &["--sampling qmc", "200 dimensions"],
        ),
        Case::refuses(
            "common_noise",
            "negative seed",
            &["--seed", "-1", "--out", out],
            &["--seed"],
        ),
        Case::refuses(
            "common_noise",
            "unknown sampling",
            &["--sampling", "sobol", "--out", out],
            &["--sampling", "sobol"],
        ),
        Case::refuses(
            "common_noise",
            "unwritable output folder",
            &["--out", "/proc/no-such-dir/cn"],
            &["/proc/no-such-dir/cn"],
        ),
        Case::refuses(
            "common_noise",
            "output folder is a file",
            &["--out", "{fixtures}/random.bin"],
            &["random.bin", "not a folder"],
        ),
        Case::refuses(
            "common_noise",
            "5000 workers",
            &["--workers", "5000", "--out", out],
            &["--workers", "per core"],
        ),
    ]
}

/// The required options of `lq_check` with a small grid.
const GAME: &str = "--eps 1 --c 1 --sigma 0.5 --horizon 1 --nx 21 --nt 10";

/// [`GAME`] with the options named in `changes` set to new values (clap refuses an option
/// given twice).
fn game_with(changes: &[(&str, &'static str)]) -> Vec<&'static str> {
    let words: Vec<&'static str> = GAME.split(' ').collect();
    words
        .chunks(2)
        .flat_map(|pair| {
            let value = changes
                .iter()
                .find(|(name, _)| *name == pair[0])
                .map_or(pair[1], |(_, v)| *v);
            [pair[0], value]
        })
        .collect()
}

/// [`GAME`] followed by `more`.
fn game_and(more: &[&'static str]) -> Vec<&'static str> {
    GAME.split(' ').chain(more.iter().copied()).collect()
}

fn lq_check() -> Vec<Case> {
    let set = |what, name, value, mentions: &[&'static str]| {
        Case::refuses("lq_check", what, &game_with(&[(name, value)]), mentions)
    };
    let add = |what, more: &[&'static str], mentions: &[&'static str]| {
        Case::refuses("lq_check", what, &game_and(more), mentions)
    };
    vec![
        Case::succeeds("lq_check", "help", &["--help"]),
        Case::succeeds(
            "lq_check",
            "a small check writing JSON and arrays",
            &game_and(&["--out", "{dir}/lq.json", "--npy", "{dir}/npy"]),
        ),
        Case::refuses(
            "lq_check",
            "a 100000 x 100000 grid (aborted on a failed 80 GB allocation)",
            &game_with(&[("--nx", "100000"), ("--nt", "100000")]),
            &[
                "100000 cells x 100000 time steps",
                "of memory",
                "the limit is",
            ],
        ),
        Case::refuses(
            "lq_check",
            "no arguments",
            &[],
            &["required arguments", "--eps"],
        ),
        set("negative eps", "--eps", "-1", &["--eps", "minimum 0"]),
        set("NaN eps", "--eps", "NaN", &["--eps", "not a finite number"]),
        set("huge eps", "--eps", "1e300", &["--eps", "maximum"]),
        set("infinite c", "--c", "inf", &["--c", "not a finite number"]),
        set(
            "negative sigma",
            "--sigma",
            "-0.5",
            &["--sigma", "minimum 0"],
        ),
        set(
            "zero horizon",
            "--horizon",
            "0",
            &["--horizon", "greater than 0"],
        ),
        set(
            "huge horizon",
            "--horizon",
            "1e9",
            &["--horizon", "maximum"],
        ),
        set("two cells", "--nx", "2", &["--nx", "minimum 3"]),
        set("zero steps", "--nt", "0", &["--nt", "minimum 1"]),
        set(
            "fractional cells",
            "--nx",
            "1.5",
            &["--nx", "not a whole number"],
        ),
        add(
            "zero initial spread",
            &["--m0-std", "0"],
            &["--m0-std", "greater than 0"],
        ),
        add(
            "NaN initial mean",
            &["--m0-mean", "NaN"],
            &["--m0-mean", "not a finite number"],
        ),
        add(
            "negative half-width",
            &["--half-width", "-2"],
            &["--half-width", "greater than 0"],
        ),
        add(
            "a half-width below round-off",
            &["--half-width", "1e-300"],
            &["domain"],
        ),
        add(
            "unwritable --out (was found after the solve)",
            &["--out", "/proc/no-such-dir/lq.json"],
            &["/proc/no-such-dir/lq.json"],
        ),
        add(
            "--out is a folder",
            &["--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
        add(
            "unwritable --npy folder",
            &["--npy", "/proc/no-such-dir/npy"],
            &["/proc/no-such-dir/npy"],
        ),
        add(
            "--npy is a file",
            &["--npy", "{fixtures}/random.bin"],
            &["random.bin", "not a folder"],
        ),
    ]
}
