//! `arc-batt`: an ARC program-search pipeline.
//!
//! The Abstraction and Reasoning Corpus (Chollet 2019, arXiv:1911.01547) asks for the output
//! grid of a test input given a few demonstration pairs. This crate searches for short
//! programs over a typed grid DSL that reproduce every demonstration, and predicts up to three
//! ranked outputs per test input:
//!
//! - [`grid`]: the compact grid (≤ 30 × 30, colours 0–9, shared buffer, cached hash);
//! - [`object`]: objects with one canonical order, connected components;
//! - [`prims`] and [`dsl`]: the typed primitives (after Hodel's ARC DSL, 2023, and the image
//!   transforms of icecuber's 2020 winning search), every one total (a safe empty result
//!   instead of a panic), with learned literals (colour maps, cell-wise rules);
//! - [`program`]: straight-line typed programs with a round-tripping text form, an evaluator
//!   and a merged evaluator that shares identical sub-expressions across many programs;
//! - [`search`]: one value space per task (every value on every input, merged by value),
//!   a stored-program [`library`] (leave-one-out), type-directed enumeration, a best-first
//!   depth-limited transform search and library mutation, all within a deterministic work
//!   budget and a memory bound;
//! - [`score`]: ranking (demonstrations solved, partial credit, simplicity), colour-map,
//!   rule and piece assembly, predictions;
//! - [`pipeline`]: many tasks through par-core, results identical for any worker count,
//!   optionally with a budget shared between tasks; counts with 2 and 3 attempts;
//! - [`task`]: reading task files with typed errors that name the file and the grid.
//!
//! The `solve` example runs the pipeline on task files and writes a Kaggle submission and a
//! self-describing report; the `arc-batt` bench scenario measures tasks solved, speed and
//! where parallelism pays. Test outputs are used only to count what was solved.
//!
//! ```
//! use arc_batt::library::Library;
//! use arc_batt::pipeline::solve_task;
//! use arc_batt::search::SearchConfig;
//! use arc_batt::Task;
//!
//! let task = Task::from_json(
//!     "mirror",
//!     r#"{"train": [{"input": [[1, 2, 0]], "output": [[0, 2, 1]]},
//!                   {"input": [[3, 0], [4, 5]], "output": [[0, 3], [5, 4]]}],
//!         "test": [{"input": [[6, 7]]}]}"#,
//!     std::path::Path::new("mirror.json"),
//! )?;
//! let result = solve_task(&task, &SearchConfig::default(), &Library::new());
//! assert!(result.fits_demos);
//! assert_eq!(result.predictions[0][0].to_rows(), vec![vec![7u8, 6]]);
//! # Ok::<(), arc_batt::ArcError>(())
//! ```

pub mod dsl;
mod error;
pub mod grid;
pub mod library;
pub mod object;
pub mod pipeline;
pub mod prims;
pub mod program;
pub mod score;
pub mod search;
pub mod task;

pub use error::ArcError;
pub use grid::{Grid, GridBuf, GridError};
pub use object::Object;
pub use task::Task;
