//! Straight-line typed programs: text form, type checking, evaluation, and the merged
//! evaluator that runs many programs over one input sharing identical sub-expressions.
//!
//! A program is a list of lines `xK = prim(arg, ...)`; an argument is the input `I`, an
//! earlier line `xJ`, or a literal of the argument's type (`3`, `true`, `{1:2}`, `size`,
//! `rot90`). The last line is the output and must be a grid. The text form joins the lines
//! with `; ` and round-trips exactly:
//!
//! ```
//! use arc_batt::program::Program;
//! use arc_batt::Grid;
//!
//! let text = "x1 = objects(I, true, false, true); x2 = argmax(x1, size); x3 = subgrid(x2, I)";
//! let p: Program = text.parse()?;
//! assert_eq!(p.to_string(), text);
//! let input = Grid::from_rows(&[vec![0, 2, 0], vec![0, 0, 0], vec![3, 3, 0]])?;
//! assert_eq!(p.run(&input).to_rows(), vec![vec![3u8, 3]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Merged`] is the batt idea done right: the lines of many programs are hash-consed into one
//! graph (a line is identified by its primitive and its arguments, themselves already
//! identified), so a sub-expression that several programs share is computed once per input.

use std::fmt;
use std::str::FromStr;

use rustc_hash::FxHashMap;

use crate::dsl::{Prim, Type, Value};
use crate::error::ArcError;
use crate::grid::Grid;

/// An argument of a program line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// The program's input grid, `I`.
    Input,
    /// An earlier line, by 0-based index (written `x{index + 1}`).
    Line(usize),
    /// A literal value.
    Lit(Value),
}

/// One line: a primitive applied to arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The primitive.
    pub prim: Prim,
    /// Its arguments, as many as the primitive takes.
    pub args: Vec<Arg>,
}

/// A straight-line program (see the [module docs](self)). Built through [`Program::new`] or
/// parsing, which type-check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    lines: Vec<Line>,
}

fn err(line: usize, message: impl Into<String>) -> ArcError {
    ArcError::Program {
        line,
        message: message.into(),
    }
}

impl Program {
    /// A type-checked program from lines.
    pub fn new(lines: Vec<Line>) -> Result<Self, ArcError> {
        let p = Self { lines };
        p.check()?;
        Ok(p)
    }

    /// The lines.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Number of lines (the program's size for ranking by simplicity).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the program has no lines (never true of a checked program).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn check(&self) -> Result<(), ArcError> {
        if self.lines.is_empty() {
            return Err(err(1, "a program needs at least one line"));
        }
        for (i, line) in self.lines.iter().enumerate() {
            let d = line.prim.def();
            if line.args.len() != d.args.len() {
                return Err(err(
                    i + 1,
                    format!(
                        "{} takes {} arguments, got {}",
                        d.name,
                        d.args.len(),
                        line.args.len()
                    ),
                ));
            }
            for (k, (arg, &want)) in line.args.iter().zip(d.args).enumerate() {
                let got = match arg {
                    Arg::Input => Type::Grid,
                    Arg::Line(j) if *j < i => self.lines[*j].prim.def().ret,
                    Arg::Line(j) => {
                        return Err(err(i + 1, format!("x{} is not an earlier line", j + 1)));
                    }
                    Arg::Lit(v) => {
                        if !v.ty().is_literal() {
                            return Err(err(i + 1, format!("argument {k} is not a literal type")));
                        }
                        v.ty()
                    }
                };
                if got != want {
                    return Err(err(
                        i + 1,
                        format!(
                            "{} argument {} must be {want:?}, got {got:?}",
                            d.name,
                            k + 1
                        ),
                    ));
                }
            }
        }
        let out = self.lines[self.lines.len() - 1].prim.def().ret;
        if out != Type::Grid {
            return Err(err(
                self.lines.len(),
                format!("the last line must be a Grid, not {out:?}"),
            ));
        }
        Ok(())
    }

    /// Runs the program on `input`; the output grid (the empty grid when a step had nothing
    /// to return).
    pub fn run(&self, input: &Grid) -> Grid {
        let mut ops = 0;
        self.run_counting(input, &mut ops)
    }

    /// Runs the program, adding the number of primitive applications to `ops`.
    pub fn run_counting(&self, input: &Grid, ops: &mut u64) -> Grid {
        *ops += self.lines.len() as u64;
        eval_lines(&self.lines, input)
            .pop()
            .map_or_else(Grid::empty, |v| v.grid().clone())
    }

    /// The primitives the program uses, with repetition.
    pub fn prims(&self) -> impl Iterator<Item = Prim> + '_ {
        self.lines.iter().map(|l| l.prim)
    }
}

/// The values of `lines` on `input`, in order (`Arg::Line(j)` reads line `j`'s value).
fn eval_lines(lines: &[Line], input: &Grid) -> Vec<Value> {
    let input = Value::Grid(input.clone());
    let mut vals: Vec<Value> = Vec::with_capacity(lines.len());
    for line in lines {
        let out = apply_line(line, &input, &vals);
        vals.push(out);
    }
    vals
}

/// Applies one line given the input and the earlier values (a missing value reads as the
/// empty grid).
fn apply_line(line: &Line, input: &Value, vals: &[Value]) -> Value {
    static NONE: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::empty(Type::Grid));
    let none: &Value = &NONE;
    let args: smallvec::SmallVec<[&Value; 4]> = line
        .args
        .iter()
        .map(|a| match a {
            Arg::Input => input,
            Arg::Line(j) => vals.get(*j).unwrap_or(none),
            Arg::Lit(v) => v,
        })
        .collect();
    line.prim.apply(&args)
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "x{} = {}(", i + 1, line.prim.name())?;
            for (k, a) in line.args.iter().enumerate() {
                if k > 0 {
                    f.write_str(", ")?;
                }
                match a {
                    Arg::Input => f.write_str("I")?,
                    Arg::Line(j) => write!(f, "x{}", j + 1)?,
                    Arg::Lit(v) => f.write_str(&v.literal_text().unwrap_or_else(|| "?".into()))?,
                }
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Splits `a, {1:2,3:4}, b` at top-level commas.
fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, ch) in s.char_indices() {
        match ch {
            '{' | '(' | '<' => depth += 1,
            '}' | ')' | '>' if depth > 0 => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let tail = s[start..].trim();
    if !tail.is_empty() || !out.is_empty() {
        out.push(tail);
    }
    out
}

impl FromStr for Program {
    type Err = ArcError;

    fn from_str(text: &str) -> Result<Self, ArcError> {
        let mut lines = Vec::new();
        for (i, stmt) in text.split(';').map(str::trim).enumerate() {
            if stmt.is_empty() {
                return Err(err(i + 1, "empty statement"));
            }
            let (lhs, rhs) = stmt
                .split_once('=')
                .ok_or_else(|| err(i + 1, format!("`{stmt}` is not `xN = prim(args)`")))?;
            if lhs.trim() != format!("x{}", i + 1) {
                return Err(err(
                    i + 1,
                    format!("expected `x{} =`, found `{}`", i + 1, lhs.trim()),
                ));
            }
            let rhs = rhs.trim();
            let (name, rest) = rhs
                .split_once('(')
                .ok_or_else(|| err(i + 1, format!("`{rhs}` has no argument list")))?;
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| err(i + 1, format!("`{rhs}` does not end with `)`")))?;
            let prim = Prim::by_name(name.trim())
                .ok_or_else(|| err(i + 1, format!("unknown primitive `{}`", name.trim())))?;
            let d = prim.def();
            let raw = split_args(inner);
            if raw.len() != d.args.len() {
                return Err(err(
                    i + 1,
                    format!(
                        "{} takes {} arguments, got {}",
                        d.name,
                        d.args.len(),
                        raw.len()
                    ),
                ));
            }
            let mut args = Vec::with_capacity(raw.len());
            for (a, &ty) in raw.iter().zip(d.args) {
                let arg = if *a == "I" {
                    Arg::Input
                } else if let Some(j) = a.strip_prefix('x').and_then(|n| n.parse::<usize>().ok()) {
                    if j == 0 {
                        return Err(err(i + 1, "lines are numbered from x1"));
                    }
                    Arg::Line(j - 1)
                } else {
                    Arg::Lit(Value::parse_literal(ty, a).ok_or_else(|| {
                        err(
                            i + 1,
                            format!("`{a}` is not a {ty:?} literal ({} argument)", d.name),
                        )
                    })?)
                };
                args.push(arg);
            }
            lines.push(Line { prim, args });
        }
        Self::new(lines)
    }
}

/// Identity of a merged node's argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ArgKey {
    Input,
    Node(u32),
    Lit(String),
}

/// Many programs merged into one graph of shared sub-expressions (see the
/// [module docs](self)).
///
/// ```
/// use arc_batt::program::{Merged, Program};
/// use arc_batt::Grid;
///
/// let a: Program = "x1 = rot90(I); x2 = trim(x1)".parse()?;
/// let b: Program = "x1 = rot90(I); x2 = flip_h(x1)".parse()?;
/// let m = Merged::new(&[a.clone(), b.clone()]);
/// assert_eq!(m.node_count(), 3, "rot90(I) is computed once");
/// let g = Grid::from_rows(&[vec![1, 2], vec![3, 0]])?;
/// assert_eq!(m.run(&g), vec![a.run(&g), b.run(&g)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// The distinct lines; `Arg::Line(j)` reads node `j`.
    nodes: Vec<Line>,
    outputs: Vec<usize>,
    total_lines: usize,
}

impl Merged {
    /// Merges `programs`.
    pub fn new(programs: &[Program]) -> Self {
        let mut index: FxHashMap<(Prim, Vec<ArgKey>), usize> = FxHashMap::default();
        let mut m = Self::default();
        for p in programs {
            let mut ids = Vec::with_capacity(p.len());
            for line in p.lines() {
                let args: Vec<Arg> = line
                    .args
                    .iter()
                    .map(|a| match a {
                        Arg::Line(j) => Arg::Line(ids[*j]),
                        other => other.clone(),
                    })
                    .collect();
                let key: Vec<ArgKey> = args
                    .iter()
                    .map(|a| match a {
                        Arg::Input => ArgKey::Input,
                        Arg::Line(n) => ArgKey::Node(*n as u32),
                        Arg::Lit(v) => ArgKey::Lit(v.literal_text().unwrap_or_default()),
                    })
                    .collect();
                let next = m.nodes.len();
                let id = *index.entry((line.prim, key)).or_insert(next);
                if id == next {
                    m.nodes.push(Line {
                        prim: line.prim,
                        args,
                    });
                }
                ids.push(id);
            }
            m.total_lines += p.len();
            m.outputs.push(ids.last().copied().unwrap_or(0));
        }
        m
    }

    /// Number of distinct sub-expressions (the operations one input costs).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of lines of all programs together (the operations without merging).
    pub fn total_lines(&self) -> usize {
        self.total_lines
    }

    /// Every program's output on `input`, in the order the programs were given.
    pub fn run(&self, input: &Grid) -> Vec<Grid> {
        let vals = self.values(input);
        self.outputs
            .iter()
            .map(|&i| vals.get(i).map_or_else(Grid::empty, |v| v.grid().clone()))
            .collect()
    }

    /// The value of every node on `input`, in node order.
    pub fn values(&self, input: &Grid) -> Vec<Value> {
        eval_lines(&self.nodes, input)
    }

    /// Node `i`'s primitive and the nodes it reads (for parallel evaluation by levels).
    pub fn node_inputs(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes[i].args.iter().filter_map(|a| match a {
            Arg::Line(j) => Some(*j),
            _ => None,
        })
    }

    /// Evaluates node `i` given the values of the nodes before it.
    pub fn eval_node(&self, i: usize, input: &Value, vals: &[Value]) -> Value {
        apply_line(&self.nodes[i], input, vals)
    }

    /// The output node of each program.
    pub fn outputs(&self) -> &[usize] {
        &self.outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_for_every_literal_kind() {
        for text in [
            "x1 = rot90(I)",
            "x1 = remap(I, {1:2,3:4})",
            "x1 = objects(I, true, true, false); x2 = filter_eq(x1, size, 3); x3 = merge(x2); x4 = paint(I, x3)",
            "x1 = split_lines(I); x2 = map_grids(x1, flip_h); x3 = pick_max(x2, nonzero)",
            "x1 = most_colour(I); x2 = canvas(x1, 3, 3)",
            "x1 = shift(x0, 1, 1)",
        ] {
            match text.parse::<Program>() {
                Ok(p) => assert_eq!(p.to_string(), text),
                Err(e) => assert!(text.contains("x0"), "{text}: {e}"),
            }
        }
    }

    #[test]
    fn bad_programs_are_errors_with_the_line() {
        let cases = [
            ("", 1),
            ("x1 = nope(I)", 1),
            ("x1 = rot90(I, I)", 1),
            ("x2 = rot90(I)", 1),
            ("x1 = rot90(I); x2 = upscale(x1, x1)", 2),
            ("x1 = rot90(x1)", 1),
            ("x1 = height(I)", 1),
            ("x1 = replace(I, 1, 12)", 1),
            ("x1 = rot90(I);", 2),
            ("x1 = rot90 I", 1),
        ];
        for (text, line) in cases {
            match text.parse::<Program>() {
                Err(ArcError::Program { line: l, .. }) => assert_eq!(l, line, "{text}"),
                other => panic!("{text}: expected a program error, got {other:?}"),
            }
        }
    }

    #[test]
    fn merged_evaluation_equals_one_by_one_and_shares_lines() {
        let programs: Vec<Program> = [
            "x1 = objects(I, true, false, true); x2 = argmax(x1, size); x3 = subgrid(x2, I)",
            "x1 = objects(I, true, false, true); x2 = argmin(x1, size); x3 = subgrid(x2, I)",
            "x1 = objects(I, true, false, true); x2 = argmax(x1, size); x3 = recolour(x2, 5); x4 = paint(I, x3)",
            "x1 = flip_h(I)",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        let m = Merged::new(&programs);
        assert_eq!(m.total_lines(), 11);
        assert_eq!(m.node_count(), 8);
        let g = Grid::from_rows(&[vec![1, 1, 0], vec![0, 0, 2], vec![3, 3, 3]]).unwrap();
        let one_by_one: Vec<Grid> = programs.iter().map(|p| p.run(&g)).collect();
        assert_eq!(m.run(&g), one_by_one);
        assert_eq!(one_by_one[0].to_rows(), vec![vec![3u8, 3, 3]]);
        assert_eq!(one_by_one[2].to_rows()[2], vec![5u8, 5, 5]);
        let mut ops = 0;
        programs[0].run_counting(&g, &mut ops);
        assert_eq!(ops, 3);
    }
}
