//! `cargo xtask setup`: native libraries in project-local folders.
//!
//! Each thing to install is a [`SetupStep`] in [`STEPS`]; a crate that needs another native
//! library adds a step there (and, when the step is optional, a flag to [`SetupArgs`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The ONNX Runtime release that the `ort` crate 2.0.0-rc.15 with feature `api-31` (used by
/// the `mpc` crate) expects.
pub const ORT_VERSION: &str = "1.31.1";

/// The project-local folder that holds ONNX Runtime, relative to the workspace root.
pub const ORT_DIR: &str = ".ort";

/// The stamp file in [`ORT_DIR`] that records what was installed.
const ORT_STAMP: &str = "onnxruntime.stamp";

/// The system packages that the `mpi` features need (Debian/Ubuntu names).
pub const MPI_PACKAGES: &[&str] = &["libopenmpi-dev", "openmpi-bin", "libclang-dev"];

/// Options of `cargo xtask setup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct SetupArgs {
    /// Also install MPI from the system packages (apt): libopenmpi-dev, openmpi-bin, libclang-dev.
    #[arg(long)]
    pub mpi: bool,
}

/// One thing that `setup` installs.
pub struct SetupStep {
    /// Short name printed before the step runs.
    pub name: &'static str,
    /// Whether the step runs for these options (optional steps look at a flag).
    pub wanted: fn(&SetupArgs) -> bool,
    /// Installs (or checks) the thing and prints where it is; must be idempotent.
    pub run: fn(&Path) -> Result<()>,
}

/// Every setup step, in order. Add a step here for another native dependency.
pub const STEPS: &[SetupStep] = &[
    SetupStep {
        name: "onnxruntime",
        wanted: |_| true,
        run: onnxruntime_step,
    },
    SetupStep {
        name: "mpi",
        wanted: |args| args.mpi,
        run: mpi_step,
    },
];

/// Runs every wanted step of [`STEPS`].
pub fn run(root: &Path, args: &SetupArgs) -> Result<()> {
    for step in STEPS.iter().filter(|step| (step.wanted)(args)) {
        let start = Instant::now();
        println!("==> setup {}", step.name);
        (step.run)(root).with_context(|| format!("setup step `{}` failed", step.name))?;
        println!("    done in {}", crate::seconds(start.elapsed()));
    }
    Ok(())
}

fn onnxruntime_step(root: &Path) -> Result<()> {
    let installed = installed_onnxruntime(root).is_some();
    let library = ensure_onnxruntime(root)?;
    let how = if installed {
        "already installed"
    } else {
        "installed"
    };
    println!("    onnxruntime {ORT_VERSION} {how}: {}", library.display());
    println!(
        "    to use it outside xtask: export ORT_DYLIB_PATH={}",
        library.display()
    );
    Ok(())
}

/// The absolute path of the installed ONNX Runtime library, when `.ort/` holds the pinned
/// version ([`ORT_VERSION`]); `None` when it is missing or another version.
pub fn installed_onnxruntime(root: &Path) -> Option<PathBuf> {
    let dir = root.join(ORT_DIR);
    let stamp = std::fs::read_to_string(dir.join(ORT_STAMP)).ok()?;
    let (version, library) = parse_stamp(&stamp)?;
    let path = dir.join("lib").join(library);
    (version == ORT_VERSION && path.is_file()).then_some(path)
}

/// The ONNX Runtime library path to export as `ORT_DYLIB_PATH`, installing the library first
/// when needed (instant when it is already there).
pub fn ensure_onnxruntime(root: &Path) -> Result<PathBuf> {
    if let Some(path) = installed_onnxruntime(root) {
        return Ok(path);
    }
    install_onnxruntime(root)?;
    installed_onnxruntime(root)
        .with_context(|| format!("{ORT_DIR}/{ORT_STAMP} was written but the library is missing"))
}

/// The text of the stamp file.
fn stamp_text(version: &str, library: &str) -> String {
    format!("onnxruntime {version}\nlibrary {library}\n")
}

/// `(version, library file name)` from a stamp file's text.
fn parse_stamp(text: &str) -> Option<(&str, &str)> {
    let mut version = None;
    let mut library = None;
    for line in text.lines() {
        match line.trim().split_once(' ') {
            Some(("onnxruntime", v)) => version = Some(v.trim()),
            Some(("library", l)) => library = Some(l.trim()),
            _ => {}
        }
    }
    let library = library.filter(|l| !l.is_empty() && !l.contains(['/', '\\']))?;
    Some((version?, library))
}

/// Whether a member of the `onnxruntime` wheel is the ONNX Runtime shared library itself
/// (`onnxruntime/capi/libonnxruntime.so*` on Linux, `libonnxruntime*.dylib` on macOS), not the
/// Python bindings or the execution-provider plug-ins.
fn is_runtime_library(member: &str) -> bool {
    let Some(file) = member.strip_prefix("onnxruntime/capi/") else {
        return false;
    };
    if file.contains('/') {
        return false;
    }
    file.starts_with("libonnxruntime.so")
        || (file.starts_with("libonnxruntime.") && file.ends_with(".dylib"))
}

/// The file to point `ORT_DYLIB_PATH` at among the extracted ones: the versioned library when
/// present, else the first by name.
fn choose_library<'a>(files: &[&'a str], version: &str) -> Option<&'a str> {
    let versioned = [
        format!("libonnxruntime.so.{version}"),
        format!("libonnxruntime.{version}.dylib"),
    ];
    files
        .iter()
        .find(|f| versioned.iter().any(|v| v == *f))
        .or_else(|| files.iter().min())
        .copied()
}

/// Python: print the member names of the wheel `argv[1]`, one per line.
const LIST_WHEEL_PY: &str = "import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print('\\n'.join(z.namelist()))
";

/// Python: extract members `argv[3:]` of wheel `argv[1]` into folder `argv[2]`, flat.
const EXTRACT_WHEEL_PY: &str = "import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in sys.argv[3:]:
        with z.open(name) as src, open(os.path.join(dest, os.path.basename(name)), 'wb') as dst:
            shutil.copyfileobj(src, dst)
";

fn install_onnxruntime(root: &Path) -> Result<()> {
    check_python()?;
    let dir = root.join(ORT_DIR);
    let download = dir.join(format!("download-{}", std::process::id()));
    let staging = dir.join(format!("lib.partial-{}", std::process::id()));
    for d in [&download, &staging] {
        remove_dir_if_present(d)?;
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let result = download_and_extract(&dir, &download, &staging);
    // Leave no half-done folders behind, whatever happened.
    let cleanup = [&download, &staging].map(|d| remove_dir_if_present(d));
    result?;
    cleanup.into_iter().collect()
}

/// Downloads the wheel into `download`, extracts the library into `staging`, then moves it to
/// `<dir>/lib` and writes the stamp.
fn download_and_extract(dir: &Path, download: &Path, staging: &Path) -> Result<()> {
    println!("    downloading onnxruntime=={ORT_VERSION} from PyPI (pip download)");
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--no-input"])
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .arg("-d")
        .arg(download)
        .stdin(Stdio::null())
        .status()
        .context("could not run `python3 -m pip download`")?;
    if !status.success() {
        bail!(
            "`python3 -m pip download onnxruntime=={ORT_VERSION}` failed ({status}); check that \
             PyPI (pypi.org) is reachable and that a wheel exists for this Python and platform"
        );
    }
    let wheel = find_wheel(download)?;
    let listing = python_output(&["-c", LIST_WHEEL_PY], &[wheel.as_os_str()])
        .with_context(|| format!("cannot list {}", wheel.display()))?;
    let members: Vec<&str> = listing.lines().filter(|m| is_runtime_library(m)).collect();
    if members.is_empty() {
        bail!(
            "{} holds no onnxruntime/capi/libonnxruntime.so* library",
            wheel.display()
        );
    }
    let mut args = vec![wheel.as_os_str(), staging.as_os_str()];
    args.extend(members.iter().map(|m| std::ffi::OsStr::new(*m)));
    python_output(&["-c", EXTRACT_WHEEL_PY], &args)
        .with_context(|| format!("cannot extract the library from {}", wheel.display()))?;
    let files: Vec<&str> = members
        .iter()
        .filter_map(|m| m.rsplit('/').next())
        .collect();
    let library = choose_library(&files, ORT_VERSION).context("no library extracted")?;

    let lib_dir = dir.join("lib");
    remove_dir_if_present(&lib_dir)?;
    std::fs::rename(staging, &lib_dir)
        .with_context(|| format!("cannot move {} to {}", staging.display(), lib_dir.display()))?;
    std::fs::write(dir.join(ORT_STAMP), stamp_text(ORT_VERSION, library))
        .with_context(|| format!("cannot write {}", dir.join(ORT_STAMP).display()))?;
    Ok(())
}

/// Fails with an installation hint when `python3` or its `pip` module is missing.
fn check_python() -> Result<()> {
    let python = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .status();
    match python {
        Ok(status) if status.success() => {}
        _ => bail!(
            "python3 was not found; install Python 3 with pip (for example \
             `apt-get install -y python3-pip`) and run `cargo xtask setup` again"
        ),
    }
    let pip = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match pip {
        Ok(status) if status.success() => Ok(()),
        _ => bail!(
            "pip is not available for python3 (`python3 -m pip` failed); install it (for \
             example `apt-get install -y python3-pip`) and run `cargo xtask setup` again"
        ),
    }
}

/// Runs `python3 <script_args> <args>` and returns its standard output.
fn python_output(script_args: &[&str], args: &[&std::ffi::OsStr]) -> Result<String> {
    let output = Command::new("python3")
        .args(script_args)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("could not run python3")?;
    if !output.status.success() {
        bail!(
            "python3 failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("python3 printed non-UTF-8 output")
}

/// The one `onnxruntime-*.whl` in `dir`.
fn find_wheel(dir: &Path) -> Result<PathBuf> {
    let mut wheels = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("onnxruntime-") && name.ends_with(".whl") {
            wheels.push(path);
        }
    }
    match wheels.len() {
        1 => Ok(wheels.remove(0)),
        0 => bail!(
            "pip download left no onnxruntime wheel in {}",
            dir.display()
        ),
        _ => bail!(
            "pip download left several onnxruntime wheels in {}",
            dir.display()
        ),
    }
}

fn remove_dir_if_present(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", dir.display())),
    }
}

fn mpi_step(_root: &Path) -> Result<()> {
    let missing = missing_packages(MPI_PACKAGES)?;
    if missing.is_empty() {
        println!("    already installed: {}", MPI_PACKAGES.join(" "));
    } else {
        println!("    installing with apt-get: {}", missing.join(" "));
        let sudo = needs_sudo();
        let apt = |args: &[&str]| {
            let mut cmd = if sudo {
                Command::new("sudo")
            } else {
                Command::new("apt-get")
            };
            if sudo {
                cmd.arg("apt-get");
            }
            cmd.args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null());
            cmd
        };
        crate::run_streaming(&mut apt(&["update"]), "apt-get update")?;
        let mut install = apt(&["install", "-y"]);
        install.args(&missing);
        crate::run_streaming(&mut install, "apt-get install")?;
    }
    match crate::find_in_path("mpirun") {
        Some(mpirun) => println!("    mpirun: {}", mpirun.display()),
        None => bail!("the MPI packages are installed but `mpirun` is not on PATH"),
    }
    Ok(())
}

/// The packages of `packages` that dpkg does not list as installed.
fn missing_packages<'a>(packages: &[&'a str]) -> Result<Vec<&'a str>> {
    let mut missing = Vec::new();
    for package in packages {
        let output = Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", package])
            .stderr(Stdio::null())
            .output()
            .context("`dpkg-query` was not found: `setup --mpi` needs a Debian or Ubuntu system")?;
        if !String::from_utf8_lossy(&output.stdout).contains("install ok installed") {
            missing.push(*package);
        }
    }
    Ok(missing)
}

/// Whether apt-get must go through sudo (not root, and sudo exists).
fn needs_sudo() -> bool {
    let uid = Command::new("id").arg("-u").output().ok();
    let is_root = uid.is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    !is_root && crate::find_in_path("sudo").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_member_filter_keeps_only_the_runtime_library() {
        let members = [
            "onnxruntime/capi/libonnxruntime.so.1.31.1",
            "onnxruntime/capi/libonnxruntime_providers_shared.so",
            "onnxruntime/capi/onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so",
            "onnxruntime/capi/__init__.py",
            "onnxruntime/capi/libonnxruntime.1.31.1.dylib",
            "onnxruntime/capi/sub/libonnxruntime.so",
            "onnxruntime.libs/libonnxruntime.so.1",
            "libonnxruntime.so",
        ];
        let kept: Vec<_> = members
            .into_iter()
            .filter(|m| is_runtime_library(m))
            .collect();
        assert_eq!(
            kept,
            [
                "onnxruntime/capi/libonnxruntime.so.1.31.1",
                "onnxruntime/capi/libonnxruntime.1.31.1.dylib"
            ]
        );
    }

    #[test]
    fn library_choice_prefers_the_versioned_file() {
        let files = ["libonnxruntime.so", "libonnxruntime.so.1.31.1"];
        assert_eq!(
            choose_library(&files, "1.31.1"),
            Some("libonnxruntime.so.1.31.1")
        );
        assert_eq!(
            choose_library(&["libonnxruntime.so.1"], "1.31.1"),
            Some("libonnxruntime.so.1")
        );
        assert_eq!(choose_library(&[], "1.31.1"), None);
    }

    #[test]
    fn stamp_round_trips_and_rejects_paths() {
        let text = stamp_text("1.31.1", "libonnxruntime.so.1.31.1");
        assert_eq!(
            parse_stamp(&text),
            Some(("1.31.1", "libonnxruntime.so.1.31.1"))
        );
        assert_eq!(parse_stamp("onnxruntime 1.31.1\n"), None);
        assert_eq!(parse_stamp("onnxruntime 1.31.1\nlibrary ../x.so\n"), None);
    }

    #[test]
    fn installed_library_needs_matching_stamp_and_file() {
        let root = std::env::temp_dir().join(format!("xtask-setup-test-{}", std::process::id()));
        let dir = root.join(ORT_DIR);
        std::fs::create_dir_all(dir.join("lib")).expect("temp dir");
        assert_eq!(installed_onnxruntime(&root), None);
        std::fs::write(
            dir.join(ORT_STAMP),
            stamp_text(ORT_VERSION, "libonnxruntime.so.x"),
        )
        .expect("stamp");
        assert_eq!(installed_onnxruntime(&root), None, "file missing");
        std::fs::write(dir.join("lib/libonnxruntime.so.x"), b"").expect("lib");
        assert_eq!(
            installed_onnxruntime(&root),
            Some(dir.join("lib/libonnxruntime.so.x"))
        );
        std::fs::write(
            dir.join(ORT_STAMP),
            stamp_text("0.0.1", "libonnxruntime.so.x"),
        )
        .expect("stamp");
        assert_eq!(installed_onnxruntime(&root), None, "other version");
        std::fs::remove_dir_all(&root).expect("cleanup");
    }

    #[test]
    fn mpi_step_is_only_wanted_when_asked() {
        let wanted = |args: &SetupArgs| -> Vec<&str> {
            STEPS
                .iter()
                .filter(|s| (s.wanted)(args))
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(wanted(&SetupArgs { mpi: false }), ["onnxruntime"]);
        assert_eq!(wanted(&SetupArgs { mpi: true }), ["onnxruntime", "mpi"]);
    }
}
