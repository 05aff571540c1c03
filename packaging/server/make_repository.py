#!/usr/bin/env python3
"""Assembles a Triton model repository for GenderLens.

    make_repository.py --variant cpu|gpu OUT

Copies gender_preprocess, gender_postprocess and gender_ensemble, adds the
chosen variant of the three face models, gender_model, age_model and
faceapi_model (cpu: python backend + onnxruntime; gpu: onnxruntime_onnx with
the TensorRT accelerator), and puts the model files from the repository's
models/ folder beside the code that loads them, each checked against its
sha256 in models/manifest.json. The gpu variant needs the `onnx` package to
rename the models' tensors to the names Triton's configs use.
"""

import argparse
import hashlib
import json
import re
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent.parent / "models"

# Each face model: its folder here (and its name in Triton), and its entry
# in models/manifest.json. Both variants take the ONNX file's tensor names
# from the cpu config's `tensors` parameter.
FACE_MODELS = [("gender_model", "classifier"), ("age_model", "age"), ("faceapi_model", "faceapi")]

# What gender_postprocess assumes of the models, by manifest entry.
POSTPROCESS_PARAMETERS = [
    ("labels", "classifier", "labels"),
    ("gender_model_name", "classifier", "name"),
    ("age_model_name", "age", "name"),
    ("faceapi_labels", "faceapi", "gender_labels"),
    ("faceapi_model_name", "faceapi", "name"),
]
# gender_postprocess's AGE_WEIGHTS: age 0 counts as a quarter year.
AGE_WEIGHTS = [0.25] + list(range(1, 81))


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


def check_postprocess(config, manifest):
    for key, entry, field in POSTPROCESS_PARAMETERS:
        value = manifest[entry][field]
        wanted = ",".join(value) if isinstance(value, list) else value
        if config_parameter(config, key) != wanted:
            raise SystemExit(f"{config}: {key} is not {wanted!r} as models/manifest.json says")
    weights = manifest["age"].get("age_weights", AGE_WEIGHTS)
    if [float(w) for w in weights] != [float(w) for w in AGE_WEIGHTS]:
        raise SystemExit(
            "models/manifest.json weighs age-v1's classes differently from gender_postprocess"
        )


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
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    manifest = json.loads((MODELS / "manifest.json").read_text())
    entries = {key: manifest_entry(manifest, key) for _, key in FACE_MODELS}
    check_postprocess(HERE / "model_repository" / "gender_postprocess" / "config.pbtxt", manifest)

    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(
        HERE / "model_repository", args.out, ignore=shutil.ignore_patterns("__pycache__", ".keep")
    )
    (args.out / "gender_ensemble" / "1").mkdir(exist_ok=True)
    pre = args.out / "gender_preprocess" / "1"
    checked_copy(manifest_entry(manifest, "detector"), pre)
    checked_copy(manifest_entry(manifest, "landmarks"), pre)
    for name, key in FACE_MODELS:
        face_model(name, entries[key], args.variant, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
