//! `par-cli`: what every example binary of the workspace shares, so that each of them treats
//! its user the same way.
//!
//! - [`exit`]: [`exit::main_with`] runs the program body and turns every failure into a message
//!   on standard error with its chain of causes and a non-zero exit code; a closed standard
//!   output (`example | head`) is a quiet exit, and a panic (a bug) is reported as one, in a
//!   sentence, never as a backtrace dump.
//! - [`exec_args`]: the `--mode seq|threads|processes` and `--workers N` flags every example
//!   takes, validated, turned into a [`par_core::ExecConfig`].
//! - [`numbers`]: clap value parsers that check a numeric option when it is parsed (finite, in
//!   range, with the limit in the message).
//! - [`output_files`]: output files and folders checked writable *before* any work starts, and
//!   written atomically (a temporary file in the same folder, then a rename), so a killed run
//!   never leaves a half-written file where a whole one was.
//! - [`run_record`]: the header every result file carries (tool, version, commit, command line,
//!   resolved configuration, seed, inputs with sizes and SHA-256 digests, machine, timings), so
//!   that a result file alone says how to reproduce it.
//! - [`config_file`]: `--config FILE` read as a JSON object with named fields only, errors with
//!   file, line and column.
//! - [`memory`]: refusing a problem size that cannot fit in memory, before allocating it.
//!
//! Examples depend on it as a dev-dependency; libraries never do (their errors are their own
//! typed enums).
//!
//! Conventions for a binary built on it: the clap command sets `allow_negative_numbers = true`
//! (so that `--x -1` reaches the validator and gets a message about the value, not about an
//! unknown argument), every numeric option has a value parser from [`numbers`], every output
//! path is checked with [`output_files::check_writable`] before the first task, and
//! configuration files are JSON objects read with `deny_unknown_fields`.

pub mod config_file;
pub mod exec_args;
pub mod exit;
pub mod memory;
pub mod numbers;
pub mod output_files;
pub mod run_record;

mod error;

pub use error::CliError;
pub use exec_args::{ExecArgs, ModeArg};
pub use exit::main_with;
pub use run_record::{InputFile, RunRecord};
