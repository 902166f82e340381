//! The Picard step (HJB sweep with Newton and tridiagonal solves, Fokker-Planck sweep, damping)
//! allocates nothing: every buffer comes from `Solver::new` and `Solver::init`. Checked with a
//! counting global allocator that counts only the allocations of the thread being watched (the
//! test harness's own threads may allocate at any time). The same allocator measures the peak
//! memory of a whole solve against `MfgConfig::solve_bytes`, the estimate the examples check
//! against the memory available before they build a user-chosen size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use mfg::*;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated minus bytes freed by the measured thread while measured, and its maximum.
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static MEASURED: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHED.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        if MEASURED.with(Cell::get) {
            let live = LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
            PEAK.fetch_max(live + layout.size() as isize, Ordering::SeqCst);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if MEASURED.with(Cell::get) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        }
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

/// `MfgConfig::solve_bytes` is within 10 % of the peak memory a solve really allocates (with and
/// without Anderson acceleration), so a size refused for memory would really not have fitted.
#[test]
fn the_memory_estimate_of_a_solve_matches_what_it_allocates() {
    for depth in [0, 5] {
        let cfg = MfgConfig {
            nx: 300,
            nt: 200,
            solver: SolverConfig {
                anderson_depth: depth,
                ..SolverConfig::default()
            },
            ..MfgConfig::default()
        };
        LIVE.store(0, Ordering::SeqCst);
        PEAK.store(0, Ordering::SeqCst);
        MEASURED.with(|w| w.set(true));
        let solution = cfg.solver().unwrap().solve(None).unwrap();
        MEASURED.with(|w| w.set(false));
        assert!(solution.converged());
        drop(solution);
        let peak = PEAK.load(Ordering::SeqCst) as f64;
        let estimate = cfg.solve_bytes() as f64;
        eprintln!("depth {depth}: peak {peak} bytes, estimate {estimate}");
        assert!(
            (peak - estimate).abs() <= 0.1 * peak,
            "depth {depth}: the estimate {estimate} is not within 10 % of the peak {peak}"
        );
    }
}
