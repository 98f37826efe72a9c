"""TensorFlow.js graph model (model.json + .bin shards) -> ONNX, in pure Python.

Why: the MediaPipe face detectors we ship exist freely as TFJS graph models; converting
them ourselves avoids a TensorFlow dependency. Tensors keep TF's NHWC layout; only Conv,
pooling, DepthToSpace and Resize (NCHW in ONNX) get Transposes around them, which ONNX
Runtime's transpose optimiser cancels. The batch dimension is always dynamic.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
TO_NCHW = [0, 3, 1, 2]
TO_NHWC = [0, 2, 3, 1]
BATCH = -(2**30)  # sentinel for "the batch size" inside constant-folded shape vectors

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
_QUANT = {"uint8": np.uint8, "uint16": np.uint16, "float16": np.float16}
_BINARY = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
           "Maximum": "Max", "Minimum": "Min"}
_UNARY = {"Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Abs": "Abs", "Exp": "Exp",
          "Sqrt": "Sqrt", "Neg": "Neg", "Elu": "Elu", "Identity": "Identity"}
_REDUCE = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin"}


def load_weights(model_json: Path, manifest: list[dict]) -> dict[str, np.ndarray]:
    """Decode every weight group; each group is its shards concatenated, read in order."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        buf = b"".join((model_json.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            array, used = _decode_weight(spec, buf, offset)
            weights[spec["name"]] = array
            offset += used
    return weights


def _decode_weight(spec: dict, buf: bytes, offset: int) -> tuple[np.ndarray, int]:
    """One tensor from the buffer, undoing float16 or affine uint8/uint16 quantisation."""
    shape = [int(d) for d in spec["shape"]]
    count = int(np.prod(shape)) if shape else 1
    quant = spec.get("quantization")
    stored = np.dtype(_QUANT[quant["dtype"]] if quant else _DTYPES[spec["dtype"]])
    raw = np.frombuffer(buf, dtype=stored, count=count, offset=offset)
    if quant and quant["dtype"] != "float16":
        raw = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
    return raw.astype(_DTYPES[spec["dtype"]]).reshape(shape), count * stored.itemsize


def _attr(node: dict, key: str, default: Any = None) -> Any:
    """Plain Python value of a TF NodeDef attribute (strings arrive base64-encoded)."""
    value = node.get("attr", {}).get(key)
    if value is None:
        return default
    if "list" in value:
        items = value["list"]
        if "s" in items:
            return [base64.b64decode(s).decode() for s in items["s"]]
        return [int(i) for i in items.get("i", [])] or [float(f) for f in items.get("f", [])]
    if "s" in value:
        return base64.b64decode(value["s"]).decode()
    for kind, cast in (("i", int), ("f", float), ("b", bool)):
        if kind in value:
            return cast(value[kind])
    return default


class _Graph:
    """Builds the ONNX graph node by node while tracking constants and tensor ranks."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.const: dict[str, np.ndarray] = dict(weights)
        self.rank: dict[str, int] = {}
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, onnx.TensorProto] = {}
        self.resizes: list[tuple[str, str, np.ndarray]] = []  # (scales init, input, TF size)
        self._count = 0

    def name(self, ref: str) -> str:
        """TF input reference ("node" or "node:0") -> tensor name (single-output ops only)."""
        return ref.split(":")[0]

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}__{self._count}"

    def tensor(self, ref: str) -> str:
        """ONNX tensor name for a TF input, materialising constants as initializers."""
        name = self.name(ref)
        if name in self.const and name not in self.inits:
            value = self.const[name]
            if value.dtype == np.int32:
                value = value.astype(np.int64)
            self.inits[name] = numpy_helper.from_array(value, name)
        return name

    def init(self, hint: str, value: np.ndarray) -> str:
        name = self.fresh(hint)
        self.inits[name] = numpy_helper.from_array(value, name)
        return name

    def add(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or self.fresh(op)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def nchw(self, op: str, x: str, out: str, extra: list[str], **attrs: Any) -> str:
        """Run an NCHW-only ONNX op on an NHWC tensor by transposing in and out."""
        t_in = self.add("Transpose", [x], perm=TO_NCHW)
        y = self.add(op, [t_in, *extra], **attrs)
        self.add("Transpose", [y], out, perm=TO_NHWC)
        return t_in


def _spatial_attrs(node: dict, kernel_hw: tuple[int, int] | None = None) -> dict[str, Any]:
    """Strides/dilations/padding of an NHWC TF op as ONNX attributes."""
    strides = _attr(node, "strides", [1, 1, 1, 1])
    attrs: dict[str, Any] = {"strides": strides[1:3]}
    dilations = _attr(node, "dilations")
    if dilations:
        attrs["dilations"] = dilations[1:3]
    padding = _attr(node, "padding", "VALID")
    if padding == "SAME":
        attrs["auto_pad"] = "SAME_UPPER"
    elif padding == "EXPLICIT":
        p = _attr(node, "explicit_paddings")
        attrs["pads"] = [p[2], p[4], p[3], p[5]]
    if kernel_hw:
        attrs["kernel_shape"] = list(kernel_hw)
    return attrs


def _conv(g: _Graph, node: dict, inputs: list[str]) -> None:
    """Conv2D / DepthwiseConv2dNative and their fused BiasAdd(+activation) forms."""
    depthwise = "Depthwise" in node["op"]
    kernel = g.const[g.name(inputs[1])]
    kh, kw, cin, cm = kernel.shape
    if depthwise:
        weight = kernel.reshape(kh, kw, cin * cm).transpose(2, 0, 1)[:, None]
        group = cin
    else:
        weight, group = kernel.transpose(3, 2, 0, 1), 1
    args = [g.tensor(inputs[0]), g.init("W", np.ascontiguousarray(weight, np.float32))]
    fused = _attr(node, "fused_ops", [])
    if fused and fused[0] == "BiasAdd":
        args.append(g.init("B", g.const[g.name(inputs[2])].astype(np.float32)))
        fused = fused[1:]
    elif fused:
        raise NotImplementedError(f"{node['name']}: fused {fused}")
    out = node["name"]
    conv_out = g.fresh("conv") if fused else out
    g.nchw("Conv", args[0], conv_out, args[1:], group=group, **_spatial_attrs(node, (kh, kw)))
    if fused:
        _activation(g, fused[0], conv_out, out, node, inputs[3:])


def _activation(g: _Graph, op: str, x: str, out: str, node: dict, extra: list[str]) -> None:
    if op == "Relu":
        g.add("Relu", [x], out)
    elif op == "Relu6":
        g.add("Clip", [x, g.init("lo", np.float32(0)), g.init("hi", np.float32(6))], out)
    elif op == "Prelu":
        g.add("PRelu", [x, g.tensor(extra[0])], out)
    elif op == "LeakyRelu":
        g.add("LeakyRelu", [x], out, alpha=_attr(node, "leakyrelu_alpha", 0.2))
    elif op == "Elu":
        g.add("Elu", [x], out)
    else:
        raise NotImplementedError(f"{node['name']}: activation {op}")


def _pool(g: _Graph, node: dict, inputs: list[str]) -> None:
    ksize = _attr(node, "ksize")
    op = "MaxPool" if node["op"] == "MaxPool" else "AveragePool"
    g.nchw(op, g.tensor(inputs[0]), node["name"], [], **_spatial_attrs(node, ksize[1:3]))


def _reshape(g: _Graph, node: dict, inputs: list[str]) -> None:
    """Reshape with the batch entry as 0 (copy) and flatten-style targets as [0, -1, K].

    TF detector heads reshape [B,H,W,A*K] -> [B,H*W*A,K] with H*W baked in; -1 keeps the
    graph valid for other input sizes and any batch.
    """
    shape = _fold(g, inputs[1]).astype(np.int64)
    if shape.size and (shape[0] == BATCH or shape[0] == 1):
        shape[0] = 0
        if 2 <= shape.size <= 3 and -1 not in shape:
            shape[1] = -1
    if (shape < -1).any():
        raise NotImplementedError(f"{node['name']}: shape depends on unknown dims")
    g.add("Reshape", [g.tensor(inputs[0]), g.init("shape", shape)], node["name"])
    g.rank[node["name"]] = int(shape.size)


def _fold(g: _Graph, ref: str) -> np.ndarray:
    name = g.name(ref)
    if name not in g.const:
        raise NotImplementedError(f"{name}: expected a constant (or constant-foldable) input")
    return np.asarray(g.const[name])


def _shape(g: _Graph, node: dict, inputs: list[str]) -> None:
    """Shape is folded to [BATCH, ?, ?, ?]; only batch may be read from it downstream."""
    rank = g.rank[g.name(inputs[0])]
    g.const[node["name"]] = np.array([BATCH] + [BATCH - 1] * (rank - 1), np.int64)


def _strided_slice(g: _Graph, node: dict, inputs: list[str]) -> None:
    """Constant-folded 1-D StridedSlice (how Keras reads the batch size from Shape)."""
    value = _fold(g, inputs[0])
    begin, end, step = (int(_fold(g, i).ravel()[0]) for i in inputs[1:4])
    if _attr(node, "begin_mask", 0) & 1:
        begin = 0 if step > 0 else len(value) - 1
    if _attr(node, "shrink_axis_mask", 0) & 1:
        g.const[node["name"]] = np.asarray(value[begin])
        return
    stop = None if _attr(node, "end_mask", 0) & 1 else end
    g.const[node["name"]] = value[begin:stop:step]


def _pack(g: _Graph, node: dict, inputs: list[str]) -> None:
    parts = [_fold(g, i).astype(np.int64) for i in inputs]
    g.const[node["name"]] = np.stack(parts, axis=_attr(node, "axis", 0))


def _concat(g: _Graph, node: dict, inputs: list[str]) -> None:
    axis = int(_fold(g, inputs[-1]))
    tensors = [g.tensor(i) for i in inputs[:-1]]
    g.add("Concat", tensors, node["name"], axis=axis)
    g.rank[node["name"]] = g.rank.get(g.name(inputs[0]), 4)


def _pad(g: _Graph, node: dict, inputs: list[str]) -> None:
    paddings = _fold(g, inputs[1]).astype(np.int64)
    pads = np.concatenate([paddings[:, 0], paddings[:, 1]])
    g.add("Pad", [g.tensor(inputs[0]), g.init("pads", pads)], node["name"])


def _depth_to_space(g: _Graph, node: dict, inputs: list[str]) -> None:
    g.nchw("DepthToSpace", g.tensor(inputs[0]), node["name"], [],
           blocksize=_attr(node, "block_size"), mode="DCR")


def _resize(g: _Graph, node: dict, inputs: list[str]) -> None:
    """Resize by scale factors (filled in after shape inference) so any input size works."""
    if _attr(node, "align_corners", False):
        mode = "align_corners"
    elif _attr(node, "half_pixel_centers", False):
        mode = "half_pixel" if node["op"] == "ResizeBilinear" else "tf_half_pixel_for_nn"
    else:
        mode = "asymmetric"
    kind = "linear" if node["op"] == "ResizeBilinear" else "nearest"
    roi = g.init("roi", np.zeros(0, np.float32))
    scales = g.init("scales", np.ones(4, np.float32))
    t_in = g.nchw("Resize", g.tensor(inputs[0]), node["name"], [roi, scales],
                  mode=kind, coordinate_transformation_mode=mode, nearest_mode="floor")
    g.resizes.append((scales, t_in, _fold(g, inputs[1])))


def _reduce(g: _Graph, node: dict, inputs: list[str]) -> None:
    axes = np.atleast_1d(_fold(g, inputs[1])).astype(np.int64)
    keep = int(bool(_attr(node, "keep_dims", False)))
    op = _REDUCE[node["op"]]
    x = g.tensor(inputs[0])
    if op == "ReduceSum":
        g.add(op, [x, g.init("axes", axes)], node["name"], keepdims=keep)
    else:
        g.add(op, [x], node["name"], axes=axes.tolist(), keepdims=keep)
    g.rank[node["name"]] = g.rank.get(g.name(inputs[0]), 4) - (0 if keep else axes.size)


def _squeeze(g: _Graph, node: dict, inputs: list[str]) -> None:
    axes = _attr(node, "squeeze_dims", [])
    extra = [g.init("axes", np.array(axes, np.int64))] if axes else []
    g.add("Squeeze", [g.tensor(inputs[0]), *extra], node["name"])
    g.rank[node["name"]] = g.rank.get(g.name(inputs[0]), 4) - len(axes)


def _matmul(g: _Graph, node: dict, inputs: list[str]) -> None:
    a, b = g.tensor(inputs[0]), g.tensor(inputs[1])
    trans = {"transA": int(_attr(node, "transpose_a", False)),
             "transB": int(_attr(node, "transpose_b", False))}
    fused = _attr(node, "fused_ops", [])
    bias = [g.tensor(inputs[2])] if fused[:1] == ["BiasAdd"] else []
    out = node["name"]
    gemm_out = g.fresh("gemm") if fused[1:] else out
    g.add("Gemm", [a, b, *bias], gemm_out, **trans)
    if fused[1:]:
        _activation(g, fused[1], gemm_out, out, node, inputs[3:])
    g.rank[out] = 2


def _simple(g: _Graph, node: dict, inputs: list[str]) -> None:
    """Elementwise and activation ops that map one-to-one."""
    op, out = node["op"], node["name"]
    tensors = [g.tensor(i) for i in inputs]
    if op in _BINARY:
        g.add(_BINARY[op], tensors, out)
    elif op in _UNARY:
        g.add(_UNARY[op], tensors, out)
    elif op == "Rsqrt":
        g.add("Reciprocal", [g.add("Sqrt", tensors)], out)
    elif op == "Square":
        g.add("Mul", [tensors[0], tensors[0]], out)
    elif op == "Softmax":
        g.add("Softmax", tensors, out, axis=-1)
    elif op in ("Relu6", "Prelu", "LeakyRelu"):
        _activation(g, op, tensors[0], out, node, inputs[1:])
    elif op == "BiasAdd":
        g.add("Add", tensors, out)
    else:
        raise NotImplementedError(f"TFJS op {op} ({out}) is not supported")


_HANDLERS = {
    "Conv2D": _conv, "_FusedConv2D": _conv, "DepthwiseConv2dNative": _conv,
    "FusedDepthwiseConv2dNative": _conv, "MaxPool": _pool, "AvgPool": _pool,
    "Reshape": _reshape, "Shape": _shape, "StridedSlice": _strided_slice, "Pack": _pack,
    "ConcatV2": _concat, "Pad": _pad, "DepthToSpace": _depth_to_space,
    "ResizeBilinear": _resize, "ResizeNearestNeighbor": _resize, "Squeeze": _squeeze,
    "MatMul": _matmul, "_FusedMatMul": _matmul, **dict.fromkeys(_REDUCE, _reduce),
}


def _set_resize_scales(model: onnx.ModelProto, g: _Graph) -> None:
    """Turn each TF Resize target size into scale factors using the native input size.

    One at a time, in graph order: a later Resize's input shape is only inferable once the
    earlier ones produce the right size.
    """
    for scales, t_in, size in g.resizes:
        inferred = onnx.shape_inference.infer_shapes(model)
        info = next(v for v in inferred.graph.value_info if v.name == t_in)
        h, w = (d.dim_value for d in info.type.tensor_type.shape.dim[2:4])
        value = np.array([1, 1, size[0] / h, size[1] / w], np.float32)
        init = next(i for i in model.graph.initializer if i.name == scales)
        init.CopyFrom(numpy_helper.from_array(value, scales))


def _topological(nodes: list[dict]) -> list[dict]:
    """TFJS stores nodes in arbitrary order; ONNX needs producers before consumers.

    Control flow (loops: NextIteration/Merge cycles) is out of scope and is refused.
    """
    by_name = {n["name"]: n for n in nodes}
    done: set[str] = set()
    open_: set[str] = set()
    ordered: list[dict] = []
    for root in nodes:
        stack = [(root["name"], False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                open_.discard(name)
                done.add(name)
                ordered.append(by_name[name])
            elif name in open_:
                raise NotImplementedError(f"{name}: graph has a cycle (control flow)")
            elif name not in done and name in by_name:
                open_.add(name)
                stack.append((name, True))
                stack.extend((i.lstrip("^").split(":")[0], False)
                             for i in by_name[name].get("input", []))
    return ordered


def _output_nodes(doc: dict, nodes: list[dict]) -> list[str]:
    """Graph outputs: the signature's if given, else nodes nobody consumes."""
    signature = doc.get("signature") or doc.get("userDefinedMetadata", {}).get("signature", {})
    outs = [v["name"].split(":")[0] for v in signature.get("outputs", {}).values()]
    if not outs:
        used = {i.lstrip("^").split(":")[0] for n in nodes for i in n.get("input", [])}
        outs = [n["name"] for n in nodes if n["name"] not in used and n["op"] != "Const"]
    return sorted(outs, key=lambda s: (len(s), s))


def _fill_output_types(model: onnx.ModelProto) -> list[dict]:
    """Declare graph outputs with their inferred shapes; returns them for the manifest."""
    inferred = onnx.shape_inference.infer_shapes(model)
    known = {v.name: v for v in [*inferred.graph.value_info, *inferred.graph.output]}
    infos = []
    for out in model.graph.output:
        out.CopyFrom(known[out.name])
        dims = out.type.tensor_type.shape.dim
        infos.append({"name": out.name, "dtype": "float32",
                      "shape": [d.dim_value if d.HasField("dim_value") else None for d in dims]})
    return infos


def convert_graph_model(model_json: Path, onnx_path: Path,
                        input_hw: tuple[int, int] | None = None) -> dict:
    """Convert a TFJS graph model to ONNX (opset 17, dynamic batch, NHWC float32 input).

    `input_hw` re-declares the spatial input size (the nets here are fully convolutional);
    the returned dict lists input/output names, shapes and dtypes for a model manifest.
    """
    model_json = Path(model_json)
    doc = json.loads(model_json.read_text())
    nodes = _topological(doc["modelTopology"]["node"])
    g = _Graph(load_weights(model_json, doc["weightsManifest"]))
    inputs: list[tuple[str, list[int]]] = []
    for node in nodes:
        op, refs = node["op"], [i for i in node.get("input", []) if not i.startswith("^")]
        if op == "Placeholder":
            shape = node.get("attr", {}).get("shape", {}).get("shape", {}).get("dim", [])
            inputs.append((node["name"], [int(d.get("size", -1)) for d in shape]))
            g.rank[node["name"]] = len(shape)
        elif op == "Identity" and g.name(refs[0]) in g.const:
            g.const[node["name"]] = g.const[g.name(refs[0])]
        elif op != "Const":
            _HANDLERS.get(op, _simple)(g, node, refs)
            g.rank.setdefault(node["name"], g.rank.get(g.name(refs[0]), 4) if refs else 0)
    model = _make_model(g, inputs, _output_nodes(doc, nodes))
    _set_resize_scales(model, g)
    if input_hw is not None:
        for graph_input in model.graph.input:
            dims = graph_input.type.tensor_type.shape.dim
            dims[1].dim_value, dims[2].dim_value = input_hw
        inputs = [(n, [-1, *input_hw, d[3]]) for n, d in inputs]
    outputs = _fill_output_types(model)
    onnx.checker.check_model(model)
    Path(onnx_path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(onnx_path))
    return {
        "format": "onnx", "opset": OPSET, "layout": "NHWC", "source": model_json.name,
        "inputs": [{"name": n, "dtype": "float32", "shape": [None, *d[1:]]} for n, d in inputs],
        "outputs": outputs,
    }


def _make_model(g: _Graph, inputs: list[tuple[str, list[int]]],
                outputs: list[str]) -> onnx.ModelProto:
    """Assemble the ModelProto; the batch dimension is symbolic."""
    graph_inputs = [helper.make_tensor_value_info(
        n, TensorProto.FLOAT, ["batch", *[d if d > 0 else None for d in dims[1:]]])
        for n, dims in inputs]
    graph_outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    graph = helper.make_graph(g.nodes, "tfjs_graph", graph_inputs, graph_outputs,
                              list(g.inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openfrs.tfjs_graph")
    model.ir_version = 8  # what opset 17 needs; newer IRs are refused by older runtimes
    return model
