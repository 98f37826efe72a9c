"""face-api.js AgeGenderNet (TFJS *layers* weights) -> ONNX, in pure Python.

Why: face-api.js (@vladmandic/face-api) ships its age/gender net only as a weights manifest
plus a shard; the architecture lives in its TypeScript (src/xception/TinyXception.ts,
src/ageGenderNet/AgeGenderNet.ts), so it is rebuilt here op for op:

* input: RGB float 0..255, NHWC, 112x112 (face-api's `toBatchTensor(112, true)`: the face
  crop zero-padded to a centred square, then `tf.image.resizeBilinear` without half-pixel
  centres); the graph does face-api's normalisation itself: ``(x - [122.782, 117.001,
  104.298]) / 255``;
* TinyXception(2): conv_in 3x3/2 + ReLU, two reduction blocks (the first without input ReLU),
  two main blocks, one exit reduction block, separable conv + ReLU -> [N, 512, 7, 7];
* avgPool 7x7 stride 2 'valid' (a global mean at 112x112), then fc age (1 unit) and fc gender
  (2 units, softmax); gender index 0 = male, 1 = female (face-api reads `probMale = [0]`).

TF 'same' padding puts the odd extra pixel at the end, which is ONNX's SAME_UPPER. Quantised
weights are decoded as tfjs does (``q * scale + min`` in float64, stored as float32), so the
ONNX weights are bit-identical to the ones face-api runs with.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
INPUT_SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)  # TinyXception.forwardInput
SCALE_DIV = 255.0
NUM_MAIN_BLOCKS = 2  # AgeGenderNet: new TinyXception(2)
GENDER_LABELS = ("male", "female")  # gender_probs column order

_STORED = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16, "float32": np.float32,
           "int32": np.int32}


def load_layers_weights(manifest_path: Path) -> dict[str, np.ndarray]:
    """Weights of a TFJS weights manifest (list of groups), shards read beside it, in order."""
    manifest_path = Path(manifest_path)
    weights: dict[str, np.ndarray] = {}
    for group in json.loads(manifest_path.read_text()):
        buf = b"".join((manifest_path.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            stored = np.dtype(_STORED[quant["dtype"] if quant else spec["dtype"]])
            raw = np.frombuffer(buf, dtype=stored, count=count, offset=offset)
            offset += count * stored.itemsize
            if quant and quant["dtype"] in ("uint8", "uint16"):
                # as tfjs decodeWeights: JS doubles, then a Float32Array
                raw = raw.astype(np.float64) * quant["scale"] + quant["min"]
            weights[spec["name"]] = raw.astype(_STORED[spec["dtype"]]).reshape(shape)
        if offset != len(buf):
            raise ValueError(f"{manifest_path.name}: {len(buf) - offset} unread bytes in {group['paths']}")
    return weights


class _Builder:
    """NCHW ONNX graph assembled layer by layer from the name-keyed TFJS weights."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.w = weights
        self.used: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def weight(self, key: str) -> np.ndarray:
        self.used.add(key)
        return self.w[key]

    def node(self, op: str, inputs: list[str], out: str, **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x: str, prefix: str, stride: int) -> str:
        """tf.conv2d(x, filters, stride, 'same') + bias; filters [kh, kw, cin, cout]."""
        f = self.weight(f"{prefix}/filters")
        w = self.const(f"{prefix}/W", f.transpose(3, 2, 0, 1))
        b = self.const(f"{prefix}/B", self.weight(f"{prefix}/bias"))
        return self.node("Conv", [x, w, b], prefix, kernel_shape=list(f.shape[:2]),
                         strides=[stride, stride], auto_pad="SAME_UPPER")

    def sep_conv(self, x: str, prefix: str) -> str:
        """tf.separableConv2d(x, dw, pw, 1, 'same') + bias: depthwise 3x3, then pointwise 1x1."""
        dw = self.weight(f"{prefix}/depthwise_filter")  # [kh, kw, cin, 1]
        pw = self.weight(f"{prefix}/pointwise_filter")  # [1, 1, cin, cout]
        cin = dw.shape[2]
        dw_out = self.node("Conv", [x, self.const(f"{prefix}/DW", dw.transpose(2, 3, 0, 1))],
                           f"{prefix}/depthwise", kernel_shape=list(dw.shape[:2]), group=cin,
                           auto_pad="SAME_UPPER")
        return self.node("Conv", [dw_out, self.const(f"{prefix}/PW", pw.transpose(3, 2, 0, 1)),
                                  self.const(f"{prefix}/B", self.weight(f"{prefix}/bias"))],
                         prefix, kernel_shape=[1, 1])

    def relu(self, x: str) -> str:
        return self.node("Relu", [x], f"{x}/relu")

    def reduction_block(self, x: str, prefix: str, activate_input: bool = True) -> str:
        out = self.relu(x) if activate_input else x
        out = self.sep_conv(out, f"{prefix}/separable_conv0")
        out = self.sep_conv(self.relu(out), f"{prefix}/separable_conv1")
        out = self.node("MaxPool", [out], f"{prefix}/maxpool", kernel_shape=[3, 3], strides=[2, 2],
                        auto_pad="SAME_UPPER")
        return self.node("Add", [out, self.conv(x, f"{prefix}/expansion_conv", 2)], f"{prefix}/add")

    def main_block(self, x: str, prefix: str) -> str:
        out = self.sep_conv(self.relu(x), f"{prefix}/separable_conv0")
        out = self.sep_conv(self.relu(out), f"{prefix}/separable_conv1")
        out = self.sep_conv(self.relu(out), f"{prefix}/separable_conv2")
        return self.node("Add", [out, x], f"{prefix}/add")

    def fc(self, x: str, prefix: str) -> str:
        return self.node("Gemm", [x, self.const(f"{prefix}/W", self.weight(f"{prefix}/weights")),
                                  self.const(f"{prefix}/B", self.weight(f"{prefix}/bias"))], prefix)


def build_model(weights: dict[str, np.ndarray], include_normalisation: bool = True) -> onnx.ModelProto:
    """The AgeGenderNet graph: input `input` [N,112,112,3] -> `age` [N], `gender_probs` [N,2].

    With include_normalisation (default) the input is face-api's RGB 0..255 batch tensor;
    without it the input must already be ``(rgb - MEAN_RGB) / 255``.
    """
    g = _Builder(weights)
    x = "input"
    if include_normalisation:
        mean = g.const("mean_rgb", np.array(MEAN_RGB, np.float32))
        x = g.node("Sub", [x, mean], "centred")
        x = g.node("Div", [x, g.const("div", np.array(SCALE_DIV, np.float32))], "normalised")
    x = g.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    x = g.relu(g.conv(x, "entry_flow/conv_in", 2))
    x = g.reduction_block(x, "entry_flow/reduction_block_0", activate_input=False)
    x = g.reduction_block(x, "entry_flow/reduction_block_1")
    for i in range(NUM_MAIN_BLOCKS):
        x = g.main_block(x, f"middle_flow/main_block_{i}")
    x = g.reduction_block(x, "exit_flow/reduction_block")
    x = g.relu(g.sep_conv(x, "exit_flow/separable_conv"))
    x = g.node("AveragePool", [x], "pooled", kernel_shape=[7, 7], strides=[2, 2])
    x = g.node("Flatten", [x], "features", axis=1)
    g.node("Squeeze", [g.fc(x, "fc/age"), g.const("axis1", np.array([1], np.int64))], "age")
    g.node("Softmax", [g.fc(x, "fc/gender")], "gender_probs", axis=-1)
    unused = set(weights) - g.used
    if unused:
        raise ValueError(f"weights not used by the AgeGenderNet graph: {sorted(unused)}")
    graph = helper.make_graph(
        g.nodes, "faceapi_agegender",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", INPUT_SIZE, INPUT_SIZE, 3])],
        [helper.make_tensor_value_info("age", TensorProto.FLOAT, ["batch"]),
         helper.make_tensor_value_info("gender_probs", TensorProto.FLOAT, ["batch", 2])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openfrs.faceapi_agegender")
    model.ir_version = 8  # what opset 17 needs; newer IRs are refused by older runtimes
    onnx.checker.check_model(model)
    return model


def convert(manifest_path: Path, onnx_path: Path, include_normalisation: bool = True) -> dict:
    """Convert `age_gender_model-weights_manifest.json` (+ shard) to ONNX; returns a manifest dict."""
    model = build_model(load_layers_weights(manifest_path), include_normalisation)
    Path(onnx_path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(onnx_path))
    return {
        "format": "onnx", "opset": OPSET, "layout": "NHWC", "source": Path(manifest_path).name,
        "inputs": [{"name": "input", "dtype": "float32", "shape": [None, INPUT_SIZE, INPUT_SIZE, 3],
                    "preprocessing": "RGB 0..255, crop zero-padded to a centred square, "
                                     "bilinear (no half-pixel centres) to 112x112"
                    + ("" if include_normalisation else f"; then (x - {list(MEAN_RGB)}) / {SCALE_DIV}")}],
        "outputs": [{"name": "age", "dtype": "float32", "shape": [None]},
                    {"name": "gender_probs", "dtype": "float32", "shape": [None, 2],
                     "labels": list(GENDER_LABELS)}],
    }
