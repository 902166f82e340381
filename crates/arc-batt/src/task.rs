//! ARC tasks: demonstration pairs and test inputs, read from the published JSON format with
//! typed errors that name the file and the place in it.
//!
//! `{"train": [{"input": G, "output": G}, ...], "test": [{"input": G, "output": G?}, ...]}`,
//! a grid `G` being a list of rows of colours 0–9, at most 30 × 30. Test outputs are optional
//! (a competition file has none); when present they are used only to count what was solved,
//! never to choose a prediction.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ArcError;
use crate::grid::Grid;

/// One demonstration: an input grid and its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The input grid.
    pub input: Grid,
    /// The expected output grid.
    pub output: Grid,
}

/// One test case: an input and, when known, the expected output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The input grid.
    pub input: Grid,
    /// The expected output, when the file holds it (never used to choose a prediction).
    pub output: Option<Grid>,
}

/// An ARC task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task id (the file stem).
    pub id: String,
    /// The demonstration pairs.
    pub train: Vec<Pair>,
    /// The test cases.
    pub test: Vec<TestCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    input: Vec<Vec<i64>>,
    #[serde(default)]
    output: Option<Vec<Vec<i64>>>,
}

#[derive(Deserialize)]
struct RawTask {
    train: Vec<RawPair>,
    test: Vec<RawPair>,
}

impl Task {
    /// Parses a task from JSON text; `path` names the source in errors.
    pub fn from_json(id: &str, text: &str, path: &Path) -> Result<Self, ArcError> {
        let raw: RawTask = serde_json::from_str(text).map_err(|error| ArcError::Json {
            path: path.to_path_buf(),
            error,
        })?;
        let grid = |rows: &[Vec<i64>], place: String| {
            Grid::from_rows(rows).map_err(|error| ArcError::Grid {
                path: path.to_path_buf(),
                place,
                error,
            })
        };
        if raw.train.is_empty() {
            return Err(ArcError::NoPairs {
                path: path.to_path_buf(),
                part: "train",
            });
        }
        if raw.test.is_empty() {
            return Err(ArcError::NoPairs {
                path: path.to_path_buf(),
                part: "test",
            });
        }
        let mut train = Vec::with_capacity(raw.train.len());
        for (i, p) in raw.train.iter().enumerate() {
            let Some(out) = &p.output else {
                return Err(ArcError::MissingOutput {
                    path: path.to_path_buf(),
                    pair: i,
                });
            };
            train.push(Pair {
                input: grid(&p.input, format!("train pair {i} input"))?,
                output: grid(out, format!("train pair {i} output"))?,
            });
        }
        let mut test = Vec::with_capacity(raw.test.len());
        for (i, p) in raw.test.iter().enumerate() {
            test.push(TestCase {
                input: grid(&p.input, format!("test case {i} input"))?,
                output: match &p.output {
                    Some(o) => Some(grid(o, format!("test case {i} output"))?),
                    None => None,
                },
            });
        }
        Ok(Self {
            id: id.to_string(),
            train,
            test,
        })
    }

    /// Reads the task in `path`; its id is the file stem.
    pub fn load(path: &Path) -> Result<Self, ArcError> {
        let text = std::fs::read_to_string(path).map_err(|error| ArcError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        let id = path
            .file_stem()
            .map_or_else(|| "task".to_string(), |s| s.to_string_lossy().into_owned());
        Self::from_json(&id, &text, path)
    }

    /// Every input the search evaluates on: the demonstration inputs, then the test inputs.
    pub fn inputs(&self) -> Vec<Grid> {
        self.train
            .iter()
            .map(|p| p.input.clone())
            .chain(self.test.iter().map(|t| t.input.clone()))
            .collect()
    }

    /// A fingerprint of the task's content that does not depend on the order of its pairs or
    /// its id: equal for an ARC-AGI-1 task and its copy among the ARC-AGI-2 files with the
    /// demonstrations re-ordered. Leave-one-out exclusion compares fingerprints.
    pub fn fingerprint(&self) -> u64 {
        let mut parts: Vec<u64> = self
            .train
            .iter()
            .map(|p| p.input.hash64().rotate_left(17) ^ p.output.hash64())
            .chain(self.test.iter().map(|t| t.input.hash64().rotate_left(31)))
            .collect();
        parts.sort_unstable();
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for p in parts {
            h = (h ^ p).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// Whether every test case has its expected output.
    pub fn has_test_outputs(&self) -> bool {
        self.test.iter().all(|t| t.output.is_some())
    }
}

/// The task files named by `paths`: each a `.json` file, or a folder whose `.json` files are
/// taken in name order. Missing paths and folders without tasks are errors.
pub fn task_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ArcError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|error| ArcError::Io {
            path: p.clone(),
            error,
        })?;
        if meta.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|error| ArcError::Io {
                    path: p.clone(),
                    error,
                })?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|e| e == "json") && f.is_file())
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(ArcError::NoTasks { path: p.clone() });
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"{"train": [{"input": [[1, 0]], "output": [[0, 1]]},
                                     {"input": [[2, 0]], "output": [[0, 2]]}],
                           "test": [{"input": [[3, 0]], "output": [[0, 3]]}]}"#;

    #[test]
    fn a_task_parses_and_its_fingerprint_ignores_pair_order() {
        let p = Path::new("t.json");
        let t = Task::from_json("t", TASK, p).unwrap();
        assert_eq!(t.train.len(), 2);
        assert_eq!(t.inputs().len(), 3);
        assert!(t.has_test_outputs());
        let mut swapped = t.clone();
        swapped.train.swap(0, 1);
        swapped.id = "other".into();
        assert_eq!(t.fingerprint(), swapped.fingerprint());
        let mut changed = t.clone();
        changed.train[0].output = changed.train[1].output.clone();
        assert_ne!(t.fingerprint(), changed.fingerprint());
    }

    #[test]
    fn errors_name_the_file_and_the_place() {
        let p = Path::new("bad.json");
        let e = Task::from_json("x", "{\"train\": [", p).unwrap_err();
        assert!(e.to_string().contains("bad.json"), "{e}");
        let ragged =
            r#"{"train": [{"input": [[1], [1, 2]], "output": [[1]]}], "test": [{"input": [[1]]}]}"#;
        let e = Task::from_json("x", ragged, p).unwrap_err().to_string();
        assert!(
            e.contains("bad.json") && e.contains("train pair 0 input") && e.contains("ragged"),
            "{e}"
        );
        let colour =
            r#"{"train": [{"input": [[1]], "output": [[12]]}], "test": [{"input": [[1]]}]}"#;
        let e = Task::from_json("x", colour, p).unwrap_err().to_string();
        assert!(e.contains("train pair 0 output") && e.contains("12"), "{e}");
        let no_test = r#"{"train": [{"input": [[1]], "output": [[1]]}], "test": []}"#;
        assert!(matches!(
            Task::from_json("x", no_test, p),
            Err(ArcError::NoPairs { part: "test", .. })
        ));
        let no_out = r#"{"train": [{"input": [[1]]}], "test": [{"input": [[1]]}]}"#;
        assert!(matches!(
            Task::from_json("x", no_out, p),
            Err(ArcError::MissingOutput { pair: 0, .. })
        ));
        let e = Task::load(Path::new("/nonexistent/task.json")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/task.json"));
    }
}
