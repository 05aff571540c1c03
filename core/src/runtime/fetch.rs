//! Fetching ONNX Runtime from the official PyPI wheels with `pip download`,
//! and unpacking its libraries into the user data folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};

pub const DEFAULT_VERSION: &str = "1.31.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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

    /// The wheel's size, to tell the user before pip says exactly.
    fn approximate_mb(self) -> u32 {
        match self {
            Self::Cpu => 24,
            Self::Gpu => 256,
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
    log(&format!(
        "Downloading {spec} with pip (from PyPI, about {} MB)…",
        build.approximate_mb()
    ));
    // pip keeps its partial download in its temporary folder: inside ours,
    // so how far it has got can be read from the folder's size.
    let pip_temp = download.path().join("tmp");
    std::fs::create_dir_all(&pip_temp).context("creating a download folder")?;
    let mut child = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .arg("--dest")
        .arg(download.path())
        .arg(&spec)
        .env("TMPDIR", &pip_temp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context(PYTHON_MISSING_HELP)?;
    let total = Arc::new(Mutex::new(None));
    let reader = child.stdout.take().map(|stdout| {
        let total = total.clone();
        std::thread::spawn(move || {
            for line in
                std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok)
            {
                // pip's own lines are for people: stderr, so stdout stays
                // clean for the folder the CLI prints.
                eprintln!("{line}");
                if let Some(bytes) = announced_size(&line) {
                    *total.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes);
                }
            }
        })
    });
    let mut reported = 0;
    let status = loop {
        if let Some(status) = child.try_wait().context("waiting for pip")? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        let known = *total.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(total) = known {
            let done = folder_size(download.path()).min(total);
            // A line per tenth: enough for a progress line, not a flood.
            let tenth = done * 10 / total.max(1);
            if tenth > reported {
                reported = tenth;
                log(&download_progress(&spec, done, total));
            }
        }
    };
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    if !status.success() {
        bail!(
            "pip could not download {spec} ({status}). Check the network connection and that \
             PyPI offers {spec} for this platform"
        );
    }
    let wheel = find_wheel(download.path())?;
    log(&format!("Unpacking {}…", wheel.display()));
    let staging = download.path().join("lib");
    unpack_libraries(&wheel, &staging)?;
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

/// The size pip announces for its download, as in
/// "Downloading onnxruntime-1.31.1-….whl (17.2 MB)".
fn announced_size(line: &str) -> Option<u64> {
    let rest = line.trim().strip_prefix("Downloading ")?;
    let inside = rest.rsplit_once('(')?.1.strip_suffix(')')?;
    let (number, unit) = inside.split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => return None,
    };
    Some((number * scale) as u64)
}

fn download_progress(spec: &str, done: u64, total: u64) -> String {
    format!(
        "Downloading {spec}: {:.1} of {:.1} MB ({}%)",
        done as f64 / 1e6,
        total as f64 / 1e6,
        done * 100 / total.max(1)
    )
}

/// Bytes in the files under `dir`, however deep.
fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => folder_size(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
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

/// A wheel is a zip archive; the runtime's libraries sit in its
/// `onnxruntime/capi/` folder.
pub fn unpack_libraries(wheel: &Path, dest: &Path) -> Result<Vec<String>> {
    let file =
        std::fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a readable wheel", wheel.display()))?;
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut unpacked = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("reading entry {i} of {}", wheel.display()))?;
        let entry_name = entry
            .name()
            .with_context(|| format!("reading entry {i} of {}", wheel.display()))?
            .into_owned();
        let Some(name) = runtime_library_name(&entry_name) else {
            continue;
        };
        let target = dest.join(&name);
        let mut out = std::fs::File::create(&target)
            .with_context(|| format!("creating {}", target.display()))?;
        std::io::copy(&mut entry, &mut out)
            .with_context(|| format!("unpacking {name} from {}", wheel.display()))?;
        unpacked.push(name);
    }
    Ok(unpacked)
}

/// The file name to unpack an archive entry as, when it is one of the
/// runtime's libraries (`…/capi/libonnxruntime*` or `…/capi/onnxruntime*.dll`).
/// Only the last path part is kept, so an entry cannot write outside `dest`.
fn runtime_library_name(entry: &str) -> Option<String> {
    let parts: Vec<&str> = entry.split('/').collect();
    let [.., folder, name] = parts.as_slice() else {
        return None;
    };
    let wanted = name.starts_with("libonnxruntime")
        || (name.starts_with("onnxruntime") && name.ends_with(".dll"));
    (parts.len() >= 3 && *folder == "capi" && wanted).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pips_announced_size_and_the_progress_line() {
        assert_eq!(
            announced_size(
                "  Downloading onnxruntime-1.31.1-cp311-cp311-manylinux_2_27_x86_64.whl (17.2 MB)"
            ),
            Some(17_200_000)
        );
        assert_eq!(announced_size("Downloading x.whl (512 kB)"), Some(512_000));
        assert_eq!(announced_size("Collecting onnxruntime==1.31.1"), None);
        assert_eq!(announced_size("Saved ./onnxruntime.whl"), None);
        assert_eq!(
            download_progress("onnxruntime==1.31.1", 8_600_000, 17_200_000),
            "Downloading onnxruntime==1.31.1: 8.6 of 17.2 MB (50%)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/part"), [0u8; 1000]).unwrap();
        std::fs::write(dir.path().join("top"), [0u8; 24]).unwrap();
        assert_eq!(folder_size(dir.path()), 1024);
    }

    #[test]
    fn only_the_runtime_libraries_are_picked() {
        assert_eq!(
            runtime_library_name("onnxruntime/capi/libonnxruntime.so.1.31.1").as_deref(),
            Some("libonnxruntime.so.1.31.1")
        );
        assert_eq!(
            runtime_library_name("onnxruntime/capi/onnxruntime_providers_cuda.dll").as_deref(),
            Some("onnxruntime_providers_cuda.dll")
        );
        assert_eq!(
            runtime_library_name("onnxruntime/capi/_pybind_state.so"),
            None
        );
        assert_eq!(runtime_library_name("capi/libonnxruntime.so"), None);
        assert_eq!(
            runtime_library_name("onnxruntime/tools/libonnxruntime.so"),
            None
        );
    }

    #[test]
    fn a_wheel_is_unpacked_without_python() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("onnxruntime-1.31.1-cp311-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in [
            (
                "onnxruntime/capi/libonnxruntime.so.1.31.1",
                b"library".as_slice(),
            ),
            (
                "onnxruntime/capi/onnxruntime_pybind11_state.so",
                b"python".as_slice(),
            ),
            ("onnxruntime-1.31.1.dist-info/RECORD", b"record".as_slice()),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap();
        let dest = dir.path().join("lib");
        let unpacked = unpack_libraries(&wheel, &dest).unwrap();
        assert_eq!(unpacked, ["libonnxruntime.so.1.31.1"]);
        assert_eq!(std::fs::read(dest.join(&unpacked[0])).unwrap(), b"library");
        assert!(!dest.join("onnxruntime_pybind11_state.so").exists());
    }
}
