"""Writes classifiers with the real one's contract (input `images` [N,3,32,32],
output `probabilities` [N,2]) that misbehave, for the gateway's tests of
server faults:

  fails.onnx  - fails at run time: reshapes N×3072 values into rows of 7
  nan.onnx    - runs, and answers NaN for every face

Usage: faulty_classifier.py OUT_DIR"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
images = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 32, 32])
probabilities = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])


def save(name, nodes, initializers):
    graph = helper.make_graph(nodes, name, [images], [probabilities], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, f"{name}.onnx"))


save(
    "fails",
    [
        helper.make_node("Reshape", ["images", "rows_of_7"], ["rows"]),
        helper.make_node("ReduceMean", ["rows"], ["probabilities"], axes=[1], keepdims=1),
    ],
    [numpy_helper.from_array(np.array([-1, 7], dtype=np.int64), "rows_of_7")],
)
save(
    "nan",
    [
        helper.make_node("ReduceMean", ["images"], ["means"], axes=[2, 3], keepdims=0),
        helper.make_node("Slice", ["means", "start", "end", "axis"], ["two"]),
        helper.make_node("Mul", ["two", "nan"], ["probabilities"]),
    ],
    [
        numpy_helper.from_array(np.array([0], dtype=np.int64), "start"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "end"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis"),
        numpy_helper.from_array(np.array([np.nan], dtype=np.float32), "nan"),
    ],
)
