//! The binary-side rules of issue 13, kept in one small module so that a shared crate
//! (`par-cli`) can replace it: numeric options validated when parsed, output files checked
//! writable before any work and written atomically, a closed standard output treated as a
//! quiet exit.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A clap value parser for a finite float in `[lo, hi]` (`lo` excluded when `open_lo`).
pub fn float_in(lo: f64, hi: f64, open_lo: bool) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |s: &str| {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number"))?;
        let low_ok = if open_lo { v > lo } else { v >= lo };
        if !v.is_finite() || !low_ok || v > hi {
            let open = if open_lo { "(" } else { "[" };
            return Err(format!(
                "must be a finite number in {open}{lo}, {hi}], got {s}"
            ));
        }
        Ok(v)
    }
}

/// A clap value parser for an integer in `[lo, hi]`.
pub fn int_in(lo: usize, hi: usize) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |s: &str| {
        let v: usize = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a whole number in [{lo}, {hi}]"))?;
        if v < lo || v > hi {
            return Err(format!("must be in [{lo}, {hi}], got {v}"));
        }
        Ok(v)
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Fails unless `path` can be written: not a folder, and its folder accepts a new file (a
/// temporary file is created there and removed).
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        bail!("{}: is a folder, not a file", path.display());
    }
    let tmp = temp_path(path);
    std::fs::write(&tmp, b"").with_context(|| {
        format!(
            "{}: cannot write here (tried {})",
            path.display(),
            tmp.display()
        )
    })?;
    std::fs::remove_file(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// Whether an error chain ends in a broken pipe (standard output closed by a reader).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Prints a line on standard output, returning the error instead of panicking.
pub fn say(line: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}
