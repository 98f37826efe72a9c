"""Reading a TensorFlow Lite flatbuffer into plain data (tensors, ops, their options), with the
`flatbuffers` runtime alone: the few schema fields used are addressed by their index in
tensorflow/lite/schema/schema.fbs (vtable offset 4 + 2 * index) instead of generated code.
tflite.py turns what this reads into ONNX.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import flatbuffers
import numpy as np
from flatbuffers import number_types as fb
from flatbuffers.table import Table

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


def op_option(op: Op, field: int, kind=fb.Int32Flags, default=0):
    """Field `field` of the op's builtin-options table (the schema default when absent)."""
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
        if op.name != "ADD" or op_option(op, 0, fb.Int8Flags) or len(op.inputs) != 2:
            continue
        for relu_out, mul_out in (op.inputs, op.inputs[::-1]):
            relu, mul = producer.get(relu_out), producer.get(mul_out)
            if not (relu and mul and relu.name == "RELU" and mul.name == "MUL"
                    and not op_option(mul, 0, fb.Int8Flags)):
                continue
            x = relu.inputs[0]
            c, diff = mul.inputs if graph.tensors[mul.inputs[0]].data is not None else mul.inputs[::-1]
            sub = producer.get(diff)
            absolute = producer.get(sub.inputs[1]) if sub and sub.name == "SUB" else None
            slope = graph.tensors[c].data
            if (slope is None or slope.dtype != np.float32 or absolute is None
                    or absolute.name != "ABS" or sub.inputs[0] != x or absolute.inputs[0] != x
                    or op_option(sub, 0, fb.Int8Flags)
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
