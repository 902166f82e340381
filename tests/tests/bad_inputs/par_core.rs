//! par-core's example: `pi`.

use integration_tests::examples::Case;

/// The rows of par-core's example `pi`.
pub fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    // par-core: pi.
    c.extend([
        Case::succeeds("pi", "a small run", &["--tasks", "4", "--points", "10"]),
        Case::succeeds("pi", "help", &["--help"]),
        Case::refuses(
            "pi",
            "zero tasks",
            &["--tasks", "0"],
            &["--tasks", "minimum 1"],
        ),
        Case::refuses(
            "pi",
            "negative tasks",
            &["--tasks", "-1"],
            &["--tasks", "minimum 1"],
        ),
        Case::refuses("pi", "huge task count", &["--tasks", "1e30"], &["--tasks"]),
        Case::refuses("pi", "NaN darts", &["--points", "NaN"], &["--points"]),
        Case::refuses(
            "pi",
            "zero workers",
            &["--workers", "0"],
            &["--workers", "minimum 1"],
        ),
        Case::refuses(
            "pi",
            "5000 workers",
            &["--workers", "5000"],
            &["--workers", "per core"],
        ),
        Case::refuses("pi", "unknown mode", &["--mode", "gpu"], &["--mode", "gpu"]),
        Case::refuses("pi", "negative seed", &["--seed", "-3"], &["--seed"]),
        Case::refuses("pi", "unknown option", &["--bogus"], &["--bogus"]),
        Case::refuses(
            "pi",
            "unwritable output",
            &["--tasks", "2", "--out", "/proc/no-such-dir/pi.json"],
            &["/proc/no-such-dir/pi.json"],
        ),
        Case::refuses(
            "pi",
            "output is a folder",
            &["--tasks", "2", "--out", "{fixtures}/a-folder"],
            &["a-folder", "is a folder"],
        ),
    ]);
    c
}
