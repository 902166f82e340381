//! Progress bars for long runs: drawn on standard error once a run has lasted
//! [`SHOW_AFTER`], when standard error is a terminal; hidden otherwise, when asked
//! ([`Progress::Hidden`]) or when `PAR_CORE_PROGRESS=0`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Progress;

/// How long a run goes before its bar appears: short runs (often inside loops) stay silent.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A task-count bar that stays hidden until the run has lasted [`SHOW_AFTER`].
#[derive(Debug)]
pub struct TaskBar {
    bar: ProgressBar,
    start: Instant,
    can_show: bool,
    shown: AtomicBool,
}

impl TaskBar {
    /// A bar for `n` tasks labelled `label` under `policy`.
    pub fn new(policy: Progress, n: usize, label: &str) -> Self {
        let quiet = std::env::var("PAR_CORE_PROGRESS").is_ok_and(|v| v == "0");
        let can_show = policy == Progress::Auto && !quiet && std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::hidden());
        if can_show {
            let style = ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} tasks, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(label.to_string());
        }
        Self {
            bar,
            start: Instant::now(),
            can_show,
            shown: AtomicBool::new(false),
        }
    }

    /// A bar that never draws.
    pub fn hidden() -> Self {
        Self::new(Progress::Hidden, 0, "")
    }

    /// One more task done.
    pub fn inc(&self) {
        self.bar.inc(1);
        if self.can_show
            && !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
