//! Execution-provider selection for one session: TensorRT, then CUDA, then
//! CPU, with every fallback recorded rather than hidden.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use ort::ep::{self, ExecutionProviderDispatch};
use ort::session::builder::SessionBuilder;
use serde::Serialize;

use crate::settings::ProviderChoice;

/// TensorRT's optimisation profile for one dynamic input, as `name:NxCxHxW`.
#[derive(Debug, Clone)]
pub struct ShapeProfile {
    pub min: String,
    pub opt: String,
    pub max: String,
}

impl ShapeProfile {
    pub fn new(input: &str, min: [usize; 4], opt: [usize; 4], max: [usize; 4]) -> Self {
        let fmt = |d: [usize; 4]| format!("{input}:{}x{}x{}x{}", d[0], d[1], d[2], d[3]);
        Self {
            min: fmt(min),
            opt: fmt(opt),
            max: fmt(max),
        }
    }
}

pub struct TensorRtOptions {
    pub cache_dir: PathBuf,
    pub fp16: bool,
    pub profile: ShapeProfile,
}

/// A provider that was asked for and could not be registered, with ORT's reason.
#[derive(Debug, Clone, Serialize)]
pub struct Fallback {
    pub provider: &'static str,
    pub reason: String,
}

fn tensorrt(options: &TensorRtOptions) -> ExecutionProviderDispatch {
    let dir = options.cache_dir.display().to_string();
    ep::TensorRT::default()
        .with_engine_cache(true)
        .with_engine_cache_path(&dir)
        .with_timing_cache(true)
        .with_timing_cache_path(&dir)
        .with_fp16(options.fp16)
        .with_builder_optimization_level(3)
        .with_profile_min_shapes(&options.profile.min)
        .with_profile_opt_shapes(&options.profile.opt)
        .with_profile_max_shapes(&options.profile.max)
        .build()
        .error_on_failure()
}

fn cuda() -> ExecutionProviderDispatch {
    ep::CUDA::default().build().error_on_failure()
}

/// Registers the providers `choice` asks for. For `Auto`, a provider that
/// cannot be registered is recorded and the next one is tried; for an
/// explicit choice it is an error.
pub fn register(
    builder: &mut SessionBuilder,
    choice: ProviderChoice,
    trt: &TensorRtOptions,
) -> Result<Vec<Fallback>> {
    let mut fallbacks = Vec::new();
    let mut try_register =
        |dispatch: ExecutionProviderDispatch, name: &'static str, required: bool| -> Result<()> {
            match dispatch.register(builder) {
                Ok(()) => Ok(()),
                Err(e) if required => Err(anyhow!(
                    "the {name} execution provider was requested but cannot be used: {e}"
                )),
                Err(e) => {
                    fallbacks.push(Fallback {
                        provider: name,
                        reason: e.to_string(),
                    });
                    Ok(())
                }
            }
        };
    match choice {
        ProviderChoice::Auto => {
            // Without a cache folder TensorRT still runs; it just rebuilds every start.
            let _ = std::fs::create_dir_all(&trt.cache_dir);
            try_register(tensorrt(trt), "TensorRT", false)?;
            try_register(cuda(), "CUDA", false)?;
        }
        ProviderChoice::Tensorrt => {
            std::fs::create_dir_all(&trt.cache_dir)
                .with_context(|| format!("creating {}", trt.cache_dir.display()))?;
            try_register(tensorrt(trt), "TensorRT", true)?;
            // Nodes TensorRT rejects should land on the GPU too, when CUDA is there.
            try_register(cuda(), "CUDA", false)?;
        }
        ProviderChoice::Cuda => try_register(cuda(), "CUDA", true)?,
        ProviderChoice::Cpu => {}
    }
    Ok(fallbacks)
}

/// Providers this ONNX Runtime build was compiled with (not whether they can run).
pub fn compiled_providers() -> Result<Vec<String>> {
    let api = ort::api();
    let mut list: *mut *mut std::ffi::c_char = std::ptr::null_mut();
    let mut count: std::ffi::c_int = 0;
    // SAFETY: the out-parameters are written by ONNX Runtime and released below.
    unsafe {
        let status = (api.GetAvailableProviders)(&mut list, &mut count);
        if !status.0.is_null() {
            (api.ReleaseStatus)(status.0);
            return Err(anyhow!("ONNX Runtime could not list its providers"));
        }
        let names = (0..count as usize)
            .map(|i| {
                std::ffi::CStr::from_ptr(*list.add(i))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let status = (api.ReleaseAvailableProviders)(list, count);
        if !status.0.is_null() {
            (api.ReleaseStatus)(status.0);
        }
        Ok(names)
    }
}
