//! Reading a `--config FILE`: a JSON object with named fields, nothing else.
//!
//! serde reads a struct from a JSON array too, field by position, so `[32, 3]` would quietly
//! become `{"samples": 32, "iterations": 3}` — and a reordered struct would change its meaning.
//! [`read_object`] refuses anything but an object, and reports a syntax error or an unknown
//! field with the file, line and column (the struct must say `deny_unknown_fields`).
//!
//! ```
//! #[derive(serde::Deserialize, Debug, Default)]
//! #[serde(default, deny_unknown_fields)]
//! struct Cfg {
//!     samples: usize,
//! }
//!
//! let dir = std::env::temp_dir().join(format!("par-cli-cfg-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("c.json");
//! std::fs::write(&path, r#"{"samples": 8}"#).unwrap();
//! assert_eq!(par_cli::config_file::read_object::<Cfg>(&path).unwrap().samples, 8);
//! std::fs::write(&path, "[8]").unwrap();
//! let err = par_cli::config_file::read_object::<Cfg>(&path).unwrap_err().to_string();
//! assert!(err.contains("a JSON object"), "{err}");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::CliError;

/// Reads the JSON object in `path` into `T`.
///
/// # Errors
/// [`CliError::Unreadable`] when the file cannot be read, [`CliError::BadConfig`] when it is
/// not a JSON object or does not fit `T` (with line and column).
pub fn read_object<T: DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse_object(&text).map_err(|why| CliError::BadConfig {
        path: path.to_path_buf(),
        why,
    })
}

/// Parses `text` as a JSON object into `T`, or says why not.
pub fn parse_object<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    match text.trim_start().chars().next() {
        Some('{') => {}
        None => return Err("is empty; expected a JSON object such as {\"field\": value}".into()),
        Some(c) => {
            let found = match c {
                '[' => "an array".to_string(),
                '"' => "a string".to_string(),
                _ => format!("`{c}`"),
            };
            return Err(format!(
                "must be a JSON object with named fields, found {found} at the start"
            ));
        }
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        a: u32,
        b: f64,
    }

    #[test]
    fn only_objects_with_known_fields_are_read() {
        assert_eq!(
            parse_object::<Cfg>(r#" {"a": 1, "b": 2.5}"#),
            Ok(Cfg { a: 1, b: 2.5 })
        );
        assert!(
            parse_object::<Cfg>("[1, 2.5]")
                .unwrap_err()
                .contains("found an array")
        );
        assert!(parse_object::<Cfg>("").unwrap_err().contains("is empty"));
        assert!(
            parse_object::<Cfg>("\"x\"")
                .unwrap_err()
                .contains("a string")
        );
        let typo = parse_object::<Cfg>("{\"a\": 1,\n \"bb\": 2}").unwrap_err();
        assert!(
            typo.contains("unknown field `bb`") && typo.contains("line 2"),
            "{typo}"
        );
        let wrong = parse_object::<Cfg>(r#"{"a": "one", "b": 1}"#).unwrap_err();
        assert!(wrong.contains("invalid type"), "{wrong}");
        let cut = parse_object::<Cfg>(r#"{"a": 1, "b""#).unwrap_err();
        assert!(cut.contains("EOF"), "{cut}");
    }
}
