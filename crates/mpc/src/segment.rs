//! Driving segments: the CSV files of the tinyphysics data set.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::MpcError;
use crate::simulator::{CONTROL_START_IDX, COST_END_IDX};

/// Gravity used to turn road roll into lateral acceleration, m/s^2.
pub const ACC_G: f64 = 9.81;

/// The CSV header of a segment, in the order the files use.
pub const CSV_HEADER: [&str; 6] = [
    "t",
    "vEgo",
    "aEgo",
    "roll",
    "targetLateralAcceleration",
    "steerCommand",
];

/// One driving segment, as the simulator holds it.
///
/// Per row: road-roll lateral acceleration `9.81 * sin(roll)`, forward speed, forward acceleration,
/// the target lateral acceleration, and the steer value `-steerCommand` (right-positive), which is
/// only present in the logged rows before the controller takes over.
///
/// Serialisable so that an evaluation can ship its segments to worker processes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    /// The file the segment came from (or a description for in-memory segments).
    pub path: PathBuf,
    /// `9.81 * sin(roll)` per row, m/s^2.
    pub roll_lataccel: Vec<f64>,
    /// Forward speed per row, m/s.
    pub v_ego: Vec<f64>,
    /// Forward acceleration per row, m/s^2.
    pub a_ego: Vec<f64>,
    /// Target lateral acceleration per row, m/s^2.
    pub target_lataccel: Vec<f64>,
    /// `-steerCommand` per row; `None` where the column is empty (from row 100 on).
    pub steer: Vec<Option<f64>>,
}

/// A raw row of the CSV file (the values as written).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawRow {
    /// Time, s.
    pub t: f64,
    /// Forward speed, m/s.
    pub v_ego: f64,
    /// Forward acceleration, m/s^2.
    pub a_ego: f64,
    /// Road roll, rad.
    pub roll: f64,
    /// Target lateral acceleration, m/s^2.
    pub target_lataccel: f64,
    /// Logged steering command (left-positive), if present.
    pub steer_command: Option<f64>,
}

impl Segment {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.target_lataccel.len()
    }

    /// Whether the segment has no rows.
    pub fn is_empty(&self) -> bool {
        self.target_lataccel.is_empty()
    }

    /// The file name (last path component), used for the default seed key `data/<file name>`.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// A digest of the segment's values (not of its path): the lowercase hexadecimal MD5 of
    /// every column's bits, row by row. Two segments with equal digests drive the simulator
    /// identically; an evaluation's journal uses it to recognise a segment on resume.
    pub fn digest(&self) -> String {
        let mut bytes = Vec::with_capacity(self.len() * 6 * 8);
        for i in 0..self.len() {
            for v in [
                self.roll_lataccel[i],
                self.v_ego[i],
                self.a_ego[i],
                self.target_lataccel[i],
            ] {
                bytes.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            match self.steer[i] {
                Some(s) => {
                    bytes.push(1);
                    bytes.extend_from_slice(&s.to_bits().to_le_bytes());
                }
                None => bytes.push(0),
            }
        }
        crate::seed::md5_digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Loads a segment file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, MpcError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| MpcError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of a segment file; `path` names it in errors.
    ///
    /// The header must contain the six columns of [`CSV_HEADER`] (in any order). Every row must
    /// have six fields, all numbers except `steerCommand`, which may be empty from row 100 on. At
    /// least 500 rows are needed (the cost window ends at row 500).
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, MpcError> {
        let rows = parse_rows(text, path.as_ref())?;
        Self::from_rows(&rows, path)
    }

    /// Builds a segment from raw rows (the simulator's derived columns are computed here).
    pub fn from_rows(rows: &[RawRow], path: impl AsRef<Path>) -> Result<Self, MpcError> {
        let path = path.as_ref().to_path_buf();
        if rows.len() < COST_END_IDX {
            return Err(MpcError::SegmentTooShort {
                path,
                rows: rows.len(),
                needed: COST_END_IDX,
            });
        }
        if let Some(i) = rows[..CONTROL_START_IDX]
            .iter()
            .position(|r| r.steer_command.is_none())
        {
            return Err(MpcError::Csv {
                path,
                line: i + 2,
                problem: format!(
                    "`steerCommand` is empty in data row {i}, before the control start (row {CONTROL_START_IDX})"
                ),
            });
        }
        Ok(Self {
            roll_lataccel: rows.iter().map(|r| r.roll.sin() * ACC_G).collect(),
            v_ego: rows.iter().map(|r| r.v_ego).collect(),
            a_ego: rows.iter().map(|r| r.a_ego).collect(),
            target_lataccel: rows.iter().map(|r| r.target_lataccel).collect(),
            steer: rows.iter().map(|r| r.steer_command.map(|s| -s)).collect(),
            path,
        })
    }
}

/// Parses the rows of a segment CSV text; `path` names the file in errors.
pub fn parse_rows(text: &str, path: &Path) -> Result<Vec<RawRow>, MpcError> {
    let err = |line: usize, problem: String| MpcError::Csv {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut lines = text.lines().enumerate();
    let header = loop {
        match lines.next() {
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((i, l)) => break (i + 1, l.trim_end_matches('\r')),
            None => return Err(err(1, "empty file: no header".into())),
        }
    };
    let names: Vec<&str> = header.1.split(',').map(str::trim).collect();
    let mut index = [0usize; 6];
    for (slot, want) in index.iter_mut().zip(CSV_HEADER) {
        *slot = names.iter().position(|n| *n == want).ok_or_else(|| {
            err(
                header.0,
                format!("header lacks column `{want}` (found `{}`)", header.1),
            )
        })?;
    }
    let mut rows = Vec::new();
    for (i, raw) in lines {
        let line_no = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != names.len() {
            return Err(err(
                line_no,
                format!("{} fields, the header has {}", fields.len(), names.len()),
            ));
        }
        let number = |col: usize| -> Result<f64, MpcError> {
            let text = fields[index[col]].trim();
            let value: f64 = text.parse().map_err(|_| {
                err(
                    line_no,
                    format!("column `{}`: `{text}` is not a number", CSV_HEADER[col]),
                )
            })?;
            if value.is_finite() {
                Ok(value)
            } else {
                Err(err(
                    line_no,
                    format!("column `{}`: `{text}` is not finite", CSV_HEADER[col]),
                ))
            }
        };
        let steer_text = fields[index[5]].trim();
        rows.push(RawRow {
            t: number(0)?,
            v_ego: number(1)?,
            a_ego: number(2)?,
            roll: number(3)?,
            target_lataccel: number(4)?,
            steer_command: if steer_text.is_empty() {
                None
            } else {
                Some(number(5)?)
            },
        });
    }
    Ok(rows)
}

/// Writes rows in the CSV format of the data set (numbers in shortest round-trip form).
pub fn write_csv(rows: &[RawRow]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push('\n');
    for r in rows {
        let _ = write!(
            out,
            "{:?},{:?},{:?},{:?},{:?},",
            r.t, r.v_ego, r.a_ego, r.roll, r.target_lataccel
        );
        if let Some(s) = r.steer_command {
            let _ = write!(out, "{s:?}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<RawRow> {
        (0..n)
            .map(|i| RawRow {
                t: i as f64 * 0.1,
                v_ego: 20.0,
                a_ego: 0.0,
                roll: 0.01,
                target_lataccel: 0.5,
                steer_command: (i < 100).then_some(-0.1),
            })
            .collect()
    }

    #[test]
    fn round_trip() {
        let r = rows(520);
        let text = write_csv(&r);
        assert_eq!(parse_rows(&text, Path::new("x.csv")).unwrap(), r);
        let seg = Segment::parse(&text, "dir/x.csv").unwrap();
        assert_eq!(seg.len(), 520);
        assert_eq!(seg.steer[0], Some(0.1));
        assert_eq!(seg.steer[100], None);
        assert_eq!(seg.file_name(), "x.csv");
        let moved = Segment::parse(&text, "elsewhere/y.csv").unwrap();
        assert_eq!(seg.digest(), moved.digest(), "the digest ignores the path");
        let mut other = r.clone();
        other[300].target_lataccel += 1e-12;
        let other = Segment::parse(&write_csv(&other), "dir/x.csv").unwrap();
        assert_ne!(seg.digest(), other.digest());
        assert_eq!(seg.digest().len(), 32);
    }

    #[test]
    fn errors_name_file_and_line() {
        let mut text = write_csv(&rows(520));
        text = text.replacen("20.0", "twenty", 1);
        let e = Segment::parse(&text, "bad.csv").unwrap_err();
        assert!(matches!(e, MpcError::Csv { line: 2, .. }), "{e}");
        assert!(e.to_string().starts_with("bad.csv:2:"), "{e}");

        let e = Segment::parse("t,vEgo\n1,2\n", "h.csv").unwrap_err();
        assert!(e.to_string().contains("aEgo"), "{e}");

        let mut r = rows(520);
        r[5].steer_command = None;
        let e = Segment::parse(&write_csv(&r), "s.csv").unwrap_err();
        assert!(matches!(e, MpcError::Csv { line: 7, .. }), "{e}");

        let e = Segment::parse(&write_csv(&rows(300)), "short.csv").unwrap_err();
        assert!(
            matches!(e, MpcError::SegmentTooShort { rows: 300, .. }),
            "{e}"
        );

        let text = write_csv(&rows(520)).replacen("\n0.1,", "\n0.1,1,", 1);
        let e = Segment::parse(&text, "f.csv").unwrap_err();
        assert!(matches!(e, MpcError::Csv { line: 3, .. }), "{e}");
    }
}
