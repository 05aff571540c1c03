"""gender_postprocess: the last step of gender_ensemble.

Combines the face models' outputs into the result JSON with GenderLens's
own code (the genderlens_pipeline extension), by the same rule and in the
same float32 arithmetic as a local run: the result has the schema of a
local GenderLens result for one image.
"""

import json
import os

import genderlens_pipeline as pipeline
import numpy as np
import triton_python_backend_utils as pb_utils

HERE = os.path.dirname(__file__)


def float_bytes(request, name):
    values = pb_utils.get_input_tensor_by_name(request, name).as_numpy()
    return np.ascontiguousarray(values, dtype=np.float32).tobytes()


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        self.step = pipeline.PostprocessStep(HERE, params)

    def result(self, request):
        size = pb_utils.get_input_tensor_by_name(request, "IMAGE_SIZE").as_numpy().reshape(-1)
        text = self.step.run(
            float_bytes(request, "LOGITS"),
            float_bytes(request, "AGE_PROBABILITIES"),
            (float_bytes(request, "FACEAPI_GENDER"), float_bytes(request, "FACEAPI_AGE")),
            float_bytes(request, "FACE_META"),
            (int(size[0]), int(size[1])),
        )
        output = np.array([text.encode()], dtype=np.object_)
        return pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT_JSON", output)])

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                responses.append(self.result(request))
            except Exception as exc:  # noqa: BLE001 - one request fails, not the whole batch
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
        return responses
