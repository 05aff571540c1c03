//! Finding an ONNX Runtime library, in the documented order, and checking its
//! version before ort is allowed to load it (ort can load only one per process).

use std::ffi::CStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// ort 2.0.0-rc.15 with `api-31` needs this release or newer.
pub const MIN_MINOR_VERSION: u32 = 31;
pub const DYLIB_ENV: &str = "GENDERLENS_ORT_DYLIB";

#[cfg(target_os = "windows")]
pub const LIBRARY_PREFIX: &str = "onnxruntime.dll";
#[cfg(target_os = "macos")]
pub const LIBRARY_PREFIX: &str = "libonnxruntime";
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
pub const LIBRARY_PREFIX: &str = "libonnxruntime.so";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeSource {
    Setting,
    Environment,
    BesideExecutable,
    UserData,
    PythonPackage,
    SystemPath,
}

impl fmt::Display for RuntimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Setting => "the --ort-dylib setting",
            Self::Environment => "GENDERLENS_ORT_DYLIB",
            Self::BesideExecutable => "bundled with the executable",
            Self::UserData => "the GenderLens data folder",
            Self::PythonPackage => "a Python onnxruntime package",
            Self::SystemPath => "the system library path",
        })
    }
}

impl RuntimeSource {
    /// A library the user named must work; a discovered one may be skipped.
    fn is_explicit(self) -> bool {
        matches!(self, Self::Setting | Self::Environment)
    }
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub source: RuntimeSource,
    /// A file path, or a bare library name for the system loader.
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct LocatedRuntime {
    pub source: RuntimeSource,
    pub path: PathBuf,
    pub version: String,
}

/// What was tried, for the message shown when nothing usable was found.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub candidate: Candidate,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error(
        "{} names {}, which cannot be used: {reason}",
        candidate.source,
        candidate.path.display()
    )]
    ExplicitUnusable {
        candidate: Candidate,
        reason: String,
    },
    #[error("no usable ONNX Runtime (1.{MIN_MINOR_VERSION} or newer) was found{}", describe(.0))]
    NotFound(Vec<Rejected>),
}

fn describe(rejected: &[Rejected]) -> String {
    if rejected.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = rejected
        .iter()
        .map(|r| {
            format!(
                "\n  - {} ({}): {}",
                r.candidate.path.display(),
                r.candidate.source,
                r.reason
            )
        })
        .collect();
    format!("; skipped:{}", lines.join(""))
}

/// Walks the candidates in order and returns the first loadable, new-enough library.
pub fn locate(explicit: Option<&Path>) -> Result<LocatedRuntime, LocateError> {
    let mut rejected = Vec::new();
    for candidate in candidates(explicit) {
        match probe_version(&candidate.path) {
            Ok(version) if minor_version(&version) >= MIN_MINOR_VERSION => {
                return Ok(LocatedRuntime {
                    source: candidate.source,
                    path: candidate.path,
                    version,
                });
            }
            Ok(version) => {
                let reason = format!(
                    "version {version} is too old; GenderLens needs ONNX Runtime 1.{MIN_MINOR_VERSION} or newer"
                );
                if candidate.source.is_explicit() {
                    return Err(LocateError::ExplicitUnusable { candidate, reason });
                }
                rejected.push(Rejected { candidate, reason });
            }
            Err(reason) => {
                if candidate.source.is_explicit() {
                    return Err(LocateError::ExplicitUnusable { candidate, reason });
                }
                if candidate.source != RuntimeSource::SystemPath {
                    rejected.push(Rejected { candidate, reason });
                }
            }
        }
    }
    Err(LocateError::NotFound(rejected))
}

fn minor_version(version: &str) -> u32 {
    version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// Every place to look, in the documented order.
pub fn candidates(explicit: Option<&Path>) -> Vec<Candidate> {
    let mut found = Vec::new();
    let mut push_dir_or_file = |source, path: PathBuf| {
        if path.is_dir() {
            for lib in libraries_in(&path) {
                found.push(Candidate { source, path: lib });
            }
        } else {
            found.push(Candidate { source, path });
        }
    };
    if let Some(path) = explicit {
        push_dir_or_file(RuntimeSource::Setting, path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(DYLIB_ENV).filter(|v| !v.is_empty()) {
        push_dir_or_file(RuntimeSource::Environment, PathBuf::from(path));
    }
    // A GPU build the user fetched is the reason they fetched it: it comes
    // before the CPU build an installer bundles.
    let (gpu_dirs, cpu_dirs): (Vec<PathBuf>, Vec<PathBuf>) = user_runtime_dirs()
        .into_iter()
        .partition(|dir| is_gpu_runtime_dir(dir));
    let push_user_dirs = |found: &mut Vec<Candidate>, dirs: Vec<PathBuf>| {
        for dir in dirs {
            for lib in libraries_in(&dir) {
                found.push(Candidate {
                    source: RuntimeSource::UserData,
                    path: lib,
                });
            }
        }
    };
    push_user_dirs(&mut found, gpu_dirs);
    if let Some(exe_dir) = crate::paths::executable_dir() {
        for dir in bundled_runtime_dirs(&exe_dir) {
            for lib in libraries_in(&dir) {
                found.push(Candidate {
                    source: RuntimeSource::BesideExecutable,
                    path: lib,
                });
            }
        }
    }
    push_user_dirs(&mut found, cpu_dirs);
    for dir in python_package_dirs() {
        for lib in libraries_in(&dir) {
            found.push(Candidate {
                source: RuntimeSource::PythonPackage,
                path: lib,
            });
        }
    }
    for name in system_library_names() {
        found.push(Candidate {
            source: RuntimeSource::SystemPath,
            path: PathBuf::from(name),
        });
    }
    found
}

fn is_gpu_runtime_dir(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("onnxruntime-gpu"))
}

/// Where installers put the runtime, relative to the executable: `lib/` in a
/// portable folder, `../lib/genderlens/` for the .deb (`/usr/bin` and
/// `/usr/lib/genderlens`), `../Frameworks/` in a macOS app bundle, and the
/// executable's own folder on Windows.
fn bundled_runtime_dirs(exe_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![exe_dir.join("lib"), exe_dir.join("../lib/genderlens")];
    if cfg!(target_os = "macos") {
        dirs.push(exe_dir.join("../Frameworks"));
    }
    if cfg!(windows) {
        dirs.push(exe_dir.to_path_buf());
    }
    dirs
}

/// Runtimes fetched into the data folder, GPU builds first, newest first.
pub fn user_runtime_dirs() -> Vec<PathBuf> {
    let Some(root) = crate::paths::data_dir().map(|d| d.join("runtime")) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort_by_key(|d| {
        let name = d
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        (!name.contains("gpu"), std::cmp::Reverse(name))
    });
    dirs
}

/// The ONNX Runtime main libraries in a folder (not its provider plug-ins).
pub fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut libs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(LIBRARY_PREFIX) && !n.contains("providers"))
        })
        .collect();
    // The fully versioned name sorts last; prefer it over a bare symlink.
    libs.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    libs
}

/// Prints the folder holding an installed `onnxruntime` package's libraries
/// (`onnxruntime-gpu` installs under the same module name).
const PYTHON_PROBE: &str = r#"
import importlib.util, os
spec = importlib.util.find_spec("onnxruntime")
if spec and spec.submodule_search_locations:
    print(os.path.join(list(spec.submodule_search_locations)[0], "capi"))
"#;

fn python_package_dirs() -> Vec<PathBuf> {
    let Ok(output) = Command::new("python3").args(["-c", PYTHON_PROBE]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| PathBuf::from(l.trim()))
        .filter(|p| p.is_dir())
        .collect()
}

fn system_library_names() -> &'static [&'static str] {
    #[cfg(target_os = "windows")]
    return &["onnxruntime.dll"];
    #[cfg(target_os = "macos")]
    return &["libonnxruntime.dylib"];
    #[cfg(not(any(target_os = "windows", target_os = "macos")))]
    &["libonnxruntime.so", "libonnxruntime.so.1"]
}

/// Loads the library on its own and asks it for its version string.
pub fn probe_version(path: &Path) -> Result<String, String> {
    if path.components().count() > 1 && !path.exists() {
        return Err("no such file".into());
    }
    // SAFETY: loading ONNX Runtime runs only its static initialisers, and the
    // symbol is the documented C entry point with this signature.
    unsafe {
        let lib = libloading::Library::new(path.as_os_str()).map_err(|e| e.to_string())?;
        let get_base: libloading::Symbol<
            unsafe extern "system" fn() -> *const ort::sys::OrtApiBase,
        > = lib
            .get(b"OrtGetApiBase\0")
            .map_err(|_| "not an ONNX Runtime library (no OrtGetApiBase)".to_string())?;
        let base = get_base();
        if base.is_null() {
            return Err("OrtGetApiBase returned nothing".into());
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return Err("the library reports no version".into());
        }
        Ok(CStr::from_ptr(version).to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_version_parses_release_strings() {
        assert_eq!(minor_version("1.31.1"), 31);
        assert_eq!(minor_version("1.9.0"), 9);
        assert_eq!(minor_version("garbage"), 0);
    }

    #[test]
    fn a_missing_explicit_library_is_an_error_not_a_fallback() {
        let missing = Path::new("/nonexistent/libonnxruntime.so.1.31.1");
        match locate(Some(missing)) {
            Err(LocateError::ExplicitUnusable { reason, .. }) => {
                assert!(reason.contains("no such file"), "{reason}")
            }
            other => panic!("expected an explicit-path error, got {other:?}"),
        }
    }

    #[test]
    fn the_python_package_probe_is_valid_python() {
        // Whatever python3 has installed, the probe must run cleanly.
        let status = Command::new("python3")
            .args(["-c", PYTHON_PROBE])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs");
        assert!(status.success());
    }

    #[test]
    fn a_file_that_is_not_onnx_runtime_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::write(&fake, b"not a library").unwrap();
        assert!(probe_version(&fake).is_err());
    }
}
