"""Makes a folder of 12-megapixel phone-sized JPEGs from the test fixtures.

Each fixture photo is upright-rotated, scaled to cover 4032x3024 (or
3024x4032 for a portrait photo), centre-cropped to that size and saved as
JPEG quality 90, like a phone camera's output. Needs Pillow.

    python3 tests/bench/make_12mp.py OUT_DIR
    genderlens bench OUT_DIR --provider cpu
"""

import sys
from pathlib import Path

from PIL import Image, ImageOps

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
LANDSCAPE = (4032, 3024)


def phone_sized(image):
    image = ImageOps.exif_transpose(image).convert("RGB")
    size = LANDSCAPE if image.width >= image.height else LANDSCAPE[::-1]
    return ImageOps.fit(image, size, Image.LANCZOS)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for photo in sorted(FIXTURES.iterdir()):
        with Image.open(photo) as image:
            target = out / f"{photo.stem}_12mp.jpg"
            phone_sized(image).save(target, quality=90)
            print(target)


if __name__ == "__main__":
    main()
