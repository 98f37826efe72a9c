"""The eye-state model (vision/eye_state.py): which class means closed, measured on real photos of
shut, winking and open eyes, and the crop it is given (clamped to the image, grey levels stretched)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from openfrs.vision.eye_state import INPUT_SIZE, eye_crop, stretched
from openfrs.vision.face_actions import eye_points

REACTION = "liveness-stills/reaction"


def closed_per_eye(pipeline, image: np.ndarray) -> np.ndarray:
    """P(closed) of the eye on the image's left, then the one on its right, of the largest face."""
    face = pipeline.detect(image)[0]
    pipeline.mesh.landmarks(image, [face])
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return pipeline.eyes.closed([eye_crop(grey, points) for points in eye_points(face.extras["mesh468"])])


@pytest.mark.models
@pytest.mark.parametrize("name,expected", [
    ("close_eyes.jpeg", (True, True)), ("open_eyes.png", (False, False)),
    ("close_open_eyes.jpeg", (True, False)),  # a wink: the eye on the image's left is shut
])
def test_closed_class_on_real_photos(face_service, shared_data, name, expected):
    image = np.asarray(Image.open(shared_data / REACTION / name).convert("RGB"))
    closed = closed_per_eye(face_service.pipeline, image)
    assert [bool(p > 0.9) for p in closed] == list(expected), closed
    assert [bool(p < 0.1) for p in closed] == [not e for e in expected], closed


def test_crop_is_clamped_to_the_image_and_sized_for_the_model():
    grey = np.random.default_rng(0).integers(0, 256, (100, 120), np.uint8)
    corner_eye = np.array([[0, 5], [4, 2], [8, 2], [12, 5], [8, 8], [4, 8]], float)  # at the top-left edge
    crop = eye_crop(grey, corner_eye)
    assert crop is not None and crop.shape == (INPUT_SIZE, INPUT_SIZE) and crop.dtype == np.float32
    assert eye_crop(grey, corner_eye / 10) is None  # an eye a pixel wide: nothing to read


def test_stretch_spans_the_crop_and_leaves_a_flat_one_finite():
    dull = np.full((24, 24), 120, np.uint8)
    dull[:, 12:] = 140
    spread = stretched(dull)
    assert spread.min() == 0.0 and spread.max() == 1.0
    flat = stretched(np.full((24, 24), 90, np.uint8))
    assert np.isfinite(flat).all() and flat.max() == 0.0
