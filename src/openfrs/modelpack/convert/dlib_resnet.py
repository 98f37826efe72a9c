"""Convert dlib's face recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) to ONNX.

The .dat file is a serialised ``anet_type`` from dlib's ``dnn_face_recognition_ex.cpp``:
a 29-conv ResNet whose nested C++ template layers are written outermost first.  Each
``add_layer`` writes its version, then its sub-network (recursively), then its own
details; tag/skip layers write only a version and their sub-network.  So the file is
the loss layer, a run of 130 version integers, the input layer, then the layer details
from the input side outwards.  Tag and skip layers look identical on disk, which is why
the expected topology is spelled out below and checked against the file.

dlib quirks reproduced in the graph:

* the input layer computes ``(pixel - channel_mean) / 256`` (folded into the first conv);
* ``affine`` layers (frozen batch norm) are folded into the preceding convolution;
* ``add_prev`` adds tensors of different shapes by zero-padding both to the larger
  one at the end of each axis (channels, bottom, right): the stride-2 residual blocks
  rely on that, so explicit ``Pad`` nodes appear where shapes differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from openfrs.modelpack.convert.dlib_serialize import DlibFormatError, DlibReader

INPUT_NAME = "chips"
OUTPUT_NAME = "embedding"
OPSET = 17

# ---------------------------------------------------------------------------------------
# Expected topology (outermost first), mirroring anet_type.


def _ares() -> list[str]:
    return ["relu", "add_prev1", "affine", "con", "relu", "affine", "con", "tag1"]


def _ares_down() -> list[str]:
    return ["relu", "add_prev2", "avg_pool", "skip1", "tag2",
            "affine", "con", "relu", "affine", "con", "tag1"]


def anet_topology() -> list[str]:
    """Layer kinds of dlib's face ResNet, outermost (fc) to innermost (first conv)."""
    levels = (
        _ares_down()                                   # level0: 256
        + _ares() * 2 + _ares_down()                   # level1: 256
        + _ares() * 2 + _ares_down()                   # level2: 128
        + _ares() * 3 + _ares_down()                   # level3: 64
        + _ares() * 3                                  # level4: 32
    )
    return ["fc", "avg_pool", *levels, "max_pool", "relu", "affine", "con"]


def _is_wrapper(kind: str) -> bool:
    return kind.startswith(("tag", "skip"))


# ---------------------------------------------------------------------------------------
# Parsing


@dataclass
class Layer:
    """One computational or routing layer, in forward (input to output) order."""

    kind: str
    params: dict = field(default_factory=dict)


@dataclass
class ParsedNet:
    means: tuple[float, float, float]
    size: tuple[int, int]
    layers: list[Layer]


def _read_con(r: DlibReader) -> dict:
    version = r.expect_string("con_4", "con_5")
    params = r.read_tensor().reshape(-1)
    nf, nr, nc, sy, sx, py, px = (r.read_int() for _ in range(7))
    filt = r.read_alias_tensor()
    bias = r.read_alias_tensor()
    for _ in range(4):  # learning-rate / weight-decay multipliers
        r.read_float()
    use_bias = r.read_bool() if version == "con_5" else True
    n_w = int(np.prod(filt))
    if filt[0] != nf or filt[2:] != (nr, nc) or params.size < n_w:
        raise r.error(f"inconsistent con_ shapes: filters {filt}, {nf}x{nr}x{nc}")
    weight = params[:n_w].reshape(filt)
    b = params[n_w:n_w + nf] if use_bias and bias[1] == nf else np.zeros(nf, np.float32)
    return {"weight": weight, "bias": b, "stride": (sy, sx), "pad": (py, px)}


def _read_affine(r: DlibReader) -> dict:
    r.expect_string("affine_")
    params = r.read_tensor().reshape(-1)
    gamma = r.read_alias_tensor()
    r.read_alias_tensor()  # beta has gamma's shape
    if r.peek_byte() not in (0x30, 0x31):  # newer files append the layer mode
        mode = r.read_int()
        if mode != 0:
            raise r.error("only CONV_MODE affine layers are supported")
    n = int(np.prod(gamma))
    if params.size != 2 * n:
        raise r.error(f"affine_ has {params.size} params for {n} channels")
    return {"gamma": params[:n].copy(), "beta": params[n:].copy()}


def _read_pool(r: DlibReader, kind: str) -> dict:
    r.expect_string(f"{kind}_2")
    nr, nc, sy, sx, py, px = (r.read_int() for _ in range(6))
    return {"kernel": (nr, nc), "stride": (sy, sx), "pad": (py, px)}


def _read_fc(r: DlibReader) -> dict:
    r.expect_string("fc_2")
    n_out, n_in = r.read_int(), r.read_int()
    params = r.read_tensor().reshape(-1)
    r.read_alias_tensor()
    bias = r.read_alias_tensor()
    r.read_int()  # bias mode
    for _ in range(4):
        r.read_float()
    if params.size < n_in * n_out:
        raise r.error("fc_ parameter tensor too small")
    weight = params[:n_in * n_out].reshape(n_in, n_out)
    has_bias = bias[0] * bias[1] == n_out
    b = params[n_in * n_out:n_in * n_out + n_out] if has_bias else None
    return {"weight": weight, "bias": b}


def _read_details(r: DlibReader, kind: str) -> dict:
    if kind == "con":
        return _read_con(r)
    if kind == "affine":
        return _read_affine(r)
    if kind in ("max_pool", "avg_pool"):
        return _read_pool(r, kind)
    if kind == "fc":
        return _read_fc(r)
    if kind == "relu":
        r.expect_string("relu_")
    elif kind.startswith("add_prev"):
        r.expect_string("add_prev_")
    return {}


def _skip_add_layer_state(r: DlibReader, version: int) -> None:
    """Bookkeeping an add_layer writes after its details: flags and empty work tensors."""
    while r.peek_byte() in (0x30, 0x31):
        r.read_bool()
    for _ in range(3):
        r.read_tensor()
    if version >= 3:
        r.read_int()  # sample expansion factor


def _read_input(r: DlibReader) -> tuple[tuple[float, float, float], tuple[int, int]]:
    name = r.expect_string("input_rgb_image_sized", "input_rgb_image")
    means = (r.read_float(), r.read_float(), r.read_float())
    size = (r.read_int(), r.read_int()) if name == "input_rgb_image_sized" else (150, 150)
    return means, size


def parse_resnet(data: bytes, name: str = "<dlib resnet>") -> ParsedNet:
    """Parse the serialised ``anet_type``; raises ValueError on any mismatch."""
    r = DlibReader(data, name)
    try:
        r.expect_int(1, what="loss layer version")
        r.expect_string("loss_metric_2", "loss_metric_")
    except DlibFormatError as exc:
        raise DlibFormatError(f"{name}: not a dlib metric-loss network ({exc})") from exc
    r.read_float()  # margin
    r.read_float()  # distance threshold
    topology = anet_topology()
    versions = []
    for i, kind in enumerate(topology):
        innermost = i == len(topology) - 1
        allowed = (1,) if _is_wrapper(kind) else ((2, 3) if innermost else (2,))
        versions.append(r.expect_int(*allowed, what=f"layer version ({kind} #{i})"))
    means, size = _read_input(r)
    layers = []
    for kind, version in zip(reversed(topology), reversed(versions), strict=True):
        if _is_wrapper(kind):
            layers.append(Layer(kind))
            continue
        layers.append(Layer(kind, _read_details(r, kind)))
        _skip_add_layer_state(r, version)
    r.expect_end()
    return ParsedNet(means, size, layers)


# ---------------------------------------------------------------------------------------
# ONNX graph building


class _GraphBuilder:
    """Accumulates nodes/initialisers while tracking static CHW shapes for padding."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def const(self, prefix: str, value: np.ndarray) -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs) -> str:
        out = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _fold_affine(conv: dict, affine: dict) -> dict:
    """conv followed by per-channel x*g+b equals a conv with scaled weights and bias."""
    g, b = affine["gamma"].astype(np.float64), affine["beta"].astype(np.float64)
    weight = conv["weight"].astype(np.float64) * g[:, None, None, None]
    bias = conv["bias"].astype(np.float64) * g + b
    return {**conv, "weight": weight, "bias": bias}


def _fold_input_norm(conv: dict, means: tuple[float, float, float]) -> dict:
    """Fold ``(x - mean) / 256`` into a padding-free first convolution."""
    mean = np.asarray(means, np.float64)
    weight = conv["weight"].astype(np.float64)
    bias = conv["bias"].astype(np.float64) - np.einsum("ocij,c->o", weight, mean) / 256.0
    return {**conv, "weight": weight / 256.0, "bias": bias}


def _out_hw(hw: tuple[int, int], kernel, stride, pad) -> tuple[int, int]:
    return tuple((hw[i] + 2 * pad[i] - kernel[i]) // stride[i] + 1 for i in range(2))


def _emit_conv(g: _GraphBuilder, x: str, shape, conv: dict):
    w = conv["weight"].astype(np.float32)
    py, px = conv["pad"]
    out = g.node("Conv", [x, g.const("W", w), g.const("B", conv["bias"].astype(np.float32))],
                 "conv", kernel_shape=list(w.shape[2:]), strides=list(conv["stride"]),
                 pads=[py, px, py, px])
    hw = _out_hw(shape[1:], w.shape[2:], conv["stride"], conv["pad"])
    return out, (w.shape[0], *hw)


def _emit_pool(g: _GraphBuilder, x: str, shape, kind: str, p: dict):
    if p["kernel"] == (0, 0):
        op = "GlobalMaxPool" if kind == "max_pool" else "GlobalAveragePool"
        return g.node(op, [x], "gpool"), (shape[0], 1, 1)
    if kind == "avg_pool" and p["pad"] != (0, 0):
        raise ValueError("padded average pooling is not supported")
    op = "MaxPool" if kind == "max_pool" else "AveragePool"
    py, px = p["pad"]
    out = g.node(op, [x], "pool", kernel_shape=list(p["kernel"]), strides=list(p["stride"]),
                 pads=[py, px, py, px])
    return out, (shape[0], *_out_hw(shape[1:], p["kernel"], p["stride"], p["pad"]))


def _pad_to(g: _GraphBuilder, x: str, shape, target):
    """Zero-pad at the end of C/H/W, matching dlib's add_prev on mismatched tensors."""
    if tuple(shape) == tuple(target):
        return x
    extra = [t - s for s, t in zip(shape, target, strict=True)]
    pads = np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64)
    return g.node("Pad", [x, g.const("pads", pads)], "pad", mode="constant")


def _emit_add(g: _GraphBuilder, a: str, sa, b: str, sb):
    target = tuple(max(x, y) for x, y in zip(sa, sb, strict=True))
    out = g.node("Add", [_pad_to(g, a, sa, target), _pad_to(g, b, sb, target)], "add")
    return out, target


def _fuse(layers: list[Layer], means) -> list[Layer]:
    """Fold affine layers into convs, and the input normalisation into the first conv."""
    fused: list[Layer] = []
    for layer in layers:
        if layer.kind == "affine" and fused and fused[-1].kind == "con":
            fused[-1] = Layer("con", _fold_affine(fused[-1].params, layer.params))
        elif layer.kind == "affine":
            raise ValueError("affine layer not preceded by a convolution")
        else:
            fused.append(layer)
    if fused[0].kind != "con" or fused[0].params["pad"] != (0, 0):
        raise ValueError("expected an unpadded first convolution")
    fused[0] = Layer("con", _fold_input_norm(fused[0].params, means))
    return fused


def build_graph(net: ParsedNet) -> onnx.ModelProto:
    """Turn the parsed layers into an NHWC-in, raw-descriptor-out ONNX model."""
    g = _GraphBuilder()
    x = g.node("Transpose", [INPUT_NAME], "nchw", perm=[0, 3, 1, 2])
    shape = (3, *net.size)
    tags: dict[str, tuple[str, tuple]] = {}
    for layer in _fuse(net.layers, net.means):
        kind, p = layer.kind, layer.params
        if kind == "con":
            x, shape = _emit_conv(g, x, shape, p)
        elif kind == "relu":
            x = g.node("Relu", [x], "relu")
        elif kind in ("max_pool", "avg_pool"):
            x, shape = _emit_pool(g, x, shape, kind, p)
        elif kind.startswith("tag"):
            tags[kind[3:]] = (x, shape)
        elif kind.startswith("skip"):
            x, shape = tags[kind[4:]]
        elif kind.startswith("add_prev"):
            other, other_shape = tags[kind[8:]]
            x, shape = _emit_add(g, x, shape, other, other_shape)
        elif kind == "fc":
            flat = g.node("Flatten", [x], "flat", axis=1)
            inputs = [flat, g.const("fcW", p["weight"].astype(np.float32))]
            if p["bias"] is not None:
                inputs.append(g.const("fcB", p["bias"].astype(np.float32)))
                x = g.node("Gemm", inputs, "fc")
            else:
                x = g.node("MatMul", inputs, "fc")
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name="output"))
    h, w = net.size
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", h, w, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", 128])],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openfrs.dlib_resnet")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def convert_resnet(dat_path: Path, onnx_path: Path) -> dict:
    """Parse the dlib recogniser .dat and write an ONNX model; returns manifest facts."""
    dat_path, onnx_path = Path(dat_path), Path(onnx_path)
    net = parse_resnet(dat_path.read_bytes(), name=dat_path.name)
    model = build_graph(net)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(onnx_path))
    return {
        "format": "onnx",
        "source": dat_path.name,
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
        "input_layout": "NHWC",
        "input_size": net.size[0],
        "input_range": "RGB 0..255 (float32)",
        "embedding_dim": 128,
        "normalized_output": False,
        "opset": OPSET,
    }
