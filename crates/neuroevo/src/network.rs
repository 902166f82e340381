//! Fixed-topology multilayer perceptrons: the genome is the weight vector.
//!
//! Every neuron computes `tanh(bias + sum of weighted inputs)`, hidden and output layers alike,
//! so outputs lie in `[-1, 1]` and tasks scale them (a force of `10 N x output`). With
//! `recurrent: true` the first layer after the inputs (the output layer when there is no hidden
//! layer) also receives its own activations of the previous step (an Elman network, Elman
//! 1990): the memory a controller needs when the task hides velocities.
//!
//! # Weight layout
//!
//! Layer by layer; within a layer neuron by neuron; for each neuron the weights of its inputs
//! (previous layer, then its layer's previous activations when recurrent), then its bias. A
//! network with `i` inputs, hidden sizes `h1, h2` and `o` outputs has
//! `(i + 1) h1 + (h1 + 1) h2 + (h2 + 1) o` weights, plus `h1²` when recurrent.
//!
//! # No allocation in the loop
//!
//! [`Mlp::forward`] works in an [`MlpScratch`] made once per episode ([`Mlp::scratch`]) and
//! allocates nothing (the crate's `no_allocation` test counts).

use serde::{Deserialize, Serialize};

use crate::NeuroError;

/// The shape of a controller network, as configured (inputs and outputs come from the task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Sizes of the hidden layers (tanh), in order; empty for a single-layer network.
    pub hidden: Vec<usize>,
    /// Whether the first non-input layer is recurrent (Elman).
    pub recurrent: bool,
}

impl Default for NetworkConfig {
    /// No hidden layer, feed-forward.
    fn default() -> Self {
        Self {
            hidden: Vec::new(),
            recurrent: false,
        }
    }
}

/// Largest layer width accepted.
pub const MAX_WIDTH: usize = 4096;

/// A fixed-topology MLP: sizes only; the weights are a genome passed to [`Mlp::forward`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mlp {
    /// Layer widths, inputs first, outputs last.
    sizes: Vec<usize>,
    /// Whether layer 1 feeds its previous activations back to itself.
    recurrent: bool,
    /// Total weight count.
    n_weights: usize,
}

/// Working buffers of one network evaluation (see [`Mlp::scratch`]).
#[derive(Debug, Clone)]
pub struct MlpScratch {
    a: Vec<f64>,
    b: Vec<f64>,
    state: Vec<f64>,
}

impl Mlp {
    /// A network with `inputs` inputs, `outputs` outputs and the configured hidden layers.
    pub fn new(inputs: usize, outputs: usize, config: &NetworkConfig) -> Result<Self, NeuroError> {
        if inputs == 0 || inputs > MAX_WIDTH {
            return Err(NeuroError::field(
                "network.inputs",
                format!("must be in 1..={MAX_WIDTH}, got {inputs}"),
            ));
        }
        if outputs == 0 || outputs > MAX_WIDTH {
            return Err(NeuroError::field(
                "network.outputs",
                format!("must be in 1..={MAX_WIDTH}, got {outputs}"),
            ));
        }
        if config.hidden.len() > 16 {
            return Err(NeuroError::field(
                "network.hidden",
                format!("at most 16 hidden layers, got {}", config.hidden.len()),
            ));
        }
        for (i, &h) in config.hidden.iter().enumerate() {
            if h == 0 || h > MAX_WIDTH {
                return Err(NeuroError::field(
                    format!("network.hidden[{i}]"),
                    format!("must be in 1..={MAX_WIDTH}, got {h}"),
                ));
            }
        }
        let mut sizes = vec![inputs];
        sizes.extend(&config.hidden);
        sizes.push(outputs);
        let mut n_weights = 0;
        for (l, w) in sizes.windows(2).enumerate() {
            let rec = if config.recurrent && l == 0 { w[1] } else { 0 };
            n_weights += (w[0] + rec + 1) * w[1];
        }
        Ok(Self {
            sizes,
            recurrent: config.recurrent,
            n_weights,
        })
    }

    /// Number of weights (the genome length).
    pub fn n_weights(&self) -> usize {
        self.n_weights
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// Whether the network has recurrent connections.
    pub fn is_recurrent(&self) -> bool {
        self.recurrent
    }

    /// Buffers for evaluating this network, with the recurrent state at zero.
    pub fn scratch(&self) -> MlpScratch {
        let width = self.sizes.iter().copied().max().unwrap_or(1);
        MlpScratch {
            a: vec![0.0; width],
            b: vec![0.0; width],
            state: vec![0.0; if self.recurrent { self.sizes[1] } else { 0 }],
        }
    }

    /// Sets the recurrent state back to zero (start of an episode).
    pub fn reset(&self, scratch: &mut MlpScratch) {
        scratch.state.fill(0.0);
    }

    /// One forward pass with weights `w` (length [`Mlp::n_weights`]) on `input` (length
    /// [`Mlp::inputs`]); returns the outputs, valid until the next call. Advances the recurrent
    /// state. Allocates nothing.
    ///
    /// # Panics
    /// When `w`, `input` or `scratch` do not fit this network (the tasks check genome lengths
    /// before evaluating).
    pub fn forward<'s>(&self, w: &[f64], input: &[f64], scratch: &'s mut MlpScratch) -> &'s [f64] {
        assert_eq!(w.len(), self.n_weights, "weight count");
        assert_eq!(input.len(), self.sizes[0], "input count");
        let MlpScratch { a, b, state } = scratch;
        a[..input.len()].copy_from_slice(input);
        let mut offset = 0;
        for l in 0..self.sizes.len() - 1 {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let rec = self.recurrent && l == 0;
            let fan = n_in + if rec { n_out } else { 0 } + 1;
            let x = &a[..n_in];
            for (j, out) in b[..n_out].iter_mut().enumerate() {
                let row = &w[offset + j * fan..offset + (j + 1) * fan];
                let mut s = row[fan - 1];
                for (wi, xi) in row[..n_in].iter().zip(x) {
                    s += wi * xi;
                }
                if rec {
                    for (wi, si) in row[n_in..n_in + n_out].iter().zip(state.iter()) {
                        s += wi * si;
                    }
                }
                *out = s.tanh();
            }
            if rec {
                state.copy_from_slice(&b[..n_out]);
            }
            offset += fan * n_out;
            std::mem::swap(a, b);
        }
        &a[..self.outputs()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_counts_follow_the_layout() {
        let m = Mlp::new(6, 1, &NetworkConfig::default()).unwrap();
        assert_eq!(m.n_weights(), 7);
        let cfg = NetworkConfig {
            hidden: vec![5, 3],
            recurrent: true,
        };
        let m = Mlp::new(3, 2, &cfg).unwrap();
        assert_eq!(m.n_weights(), (3 + 5 + 1) * 5 + (5 + 1) * 3 + (3 + 1) * 2);
        assert!(Mlp::new(0, 1, &NetworkConfig::default()).is_err());
        let bad = NetworkConfig {
            hidden: vec![4, 0],
            recurrent: false,
        };
        match Mlp::new(2, 1, &bad) {
            Err(NeuroError::InvalidField { field, .. }) => assert_eq!(field, "network.hidden[1]"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn forward_matches_a_hand_computation() {
        // 2 inputs, one hidden neuron, one output.
        let m = Mlp::new(
            2,
            1,
            &NetworkConfig {
                hidden: vec![1],
                recurrent: false,
            },
        )
        .unwrap();
        let w = [0.5, -1.0, 0.1, 2.0, -0.3];
        let mut s = m.scratch();
        let out = m.forward(&w, &[1.0, 0.25], &mut s)[0];
        let h = (0.5 * 1.0 - 1.0 * 0.25 + 0.1f64).tanh();
        assert!((out - (2.0 * h - 0.3).tanh()).abs() < 1e-15);
    }

    #[test]
    fn recurrent_state_carries_over_and_resets() {
        let m = Mlp::new(
            1,
            1,
            &NetworkConfig {
                hidden: vec![],
                recurrent: true,
            },
        )
        .unwrap();
        // out_t = tanh(1.0 x + 0.5 out_{t-1} + 0)
        let w = [1.0, 0.5, 0.0];
        let mut s = m.scratch();
        let o1 = m.forward(&w, &[0.3], &mut s)[0];
        let o2 = m.forward(&w, &[0.3], &mut s)[0];
        assert!((o1 - 0.3f64.tanh()).abs() < 1e-15);
        assert!((o2 - (0.3 + 0.5 * o1).tanh()).abs() < 1e-15);
        m.reset(&mut s);
        assert_eq!(m.forward(&w, &[0.3], &mut s)[0], o1);
    }
}
