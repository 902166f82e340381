//! Files that survive a kill: whole files written atomically (a temporary file in the same
//! folder, then a rename) and logs appended one complete line per `write` call, read back with
//! torn-line recovery.
//!
//! A reader of an atomically written file sees either the old content or the new, never a
//! mix; a process killed while appending leaves at most one incomplete last line, which
//! [`read_lines`] reports apart and [`truncate_lines`] cuts away before appending resumes.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::NeuroError;

/// Writes `bytes` to `path` atomically: a temporary file beside it (same folder, so the rename
/// cannot cross file systems), flushed to disk, then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), NeuroError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        NeuroError::io(path, e)
    })
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json_atomic<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), NeuroError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| NeuroError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("cannot serialise: {e}"),
    })?;
    write_atomic(path, text.as_bytes())
}

/// Reads a JSON file written by [`write_json_atomic`].
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, NeuroError> {
    let text = fs::read_to_string(path).map_err(|e| NeuroError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| NeuroError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Appends `line` (without its newline) and a newline in one `write` call on a file opened
/// with `O_APPEND`, so that concurrent appenders never interleave within a line and a kill
/// leaves at most one torn last line.
pub fn append_line(path: &Path, line: &str) -> Result<(), NeuroError> {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(buf.as_bytes()))
        .map_err(|e| NeuroError::io(path, e))
}

/// The lines of a line-appended file: the complete ones, and whether a torn (unterminated)
/// last line was dropped. A missing file has no lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lines {
    /// Complete lines, without their newlines.
    pub complete: Vec<String>,
    /// Bytes of complete lines (where appending may resume).
    pub complete_bytes: u64,
    /// Whether an unterminated last line was found and dropped.
    pub torn: bool,
}

/// Reads the complete lines of `path` (see [`Lines`]).
pub fn read_lines(path: &Path) -> Result<Lines, NeuroError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lines::default()),
        Err(e) => return Err(NeuroError::io(path, e)),
    };
    let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&bytes[..end]);
    Ok(Lines {
        complete: text.lines().map(str::to_string).collect(),
        complete_bytes: end as u64,
        torn: end < bytes.len(),
    })
}

/// Cuts `path` to its first `keep` complete lines (dropping any torn line), so that appending
/// can resume after them. Fails if the file holds fewer than `keep` complete lines.
pub fn truncate_lines(path: &Path, keep: usize) -> Result<(), NeuroError> {
    let lines = read_lines(path)?;
    if lines.complete.len() < keep {
        return Err(NeuroError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "holds {} complete lines, {keep} expected",
                lines.complete.len()
            ),
        });
    }
    let len: usize = lines.complete[..keep].iter().map(|l| l.len() + 1).sum();
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| NeuroError::io(path, e))?;
    f.set_len(len as u64).map_err(|e| NeuroError::io(path, e))
}

/// Checks that `dir` exists (creating it) and that a file can be created in it, before any
/// work starts.
pub fn ensure_writable_dir(dir: &Path) -> Result<PathBuf, NeuroError> {
    fs::create_dir_all(dir).map_err(|e| NeuroError::io(dir, e))?;
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    fs::write(&probe, b"probe").map_err(|e| NeuroError::io(dir, e))?;
    let _ = fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("neuroevo-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn torn_lines_are_dropped_and_cut() {
        let d = tmp_dir("torn");
        let p = d.join("log.csv");
        append_line(&p, "a,1").unwrap();
        append_line(&p, "b,2").unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"c,")
            .unwrap();
        let l = read_lines(&p).unwrap();
        assert_eq!(l.complete, ["a,1", "b,2"]);
        assert!(l.torn);
        truncate_lines(&p, 1).unwrap();
        append_line(&p, "z,9").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "a,1\nz,9\n");
        assert!(truncate_lines(&p, 5).is_err());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn atomic_writes_replace_whole_files() {
        let d = tmp_dir("atomic");
        let p = d.join("x.json");
        write_json_atomic(&p, &vec![1.5, 2.5]).unwrap();
        write_json_atomic(&p, &vec![3.25]).unwrap();
        assert_eq!(read_json::<Vec<f64>>(&p).unwrap(), vec![3.25]);
        let leftovers: Vec<_> = fs::read_dir(&d).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
        fs::write(&p, "{broken").unwrap();
        assert!(matches!(
            read_json::<Vec<f64>>(&p),
            Err(NeuroError::Corrupt { .. })
        ));
        fs::remove_dir_all(&d).unwrap();
    }
}
