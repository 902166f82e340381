//! Root parallelism: independent UCT trees searched as par-core tasks, merged at the root.
//!
//! Cazenave and Jouandeau, "On the parallelization of UCT", Computer Games Workshop 2007;
//! Chaslot, Winands and van den Herik, "Parallel Monte-Carlo tree search", Computers and Games
//! 2008 (doi:10.1007/978-3-540-87608-3_6).
//!
//! Each of `trees` sequential [`Uct`] searches runs `simulations` simulations as task `i` of a
//! par-core [`Executor`] run; tree `i` is seeded from `(config.seed, i)` with
//! [`par_core::seed::task_rng`]. The root statistics are merged by summing visits and value
//! sums per action, in tree order. Trees share nothing, so this is the workload par-core's
//! executor is made for, and the result (the merged statistics and the move) is bit-identical
//! for any executor mode and worker count. Each tree is kept between calls and follows
//! [`RootParallelUct::advance`] (tree reuse).
//!
//! The trees of [`RootParallelUct`] live in the calling process, so its searches run in the
//! in-process modes. [`RootSearchJob`] is the same search for every mode, worker processes and
//! MPI ranks included: each call grows fresh trees (no reuse), tree `i` seeded as
//! [`RootParallelUct`]'s tree `i`, and only the root statistics travel back, so a search of a
//! fresh root gives the same merged statistics and move as [`RootParallelUct`]'s first search
//! of it, in any mode and on any number of ranks.

use std::sync::Mutex;

use par_core::Executor;
use rand::RngCore;

use crate::error::MctsError;
use crate::game::{Action, Game};
use crate::uct::{ChildStats, SearchSummary, Uct, UctConfig, best_root_action};

/// Several independent UCT trees over the same root, merged at the root.
///
/// ```
/// use mcts::{Connect4, RootParallelUct, UctConfig};
/// use par_core::{ExecConfig, Executor, Mode};
/// let exec = Executor::new(ExecConfig { mode: Mode::Threads { workers: 2 }, ..ExecConfig::default() })?;
/// let mut search = RootParallelUct::new(UctConfig::default(), 4, Connect4::new())?;
/// let summary = search.search(&exec, 1_000)?;
/// assert_eq!(summary.simulations, 4_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RootParallelUct<G: Game> {
    config: UctConfig,
    trees: Vec<Mutex<Uct<G>>>,
    root_state: G,
}

impl<G: Game> RootParallelUct<G> {
    /// `trees >= 1` independent searches from `root_state`; fails on an invalid config.
    pub fn new(config: UctConfig, trees: usize, root_state: G) -> Result<Self, MctsError> {
        if trees == 0 {
            return Err(MctsError::Config {
                field: "trees",
                reason: "must be at least 1".into(),
            });
        }
        let trees = (0..trees)
            .map(|i| tree(&config, i, &root_state).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            config,
            trees,
            root_state,
        })
    }

    /// The state at the root.
    pub fn root_state(&self) -> &G {
        &self.root_state
    }

    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// Runs `simulations_per_tree` simulations in every tree, one par-core task per tree.
    /// Fails when the executor does (for example a panicking task, or a `Processes` mode,
    /// which cannot share the trees).
    pub fn search(
        &mut self,
        executor: &Executor,
        simulations_per_tree: u64,
    ) -> Result<SearchSummary, MctsError> {
        let trees = &self.trees;
        let output = executor.map(trees.len(), |ctx| {
            let mut tree = trees[ctx.index].lock().unwrap_or_else(|e| e.into_inner());
            let s = tree.search(simulations_per_tree);
            (s.nodes, s.tree_full)
        })?;
        let per_tree = output.into_values()?;
        let simulations = if self.root_state.is_terminal() {
            0
        } else {
            simulations_per_tree * self.trees.len() as u64
        };
        Ok(SearchSummary {
            simulations,
            nodes: per_tree.iter().map(|&(n, _)| n).sum(),
            tree_full: per_tree.iter().any(|&(_, full)| full),
            best_action: self.best_action(),
        })
    }

    /// Root statistics summed over the trees (visits added, mean values weighted by visits),
    /// in legal-action order.
    pub fn root_children(&self) -> Vec<ChildStats> {
        merge(self.trees.iter().map(|tree| {
            tree.lock()
                .unwrap_or_else(|e| e.into_inner())
                .root_children()
        }))
    }

    /// The move chosen from the merged statistics by the configured final-move rule.
    pub fn best_action(&self) -> Option<Action> {
        best_root_action(
            &self.root_state,
            || self.root_children(),
            self.config.final_move,
        )
    }

    /// Plays `action` in every tree, keeping each subtree.
    pub fn advance(&mut self, action: Action) -> Result<(), MctsError> {
        for tree in &mut self.trees {
            tree.get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .advance(action)?;
        }
        self.root_state.apply(action);
        Ok(())
    }
}

/// Tree `i` of a root-parallel search: its seed drawn from `(config.seed, i)`.
fn tree<G: Game>(config: &UctConfig, i: usize, root_state: &G) -> Result<Uct<G>, MctsError> {
    let seed = par_core::seed::task_rng(config.seed, i).next_u64();
    let tree_config = UctConfig {
        seed,
        ..config.clone()
    };
    Uct::new(tree_config, root_state.clone())
}

/// The root statistics of several trees merged in tree order: visits added, mean values
/// weighted by visits, actions in the order first seen.
fn merge(trees: impl Iterator<Item = Vec<ChildStats>>) -> Vec<ChildStats> {
    let mut merged: Vec<(Action, u64, f64)> = Vec::new();
    for children in trees {
        for c in children {
            let sum = c.mean_value * f64::from(c.visits);
            match merged.iter_mut().find(|m| m.0 == c.action) {
                Some(m) => {
                    m.1 += u64::from(c.visits);
                    m.2 += sum;
                }
                None => merged.push((c.action, u64::from(c.visits), sum)),
            }
        }
    }
    merged
        .into_iter()
        .map(|(action, visits, sum)| ChildStats {
            action,
            visits: visits.min(u64::from(u32::MAX)) as u32,
            mean_value: if visits > 0 { sum / visits as f64 } else { 0.0 },
        })
        .collect()
}

/// A root-parallel search of fresh trees as a par-core job, for every mode (worker processes
/// and MPI ranks included): task `i` grows tree `i` of `trees` from the root for `simulations`
/// simulations and returns its root statistics. Register `RootSearchJob<G>` in a binary that
/// uses worker processes.
///
/// ```
/// use mcts::root_parallel::RootSearchJob;
/// use mcts::{Connect4, RootParallelUct, UctConfig};
/// use par_core::{ExecConfig, Executor, Mode};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let exec = Executor::new(ExecConfig::with_mode(Mode::Threads { workers: 2 }))?;
/// let job = RootSearchJob::new(UctConfig::default(), 4, Connect4::new(), 500)?;
/// let found = job.run_on(&exec)?;
/// assert_eq!(found.summary.simulations, 2_000);
/// // The same as the first search of an in-process root-parallel search.
/// let mut kept = RootParallelUct::new(UctConfig::default(), 4, Connect4::new())?;
/// assert_eq!(kept.search(&exec, 500)?, found.summary);
/// assert_eq!(kept.root_children(), found.children);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(bound = "G: serde::Serialize + serde::de::DeserializeOwned")]
pub struct RootSearchJob<G> {
    config: UctConfig,
    trees: usize,
    root_state: G,
    simulations: u64,
}

/// What a [`RootSearchJob`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct RootSearch {
    /// Simulations, nodes of all trees, whether any tree was full, and the move chosen from
    /// the merged statistics by the configured final-move rule.
    pub summary: SearchSummary,
    /// The root statistics merged over the trees, as [`RootParallelUct::root_children`].
    pub children: Vec<ChildStats>,
}

/// What one tree of a [`RootSearchJob`] returns: its root statistics, nodes, and whether it
/// was full.
pub type TreeRoot = (Vec<ChildStats>, usize, bool);

impl<G: Game> RootSearchJob<G> {
    /// `trees >= 1` fresh trees from `root_state`, `simulations` each; fails on an invalid
    /// config.
    pub fn new(
        config: UctConfig,
        trees: usize,
        root_state: G,
        simulations: u64,
    ) -> Result<Self, MctsError> {
        if trees == 0 {
            return Err(MctsError::Config {
                field: "trees",
                reason: "must be at least 1".into(),
            });
        }
        Uct::new(config.clone(), root_state.clone())?;
        Ok(Self {
            config,
            trees,
            root_state,
            simulations,
        })
    }

    /// Runs the trees through `exec` (in `Mode::Mpi`, a collective call whose result every
    /// rank gets) and merges their root statistics in tree order.
    pub fn run_on(&self, exec: &par_core::Executor) -> Result<RootSearch, MctsError>
    where
        G: serde::Serialize + serde::de::DeserializeOwned + 'static,
    {
        let roots = exec.run(self, self.trees)?.into_values()?;
        let mut per_tree = Vec::with_capacity(roots.len());
        for (i, r) in roots.into_iter().enumerate() {
            per_tree.push(r.map_err(|why| MctsError::Config {
                field: "trees",
                reason: format!("tree {i}: {why}"),
            })?);
        }
        let children = merge(per_tree.iter().map(|t| t.0.clone()));
        let best_action = best_root_action(
            &self.root_state,
            || children.clone(),
            self.config.final_move,
        );
        Ok(RootSearch {
            summary: SearchSummary {
                simulations: if self.root_state.is_terminal() {
                    0
                } else {
                    self.simulations * self.trees as u64
                },
                nodes: per_tree.iter().map(|t| t.1).sum(),
                tree_full: per_tree.iter().any(|t| t.2),
                best_action,
            },
            children,
        })
    }
}

impl<G: Game> par_core::Job for RootSearchJob<G> {
    /// The tree's root, or why it could not be grown.
    type Output = Result<TreeRoot, String>;
    fn run(&self, ctx: &mut par_core::TaskContext) -> Self::Output {
        let mut t = tree(&self.config, ctx.index, &self.root_state).map_err(|e| e.to_string())?;
        let s = t.search(self.simulations);
        Ok((t.root_children(), s.nodes, s.tree_full))
    }
}

impl<G> par_core::RemoteJob for RootSearchJob<G>
where
    G: Game + serde::Serialize + serde::de::DeserializeOwned,
{
    const NAME: &'static str = "mcts.root-parallel";
}
