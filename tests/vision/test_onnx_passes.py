"""The graph rewrites the converters apply are exact: same outputs, batchable, no PRelu left."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from openfrs.modelpack.convert.onnx_passes import flush_tiny_weights, prelu_as_relu, symbolic_batch

C = 6


def _graph(slopes: np.ndarray) -> onnx.ModelProto:
    """input [1,3,8,8] -> conv -> PRelu -> depthwise conv -> PRelu -> 1x1 conv -> reshape(1, -1)."""
    rng = np.random.default_rng(0)
    weights = {
        "w1": rng.normal(size=(C, 3, 3, 3)), "b1": rng.normal(size=C),
        "dw": rng.normal(size=(C, 1, 3, 3)), "bdw": rng.normal(size=C),
        "w2": rng.normal(size=(4, C, 1, 1)), "b2": rng.normal(size=4),
        "s1": slopes.reshape(C, 1, 1), "s2": slopes[::-1].reshape(C, 1, 1).copy(),
    }
    weights["w1"][0, 0, 0, 0] = 1e-39  # a denormal, and a dead weight
    weights["w1"][0, 0, 0, 1] = 1e-30
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    inits.append(numpy_helper.from_array(np.array([1, -1], np.int64), "shape"))
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["y1"], pads=[1, 1, 1, 1]),
        helper.make_node("PRelu", ["y1", "s1"], ["p1"]),
        helper.make_node("Conv", ["p1", "dw", "bdw"], ["y2"], group=C, pads=[1, 1, 1, 1]),
        helper.make_node("PRelu", ["y2", "s2"], ["p2"]),
        helper.make_node("Conv", ["p2", "w2", "b2"], ["y3"]),
        helper.make_node("Reshape", ["y3", "shape"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 256])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def _run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def test_prelu_rewrite_is_exact_for_every_kind_of_slope():
    slopes = np.array([0.25, 0.0, 1.0, 1.2, -0.7, 3.0])  # leaky, relu, identity, > 1, negative
    original = _graph(slopes)
    x = np.random.default_rng(1).normal(size=(1, 3, 8, 8)).astype(np.float32)
    expected = _run(original, x)
    rewritten = _graph(slopes)
    assert prelu_as_relu(rewritten) == 2
    assert not [n for n in rewritten.graph.node if n.op_type == "PRelu"]
    onnx.checker.check_model(rewritten)
    np.testing.assert_allclose(_run(rewritten, x), expected, rtol=1e-5, atol=1e-5)


def test_prelu_feeding_something_else_than_a_conv_is_left_alone():
    model = _graph(np.full(C, 0.25))
    consumer = model.graph.node[4]  # what the second PRelu feeds becomes a Relu, not a conv
    consumer.op_type = "Relu"
    del consumer.input[1:]
    assert prelu_as_relu(model) == 1
    assert [n.op_type for n in model.graph.node].count("PRelu") == 1


def test_symbolic_batch_and_flushed_weights_keep_the_outputs():
    model = _graph(np.full(C, 0.25))
    x = np.random.default_rng(2).normal(size=(1, 3, 8, 8)).astype(np.float32)
    expected = _run(model, x)
    assert flush_tiny_weights(model) == 2
    symbolic_batch(model)
    batch = np.concatenate([x, x * 0.5, x])
    out = _run(model, batch)
    assert out.shape == (3, 256)
    np.testing.assert_allclose(out[0], expected[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[2], expected[0], rtol=1e-5, atol=1e-5)
