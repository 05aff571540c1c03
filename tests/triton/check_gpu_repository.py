"""Checks a gpu model repository as far as a machine without a GPU can:

    python check_gpu_repository.py REPO MODELS PRECISION ENGINE_CACHE

For each model Triton runs with TensorRT: the renamed ONNX file has exactly
the config's tensor names and answers exactly as the shipped file does; the
TensorRT shape profile names every input and no other, with min <= opt <=
max and the warm-up inside it; precision and engine cache are as asked.
Prints one line per model; exits non-zero on the first fault.
"""

import re
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

MODELS = {
    "face_detector": "centerface.onnx",
    "gender_model": "gender-v1.onnx",
    "age_model": "age-v1.onnx",
    "faceapi_model": "faceapi-agegender.onnx",
}


def parameter(config, key):
    match = re.search(r'key: "%s" value: "([^"]*)"' % re.escape(key), config)
    assert match, f"no TensorRT parameter {key}"
    return match.group(1)


def profile(config, which):
    shapes = {}
    for item in parameter(config, f"trt_profile_{which}_shapes").split(","):
        name, dims = item.split(":")
        shapes[name] = [int(d) for d in dims.split("x")]
    return shapes


def config_tensors(config, section):
    block = re.search(section + r" \[(.*?)\n\]", config, re.S).group(1)
    return re.findall(r'name: "([A-Z_0-9]+)"', block)


def main():
    repo, models, precision, cache = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    for name, original_file in MODELS.items():
        config = (repo / name / "config.pbtxt").read_text()
        inputs, outputs = config_tensors(config, "input"), config_tensors(config, "output")
        renamed = ort.InferenceSession(str(repo / name / "1" / "model.onnx"))
        original = ort.InferenceSession(str(models / original_file))
        assert [i.name for i in renamed.get_inputs()] == inputs, (name, renamed.get_inputs())
        assert [o.name for o in renamed.get_outputs()] == outputs, (name, renamed.get_outputs())

        low, best, high = (profile(config, w) for w in ("min", "opt", "max"))
        assert set(low) == set(best) == set(high) == set(inputs), (name, low, inputs)
        batches = int(re.search(r"max_batch_size: (\d+)", config).group(1))
        for tensor in inputs:
            assert all(a <= b <= c for a, b, c in zip(low[tensor], best[tensor], high[tensor]))
            if batches:
                assert high[tensor][0] == batches, (name, "the profile stops short of max_batch_size")
        block = config[config.index("model_warmup [") :]
        warmup = re.search(r"batch_size: (\d+).*?dims: \[([^\]]*)\]", block, re.S)
        dims = [int(d) for d in warmup.group(2).split(",")]
        shape = ([int(warmup.group(1))] + dims) if batches else dims
        tensor = inputs[0]
        assert all(a <= d <= c for a, d, c in zip(low[tensor], shape, high[tensor])), (name, shape)

        assert parameter(config, "precision_mode") == precision.upper(), name
        assert parameter(config, "trt_engine_cache_path") == cache, name
        assert parameter(config, "trt_engine_cache_enable") == "true", name

        sample = np.random.default_rng(7).uniform(0, 1, size=shape).astype(np.float32)
        if name == "face_detector":
            sample *= 255
            decode = (repo / "gender_decode" / "config.pbtxt").read_text()
            size = int(re.search(r'"detector_size", value: \{ string_value: "(\d+)"', decode).group(1))
            assert min(high[tensor][2:]) >= size, (name, "the profile is smaller than detector_size")
        ours = renamed.run(None, {tensor: sample})
        theirs = original.run(None, {original.get_inputs()[0].name: sample})
        worst = max(float(np.abs(a - b).max()) for a, b in zip(ours, theirs))
        assert worst == 0.0, (name, worst)
        print(f"{name}: {precision.upper()}, profile {low[tensor]}..{high[tensor]}, warm-up {shape}")


if __name__ == "__main__":
    main()
