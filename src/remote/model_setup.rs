//! How a Triton server runs each model behind the one GenderLens calls, as
//! the models' configs declare it: the backend, where the instances run and
//! which accelerator (TensorRT, and its precision) each asks for. `doctor
//! --remote` shows it, so a user can see that detection runs on the GPU.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelSetup {
    pub model: String,
    /// The platform (`onnxruntime_onnx`, `ensemble`) or else the backend (`python`).
    pub backend: String,
    /// Instances per kind, e.g. `["2 on CPU"]`; empty for an ensemble.
    pub instances: Vec<String>,
    /// Each accelerator asked for, e.g. `"tensorrt FP16 on GPU"`.
    pub accelerators: Vec<String>,
    /// The models an ensemble runs, in step order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
}

impl ModelSetup {
    /// One line for `doctor`.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.backend.clone()];
        if !self.instances.is_empty() {
            parts.push(self.instances.join(", "));
        }
        if self.accelerators.is_empty() && self.steps.is_empty() {
            parts.push("no accelerator".into());
        }
        parts.extend(self.accelerators.iter().cloned());
        if !self.steps.is_empty() {
            parts.push(format!("steps {}", self.steps.join(" → ")));
        }
        format!("{}: {}", self.model, parts.join(", "))
    }

    /// From the JSON Triton's HTTP `/v2/models/{name}/config` answers.
    pub fn from_json(model: &str, config: &Value) -> Self {
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
        let instances = list(config.get("instance_group"))
            .iter()
            .map(|group| {
                let count = group.get("count").and_then(Value::as_i64).unwrap_or(1);
                instance_text(count, &text(group, "kind"))
            })
            .collect();
        let accelerators_of = |device: &str, key: &str| {
            list(
                config
                    .pointer("/optimization/execution_accelerators")
                    .and_then(|a| a.get(key)),
            )
            .iter()
            .map(|accelerator| {
                let precision = accelerator
                    .pointer("/parameters/precision_mode")
                    .and_then(Value::as_str);
                accelerator_text(&text(accelerator, "name"), precision, device)
            })
            .collect::<Vec<_>>()
        };
        let mut accelerators = accelerators_of("GPU", "gpu_execution_accelerator");
        accelerators.extend(accelerators_of("CPU", "cpu_execution_accelerator"));
        let steps = list(config.pointer("/ensemble_scheduling/step"))
            .iter()
            .map(|step| text(step, "model_name"))
            .collect();
        Self {
            model: model.to_string(),
            backend: backend_text(&text(config, "platform"), &text(config, "backend")),
            instances,
            accelerators,
            steps,
        }
    }
}

pub fn backend_text(platform: &str, backend: &str) -> String {
    match (platform, backend) {
        ("", "") => "unknown backend".into(),
        ("", backend) => backend.into(),
        (platform, _) => platform.into(),
    }
}

pub fn instance_text(count: i64, kind: &str) -> String {
    let place = match kind {
        "KIND_GPU" => "GPU",
        "KIND_CPU" => "CPU",
        "KIND_MODEL" => "the model's own device",
        _ => "GPU if there is one, else CPU",
    };
    let noun = if count == 1 { "instance" } else { "instances" };
    format!("{count} {noun} on {place}")
}

pub fn accelerator_text(name: &str, precision: Option<&str>, device: &str) -> String {
    match precision {
        Some(precision) => format!("{name} {precision} on {device}"),
        None => format!("{name} on {device}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gpu_models_config_names_its_backend_device_and_tensorrt() {
        // What Triton answers for face_detector's gpu config.
        let config = serde_json::json!({
            "name": "face_detector",
            "platform": "onnxruntime_onnx",
            "backend": "onnxruntime",
            "instance_group": [{"name": "face_detector", "kind": "KIND_GPU", "count": 1, "gpus": [0]}],
            "optimization": {"execution_accelerators": {
                "gpu_execution_accelerator": [{"name": "tensorrt", "parameters": {
                    "precision_mode": "FP16", "trt_profile_max_shapes": "DETECTOR_INPUT:1x3x640x640"}}],
                "cpu_execution_accelerator": []
            }}
        });
        let setup = ModelSetup::from_json("face_detector", &config);
        assert_eq!(
            setup.describe(),
            "face_detector: onnxruntime_onnx, 1 instance on GPU, tensorrt FP16 on GPU"
        );
    }

    #[test]
    fn python_steps_and_ensembles_read_plainly() {
        let python = serde_json::json!({
            "backend": "python", "platform": "",
            "instance_group": [{"kind": "KIND_CPU", "count": 2}]
        });
        assert_eq!(
            ModelSetup::from_json("gender_align", &python).describe(),
            "gender_align: python, 2 instances on CPU, no accelerator"
        );
        let ensemble = serde_json::json!({
            "platform": "ensemble",
            "ensemble_scheduling": {"step": [{"model_name": "gender_decode"}, {"model_name": "face_detector"}]}
        });
        let setup = ModelSetup::from_json("gender_ensemble", &ensemble);
        assert_eq!(setup.steps, ["gender_decode", "face_detector"]);
        assert_eq!(
            setup.describe(),
            "gender_ensemble: ensemble, steps gender_decode → face_detector"
        );
    }
}
