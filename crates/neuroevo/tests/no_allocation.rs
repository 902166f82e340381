//! Network evaluation allocates nothing in the step loop: 1,000 forward passes allocate
//! nothing, and a 900-step creature episode allocates only its few buffers, made once. Checked
//! with a counting global allocator that counts only the watched thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use neuroevo::network::{Mlp, NetworkConfig};
use neuroevo::task::{TaskConfig, TaskKind};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHED.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn count<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    WATCHED.with(|w| w.set(true));
    let out = f();
    WATCHED.with(|w| w.set(false));
    (out, ALLOCATIONS.load(Ordering::SeqCst) - before)
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
