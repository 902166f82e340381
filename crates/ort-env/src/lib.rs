//! ONNX Runtime for the workspace's crates: where the library is, the one process-wide
//! environment, and a check of a model's inputs and outputs.
//!
//! The `ort` crate is built with `load-dynamic`, so nothing is downloaded at build time and the
//! library is opened when first needed: `ORT_DYLIB_PATH` when that is set, else the
//! `libonnxruntime.so*` that `cargo xtask setup` puts in `<workspace>/.ort/lib/` (from the
//! Python package `onnxruntime`, pinned to the release of the `ort` API level the workspace
//! enables). A missing or unloadable library is an [`OrtLibraryError`], never a panic. The
//! environment is set up once per process; a failure is remembered and returned to every later
//! caller.
//!
//! Used by `mpc` (the tinyphysics dynamics model) and `mcts` (AlphaZero networks exported
//! elsewhere).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::value::{TensorElementType, ValueType};

/// Why ONNX Runtime could not be set up. Cloneable because the process-wide runtime is set up once
/// and the same failure is reported to every later caller.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OrtLibraryError {
    /// No ONNX Runtime library was found where it is looked for.
    #[error(
        "ONNX Runtime library not found (looked at {searched}); run `cargo xtask setup` or set ORT_DYLIB_PATH"
    )]
    Missing {
        /// The places that were looked at, in order.
        searched: String,
    },
    /// The library was found but could not be loaded or initialised.
    #[error("could not load ONNX Runtime from {path}: {reason}")]
    Load {
        /// The library file.
        path: PathBuf,
        /// What the loader said.
        reason: String,
    },
}

/// The workspace root, found from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the ONNX Runtime library is: `ORT_DYLIB_PATH` if set, else the newest-looking
/// `libonnxruntime.so*` in `<workspace>/.ort/lib/`.
pub fn library_path() -> Result<PathBuf, OrtLibraryError> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(OrtLibraryError::Missing {
                searched: format!("ORT_DYLIB_PATH={}", p.display()),
            })
        };
    }
    let dir = workspace_root().join(".ort").join("lib");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    candidates.sort();
    candidates.pop().ok_or_else(|| OrtLibraryError::Missing {
        searched: format!(
            "ORT_DYLIB_PATH (unset), {}/libonnxruntime.so*",
            dir.display()
        ),
    })
}

static ENVIRONMENT: OnceLock<Result<Environment, OrtLibraryError>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, set up on first use.
pub fn environment() -> Result<&'static Environment, OrtLibraryError> {
    ENVIRONMENT
        .get_or_init(|| {
            let path = library_path()?;
            let load = |reason: String| OrtLibraryError::Load {
                path: path.clone(),
                reason,
            };
            ort::init_from(&path)
                .map_err(|e| load(e.to_string()))?
                .with_name("parallel-solvers")
                .with_telemetry(false)
                .build()
                .map_err(|e| load(e.to_string()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A short description of an input's or output's type, for error messages.
pub fn describe(ty: &ValueType) -> String {
    match ty {
        ValueType::Tensor { ty, shape, .. } => format!("{ty:?} {:?}", &shape[..]),
        other => format!("{other:?}"),
    }
}

/// Checks one input or output (`what`, for the message) against the expected element type and
/// shape: `-1` in `want` accepts any size, and a dynamic dimension of the model is accepted at
/// every position. Returns the model's batch size (dimension 0) when it is fixed.
pub fn check_outlet(
    what: &str,
    ty: &ValueType,
    want_ty: TensorElementType,
    want: &[i64],
) -> Result<Option<usize>, String> {
    let ValueType::Tensor {
        ty: elem, shape, ..
    } = ty
    else {
        return Err(format!("{what} is {}, not a tensor", describe(ty)));
    };
    if *elem != want_ty || shape.len() != want.len() {
        return Err(format!(
            "{what} is {}, expected {want_ty:?} of rank {}",
            describe(ty),
            want.len()
        ));
    }
    for (i, (&have, &w)) in shape.iter().zip(want).enumerate() {
        if w >= 0 && have >= 0 && have != w {
            return Err(format!(
                "{what} has size {have} in dimension {i}, expected {w}"
            ));
        }
    }
    Ok(shape.first().and_then(|&b| usize::try_from(b).ok()))
}
