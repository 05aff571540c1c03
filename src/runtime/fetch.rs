//! Fetching ONNX Runtime from the official PyPI wheels with `pip download`,
//! and unpacking its libraries into the user data folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

pub const DEFAULT_VERSION: &str = "1.31.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeBuild {
    /// `onnxruntime`: CPU only, about 24 MB.
    Cpu,
    /// `onnxruntime-gpu`: CUDA and TensorRT providers, about 256 MB; needs CUDA 13 and cuDNN 9.
    Gpu,
}

impl RuntimeBuild {
    pub fn package(self) -> &'static str {
        match self {
            Self::Cpu => "onnxruntime",
            Self::Gpu => "onnxruntime-gpu",
        }
    }

    fn folder_tag(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        }
    }
}

pub const PYTHON_MISSING_HELP: &str = "GenderLens fetches ONNX Runtime from PyPI with pip, and \
could not run `python3 -m pip`. Install Python 3 with pip (Debian/Ubuntu: `sudo apt-get install \
python3-pip`; Windows/macOS: python.org), then run `genderlens runtime fetch`. Or download ONNX \
Runtime 1.31 yourself and point GENDERLENS_ORT_DYLIB at its library.";

/// The folder a build of a version is unpacked into.
pub fn install_dir(build: RuntimeBuild, version: &str) -> Result<PathBuf> {
    let data = crate::paths::data_dir().context("this system has no per-user data folder")?;
    Ok(data
        .join("runtime")
        .join(format!("onnxruntime-{}-{version}", build.folder_tag())))
}

/// Downloads the wheel and unpacks its libraries; returns the folder holding them.
/// `log` receives one line per step; pip's own progress goes to the terminal.
pub fn fetch_runtime(
    build: RuntimeBuild,
    version: &str,
    mut log: impl FnMut(&str),
) -> Result<PathBuf> {
    let python = find_python().map_err(|_| anyhow::anyhow!(PYTHON_MISSING_HELP))?;
    let target = install_dir(build, version)?;
    if !crate::runtime::locate::libraries_in(&target).is_empty() {
        log(&format!(
            "ONNX Runtime {version} is already in {}",
            target.display()
        ));
        return Ok(target);
    }
    let parent = target.parent().context("runtime folder has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let download = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(parent)
        .context("creating a download folder")?;

    let spec = format!("{}=={version}", build.package());
    log(&format!("Downloading {spec} with pip (from PyPI)…"));
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .arg("--dest")
        .arg(download.path())
        .arg(&spec)
        .stdin(Stdio::null())
        // pip's progress is for people; stdout stays clean for the folder we print.
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .context(PYTHON_MISSING_HELP)?;
    if !status.success() {
        bail!(
            "pip could not download {spec} ({status}). Check the network connection and that \
             PyPI offers {spec} for this platform"
        );
    }
    let wheel = find_wheel(download.path())?;
    log(&format!("Unpacking {}…", wheel.display()));
    let staging = download.path().join("lib");
    unpack_libraries(&python, &wheel, &staging)?;
    if crate::runtime::locate::libraries_in(&staging).is_empty() {
        bail!("{} holds no ONNX Runtime library", wheel.display());
    }
    if let Err(e) = std::fs::rename(&staging, &target) {
        // Another GenderLens process may have finished the same fetch first.
        if crate::runtime::locate::libraries_in(&target).is_empty() {
            return Err(e).with_context(|| format!("moving the runtime into {}", target.display()));
        }
    }
    log(&format!(
        "ONNX Runtime {version} ({}) is ready in {}",
        build.package(),
        target.display()
    ));
    Ok(target)
}

fn find_python() -> Result<PathBuf> {
    for name in ["python3", "python"] {
        let ok = Command::new(name)
            .args(["-m", "pip", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(PathBuf::from(name));
        }
    }
    bail!("neither python3 nor python can run pip")
}

fn find_wheel(dir: &Path) -> Result<PathBuf> {
    std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .with_context(|| format!("pip left no wheel in {}", dir.display()))
}

/// A wheel is a zip archive; Python's zipfile is already at hand wherever pip is.
fn unpack_libraries(python: &Path, wheel: &Path, dest: &Path) -> Result<()> {
    const SCRIPT: &str = r#"
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        parts = info.filename.split("/")
        name = parts[-1]
        wanted = name.startswith("libonnxruntime") or (
            name.startswith("onnxruntime") and name.endswith(".dll")
        )
        if len(parts) >= 3 and parts[-2] == "capi" and wanted:
            with z.open(info) as src, open(os.path.join(dest, name), "wb") as out:
                shutil.copyfileobj(src, out)
            print(name)
"#;
    let status = Command::new(python)
        .args(["-c", SCRIPT])
        .arg(wheel)
        .arg(dest)
        .stdout(Stdio::null())
        .status()
        .context("running Python to unpack the wheel")?;
    if !status.success() {
        bail!("unpacking {} failed ({status})", wheel.display());
    }
    Ok(())
}
