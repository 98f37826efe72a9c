"""Quality scores order images the way a person would: copies degraded on purpose score worse
on the matching axis than their originals in >= 95% of cases, and turned heads score worse on
pose than frontal photos. Photos here are not the ones the constants were set on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openfrs.media import ImageLimits, decode_image
from openfrs.service.attributes import QUALITY

pytestmark = pytest.mark.models
CODES = frozenset({QUALITY})


def quality_of(face_service, image):
    """Quality of the largest face; None when no face is found (the worst case)."""
    faces = face_service.detect_blocking(np.ascontiguousarray(image), CODES)
    return max(faces, key=lambda f: f.box.area).extras["quality"] if faces else None


def worse(original, degraded, axis: str) -> bool:
    return degraded is None or getattr(degraded, axis) > getattr(original, axis)


@pytest.fixture(scope="module")
def photos(settings, shared_data):
    limits = ImageLimits.from_settings(settings)
    paths = sorted((shared_data / "lfw-partial/images").glob("*/*_0002.jpg"))[:60]
    return [decode_image(path.read_bytes(), limits) for path in paths]


def test_degraded_copies_score_worse_on_their_axis(face_service, photos):
    results = {"blur": [], "illumination": [], "occlusion": []}
    totals = []
    for image in photos:
        original = quality_of(face_service, image)
        assert original is not None
        face = max(face_service.pipeline.detect(image), key=lambda f: f.box.area)
        cut = int((face.box.x1 + face.box.x2) / 2 + 0.1 * face.box.width)
        copies = {
            "blur": cv2.GaussianBlur(image, (0, 0), 2.5),
            "illumination": (image.astype(np.float32) * 0.35).astype(np.uint8),
            "occlusion": image[:, :cut],  # the face cut by the image border
        }
        for axis, copy in copies.items():
            degraded = quality_of(face_service, copy)
            results[axis].append(worse(original, degraded, axis))
            totals.append(degraded is None or degraded.total_score < original.total_score)
    for axis, outcomes in results.items():
        assert np.mean(outcomes) >= 0.95, (axis, np.mean(outcomes))
    assert np.mean(totals) >= 0.95


def test_turned_heads_score_worse_on_pose(face_service, photos, settings, shared_data):
    limits = ImageLimits.from_settings(settings)
    frontal = [quality_of(face_service, image).pose for image in photos]
    stills = ["left_face.jpeg", "right_face.png", "lower_face.jpeg", "rise_face.jpeg"]
    for name in stills:
        image = decode_image((shared_data / "liveness-stills/pose" / name).read_bytes(), limits)
        pose = quality_of(face_service, image).pose
        assert pose > np.median(frontal), (name, pose)  # LFW photos vary: some turn 20-30 degrees
        if name in ("left_face.jpeg", "right_face.png"):  # near profiles
            assert pose > np.percentile(frontal, 95)
