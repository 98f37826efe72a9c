"""Faces in turned images: found in the orientation that makes them upright, reported with the
right `face_angle` and boxes in the turned image's own coordinates; upright photos whose faces
are convincing pay for one detection pass only. The recognition paths (compare, search, add)
turn turned portraits back and never turn upright photos."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.media import ImageLimits, decode_image
from openfrs.vision.detectors.tiling import iou_matrix
from openfrs.vision.orientation import (
    box_to_original,
    detect_oriented,
    mesh_turn_logits,
    point_to_original,
    upright,
)
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


# -- the recognition paths (compare, search, add): orient_for_recognition ----------------------

def jpeg_turned(image: np.ndarray, angle: int) -> np.ndarray:
    """`image` turned clockwise by `angle` and stored as JPEG, as a phone without EXIF would."""
    from openfrs.benchmark.orientation import turned

    return turned(image, angle)


@pytest.mark.parametrize("name", ["Abdullah/Abdullah_0002.jpg", "Aaron_Eckhart/Aaron_Eckhart_0001.jpg"])
def test_compare_path_turns_a_turned_portrait_upright(face_service, settings, shared_data, name):
    limits = ImageLimits.from_settings(settings)
    image = decode_image((shared_data / "lfw-partial/images" / name).read_bytes(), limits)
    reference = face_service.largest_face_blocking(image)
    assert reference.extras["face_angle"] == 0
    for angle in (90, 180, 270):
        face = face_service.largest_face_blocking(jpeg_turned(image, angle))
        assert face.extras["face_angle"] == angle, (name, angle)
        cosine = float(np.dot(face.embedding, reference.embedding))
        assert face_service.pipeline.calibration.similarity(cosine) >= 0.93, (name, angle, cosine)


def test_recognition_path_never_turns_upright_photos(face_service, settings, shared_data):
    """Every 4th LFW image and every crowd photo: the recognition path keeps them upright (the
    full set is in `openfrs bench orientation`: 0 of 1,071 turned). The crowd set holds the two
    photos whose largest face the mesh alone would have turned (24.jpg, 25.jpg)."""
    limits = ImageLimits.from_settings(settings)
    files = sorted((shared_data / "lfw-partial/images").glob("*/*.jpg"))[::4] + crowd_images(shared_data)
    turned = []
    for path in files:
        oriented = face_service.pipeline.detect_to_embed(decode_image(path.read_bytes(), limits))
        if oriented.angle:
            turned.append((path.name, oriented.angle))
    assert not turned
    assert len(files) > 280


def test_recognition_orientation_costs_one_pass_on_a_convincing_photo(face_service, settings,
                                                                      shared_data):
    """Upright with a confident upright face: one detection, no mesh; turned: the upright pass,
    the mesh's four crops of the largest face (after one crop, when the detector's key points
    looked upright and the mesh had to be asked), and one detection in the turn it names."""
    from openfrs.vision.orientation import orient_for_recognition

    passes, mesh_calls = [], []

    def counting_detect(image):
        passes.append(image.shape)
        return face_service.pipeline.detect(image)

    def counting_logits(image, face, angles):
        mesh_calls.append(angles)
        return mesh_turn_logits(face_service.pipeline.mesh, image, face, angles)

    limits = ImageLimits.from_settings(settings)
    image = decode_image((shared_data / "crowd/deepface_couple.jpg").read_bytes(), limits)
    assert orient_for_recognition(counting_detect, image, counting_logits).angle == 0
    assert len(passes) == 1 and not mesh_calls
    passes.clear()
    oriented = orient_for_recognition(counting_detect, jpeg_turned(image, 270), counting_logits)
    assert oriented.angle == 270 and len(passes) == 2
    assert mesh_calls in ([(0, 90, 180, 270)], [(0,), (0, 90, 180, 270)])
