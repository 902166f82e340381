#![doc = include_str!("../../README.md")]
//!
//! ---
//!
//! This crate holds the workspace's cross-crate integration tests (in `tests/tests/`). Its
//! documentation is the workspace README, so the README's Rust examples run as doc tests.
