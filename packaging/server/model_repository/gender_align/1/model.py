"""gender_align: step 3 of gender_ensemble.

Turns the face detector's outputs into faces, and cuts each face model's
input with GenderLens's own code (the genderlens_pipeline extension): dlib's
5-point landmarks, the aligned chips for gender-v1 and age-v1, the square
crop for face-api, each with its mirror image where the model takes one. A
face too small in the reduced photo is cut from a finer decode of the
original bytes.
"""

import json
import os

import genderlens_pipeline as pipeline
import numpy as np
import triton_python_backend_utils as pb_utils

HERE = os.path.dirname(__file__)
DETECTOR_OUTPUTS = ("HEATMAP", "BOX_SCALE", "OFFSET", "LANDMARKS")


def tensor(request, name):
    return pb_utils.get_input_tensor_by_name(request, name).as_numpy()


def float_bytes(array):
    return np.ascontiguousarray(array, dtype=np.float32).tobytes()


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.step = pipeline.AlignStep(HERE, params)
        self.chip, self.age_chip, self.crop = self.step.sizes

    def align(self, request):
        data = tensor(request, "IMAGE_BYTES")
        photo = np.ascontiguousarray(tensor(request, "PHOTO"), dtype=np.uint8)
        size = tensor(request, "IMAGE_SIZE").reshape(-1)
        scale = tensor(request, "DETECTOR_SCALE").reshape(-1)
        heatmap, box_scale, offset, landmarks = (tensor(request, n) for n in DETECTOR_OUTPUTS)
        faces, chips, age_chips, crops, meta = self.step.run(
            bytes(data.reshape(-1)[0]),
            photo.tobytes(),
            photo.shape,
            (int(size[0]), int(size[1])),
            float(scale[0]),
            list(heatmap.shape),
            float_bytes(heatmap),
            float_bytes(box_scale),
            float_bytes(offset),
            float_bytes(landmarks),
        )

        def rows(values, count, side):
            return np.frombuffer(values, np.float32).reshape(count, 3, side, side)

        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("IMAGE_TENSOR", rows(chips, max(2 * faces, 1), self.chip)),
                pb_utils.Tensor("AGE_TENSOR", rows(age_chips, max(faces, 1), self.age_chip)),
                pb_utils.Tensor("FACEAPI_TENSOR", rows(crops, max(2 * faces, 1), self.crop)),
                pb_utils.Tensor("FACE_META", np.frombuffer(meta, np.float32).reshape(faces, 15)),
            ]
        )

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                responses.append(self.align(request))
            except pipeline.BadImage as exc:
                error = pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
            except Exception as exc:  # noqa: BLE001 - one request fails, not the whole batch
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
        return responses
