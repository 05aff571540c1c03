#!/usr/bin/env python3
"""Assembles a Triton model repository for GenderLens.

    make_repository.py --variant cpu|gpu [--precision fp16|fp32]
                       [--engine-cache DIR] OUT

Copies the python steps (gender_decode, gender_align, gender_postprocess,
which call the genderlens_pipeline extension) and gender_ensemble, adds the
chosen variant of the four models, face_detector, gender_model, age_model
and faceapi_model (cpu: python backend + onnxruntime; gpu: onnxruntime_onnx
with the TensorRT accelerator), and puts the files from the repository's
models/ folder beside the code that loads them, each model checked against
its sha256 in models/manifest.json. The gpu variant needs the `onnx`
package to rename the models' tensors to the names Triton's configs use;
--precision and --engine-cache set its TensorRT precision (FP16 unless
told) and where TensorRT keeps its engines (/cache/tensorrt, the volume
docker-compose mounts).
"""

import argparse
import hashlib
import json
import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent.parent / "models"

# Each model Triton runs: its folder here (and its name in Triton), and its
# entry in models/manifest.json. Both variants take the ONNX file's tensor
# names from the cpu config's `tensors` parameter.
FACE_MODELS = [
    ("face_detector", "detector"),
    ("gender_model", "classifier"),
    ("age_model", "age"),
    ("faceapi_model", "faceapi"),
]
# The python steps read the models' manifest beside their model.py.
STEPS = ["gender_decode", "gender_align", "gender_postprocess"]
DEFAULT_ENGINE_CACHE = "/cache/tensorrt"


def manifest_entry(manifest, key):
    if key not in manifest or "file" not in manifest[key] or "sha256" not in manifest[key]:
        raise SystemExit(f"models/manifest.json has no {key!r} entry with a file and its sha256")
    return manifest[key]


def verified(entry):
    source = MODELS / entry["file"]
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise SystemExit(f"{source}: sha256 {digest} does not match models/manifest.json")
    return source


def checked_copy(entry, destination):
    shutil.copyfile(verified(entry), destination / entry["file"])


def config_parameter(config, key):
    text = config.read_text()
    pattern = r'key: "%s", value: \{ string_value: "([^"]*)" \}' % re.escape(key)
    match = re.search(pattern, text)
    if not match:
        raise SystemExit(f"{config}: no parameter {key!r}")
    return match.group(1)


def tensor_renames(cpu_config):
    """The cpu config's "TRITON:onnx,..." pairs as {onnx name: Triton name}."""
    pairs = [pair.split(":", 1) for pair in config_parameter(cpu_config, "tensors").split(",")]
    return {onnx_name: triton_name for triton_name, onnx_name in pairs}


def renamed_onnx(source, destination, renames):
    import onnx

    model = onnx.load(source)
    names = {value.name for value in list(model.graph.input) + list(model.graph.output)}
    missing = sorted(set(renames) - names)
    if missing:
        raise SystemExit(f"{source}: no input or output named {', '.join(missing)}")
    for value in list(model.graph.input) + list(model.graph.output):
        value.name = renames.get(value.name, value.name)
    for node in model.graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    onnx.checker.check_model(model)
    onnx.save(model, destination)


def tensorrt_options(config, precision, engine_cache):
    """A gpu config with its precision and engine cache set as asked."""
    text = config.read_text()
    text = text.replace(
        'key: "precision_mode" value: "FP16"', f'key: "precision_mode" value: "{precision.upper()}"'
    )
    text = text.replace(f'value: "{DEFAULT_ENGINE_CACHE}', f'value: "{engine_cache.rstrip("/")}')
    config.write_text(text)


def face_model(name, entry, variant, out):
    source = HERE / name
    model_dir = out / name
    (model_dir / "1").mkdir(parents=True)
    shutil.copyfile(source / variant / "config.pbtxt", model_dir / "config.pbtxt")
    cpu_config = source / "cpu" / "config.pbtxt"
    if config_parameter(cpu_config, "onnx_file") != entry["file"]:
        raise SystemExit(f"{cpu_config}: onnx_file is not {entry['file']!r}")
    renames = tensor_renames(cpu_config)
    if variant == "cpu":
        shutil.copyfile(HERE / "onnx_model.py", model_dir / "1" / "model.py")
        checked_copy(entry, model_dir / "1")
    else:
        renamed_onnx(verified(entry), model_dir / "1" / "model.onnx", renames)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["cpu", "gpu"], required=True)
    parser.add_argument("--precision", choices=["fp16", "fp32"], default="fp16")
    parser.add_argument("--engine-cache", default=DEFAULT_ENGINE_CACHE)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    manifest = json.loads((MODELS / "manifest.json").read_text())
    entries = {key: manifest_entry(manifest, key) for _, key in FACE_MODELS}

    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(
        HERE / "model_repository", args.out, ignore=shutil.ignore_patterns("__pycache__", ".keep")
    )
    (args.out / "gender_ensemble" / "1").mkdir(exist_ok=True)
    for step in STEPS:
        shutil.copyfile(MODELS / "manifest.json", args.out / step / "1" / "manifest.json")
    checked_copy(manifest_entry(manifest, "landmarks"), args.out / "gender_align" / "1")
    for name, key in FACE_MODELS:
        face_model(name, entries[key], args.variant, args.out)
        if args.variant == "gpu":
            tensorrt_options(args.out / name / "config.pbtxt", args.precision, args.engine_cache)
    print(args.out)


if __name__ == "__main__":
    main()
