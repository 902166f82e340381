//! The [`Game`] trait: what a search needs to know about a game or an environment.
//!
//! # One trait for two-player zero-sum games and single-agent environments
//!
//! Every state says who is to move ([`Game::current_player`]). Applying an action returns the
//! immediate **reward to the player who acted** ([`Game::apply`]), and every state carries a
//! discount factor ([`Game::discount`]) applied to everything that happens after it.
//!
//! The search backs up returns from the point of view of the player who acted. If `r` is the
//! reward of the action that led from state `s` to state `s'`, and `G'` is the return for the
//! player to move in `s'`, then the return for the player who acted in `s` is
//!
//! ```text
//! G = r + gamma(s') * G'    when the same player is to move in s' (single agent, or a bonus move)
//! G = r - gamma(s') * G'    when the other player is to move in s'  (two-player zero-sum)
//! ```
//!
//! - A two-player zero-sum board game returns `+1` from the move that wins and `0` otherwise,
//!   with a discount of 1: the back-up above is then the usual negamax sign flip.
//! - A single-agent environment (one player, always player 0) returns its per-step reward and
//!   its discount: the back-up is the discounted return of reinforcement learning.
//!
//! Actions are small integers ([`Action`]) in `0..NUM_ACTIONS`, as in OpenSpiel, so that a
//! policy head can index them and a tree node can store them in two bytes.

use rand::Rng;

/// An action: an index in `0..G::NUM_ACTIONS` (for Connect Four the column, 0 = leftmost).
pub type Action = u16;

/// A game or environment that the search can play.
///
/// Implementations must be cheap to clone: the search clones the root state once per
/// simulation and then applies actions to the clone.
pub trait Game: Clone + Send + Sync {
    /// Number of distinct actions; every legal action is below this.
    const NUM_ACTIONS: usize;

    /// The player to move: 0 or 1 in a two-player game, always 0 for a single agent.
    fn current_player(&self) -> u8;

    /// Whether the game or episode is over (no legal actions remain).
    fn is_terminal(&self) -> bool;

    /// Writes the legal actions into `out` (cleared first), in a fixed order for a given state.
    /// Empty exactly when the state is terminal.
    fn legal_actions(&self, out: &mut Vec<Action>);

    /// Applies a legal action and returns the immediate reward to the player who took it.
    fn apply(&mut self, action: Action) -> f64;

    /// Discount applied to the returns that follow this state (1 for board games).
    fn discount(&self) -> f64 {
        1.0
    }

    /// Plays uniformly random legal actions to the end and returns the return for the player
    /// to move in `self` (0 when `self` is terminal). Games override this with a faster
    /// equivalent; the default uses [`Game::legal_actions`] and [`Game::apply`].
    fn random_rollout<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        default_rollout(self, rng, |_, actions, rng| {
            actions[rng.random_range(0..actions.len())]
        })
    }

    /// A rollout with a game-specific heuristic policy; defaults to [`Game::random_rollout`].
    /// Same return convention.
    fn heuristic_rollout<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.random_rollout(rng)
    }
}

/// Plays `choose(state, legal actions, rng)` to the end from `state` and returns the return
/// for the player to move in `state`, backed up with the sign and discount convention of the
/// [module docs](self).
pub fn default_rollout<G, R, F>(state: &G, rng: &mut R, mut choose: F) -> f64
where
    G: Game,
    R: Rng + ?Sized,
    F: FnMut(&G, &[Action], &mut R) -> Action,
{
    // Collect (reward, discount after, same player next) and fold back to front.
    let mut s = state.clone();
    let mut actions = Vec::with_capacity(G::NUM_ACTIONS);
    let mut steps: Vec<(f64, f64, bool)> = Vec::new();
    while !s.is_terminal() {
        s.legal_actions(&mut actions);
        if actions.is_empty() {
            break;
        }
        let a = choose(&s, &actions, rng);
        let player = s.current_player();
        let r = s.apply(a);
        steps.push((r, s.discount(), s.current_player() == player));
    }
    let mut g = 0.0;
    for &(r, gamma, same) in steps.iter().rev() {
        g = if same { r + gamma * g } else { r - gamma * g };
    }
    g
}

/// Return for the player who acted, given the reward of the action, the state after it (for its
/// discount and player) and the return `g_next` for the player to move in that state.
#[inline]
pub fn backup_step(reward: f64, discount: f64, same_player: bool, g_next: f64) -> f64 {
    if same_player {
        reward + discount * g_next
    } else {
        reward - discount * g_next
    }
}
