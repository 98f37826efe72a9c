"""The default recogniser in the pack answers as the package's own fr_feature.onnx does.

The pack's file is our conversion (modelpack/convert/faceplugin.py: dead weights flushed,
symbolic batch, PRelu rewritten); the reference is the untouched file from the verified npm
archive, run one chip at a time as the package's JS runs it, in the same ONNX Runtime.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from openfrs.modelpack.archives import npm_file
from openfrs.modelpack.convert.faceplugin import MODEL_FILES
from openfrs.modelpack.install import FR_FEATURE_RECOGNISER
from openfrs.modelpack.sources import FACEPLUGIN
from openfrs.vision.arcface import ARCFACE_TEMPLATE, arcface_chip
from openfrs.vision.pack import load_pack
from openfrs.vision.shape_predictor import five_points

pytestmark = [pytest.mark.models, pytest.mark.data]


@pytest.fixture(scope="module")
def original(download_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> ort.InferenceSession:
    path = npm_file(FACEPLUGIN, MODEL_FILES["fr_feature"], download_cache, tmp_path_factory.mktemp("fp"))
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def chips(face_service, shared_data: Path) -> np.ndarray:
    """Aligned chips of real faces (the API's own detector, landmarks and warp)."""
    pipeline = face_service.pipeline
    out = []
    for path in sorted((shared_data / "lfw-partial" / "images").glob("A*/*_0001.jpg"))[:24]:
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        faces = pipeline.detect(image)
        if faces:
            out.append(pipeline.aligned_chips(image, faces[:1])[0])
    assert len(out) >= 20
    return np.stack(out)


def test_pack_entry_is_the_converted_fr_feature(model_pack_dir: Path):
    entry = load_pack(model_pack_dir).entry("embedder")
    assert entry.family == "arcface" and entry.version == FR_FEATURE_RECOGNISER
    assert entry.params["prelu_rewritten"] == 33 and entry.params["weights_flushed"] > 0
    graph = onnx.load(str(entry.path(model_pack_dir))).graph
    assert not [n for n in graph.node if n.op_type == "PRelu"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch


def test_converted_model_agrees_with_the_original(face_service, original, chips):
    embedder = face_service.pipeline.recogniser().embedder
    ours = embedder.embed(chips)  # one batch through the converted graph, unit vectors
    tensor = (chips.astype(np.float32) - 127.0) / 128.0
    theirs = np.concatenate([original.run(None, {"input": t[None].transpose(0, 3, 1, 2)})[0]
                             for t in tensor])
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert np.sum(ours * theirs, axis=1).min() >= 0.9999
    # and random inputs, where no face structure could hide a difference
    noise = np.random.default_rng(5).integers(0, 256, (6, 112, 112, 3)).astype(np.uint8)
    ref = np.concatenate([original.run(None, {"input": ((n.astype(np.float32) - 127) / 128)
                                              .transpose(2, 0, 1)[None]})[0] for n in noise])
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    assert np.sum(embedder.embed(noise) * ref, axis=1).min() >= 0.9999


def test_batches_give_the_same_embeddings_as_single_chips(face_service, chips):
    embedder = face_service.pipeline.recogniser().embedder
    together = embedder.embed(chips[:9])
    alone = np.concatenate([embedder.embed(c[None]) for c in chips[:9]])
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("scale", [2.5, 9.0])  # warped directly / shrunk first (> 2x the chip)
def test_chip_puts_the_five_points_on_the_arcface_template(scale):
    """Five bright dots placed at the five points of a turned, scaled face land on the template."""
    angle = np.deg2rad(25)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = ARCFACE_TEMPLATE @ rotation.T + [60 * scale, 40 * scale]
    side = int(200 * scale)
    ys, xs = np.mgrid[0:side, 0:side]
    image = np.zeros((side, side), np.float32)
    for x, y in points:  # Gaussian dots about 1.2 chip pixels wide
        image += np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * (1.2 * scale) ** 2))
    rgb = np.repeat(np.clip(image * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    chip = arcface_chip(rgb, points)[..., 0].astype(float)
    cys, cxs = np.mgrid[0:112, 0:112]
    for tx, ty in ARCFACE_TEMPLATE:
        near = (np.abs(cxs - tx) < 6) & (np.abs(cys - ty) < 6)
        weight = chip * near
        centre = (weight * cxs).sum() / weight.sum(), (weight * cys).sum() / weight.sum()
        assert np.hypot(centre[0] - tx, centre[1] - ty) < 0.35, (scale, (tx, ty), centre)


def test_large_faces_are_shrunk_before_the_warp(face_service, shared_data: Path):
    """A face 6x larger gives (almost) the chip of the original: area-averaged, not aliased."""
    pipeline = face_service.pipeline
    image = cv2.cvtColor(cv2.imread(str(shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg")),
                         cv2.COLOR_BGR2RGB)
    points = five_points(pipeline.landmarks(image, pipeline.detect(image)[:1])[0].extras["shape68"])
    large = cv2.resize(image, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)
    small_chip = arcface_chip(image, points).astype(float)
    large_chip = arcface_chip(large, points * 6 + 2.5).astype(float)  # pixel centres scale about -0.5
    assert np.abs(large_chip - small_chip).mean() < 6.0
    embedder = pipeline.recogniser().embedder
    vectors = embedder.embed(np.stack([small_chip, large_chip]).astype(np.uint8))
    assert float(vectors[0] @ vectors[1]) > 0.95
