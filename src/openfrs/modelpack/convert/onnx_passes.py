"""Exact rewrites of exported ONNX graphs that ONNX Runtime runs several times faster.

* Denormal weights: a float32 below 2**-126 (and the near-dead channels around them, ~1e-30)
  sends the CPU to its slow microcode path on every multiply it takes part in. They carry no
  signal at that size, so they are flushed to zero.
* PRelu: ONNX Runtime's CPU PRelu is a generic broadcasting kernel that also forces a layout
  change (NCHWc -> NCHW -> NCHWc) around each one; on MobileFaceNet it was over half of the
  run time. Written as per-channel scales, a Relu and an Add, the same function stays inside
  the NCHWc convolution pipeline, where the scales become 1x1 depthwise convolutions and the
  Relu and Add fuse into them.
* A batch dimension fixed to 1 in the export is made symbolic, so chips run in one batch.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

DEAD_WEIGHT = 1e-20  # |w| below this is flushed: orders of magnitude under any useful weight


def flush_tiny_weights(model: onnx.ModelProto, below: float = DEAD_WEIGHT) -> int:
    """Zero every float32 initializer value with 0 < |w| < `below`; returns how many."""
    flushed = 0
    for index, tensor in enumerate(model.graph.initializer):
        values = numpy_helper.to_array(tensor)
        if values.dtype != np.float32:
            continue
        tiny = (values != 0) & (np.abs(values) < below)
        if tiny.any():
            flushed += int(tiny.sum())
            model.graph.initializer[index].CopyFrom(
                numpy_helper.from_array(np.where(tiny, np.float32(0), values), tensor.name))
    return flushed


def symbolic_batch(model: onnx.ModelProto, name: str = "N") -> None:
    """Make the first dimension of every graph input and output symbolic, and turn a fixed
    batch of 1 in Reshape targets into -1 (the exports flatten as reshape(1, -1))."""
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = name
    initializers = {t.name: i for i, t in enumerate(model.graph.initializer)}
    for node in model.graph.node:
        if node.op_type != "Reshape" or node.input[1] not in initializers:
            continue
        slot = initializers[node.input[1]]
        target = numpy_helper.to_array(model.graph.initializer[slot]).copy()
        if target.size and target[0] == 1 and -1 in target[1:]:
            target[0] = 0  # ONNX Reshape: 0 copies the input's dimension (the batch)
            model.graph.initializer[slot].CopyFrom(numpy_helper.from_array(target, node.input[1]))


def prelu_as_relu(model: onnx.ModelProto) -> int:
    """Replace each per-channel PRelu that feeds only convolutions by an exact equivalent ONNX
    Runtime fuses; returns how many were replaced.

    PRelu(y) = a*y + b*Relu(g*y) per channel, with g = 1 - s and (a, b) = (s, 1) when the slope
    s <= 1, (1, -1) when s > 1. The sign b is folded into the consuming convolutions' weights
    (scaling a conv's input channel by +-1 commutes with its zero padding), leaving
    Mul(g) -> Relu and Mul(a*b), joined by Add.
    """
    graph = model.graph
    tensors = {t.name: t for t in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    nodes: list[onnx.NodeProto] = []
    added: list[onnx.TensorProto] = []
    signs: dict[int, np.ndarray] = {}  # id(conv node) -> per-input-channel sign
    replaced = 0
    for node in graph.node:
        slope_name = node.input[1] if node.op_type == "PRelu" else None
        users = consumers.get(node.output[0], []) if slope_name else []
        if (slope_name not in tensors or not users
                or any(user.op_type != "Conv" for user in users)):
            nodes.append(node)
            continue
        slope = numpy_helper.to_array(tensors[slope_name]).astype(np.float32)
        channels = slope.reshape(-1)
        if slope.ndim != 3 or slope.shape[1:] != (1, 1):
            nodes.append(node)  # only the per-channel [C, 1, 1] form is rewritten
            continue
        sign = np.where(channels <= 1, 1.0, -1.0).astype(np.float32)
        linear = np.where(channels <= 1, channels, 1.0).astype(np.float32) * sign
        gain = (1.0 - channels).astype(np.float32)
        source, out = node.input[0], node.output[0]
        added += [numpy_helper.from_array(gain.reshape(-1, 1, 1), f"{out}__prelu_gain"),
                  numpy_helper.from_array(linear.reshape(-1, 1, 1), f"{out}__prelu_linear")]
        nodes += [helper.make_node("Mul", [source, f"{out}__prelu_gain"], [f"{out}__prelu_gy"]),
                  helper.make_node("Relu", [f"{out}__prelu_gy"], [f"{out}__prelu_relu"]),
                  helper.make_node("Mul", [source, f"{out}__prelu_linear"], [f"{out}__prelu_ay"]),
                  helper.make_node("Add", [f"{out}__prelu_ay", f"{out}__prelu_relu"], [out])]
        if (sign < 0).any():
            for user in users:
                signs[id(user)] = signs.get(id(user), 1.0) * sign
        replaced += 1
    for node in nodes:
        if id(node) in signs:
            _scale_conv_inputs(node, signs[id(node)], tensors)
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    _drop_unused_initializers(model)
    return replaced


def _scale_conv_inputs(conv: onnx.NodeProto, scale: np.ndarray, tensors: dict) -> None:
    """Multiply a Conv's weights along its input channels by `scale` (length = input channels)."""
    weight_name = conv.input[1]
    weight = numpy_helper.to_array(tensors[weight_name]).astype(np.float32)
    group = next((attr.i for attr in conv.attribute if attr.name == "group"), 1)
    if group == 1:
        weight = weight * scale[None, :, None, None]
    elif weight.shape[1] == 1 and group == weight.shape[0] == scale.size:  # depthwise
        weight = weight * scale[:, None, None, None]
    else:
        raise ValueError(f"{conv.name or weight_name}: grouped conv of this shape not handled")
    tensors[weight_name].CopyFrom(numpy_helper.from_array(weight.astype(np.float32), weight_name))


def _drop_unused_initializers(model: onnx.ModelProto) -> None:
    used = {name for node in model.graph.node for name in node.input}
    kept = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
