"""The attack cues on real pixels: a screen's moire and a held-up frame raise them, a real face
does not (vision/spoof_cues.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from openfrs.evaluation.spoof_synthesis import phone_frame
from openfrs.vision.spoof_cues import frame_sides, moire_peak
from openfrs.vision.types import Box

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def real_face(shared_data, face_service):
    image = np.asarray(Image.open(shared_data / "liveness-stills/reaction/open_eyes.png").convert("RGB"))
    return image, face_service.detect_blocking(image)[0]


def on_a_screen(image: np.ndarray, pitch: int = 3, camera_scale: float = 1.37) -> np.ndarray:
    """The image on a display whose dark pixel gaps show (each pixel a `pitch`-px cell with a
    dark last row and column), filmed at a non-integer scale: the two grids beat."""
    cells = np.repeat(np.repeat(image.astype(np.float32), pitch, axis=0), pitch, axis=1)
    gap = np.ones((pitch, pitch), np.float32)
    gap[-1, :] = gap[:, -1] = 0.55
    cells *= np.tile(gap, (image.shape[0], image.shape[1]))[..., None]
    shrink = pitch * camera_scale / 2
    size = (round(cells.shape[1] / shrink), round(cells.shape[0] / shrink))
    return cv2.resize(cells, size, interpolation=cv2.INTER_AREA).clip(0, 255).astype(np.uint8)


def test_moire_of_a_screen_grid_stands_out(real_face, face_service):
    image, face = real_face
    screened = on_a_screen(image)
    screened_face = face_service.detect_blocking(screened)[0]
    assert moire_peak(screened, screened_face.box) > moire_peak(image, face.box) + 0.5


def test_a_phone_held_up_shows_its_frame(real_face, face_service):
    image, face = real_face
    shown = phone_frame(image, np.random.default_rng(5))
    shown_face = face_service.detect_blocking(shown)[0]
    assert frame_sides(image, face.box) <= 1
    assert frame_sides(shown, shown_face.box) >= 3


def test_cues_say_none_rather_than_guess_on_a_tiny_face(real_face):
    image, face = real_face
    small = np.ascontiguousarray(image[::8, ::8])
    box = Box(face.box.x1 / 8, face.box.y1 / 8, face.box.x2 / 8, face.box.y2 / 8)
    assert moire_peak(small, box) is None
