"""Rebuilds face-api.js's AgeGenderNet as an ONNX graph, weights unchanged.

face-api.js ships this network as raw weight arrays (mostly uint8-quantised)
plus a manifest, not as a graph, so no converter can read it. This script
rebuilds face-api.js 0.22.2's graph (TinyXception with two main blocks,
then an age and a gender head) in ONNX from those arrays.

Source: npm `@vladmandic/face-api@1.7.15` (MIT), files
`model/age_gender_model.bin` and `model/age_gender_model-weights_manifest.json`:

    npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz
    python3 models/build_faceapi_onnx.py package/model models/faceapi-agegender.onnx

Needs numpy and onnx. The contract of the file it writes:
    input  `images`: float32 [N, 3, 112, 112], RGB, (byte - [122.782, 117.001, 104.298]) / 256
    output `gender`: float32 [N, 2], softmax, [male, female] (dlib's order is the reverse)
    output `age`:    float32 [N, 1], years
`check_faceapi_onnx.py` compares it with face-api.js itself.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WEIGHTS = "age_gender_model.bin"
MANIFEST = "age_gender_model-weights_manifest.json"
# The files this script was written for; another version may differ in layout.
SHA256 = {
    WEIGHTS: "49f92bbc0afef2342c4385e4a2b0acb6d7a727c6f0aa539499719a81acf9abaa",
    MANIFEST: "74b60bf3ebf981bf4e661e9cca3a185614e10b25d797118b62e2a68d3ff2569f",
}
OPSET = 17


def read_weights(folder: Path) -> dict:
    """Every array of the manifest, dequantised (q * scale + min) to float32."""
    for name, expected in SHA256.items():
        actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if actual != expected:
            sys.exit(f"{folder / name}: sha256 {actual}, expected {expected}")
    arrays = {}
    for group in json.loads((folder / MANIFEST).read_text()):
        data = b"".join((folder / part).read_bytes() for part in group["paths"])
        offset = 0
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"], dtype=np.int64))
            quantised = entry.get("quantization")
            if quantised:
                if quantised["dtype"] != "uint8":
                    sys.exit(f"{entry['name']}: unexpected quantisation {quantised['dtype']}")
                raw = np.frombuffer(data, np.uint8, count, offset).astype(np.float32)
                values = raw * np.float32(quantised["scale"]) + np.float32(quantised["min"])
                offset += count
            else:
                if entry["dtype"] != "float32":
                    sys.exit(f"{entry['name']}: unexpected type {entry['dtype']}")
                values = np.frombuffer(data, np.float32, count, offset).copy()
                offset += 4 * count
            arrays[entry["name"]] = values.reshape(entry["shape"])
        if offset != len(data):
            sys.exit(f"the manifest describes {offset} bytes, the weights hold {len(data)}")
    return arrays


class Graph:
    """Appends ONNX nodes and initialisers, naming each after what it is."""

    def __init__(self, weights: dict):
        self.weights = weights
        self.nodes = []
        self.initialisers = []
        self.used = set()

    def _name(self, stem: str) -> str:
        name, n = stem, 1
        while name in self.used:
            n += 1
            name = f"{stem}_{n}"
        self.used.add(name)
        return name

    def tensor(self, array: np.ndarray, stem: str) -> str:
        name = self._name(stem)
        self.initialisers.append(
            numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)
        )
        return name

    def op(self, kind: str, inputs: list, stem: str, output: str = None, **attributes) -> str:
        output = output or self._name(stem)
        self.nodes.append(helper.make_node(kind, inputs, [output], name=output, **attributes))
        return output

    def weight(self, name: str) -> np.ndarray:
        return self.weights[name]

    # TF's `same` padding puts an odd extra pixel at the end: ONNX SAME_UPPER.
    def conv(self, x: str, prefix: str, stride: int) -> str:
        kernel = self.weight(f"{prefix}/filters").transpose(3, 2, 0, 1)  # [kh,kw,in,out] -> [out,in,kh,kw]
        bias = self.weight(f"{prefix}/bias")
        return self.op(
            "Conv",
            [x, self.tensor(kernel, f"{prefix}/filters"), self.tensor(bias, f"{prefix}/bias")],
            prefix,
            kernel_shape=list(kernel.shape[2:]),
            strides=[stride, stride],
            auto_pad="SAME_UPPER",
        )

    def separable_conv(self, x: str, prefix: str) -> str:
        """A 3x3 depthwise convolution, then a 1x1 pointwise one with a bias."""
        depthwise = self.weight(f"{prefix}/depthwise_filter")  # [3,3,C,1]
        channels = depthwise.shape[2]
        depthwise = depthwise.transpose(2, 3, 0, 1)  # [C,1,3,3]
        spread = self.op(
            "Conv",
            [x, self.tensor(depthwise, f"{prefix}/depthwise_filter")],
            f"{prefix}/depthwise",
            group=channels,
            kernel_shape=[3, 3],
            strides=[1, 1],
            auto_pad="SAME_UPPER",
        )
        pointwise = self.weight(f"{prefix}/pointwise_filter").transpose(3, 2, 0, 1)
        bias = self.weight(f"{prefix}/bias")
        return self.op(
            "Conv",
            [spread, self.tensor(pointwise, f"{prefix}/pointwise_filter"), self.tensor(bias, f"{prefix}/bias")],
            f"{prefix}/pointwise",
            kernel_shape=[1, 1],
            strides=[1, 1],
        )

    def relu(self, x: str) -> str:
        return self.op("Relu", [x], "relu")

    def add(self, a: str, b: str) -> str:
        return self.op("Add", [a, b], "add")

    def reduction_block(self, x: str, prefix: str, first: bool = False) -> str:
        out = x if first else self.relu(x)
        out = self.separable_conv(out, f"{prefix}/separable_conv0")
        out = self.separable_conv(self.relu(out), f"{prefix}/separable_conv1")
        out = self.op("MaxPool", [out], f"{prefix}/pool", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
        return self.add(out, self.conv(x, f"{prefix}/expansion_conv", 2))

    def main_block(self, x: str, prefix: str) -> str:
        out = x
        for n in range(3):
            out = self.separable_conv(self.relu(out), f"{prefix}/separable_conv{n}")
        return self.add(out, x)

    def dense(self, x: str, prefix: str) -> str:
        # Dense weights are [in, out], as Gemm takes them.
        return self.op(
            "Gemm",
            [x, self.tensor(self.weight(f"{prefix}/weights"), f"{prefix}/weights"),
             self.tensor(self.weight(f"{prefix}/bias"), f"{prefix}/bias")],
            prefix,
        )


def build(weights: dict) -> onnx.ModelProto:
    g = Graph(weights)
    out = g.relu(g.conv("images", "entry_flow/conv_in", 2))
    out = g.reduction_block(out, "entry_flow/reduction_block_0", first=True)
    out = g.reduction_block(out, "entry_flow/reduction_block_1")
    for n in range(2):
        out = g.main_block(out, f"middle_flow/main_block_{n}")
    out = g.reduction_block(out, "exit_flow/reduction_block")
    out = g.relu(g.separable_conv(out, "exit_flow/separable_conv"))
    # face-api.js pools 7x7 with stride 2, 'valid': on the 7x7 map, a global average.
    out = g.op("GlobalAveragePool", [out], "pool")
    out = g.op("Flatten", [out], "flatten", axis=1)
    g.op("Identity", [g.dense(out, "fc/age")], "age", output="age")
    g.op("Softmax", [g.dense(out, "fc/gender")], "gender", output="gender", axis=1)
    graph = helper.make_graph(
        g.nodes,
        "faceapi_agegender",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 112, 112])],
        [
            helper.make_tensor_value_info("gender", TensorProto.FLOAT, ["N", 2]),
            helper.make_tensor_value_info("age", TensorProto.FLOAT, ["N", 1]),
        ],
        g.initialisers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="genderlens")
    model.ir_version = 8
    for key, value in {
        "source": "npm @vladmandic/face-api@1.7.15, model/age_gender_model.bin (face-api.js AgeGenderNet, MIT)",
        "input": "RGB 112x112 NCHW, (byte - [122.782, 117.001, 104.298]) / 256",
        "gender_labels": "male,female",
    }.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: build_faceapi_onnx.py MODEL_DIR OUT.onnx")
    model = build(read_weights(Path(sys.argv[1])))
    out = Path(sys.argv[2])
    onnx.save(model, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"wrote {out}: {out.stat().st_size} bytes, sha256 {digest}")


if __name__ == "__main__":
    main()
