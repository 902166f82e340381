//! Results that survive a killed run: a JSON-lines file that each finished task appends one
//! record to, and that a rerun reads back to skip finished work.
//!
//! - **Append.** [`Journal::append`] writes one whole line with one `write` call on a file
//!   opened with `O_APPEND`, so records from several threads or worker processes never
//!   interleave, and a record is either entirely in the file or cut off at its end.
//! - **Torn lines.** A run killed in the middle of a write leaves a last line without its
//!   newline. [`Journal::open`] ends such a line before anything new is appended, and lines that
//!   do not parse are skipped (counted in [`JournalRead::skipped`]): their tasks simply run again.
//! - **Last wins.** When a record is appended twice for the same key (a task rerun after its
//!   first result was superseded), readers keep the last one ([`JournalRead::last_by_key`]).
//!
//! ```
//! use par_core::journal::Journal;
//! # fn main() -> std::io::Result<()> {
//! let path = std::env::temp_dir().join(format!("journal-doc-{}.jsonl", std::process::id()));
//! # let _ = std::fs::remove_file(&path);
//! let (journal, done) = Journal::open::<(usize, f64)>(&path)?;
//! assert!(done.records.is_empty());
//! journal.append(&(0usize, 1.5))?;
//! journal.append(&(1usize, 2.5))?;
//! let (_, again) = Journal::open::<(usize, f64)>(&path)?;
//! assert_eq!(again.records, [(0, 1.5), (1, 2.5)]);
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An append-only JSON-lines results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    path: PathBuf,
}

/// The records read back from a journal.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalRead<T> {
    /// The records that parsed, in file order.
    pub records: Vec<T>,
    /// Lines that did not parse (a torn write, or a record of another format), skipped.
    pub skipped: usize,
}

impl<T> JournalRead<T> {
    /// The last record for each key, in order of first appearance of the key.
    pub fn last_by_key<K: PartialEq>(self, key: impl Fn(&T) -> K) -> Vec<T> {
        let mut out: Vec<(K, T)> = Vec::new();
        for r in self.records {
            let k = key(&r);
            match out.iter_mut().find(|(existing, _)| *existing == k) {
                Some(slot) => slot.1 = r,
                None => out.push((k, r)),
            }
        }
        out.into_iter().map(|(_, r)| r).collect()
    }
}

impl Journal {
    /// Opens the journal at `path` (creating its folder and the file), ends a line torn by an
    /// interrupted run, and reads back the records already there.
    ///
    /// # Errors
    /// When the folder or file cannot be created, read or written; the error names the path.
    pub fn open<T: DeserializeOwned>(path: &Path) -> io::Result<(Self, JournalRead<T>)> {
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(named)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(named)?;
        let read = Self::read_from(io::BufReader::new(&mut file)).map_err(named)?;
        // End a torn last line so that the next record starts on a line of its own.
        let len = file.metadata().map_err(named)?.len();
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            let mut reader = &file;
            reader.seek(SeekFrom::Start(len - 1)).map_err(named)?;
            reader.read_exact(&mut last).map_err(named)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(named)?;
            }
        }
        Ok((
            Self {
                path: path.to_path_buf(),
            },
            read,
        ))
    }

    /// A handle that appends to the journal at `path` without reading it or mending its last
    /// line: for the worker processes of a run whose parent has already opened the journal
    /// with [`Journal::open`] (which ends a torn line once, before any task starts). Mending
    /// the last line while other workers append could split one of their records, so workers
    /// must not call [`Journal::open`] themselves.
    ///
    /// ```
    /// use par_core::journal::Journal;
    /// # fn main() -> std::io::Result<()> {
    /// let path = std::env::temp_dir().join(format!("journal-worker-{}.jsonl", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let (parent, _) = Journal::open::<u32>(&path)?;
    /// let worker = Journal::appender(parent.path());
    /// worker.append(&7u32)?;
    /// assert_eq!(Journal::read::<u32>(&path)?.records, [7]);
    /// # std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn appender(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    /// Reads the records of the journal at `path` without opening it for writing; a missing
    /// file has none.
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub fn read<T: DeserializeOwned>(path: &Path) -> io::Result<JournalRead<T>> {
        match std::fs::File::open(path) {
            Ok(f) => Self::read_from(io::BufReader::new(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(JournalRead {
                records: Vec::new(),
                skipped: 0,
            }),
            Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
    }

    fn read_from<T: DeserializeOwned>(reader: impl BufRead) -> io::Result<JournalRead<T>> {
        let mut records = Vec::new();
        let mut skipped = 0;
        for line in reader.split(b'\n') {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<T>(&line) {
                Ok(r) => records.push(r),
                Err(_) => skipped += 1,
            }
        }
        Ok(JournalRead { records, skipped })
    }

    /// Appends one record as one line, in one write.
    ///
    /// # Errors
    /// When the record cannot be serialised or the file cannot be written; the error names the
    /// path.
    pub fn append<T: Serialize>(&self, record: &T) -> io::Result<()> {
        let named =
            |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", self.path.display()));
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(named)?;
        f.write_all(&line).map_err(named)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "par-core-journal-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_ended_before_new_records() {
        let p = temp("torn");
        std::fs::write(&p, "[0,1.0]\n[1,2.0]\n[2,3.").unwrap();
        let (j, read) = Journal::open::<(usize, f64)>(&p).unwrap();
        assert_eq!(read.records, [(0, 1.0), (1, 2.0)]);
        assert_eq!(read.skipped, 1);
        j.append(&(2usize, 3.5)).unwrap();
        let again = Journal::read::<(usize, f64)>(&p).unwrap();
        assert_eq!(again.records, [(0, 1.0), (1, 2.0), (2, 3.5)]);
        assert_eq!(again.skipped, 1, "the torn line stays skipped");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn the_last_record_of_a_key_wins() {
        let read = JournalRead {
            records: vec![(0, 'a'), (1, 'b'), (0, 'c')],
            skipped: 0,
        };
        assert_eq!(read.last_by_key(|r| r.0), [(0, 'c'), (1, 'b')]);
    }

    #[test]
    fn concurrent_appends_never_interleave() {
        let p = temp("threads");
        let (j, _) = Journal::open::<Vec<u32>>(&p).unwrap();
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let j = j.clone();
                s.spawn(move || {
                    for i in 0..200u32 {
                        j.append(&vec![t; 100 + i as usize]).unwrap();
                    }
                });
            }
        });
        let read = Journal::read::<Vec<u32>>(&p).unwrap();
        assert_eq!(read.records.len(), 800);
        assert_eq!(read.skipped, 0);
        assert!(read.records.iter().all(|r| r.iter().all(|x| *x == r[0])));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_missing_journal_reads_empty_and_an_unwritable_one_names_its_path() {
        let p = temp("missing");
        assert!(Journal::read::<u8>(&p).unwrap().records.is_empty());
        let bad = Path::new("/proc/definitely/not/here.jsonl");
        let err = Journal::open::<u8>(bad).unwrap_err();
        assert!(err.to_string().contains("/proc/definitely"), "{err}");
    }
}
