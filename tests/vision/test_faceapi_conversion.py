"""The face-api.js age/gender net rebuilt in ONNX answers as face-api itself does.

tests/data/faceapi_agegender_reference.json holds what face-api 1.7.15 computed in tfjs 4.22.0
on fixed inputs (random tensors, UTKFace chips whole, cut, and through a face box crossing the
image border), so this checks the converter and our copy of face-api's input recipe together.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from openfrs.modelpack.convert.faceapi_agegender import build_model, load_layers_weights
from openfrs.vision.agegender import model_input, resize_bilinear_tf
from openfrs.vision.pack import load_pack
from openfrs.vision.runtime import create_session

pytestmark = pytest.mark.models

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "faceapi_agegender_reference.json"


def _inputs(items: list[dict], images: Path) -> np.ndarray:
    rng = np.random.default_rng(20240611)
    randoms = [rng.uniform(0, 255, (112, 112, 3)) for _ in range(3)]
    batch = []
    for item in items:
        spec = item["input"]
        if "random_index" in spec:
            batch.append(randoms[spec["random_index"]].astype(np.float32))
            continue
        name = spec.get("resized_file") or spec["image_file"]
        rgb = cv2.cvtColor(cv2.imread(str(images / name)), cv2.COLOR_BGR2RGB)
        if "resized_file" in spec:
            batch.append(resize_bilinear_tf(rgb.astype(np.float32), 112))
        elif "rows_cols" in spec:
            top, bottom, left, right = spec["rows_cols"]
            batch.append(model_input(rgb[top:bottom, left:right]))
        else:
            batch.append(model_input(rgb, tuple(spec["box"]) if "box" in spec else None))
    return np.stack(batch)


def test_pack_model_matches_face_api_in_tfjs(model_pack_dir: Path, shared_data: Path):
    reference = json.loads(REFERENCE.read_text())["items"]
    session = create_session(load_pack(model_pack_dir).entry("agegender").path(model_pack_dir), 1)
    age, genders = session.run(["age", "gender_probs"],
                               {"input": _inputs(reference, shared_data / "utkface/images")})
    assert np.abs(age - [r["tfjs_age"] for r in reference]).max() < 1e-3
    assert np.abs(genders[:, 0] - [r["tfjs_p_male"] for r in reference]).max() < 1e-5


def test_every_weight_is_used_and_none_invented(download_cache: Path, tmp_path: Path):
    from openfrs.modelpack.archives import cached_archive, extract_face_api_weights
    from openfrs.modelpack.sources import FACE_API

    archive = cached_archive(FACE_API, download_cache)
    manifest = extract_face_api_weights(archive, "age_gender_model", tmp_path)
    weights = load_layers_weights(manifest)
    build_model(weights)  # refuses a graph that leaves a weight unused
    weights["fc/age/extra"] = np.zeros(1, np.float32)
    with pytest.raises(ValueError, match="not used"):
        build_model(weights)
