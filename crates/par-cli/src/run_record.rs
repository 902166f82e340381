//! The header of every result file: enough to know how to reproduce it.
//!
//! ```
//! use par_cli::RunRecord;
//!
//! let mut run = RunRecord::start("pi", env!("CARGO_PKG_VERSION"), env!("CARGO_MANIFEST_DIR"));
//! run.seed = Some(2026);
//! run.set_config(&serde_json::json!({"tasks": 400, "points": 200000}));
//! run.finish();
//! let json = serde_json::to_value(&run).unwrap();
//! assert_eq!(json["tool"], "pi");
//! assert_eq!(json["config"]["tasks"], 400);
//! assert!(json["timings"]["wall_s"].as_f64().unwrap() >= 0.0);
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use par_core::bench::Machine;
use par_core::provenance::Provenance;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::CliError;

/// An input of a run: its path, its size and its SHA-256 digest (for a folder: the number of
/// files, their total size and the digest of their sorted names and digests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// The path as given.
    pub path: PathBuf,
    /// Total bytes.
    pub bytes: u64,
    /// Files described (1 for a file).
    pub files: usize,
    /// Lower-case hexadecimal SHA-256.
    pub sha256: String,
}

impl InputFile {
    /// Describes the file or folder at `path` (a folder's files are taken in sorted order,
    /// not recursing into sub-folders).
    ///
    /// # Errors
    /// [`CliError::Unreadable`] naming the path.
    pub fn describe(path: &Path) -> Result<Self, CliError> {
        let unreadable = |source| CliError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        if path.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(unreadable)?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            names.sort();
            let mut outer = Sha256::new();
            let mut bytes = 0;
            for file in &names {
                let inner = Self::describe(file)?;
                bytes += inner.bytes;
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                outer.update(name.unwrap_or_default().as_bytes());
                outer.update([0]);
                outer.update(inner.sha256.as_bytes());
                outer.update([b'\n']);
            }
            return Ok(Self {
                path: path.to_path_buf(),
                bytes,
                files: names.len(),
                sha256: hex(&outer.finalize()),
            });
        }
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(unreadable)?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            hasher.update(&buf[..n]);
        }
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            files: 1,
            sha256: hex(&hasher.finalize()),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Wall and CPU time of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// CPU time of the whole process (all threads), seconds, when the platform says.
    pub cpu_s: Option<f64>,
}

/// The self-description at the head of a result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The program, for example `mpc eval`.
    pub tool: String,
    /// The version of the crate it belongs to.
    pub version: String,
    /// Commit (and whether the tree had uncommitted changes), date, command line.
    pub provenance: Provenance,
    /// The machine it ran on.
    pub machine: Machine,
    /// The full resolved configuration (defaults filled in).
    pub config: serde_json::Value,
    /// The run's seed, when it has one.
    pub seed: Option<u64>,
    /// The files and folders it read.
    pub inputs: Vec<InputFile>,
    /// How long it took.
    pub timings: Timings,
    #[serde(skip)]
    started: Option<(Instant, Option<f64>)>,
}

impl RunRecord {
    /// A record of a run of `tool` starting now; `repo` is a folder inside the git checkout the
    /// binary was built from (pass `env!("CARGO_MANIFEST_DIR")`).
    pub fn start(tool: &str, version: &str, repo: impl AsRef<Path>) -> Self {
        Self {
            tool: tool.to_string(),
            version: version.to_string(),
            provenance: Provenance::now_in(repo.as_ref()),
            machine: Machine::detect(),
            config: serde_json::Value::Null,
            seed: None,
            inputs: Vec::new(),
            timings: Timings::default(),
            started: Some((Instant::now(), par_core::bench::process_cpu_seconds())),
        }
    }

    /// Records the resolved configuration (anything serialisable; a value that cannot be
    /// serialised is recorded as its error message).
    pub fn set_config<T: Serialize + ?Sized>(&mut self, config: &T) {
        self.config = serde_json::to_value(config)
            .unwrap_or_else(|e| serde_json::Value::String(format!("<not serialisable: {e}>")));
    }

    /// Records an input file or folder with its size and digest.
    ///
    /// # Errors
    /// [`CliError::Unreadable`] naming the path.
    pub fn add_input(&mut self, path: &Path) -> Result<(), CliError> {
        self.inputs.push(InputFile::describe(path)?);
        Ok(())
    }

    /// Fills in the timings up to now (call again to update them).
    pub fn finish(&mut self) {
        if let Some((t0, cpu0)) = self.started {
            let wall = t0.elapsed().as_secs_f64();
            self.timings.wall_s = wall;
            self.timings.cpu_s = match (cpu0, par_core::bench::process_cpu_seconds()) {
                (Some(a), Some(b)) => Some(b - a),
                _ => None,
            };
            self.provenance.wall_s = Some(wall);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_folders_are_described_by_size_and_digest() {
        let d = std::env::temp_dir().join(format!("par-cli-rec-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("a.txt"), "abc").unwrap();
        let a = InputFile::describe(&d.join("a.txt")).unwrap();
        assert_eq!(a.bytes, 3);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            a.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        std::fs::write(d.join("b.txt"), "de").unwrap();
        let folder = InputFile::describe(&d).unwrap();
        assert_eq!((folder.files, folder.bytes), (2, 5));
        std::fs::write(d.join("b.txt"), "dE").unwrap();
        assert_ne!(InputFile::describe(&d).unwrap().sha256, folder.sha256);
        let err = InputFile::describe(&d.join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn records_serialise_with_every_field() {
        let mut r = RunRecord::start("t", "0.1.0", env!("CARGO_MANIFEST_DIR"));
        r.set_config(&serde_json::json!({"n": 3}));
        r.finish();
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "tool",
            "version",
            "provenance",
            "machine",
            "config",
            "seed",
            "inputs",
            "timings",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(!v["provenance"]["command"].as_array().unwrap().is_empty());
        let back: RunRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back.tool, "t");
    }
}
