"""Checks the ONNX rebuild of face-api.js's AgeGenderNet against face-api.js.

Cuts 112x112 chips from the test photos, runs them through face-api.js
0.22.2 itself (faceapi_reference.cjs, Node with the tfjs-core CPU backend)
and through the ONNX file (onnxruntime), and compares p(male) and age.
Fails unless every difference is within TOLERANCE.

Set-up and run (from the repository root):
    npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
    (mkdir -p /tmp/faceapi-js && cd /tmp/faceapi-js && npm install face-api.js@0.22.2)
    python3 -m venv /tmp/v && /tmp/v/bin/pip install numpy onnxruntime pillow
    /tmp/v/bin/python models/check_faceapi_onnx.py package/model /tmp/faceapi-js/node_modules
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

HERE = Path(__file__).resolve().parent
PHOTOS = HERE.parent / "tests" / "fixtures" / "photos"
MEANS = np.array([122.782, 117.001, 104.298], dtype=np.float32)
TOLERANCE = 1e-4


def chips() -> np.ndarray:
    """Square crops of every test photo (whole, and its upper-middle part,
    where the faces are), as 112x112 RGB byte values in NHWC."""
    out = []
    for photo in sorted(PHOTOS.iterdir()):
        image = Image.open(photo).convert("RGB")
        w, h = image.size
        side = min(w, h)
        for box in (
            ((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2),
            (w // 4, h // 8, w // 4 + side // 2, h // 8 + side // 2),
        ):
            crop = image.crop(box).resize((112, 112), Image.BILINEAR)
            out.append(np.asarray(crop, dtype=np.float32))
    return np.stack(out)


def reference(weights: Path, node_modules: Path, batch: np.ndarray) -> list:
    with tempfile.NamedTemporaryFile(suffix=".f32") as raw:
        raw.write(np.ascontiguousarray(batch, dtype=np.float32).tobytes())
        raw.flush()
        run = subprocess.run(
            ["node", str(HERE / "faceapi_reference.cjs"), str(weights), raw.name],
            env=dict(os.environ, NODE_PATH=str(node_modules)),
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(run.stdout)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: check_faceapi_onnx.py WEIGHTS_DIR NODE_MODULES")
    weights, node_modules = Path(sys.argv[1]), Path(sys.argv[2])
    batch = chips()
    theirs = reference(weights, node_modules, batch)
    session = onnxruntime.InferenceSession(
        str(HERE / "faceapi-agegender.onnx"), providers=["CPUExecutionProvider"]
    )
    images = ((batch - MEANS) / 256.0).transpose(0, 3, 1, 2).astype(np.float32)
    gender, age = session.run(["gender", "age"], {"images": images})
    worst_p, worst_age = 0.0, 0.0
    for n, answer in enumerate(theirs):
        p_male = answer["genderProbability"] if answer["gender"] == "male" else 1 - answer["genderProbability"]
        worst_p = max(worst_p, abs(p_male - float(gender[n, 0])))
        worst_age = max(worst_age, abs(answer["age"] - float(age[n, 0])))
        print(f"chip {n:2}: face-api.js p_male {p_male:.6f} age {answer['age']:.4f} | "
              f"onnx p_male {gender[n, 0]:.6f} age {age[n, 0]:.4f}")
    print(f"{len(theirs)} chips: max |dp_male| {worst_p:.2e}, max |dage| {worst_age:.2e} (tolerance {TOLERANCE})")
    if max(worst_p, worst_age) > TOLERANCE:
        sys.exit("the ONNX rebuild differs from face-api.js")


if __name__ == "__main__":
    main()
