//! Program search over one task, within a work budget and a memory bound.
//!
//! Every value the search computes is evaluated on all of the task's inputs at once (the
//! demonstration inputs, then the test inputs) and stored once in a [`Space`]: two
//! expressions that give identical values on every input are one node (observational
//! equivalence; icecuber's merging of identical intermediate images), and an expression
//! already evaluated is looked up, not recomputed (the merged evaluator's hash-consing).
//! A node's program is the straight-line program of its cheapest known expression.
//!
//! The search runs in stages, all feeding the same space:
//!
//! 1. **Library**: the stored programs ([`crate::library`]) not learned from this task.
//! 2. **Type-directed enumeration**: properties of the input (sizes, colours, counts,
//!    objects, selected objects, split pieces), then grids built from them (canvases, scaled
//!    and tiled inputs, object crops) — every intermediate merged by value.
//! 3. **Transform search**: a depth-limited, best-first search over grid-to-grid transform
//!    fragments (each a few DSL lines with one hole); nodes of each depth are expanded in
//!    order of their partial credit.
//! 4. **Mutation** of the library programs that came closest.
//! 5. **Assembly** ([`crate::score`]): learned colour substitutions and pieces laid over a
//!    base until every demonstration is reproduced.
//!
//! The budget is counted in work units (cells touched by primitives, a fixed nominal rate
//! per second), so a task's result does not depend on the machine's load or on how many
//! tasks run beside it; a wall-clock guard at six times the budget
//! ([`SearchConfig::wall_factor`]) stops a search that runs far slower than the nominal rate,
//! and the task reports which limit stopped it.

use std::time::Instant;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::dsl::{Prim, Type, Value};
use crate::grid::Grid;
use crate::library::{Library, mutants};
use crate::prims::{GridKey, ObjKey};
use crate::program::{Arg, Line, Program};
use crate::task::Task;

/// Work units per second of budget: cells touched by primitives per second on the reference
/// machine (Intel Xeon, one core), so that a budget of one second takes about one second.
pub const WORK_PER_SECOND: f64 = 250.0e6;

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every stage ran to its end.
    Complete,
    /// The work budget ran out.
    Budget,
    /// The wall-clock guard stopped it (the machine ran far slower than the nominal rate).
    WallClock,
    /// The space outgrew the task's share of memory.
    Memory,
}

/// Search settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Budget per task in seconds of nominal work ([`WORK_PER_SECOND`]). Default 1.
    pub budget_s: f64,
    /// Deepest transform composition. Default 3.
    pub max_depth: usize,
    /// Memory the task's search may hold, in MB. Default 1024.
    pub memory_mb: f64,
    /// Mutants tried per near-miss library program. Default 60.
    pub mutants_per_program: usize,
    /// The wall-clock guard: a search stops after this many times its budget in seconds
    /// (plus 0.1 s), whatever work it has done. Default 6; a large value leaves the budget
    /// alone in charge, so that results do not depend on the machine's load.
    pub wall_factor: f64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            budget_s: 1.0,
            max_depth: 3,
            memory_mb: 1024.0,
            mutants_per_program: 60,
            wall_factor: 6.0,
        }
    }
}

impl SearchConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), crate::ArcError> {
        let bad = |field, message: String| Err(crate::ArcError::Config { field, message });
        if !(self.budget_s.is_finite() && self.budget_s > 0.0 && self.budget_s <= 3600.0) {
            return bad(
                "budget_s",
                format!("must be in (0, 3600] seconds, got {}", self.budget_s),
            );
        }
        if !(1..=4).contains(&self.max_depth) {
            return bad(
                "max_depth",
                format!("must be 1 to 4, got {}", self.max_depth),
            );
        }
        if !(self.memory_mb.is_finite() && self.memory_mb >= 16.0 && self.memory_mb <= 1.0e6) {
            return bad(
                "memory_mb",
                format!("must be in [16, 1e6] MB, got {}", self.memory_mb),
            );
        }
        if !(self.wall_factor.is_finite() && (1.0..=1.0e6).contains(&self.wall_factor)) {
            return bad(
                "wall_factor",
                format!("must be in [1, 1e6], got {}", self.wall_factor),
            );
        }
        if self.mutants_per_program > 10_000 {
            return bad(
                "mutants_per_program",
                format!("must be at most 10000, got {}", self.mutants_per_program),
            );
        }
        Ok(())
    }
}

/// Nodes a search typically makes per second of budget (an upper quartile on the training
/// tasks), and memo entries (applications that were not memo hits): the node list and the
/// tables start at this size (within [`table_capacity`]'s bounds) so that they rarely grow, as
/// rehashing a growing memo took about 4 % of a search.
const NODES_PER_SECOND: f64 = 150e3;
/// See [`NODES_PER_SECOND`].
const MEMO_PER_SECOND: f64 = 400e3;

/// The initial capacity of a table expected to hold `per_second` entries per second of
/// budget: at least 2^14, at most 2^20 (a larger search grows the table as before).
fn table_capacity(budget_s: f64, per_second: f64) -> usize {
    (budget_s * per_second).clamp(16_384.0, 1_048_576.0) as usize
}

/// The memo's key: the primitive, then each argument's code (a node id, or a literal's hash
/// with the top bit set), `u64::MAX` for absent arguments. Compared and hashed word by word:
/// the derived array comparison called `bcmp` on every probe.
#[derive(Clone, Copy, Eq)]
struct MemoKey([u64; 5]);

impl PartialEq for MemoKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.0, &other.0);
        ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0
    }
}

impl std::hash::Hash for MemoKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for w in self.0 {
            state.write_u64(w);
        }
    }
}

/// A node's argument: another node or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum SArg {
    /// A node of the space.
    Node(u32),
    /// A literal.
    Lit(Value),
}

#[derive(Debug, Clone)]
enum Expr {
    Input,
    Apply { prim: Prim, args: Vec<SArg> },
}

/// One distinct value of the search, on every input.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value on each input (demonstrations first, then tests).
    pub vals: Box<[Value]>,
    expr: Expr,
    /// Lines of its expression tree (a simplicity measure).
    pub cost: u16,
    /// Transform depth (0 for the input and for enumerated values).
    pub depth: u8,
    /// Mean partial credit over the demonstrations (grids only).
    pub partial: f32,
    /// Demonstrations reproduced exactly (grids only).
    pub exact: u8,
    /// Whether it came from the library or its mutants.
    pub from_library: bool,
    /// Whether its value can be trusted to generalise: false for a value that only a learned
    /// table (a colour substitution or a cell-wise rule) gives whose cross-validation on the
    /// demonstrations failed. Such a value never counts as a solution that stops the search,
    /// and ranks below trusted ones that fit as well.
    pub trusted: bool,
}

/// The search space of one task (see the [module docs](self)).
pub struct Space {
    n_train: usize,
    outputs: Vec<Grid>,
    nodes: Vec<Node>,
    /// Nodes by the hash of their values; distinct values rarely share a hash, so the ids
    /// stay inline (no allocation per node).
    by_value: FxHashMap<u64, smallvec::SmallVec<[u32; 1]>>,
    memo: FxHashMap<MemoKey, Option<u32>>,
    /// Work units spent.
    pub work: u64,
    /// Primitive applications on single inputs.
    pub ops: u64,
    bytes: usize,
    peak_bytes: usize,
    work_limit: u64,
    stage_limit: u64,
    stage_fraction: f64,
    budget_hit: bool,
    wall_hit: bool,
    byte_limit: usize,
    started: Instant,
    wall_limit_s: f64,
    stop: Option<Status>,
    solutions: Vec<u32>,
    library_mark: bool,
    /// Values inserted while set are not trusted (see [`Node::trusted`]).
    pub(crate) untrusted_mark: bool,
}

impl Space {
    /// A space over the task's inputs with the given limits.
    pub fn new(task: &Task, cfg: &SearchConfig) -> Self {
        let inputs: Vec<Value> = task.inputs().into_iter().map(Value::Grid).collect();
        let mut s = Self {
            n_train: task.train.len(),
            outputs: task.train.iter().map(|p| p.output.clone()).collect(),
            nodes: Vec::with_capacity(table_capacity(cfg.budget_s, NODES_PER_SECOND)),
            by_value: FxHashMap::with_capacity_and_hasher(
                table_capacity(cfg.budget_s, NODES_PER_SECOND),
                Default::default(),
            ),
            memo: FxHashMap::with_capacity_and_hasher(
                table_capacity(cfg.budget_s, MEMO_PER_SECOND),
                Default::default(),
            ),
            work: 0,
            ops: 0,
            bytes: 0,
            peak_bytes: 0,
            work_limit: (cfg.budget_s * WORK_PER_SECOND) as u64,
            stage_limit: u64::MAX,
            stage_fraction: 1.0,
            budget_hit: false,
            wall_hit: false,
            byte_limit: (cfg.memory_mb * 1e6) as usize,
            started: Instant::now(),
            wall_limit_s: cfg.wall_factor * cfg.budget_s + 0.1,
            stop: None,
            solutions: Vec::new(),
            library_mark: false,
            untrusted_mark: false,
        };
        s.insert(inputs.into_boxed_slice(), Expr::Input, 0, 0);
        s
    }

    /// The input node.
    pub const INPUT: u32 = 0;

    /// The nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of demonstrations.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// The demonstration outputs.
    pub fn outputs(&self) -> &[Grid] {
        &self.outputs
    }

    /// Why the search stopped early, if it did.
    pub fn stopped(&self) -> Option<Status> {
        self.stop
    }

    /// Trusted nodes that reproduce every demonstration, in the order found.
    pub fn solutions(&self) -> &[u32] {
        &self.solutions
    }

    /// The largest number of bytes the space held.
    pub fn peak_bytes(&self) -> usize {
        self.peak_bytes
    }

    /// Limits the stages that follow to `fraction` of the whole budget (1 lifts the limit); a
    /// stage stopped by the previous limit may go on when the new one is larger.
    pub fn limit_stage(&mut self, fraction: f64) {
        self.stage_limit = (self.work_limit as f64 * fraction) as u64;
        self.stage_fraction = fraction;
        let reopen = match self.stop {
            Some(Status::Budget) => self.work < self.work_limit.min(self.stage_limit),
            Some(Status::WallClock) => {
                self.started.elapsed().as_secs_f64() < self.wall_limit_s * fraction
            }
            _ => false,
        };
        if reopen {
            self.stop = None;
        }
    }

    /// Whether any stage ran out of budget.
    pub fn budget_hit(&self) -> bool {
        self.budget_hit
    }

    /// Fraction of the work budget left.
    pub fn budget_left(&self) -> f64 {
        1.0 - self.work as f64 / self.work_limit.max(1) as f64
    }

    fn check_limits(&mut self) -> bool {
        if self.stop.is_some() {
            return false;
        }
        if self.work >= self.work_limit.min(self.stage_limit) {
            self.stop = Some(Status::Budget);
            self.budget_hit = true;
        } else if self.bytes >= self.byte_limit {
            self.stop = Some(Status::Memory);
        } else if self.ops & 63 == 0
            && self.started.elapsed().as_secs_f64() > self.wall_limit_s * self.stage_fraction
        {
            self.stop = Some(Status::WallClock);
            self.wall_hit = true;
        }
        self.stop.is_none()
    }

    fn score(&self, vals: &[Value]) -> (f32, u8) {
        let mut exact = 0u8;
        let mut total = 0.0f32;
        for (v, want) in vals.iter().zip(&self.outputs) {
            let g = v.grid();
            if g == want {
                exact += 1;
                total += 1.0;
            } else {
                total += partial_credit(g, want);
            }
        }
        (total / self.n_train.max(1) as f32, exact)
    }

    fn insert(&mut self, vals: Box<[Value]>, expr: Expr, cost: u16, depth: u8) -> u32 {
        let h = vals.iter().fold(0x9e37_79b9_7f4a_7c15u64, |a, v| {
            (a.rotate_left(5) ^ v.hash64()).wrapping_mul(0x100_0000_01b3)
        });
        if let Some(ids) = self.by_value.get(&h) {
            for &id in ids {
                let node = &self.nodes[id as usize];
                if node.vals == vals {
                    if !node.trusted && !self.untrusted_mark {
                        // A trusted expression gives the same value: the value is trusted.
                        let fits = node.vals[0].ty() == Type::Grid
                            && usize::from(node.exact) == self.n_train;
                        self.nodes[id as usize].trusted = true;
                        if fits {
                            self.solutions.push(id);
                        }
                    }
                    return id;
                }
            }
        }
        let id = self.nodes.len() as u32;
        let is_grid = vals.first().is_some_and(|v| v.ty() == Type::Grid);
        let (partial, exact) = if is_grid {
            self.score(&vals[..self.n_train])
        } else {
            (0.0, 0)
        };
        self.bytes += vals.iter().map(Value::bytes).sum::<usize>() + 96;
        self.peak_bytes = self.peak_bytes.max(self.bytes);
        if is_grid
            && usize::from(exact) == self.n_train
            && id != Self::INPUT
            && !self.untrusted_mark
        {
            self.solutions.push(id);
        }
        self.nodes.push(Node {
            vals,
            expr,
            cost,
            depth,
            partial,
            exact,
            from_library: self.library_mark,
            trusted: !self.untrusted_mark,
        });
        self.by_value.entry(h).or_default().push(id);
        id
    }

    /// Applies `prim` to `args` on every input and returns the node of the result, or `None`
    /// when the result is empty on some input (nothing to build on), when the arguments do not
    /// type-check, or when a limit has stopped the search.
    pub fn apply(&mut self, prim: Prim, args: &[SArg], depth: u8) -> Option<u32> {
        let d = prim.def();
        if args.len() != d.args.len() || !self.check_limits() {
            return None;
        }
        let mut key = [u64::MAX; 5];
        key[0] = u64::from(prim.0);
        for (slot, a) in key[1..].iter_mut().zip(args) {
            *slot = match a {
                SArg::Node(n) => u64::from(*n),
                SArg::Lit(v) => v.hash64() | (1 << 63),
            };
        }
        let key = MemoKey(key);
        // The memo first: only applications that type-checked are stored, so a hit needs no
        // type check (which reads every argument node's values, two cache misses apiece).
        if let Some(hit) = self.memo.get(&key) {
            return *hit;
        }
        for (a, &t) in args.iter().zip(d.args) {
            let ty = match a {
                SArg::Node(n) => self.nodes.get(*n as usize)?.vals[0].ty(),
                SArg::Lit(v) => v.ty(),
            };
            if ty != t {
                return None;
            }
        }
        let n = self.nodes[0].vals.len();
        let mut vals = Vec::with_capacity(n);
        let mut ok = true;
        for i in 0..n {
            let mut cells = 8u64;
            // Filled by a plain loop: the collected form was an out-of-line `extend` call per
            // input.
            let mut argv: smallvec::SmallVec<[&Value; 4]> = smallvec::SmallVec::new();
            for a in args {
                let v = match a {
                    SArg::Node(id) => &self.nodes[*id as usize].vals[i],
                    SArg::Lit(v) => v,
                };
                cells += match v {
                    Value::Grid(g) => g.area() as u64,
                    Value::Objs(o) => 4 * o.len() as u64,
                    Value::Grids(g) => g.iter().map(|x| x.area() as u64).sum(),
                    _ => 1,
                };
                argv.push(v);
            }
            let out = prim.apply(&argv);
            self.ops += 1;
            cells += match &out {
                Value::Grid(g) => g.area() as u64,
                _ => 4,
            };
            self.work += cells;
            let empty = match &out {
                Value::Grid(g) => g.is_empty(),
                Value::Obj(o) => o.is_empty(),
                Value::Grids(g) => g.is_empty(),
                _ => false,
            };
            if empty {
                ok = false;
                break;
            }
            vals.push(out);
        }
        self.bytes += 64;
        self.peak_bytes = self.peak_bytes.max(self.bytes);
        if !ok {
            self.memo.insert(key, None);
            return None;
        }
        let cost = 1 + args
            .iter()
            .map(|a| match a {
                SArg::Node(id) => self.nodes[*id as usize].cost,
                SArg::Lit(v) => literal_cost(v),
            })
            .sum::<u16>();
        let id = self.insert(
            vals.into_boxed_slice(),
            Expr::Apply {
                prim,
                args: args.to_vec(),
            },
            cost,
            depth,
        );
        self.memo.insert(key, Some(id));
        Some(id)
    }

    /// Evaluates a program's lines in the space (so they share nodes with everything else);
    /// the output node, or `None` when a line had an empty result.
    pub fn run_program(&mut self, p: &Program) -> Option<u32> {
        let mut ids: Vec<u32> = Vec::with_capacity(p.len());
        for line in p.lines() {
            let args: Vec<SArg> = line
                .args
                .iter()
                .map(|a| match a {
                    Arg::Input => SArg::Node(Self::INPUT),
                    Arg::Line(j) => SArg::Node(ids[*j]),
                    Arg::Lit(v) => SArg::Lit(v.clone()),
                })
                .collect();
            ids.push(self.apply(line.prim, &args, 1)?);
        }
        ids.last().copied()
    }

    /// The straight-line program that computes node `id` from the input.
    pub fn program(&self, id: u32) -> Program {
        let mut needed = vec![false; self.nodes.len()];
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if needed[n as usize] {
                continue;
            }
            needed[n as usize] = true;
            if let Expr::Apply { args, .. } = &self.nodes[n as usize].expr {
                for a in args {
                    if let SArg::Node(m) = a {
                        stack.push(*m);
                    }
                }
            }
        }
        let mut line_of = vec![usize::MAX; self.nodes.len()];
        let mut lines = Vec::new();
        for (i, need) in needed.iter().enumerate() {
            if !need {
                continue;
            }
            if let Expr::Apply { prim, args } = &self.nodes[i].expr {
                let args = args
                    .iter()
                    .map(|a| match a {
                        SArg::Node(0) => Arg::Input,
                        SArg::Node(m) => Arg::Line(line_of[*m as usize]),
                        SArg::Lit(v) => Arg::Lit(v.clone()),
                    })
                    .collect();
                line_of[i] = lines.len();
                lines.push(Line { prim: *prim, args });
            }
        }
        if lines.is_empty() {
            lines.push(Line {
                prim: Prim::IDENTITY,
                args: vec![Arg::Input],
            });
        }
        Program::new(lines).unwrap_or_else(|e| {
            debug_assert!(false, "node {id} gave an ill-typed program: {e}");
            Program::new(vec![Line {
                prim: Prim::IDENTITY,
                args: vec![Arg::Input],
            }])
            .expect("the identity program type-checks")
        })
    }
}

/// The simplicity cost of a literal: learned tables cost by their size (a colour map one line
/// per two substitutions, a local rule two lines plus one per four entries), so that a
/// learned table never looks simpler than a short program; other literals cost nothing.
fn literal_cost(v: &Value) -> u16 {
    match v {
        Value::Map(m) => (0..10)
            .filter(|&c| usize::from(m.0[c]) != c)
            .count()
            .div_ceil(2) as u16,
        Value::Rule(r) => 2 + (r.table.len() / 4).min(1000) as u16,
        _ => 0,
    }
}

/// Partial credit of `got` against `want`: 0.5 plus half the share of equal cells when the
/// shapes agree; otherwise a quarter of the overlap of their colour sets.
pub fn partial_credit(got: &Grid, want: &Grid) -> f32 {
    if got.shape() == want.shape() {
        // Summed as 0/1 bytes per cell (which vectorises), not counted through a filter.
        let same: usize = got
            .cells()
            .iter()
            .zip(want.cells())
            .map(|(a, b)| usize::from(a == b))
            .sum();
        0.5 + 0.5 * same as f32 / want.area().max(1) as f32
    } else {
        let (a, b) = (got.colour_mask(), want.colour_mask());
        0.25 * (a & b).count_ones() as f32 / (a | b).count_ones().max(1) as f32
    }
}

/// What a task's colours (and its outputs' shape) allow as literal arguments.
#[derive(Debug, Clone)]
pub struct TaskColours {
    /// The shape every demonstration output shares, if they share one.
    pub out_shape: Option<(usize, usize)>,
    /// Colours of the inputs (demonstrations and tests).
    pub input: Vec<u8>,
    /// Colours of the demonstration outputs.
    pub output: Vec<u8>,
    /// Both.
    pub all: Vec<u8>,
}

impl TaskColours {
    /// The colours of `task` (test outputs never read).
    pub fn of(task: &Task) -> Self {
        let mask = |gs: &mut dyn Iterator<Item = &Grid>| gs.fold(0u16, |m, g| m | g.colour_mask());
        let inp = mask(
            &mut task
                .train
                .iter()
                .map(|p| &p.input)
                .chain(task.test.iter().map(|t| &t.input)),
        );
        let out = mask(&mut task.train.iter().map(|p| &p.output));
        let list = |m: u16| (0..10u8).filter(|c| m & (1 << c) != 0).collect::<Vec<u8>>();
        let first = task.train.first().map(|p| p.output.shape());
        let out_shape = first.filter(|&s| task.train.iter().all(|p| p.output.shape() == s));
        Self {
            out_shape,
            input: list(inp),
            output: list(out),
            all: list(inp | out),
        }
    }
}

/// A fragment argument: the hole, an earlier fragment line, or a literal.
#[derive(Debug, Clone)]
pub enum FArg {
    /// The grid the fragment transforms.
    Hole,
    /// An earlier line of the fragment.
    Prev(usize),
    /// A literal.
    Lit(Value),
}

/// A grid-to-grid transform made of a few DSL lines with one hole.
#[derive(Debug, Clone)]
pub struct Fragment {
    lines: Vec<(Prim, Vec<FArg>)>,
}

impl Fragment {
    fn one(name: &str, lits: Vec<Value>) -> Self {
        let mut args = vec![FArg::Hole];
        args.extend(lits.into_iter().map(FArg::Lit));
        Self {
            lines: vec![(p(name), args)],
        }
    }

    /// Applies the fragment to node `x`; the result node.
    pub fn apply(&self, space: &mut Space, x: u32, depth: u8) -> Option<u32> {
        let mut ids: smallvec::SmallVec<[u32; 8]> = smallvec::SmallVec::new();
        // One argument buffer refilled for every line: collecting a fresh one per line and
        // moving it into place cost a visible share of the search (most lines are memo hits).
        let mut sargs: smallvec::SmallVec<[SArg; 4]> = smallvec::SmallVec::new();
        for (prim, args) in &self.lines {
            sargs.clear();
            sargs.extend(args.iter().map(|a| match a {
                FArg::Hole => SArg::Node(x),
                FArg::Prev(k) => SArg::Node(ids[*k]),
                FArg::Lit(v) => SArg::Lit(v.clone()),
            }));
            ids.push(space.apply(*prim, &sargs, depth)?);
        }
        ids.last().copied()
    }
}

fn p(name: &str) -> Prim {
    Prim::by_name(name).unwrap_or(Prim::IDENTITY)
}

fn c(v: u8) -> Value {
    Value::Colour(v)
}

fn i(v: i32) -> Value {
    Value::Int(v)
}

/// Builds fragments from a compact line list: `("prim", [args])` with `H` the hole, `P(k)` an
/// earlier line and literals.
macro_rules! frag {
    ($(($name:expr, [$($a:expr),*])),+ $(,)?) => {
        Fragment { lines: vec![$((p($name), vec![$($a),*])),+] }
    };
}

const H: FArg = FArg::Hole;
#[allow(non_snake_case)]
fn P(k: usize) -> FArg {
    FArg::Prev(k)
}
#[allow(non_snake_case)]
fn L(v: Value) -> FArg {
    FArg::Lit(v)
}

const CONNS: [(bool, bool); 3] = [(true, false), (true, true), (false, true)];

/// The core transform fragments for a task with these colours: one-line geometric
/// transforms, crops, scalings and tilings, which every node of a depth meets before any node
/// meets the others ([`more_fragments`]).
pub fn core_fragments(colours: &TaskColours) -> Vec<Fragment> {
    let mut f = Vec::new();
    for name in [
        "rot90",
        "rot180",
        "rot270",
        "flip_h",
        "flip_v",
        "transpose",
        "antitranspose",
        "trim",
        "crop_nonzero",
        "compress",
        "top_half",
        "bottom_half",
        "left_half",
        "right_half",
        "shrink",
        "connect",
        "dedup",
        "unrepeat",
    ] {
        f.push(Fragment::one(name, vec![]));
    }
    for k in [2, 3, 4] {
        f.push(Fragment::one("upscale", vec![i(k)]));
    }
    for k in [2, 3] {
        f.push(Fragment::one("downscale", vec![i(k)]));
        f.push(Fragment::one("downscale_fg", vec![i(k)]));
    }
    if let Some((h, w)) = colours.out_shape {
        f.push(Fragment::one("top_left", vec![i(h as i32), i(w as i32)]));
    }
    f.push(Fragment::one("hupscale", vec![i(2)]));
    f.push(Fragment::one("vupscale", vec![i(2)]));
    for (a, b) in [(1, 2), (2, 1), (2, 2), (3, 3), (1, 3), (3, 1)] {
        f.push(Fragment::one("tile", vec![i(a), i(b)]));
    }
    f
}

/// The transform fragments after the core: colours, objects, splits and multi-line
/// transforms, cheapest and most common first.
pub fn more_fragments(colours: &TaskColours) -> Vec<Fragment> {
    let mut f = Vec::new();
    f.push(frag!(("kronecker", [H, H])));
    // A copy of the grid for each cell of its most frequent colour, or of one colour.
    f.push(frag!(
        ("most_colour", [H]),
        ("filter_colour", [H, P(0)]),
        ("kronecker", [P(1), H])
    ));
    for &col in &colours.input {
        f.push(frag!(
            ("filter_colour", [H, L(c(col))]),
            ("kronecker", [P(0), H])
        ));
    }
    // Quarter-turn tilings: the grid and its turns in a 2 x 2 block.
    for turn in ["rot90", "rot270"] {
        f.push(frag!(
            (turn, [H]),
            ("hconcat", [H, P(0)]),
            ("rot180", [P(1)]),
            ("vconcat", [P(1), P(2)])
        ));
    }
    f.push(frag!(("flip_h", [H]), ("hconcat", [H, P(0)])));
    f.push(frag!(("flip_v", [H]), ("vconcat", [H, P(0)])));
    f.push(frag!(("flip_h", [H]), ("hconcat", [P(0), H])));
    f.push(frag!(("flip_v", [H]), ("vconcat", [P(0), H])));
    f.push(frag!(
        ("flip_h", [H]),
        ("hconcat", [H, P(0)]),
        ("flip_v", [P(1)]),
        ("vconcat", [P(1), P(2)])
    ));
    for d in 0..4 {
        f.push(Fragment::one("gravity", vec![i(d)]));
        f.push(Fragment::one("slide_objs", vec![i(d)]));
    }
    for d in 0..7 {
        f.push(Fragment::one("smear", vec![i(d)]));
    }
    for k in 0..5 {
        f.push(Fragment::one("symmetrize", vec![i(k)]));
    }
    for k in [1, 2] {
        f.push(Fragment::one("denoise", vec![i(k)]));
    }
    f.push(Fragment::one("colour_all", vec![c(0)]));
    for &col in &colours.output {
        for name in [
            "fill_enclosed",
            "outline",
            "outline4",
            "fill_bbox",
            "colour_all",
            "pad",
            "frame",
        ] {
            f.push(Fragment::one(name, vec![c(col)]));
        }
    }
    // Colours exchanged or merged by their frequency in the grid itself.
    f.push(frag!(
        ("most_colour", [H]),
        ("least_colour", [H]),
        ("swap", [H, P(0), P(1)])
    ));
    f.push(frag!(
        ("main_colour", [H]),
        ("least_colour", [H]),
        ("replace", [H, P(0), P(1)])
    ));
    f.push(frag!(
        ("least_colour", [H]),
        ("main_colour", [H]),
        ("replace", [H, P(0), P(1)])
    ));
    // Outlines, in a colour the inputs do not show, around the cells of one colour only.
    for &col in &colours.input {
        for &out in colours.output.iter().filter(|o| !colours.input.contains(o)) {
            for name in ["outline", "outline4"] {
                f.push(frag!(
                    ("filter_colour", [H, L(c(col))]),
                    (name, [P(0), L(c(out))]),
                    ("overlay", [P(1), H])
                ));
            }
        }
    }
    // The patch under a hole, restored from the grid's symmetry or period.
    for &col in &colours.input {
        for fill in ["fill_sym", "complete_pattern"] {
            f.push(frag!(
                ("colour_cells", [H, L(c(col))]),
                (fill, [H, L(c(col))]),
                ("subgrid", [P(0), P(1)])
            ));
        }
    }
    for &col in &colours.input {
        for name in [
            "filter_colour",
            "erase_colour",
            "crop_colour",
            "fill_sym",
            "complete_pattern",
        ] {
            f.push(Fragment::one(name, vec![c(col)]));
        }
    }
    for &a in &colours.input {
        for &b in &colours.output {
            if a != b {
                f.push(Fragment::one("replace", vec![c(a), c(b)]));
            }
            if a < b && colours.input.contains(&b) && colours.output.contains(&a) {
                f.push(Fragment::one("swap", vec![c(a), c(b)]));
            }
        }
    }
    // Objects: crop, keep, remove or recolour the extreme one.
    let keys = [
        ObjKey::Size,
        ObjKey::Area,
        ObjKey::Colours,
        ObjKey::Gaps,
        ObjKey::Height,
        ObjKey::Width,
    ];
    for (uni, diag) in CONNS {
        // Fragments that start from the hole's objects (line 0) and go on with `rest`.
        let with_objects = |rest: Vec<(&str, Vec<FArg>)>| {
            let mut lines = vec![(
                p("objects"),
                vec![
                    H,
                    L(Value::Bool(uni)),
                    L(Value::Bool(diag)),
                    L(Value::Bool(true)),
                ],
            )];
            lines.extend(rest.into_iter().map(|(name, args)| (p(name), args)));
            Fragment { lines }
        };
        let key_lit = |k: ObjKey| L(Value::ObjKey(k));
        for key in keys {
            for pick in ["argmax", "argmin"] {
                f.push(with_objects(vec![
                    (pick, vec![P(0), key_lit(key)]),
                    ("subgrid", vec![P(1), H]),
                ]));
            }
        }
        for key in [ObjKey::Size, ObjKey::Colour, ObjKey::Area] {
            f.push(with_objects(vec![
                ("unique_by", vec![P(0), key_lit(key)]),
                ("merge", vec![P(1)]),
                ("subgrid", vec![P(2), H]),
            ]));
        }
        for key in [ObjKey::Size, ObjKey::Area] {
            for pick in ["argmax", "argmin"] {
                f.push(with_objects(vec![
                    (pick, vec![P(0), key_lit(key)]),
                    ("cover", vec![H, P(1)]),
                ]));
                f.push(with_objects(vec![
                    (pick, vec![P(0), key_lit(key)]),
                    ("most_colour", vec![H]),
                    ("height", vec![H]),
                    ("width", vec![H]),
                    ("canvas", vec![P(2), P(3), P(4)]),
                    ("paint", vec![P(5), P(1)]),
                ]));
                for &col in &colours.output {
                    f.push(with_objects(vec![
                        (pick, vec![P(0), key_lit(key)]),
                        ("recolour", vec![P(1), L(c(col))]),
                        ("paint", vec![H, P(2)]),
                    ]));
                }
            }
        }
    }
    // Splits with selectors.
    let mut splits: Vec<Vec<(Prim, Vec<FArg>)>> = vec![
        vec![(p("split_lines"), vec![H])],
        vec![(p("halves"), vec![H])],
        vec![(p("hsplit"), vec![H, L(i(2))])],
        vec![(p("vsplit"), vec![H, L(i(2))])],
        vec![(p("hsplit"), vec![H, L(i(3))])],
        vec![(p("vsplit"), vec![H, L(i(3))])],
    ];
    for (uni, diag) in CONNS {
        splits.push(vec![
            (
                p("objects"),
                vec![
                    H,
                    L(Value::Bool(uni)),
                    L(Value::Bool(diag)),
                    L(Value::Bool(true)),
                ],
            ),
            (p("obj_grids"), vec![P(0), H]),
        ]);
    }
    splits.push(vec![
        (p("fg_partition"), vec![H]),
        (p("obj_grids"), vec![P(0), H]),
    ]);
    for (si, split) in splits.iter().enumerate() {
        let k = split.len();
        let mut sel = |line: (Prim, Vec<FArg>)| {
            let mut lines = split.clone();
            lines.push(line);
            f.push(Fragment { lines });
        };
        for key in GridKey::ALL {
            sel((p("pick_max"), vec![P(k - 1), L(Value::GridKey(key))]));
            sel((p("pick_min"), vec![P(k - 1), L(Value::GridKey(key))]));
        }
        for name in ["pick_unique", "pick_common", "overlay_all", "majority"] {
            sel((p(name), vec![P(k - 1)]));
        }
        sel((p("nth"), vec![P(k - 1), L(i(0))]));
        sel((p("nth"), vec![P(k - 1), L(i(-1))]));
        // Two-piece splits: cell-wise logic of the first two pieces, and one piece laid
        // out as the other's cells say (mask: the piece with fewer colours).
        if si < 4 {
            let mut lines = split.clone();
            lines.push((
                p("pick_min"),
                vec![P(k - 1), L(Value::GridKey(GridKey::Colours))],
            ));
            lines.push((
                p("pick_max"),
                vec![P(k - 1), L(Value::GridKey(GridKey::Colours))],
            ));
            lines.push((p("kronecker"), vec![P(k), P(k + 1)]));
            f.push(Fragment { lines });
            for &col in &colours.output {
                for op in ["cell_and", "cell_or", "cell_xor", "cell_nor", "cell_diff"] {
                    let mut lines = split.clone();
                    lines.push((p("nth"), vec![P(k - 1), L(i(0))]));
                    lines.push((p("nth"), vec![P(k - 1), L(i(1))]));
                    lines.push((p(op), vec![P(k), P(k + 1), L(c(col))]));
                    f.push(Fragment { lines });
                }
            }
        }
    }
    f
}

/// Type-directed enumeration from the input: typed values (sizes, colours, counts, objects,
/// pieces) merged by value, then grids built from them. Returns the grid nodes made.
pub fn enumerate(space: &mut Space, colours: &TaskColours) -> Vec<u32> {
    let x = SArg::Node(Space::INPUT);
    let mut pools: FxHashMap<Type, Vec<u32>> = FxHashMap::default();
    let add = |space: &Space, pools: &mut FxHashMap<Type, Vec<u32>>, id: Option<u32>| {
        if let Some(id) = id {
            let ty = space.nodes[id as usize].vals[0].ty();
            let v = pools.entry(ty).or_default();
            if !v.contains(&id) {
                v.push(id);
            }
        }
    };
    // Round 1: properties of the input.
    for name in [
        "height",
        "width",
        "colour_count",
        "most_colour",
        "least_colour",
        "main_colour",
        "fg_partition",
        "split_lines",
        "count_nonzero",
    ] {
        let id = space.apply(p(name), std::slice::from_ref(&x), 0);
        add(space, &mut pools, id);
    }
    for &col in &colours.input {
        let id = space.apply(p("count_colour"), &[x.clone(), SArg::Lit(c(col))], 0);
        add(space, &mut pools, id);
        let id = space.apply(p("colour_cells"), &[x.clone(), SArg::Lit(c(col))], 0);
        add(space, &mut pools, id);
    }
    for (uni, diag) in CONNS {
        let b = |v| SArg::Lit(Value::Bool(v));
        let id = space.apply(p("objects"), &[x.clone(), b(uni), b(diag), b(true)], 0);
        add(space, &mut pools, id);
    }
    // Round 2: what the first round's lists hold.
    let objs = pools.get(&Type::Objs).cloned().unwrap_or_default();
    for &o in &objs {
        let on = SArg::Node(o);
        let id = space.apply(p("count"), std::slice::from_ref(&on), 0);
        add(space, &mut pools, id);
        for key in [ObjKey::Size, ObjKey::Area, ObjKey::Colours] {
            for pick in ["argmax", "argmin"] {
                let id = space.apply(p(pick), &[on.clone(), SArg::Lit(Value::ObjKey(key))], 0);
                add(space, &mut pools, id);
            }
        }
        let id = space.apply(p("obj_shapes"), std::slice::from_ref(&on), 0);
        add(space, &mut pools, id);
    }
    for &g in &pools.get(&Type::Grids).cloned().unwrap_or_default() {
        let id = space.apply(p("count_grids"), &[SArg::Node(g)], 0);
        add(space, &mut pools, id);
    }
    for &o in &pools.get(&Type::Obj).cloned().unwrap_or_default() {
        let id = space.apply(p("obj_colour"), &[SArg::Node(o)], 0);
        add(space, &mut pools, id);
        for key in [ObjKey::Size, ObjKey::Height, ObjKey::Width] {
            let id = space.apply(
                p("key_of"),
                &[SArg::Node(o), SArg::Lit(Value::ObjKey(key))],
                0,
            );
            add(space, &mut pools, id);
        }
    }
    // Round 3: grids built from typed values.
    let mut grids = Vec::new();
    let ints: Vec<SArg> = pools
        .get(&Type::Int)
        .into_iter()
        .flatten()
        .map(|&n| SArg::Node(n))
        .chain([1, 2, 3].map(|v| SArg::Lit(i(v))))
        .collect();
    let cols: Vec<SArg> = pools
        .get(&Type::Colour)
        .into_iter()
        .flatten()
        .map(|&n| SArg::Node(n))
        .chain(colours.output.iter().map(|&v| SArg::Lit(c(v))))
        .collect();
    for col in &cols {
        for h in &ints {
            for w in &ints {
                if let Some(g) = space.apply(p("canvas"), &[col.clone(), h.clone(), w.clone()], 0) {
                    grids.push(g);
                }
            }
        }
    }
    for k in &ints {
        for name in ["upscale", "downscale", "hupscale", "vupscale"] {
            grids.extend(space.apply(p(name), &[x.clone(), k.clone()], 0));
        }
        for k2 in &ints {
            grids.extend(space.apply(p("tile"), &[x.clone(), k.clone(), k2.clone()], 0));
        }
    }
    for &o in &pools.get(&Type::Obj).cloned().unwrap_or_default() {
        grids.extend(space.apply(p("subgrid"), &[SArg::Node(o), x.clone()], 0));
        grids.extend(space.apply(p("obj_grid"), &[SArg::Node(o)], 0));
        grids.extend(space.apply(p("cover"), &[x.clone(), SArg::Node(o)], 0));
        for col in &cols {
            if let Some(r) = space.apply(p("recolour"), &[SArg::Node(o), col.clone()], 0) {
                grids.extend(space.apply(p("paint"), &[x.clone(), SArg::Node(r)], 0));
            }
        }
    }
    for col in &cols {
        grids.extend(space.apply(p("crop_colour"), &[x.clone(), col.clone()], 0));
        grids.extend(space.apply(p("filter_colour"), &[x.clone(), col.clone()], 0));
        for col2 in &cols {
            grids.extend(space.apply(p("replace"), &[x.clone(), col.clone(), col2.clone()], 0));
        }
    }
    grids.sort_unstable();
    grids.dedup();
    grids
}

/// The search's outcome on one task.
#[derive(Debug, Clone)]
pub struct Found {
    /// Candidate grid nodes, best first (see [`crate::score::rank`]).
    pub ranked: Vec<u32>,
    /// Why the search stopped.
    pub status: Status,
}

/// Runs every stage on `space` (see the [module docs](self)).
pub fn search(space: &mut Space, task: &Task, cfg: &SearchConfig, library: &Library) -> Found {
    let colours = TaskColours::of(task);
    // 1. Library (leave-one-out).
    let lib_programs = library.for_task(task.fingerprint());
    space.library_mark = true;
    let mut lib_nodes: Vec<(u32, usize)> = Vec::new();
    for (k, prog) in lib_programs.iter().enumerate() {
        if let Some(id) = space.run_program(prog) {
            lib_nodes.push((id, k));
        }
    }
    space.library_mark = false;
    // The search stages keep a fifth of the budget for assembly.
    space.limit_stage(0.8);
    // 2. Enumeration.
    let enumerated = enumerate(space, &colours);
    // 3. Transform search, best-first within each depth.
    let core = core_fragments(&colours);
    let more = more_fragments(&colours);
    let mut frontier: Vec<u32> = vec![Space::INPUT];
    // Enumerated grids join the frontier only when they already have the outputs' shapes
    // (the others stay candidates): most are canvases and crops of arbitrary sizes.
    let n_train = space.n_train;
    frontier.extend(enumerated.iter().copied().filter(|&g| {
        let vals = &space.nodes[g as usize].vals;
        vals[0].ty() == Type::Grid
            && vals[..n_train]
                .iter()
                .zip(&space.outputs)
                .all(|(v, o)| v.grid().shape() == o.shape())
    }));
    // Nodes made before this stage (by the library or the enumeration) that a transform
    // reaches join the next frontier once, as new nodes do: a state the library happened to
    // compute first is still a state of the transform search.
    let first_search_node = space.nodes.len();
    let mut queued: rustc_hash::FxHashSet<u32> = frontier.iter().copied().collect();
    let mut found_at_depth = None;
    'depths: for depth in 1..=cfg.max_depth as u8 {
        if space.stopped().is_some() {
            break;
        }
        frontier.sort_by(|&a, &b| {
            let (na, nb) = (&space.nodes[a as usize], &space.nodes[b as usize]);
            nb.partial.total_cmp(&na.partial).then(a.cmp(&b))
        });
        let mut next = Vec::new();
        // The core fragments on every node first, then the rest: a budget that ends within
        // a depth has tried the common one-line transforms everywhere.
        for (x, fr) in frontier
            .iter()
            .flat_map(|&x| core.iter().map(move |fr| (x, fr)))
            .chain(
                frontier
                    .iter()
                    .flat_map(|&x| more.iter().map(move |fr| (x, fr))),
            )
        {
            let before = space.nodes.len();
            if let Some(id) = fr.apply(space, x, depth)
                && (id as usize >= before || (id as usize) < first_search_node && queued.insert(id))
                && space.nodes[id as usize].vals[0].ty() == Type::Grid
            {
                next.push(id);
            }
            if space.stopped().is_some() {
                break 'depths;
            }
        }
        if !space.solutions().is_empty() && found_at_depth.is_none() {
            found_at_depth = Some(depth);
        }
        // A solution at this depth: one more level would mostly find longer equivalents.
        if found_at_depth.is_some() {
            break;
        }
        frontier = next;
    }
    // 4. Mutants of the library programs that came closest.
    if space.stopped().is_none() && !lib_nodes.is_empty() && space.solutions().is_empty() {
        lib_nodes.sort_by(|a, b| {
            space.nodes[b.0 as usize]
                .partial
                .total_cmp(&space.nodes[a.0 as usize].partial)
                .then(a.1.cmp(&b.1))
        });
        space.library_mark = true;
        for &(_, k) in lib_nodes.iter().take(20) {
            for m in mutants(&lib_programs[k], &colours.all, cfg.mutants_per_program) {
                space.run_program(&m);
                if space.stopped().is_some() {
                    break;
                }
            }
        }
        space.library_mark = false;
    }
    // 5. Assembly.
    space.limit_stage(1.0);
    crate::score::assemble(space);
    let status = match space.stopped() {
        Some(s) => s,
        None if space.wall_hit => Status::WallClock,
        None if space.budget_hit() => Status::Budget,
        None => Status::Complete,
    };
    Found {
        ranked: crate::score::rank(space),
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn task(json: &str) -> Task {
        Task::from_json("t", json, Path::new("t.json")).unwrap()
    }

    #[test]
    fn identical_values_are_one_node_and_programs_come_back() {
        let t = task(
            r#"{"train": [{"input": [[1, 2], [3, 4]], "output": [[3, 1], [4, 2]]}],
                         "test": [{"input": [[5, 6], [7, 8]]}]}"#,
        );
        let mut s = Space::new(&t, &SearchConfig::default());
        let a = s.apply(p("rot90"), &[SArg::Node(Space::INPUT)], 1).unwrap();
        let b3 = s
            .apply(p("rot270"), &[SArg::Node(Space::INPUT)], 1)
            .unwrap();
        let b2 = s.apply(p("rot180"), &[SArg::Node(b3)], 2).unwrap();
        assert_eq!(a, b2, "rot180(rot270(x)) is rot90(x): merged");
        assert_eq!(s.solutions(), &[a]);
        assert_eq!(s.program(a).to_string(), "x1 = rot90(I)");
        let nodes = s.nodes().len();
        assert_eq!(s.apply(p("rot90"), &[SArg::Node(Space::INPUT)], 1), Some(a));
        assert_eq!(s.nodes().len(), nodes, "memoised");
        assert_eq!(
            s.apply(p("rot90"), &[SArg::Lit(Value::Int(1))], 1),
            None,
            "type error"
        );
    }

    #[test]
    fn a_tiny_budget_stops_with_a_budget_status() {
        let t = task(
            r#"{"train": [{"input": [[1, 2], [3, 4]], "output": [[9]]}],
                         "test": [{"input": [[5, 6], [7, 8]]}]}"#,
        );
        let cfg = SearchConfig {
            budget_s: 1e-6,
            ..SearchConfig::default()
        };
        let mut s = Space::new(&t, &cfg);
        let found = search(&mut s, &t, &cfg, &Library::new());
        assert_eq!(found.status, Status::Budget);
    }

    #[test]
    fn a_small_memory_share_stops_with_a_memory_status() {
        let t = task(
            r#"{"train": [{"input": [[1, 2], [3, 4]], "output": [[9]]}],
                         "test": [{"input": [[5, 6], [7, 8]]}]}"#,
        );
        let cfg = SearchConfig {
            budget_s: 100.0,
            memory_mb: 16.0,
            ..SearchConfig::default()
        };
        let mut s = Space::new(&t, &cfg);
        s.byte_limit = 20_000;
        let found = search(&mut s, &t, &cfg, &Library::new());
        assert_eq!(found.status, Status::Memory);
        assert!(s.peak_bytes() >= 20_000);
    }

    #[test]
    fn configurations_are_validated() {
        assert!(SearchConfig::default().validate().is_ok());
        for bad in [
            SearchConfig {
                budget_s: f64::NAN,
                ..SearchConfig::default()
            },
            SearchConfig {
                budget_s: -1.0,
                ..SearchConfig::default()
            },
            SearchConfig {
                max_depth: 0,
                ..SearchConfig::default()
            },
            SearchConfig {
                memory_mb: 1.0,
                ..SearchConfig::default()
            },
            SearchConfig {
                wall_factor: f64::NAN,
                ..SearchConfig::default()
            },
            SearchConfig {
                wall_factor: 0.5,
                ..SearchConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
