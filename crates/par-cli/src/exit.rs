//! The exit path of every example: errors with their causes, quiet broken pipes, no panic
//! dumps.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     par_cli::main_with(|| {
//!         let text = std::fs::read_to_string("input.json")
//!             .map_err(|e| anyhow::anyhow!(e).context("reading input.json"))?;
//!         println!("{} bytes", text.len());
//!         Ok(())
//!     })
//! }
//! ```
//!
//! - An error is printed as `error: <what>` followed by one `  caused by: <cause>` line per
//!   source, and the exit code is 1. In an MPI job of several ranks every rank that fails says
//!   so, its line prefixed with `rank R: `.
//! - A closed standard output (the reader of a pipe went away, as with `example | head`) ends
//!   the program quietly with exit code 0, whether it surfaces as an error or as the panic of
//!   `println!`.
//! - Any other panic is a bug: one line says so, with its message and location, and the exit
//!   code is 101.

use std::io::ErrorKind;
use std::panic::{AssertUnwindSafe, PanicHookInfo, catch_unwind};
use std::process::ExitCode;

/// The exit code of a panic (a bug), as Rust's own.
pub const PANIC_EXIT: u8 = 101;

/// Runs `body` as a program's main and maps its outcome to an exit code (see the
/// [module docs](self)).
pub fn main_with(body: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    std::panic::set_hook(Box::new(panic_hook));
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            // In an MPI job of several ranks, each rank says which it is.
            match par_core::mpi::size() {
                1 => eprintln!("{}", describe(&e)),
                _ => eprintln!("rank {}: {}", par_core::mpi::rank(), describe(&e)),
            }
            ExitCode::FAILURE
        }
        // The hook has said what happened.
        Err(_) => ExitCode::from(PANIC_EXIT),
    }
}

/// `error: ...` and one `caused by:` line per source.
pub fn describe(e: &anyhow::Error) -> String {
    let mut text = format!("error: {e}");
    for cause in e.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    text
}

/// Whether a closed pipe is somewhere in the chain of causes.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
    })
}

fn panic_hook(info: &PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    // `println!` panics with this message when the reader of stdout has gone away.
    if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
        std::process::exit(0);
    }
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    eprintln!("internal error (a bug; please report it with the command line): {message}{place}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_list_their_causes() {
        let e =
            anyhow::Error::new(std::io::Error::other("no such file")).context("reading model.onnx");
        assert_eq!(
            describe(&e),
            "error: reading model.onnx\n  caused by: no such file"
        );
        assert!(!is_broken_pipe(&e));
        let pipe = anyhow::Error::new(std::io::Error::from(ErrorKind::BrokenPipe)).context("x");
        assert!(is_broken_pipe(&pipe));
    }

    #[test]
    fn outcomes_map_to_exit_codes() {
        assert_eq!(main_with(|| Ok(())), ExitCode::SUCCESS);
        assert_eq!(main_with(|| anyhow::bail!("bad input")), ExitCode::FAILURE);
        let pipe = || Err(std::io::Error::from(ErrorKind::BrokenPipe).into());
        assert_eq!(main_with(pipe), ExitCode::SUCCESS);
        assert_eq!(main_with(|| panic!("a bug")), ExitCode::from(PANIC_EXIT));
        let _ = std::panic::take_hook();
    }
}
