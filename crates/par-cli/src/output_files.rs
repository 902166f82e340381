//! Output files: checked writable before any work starts, written atomically.
//!
//! A run that computes for fourteen minutes and then finds it cannot write its result has
//! thrown the fourteen minutes away; a run killed while rewriting its result file leaves
//! neither the old file nor the new one. So:
//!
//! - [`check_writable`] (a file) and [`check_writable_dir`] (a folder) create the folder if
//!   needed and prove that a file can be created there, before the first task;
//! - [`write_atomic`] and [`write_json`] write a temporary file in the same folder, flush it to
//!   disk and rename it over the target: a reader sees the old file or the new one, never a
//!   half-written one.
//!
//! ```
//! # fn main() -> Result<(), par_cli::CliError> {
//! let dir = std::env::temp_dir().join(format!("par-cli-doc-{}", std::process::id()));
//! let out = dir.join("result.json");
//! par_cli::output_files::check_writable(&out)?;
//! par_cli::output_files::write_json(&out, &serde_json::json!({"answer": 42}))?;
//! assert!(std::fs::read_to_string(&out).unwrap().contains("42"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok(())
//! # }
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::CliError;

fn unwritable(path: &Path, source: std::io::Error) -> CliError {
    CliError::Unwritable {
        path: path.to_path_buf(),
        source,
    }
}

/// The folder a file path lives in (`.` for a bare file name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `dir` if needed and proves a file can be created in it.
///
/// # Errors
/// [`CliError::NotAFile`] when `dir` exists and is not a folder, [`CliError::Unwritable`] when
/// it cannot be created or written.
pub fn check_writable_dir(dir: &Path) -> Result<(), CliError> {
    if dir.exists() && !dir.is_dir() {
        return Err(CliError::NotAFile {
            path: dir.to_path_buf(),
            why: "exists and is not a folder".into(),
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
    let probe = dir.join(format!(".par-cli-probe-{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| unwritable(dir, e))?;
    std::fs::remove_file(&probe).map_err(|e| unwritable(dir, e))
}

/// Proves that the file `path` can be written (and later renamed into place): its folder is
/// created if needed and must accept new files; an existing `path` must be a writable file.
///
/// # Errors
/// [`CliError::NotAFile`] when `path` is a folder, [`CliError::Unwritable`] otherwise.
pub fn check_writable(path: &Path) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(CliError::NotAFile {
            path: path.to_path_buf(),
            why: "is a folder, not a file".into(),
        });
    }
    check_writable_dir(&folder_of(path)).map_err(|e| match e {
        CliError::Unwritable { source, .. } => unwritable(path, source),
        other => other,
    })?;
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| unwritable(path, e))?;
    }
    Ok(())
}

/// [`check_writable_dir`] for each of `folders` and [`check_writable`] for each of `files`, by
/// the process that writes the outputs: in an MPI job ([`par_core::Mode::Mpi`]) rank 0, whose
/// verdict every rank receives, so that every rank stops at once when rank 0 cannot write
/// (rather than waiting for it as for a lost rank); in every other mode this process.
///
/// ```
/// # fn main() -> Result<(), par_cli::CliError> {
/// use par_core::{ExecConfig, Executor, Mode};
/// let exec = Executor::new(ExecConfig::with_mode(Mode::Sequential))?;
/// let dir = std::env::temp_dir().join(format!("par-cli-root-doc-{}", std::process::id()));
/// par_cli::output_files::check_writable_on_root(&exec, &[dir.clone()], &[dir.join("a.json")])?;
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// On rank 0 (or outside MPI) the error of the check that failed; on the other ranks
/// [`CliError::OnRank0`] with its message.
pub fn check_writable_on_root(
    exec: &par_core::Executor,
    folders: &[PathBuf],
    files: &[PathBuf],
) -> Result<(), CliError> {
    let mut own = None;
    let verdict = par_core::mpi::share_from_root(exec, || {
        let checked = folders
            .iter()
            .try_for_each(|d| check_writable_dir(d))
            .and_then(|()| files.iter().try_for_each(|f| check_writable(f)));
        checked.map_err(|e| {
            let why = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            own = Some(e);
            why
        })
    })?;
    match (own, verdict) {
        (Some(e), _) => Err(e),
        (None, Err(why)) => Err(CliError::OnRank0 { why }),
        (None, Ok(())) => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// renamed over `path`.
///
/// # Errors
/// [`CliError::Unwritable`] naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = folder_of(path);
    std::fs::create_dir_all(&dir).map_err(|e| unwritable(path, e))?;
    let name = path.file_name().map_or_else(
        || "output".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(unwritable(path, e));
    }
    Ok(())
}

/// Writes `value` as pretty JSON (with a final newline) to `path`, atomically.
///
/// # Errors
/// [`CliError::Serialise`] or [`CliError::Unwritable`], naming `path`.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), CliError> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|source| CliError::Serialise {
        what: path.display().to_string(),
        source,
    })?;
    text.push(b'\n');
    write_atomic(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("par-cli-out-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn folders_are_created_and_probed() {
        let d = temp("ok");
        check_writable(&d.join("a/b/c.json")).unwrap();
        assert!(d.join("a/b").is_dir());
        assert_eq!(
            std::fs::read_dir(d.join("a/b")).unwrap().count(),
            0,
            "no probe left"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn unwritable_places_are_refused_before_work() {
        let err = check_writable(Path::new("/proc/nope/out.json")).unwrap_err();
        assert!(err.to_string().contains("/proc/nope/out.json"), "{err}");
        let d = temp("dir");
        std::fs::create_dir_all(&d).unwrap();
        let err = check_writable(&d).unwrap_err();
        assert!(err.to_string().contains("is a folder"), "{err}");
        let file = d.join("f");
        std::fs::write(&file, "x").unwrap();
        let err = check_writable_dir(&file).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporaries() {
        let d = temp("atomic");
        let p = d.join("r.json");
        write_json(&p, &vec![1, 2, 3]).unwrap();
        write_json(&p, &vec![4]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Vec<i32>>(&text).unwrap(), [4]);
        assert!(text.ends_with('\n'));
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
