"""Faces in turned images: found in the orientation that makes them upright, reported with the
right `face_angle` and boxes in the turned image's own coordinates; upright photos whose faces
are convincing pay for one detection pass only."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.media import ImageLimits, decode_image
from openfrs.vision.detectors.tiling import iou_matrix
from openfrs.vision.orientation import box_to_original, detect_oriented, point_to_original, upright
from openfrs.vision.types import Box

pytestmark = pytest.mark.models


def crowd_images(shared_data):
    folder = shared_data / "crowd"
    return sorted(folder.glob("*.jpg")) + sorted((folder / "ultraface-imgs").glob("*.jpg"))


def boxes(faces) -> np.ndarray:
    return np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in faces], np.float32).reshape(-1, 4)


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_point_mapping_inverts_the_turn(angle):
    image = np.zeros((30, 50, 3), np.uint8)
    image[4, 7] = 255  # pixel (x=7, y=4) of the original
    turned = upright(image, angle)
    (y, x), = np.argwhere(turned[..., 0] == 255)
    back = point_to_original(np.array([[x + 0.5, y + 0.5]]), angle, image.shape)[0]
    assert back.tolist() == pytest.approx([7.5, 4.5])
    box = box_to_original(Box(x, y, x + 1.0, y + 1.0), angle, image.shape)
    assert (box.x1, box.y1, box.x2, box.y2) == (7.0, 4.0, 8.0, 5.0)


def test_every_crowd_image_turned_finds_its_faces_with_the_right_angle(face_service, settings,
                                                                       shared_data):
    limits = ImageLimits.from_settings(settings)
    checked = 0
    for path in crowd_images(shared_data):
        image = decode_image(path.read_bytes(), limits)
        reference = face_service.detect_blocking(image)
        if not reference:
            continue  # nothing to find (faces under the 40-px minimum)
        assert {f.extras["face_angle"] for f in reference} == {0}, path.name
        for angle in (90, 180, 270):
            turned = np.ascontiguousarray(np.rot90(image, -angle // 90))  # face turned clockwise
            found = face_service.detect_blocking(turned)
            assert found and {f.extras["face_angle"] for f in found} == {angle}, (path.name, angle)
            # the same faces, boxed in the turned image's own coordinates
            # (the original is the turned image made upright, so the mapping is the same one)
            expected = np.array([[b.x1, b.y1, b.x2, b.y2] for b in (
                box_to_original(f.box, angle, turned.shape) for f in reference)])
            overlap = iou_matrix(expected, boxes(found))
            matched = (overlap.max(axis=1) >= 0.5).mean()
            assert matched >= 0.8, (path.name, angle, matched)
        checked += 1
    assert checked >= 25


def test_convincing_upright_photos_cost_one_pass(face_service, settings, shared_data):
    calls = []

    def counting_detect(image):
        calls.append(image.shape)
        return face_service.pipeline.detect(image)

    limits = ImageLimits.from_settings(settings)
    image = decode_image((shared_data / "crowd/deepface_couple.jpg").read_bytes(), limits)
    oriented = detect_oriented(counting_detect, image)
    assert oriented.angle == 0 and len(calls) == 1 and oriented.faces
    calls.clear()
    oriented = detect_oriented(counting_detect, np.ascontiguousarray(np.rot90(image, -1)))
    assert oriented.angle == 90 and len(calls) == 4
