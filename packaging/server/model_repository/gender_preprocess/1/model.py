"""gender_preprocess: decode, orient, detect faces and cut each model's input.

The same steps as GenderLens's own preprocess, so a remote answer agrees
with a local one: EXIF orientation applied, the photo shrunk (never grown)
so its longer side fits the detector, CenterFace at stride 4 with NMS at
IoU 0.3, dlib's 5-point landmarks inside a box derived from the detection,
then per face:

- dlib's chip (32 px, padding 0.2) and its mirror image, for gender-v1;
- dlib's chip from the same landmarks at 64 px (padding 0.2), for age-v1;
- the detector's box (unclipped) padded to a centred square and cut to
  112 px the way dlib cuts a chip, zero outside the photo, and its mirror
  image, for face-api's AgeGenderNet.

Each is normalised (byte - mean) / 256 and laid out planar RGB.
"""

import io
import json
import math
import os

import dlib
import numpy as np
import onnxruntime
import triton_python_backend_utils as pb_utils
from PIL import Image, ImageOps

Image.MAX_IMAGE_PIXELS = None  # replaced by our own megapixel limit below

HERE = os.path.dirname(__file__)
# dlib's means; face-api's published ones (122.782, 117.001, 104.298) are
# the same float32 values.
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
STRIDE = 4
NMS_IOU = 0.3
# The landmark model wants a square a little wider than CenterFace's box,
# shifted down (measured on the photos dlib's own detector was trained on).
SIDE_PER_WIDTH = 1.06
CENTRE_SHIFT_PER_HEIGHT = 0.05
CHIP_SIZE = 32
AGE_CHIP_SIZE = 64
CHIP_PADDING = 0.2
CROP_SIZE = 112


class BadImage(Exception):
    pass


def round_half_away(value):
    """Rounds like GenderLens (and C's round), not to even like Python's round."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def decode(data, max_megapixels):
    try:
        image = Image.open(io.BytesIO(data))
    except Exception as exc:
        raise BadImage("not a recognised image format") from exc
    megapixels = image.width * image.height / 1e6
    if megapixels > max_megapixels:
        raise BadImage(
            f"the image is {image.width}x{image.height} ({megapixels:.1f} megapixels), "
            f"above the {max_megapixels:g} megapixel limit"
        )
    try:
        image = ImageOps.exif_transpose(image)
        return np.asarray(image.convert("RGB"))
    except Exception as exc:
        raise BadImage(f"damaged image: {exc}") from exc


def letterbox(rgb, max_side):
    height, width = rgb.shape[:2]
    scale = min(max_side / max(width, height, 1), 1.0)
    scaled_w = int(min(max(round_half_away(width * scale), 1), max_side))
    scaled_h = int(min(max(round_half_away(height * scale), 1), max_side))
    if (scaled_w, scaled_h) != (width, height):
        shrunk = Image.fromarray(rgb).resize((scaled_w, scaled_h), Image.BOX)
        rgb = np.asarray(shrunk)
    pad_w = -(-scaled_w // 32) * 32
    pad_h = -(-scaled_h // 32) * 32
    tensor = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
    tensor[0, :, :scaled_h, :scaled_w] = rgb.transpose(2, 0, 1)
    return tensor, scaled_w / width


def decode_heatmaps(heatmap, scale, offset, landmarks, threshold):
    ys, xs = np.nonzero(heatmap[0, 0] > threshold)
    found = []
    for y, x in zip(ys, xs):
        box_h = np.exp(scale[0, 0, y, x]) * STRIDE
        box_w = np.exp(scale[0, 1, y, x]) * STRIDE
        left = (x + offset[0, 1, y, x] + 0.5) * STRIDE - box_w / 2
        top = (y + offset[0, 0, y, x] + 0.5) * STRIDE - box_h / 2
        points = [
            (landmarks[0, 2 * j + 1, y, x] * box_w + left, landmarks[0, 2 * j, y, x] * box_h + top)
            for j in range(5)
        ]
        found.append(([left, top, left + box_w, top + box_h], points, float(heatmap[0, 0, y, x])))
    return found


def iou(a, b):
    inter_w = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
    inter_h = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return 0.0 if union <= 0 else inter / union


def non_max_suppression(candidates):
    kept = []
    for candidate in sorted(candidates, key=lambda c: -c[2]):
        if all(iou(k[0], candidate[0]) <= NMS_IOU for k in kept):
            kept.append(candidate)
    return kept


def landmark_box(face_box):
    left, top, right, bottom = face_box
    width, height = right - left, bottom - top
    side = max(round_half_away(width * SIDE_PER_WIDTH), 1)
    cx = (left + right) / 2
    cy = (top + bottom) / 2 + height * CENTRE_SHIFT_PER_HEIGHT
    x0 = round_half_away(cx - side / 2)
    y0 = round_half_away(cy - side / 2)
    return dlib.rectangle(int(x0), int(y0), int(x0 + side - 1), int(y0 + side - 1))


def square_crop(rgb, face_box, size):
    """The face box padded to a square about its centre and cut to size x size
    the way dlib cuts a chip, zero outside the photo. The box is taken at
    float32, the precision the app holds it in."""
    left, top, right, bottom = (float(np.float32(v)) for v in face_box)
    side = max(right - left, bottom - top)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    square = dlib.drectangle(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return dlib.extract_image_chip(rgb, dlib.chip_details(square, dlib.chip_dims(size, size)))


def planar(chip):
    """An RGB chip (H x W x 3 bytes) as the models' normalised 3 x H x W input."""
    return ((chip.astype(np.float32) - MEANS) / 256.0).transpose(2, 0, 1)


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.detector_size = int(params.get("detector_size", "640"))
        self.threshold = float(params.get("detection_threshold", "0.5"))
        self.min_face_px = float(params.get("min_face_px", "20"))
        self.max_megapixels = float(params.get("max_megapixels", "100"))
        self.max_faces = int(params.get("max_faces", "256"))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        self.detector = onnxruntime.InferenceSession(
            os.path.join(HERE, "centerface.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.landmarks = dlib.shape_predictor(
            os.path.join(HERE, "shape_predictor_5_face_landmarks.dat")
        )

    def detect(self, rgb):
        height, width = rgb.shape[:2]
        tensor, scale = letterbox(rgb, self.detector_size)
        heatmap, box_scale, offset, landmarks = self.detector.run(
            ["537", "538", "539", "540"], {"input.1": tensor}
        )
        faces = []
        for box, points, score in non_max_suppression(
            decode_heatmaps(heatmap, box_scale, offset, landmarks, self.threshold)
        ):
            face_box = [v / scale for v in box]
            points = [(x / scale, y / scale) for x, y in points]
            clipped = [
                min(max(face_box[0], 0.0), width),
                min(max(face_box[1], 0.0), height),
                min(max(face_box[2], 0.0), width),
                min(max(face_box[3], 0.0), height),
            ]
            if min(clipped[2] - clipped[0], clipped[3] - clipped[1]) >= self.min_face_px:
                faces.append((clipped, face_box, points, score))
        return faces

    def prepare(self, data):
        rgb = decode(data, self.max_megapixels)
        faces = self.detect(rgb)
        if len(faces) > self.max_faces:
            raise BadImage(f"{len(faces)} faces, above the {self.max_faces} this server accepts")
        # Rows: the F faces, then (for the mirrored inputs) their F mirror
        # images; one blank row when there is no face.
        count = len(faces)
        chips = np.zeros((2 * count or 1, 3, CHIP_SIZE, CHIP_SIZE), dtype=np.float32)
        age_chips = np.zeros((count or 1, 3, AGE_CHIP_SIZE, AGE_CHIP_SIZE), dtype=np.float32)
        crops = np.zeros((2 * count or 1, 3, CROP_SIZE, CROP_SIZE), dtype=np.float32)
        meta = np.zeros((count, 15), dtype=np.float32)
        for i, (clipped, face_box, points, score) in enumerate(faces):
            shape = self.landmarks(rgb, landmark_box(face_box))
            chip = dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
            chips[i] = planar(chip)
            chips[count + i] = planar(chip[:, ::-1])
            age_chip = dlib.get_face_chip(rgb, shape, size=AGE_CHIP_SIZE, padding=CHIP_PADDING)
            age_chips[i] = planar(age_chip)
            crop = square_crop(rgb, face_box, CROP_SIZE)
            crops[i] = planar(crop)
            crops[count + i] = planar(crop[:, ::-1])
            meta[i, :4] = clipped
            meta[i, 4:14] = np.array(points, dtype=np.float32).reshape(-1)
            meta[i, 14] = score
        size = np.array([rgb.shape[1], rgb.shape[0]], dtype=np.int32)
        return chips, age_chips, crops, meta, size

    def execute(self, requests):
        responses = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "IMAGE_BYTES").as_numpy()
            try:
                if data.size != 1:
                    raise BadImage(f"send one image per request, got {data.size}")
                chips, age_chips, crops, meta, size = self.prepare(bytes(data.reshape(-1)[0]))
            except BadImage as exc:
                responses.append(
                    pb_utils.InferenceResponse(
                        error=pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                    )
                )
                continue
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("IMAGE_TENSOR", chips),
                        pb_utils.Tensor("AGE_TENSOR", age_chips),
                        pb_utils.Tensor("FACEAPI_TENSOR", crops),
                        pb_utils.Tensor("FACE_META", meta),
                        pb_utils.Tensor("IMAGE_SIZE", size),
                    ]
                )
            )
        return responses
