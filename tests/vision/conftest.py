"""Fixtures for the dlib-derived vision models: source .dat files, converted artefacts, oracle."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openfrs.modelpack.convert.dlib_resnet import convert_resnet
from openfrs.modelpack.convert.dlib_shape import convert_shape_predictor

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "dlib_reference.npz"
DAT_FILES = (
    "dlib_face_recognition_resnet_model_v1.dat",
    "shape_predictor_5_face_landmarks.dat",
    "shape_predictor_68_face_landmarks.dat",
)


@pytest.fixture(scope="session")
def converted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("converted")


@pytest.fixture(scope="session")
def resnet_onnx(dlib_models_dir: Path, converted_dir: Path) -> Path:
    out = converted_dir / "dlib_resnet.onnx"
    convert_resnet(dlib_models_dir / DAT_FILES[0], out)
    return out


@pytest.fixture(scope="session")
def shape5_npz(dlib_models_dir: Path, converted_dir: Path) -> Path:
    out = converted_dir / "shape5.npz"
    convert_shape_predictor(dlib_models_dir / DAT_FILES[1], out)
    return out


@pytest.fixture(scope="session")
def shape68_npz(dlib_models_dir: Path, converted_dir: Path) -> Path:
    out = converted_dir / "shape68.npz"
    convert_shape_predictor(dlib_models_dir / DAT_FILES[2], out)
    return out


@pytest.fixture(scope="session")
def reference() -> dict:
    """dlib's outputs on 20 LFW faces (tools/make_dlib_reference.py) plus decoded images."""
    with np.load(REFERENCE) as data:
        ref = {key: data[key] for key in data.files}
    blob, offsets = ref.pop("jpeg_blob"), ref.pop("jpeg_offsets")
    ref["images"] = [
        np.asarray(Image.open(io.BytesIO(blob[a:b].tobytes())).convert("RGB"))
        for a, b in zip(offsets[:-1], offsets[1:], strict=True)
    ]
    return ref
