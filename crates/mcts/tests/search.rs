//! Search invariants and playing strength on small cases, sequential and tree-parallel.

use mcts::tictactoe::negamax;
use mcts::{
    Action, Connect4, FinalMove, Game, MctsError, ParallelConfig, Rollout, TicTacToe,
    TreeParallelUct, Uct, UctConfig,
};

fn config(seed: u64) -> UctConfig {
    UctConfig {
        seed,
        ..UctConfig::default()
    }
}

#[test]
fn searches_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Uct<Connect4>>();
    assert_send_sync::<TreeParallelUct<Connect4>>();
    assert_send_sync::<MctsError>();
}

#[test]
fn config_errors_name_the_field() {
    let bad = UctConfig {
        exploration: -1.0,
        ..UctConfig::default()
    };
    let err = Uct::new(bad, TicTacToe::new()).unwrap_err();
    assert!(matches!(
        err,
        MctsError::Config {
            field: "exploration",
            ..
        }
    ));
    let par = ParallelConfig {
        threads: 0,
        virtual_loss: 1.0,
    };
    let err = TreeParallelUct::new(UctConfig::default(), par, TicTacToe::new()).unwrap_err();
    assert!(matches!(
        err,
        MctsError::Config {
            field: "threads",
            ..
        }
    ));
    let par = ParallelConfig {
        threads: 2,
        virtual_loss: f64::NAN,
    };
    let err = TreeParallelUct::new(UctConfig::default(), par, TicTacToe::new()).unwrap_err();
    assert!(matches!(
        err,
        MctsError::Config {
            field: "virtual_loss",
            ..
        }
    ));
}

#[test]
fn sequential_search_is_reproducible() {
    let run = || {
        let mut s = Uct::new(config(5), Connect4::new()).unwrap();
        s.search(3_000);
        s.root_children()
    };
    assert_eq!(run(), run());
}

#[test]
fn uct_plays_tic_tac_toe_without_losing_the_draw() {
    for seed in 0..4 {
        let mut state = TicTacToe::new();
        let mut search = Uct::new(config(seed), state).unwrap();
        while !state.is_terminal() {
            search.search(3_000);
            search.check_invariants().unwrap();
            let a = search.best_action().unwrap();
            let before = negamax(&state);
            let mut after = state;
            let won = after.apply(a) > 0.0;
            let value = if won {
                1
            } else if after.is_terminal() {
                0
            } else {
                -negamax(&after)
            };
            assert_eq!(value, before, "seed {seed}: move {a} drops the value");
            search.advance(a).unwrap();
            search.check_invariants().unwrap();
            state = after;
        }
        assert!(
            !state.last_move_won(),
            "seed {seed}: self-play should be a draw"
        );
    }
}

#[test]
fn tree_reuse_keeps_the_subtree_statistics() {
    let mut search = Uct::new(config(3), Connect4::new()).unwrap();
    search.search(5_000);
    let best = search.best_action().unwrap();
    let kept = search
        .root_children()
        .iter()
        .find(|c| c.action == best)
        .unwrap()
        .visits;
    search.advance(best).unwrap();
    assert_eq!(search.root_visits(), kept);
    search.check_invariants().unwrap();
    search.search(1_000);
    assert_eq!(search.root_visits(), kept + 1_000);
    search.check_invariants().unwrap();
    assert!(matches!(
        search.advance(99),
        Err(MctsError::IllegalAction { action: 99 })
    ));
}

/// Connect Four positions with a forced win for the side to move, and the winning columns.
fn forced_wins() -> Vec<(Connect4, Vec<Action>)> {
    vec![
        // Immediate win in column 1 (X has three stacked there).
        (Connect4::from_moves("121212").unwrap(), vec![0]),
        // X has 2, 3, 4 on the bottom row with both ends open: column 1 or 5 wins at once.
        (Connect4::from_moves("263647").unwrap(), vec![0, 4]),
    ]
}

#[test]
fn sequential_search_finds_forced_wins() {
    for (state, wins) in forced_wins() {
        for rule in [FinalMove::MostVisits, FinalMove::BestValue] {
            let cfg = UctConfig {
                final_move: rule,
                ..config(11)
            };
            let mut s = Uct::new(cfg, state).unwrap();
            let a = s.search(2_000).best_action.unwrap();
            assert!(
                wins.contains(&a),
                "{rule:?} chose {a} in\n{}",
                state.position()
            );
        }
    }
}

#[test]
fn sequential_search_blocks_a_threat() {
    // X threatens column 1; every other move loses at once.
    let state = Connect4::from_moves("12121").unwrap();
    for rollout in [Rollout::Random, Rollout::Heuristic] {
        let mut s = Uct::new(
            UctConfig {
                rollout,
                ..config(2)
            },
            state,
        )
        .unwrap();
        assert_eq!(s.search(5_000).best_action, Some(0), "{rollout:?}");
    }
}

#[test]
fn parallel_trees_are_consistent_with_and_without_virtual_loss() {
    for threads in [1, 2, 4] {
        for virtual_loss in [0.0, 1.0, 3.0] {
            let par = ParallelConfig {
                threads,
                virtual_loss,
            };
            let mut s = TreeParallelUct::new(config(9), par, Connect4::new()).unwrap();
            let summary = s.search(20_000);
            assert_eq!(summary.simulations, 20_000);
            assert_eq!(
                s.root_visits(),
                20_000,
                "{threads} threads, vl {virtual_loss}"
            );
            s.check_invariants().unwrap();
            let total: u32 = s.root_children().iter().map(|c| c.visits).sum();
            assert_eq!(total, 20_000);
            // Searching again on the same tree keeps every count exact.
            s.search(5_000);
            assert_eq!(s.root_visits(), 25_000);
            s.check_invariants().unwrap();
        }
    }
}

#[test]
fn parallel_tree_reuse_keeps_counts_exact() {
    let par = ParallelConfig {
        threads: 2,
        virtual_loss: 1.0,
    };
    let mut s = TreeParallelUct::new(config(4), par, Connect4::new()).unwrap();
    s.search(10_000);
    let best = s.best_action().unwrap();
    let kept = s
        .root_children()
        .iter()
        .find(|c| c.action == best)
        .unwrap()
        .visits;
    s.advance(best).unwrap();
    assert_eq!(s.root_visits(), kept);
    s.check_invariants().unwrap();
    s.search(3_000);
    assert_eq!(s.root_visits(), kept + 3_000);
    s.check_invariants().unwrap();
}

#[test]
fn one_thread_parallel_search_is_reproducible() {
    let run = || {
        let par = ParallelConfig {
            threads: 1,
            virtual_loss: 1.0,
        };
        let mut s = TreeParallelUct::new(config(8), par, Connect4::new()).unwrap();
        s.search(3_000);
        s.root_children()
    };
    assert_eq!(run(), run());
}

#[test]
fn parallel_search_finds_forced_wins() {
    for (state, wins) in forced_wins() {
        for virtual_loss in [0.0, 1.0] {
            let par = ParallelConfig {
                threads: 2,
                virtual_loss,
            };
            let mut s = TreeParallelUct::new(config(13), par, state).unwrap();
            let a = s.search(4_000).best_action.unwrap();
            assert!(wins.contains(&a), "vl {virtual_loss}: chose {a}");
            s.check_invariants().unwrap();
        }
    }
    let state = Connect4::from_moves("12121").unwrap();
    let par = ParallelConfig {
        threads: 2,
        virtual_loss: 1.0,
    };
    let mut s = TreeParallelUct::new(config(1), par, state).unwrap();
    assert_eq!(s.search(10_000).best_action, Some(0));
}

#[test]
fn a_tiny_arena_stops_growing_but_stays_consistent() {
    let cfg = UctConfig {
        max_nodes: 50,
        ..config(1)
    };
    let mut s = Uct::new(cfg.clone(), Connect4::new()).unwrap();
    let summary = s.search(1_000);
    assert!(summary.tree_full && summary.nodes <= 50);
    s.check_invariants().unwrap();
    let par = ParallelConfig {
        threads: 2,
        virtual_loss: 1.0,
    };
    let mut p = TreeParallelUct::new(cfg, par, Connect4::new()).unwrap();
    let summary = p.search(1_000);
    assert!(summary.tree_full && summary.nodes <= 50);
    assert_eq!(p.root_visits(), 1_000);
    p.check_invariants().unwrap();
}

/// A single-agent environment with discounting: at step 0, action 0 ends the episode with
/// reward 1; action 1 gives 0 and leads to a step where either action ends with reward 2.
#[derive(Clone)]
struct Delayed {
    step: u8,
    done: bool,
    gamma: f64,
}

impl Game for Delayed {
    const NUM_ACTIONS: usize = 2;
    fn current_player(&self) -> u8 {
        0
    }
    fn is_terminal(&self) -> bool {
        self.done
    }
    fn legal_actions(&self, out: &mut Vec<Action>) {
        out.clear();
        if !self.done {
            out.extend([0, 1]);
        }
    }
    fn apply(&mut self, action: Action) -> f64 {
        self.step += 1;
        if self.step == 1 && action == 0 {
            self.done = true;
            1.0
        } else if self.step == 2 {
            self.done = true;
            2.0
        } else {
            0.0
        }
    }
    fn discount(&self) -> f64 {
        self.gamma
    }
}

#[test]
fn single_agent_returns_are_discounted_not_negated() {
    for (gamma, best) in [(0.9, 1), (0.4, 0)] {
        let env = Delayed {
            step: 0,
            done: false,
            gamma,
        };
        let cfg = UctConfig {
            final_move: FinalMove::BestValue,
            ..config(1)
        };
        let mut s = Uct::new(cfg, env.clone()).unwrap();
        s.search(400);
        assert_eq!(s.best_action(), Some(best), "gamma {gamma}");
        let delayed = s
            .root_children()
            .into_iter()
            .find(|c| c.action == 1)
            .unwrap();
        assert!(
            (delayed.mean_value - 2.0 * gamma).abs() < 1e-12,
            "{delayed:?}"
        );
        let par = ParallelConfig {
            threads: 2,
            virtual_loss: 1.0,
        };
        let mut p = TreeParallelUct::new(config(1), par, env).unwrap();
        p.search(400);
        let delayed = p
            .root_children()
            .into_iter()
            .find(|c| c.action == 1)
            .unwrap();
        assert!(
            (delayed.mean_value - 2.0 * gamma).abs() < 1e-9,
            "{delayed:?}"
        );
    }
}

#[test]
fn parallel_search_at_the_node_cap_stays_consistent() {
    // Many threads racing for the last free slots of small arenas.
    for max_nodes in [30, 200, 1_000] {
        for virtual_loss in [0.0, 1.0] {
            let cfg = UctConfig {
                max_nodes,
                ..config(max_nodes as u64)
            };
            let par = ParallelConfig {
                threads: 4,
                virtual_loss,
            };
            let mut p = TreeParallelUct::new(cfg, par, Connect4::new()).unwrap();
            let summary = p.search(5_000);
            assert!(summary.nodes <= max_nodes);
            assert_eq!(p.root_visits(), 5_000);
            p.check_invariants().unwrap();
        }
    }
}

#[test]
fn both_searches_play_a_drawn_game_through_the_search_trait() {
    use mcts::Search;
    let par = ParallelConfig {
        threads: 2,
        virtual_loss: 1.0,
    };
    let searches: Vec<Box<dyn Search<TicTacToe>>> = vec![
        Box::new(Uct::new(config(21), TicTacToe::new()).unwrap()),
        Box::new(TreeParallelUct::new(config(21), par, TicTacToe::new()).unwrap()),
    ];
    for mut search in searches {
        while !search.root_state().is_terminal() {
            let a = search.search(4_000).best_action.unwrap();
            assert!(search.root_children().iter().any(|c| c.action == a));
            search.advance(a).unwrap();
        }
        assert!(
            !search.root_state().last_move_won(),
            "self-play should be a draw"
        );
        assert_eq!(search.best_action(), None);
    }
}

fn executor(mode: par_core::Mode) -> par_core::Executor {
    par_core::Executor::new(par_core::ExecConfig {
        mode,
        progress: par_core::Progress::Hidden,
        ..par_core::ExecConfig::default()
    })
    .unwrap()
}

#[test]
fn root_parallel_results_do_not_depend_on_the_worker_count() {
    use mcts::RootParallelUct;
    use par_core::Mode;
    let run = |mode| {
        let exec = executor(mode);
        let mut s = RootParallelUct::new(config(6), 4, Connect4::new()).unwrap();
        let summary = s.search(&exec, 2_000).unwrap();
        assert_eq!(summary.simulations, 8_000);
        let children = s.root_children();
        assert_eq!(
            children.iter().map(|c| u64::from(c.visits)).sum::<u64>(),
            8_000
        );
        (children, summary.best_action)
    };
    let sequential = run(Mode::Sequential);
    assert_eq!(run(Mode::Threads { workers: 2 }), sequential);
    assert_eq!(run(Mode::Threads { workers: 3 }), sequential);
}

#[test]
fn root_parallel_blocks_threats_and_reuses_trees() {
    use mcts::RootParallelUct;
    let exec = executor(par_core::Mode::Threads { workers: 2 });
    let state = Connect4::from_moves("12121").unwrap();
    let mut s = RootParallelUct::new(config(2), 2, state).unwrap();
    assert_eq!(s.search(&exec, 3_000).unwrap().best_action, Some(0));
    let kept: u32 = s
        .root_children()
        .iter()
        .find(|c| c.action == 0)
        .unwrap()
        .visits;
    s.advance(0).unwrap();
    let after: u32 = s.root_children().iter().map(|c| c.visits).sum();
    assert!(
        after > 0 && after < kept,
        "reused subtrees carry their visits ({after} of {kept})"
    );
    assert!(RootParallelUct::new(config(2), 0, state).is_err());
}
