//! mpc's example: `eval` (a controller on tinyphysics segments).
//!
//! Its files (bad segment CSVs, MPC configurations, broken models) are written into the corpus
//! folder by [`write_files`], beside the shared corpus.

use std::path::Path;

use integration_tests::examples::{Case, workspace_root};

/// A valid segment CSV: 600 rows, steering logged in the first 100.
fn segment_csv(rows: usize) -> String {
    let mut text = String::from("t,vEgo,aEgo,roll,targetLateralAcceleration,steerCommand\n");
    for i in 0..rows {
        let steer = if i < 100 { "-0.1" } else { "" };
        let target = 0.5 * (i as f64 * 0.05).sin();
        text += &format!("{:.1},20.0,0.0,0.01,{target:.6},{steer}\n", i as f64 * 0.1);
    }
    text
}

/// Writes eval's inputs into the corpus folder `dir`.
pub fn write_files(dir: &Path) {
    let good = segment_csv(600);
    let mut no_steer: Vec<String> = good.lines().map(str::to_owned).collect();
    // Data row 10 (line 12) loses its logged steering, before the control start.
    no_steer[11] = format!("{},", no_steer[11].rsplit_once(',').unwrap().0);
    // 549 whole data rows, then a row cut after its third field (line 551).
    let lines: Vec<&str> = good.lines().collect();
    let truncated = format!("{}\n{}", lines[..550].join("\n"), &lines[550][..13]);
    let fixtures = workspace_root().join("fixtures/mpc");
    let model = std::fs::read(fixtures.join("tiny_dynamics.onnx")).expect("fixture model");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("segments/00000.csv", good.clone().into_bytes()),
        ("segments/00001.csv", segment_csv(550).into_bytes()),
        (
            "segment-bad-number.csv",
            good.replacen("\n0.3,20.0,", "\n0.3,twenty,", 1)
                .into_bytes(),
        ),
        (
            "segment-nan.csv",
            good.replacen("\n0.2,20.0,0.0,0.01,", "\n0.2,20.0,0.0,NaN,", 1)
                .into_bytes(),
        ),
        ("segment-short.csv", segment_csv(300).into_bytes()),
        ("segment-truncated.csv", truncated.into_bytes()),
        (
            "segment-no-roll.csv",
            good.replacen(",roll,", ",rol,", 1).into_bytes(),
        ),
        (
            "segment-no-steer.csv",
            (no_steer.join("\n") + "\n").into_bytes(),
        ),
        (
            "mpc-small.json",
            br#"{"horizon": 3, "samples": 6, "iterations": 1, "elites": 2}"#.to_vec(),
        ),
        (
            "mpc-unknown-field.json",
            b"{\"horizon\": 3,\n \"samplez\": 6}".to_vec(),
        ),
        ("mpc-wrong-type.json", br#"{"horizon": "three"}"#.to_vec()),
        ("mpc-negative-horizon.json", br#"{"horizon": -3}"#.to_vec()),
        ("mpc-zero-horizon.json", br#"{"horizon": 0}"#.to_vec()),
        (
            "mpc-elites.json",
            br#"{"samples": 2, "elites": 5}"#.to_vec(),
        ),
        ("model-truncated.onnx", model[..model.len() / 3].to_vec()),
        (
            "model-wrong-interface.onnx",
            std::fs::read(fixtures.join("wrong_interface.onnx")).expect("fixture model"),
        ),
        (
            "model-transformer.onnx",
            std::fs::read(fixtures.join("tiny_transformer.onnx")).expect("fixture model"),
        ),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("corpus folder");
        std::fs::write(path, bytes).expect("corpus file");
    }
    std::fs::create_dir_all(dir.join("mpc-empty-folder")).expect("corpus folder");
}

/// The rows of mpc's example `eval`.
pub fn cases() -> Vec<Case> {
    const E: &str = "eval";
    let mut c = Vec::new();
    // Runs that succeed and write what they promise.
    c.extend([
        Case::succeeds(E, "help", &["--help"]),
        Case::succeeds(
            E,
            "PID on two synthetic segments with every output",
            &[
                "--synthetic",
                "2",
                "--out",
                "{dir}/out/r.json",
                "--trace",
                "{dir}/trace",
            ],
        )
        .writes(&[
            "{dir}/out/r.json",
            "{dir}/out/r.json.jsonl",
            "{dir}/trace/synthetic-00000.trace.csv",
            "{dir}/trace/synthetic-00001.trace.csv",
        ]),
        Case::succeeds(
            E,
            "MPC on segment files, native planner on the tiny transformer, worker processes",
            &[
                "--data",
                "{fixtures}/segments",
                "--model",
                "{fixtures}/model-transformer.onnx",
                "--controller",
                "mpc",
                "--planner",
                "native",
                "--config",
                "{fixtures}/mpc-small.json",
                "--mode",
                "processes",
                "--workers",
                "2",
                "--out",
                "{dir}/r.json",
            ],
        )
        .writes(&["{dir}/r.json", "{dir}/r.json.jsonl"]),
    ]);
    // The model.
    c.extend([
        Case::refuses(
            E,
            "missing model",
            &["--model", "{dir}/no-such-model.onnx"],
            &["no-such-model.onnx"],
        ),
        Case::refuses(
            E,
            "empty model file",
            &["--model", "{fixtures}/empty.json"],
            &["empty.json"],
        ),
        Case::refuses(
            E,
            "truncated model",
            &["--model", "{fixtures}/model-truncated.onnx"],
            &["model-truncated.onnx"],
        ),
        Case::refuses(
            E,
            "random bytes as the model",
            &["--model", "{fixtures}/random.bin"],
            &["random.bin"],
        ),
        Case::refuses(
            E,
            "model with the wrong interface",
            &["--model", "{fixtures}/model-wrong-interface.onnx"],
            &["model-wrong-interface.onnx", "inputs are"],
        ),
        Case::refuses(
            E,
            "model is a folder",
            &["--model", "{fixtures}/a-folder"],
            &["a-folder"],
        ),
        Case::refuses(
            E,
            "native planner on a model that is not the transformer",
            &["--controller", "mpc", "--planner", "native"],
            &["tiny_dynamics.onnx", "not the tinyphysics transformer"],
        ),
    ]);
    // Segment files.
    c.extend([
        Case::refuses(
            E,
            "missing segment file",
            &["--data", "{dir}/no-such-segment.csv"],
            &["no-such-segment.csv"],
        ),
        Case::refuses(
            E,
            "empty data folder",
            &["--data", "{fixtures}/mpc-empty-folder"],
            &["mpc-empty-folder", "no segment files"],
        ),
        Case::refuses(
            E,
            "empty segment file",
            &["--data", "{fixtures}/empty.json"],
            &["empty.json:1:", "empty file"],
        ),
        Case::refuses(
            E,
            "random bytes as a segment",
            &["--data", "{fixtures}/random.bin"],
            &["random.bin"],
        ),
        Case::refuses(
            E,
            "non-numeric value",
            &["--data", "{fixtures}/segment-bad-number.csv"],
            &["segment-bad-number.csv:5:", "vEgo", "twenty"],
        ),
        Case::refuses(
            E,
            "logged steering missing before the control start",
            &["--data", "{fixtures}/segment-no-steer.csv"],
            &["segment-no-steer.csv:12:", "steerCommand"],
        ),
        Case::refuses(
            E,
            "NaN value",
            &["--data", "{fixtures}/segment-nan.csv"],
            &["segment-nan.csv:4:", "roll", "not finite"],
        ),
        Case::refuses(
            E,
            "too few rows",
            &["--data", "{fixtures}/segment-short.csv"],
            &["segment-short.csv", "300 data rows"],
        ),
        Case::refuses(
            E,
            "truncated segment",
            &["--data", "{fixtures}/segment-truncated.csv"],
            &["segment-truncated.csv:551:", "3 fields"],
        ),
        Case::refuses(
            E,
            "header without a column",
            &["--data", "{fixtures}/segment-no-roll.csv"],
            &["segment-no-roll.csv:1:", "`roll`"],
        ),
    ]);
    // MPC configuration files.
    let mpc = |what, file, mentions: &[&'static str]| {
        Case::refuses(
            E,
            what,
            &["--controller", "mpc", "--config", file],
            mentions,
        )
    };
    c.extend([
        mpc(
            "configuration is an array",
            "{fixtures}/array.json",
            &["array.json", "JSON object"],
        ),
        mpc(
            "unknown configuration field",
            "{fixtures}/mpc-unknown-field.json",
            &[
                "mpc-unknown-field.json",
                "unknown field `samplez`",
                "line 2",
            ],
        ),
        mpc(
            "wrong type in the configuration",
            "{fixtures}/mpc-wrong-type.json",
            &["mpc-wrong-type.json", "invalid type"],
        ),
        mpc(
            "NaN in the configuration",
            "{fixtures}/nan.json",
            &["nan.json", "line 1 column"],
        ),
        mpc(
            "negative horizon",
            "{fixtures}/mpc-negative-horizon.json",
            &["mpc-negative-horizon.json", "-3"],
        ),
        mpc(
            "zero horizon",
            "{fixtures}/mpc-zero-horizon.json",
            &["mpc-zero-horizon.json", "horizon", "between 1 and 19"],
        ),
        mpc(
            "more elites than samples",
            "{fixtures}/mpc-elites.json",
            &["mpc-elites.json", "elites"],
        ),
        mpc(
            "missing configuration",
            "{dir}/no-such-config.json",
            &["no-such-config.json"],
        ),
        Case::refuses(
            E,
            "configuration for the PID controller",
            &["--config", "{fixtures}/mpc-small.json"],
            &["--config", "--controller mpc"],
        ),
    ]);
    // Options.
    c.extend([
        Case::refuses(
            E,
            "zero segments",
            &["--segments", "0"],
            &["--segments", "minimum 1"],
        ),
        Case::refuses(
            E,
            "zero synthetic segments",
            &["--synthetic", "0"],
            &["--synthetic", "minimum 1"],
        ),
        Case::refuses(
            E,
            "negative synthetic segments",
            &["--synthetic", "-2"],
            &["--synthetic", "minimum 1"],
        ),
        Case::refuses(
            E,
            "huge synthetic segment count",
            &["--synthetic", "1000000000"],
            &["--synthetic", "maximum"],
        ),
        Case::refuses(E, "NaN seed", &["--seed", "NaN"], &["--seed"]),
        Case::refuses(
            E,
            "zero workers",
            &["--workers", "0"],
            &["--workers", "minimum 1"],
        ),
        Case::refuses(
            E,
            "unknown controller",
            &["--controller", "lqr"],
            &["--controller", "lqr", "pid"],
        ),
        Case::refuses(
            E,
            "unknown planner",
            &["--planner", "gpu"],
            &["--planner", "gpu", "native"],
        ),
        Case::refuses(E, "--fresh without --out", &["--fresh"], &["--out"]),
    ]);
    // Outputs, checked before the first segment.
    c.extend([
        Case::refuses(
            E,
            "unwritable result file",
            &["--out", "/proc/no-such-dir/r.json"],
            &["/proc/no-such-dir/r.json"],
        ),
        Case::refuses(
            E,
            "result file is a folder",
            &["--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
        Case::refuses(
            E,
            "unwritable trace folder",
            &["--trace", "/proc/no-such-dir/trace"],
            &["/proc/no-such-dir/trace"],
        ),
        Case::refuses(
            E,
            "trace folder is a file",
            &["--trace", "{fixtures}/empty.json"],
            &["empty.json", "not a folder"],
        ),
    ]);
    c
}
