//! PUCT: the tree search of AlphaGo Zero and AlphaZero (Silver et al. 2017, 2018; after
//! Rosin's PUCB, 2011).
//!
//! # One simulation
//!
//! 1. **Select**: from the root, while the node is expanded, go to the child maximising
//!    `Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))`, where `P` is the network's
//!    prior (masked to the legal actions), `N` visit counts and `Q` the mean return of the
//!    child for the player choosing (`fpu`, default 0, for an unvisited child).
//! 2. **Evaluate** the leaf with the network: priors for its children and a value `v`, the
//!    expected return for the player to move there. A terminal leaf is worth 0: the rewards
//!    on the path already hold the result.
//! 3. **Expand** the leaf: one child per legal action, with its prior.
//! 4. **Back up** the rewards of the path and `v` with the sign and discount convention of
//!    [`crate::game`].
//!
//! # Leaf batching
//!
//! A network is much cheaper per state on a batch. [`Puct::gather`] selects up to
//! `leaf_batch` leaves before any is evaluated; each selected path carries a virtual loss
//! (Chaslot et al. 2008): while a leaf waits, every node on its path counts
//! `virtual_loss` extra visits that each returned `-1` to the player who moved into it, so
//! the next selection is steered elsewhere. [`Puct::scatter`] expands the leaves with the
//! network's answers, removes the virtual losses and backs up. A selection that reaches a leaf
//! already waiting (a collision) ends the batch early. [`Puct::search`] runs gather and
//! scatter against an [`Evaluator`]; self-play ([`crate::alphazero::selfplay`]) interleaves
//! them over many games so that one network call serves all of them.
//!
//! # Root noise, temperature, final move
//!
//! With `dirichlet_epsilon > 0` the root's priors become `(1 - eps) P + eps * eta` with
//! `eta ~ Dir(alpha)`, once per root (AlphaZero's exploration in self-play). The Dirichlet
//! draw is one `Gamma(alpha, 1)` draw per legal move (`rand_distr`'s `Gamma`), normalised:
//! the number of legal moves varies, and `rand_distr`'s `Dirichlet` takes it as a constant.
//! [`Puct::select_move`] samples a move in proportion to the root visit counts raised to
//! `1 / temperature` (temperature 1 in self-play's first moves), or plays
//! [`Puct::best_action`] (most visits or best mean value, [`FinalMove`]) at temperature 0.
//!
//! # Tree reuse
//!
//! [`Puct::advance`] keeps the subtree below the action played, as [`crate::Uct`] does.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::Evaluator;
use crate::arena::{ArenaNode, UNEXPANDED, subtree};
use crate::encode::Encode;
use crate::error::MctsError;
use crate::game::{Action, Game, backup_step};
use crate::uct::{ChildStats, FinalMove, SearchSummary, best_root_action};

/// Settings of a PUCT search. Missing fields take their defaults when deserialised;
/// an unknown field is an error naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PuctConfig {
    /// Exploration constant `c_puct`. Default 1.5.
    pub c_puct: f64,
    /// Value of an unvisited child (first-play urgency), for the player choosing. Default 0.
    pub fpu: f64,
    /// How the final move is chosen. Default [`FinalMove::MostVisits`].
    pub final_move: FinalMove,
    /// Leaves collected per network call. Default 8.
    pub leaf_batch: usize,
    /// Virtual loss per waiting leaf, in visits that each returned `-1`; 0 turns it off.
    /// Default 1.
    pub virtual_loss: f64,
    /// Concentration `alpha` of the root Dirichlet noise. Default 1.0 (about 10 / actions,
    /// the scaling of AlphaZero, for Connect Four's 7 columns).
    pub dirichlet_alpha: f64,
    /// Weight `epsilon` of the root noise; 0 turns it off. Default 0 (on in self-play: 0.25).
    pub dirichlet_epsilon: f64,
    /// Seed of the noise and of move sampling. Default 0.
    pub seed: u64,
    /// Largest number of nodes the tree may hold; at the cap, leaves are evaluated but no
    /// longer expanded. Default 2^22.
    pub max_nodes: usize,
}

impl Default for PuctConfig {
    fn default() -> Self {
        Self {
            c_puct: 1.5,
            fpu: 0.0,
            final_move: FinalMove::MostVisits,
            leaf_batch: 8,
            virtual_loss: 1.0,
            dirichlet_alpha: 1.0,
            dirichlet_epsilon: 0.0,
            seed: 0,
            max_nodes: 1 << 22,
        }
    }
}

impl PuctConfig {
    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), MctsError> {
        let bad = |field: &'static str, reason: String| Err(MctsError::Config { field, reason });
        if !(self.c_puct.is_finite() && self.c_puct >= 0.0) {
            return bad(
                "c_puct",
                format!("must be finite and >= 0, got {}", self.c_puct),
            );
        }
        if !self.fpu.is_finite() {
            return bad("fpu", format!("must be finite, got {}", self.fpu));
        }
        if self.leaf_batch == 0 || self.leaf_batch > 4096 {
            return bad(
                "leaf_batch",
                format!("must be in 1..=4096, got {}", self.leaf_batch),
            );
        }
        if !(self.virtual_loss.is_finite() && self.virtual_loss >= 0.0) {
            return bad(
                "virtual_loss",
                format!("must be finite and >= 0, got {}", self.virtual_loss),
            );
        }
        if !(self.dirichlet_alpha.is_finite() && self.dirichlet_alpha > 0.0) {
            return bad(
                "dirichlet_alpha",
                format!("must be finite and > 0, got {}", self.dirichlet_alpha),
            );
        }
        if !(0.0..=1.0).contains(&self.dirichlet_epsilon) {
            return bad(
                "dirichlet_epsilon",
                format!("must be in [0, 1], got {}", self.dirichlet_epsilon),
            );
        }
        if self.max_nodes < 2 || self.max_nodes > u32::MAX as usize {
            return bad(
                "max_nodes",
                format!("must be in 2..=2^32-1, got {}", self.max_nodes),
            );
        }
        Ok(())
    }
}

/// A node: statistics of the edge into it, seen by the player who took that action.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// Sum of the backed-up returns for the player who moved into this node.
    value: f64,
    visits: u32,
    /// Leaves waiting below (or at) this node.
    virtual_visits: u32,
    prior: f32,
    /// Reward, discount and same-player flag of the edge into this node (set when first
    /// traversed; the games are deterministic).
    reward: f32,
    discount: f32,
    same_player: bool,
    /// Waiting for its evaluation.
    pending: bool,
    action: Action,
    num_children: u16,
    first_child: u32,
}

impl Node {
    fn new(action: Action, prior: f32) -> Self {
        Self {
            value: 0.0,
            visits: 0,
            virtual_visits: 0,
            prior,
            reward: 0.0,
            discount: 1.0,
            same_player: false,
            pending: false,
            action,
            num_children: UNEXPANDED,
            first_child: 0,
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

/// A leaf selected by [`Puct::gather`], waiting for its evaluation.
#[derive(Debug, Clone)]
struct PendingLeaf<G> {
    path: Vec<u32>,
    state: G,
}

/// A PUCT search over game `G`, owning its tree and root state.
///
/// ```
/// use mcts::alphazero::{Puct, PuctConfig, UniformEvaluator};
/// use mcts::{Encode, Game, TicTacToe};
/// let eval = UniformEvaluator { input_len: TicTacToe::INPUT_LEN, num_actions: 9 };
/// let mut search = Puct::new(PuctConfig::default(), TicTacToe::new())?;
/// let summary = search.search(&eval, 400)?;
/// assert!(summary.best_action.is_some());
/// search.check_invariants()?;
/// # Ok::<(), mcts::MctsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Puct<G: Game + Encode> {
    config: PuctConfig,
    root_state: G,
    nodes: Vec<Node>,
    rng: Xoshiro256PlusPlus,
    /// `Gamma(dirichlet_alpha, 1)`, whose normalised draws are the root noise.
    noise: Gamma<f64>,
    pending: Vec<PendingLeaf<G>>,
    root_noised: bool,
    actions: Vec<Action>,
    policy_buf: Vec<f32>,
    value_buf: Vec<f32>,
    input_buf: Vec<f32>,
    tree_full: bool,
}

impl<G: Game + Encode> Puct<G> {
    /// A search from `root_state`; fails on an invalid config.
    pub fn new(config: PuctConfig, root_state: G) -> Result<Self, MctsError> {
        config.validate()?;
        let rng = Xoshiro256PlusPlus::seed_from_u64(config.seed);
        let noise = Gamma::new(config.dirichlet_alpha, 1.0).map_err(|e| MctsError::Config {
            field: "dirichlet_alpha",
            reason: e.to_string(),
        })?;
        Ok(Self {
            config,
            root_state,
            nodes: vec![Node::new(0, 1.0)],
            rng,
            noise,
            pending: Vec::new(),
            root_noised: false,
            actions: Vec::with_capacity(G::NUM_ACTIONS),
            policy_buf: Vec::new(),
            value_buf: Vec::new(),
            input_buf: Vec::new(),
            tree_full: false,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PuctConfig {
        &self.config
    }

    /// Changes the root noise weight (0 turns it off) for the searches that follow; self-play
    /// turns it off for its cheap searches (playout cap randomisation).
    pub fn set_dirichlet_epsilon(&mut self, epsilon: f64) -> Result<(), MctsError> {
        let mut c = self.config.clone();
        c.dirichlet_epsilon = epsilon;
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// The state at the root.
    pub fn root_state(&self) -> &G {
        &self.root_state
    }

    /// Nodes in the tree.
    pub fn tree_size(&self) -> usize {
        self.nodes.len()
    }

    /// Visits of the root (completed simulations, including those kept by tree reuse).
    pub fn root_visits(&self) -> u32 {
        self.nodes[0].visits
    }

    /// Leaves selected by [`Puct::gather`] and not yet evaluated.
    pub fn pending_leaves(&self) -> usize {
        self.pending.len()
    }

    /// Runs `simulations` more simulations, evaluating leaves in batches of up to
    /// `leaf_batch` with `evaluator`.
    pub fn search<E: Evaluator + ?Sized>(
        &mut self,
        evaluator: &E,
        simulations: u64,
    ) -> Result<SearchSummary, MctsError> {
        if evaluator.input_len() != G::INPUT_LEN || evaluator.num_actions() != G::NUM_ACTIONS {
            return Err(MctsError::Config {
                field: "evaluator",
                reason: format!(
                    "reads {} inputs and writes {} actions, the game has {} and {}",
                    evaluator.input_len(),
                    evaluator.num_actions(),
                    G::INPUT_LEN,
                    G::NUM_ACTIONS
                ),
            });
        }
        let mut done = 0u64;
        let mut inputs = std::mem::take(&mut self.input_buf);
        while done < simulations && !self.root_state.is_terminal() {
            inputs.clear();
            let want = (simulations - done).min(self.config.leaf_batch as u64) as usize;
            let (n, immediate) = self.gather(want, &mut inputs);
            done += immediate as u64;
            if n > 0 {
                self.policy_buf.resize(n * G::NUM_ACTIONS, 0.0);
                self.value_buf.resize(n, 0.0);
                let result = evaluator.evaluate(&inputs, &mut self.policy_buf, &mut self.value_buf);
                if let Err(e) = result {
                    self.abandon_pending();
                    self.input_buf = inputs;
                    return Err(e);
                }
                let (p, v) = (
                    std::mem::take(&mut self.policy_buf),
                    std::mem::take(&mut self.value_buf),
                );
                self.scatter(&p, &v);
                self.policy_buf = p;
                self.value_buf = v;
                done += n as u64;
            }
        }
        self.input_buf = inputs;
        Ok(SearchSummary {
            simulations: done,
            nodes: self.nodes.len(),
            tree_full: self.tree_full,
            best_action: self.best_action(),
        })
    }

    /// Selects up to `max_leaves` leaves for evaluation, each under a virtual loss, and
    /// appends their encodings to `inputs` ([`Encode::INPUT_LEN`] values each). Terminal
    /// leaves met on the way are backed up at once. Returns `(leaves to evaluate, terminal
    /// simulations completed)`; their sum is at most `max_leaves`, and it is below when a
    /// selection collides with a waiting leaf. Every gathered leaf must be answered by
    /// [`Puct::scatter`] before the next gather or [`Puct::advance`].
    pub fn gather(&mut self, max_leaves: usize, inputs: &mut Vec<f32>) -> (usize, usize) {
        debug_assert!(self.pending.is_empty(), "scatter before gathering again");
        // A root kept by tree reuse gets its noise before the first selection.
        self.add_root_noise();
        let mut immediate = 0;
        let mut path = Vec::new();
        while self.pending.len() + immediate < max_leaves {
            if self.root_state.is_terminal() {
                break;
            }
            path.clear();
            path.push(0u32);
            let mut state = self.root_state.clone();
            let mut node = 0usize;
            let mut collided = false;
            loop {
                if state.is_terminal() {
                    break;
                }
                if !self.nodes[node].expanded() {
                    collided = self.nodes[node].pending;
                    break;
                }
                let child = self.select_child(node);
                let player = state.current_player();
                let reward = state.apply(self.nodes[child].action);
                let n = &mut self.nodes[child];
                n.reward = reward as f32;
                n.discount = state.discount() as f32;
                n.same_player = state.current_player() == player;
                node = child;
                path.push(child as u32);
            }
            if collided {
                break;
            }
            if state.is_terminal() {
                self.backup(&path, 0.0, false);
                immediate += 1;
                continue;
            }
            // A new leaf: add the virtual loss along its path and queue it.
            for &i in &path {
                self.nodes[i as usize].virtual_visits += 1;
            }
            self.nodes[node].pending = true;
            let start = inputs.len();
            inputs.resize(start + G::INPUT_LEN, 0.0);
            state.encode(&mut inputs[start..]);
            self.pending.push(PendingLeaf {
                path: path.clone(),
                state,
            });
        }
        (self.pending.len(), immediate)
    }

    /// Answers the leaves of the last [`Puct::gather`], in order: `policy` holds one row of
    /// `G::NUM_ACTIONS` probabilities per leaf and `values` one value per leaf (for the player
    /// to move at the leaf). Expands each leaf, removes its virtual loss and backs up.
    pub fn scatter(&mut self, policy: &[f32], values: &[f32]) {
        let pending = std::mem::take(&mut self.pending);
        for (k, leaf) in pending.iter().enumerate() {
            let row = &policy[k * G::NUM_ACTIONS..(k + 1) * G::NUM_ACTIONS];
            let node = *leaf.path.last().expect("a path holds the root") as usize;
            self.nodes[node].pending = false;
            self.expand(node, &leaf.state, row);
            let v = f64::from(values[k]);
            self.backup(&leaf.path, if v.is_finite() { v } else { 0.0 }, true);
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// Drops the waiting leaves (after an evaluator failure), removing their virtual losses.
    fn abandon_pending(&mut self) {
        for leaf in std::mem::take(&mut self.pending) {
            for &i in &leaf.path {
                self.nodes[i as usize].virtual_visits -= 1;
            }
            let node = *leaf.path.last().expect("a path holds the root") as usize;
            self.nodes[node].pending = false;
        }
    }

    fn expand(&mut self, node: usize, state: &G, priors: &[f32]) {
        state.legal_actions(&mut self.actions);
        if self.actions.is_empty() || self.nodes.len() + self.actions.len() > self.config.max_nodes
        {
            self.tree_full |= !self.actions.is_empty();
            return;
        }
        let mut total = 0.0f32;
        for &a in &self.actions {
            let p = priors[a as usize];
            if p.is_finite() && p > 0.0 {
                total += p;
            }
        }
        let uniform = 1.0 / self.actions.len() as f32;
        let first = self.nodes.len();
        for &a in &self.actions {
            let p = priors[a as usize];
            let prior = if total > 0.0 && p.is_finite() && p > 0.0 {
                p / total
            } else if total > 0.0 {
                0.0
            } else {
                uniform
            };
            self.nodes.push(Node::new(a, prior));
        }
        let n = &mut self.nodes[node];
        n.first_child = first as u32;
        n.num_children = self.actions.len() as u16;
        if node == 0 {
            self.add_root_noise();
        }
    }

    /// Mixes Dirichlet noise into the root priors, once per root.
    fn add_root_noise(&mut self) {
        let eps = self.config.dirichlet_epsilon;
        if eps <= 0.0 || self.root_noised || !self.nodes[0].expanded() {
            return;
        }
        self.root_noised = true;
        let range = self.nodes[0].children();
        let mut eta: Vec<f64> = range
            .clone()
            .map(|_| self.noise.sample(&mut self.rng))
            .collect();
        let sum: f64 = eta.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return;
        }
        for e in &mut eta {
            *e /= sum;
        }
        for (i, e) in range.zip(eta) {
            let p = f64::from(self.nodes[i].prior);
            self.nodes[i].prior = ((1.0 - eps) * p + eps * e) as f32;
        }
    }

    #[inline]
    fn select_child(&self, node: usize) -> usize {
        let parent = &self.nodes[node];
        let vl = self.config.virtual_loss;
        let n_parent = f64::from(parent.visits) + vl * f64::from(parent.virtual_visits);
        let sqrt_n = n_parent.max(1.0).sqrt();
        let c = self.config.c_puct * sqrt_n;
        let mut best = parent.first_child as usize;
        let mut best_score = f64::NEG_INFINITY;
        for i in parent.children() {
            let ch = &self.nodes[i];
            let virt = vl * f64::from(ch.virtual_visits);
            let n = f64::from(ch.visits) + virt;
            let q = if n > 0.0 {
                (ch.value - virt) / n
            } else {
                self.config.fpu
            };
            let score = q + c * f64::from(ch.prior) / (1.0 + n);
            if score > best_score {
                best_score = score;
                best = i;
            }
        }
        best
    }

    /// Backs `leaf_value` (the return for the player to move at the leaf) up `path`.
    fn backup(&mut self, path: &[u32], leaf_value: f64, had_virtual: bool) {
        let mut g = leaf_value;
        for (depth, &i) in path.iter().enumerate().rev() {
            let n = &mut self.nodes[i as usize];
            if had_virtual {
                n.virtual_visits -= 1;
            }
            n.visits += 1;
            if depth > 0 {
                g = backup_step(f64::from(n.reward), f64::from(n.discount), n.same_player, g);
                n.value += g;
            } else {
                n.value += g;
            }
        }
    }

    /// Statistics of the root's children (mean values for the player to move at the root).
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

    /// The root's value for the player to move there: the visit-weighted mean value of its
    /// children ([`Puct::root_children`]), 0 before any child was visited.
    pub fn root_value(&self) -> f64 {
        let (mut sum, mut visits) = (0.0, 0u64);
        for i in self.nodes[0].children() {
            sum += self.nodes[i].value;
            visits += u64::from(self.nodes[i].visits);
        }
        if visits > 0 { sum / visits as f64 } else { 0.0 }
    }

    /// The prior of every root child (after noise), as `(action, prior)`.
    pub fn root_priors(&self) -> Vec<(Action, f32)> {
        self.nodes[0]
            .children()
            .map(|i| (self.nodes[i].action, self.nodes[i].prior))
            .collect()
    }

    /// The visit distribution at the root over all `G::NUM_ACTIONS` actions (the policy
    /// target of AlphaZero); all zero before any child was visited.
    pub fn visit_distribution(&self) -> Vec<f32> {
        let mut out = vec![0.0f32; G::NUM_ACTIONS];
        let mut total = 0.0f64;
        for i in self.nodes[0].children() {
            total += f64::from(self.nodes[i].visits);
        }
        if total > 0.0 {
            for i in self.nodes[0].children() {
                let n = &self.nodes[i];
                out[n.action as usize] = (f64::from(n.visits) / total) as f32;
            }
        }
        out
    }

    /// The move the search recommends (rule [`PuctConfig::final_move`]); `None` at a terminal
    /// root, the first legal action before any search.
    pub fn best_action(&self) -> Option<Action> {
        best_root_action(
            &self.root_state,
            || self.root_children(),
            self.config.final_move,
        )
    }

    /// The move of self-play's temperature schedule (AlphaGo Zero): drawn at temperature 1 (in
    /// proportion to visits) while fewer than `temperature_moves` moves have been played in the
    /// episode (`moves_played`), the greedy [`Puct::best_action`] afterwards. A
    /// [`MctsError::Inconsistent`] when the root has no move to play.
    pub fn select_scheduled_move(
        &mut self,
        moves_played: usize,
        temperature_moves: usize,
    ) -> Result<Action, MctsError> {
        let temperature = if moves_played < temperature_moves {
            1.0
        } else {
            0.0
        };
        self.select_move(temperature)
            .ok_or(MctsError::Inconsistent {
                node: 0,
                reason: "no move at a non-terminal root".into(),
            })
    }

    /// The move to play at `temperature`: 0 plays [`Puct::best_action`]; otherwise a move is
    /// drawn with probability proportional to `visits^(1 / temperature)`.
    pub fn select_move(&mut self, temperature: f64) -> Option<Action> {
        if temperature <= 0.0 || !temperature.is_finite() {
            return self.best_action();
        }
        let children = self.root_children();
        let weights: Vec<f64> = children
            .iter()
            .map(|c| f64::from(c.visits).powf(1.0 / temperature))
            .collect();
        let total: f64 = weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return self.best_action();
        }
        let mut x = self.rng.random::<f64>() * total;
        for (c, w) in children.iter().zip(&weights) {
            if x < *w {
                return Some(c.action);
            }
            x -= w;
        }
        children
            .iter()
            .zip(&weights)
            .rev()
            .find(|(_, w)| **w > 0.0)
            .map(|(c, _)| c.action)
    }

    /// Plays `action` at the root, keeping the subtree below it. Waiting leaves are dropped.
    pub fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        self.root_state.legal_actions(&mut self.actions);
        if !self.actions.contains(&action) {
            return Err(MctsError::IllegalAction { action });
        }
        self.abandon_pending();
        let child = self.nodes[0]
            .children()
            .find(|&i| self.nodes[i].action == action);
        self.root_state.apply(action);
        self.root_noised = false;
        self.tree_full = false;
        let Some(child) = child else {
            self.nodes.clear();
            self.nodes.push(Node::new(0, 1.0));
            return Ok(());
        };
        self.nodes = subtree(&self.nodes, child, self.nodes.len() / 4);
        Ok(())
    }

    /// Verifies the tree: child ranges in bounds, no virtual loss left over, child priors
    /// summing to 1, and for every expanded node `visits = sum of child visits + 1` (its own
    /// evaluation before it was expanded). Returns the first violation as
    /// [`MctsError::Inconsistent`].
    pub fn check_invariants(&self) -> Result<(), MctsError> {
        let bad = |node: usize, reason: String| Err(MctsError::Inconsistent { node, reason });
        for (i, n) in self.nodes.iter().enumerate() {
            if n.virtual_visits != 0 || n.pending {
                return bad(i, format!("{} virtual visits left", n.virtual_visits));
            }
            if !n.expanded() {
                continue;
            }
            let range = n.children();
            if range.end > self.nodes.len() || range.start <= i {
                return bad(i, format!("children {range:?} out of bounds"));
            }
            let sum: u64 = range.map(|c| u64::from(self.nodes[c].visits)).sum();
            if u64::from(n.visits) != sum + 1 {
                return bad(
                    i,
                    format!(
                        "{} visits but its children have {sum} (expected + 1)",
                        n.visits
                    ),
                );
            }
            let priors: f32 = n.children().map(|c| self.nodes[c].prior).sum();
            if (priors - 1.0).abs() > 1e-3 {
                return bad(i, format!("child priors sum to {priors}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_noise_has_the_dirichlet_mean_and_variance() {
        // With eps = 1 and a uniform network the root priors are the noise itself, a draw
        // from the symmetric Dirichlet of concentration alpha over the 9 moves: mean 1/9,
        // variance (k - 1) / (k^2 (k alpha + 1)).
        use crate::TicTacToe;
        use crate::alphazero::UniformEvaluator;
        let eval = UniformEvaluator {
            input_len: TicTacToe::INPUT_LEN,
            num_actions: 9,
        };
        for alpha in [0.3, 1.0, 2.5] {
            let n = 3000;
            let mut first = Vec::with_capacity(n);
            for seed in 0..n as u64 {
                let config = PuctConfig {
                    dirichlet_alpha: alpha,
                    dirichlet_epsilon: 1.0,
                    seed,
                    ..PuctConfig::default()
                };
                let mut s = Puct::new(config, TicTacToe::new()).unwrap();
                s.search(&eval, 1).unwrap();
                let priors = s.root_priors();
                let total: f32 = priors.iter().map(|p| p.1).sum();
                assert!((total - 1.0).abs() < 1e-5, "{total}");
                assert!(priors.iter().all(|p| p.1 >= 0.0 && p.1.is_finite()));
                first.push(f64::from(priors[0].1));
            }
            let k = 9.0;
            let mean = first.iter().sum::<f64>() / n as f64;
            let var = first.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            let expected_var = (k - 1.0) / (k * k * (k * alpha + 1.0));
            let se = (expected_var / n as f64).sqrt();
            assert!(
                (mean - 1.0 / k).abs() < 5.0 * se,
                "alpha {alpha}: mean {mean}"
            );
            assert!(
                (var - expected_var).abs() < 0.15 * expected_var,
                "alpha {alpha}: variance {var}, expected {expected_var}"
            );
        }
    }
}
