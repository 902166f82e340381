//! The library of stored programs: programs that solved training tasks, kept with the id and
//! the content fingerprint of the task they came from, tried on every task, and mutated.
//!
//! File format: one entry per line, `task_id<TAB>fingerprint (16 hex digits)<TAB>program`;
//! blank lines and lines starting with `#` are skipped. When a figure is reported for a task,
//! the programs stored from that task are left out ([`Library::for_task`]): the fingerprint
//! ignores the order of the demonstrations, so an ARC-AGI-1 task's copy among the ARC-AGI-2
//! files is left out too.

use std::collections::BTreeSet;
use std::path::Path;

use crate::dsl::{Prim, Type, Value};
use crate::error::ArcError;
use crate::prims::{GridKey, ObjKey};
use crate::program::{Arg, Line, Program};

/// One stored program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The task it solved.
    pub task: String,
    /// That task's [`crate::Task::fingerprint`].
    pub fingerprint: u64,
    /// The program.
    pub program: Program,
}

/// Stored programs (see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Library {
    entries: Vec<Entry>,
}

impl Library {
    /// An empty library.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a program unless the same text is already stored from the same task.
    pub fn add(&mut self, task: &str, fingerprint: u64, program: Program) {
        if !self
            .entries
            .iter()
            .any(|e| e.fingerprint == fingerprint && e.program == program)
        {
            self.entries.push(Entry {
                task: task.to_string(),
                fingerprint,
                program,
            });
        }
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the library is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The distinct programs usable on the task with `fingerprint`: every entry except those
    /// stored from that task (leave-one-out), each program text once, in file order.
    pub fn for_task(&self, fingerprint: u64) -> Vec<Program> {
        let mut seen = BTreeSet::new();
        self.entries
            .iter()
            .filter(|e| e.fingerprint != fingerprint)
            .filter(|e| seen.insert(e.program.to_string()))
            .map(|e| e.program.clone())
            .collect()
    }

    /// Parses the file format.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ArcError> {
        let mut lib = Self::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |message: String| ArcError::Library {
                path: path.to_path_buf(),
                line: i + 1,
                message,
            };
            let mut parts = line.splitn(3, '\t');
            let (Some(task), Some(fp), Some(prog)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("expected task<TAB>fingerprint<TAB>program".into()));
            };
            let fingerprint = u64::from_str_radix(fp.trim(), 16)
                .map_err(|e| bad(format!("fingerprint `{fp}`: {e}")))?;
            let program: Program = prog.parse().map_err(|e: ArcError| bad(e.to_string()))?;
            lib.add(task.trim(), fingerprint, program);
        }
        Ok(lib)
    }

    /// Reads a library file.
    pub fn load(path: &Path) -> Result<Self, ArcError> {
        let text = std::fs::read_to_string(path).map_err(|error| ArcError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&text, path)
    }

    /// The file format's text.
    pub fn to_text(&self) -> String {
        let mut s = String::from("# arc-batt program library: task<TAB>fingerprint<TAB>program\n");
        for e in &self.entries {
            s.push_str(&format!(
                "{}\t{:016x}\t{}\n",
                e.task, e.fingerprint, e.program
            ));
        }
        s
    }
}

/// Type-compatible mutations of `p`: each literal argument replaced by another value of its
/// type (colours from `colours`, integers one up and down, every other key), and each
/// primitive replaced by another with the same signature. At most `cap` mutants, in a fixed
/// order.
pub fn mutants(p: &Program, colours: &[u8], cap: usize) -> Vec<Program> {
    let mut out = Vec::new();
    let lines = p.lines();
    for (i, line) in lines.iter().enumerate() {
        for (k, arg) in line.args.iter().enumerate() {
            let Arg::Lit(v) = arg else { continue };
            let alternatives: Vec<Value> = match v {
                Value::Colour(c) => colours
                    .iter()
                    .filter(|&&x| x != *c)
                    .map(|&x| Value::Colour(x))
                    .collect(),
                Value::Int(n) => [n - 1, n + 1]
                    .into_iter()
                    .filter(|x| x.abs() <= 30)
                    .map(Value::Int)
                    .collect(),
                Value::Bool(b) => vec![Value::Bool(!b)],
                Value::ObjKey(key) => ObjKey::ALL
                    .into_iter()
                    .filter(|x| x != key)
                    .map(Value::ObjKey)
                    .collect(),
                Value::GridKey(key) => GridKey::ALL
                    .into_iter()
                    .filter(|x| x != key)
                    .map(Value::GridKey)
                    .collect(),
                _ => Vec::new(),
            };
            for alt in alternatives {
                let mut ls = lines.to_vec();
                ls[i].args[k] = Arg::Lit(alt);
                if let Ok(m) = Program::new(ls) {
                    out.push(m);
                    if out.len() >= cap {
                        return out;
                    }
                }
            }
        }
        let d = line.prim.def();
        for q in Prim::all() {
            let e = q.def();
            if q == line.prim || e.args != d.args || e.ret != d.ret || e.ret == Type::Bool {
                continue;
            }
            let mut ls: Vec<Line> = lines.to_vec();
            ls[i].prim = q;
            if let Ok(m) = Program::new(ls) {
                out.push(m);
                if out.len() >= cap {
                    return out;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_format_round_trips_and_leave_one_out_excludes_by_fingerprint() {
        let mut lib = Library::new();
        let p: Program = "x1 = rot90(I)".parse().unwrap();
        let q: Program = "x1 = flip_h(I)".parse().unwrap();
        lib.add("a", 1, p.clone());
        lib.add("b", 2, p.clone());
        lib.add("b", 2, q.clone());
        lib.add("b", 2, q.clone());
        assert_eq!(lib.len(), 3);
        let back = Library::parse(&lib.to_text(), Path::new("lib.tsv")).unwrap();
        assert_eq!(back, lib);
        assert_eq!(
            lib.for_task(2),
            vec![p.clone()],
            "b's own programs are left out"
        );
        assert_eq!(
            lib.for_task(1),
            vec![p, q],
            "rot90 once though stored twice"
        );
        let e = Library::parse("a\tzz\tx1 = rot90(I)\n", Path::new("lib.tsv")).unwrap_err();
        assert!(e.to_string().contains("lib.tsv: line 1"), "{e}");
        assert!(Library::parse("a\t01\tx1 = nope(I)", Path::new("l")).is_err());
        assert!(Library::parse("just one field", Path::new("l")).is_err());
    }

    #[test]
    fn mutants_keep_types_and_change_one_thing() {
        let p: Program = "x1 = replace(I, 1, 2); x2 = upscale(x1, 2)"
            .parse()
            .unwrap();
        let ms = mutants(&p, &[1, 2, 3], 1000);
        assert!(
            ms.iter()
                .any(|m| m.to_string() == "x1 = replace(I, 1, 3); x2 = upscale(x1, 2)")
        );
        assert!(
            ms.iter()
                .any(|m| m.to_string() == "x1 = swap(I, 1, 2); x2 = upscale(x1, 2)")
        );
        assert!(
            ms.iter()
                .any(|m| m.to_string() == "x1 = replace(I, 1, 2); x2 = upscale(x1, 3)")
        );
        assert!(ms.iter().all(|m| m != &p));
        assert_eq!(mutants(&p, &[1, 2, 3], 2).len(), 2);
    }
}
