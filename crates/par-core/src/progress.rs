//! Progress bars for long runs: drawn on standard error when it is a terminal, hidden
//! otherwise or when asked.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Progress;

/// A bar for `n` tasks labelled `label`, or a hidden one when `policy` is `Hidden`, when
/// standard error is not a terminal, or when `PAR_CORE_PROGRESS=0`.
pub fn bar(policy: Progress, n: usize, label: &str) -> ProgressBar {
    let quiet = std::env::var("PAR_CORE_PROGRESS").is_ok_and(|v| v == "0");
    if policy == Progress::Hidden || quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} tasks, eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(label.to_string());
    bar
}
