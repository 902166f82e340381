//! Network evaluation allocates nothing in the step loop: 1,000 forward passes allocate
//! nothing, and a 900-step creature episode allocates only its few buffers, made once. Counted
//! with `allocation-counter`, which counts the allocations of the calling thread only (so tests
//! running beside each other do not count into each other).

use neuroevo::network::{Mlp, NetworkConfig};
use neuroevo::task::{TaskConfig, TaskKind};

/// `f`'s result and the allocations this thread made while it ran.
fn count<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let mut out = None;
    let info = allocation_counter::measure(|| out = Some(f()));
    (out.expect("measure runs the closure"), info.count_total)
}

#[test]
fn the_counter_counts_this_threads_allocations() {
    let (v, n) = count(|| std::hint::black_box(vec![1u8; 64]));
    assert_eq!((v.len(), n), (64, 1));
}

#[test]
fn forward_passes_do_not_allocate() {
    let cfg = NetworkConfig {
        hidden: vec![8, 4],
        recurrent: true,
    };
    let mlp = Mlp::new(5, 2, &cfg).unwrap();
    let w: Vec<f64> = (0..mlp.n_weights())
        .map(|i| (i as f64 * 0.37).sin())
        .collect();
    let mut scratch = mlp.scratch();
    let input = [0.1, -0.2, 0.3, 0.0, 1.0];
    let (sum, n) = count(|| {
        let mut s = 0.0;
        for _ in 0..1000 {
            s += mlp.forward(&w, &input, &mut scratch)[0];
        }
        s
    });
    assert!(sum.is_finite());
    assert_eq!(n, 0, "forward passes allocated {n} times");
}

#[test]
fn an_episode_allocates_only_its_buffers() {
    let task = TaskConfig::new(TaskKind::Creature).build().unwrap();
    let w: Vec<f64> = (0..task.genome_len())
        .map(|i| (i as f64 * 0.11).cos())
        .collect();
    let (_, n) = count(|| task.evaluate(&w, 0));
    assert!(n <= 3, "a 900-step creature episode allocated {n} times");
}
