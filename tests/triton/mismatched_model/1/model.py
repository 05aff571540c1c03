"""Answers every request with zeros; only its interface matters to the tests."""

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            chips = pb_utils.get_input_tensor_by_name(request, "INPUT__0").as_numpy()
            zeros = np.zeros((chips.shape[0], 2), dtype=np.float32)
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("LOGITS", zeros)]))
        return responses
