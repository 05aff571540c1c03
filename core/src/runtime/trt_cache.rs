//! TensorRT engine and timing caches, one folder per model, shape profile,
//! GPU, driver, TensorRT and ONNX Runtime version and precision, so any
//! change rebuilds.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub fn engine_dir(
    model_sha256: &str,
    profile: &super::ShapeProfile,
    ort_version: &str,
    fp16: bool,
) -> Result<PathBuf> {
    let root = crate::paths::cache_dir()
        .context("this system has no per-user cache folder")?
        .join("tensorrt");
    let identity = format!(
        "model={model_sha256}\nprofile={} {} {}\ngpu={}\ntensorrt={}\nort={ort_version}\nfp16={fp16}",
        profile.min,
        profile.opt,
        profile.max,
        gpu_identity(),
        tensorrt_version()
    );
    let key = &crate::manifest::sha256_hex(identity.as_bytes())[..16];
    Ok(root.join(key))
}

pub fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none())
}

/// GPU models and driver version as the NVIDIA kernel driver reports them.
fn gpu_identity() -> String {
    let mut parts = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc/driver/nvidia/gpus") {
        let mut models: Vec<String> = entries
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("information")).ok())
            .filter_map(|info| {
                info.lines()
                    .find(|l| l.starts_with("Model:"))
                    .map(|l| l.trim_start_matches("Model:").trim().to_string())
            })
            .collect();
        models.sort();
        parts.extend(models);
    }
    if let Ok(version) = std::fs::read_to_string("/proc/driver/nvidia/version") {
        parts.push(version.lines().next().unwrap_or_default().to_string());
    }
    if parts.is_empty() {
        "unknown".into()
    } else {
        parts.join(";")
    }
}

/// The full version of the TensorRT library the loader would find, from its file name.
fn tensorrt_version() -> String {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    dirs.extend(
        [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/local/cuda/lib64",
            "/usr/lib",
            "/usr/local/lib",
        ]
        .map(PathBuf::from),
    );
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("libnvinfer.so.10"))
            .collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        if let Some(name) = names.into_iter().next() {
            return name;
        }
    }
    "none".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ShapeProfile;

    #[test]
    fn any_change_of_model_profile_version_or_precision_moves_the_cache() {
        let profile = ShapeProfile::new("images", [1, 3, 32, 32], [64, 3, 32, 32], [64, 3, 32, 32]);
        let bigger =
            ShapeProfile::new("images", [1, 3, 32, 32], [128, 3, 32, 32], [128, 3, 32, 32]);
        let base = engine_dir("aaa", &profile, "1.31.1", false).unwrap();
        assert_eq!(base, engine_dir("aaa", &profile, "1.31.1", false).unwrap());
        for other in [
            engine_dir("bbb", &profile, "1.31.1", false),
            engine_dir("aaa", &bigger, "1.31.1", false),
            engine_dir("aaa", &profile, "1.32.0", false),
            engine_dir("aaa", &profile, "1.31.1", true),
        ] {
            assert_ne!(base, other.unwrap());
        }
        assert!(base.starts_with(crate::paths::cache_dir().unwrap().join("tensorrt")));
    }
}
