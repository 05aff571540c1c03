"""gender_model for CPU servers: the gender-v1 classifier through onnxruntime.

Requests arrive already merged by Triton's dynamic batcher; their chips are
run as one batch and the rows handed back to each request in order.
"""

import os

import numpy as np
import onnxruntime
import triton_python_backend_utils as pb_utils

HERE = os.path.dirname(__file__)


class TritonPythonModel:
    def initialize(self, args):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = onnxruntime.InferenceSession(
            os.path.join(HERE, "gender-v1.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name

    def execute(self, requests):
        chips = [pb_utils.get_input_tensor_by_name(r, "INPUT__0").as_numpy() for r in requests]
        (probabilities,) = self.session.run(
            [self.output], {self.input: np.concatenate(chips).astype(np.float32)}
        )
        responses = []
        start = 0
        for batch in chips:
            rows = probabilities[start : start + len(batch)]
            start += len(batch)
            responses.append(
                pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("LOGITS", rows)])
            )
        return responses
