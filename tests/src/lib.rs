#![doc = include_str!("../../README.md")]
//!
//! ---
//!
//! This crate holds the workspace's cross-crate integration tests (in `tests/tests/`): the
//! bad-input suite that runs every example binary against a corpus of bad inputs
//! (`bad_inputs.rs`, with the harness in [`examples`]). Its documentation is the workspace
//! README, so the README's Rust examples run as doc tests.

pub mod examples;
