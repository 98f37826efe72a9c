"""The ONNX conversion of dlib's face ResNet reproduces dlib's own descriptors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from openfrs.modelpack.convert.dlib_resnet import anet_topology, convert_resnet
from openfrs.vision.embedder import DlibResnetEmbedder


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def embedder(resnet_onnx: Path) -> DlibResnetEmbedder:
    return DlibResnetEmbedder(resnet_onnx, intra_threads=2)


def test_descriptors_match_dlib(embedder: DlibResnetEmbedder, reference: dict) -> None:
    ours = embedder.descriptors(reference["chips"])
    cos = _cosine(ours, reference["descriptors"])
    assert cos.min() >= 0.9999, f"worst cosine {cos.min():.6f}"
    assert np.abs(ours - reference["descriptors"]).max() < 1e-4


def test_embed_is_unit_norm_and_batch_independent(resnet_onnx: Path, reference: dict) -> None:
    chips = reference["chips"][:7]
    small = DlibResnetEmbedder(resnet_onnx, intra_threads=1, max_batch=3).embed(chips)
    whole = DlibResnetEmbedder(resnet_onnx, intra_threads=1, max_batch=32).embed(chips)
    assert small.shape == (7, 128) and small.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(small, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(small, whole, atol=1e-5)


def test_embed_rejects_wrong_chip_shape(embedder: DlibResnetEmbedder) -> None:
    with pytest.raises(ValueError, match="150"):
        embedder.embed(np.zeros((2, 112, 112, 3), np.uint8))


def test_graph_is_folded(resnet_onnx: Path) -> None:
    """Affine layers and input normalisation live inside the convolutions."""
    ops = [node.op_type for node in onnx.load(str(resnet_onnx)).graph.node]
    assert ops.count("Conv") == sum(kind == "con" for kind in anet_topology()) == 29
    assert not {"BatchNormalization", "Mul", "Sub", "Div"} & set(ops)
    assert ops.count("Transpose") == 1


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.999999])
def test_rejects_truncated_dat(dlib_models_dir: Path, tmp_path: Path, keep: float) -> None:
    data = (dlib_models_dir / "dlib_face_recognition_resnet_model_v1.dat").read_bytes()
    broken = tmp_path / "truncated.dat"
    broken.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated"):
        convert_resnet(broken, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()


def test_rejects_other_dlib_file(dlib_models_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a dlib metric-loss network"):
        convert_resnet(dlib_models_dir / "shape_predictor_5_face_landmarks.dat",
                       tmp_path / "out.onnx")
