//! Refusing a problem size that cannot fit in memory, before allocating it: an allocation that
//! fails aborts the process, losing everything; a refusal names the size and the limit.
//!
//! ```
//! // 1000 x 1000 doubles fit; 10^6 x 10^6 do not.
//! assert!(par_cli::memory::ensure_fits("a 1000 x 1000 grid", 8 * 1000 * 1000).is_ok());
//! let err = par_cli::memory::ensure_fits("a 10^6 x 10^6 grid", 8 * 1_000_000u128 * 1_000_000)
//!     .unwrap_err();
//! assert!(err.to_string().contains("choose a smaller size"));
//! ```

use crate::CliError;

/// The share of the available memory one run may plan to use.
pub const SHARE_OF_AVAILABLE: f64 = 0.8;

/// Bytes of memory available to new allocations (`MemAvailable` of `/proc/meminfo`), or `None`
/// where the platform does not say.
pub fn available_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Succeeds when `needed` bytes fit within [`SHARE_OF_AVAILABLE`] of the available memory
/// (always, where the platform does not say how much is available).
///
/// # Errors
/// [`CliError::TooLarge`] naming `what`, the size and the limit.
pub fn ensure_fits(what: &str, needed: u128) -> Result<(), CliError> {
    let Some(available) = available_bytes() else {
        return Ok(());
    };
    let limit = (available as f64 * SHARE_OF_AVAILABLE) as u128;
    if needed <= limit {
        Ok(())
    } else {
        Err(CliError::TooLarge {
            what: what.to_string(),
            needed,
            available,
            limit,
        })
    }
}

/// `1.5 GiB`, `512 KiB`, `10 B`.
pub fn human_bytes(bytes: u128) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(80 * 1024 * 1024 * 1024), "80.0 GiB");
    }

    #[test]
    fn this_machine_reports_its_memory() {
        if cfg!(target_os = "linux") {
            assert!(available_bytes().unwrap() > 0);
        }
    }
}
