//! `arc-batt`: an ARC program-search pipeline.
//!
//! The Abstraction and Reasoning Corpus (Chollet 2019, arXiv:1911.01547) asks for the output
//! grid of a test input given a few demonstration pairs. This crate searches for short
//! programs over a typed grid DSL that reproduce every demonstration, and predicts up to three
//! ranked outputs per test input:
//!
//! - [`grid`]: the compact grid (≤ 30 × 30, colours 0–9, cheap to clone and hash);
//! - [`object`]: objects with one canonical order, connected components;
//! - [`prims`] and [`dsl`]: the typed primitives (after Hodel's ARC DSL, 2023, and the image
//!   transforms of icecuber's 2020 winning search);
//! - [`program`]: straight-line typed programs with a round-tripping text form, an evaluator
//!   and a merged evaluator that shares identical sub-expressions across many programs;
//! - [`task`]: reading task files with typed errors.

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
