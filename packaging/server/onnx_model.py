"""A face model for CPU servers: one ONNX file run by onnxruntime.

face_detector, gender_model, age_model and faceapi_model share this file; each config
names its ONNX file (`onnx_file`) and pairs its Triton tensor names with
the file's own (`tensors`, e.g. "INPUT__0:images,LOGITS:probabilities").
Requests arrive already merged by Triton's dynamic batcher; their rows are
run as one batch and handed back to each request in order. A model that
does not batch (max_batch_size 0, as face_detector: photos differ in size)
runs each request alone.
"""

import json
import os

import numpy as np
import onnxruntime
import triton_python_backend_utils as pb_utils

HERE = os.path.dirname(__file__)


def tensor_names(text):
    """Pairs "A:a,B:b" as [("A", "a"), ("B", "b")]: Triton's name, then the file's."""
    return [tuple(pair.split(":", 1)) for pair in text.split(",")]


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        options = onnxruntime.SessionOptions()
        # Threads per run: instances that run side by side each want fewer.
        options.intra_op_num_threads = int(params.get("threads", "2"))
        self.session = onnxruntime.InferenceSession(
            os.path.join(HERE, params["onnx_file"]), options, providers=["CPUExecutionProvider"]
        )
        names = dict(tensor_names(params["tensors"]))
        self.inputs = [(i["name"], names[i["name"]]) for i in config["input"]]
        self.outputs = [(o["name"], names[o["name"]]) for o in config["output"]]
        self.batches = config.get("max_batch_size", 0) > 0

    def execute(self, requests):
        if not self.batches:
            return [response for r in requests for response in self.run([r])]
        return self.run(requests)

    def run(self, requests):
        batches = {
            name: [pb_utils.get_input_tensor_by_name(r, name).as_numpy() for r in requests]
            for name, _ in self.inputs
        }
        feeds = {
            onnx_name: np.concatenate(batches[triton_name]).astype(np.float32)
            for triton_name, onnx_name in self.inputs
        }
        results = self.session.run([onnx_name for _, onnx_name in self.outputs], feeds)
        responses = []
        start = 0
        for batch in batches[self.inputs[0][0]]:
            tensors = [
                pb_utils.Tensor(name, np.ascontiguousarray(values[start : start + len(batch)]))
                for (name, _), values in zip(self.outputs, results)
            ]
            start += len(batch)
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
