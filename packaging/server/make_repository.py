#!/usr/bin/env python3
"""Assembles a Triton model repository for GenderLens.

    make_repository.py --variant cpu|gpu OUT

Copies gender_preprocess, gender_postprocess and gender_ensemble, adds the
chosen gender_model (cpu: python backend + onnxruntime; gpu: onnxruntime_onnx
with the TensorRT accelerator) and puts the model files from the repository's
models/ folder beside the code that loads them. The gpu variant needs the
`onnx` package to rename the classifier's tensors to INPUT__0 and LOGITS.
"""

import argparse
import hashlib
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent.parent / "models"


def checked_copy(name, manifest_entry, destination):
    source = MODELS / name
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    if manifest_entry and digest != manifest_entry["sha256"]:
        raise SystemExit(f"{source}: sha256 {digest} does not match models/manifest.json")
    shutil.copyfile(source, destination / name)


def gpu_classifier(source, destination, manifest):
    import onnx

    model = onnx.load(source)
    renames = {
        manifest["classifier"]["input"]["name"]: "INPUT__0",
        manifest["classifier"]["output"]["name"]: "LOGITS",
    }
    for value in list(model.graph.input) + list(model.graph.output):
        value.name = renames.get(value.name, value.name)
    for node in model.graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    onnx.checker.check_model(model)
    onnx.save(model, destination)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=["cpu", "gpu"], required=True)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    manifest = json.loads((MODELS / "manifest.json").read_text())

    if args.out.exists():
        shutil.rmtree(args.out)
    shutil.copytree(
        HERE / "model_repository", args.out, ignore=shutil.ignore_patterns("__pycache__", ".keep")
    )
    (args.out / "gender_ensemble" / "1").mkdir(exist_ok=True)
    pre = args.out / "gender_preprocess" / "1"
    checked_copy(manifest["detector"]["file"], manifest["detector"], pre)
    checked_copy(manifest["landmarks"]["file"], manifest["landmarks"], pre)

    model_dir = args.out / "gender_model"
    (model_dir / "1").mkdir(parents=True)
    variant = HERE / "gender_model" / args.variant
    shutil.copyfile(variant / "config.pbtxt", model_dir / "config.pbtxt")
    classifier = manifest["classifier"]
    if args.variant == "cpu":
        shutil.copyfile(variant / "model.py", model_dir / "1" / "model.py")
        checked_copy(classifier["file"], classifier, model_dir / "1")
    else:
        gpu_classifier(MODELS / classifier["file"], model_dir / "1" / "model.onnx", manifest)
    print(args.out)


if __name__ == "__main__":
    main()
