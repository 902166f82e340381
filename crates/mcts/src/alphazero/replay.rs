//! The replay buffer: the most recent self-play samples in a ring of fixed capacity, and the
//! symmetries that multiply them.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::encode::Encode;
use crate::error::MctsError;

/// One training sample: an encoded state, the search's visit distribution over every action,
/// and the return that followed (for the player to move).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// The encoded state ([`Encode::INPUT_LEN`] values).
    pub input: Vec<f32>,
    /// The policy target (`NUM_ACTIONS` values summing to 1).
    pub policy: Vec<f32>,
    /// The value target in `[-1, 1]`.
    pub value: f32,
}

/// Symmetries of a game that leave its values unchanged, used to augment training data.
///
/// The default has none. Connect Four and tic-tac-toe are symmetric under the left-right
/// mirror.
pub trait Symmetry: Encode {
    /// Writes the mirror image of an encoded state and of its policy target in place and
    /// returns `true`; returns `false` (leaving both unchanged) when the game has no mirror.
    fn mirror(input: &mut [f32], policy: &mut [f32]) -> bool {
        let _ = (input, policy);
        false
    }
}

/// A ring buffer of samples: once full, each new sample replaces the oldest.
///
/// It serialises whole (with its ring position), so that a training run resumed from a
/// [`TrainingState`](super::TrainingState) draws the same batches as one that never stopped;
/// [`ReplayBuffer::check`] tells whether a decoded one is consistent. Encoded states whose
/// values are all 0 or 1 (board planes) are stored one bit per value: a full Connect Four
/// buffer of 100 000 samples takes about 4 MB instead of 37 MB, which is what a training run
/// writes after every iteration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "StoredReplay")]
pub struct ReplayBuffer {
    input_len: usize,
    num_actions: usize,
    capacity: usize,
    inputs: Vec<f32>,
    policies: Vec<f32>,
    values: Vec<f32>,
    next: usize,
    len: usize,
    pushed: u64,
}

/// The encoded states of a stored buffer.
#[derive(Serialize, Deserialize)]
enum StoredInputs<F> {
    /// Every value is 0 or 1: one bit per value, least significant bit first.
    Bits(Vec<u8>),
    /// Any other values.
    Floats(F),
}

/// A replay buffer as it is stored (see [`ReplayBuffer`]); `F` is the float storage (a slice
/// when writing, a vector when reading).
#[derive(Serialize, Deserialize)]
struct StoredReplay<F = Vec<f32>> {
    input_len: usize,
    num_actions: usize,
    capacity: usize,
    inputs: StoredInputs<F>,
    policies: F,
    values: F,
    next: usize,
    len: usize,
    pushed: u64,
}

impl Serialize for ReplayBuffer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Exactly 0.0 (not -0.0) or 1.0, so that the bits give back the same floats.
        let binary = self.inputs.iter().all(|&x| x.to_bits() == 0 || x == 1.0);
        let inputs = if binary {
            let mut bits = vec![0u8; self.inputs.len().div_ceil(8)];
            for (k, _) in self.inputs.iter().enumerate().filter(|(_, x)| **x == 1.0) {
                bits[k / 8] |= 1 << (k % 8);
            }
            StoredInputs::Bits(bits)
        } else {
            StoredInputs::Floats(self.inputs.as_slice())
        };
        StoredReplay {
            input_len: self.input_len,
            num_actions: self.num_actions,
            capacity: self.capacity,
            inputs,
            policies: self.policies.as_slice(),
            values: self.values.as_slice(),
            next: self.next,
            len: self.len,
            pushed: self.pushed,
        }
        .serialize(serializer)
    }
}

impl TryFrom<StoredReplay> for ReplayBuffer {
    type Error = String;

    fn try_from(s: StoredReplay) -> Result<Self, String> {
        let values = s
            .len
            .checked_mul(s.input_len)
            .ok_or("the stored sizes overflow")?;
        let inputs = match s.inputs {
            StoredInputs::Floats(f) => f,
            StoredInputs::Bits(bits) => {
                if bits.len() != values.div_ceil(8) {
                    return Err(format!(
                        "{} bytes of bits for {values} input values",
                        bits.len()
                    ));
                }
                (0..values)
                    .map(|k| f32::from(bits[k / 8] >> (k % 8) & 1))
                    .collect()
            }
        };
        Ok(Self {
            input_len: s.input_len,
            num_actions: s.num_actions,
            capacity: s.capacity,
            inputs,
            policies: s.policies,
            values: s.values,
            next: s.next,
            len: s.len,
            pushed: s.pushed,
        })
    }
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` samples of the given sizes.
    pub fn new(capacity: usize, input_len: usize, num_actions: usize) -> Result<Self, MctsError> {
        if capacity == 0 || capacity > 1 << 26 {
            return Err(MctsError::Config {
                field: "replay_capacity",
                reason: format!("must be in 1..=2^26, got {capacity}"),
            });
        }
        Ok(Self {
            input_len,
            num_actions,
            capacity,
            inputs: Vec::new(),
            policies: Vec::new(),
            values: Vec::new(),
            next: 0,
            len: 0,
            pushed: 0,
        })
    }

    /// Checks that a decoded buffer is consistent (sizes, ring position, finite targets),
    /// saying what is not.
    pub fn check(&self) -> Result<(), String> {
        if self.capacity == 0 || self.capacity > 1 << 26 {
            return Err(format!("capacity {} is not in 1..=2^26", self.capacity));
        }
        if self.len > self.capacity || (self.len < self.capacity && self.next != self.len) {
            return Err(format!(
                "{} samples and next slot {} in a ring of {}",
                self.len, self.next, self.capacity
            ));
        }
        if self.next >= self.capacity
            || self.inputs.len() != self.len * self.input_len
            || self.policies.len() != self.len * self.num_actions
            || self.values.len() != self.len
        {
            return Err(format!(
                "{} samples of {} inputs and {} actions, but {} inputs, {} policy values and {} \
                 values stored (next slot {})",
                self.len,
                self.input_len,
                self.num_actions,
                self.inputs.len(),
                self.policies.len(),
                self.values.len(),
                self.next
            ));
        }
        if self.pushed < self.len as u64 {
            return Err(format!(
                "{} samples held but {} pushed",
                self.len, self.pushed
            ));
        }
        if !self.values.iter().all(|v| v.is_finite() && v.abs() <= 1.0) {
            return Err("a value target is not a number in [-1, 1]".into());
        }
        Ok(())
    }

    /// The same samples (oldest first) in a buffer of another capacity: the newest
    /// `capacity` of them when it is smaller.
    pub fn with_capacity(&self, capacity: usize) -> Result<Self, MctsError> {
        let mut out = Self::new(capacity, self.input_len, self.num_actions)?;
        for k in self.len.saturating_sub(capacity)..self.len {
            if let Some(sample) = self.get(k) {
                out.push(&sample)?;
            }
        }
        out.pushed = self.pushed;
        Ok(out)
    }

    /// Length of one encoded state.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Number of actions of a policy target.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Largest number of samples held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Samples pushed since creation (including those overwritten).
    pub fn total_pushed(&self) -> u64 {
        self.pushed
    }

    /// Adds a sample, overwriting the oldest when full. Fails on a sample of the wrong size.
    pub fn push(&mut self, sample: &Sample) -> Result<(), MctsError> {
        if sample.input.len() != self.input_len || sample.policy.len() != self.num_actions {
            return Err(MctsError::Config {
                field: "sample",
                reason: format!(
                    "has {} inputs and {} actions, the buffer holds {} and {}",
                    sample.input.len(),
                    sample.policy.len(),
                    self.input_len,
                    self.num_actions
                ),
            });
        }
        let k = self.next;
        if self.len < self.capacity {
            self.inputs.extend_from_slice(&sample.input);
            self.policies.extend_from_slice(&sample.policy);
            self.values.push(sample.value);
            self.len += 1;
        } else {
            self.inputs[k * self.input_len..(k + 1) * self.input_len]
                .copy_from_slice(&sample.input);
            self.policies[k * self.num_actions..(k + 1) * self.num_actions]
                .copy_from_slice(&sample.policy);
            self.values[k] = sample.value;
        }
        self.next = (k + 1) % self.capacity;
        self.pushed += 1;
        Ok(())
    }

    /// Adds a sample and, when `G` has a mirror, its mirror image too.
    pub fn push_augmented<G: Symmetry>(&mut self, sample: &Sample) -> Result<(), MctsError> {
        self.push(sample)?;
        let mut m = sample.clone();
        if G::mirror(&mut m.input, &mut m.policy) && m != *sample {
            self.push(&m)?;
        }
        Ok(())
    }

    /// Sample `k` (0 = oldest still held).
    pub fn get(&self, k: usize) -> Option<Sample> {
        if k >= self.len {
            return None;
        }
        let i = if self.len < self.capacity {
            k
        } else {
            (self.next + k) % self.capacity
        };
        Some(Sample {
            input: self.inputs[i * self.input_len..(i + 1) * self.input_len].to_vec(),
            policy: self.policies[i * self.num_actions..(i + 1) * self.num_actions].to_vec(),
            value: self.values[i],
        })
    }

    /// Fills a training batch of `batch` samples drawn uniformly with replacement: inputs,
    /// policy targets and value targets, flat. Empty when the buffer is.
    pub fn sample_batch<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        batch: usize,
        inputs: &mut Vec<f32>,
        policies: &mut Vec<f32>,
        values: &mut Vec<f32>,
    ) {
        inputs.clear();
        policies.clear();
        values.clear();
        if self.len == 0 {
            return;
        }
        for _ in 0..batch {
            let i = rng.random_range(0..self.len);
            inputs.extend_from_slice(&self.inputs[i * self.input_len..(i + 1) * self.input_len]);
            policies.extend_from_slice(
                &self.policies[i * self.num_actions..(i + 1) * self.num_actions],
            );
            values.push(self.values[i]);
        }
    }
}
