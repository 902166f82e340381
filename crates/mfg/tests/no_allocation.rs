//! The Picard step (HJB sweep with Newton and tridiagonal solves, Fokker-Planck sweep, damping)
//! allocates nothing: every buffer comes from `Solver::new` and `Solver::init`. Checked with a
//! counting global allocator that counts only the allocations of the thread being watched (the
//! test harness's own threads may allocate at any time).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use mfg::*;

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

#[test]
fn picard_steps_do_not_allocate() {
    for boundary in [Boundary::Reflecting, Boundary::Periodic] {
        let cfg = MfgConfig {
            boundary,
            solver: SolverConfig {
                damping_m: 0.7,
                damping_u: 0.9,
                ..SolverConfig::default()
            },
            ..MfgConfig::default()
        };
        let mut solver = cfg.solver().unwrap();
        let mut state = solver.init(None).unwrap();
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        WATCHED.with(|w| w.set(true));
        for _ in 0..5 {
            let _ = solver.step(&mut state);
            let _ = solver.terminate(&state);
        }
        WATCHED.with(|w| w.set(false));
        let after = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(
            after - before,
            0,
            "{boundary:?}: {} allocations in 5 steps",
            after - before
        );
        assert_eq!(state.iteration(), 5);
    }
}
