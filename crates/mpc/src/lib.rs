//! A tinyphysics-compatible lateral-control simulator over ONNX Runtime, with controllers.
//!
//! The simulator reproduces the official comma.ai Controls Challenge simulator
//! (`tinyphysics.py`) bit for bit: the context window of 20 steps, the 1024-bin tokenizer over
//! [-5, 5], soft-max sampling at temperature 0.8 from numpy's legacy MT19937 generator seeded by
//! the MD5 rule, the warm-up with logged steering, clipping, the ±0.5 m/s² change limit, and the
//! costs over the window 100..500.
//!
//! - [`segment`]: loading the CSV segments (typed errors naming file and line).
//! - [`simulator`]: the closed loop ([`simulator::Simulator::rollout`]).
//! - [`model`]: the [`model::DynamicsModel`] trait (batched last-position logits) and the
//!   official soft-max; [`onnx`]: its ONNX Runtime implementation, with interface checks;
//!   [`native`]: a native implementation of the tinyphysics transformer with prefix-shared
//!   batched rollouts (weights read from the ONNX file by [`protobuf`]).
//! - [`controller`]: the [`controller::Controller`] trait, the `zero` and reference `pid`
//!   controllers.
//! - [`mt19937`], [`seed`], [`tokenizer`], [`pairwise_sum`]: the exact numerics of the official
//!   simulator (numpy's `RandomState`, `choice`, `linspace`, `digitize` and pairwise sums).
//! - [`cem`]: the batched random-shooting / cross-entropy MPC controller
//!   ([`cem::MpcController`]).
//! - [`cost`]: `lataccel_cost`, `jerk_cost`, `total_cost`.
//! - [`eval`]: a controller on many segments, segments in parallel through `par-core`.
//! - [`fixture`]: the project's stand-in model and a seeded generator of synthetic segments.
//!
//! ONNX Runtime is loaded at run time (`ort` with `load-dynamic`) from `ORT_DYLIB_PATH` or from
//! `<workspace>/.ort/lib/`, where `cargo xtask setup` puts it.
//!
//! Reference: comma.ai, *Controls Challenge* (github.com/commaai/controls_challenge).
//!
//! # Example
//!
//! ```no_run
//! use mpc::{OrtModel, OrtOptions, PidController, Segment, SimOptions, Simulator};
//!
//! # fn main() -> Result<(), mpc::MpcError> {
//! let model = OrtModel::load(mpc::fixture::fixture_model_path(), OrtOptions::official())?;
//! let mut sim = Simulator::new(model);
//! let segment = Segment::load("data/00000.csv")?;
//! // The seed key defaults to "data/00000.csv", as in the official batch evaluation.
//! let rollout = sim.rollout(&segment, &mut PidController::default(), &SimOptions::default())?;
//! println!("total cost {:.3}", rollout.costs.total_cost);
//! # Ok(())
//! # }
//! ```

pub mod cem;
pub mod controller;
pub mod cost;
pub mod error;
pub mod eval;
pub mod fixture;
pub mod model;
pub mod mt19937;
pub mod native;
pub mod onnx;
pub mod pairwise_sum;
pub mod protobuf;
pub mod seed;
pub mod segment;
pub mod simulator;
pub mod tokenizer;

pub use cem::{MpcConfig, MpcController};
pub use controller::{Controller, PidController, ZeroController};
pub use cost::Costs;
pub use error::{MpcError, OrtLibraryError};
pub use model::DynamicsModel;
pub use native::NativeModel;
pub use onnx::{OrtModel, OrtOptions};
pub use segment::Segment;
pub use simulator::{Rollout, SeedKey, SimOptions, Simulator};
