//! Whether the CUDA, cuDNN and TensorRT libraries the GPU providers need can be
//! loaded, by exact file name, so `doctor` can say precisely what is missing.

use serde::Serialize;

pub const TENSORRT_DYLIBS: &[&str] = &[
    "libnvinfer.so.10",
    "libnvinfer_plugin.so.10",
    "libnvonnxparser.so.10",
];

#[derive(Debug, Clone, Serialize)]
pub struct LibraryCheck {
    pub group: &'static str,
    pub file: &'static str,
    /// `None` when found; otherwise the loader's message.
    pub missing: Option<String>,
}

pub fn check_gpu_libraries() -> Vec<LibraryCheck> {
    let groups: [(&'static str, &'static [&'static str]); 3] = [
        ("CUDA 13", ort::ep::cuda::CUDA_DYLIBS),
        ("cuDNN 9", ort::ep::cuda::CUDNN_DYLIBS),
        ("TensorRT 10", TENSORRT_DYLIBS),
    ];
    groups
        .iter()
        .flat_map(|(group, files)| {
            files.iter().map(move |file| LibraryCheck {
                group,
                file,
                missing: try_load(file).err(),
            })
        })
        .collect()
}

fn try_load(file: &str) -> Result<(), String> {
    // SAFETY: these are NVIDIA's runtime libraries; loading runs only their initialisers.
    unsafe { libloading::Library::new(file) }
        .map(drop)
        .map_err(|e| e.to_string())
}
