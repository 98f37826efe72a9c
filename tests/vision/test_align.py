"""face_chip reproduces dlib.get_face_chip (get_face_chip_details + extract_image_chip)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openfrs.vision.align import face_chip, pyramid_down2
from openfrs.vision.embedder import DlibResnetEmbedder
from openfrs.vision.shape_predictor import ShapePredictor
from openfrs.vision.types import Box


def _shape_for_chip(reference: dict, i: int) -> np.ndarray:
    key = "shape68" if reference["chip_points"][i] == 68 else "shape5"
    return reference[key][i]


def test_chips_match_dlib(reference: dict) -> None:
    diffs = []
    for i, image in enumerate(reference["images"]):
        chip = face_chip(image, _shape_for_chip(reference, i), size=150, padding=0.25)
        assert chip.shape == (150, 150, 3) and chip.dtype == np.uint8
        diff = np.abs(chip.astype(np.int16) - reference["chips"][i].astype(np.int16))
        diffs.append(diff)
    diffs = np.stack(diffs)
    print(f"chip |diff|: mean {diffs.mean():.4f}, max {diffs.max()}, "
          f"{(diffs > 0).mean():.2%} of values differ")
    assert diffs.mean() < 0.5
    assert diffs.max() <= 2


def test_chip_embeddings_match_dlib(resnet_onnx: Path, reference: dict) -> None:
    embedder = DlibResnetEmbedder(resnet_onnx, intra_threads=2)
    ours = np.stack([face_chip(img, _shape_for_chip(reference, i))
                     for i, img in enumerate(reference["images"])])
    cos = (embedder.embed(ours) * embedder.embed(reference["chips"])).sum(1)
    assert cos.min() > 0.999, f"worst cosine {cos.min():.5f}"


def test_full_pipeline_matches_dlib(resnet_onnx: Path, shape5_npz: Path,
                                    reference: dict) -> None:
    """dlib box -> our 5-point landmarks (unrounded) -> our chip -> ONNX vs dlib's descriptor."""
    embedder = DlibResnetEmbedder(resnet_onnx, intra_threads=2)
    predictor = ShapePredictor(shape5_npz)
    rows = [i for i, n in enumerate(reference["chip_points"]) if n == 5]
    chips = []
    for i in rows:
        left, top, right, bottom = (float(v) for v in reference["boxes"][i])
        shape = predictor.predict(reference["images"][i], Box(left, top, right + 1, bottom + 1))
        chips.append(face_chip(reference["images"][i], shape))
    ours = embedder.embed(np.stack(chips))
    theirs = reference["descriptors"][rows]
    cos = (ours * theirs).sum(1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() > 0.995, f"worst cosine {cos.min():.5f}"


def test_pyramid_down2_size_and_mean() -> None:
    image = np.full((41, 30, 3), 200, np.uint8)
    down = pyramid_down2(image)
    assert down.shape == (19, 13, 3)
    assert (down == 200).all()


def test_rejects_bad_shapes(reference: dict) -> None:
    with pytest.raises(ValueError):
        face_chip(reference["images"][0], np.zeros((7, 2)))
    with pytest.raises(ValueError):
        face_chip(reference["images"][0][..., 0], reference["shape5"][0])


@pytest.mark.parametrize("scale", [3.0, 7.5])
def test_large_faces_use_dlib_pyramid(reference: dict, scale: float) -> None:
    """Faces much bigger than the chip go through dlib's pyramid_down<2> first."""
    dlib = pytest.importorskip("dlib")
    image = cv2.resize(reference["images"][1], None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_LINEAR)
    for key in ("shape5", "shape68"):
        shape = np.round(reference[key][1] * scale)
        det = dlib.full_object_detection(dlib.rectangle(0, 0, 1, 1),
                                         [dlib.point(int(x), int(y)) for x, y in shape])
        expected = dlib.get_face_chip(image, det, size=150, padding=0.25)
        diff = np.abs(face_chip(image, shape).astype(np.int16) - expected.astype(np.int16))
        assert diff.mean() < 0.5 and diff.max() <= 2, (key, diff.mean(), diff.max())


def test_face_at_image_border_matches_dlib(reference: dict) -> None:
    """Chip pixels whose bilinear neighbourhood leaves the image are black, as in dlib."""
    dlib = pytest.importorskip("dlib")
    image = np.ascontiguousarray(reference["images"][2][70:, 95:])
    shape = reference["shape5"][2] - np.array([95, 70])
    det = dlib.full_object_detection(dlib.rectangle(0, 0, 1, 1),
                                     [dlib.point(int(x), int(y)) for x, y in shape])
    expected = dlib.get_face_chip(image, det, size=150, padding=0.25)
    ours = face_chip(image, shape)
    assert (expected.sum(axis=2) == 0).mean() > 0.05
    diff = np.abs(ours.astype(np.int16) - expected.astype(np.int16))
    assert diff.mean() < 0.5 and diff.max() <= 2
