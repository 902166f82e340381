//! The `solve` example's binary-side rules (its `cli_io` module): validated numbers, outputs
//! checked writable before work and written atomically.

#[allow(dead_code)]
#[path = "../examples/solve/cli_io.rs"]
mod cli_io;

#[test]
fn numbers_are_validated_with_the_range_in_the_message() {
    let budget = cli_io::float_in(0.0, 3600.0, true);
    assert_eq!(budget("1.5"), Ok(1.5));
    for bad in ["0", "-1", "NaN", "inf", "4000", "x"] {
        let e = budget(bad).unwrap_err();
        assert!(
            e.contains("(0, 3600]") || e.contains("not a number"),
            "{bad}: {e}"
        );
    }
    let workers = cli_io::int_in(1, 256);
    assert_eq!(workers("2"), Ok(2));
    assert!(workers("0").unwrap_err().contains("[1, 256]"));
    assert!(workers("-1").is_err());
}

#[test]
fn outputs_are_checked_and_written_atomically() {
    let dir = std::env::temp_dir().join(format!("arc-batt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.json");
    cli_io::check_writable(&file).unwrap();
    assert!(
        cli_io::check_writable(&dir).is_err(),
        "a folder is not a file"
    );
    assert!(cli_io::check_writable(&dir.join("missing/out.json")).is_err());
    cli_io::write_atomic(&file, b"{}").unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"{}");
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}
