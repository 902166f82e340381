//! Sequential UCT: Monte Carlo tree search with the UCB1 selection rule and rollouts.
//!
//! Kocsis and Szepesvári, "Bandit based Monte-Carlo planning", ECML 2006
//! (doi:10.1007/11871842_29); Browne et al., "A survey of Monte Carlo tree search methods",
//! IEEE TCIAIG 4(1), 2012 (doi:10.1109/TCIAIG.2012.2186810).
//!
//! # Tree layout
//!
//! Nodes live in one arena (`Vec`) and refer to each other by `u32` index. Expanding a node
//! appends all of its children at once, so the children of a node are contiguous
//! (`first_child .. first_child + num_children`) and selection scans them in one pass over
//! memory. A node stores the action that leads to it, its visit count and the sum of the
//! returns backed up through it, seen by the player who took that action (see
//! [`crate::game`] for the sign and discount convention).
//!
//! # One simulation
//!
//! 1. **Select**: from the root, while the node is expanded, go to the child maximising
//!    `Q + c * sqrt(ln N / n)` (an unvisited child first).
//! 2. **Expand**: a node reached for the second time (it had its own rollout on the first)
//!    gets all its children; selection then continues to one of them, which is new.
//! 3. **Evaluate**: a node reached for the first time, or a terminal node, is evaluated by a
//!    rollout (terminal: 0, the rewards along the path already hold the result).
//! 4. **Back up** the rewards of the path and the rollout return, flipping sign between
//!    players and applying discounts.
//!
//! Each simulation therefore evaluates exactly one leaf, and for every expanded node
//! `visits = sum of child visits + leaf evaluations of the node itself` (at most one, the
//! rollout it had before it was expanded); [`Uct::check_invariants`] verifies this.
//!
//! # Tree reuse
//!
//! [`Uct::advance`] plays an action at the root and keeps the subtree below it, copied into a
//! fresh arena in breadth-first order (children stay contiguous, the old tree's memory is
//! released).

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::arena::{ArenaNode, UNEXPANDED, subtree};
use crate::error::MctsError;
use crate::game::{Action, Game, backup_step};

/// How the move to play is chosen once the search is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalMove {
    /// The most visited root child ("robust child"); ties go to the higher mean value.
    #[default]
    MostVisits,
    /// The root child with the highest mean value among those visited ("max child").
    BestValue,
}

/// How leaves are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rollout {
    /// Uniformly random moves to the end ([`Game::random_rollout`]).
    #[default]
    Random,
    /// The game's heuristic policy ([`Game::heuristic_rollout`]; for Connect Four: win if
    /// possible, block an immediate threat, avoid playing under the opponent's winning cell).
    Heuristic,
}

/// Settings of a UCT search. Missing fields take their defaults when deserialised;
/// an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UctConfig {
    /// Exploration constant `c` of UCB1, for returns in `[-1, 1]`. Default 1.0.
    pub exploration: f64,
    /// How the final move is chosen. Default [`FinalMove::MostVisits`].
    pub final_move: FinalMove,
    /// Leaf evaluation. Default [`Rollout::Random`].
    pub rollout: Rollout,
    /// Seed of the search's random number generator. Default 0.
    pub seed: u64,
    /// Largest number of nodes the tree may hold; at the cap, leaves stop being expanded and
    /// are evaluated again instead. Default 2^26 (1.6 GB of nodes at most, allocated as used).
    pub max_nodes: usize,
}

impl Default for UctConfig {
    fn default() -> Self {
        Self {
            exploration: 1.0,
            final_move: FinalMove::MostVisits,
            rollout: Rollout::Random,
            seed: 0,
            max_nodes: 1 << 26,
        }
    }
}

impl UctConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), MctsError> {
        if !(self.exploration.is_finite() && self.exploration >= 0.0) {
            return Err(MctsError::Config {
                field: "exploration",
                reason: format!("must be finite and >= 0, got {}", self.exploration),
            });
        }
        if self.max_nodes < 2 || self.max_nodes > u32::MAX as usize {
            return Err(MctsError::Config {
                field: "max_nodes",
                reason: format!("must be in 2..=2^32-1, got {}", self.max_nodes),
            });
        }
        Ok(())
    }
}

/// Simulations between two readings of the clock in a search with a time budget
/// ([`Uct::search_for`], [`crate::TreeParallelUct::search_for`]): a Connect Four simulation
/// takes about a microsecond, reading the clock about 20 ns.
pub const TIME_CHECK_SIMULATIONS: u64 = 16;

/// Statistics of one child of the root.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChildStats {
    /// The action leading to the child.
    pub action: Action,
    /// Simulations through the child.
    pub visits: u32,
    /// Mean return for the player to move at the root (0 when unvisited).
    pub mean_value: f64,
}

/// What one call to `search` did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SearchSummary {
    /// Simulations run by this call.
    pub simulations: u64,
    /// Nodes in the tree afterwards.
    pub nodes: usize,
    /// Whether the node cap was reached (the tree stopped growing).
    pub tree_full: bool,
    /// The move the search recommends, `None` when the root is terminal.
    pub best_action: Option<Action>,
}

/// What every search in this crate offers a caller that plays moves with it, so that
/// examples, benchmarks and later players can take any of them (`Box<dyn Search<G>>`).
pub trait Search<G: Game>: Send {
    /// Runs `simulations` more simulations and returns what was done and the recommended move.
    fn search(&mut self, simulations: u64) -> SearchSummary;
    /// The move the search recommends now; `None` at a terminal root.
    fn best_action(&self) -> Option<Action>;
    /// Statistics of the root's children.
    fn root_children(&self) -> Vec<ChildStats>;
    /// Plays `action` at the root, keeping the subtree below it.
    fn advance(&mut self, action: Action) -> Result<(), MctsError>;
    /// The state at the root.
    fn root_state(&self) -> &G;
}

impl<G: Game> Search<G> for Uct<G> {
    fn search(&mut self, simulations: u64) -> SearchSummary {
        Uct::search(self, simulations)
    }
    fn best_action(&self) -> Option<Action> {
        Uct::best_action(self)
    }
    fn root_children(&self) -> Vec<ChildStats> {
        Uct::root_children(self)
    }
    fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        Uct::advance(self, action)
    }
    fn root_state(&self) -> &G {
        Uct::root_state(self)
    }
}

/// The move to play from a root: `None` at a terminal root, the first legal action before any
/// search, otherwise [`choose_final`] over the root's children (computed only when needed).
pub(crate) fn best_root_action<G: Game>(
    root: &G,
    children: impl FnOnce() -> Vec<ChildStats>,
    rule: FinalMove,
) -> Option<Action> {
    if root.is_terminal() {
        return None;
    }
    let children = children();
    if children.is_empty() {
        let mut actions = Vec::new();
        root.legal_actions(&mut actions);
        return actions.first().copied();
    }
    choose_final(&children, rule)
}

/// Chooses the final move from root statistics.
pub(crate) fn choose_final(children: &[ChildStats], rule: FinalMove) -> Option<Action> {
    let better = |a: &ChildStats, b: &ChildStats| match rule {
        FinalMove::MostVisits => (a.visits, a.mean_value) > (b.visits, b.mean_value),
        FinalMove::BestValue => {
            a.visits > 0 && (b.visits == 0 || a.mean_value > b.mean_value)
                || a.visits > 0 && a.mean_value == b.mean_value && a.visits > b.visits
        }
    };
    let mut best: Option<&ChildStats> = None;
    for c in children {
        if best.is_none_or(|b| better(c, b)) {
            best = Some(c);
        }
    }
    best.map(|c| c.action)
}

/// Entries of the `ln n` table (a power of two).
const LN_TABLE_BITS: u32 = 12;

/// `ln n` for `n < 2^LN_TABLE_BITS` (`ln 0` stored as 0), shared by every search.
pub(crate) fn ln_table() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..1usize << LN_TABLE_BITS)
            .map(|n| (n.max(1) as f64).ln() as f32)
            .collect()
    })
}

/// `sqrt(ln n)`, from the table, for larger `n` by dropping low bits: `ln n ~ ln(n >> k) + k ln 2`
/// with an absolute error below `2^(1 - LN_TABLE_BITS)`, ample for an exploration bonus.
#[inline]
pub(crate) fn sqrt_ln(table: &[f32], n: u32) -> f32 {
    let bits = u32::BITS - n.leading_zeros();
    let k = bits.saturating_sub(LN_TABLE_BITS);
    let ln = table[(n >> k) as usize] + k as f32 * std::f32::consts::LN_2;
    ln.sqrt()
}

/// A node of the sequential tree. Besides the exact sums it caches, for selection, the mean
/// value and `1 / sqrt(visits)` as `f32`, refreshed at every back-up: UCB1 then costs one
/// multiply-add per child instead of a division and a square root.
#[derive(Debug, Clone, Copy)]
struct Node {
    value: f64,
    visits: u32,
    first_child: u32,
    num_children: u16,
    action: Action,
    mean: f32,
    inv_sqrt: f32,
}

impl Node {
    fn new(action: Action) -> Self {
        Self {
            value: 0.0,
            visits: 0,
            first_child: 0,
            num_children: UNEXPANDED,
            action,
            mean: 0.0,
            inv_sqrt: 0.0,
        }
    }
}

impl ArenaNode for Node {
    #[inline]
    fn first_child(&self) -> u32 {
        self.first_child
    }
    #[inline]
    fn set_first_child(&mut self, first: u32) {
        self.first_child = first;
    }
    #[inline]
    fn num_children(&self) -> u16 {
        self.num_children
    }
}

/// Reward, discount and same-player flag of one edge on the simulated path.
type Edge = (f64, f64, bool);

/// A sequential UCT search over game `G`, owning its tree and root state.
///
/// ```
/// use mcts::{Connect4, Game, Uct, UctConfig};
/// let mut search = Uct::new(UctConfig { seed: 7, ..UctConfig::default() }, Connect4::new())?;
/// let summary = search.search(2_000);
/// let first = summary.best_action.expect("the empty board has moves");
/// search.advance(first)?; // keep the subtree for the next move
/// assert!(search.root_children().iter().map(|c| c.visits).sum::<u32>() > 0);
/// # Ok::<(), mcts::MctsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Uct<G: Game> {
    config: UctConfig,
    root_state: G,
    nodes: Vec<Node>,
    rng: Xoshiro256PlusPlus,
    ln_table: &'static [f32],
    path: Vec<u32>,
    edges: Vec<Edge>,
    actions: Vec<Action>,
}

impl<G: Game> Uct<G> {
    /// A search from `root_state` with a one-node tree; fails on an invalid config.
    pub fn new(config: UctConfig, root_state: G) -> Result<Self, MctsError> {
        config.validate()?;
        let rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
        Ok(Self {
            config,
            root_state,
            nodes: vec![Node::new(0)],
            rng,
            ln_table: ln_table(),
            path: Vec::with_capacity(64),
            edges: Vec::with_capacity(64),
            actions: Vec::with_capacity(G::NUM_ACTIONS),
        })
    }

    /// The most memory, in bytes, that the tree of a fresh search of `simulations` simulations
    /// can take (each simulation expands at most one node, adding its children, up to
    /// `config.max_nodes` nodes; the growing arena may hold twice its length while it moves):
    /// what a caller checks against the memory available before a big search.
    pub fn arena_bytes(config: &UctConfig, simulations: u64) -> u128 {
        let nodes = simulations
            .saturating_mul(G::NUM_ACTIONS as u64)
            .saturating_add(1)
            .min(config.max_nodes as u64);
        2 * u128::from(nodes) * std::mem::size_of::<Node>() as u128
    }

    /// The configuration.
    pub fn config(&self) -> &UctConfig {
        &self.config
    }

    /// The state at the root.
    pub fn root_state(&self) -> &G {
        &self.root_state
    }

    /// Nodes in the tree.
    pub fn tree_size(&self) -> usize {
        self.nodes.len()
    }

    /// Simulations that went through the root so far (including those kept by tree reuse).
    pub fn root_visits(&self) -> u32 {
        self.nodes[0].visits
    }

    /// Runs `simulations` simulations and returns what it did and the recommended move.
    pub fn search(&mut self, simulations: u64) -> SearchSummary {
        let mut tree_full = false;
        if !self.root_state.is_terminal() {
            for _ in 0..simulations {
                tree_full |= self.simulate();
            }
        }
        self.summary(simulations, tree_full)
    }

    /// Runs simulations until `time` has passed (the clock is read every
    /// [`TIME_CHECK_SIMULATIONS`] simulations) or `max_simulations` have run, whichever comes
    /// first: a search at a fixed wall-clock time per move. The summary counts the simulations
    /// run.
    pub fn search_for(&mut self, max_simulations: u64, time: Duration) -> SearchSummary {
        let start = Instant::now();
        let (mut done, mut tree_full) = (0, false);
        if !self.root_state.is_terminal() {
            while done < max_simulations {
                let chunk = (max_simulations - done).min(TIME_CHECK_SIMULATIONS);
                for _ in 0..chunk {
                    tree_full |= self.simulate();
                }
                done += chunk;
                if start.elapsed() >= time {
                    break;
                }
            }
        }
        self.summary(done, tree_full)
    }

    fn summary(&self, simulations: u64, tree_full: bool) -> SearchSummary {
        SearchSummary {
            simulations: if self.root_state.is_terminal() {
                0
            } else {
                simulations
            },
            nodes: self.nodes.len(),
            tree_full,
            best_action: self.best_action(),
        }
    }

    /// The move to play under the configured [`FinalMove`] rule; `None` at a terminal root.
    /// Before any search it is the first legal action.
    pub fn best_action(&self) -> Option<Action> {
        best_root_action(
            &self.root_state,
            || self.root_children(),
            self.config.final_move,
        )
    }

    /// Statistics of the root's children, in legal-action order (empty before expansion).
    pub fn root_children(&self) -> Vec<ChildStats> {
        self.nodes[0]
            .children()
            .map(|i| {
                let n = &self.nodes[i];
                ChildStats {
                    action: n.action,
                    visits: n.visits,
                    mean_value: if n.visits > 0 {
                        n.value / f64::from(n.visits)
                    } else {
                        0.0
                    },
                }
            })
            .collect()
    }

    /// Plays `action` at the root, keeping its subtree (or starting a fresh tree when the
    /// root was not expanded). Fails when `action` is not legal.
    pub fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        self.root_state.legal_actions(&mut self.actions);
        if !self.actions.contains(&action) {
            return Err(MctsError::IllegalAction { action });
        }
        let child = self.nodes[0]
            .children()
            .find(|&i| self.nodes[i].action == action);
        self.root_state.apply(action);
        let Some(child) = child else {
            self.nodes.clear();
            self.nodes.push(Node::new(0));
            return Ok(());
        };
        self.nodes = subtree(&self.nodes, child, 0);
        Ok(())
    }

    /// Verifies the visit-count invariants of the whole tree: for every expanded node,
    /// `visits - sum of child visits` is 0 or 1 (its own rollout before expansion), and child
    /// ranges are in bounds. Returns the first violation as [`MctsError::Inconsistent`].
    pub fn check_invariants(&self) -> Result<(), MctsError> {
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.expanded() {
                continue;
            }
            let range = n.children();
            if range.end > self.nodes.len() || (n.num_children > 0 && range.start <= i) {
                return Err(MctsError::Inconsistent {
                    node: i,
                    reason: "child range".into(),
                });
            }
            let sum: u64 = self.nodes[range].iter().map(|c| u64::from(c.visits)).sum();
            let own = u64::from(n.visits).checked_sub(sum);
            if !matches!(own, Some(0 | 1)) {
                return Err(MctsError::Inconsistent {
                    node: i,
                    reason: format!("visits {} but children sum to {sum}", n.visits),
                });
            }
        }
        Ok(())
    }

    fn expand(&mut self, node: usize, state: &G) -> bool {
        state.legal_actions(&mut self.actions);
        if self.nodes.len() + self.actions.len() > self.config.max_nodes {
            return false;
        }
        let first = self.nodes.len() as u32;
        self.nodes
            .extend(self.actions.iter().map(|&a| Node::new(a)));
        let n = &mut self.nodes[node];
        n.first_child = first;
        n.num_children = self.actions.len() as u16;
        true
    }

    #[inline]
    fn select(&self, node: usize) -> usize {
        let parent = &self.nodes[node];
        let range = parent.children();
        let c = self.config.exploration as f32 * sqrt_ln(self.ln_table, parent.visits);
        let mut best = range.start;
        let mut best_score = f32::NEG_INFINITY;
        for (i, child) in self.nodes[range.clone()].iter().enumerate() {
            if child.visits == 0 {
                return range.start + i;
            }
            let score = child.mean + c * child.inv_sqrt;
            if score > best_score {
                best_score = score;
                best = range.start + i;
            }
        }
        best
    }

    /// One simulation; returns whether the node cap stopped an expansion.
    fn simulate(&mut self) -> bool {
        let mut state = self.root_state.clone();
        self.path.clear();
        self.edges.clear();
        let mut node = 0usize;
        self.path.push(0);
        let mut full = false;
        let g = loop {
            if state.is_terminal() {
                break 0.0;
            }
            if !self.nodes[node].expanded() {
                if self.nodes[node].visits == 0 && node != 0 {
                    break self.rollout(&state);
                }
                if !self.expand(node, &state) {
                    full = true;
                    break self.rollout(&state);
                }
            }
            let child = self.select(node);
            let player = state.current_player();
            let reward = state.apply(self.nodes[child].action);
            self.edges
                .push((reward, state.discount(), state.current_player() == player));
            self.path.push(child as u32);
            node = child;
        };
        self.backup(g);
        full
    }

    #[inline]
    fn rollout(&mut self, state: &G) -> f64 {
        match self.config.rollout {
            Rollout::Random => state.random_rollout(&mut self.rng),
            Rollout::Heuristic => state.heuristic_rollout(&mut self.rng),
        }
    }

    fn backup(&mut self, mut g: f64) {
        for (k, &(reward, discount, same)) in self.edges.iter().enumerate().rev() {
            g = backup_step(reward, discount, same, g);
            let n = &mut self.nodes[self.path[k + 1] as usize];
            n.visits += 1;
            n.value += g;
            let visits = f64::from(n.visits);
            n.mean = (n.value / visits) as f32;
            n.inv_sqrt = (1.0 / visits.sqrt()) as f32;
        }
        self.nodes[0].visits += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_ln_is_close_to_the_exact_value() {
        let table = ln_table();
        for n in [
            1u32,
            2,
            7,
            4095,
            4096,
            4097,
            10_000,
            123_457,
            9_999_999,
            u32::MAX,
        ] {
            let exact = f64::from(n).ln().sqrt();
            let approx = f64::from(sqrt_ln(table, n));
            assert!(
                (exact - approx).abs() < 1e-3,
                "n = {n}: {approx} vs {exact}"
            );
        }
    }
}
