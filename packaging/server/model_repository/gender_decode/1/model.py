"""gender_decode: step 1 of gender_ensemble.

Decodes the uploaded image with GenderLens's own code (the
genderlens_pipeline extension): EXIF orientation applied, a JPEG reduced in
decoding to what the detector needs, letterboxed for CenterFace. The photo
as decoded travels on to gender_align, which cuts the faces from it.
"""

import json
import os

import genderlens_pipeline as pipeline
import numpy as np
import triton_python_backend_utils as pb_utils

HERE = os.path.dirname(__file__)


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.step = pipeline.DecodeStep(HERE, params)

    def decode(self, request):
        data = pb_utils.get_input_tensor_by_name(request, "IMAGE_BYTES").as_numpy()
        if data.size != 1:
            raise pipeline.BadImage(f"send one image per request, got {data.size}")
        tensor, shape, photo, photo_shape, size, scale = self.step.run(bytes(data.reshape(-1)[0]))
        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("DETECTOR_INPUT", np.frombuffer(tensor, np.float32).reshape(shape)),
                pb_utils.Tensor("PHOTO", np.frombuffer(photo, np.uint8).reshape(photo_shape)),
                pb_utils.Tensor("IMAGE_SIZE", np.array(size, dtype=np.int32)),
                pb_utils.Tensor("DETECTOR_SCALE", np.array([scale], dtype=np.float32)),
            ]
        )

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                responses.append(self.decode(request))
            except pipeline.BadImage as exc:
                error = pb_utils.TritonError(str(exc), pb_utils.TritonError.INVALID_ARG)
                responses.append(pb_utils.InferenceResponse(error=error))
            except Exception as exc:  # noqa: BLE001 - one request fails, not the whole batch
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
        return responses
