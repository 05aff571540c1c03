"""Writes the fuzz targets' seed corpora into this folder (fuzz/seeds/).

Run with any Python that has Pillow, from the repository root:
    python3 fuzz/seeds/make_seeds.py
The output is deterministic except for the encoders' own versions; the
committed seeds are what it wrote with Pillow 13.0.0.
"""

import io
import json
import math
import random
import struct
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
random.seed(7)


def write(target, name, data):
    (HERE / target).mkdir(exist_ok=True)
    (HERE / target / name).write_bytes(data)


def gradient(mode, size):
    im = Image.new(mode, size)
    px = im.load()
    for y in range(size[1]):
        for x in range(size[0]):
            if mode == "RGB":
                px[x, y] = (x * 16 % 256, y * 16 % 256, 128)
            elif mode == "RGBA":
                px[x, y] = (x * 16 % 256, y * 16 % 256, 128, 200)
            elif mode in ("L", "P"):
                px[x, y] = (x * y) % 256
            elif mode == "I;16":
                px[x, y] = x * 4000
    return im


def encoded(im, fmt, **options):
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


# decode: one small image per format and a few EXIF orientations.
write("decode", "rgb.png", encoded(gradient("RGB", (16, 12)), "PNG"))
write("decode", "rgba.png", encoded(gradient("RGBA", (12, 16)), "PNG"))
write("decode", "grey16.png", encoded(gradient("I;16", (8, 8)), "PNG"))
write("decode", "palette.gif", encoded(gradient("P", (10, 10)), "GIF"))
write("decode", "rgb.bmp", encoded(gradient("RGB", (9, 7)), "BMP"))
write("decode", "rgb.tiff", encoded(gradient("RGB", (8, 8)), "TIFF"))
write("decode", "rgb.webp", encoded(gradient("RGB", (16, 16)), "WEBP", quality=50))
write("decode", "lossless.webp", encoded(gradient("RGBA", (8, 8)), "WEBP", lossless=True))
for orientation in (3, 6, 8):
    exif = Image.Exif()
    exif[0x0112] = orientation
    write(
        "decode",
        f"orientation{orientation}.jpg",
        encoded(gradient("RGB", (16, 8)), "JPEG", quality=60, exif=exif.tobytes()),
    )
write("decode", "grey.jpg", encoded(gradient("L", (16, 16)), "JPEG", quality=50))
write(
    "decode",
    "progressive.jpg",
    encoded(gradient("RGB", (24, 16)), "JPEG", quality=50, progressive=True),
)

# centerface: two bytes pick the heatmap's size, two skew the other outputs,
# then little-endian floats.
for n, (h, w) in enumerate([(3, 3), (2, 4), (1, 1), (5, 2)]):
    floats = [random.uniform(-3, 3) for _ in range(40)] + [0.9, 0.7, 0.2]
    data = bytes([h + 1, w + 1, 0, 0]) + b"".join(struct.pack("<f", f) for f in floats)
    write("centerface", f"grid{n}", data)


# shape_predictor: a tiny valid model in dlib's portable serialisation, and
# the start of the real one.
def integer(v):
    magnitude, out = abs(v), b""
    while magnitude:
        out += bytes([magnitude & 0xFF])
        magnitude >>= 8
    return bytes([len(out) | (0x80 if v < 0 else 0)]) + out


def real(x):
    if x == 0:
        return integer(0) + integer(0)
    mantissa, exponent = math.frexp(x)
    return integer(int(mantissa * (1 << 24))) + integer(exponent - 24)


def column(values):
    return integer(len(values)) + integer(1) + b"".join(real(v) for v in values)


model = integer(1) + column([0.2, 0.3, 0.8, 0.3, 0.5, 0.5, 0.3, 0.8, 0.7, 0.8])
model += integer(1) + integer(1)  # one cascade level with one tree
model += integer(1) + integer(0) + integer(1) + real(2.5)  # one split
model += integer(2) + column([0.01] * 10) + column([-0.01] * 10)  # two leaves
model += integer(1) + integer(2) + integer(0) + integer(3)  # anchors
model += integer(1) + integer(2) + real(0.05) + real(-0.02) + real(0.1) + real(0.0)
write("shape_predictor", "tiny.dat", model)
dlib_model = (ROOT / "models" / "shape_predictor_5_face_landmarks.dat").read_bytes()
write("shape_predictor", "real_prefix.dat", dlib_model[:2048])

# kserve: a selector byte (0 metadata, 1/5 inference answer, 2 element,
# 3 result JSON), then the body.
metadata = {
    "name": "gender_ensemble",
    "versions": ["1"],
    "platform": "ensemble",
    "inputs": [{"name": "IMAGE_BYTES", "datatype": "BYTES", "shape": [-1, 1]}],
    "outputs": [{"name": "OUTPUT_JSON", "datatype": "BYTES", "shape": [-1, 1]}],
}
write("kserve", "metadata", bytes([0]) + json.dumps(metadata).encode())
answer = {
    "status": "ok",
    "gender": "female",
    "score": 0.9,
    "uncertain": False,
    "width": 10,
    "height": 20,
    "faces": [
        {
            "box": [1, 2, 3, 4],
            "landmarks": [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]],
            "detection_score": 0.8,
            "gender": "female",
            "score": 0.9,
            "p_male": 0.1,
            "uncertain": False,
        }
    ],
}
answer_json = json.dumps(answer).encode()
inference = {"outputs": [{"name": "OUTPUT_JSON", "datatype": "BYTES", "shape": [1], "data": [answer_json.decode()]}]}
write("kserve", "infer_json", bytes([1]) + json.dumps(inference).encode())
header = json.dumps(
    {
        "outputs": [
            {
                "name": "OUTPUT_JSON",
                "datatype": "BYTES",
                "shape": [1],
                "parameters": {"binary_data_size": 4 + len(answer_json)},
            }
        ]
    }
).encode()
write("kserve", "infer_binary", bytes([5]) + header + struct.pack("<I", len(answer_json)) + answer_json)
write("kserve", "element", bytes([2]) + struct.pack("<I", 5) + b"hello")
write("kserve", "answer", bytes([3]) + answer_json)
write("kserve", "bare_answer", bytes([3]) + b'{"gender":"male","score":0.97}')
write("kserve", "error_answer", bytes([3]) + b'{"status":"error","error":"damaged","error_kind":"input"}')


# multipart: the boundary on the first line, then the body.
def form(fields, boundary="XyZ"):
    body = b""
    for name, filename, content in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + content + b"\r\n"
    return boundary.encode() + b"\n" + body + f"--{boundary}--\r\n".encode()


png = (HERE / "decode" / "rgb.png").read_bytes()
write("multipart", "image", form([("image", "a.png", png)]))
write("multipart", "two_fields", form([("note", None, b"hello"), ("image", "b.png", png[:40])]))
write("multipart", "no_image", form([("file", "c.png", png[:20])]))
write("multipart", "empty_image", form([("image", "d.png", b"")]))

# readers: a settings file and a JSON Lines export.
settings = {
    "backend": "local",
    "engine": {"provider": "cpu", "detector_size": 640, "threshold": 0.6, "max_file_mb": 512},
    "remote": {
        "url": "triton-grpc://localhost:8001",
        "model": "gender_ensemble",
        "timeout_secs": 30.0,
        "max_in_flight": 8,
        "retries": 2,
    },
    "theme": "dark",
}
write("readers", "settings.json", json.dumps(settings).encode())
rows = [
    dict(answer, index=0, path="photos/a.jpg"),
    {"index": 1, "path": "photos/b.jpg", "status": "error", "error": "cannot read file", "error_kind": "input", "faces": []},
    {"index": 2, "path": "photos/\ufffd.jpg", "path_bytes": "cGhvdG9zL/8uanBn", "status": "no_face", "faces": []},
]
write("readers", "results.jsonl", b"\n".join(json.dumps(r).encode() for r in rows) + b"\n")
