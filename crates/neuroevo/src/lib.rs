//! Neuroevolution: evolve the weights of fixed-topology neural-network controllers (and points
//! of benchmark functions) with a GA, CoSyNE or CMA-ES.
pub mod error;
pub mod files;
pub mod network;
pub mod task;

pub use error::NeuroError;
pub mod evolution;
pub mod optimiser;
pub use evolution::{
    Checkpoint, Evolution, GenerationRecord, RunConfig, RunState, Solution, Status,
};
pub mod hyper;
pub mod islands;
