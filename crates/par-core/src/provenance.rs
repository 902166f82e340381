//! Where a result came from: the commit of the code, whether it had uncommitted changes, when
//! and with which command line it ran. Bench reports and the examples' result files carry it.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Where a result came from: enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The git commit of the code that ran (`git rev-parse --short=12 HEAD`), when known.
    #[serde(default)]
    pub commit: Option<String>,
    /// Whether the working tree had uncommitted changes to tracked files.
    #[serde(default)]
    pub dirty: bool,
    /// When the run started, `YYYY-MM-DD HH:MM UTC`.
    #[serde(default)]
    pub date: String,
    /// The command line of the run.
    #[serde(default)]
    pub command: Vec<String>,
    /// The run's wall time in seconds, once it ended.
    #[serde(default)]
    pub wall_s: Option<f64>,
}

impl Provenance {
    /// The provenance of a run starting now in this process, the commit read with `git` in the
    /// current directory.
    pub fn now() -> Self {
        Self::now_in(Path::new("."))
    }

    /// The provenance of a run starting now, the commit read with `git` in folder `repo` (for
    /// example the `CARGO_MANIFEST_DIR` a binary was built from); `None` where git or the
    /// repository is absent.
    pub fn now_in(repo: &Path) -> Self {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(repo)
                .args(args)
                .stderr(std::process::Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let commit = git(&["rev-parse", "--short=12", "HEAD"]).filter(|c| !c.is_empty());
        let dirty = commit.is_some()
            && git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
        Self {
            commit,
            dirty,
            date: utc_timestamp(SystemTime::now()),
            command: std::env::args().collect(),
            wall_s: None,
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC` for `time`.
pub fn utc_timestamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (year, month, day) = civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is in 1..=31 and month in 1..=12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_civil_dates() {
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000); // `date -u -d @1795000000`
        assert_eq!(utc_timestamp(t), "2026-11-18 11:06 UTC");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29 00:00
        assert_eq!(utc_timestamp(leap), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn provenance_names_the_command_and_the_date() {
        let p = Provenance::now_in(Path::new(env!("CARGO_MANIFEST_DIR")));
        assert!(!p.command.is_empty());
        assert!(p.date.ends_with(" UTC"));
        let nowhere = Provenance::now_in(Path::new("/"));
        assert_eq!(nowhere.commit, None);
        assert!(!nowhere.dirty);
    }
}
