"""Camera-sized photos: the largest-face path (compare, search, single-face add) skips the fine
tiles yet keeps full detection's largest face, falls back to the full tiling for a small face in
a big photo, and face-detect still finds every face. Timing is `openfrs bench camera`'s job."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openfrs.benchmark.camera import jpeg, scenes
from openfrs.media import ImageLimits, decode_image
from openfrs.media.picture import EncodedPicture
from openfrs.vision.detectors.tiling import iou_matrix, plan_views, render_views
from openfrs.vision.orientation import scale_face
from openfrs.vision.types import Box, Face

pytestmark = pytest.mark.models


def iou(a: Box, b: Box) -> float:
    return float(iou_matrix(np.array([[a.x1, a.y1, a.x2, a.y2]]), np.array([[b.x1, b.y1, b.x2, b.y2]]))[0, 0])


@pytest.fixture(scope="module")
def camera_photos(shared_data, settings) -> dict[str, np.ndarray]:
    """The bench's scenes at 4000x3000, through JPEG q90 and the service's decoder."""
    limits = ImageLimits.from_settings(settings)
    made = scenes(shared_data, 4000, 3000)
    return {name: decode_image(jpeg(image), limits) for name, image in made.items()}


@pytest.mark.parametrize("name", ["portrait", "couple", "small face"])
def test_largest_only_keeps_the_largest_face(face_service, camera_photos, name):
    pipeline = face_service.pipeline
    image = camera_photos[name]
    full = pipeline.detect(image)
    largest = pipeline.detect(image, largest_only=True)
    assert full and largest
    assert iou(full[0].box, largest[0].box) > 0.9
    if name == "couple":
        assert len(full) >= 2
    if name == "small face":  # found only by the fine tiles: the fallback ran
        assert 40 <= largest[0].box.width <= 80


def test_compare_path_finds_the_small_face_in_a_big_photo(face_service, camera_photos):
    face = face_service.largest_face_blocking(camera_photos["small face"])
    assert 40 <= face.box.width <= 80
    assert face.box.x1 > 0.6 * 4000 and face.box.y1 > 0.5 * 3000


def test_largest_only_skips_the_fine_tiles_on_a_big_face(face_service, camera_photos, monkeypatch):
    """Not a timing: the views the detector runs (the full tiling of 12 MP is ~250)."""
    detector = face_service.pipeline.detector
    views: list[int] = []
    infer = detector._infer
    monkeypatch.setattr(detector, "_infer", lambda batch: views.append(len(batch)) or infer(batch))
    face_service.largest_face_blocking(camera_photos["portrait"])
    assert sum(views) <= 10
    views.clear()
    face_service.pipeline.detect(camera_photos["portrait"])
    assert sum(views) > 200


def test_face_detect_finds_every_face_of_a_crowd_photo_at_camera_size(face_service, settings, shared_data):
    """Every face found in the photo as given is found, in the same place, in the photo upscaled
    into 4000x3000 (face-detect's path, full tiling)."""
    limits = ImageLimits.from_settings(settings)
    for name in ("insightface_t1.jpg", "deepface_selfie-many-people.jpg"):
        photo = decode_image((shared_data / "crowd" / name).read_bytes(), limits)
        scale = min(4000 / photo.shape[1], 3000 / photo.shape[0])
        size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
        canvas = np.full((3000, 4000, 3), 128, np.uint8)
        canvas[:size[1], :size[0]] = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC)
        big = decode_image(jpeg(canvas), limits)
        reference = face_service.detect_blocking(photo)
        found = face_service.detect_blocking(big)
        assert len(reference) >= 4, name
        expected = np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in reference]) * scale
        boxes = np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in found])
        matched = iou_matrix(expected, boxes).max(axis=1) >= 0.5
        assert matched.all(), (name, int((~matched).sum()), len(reference))


def test_views_of_big_photos_from_halvings_stay_close_to_direct_resizing(camera_photos):
    """Levels of a 12 MP photo shrunk from exact halvings (the fast path) stay within a few
    grey levels of one INTER_AREA resize of the whole image; odd sides too."""
    image = np.ascontiguousarray(camera_photos["couple"][:2999, :3999])
    views = plan_views(3999, 2999, 40, 20, 192)
    fast = render_views(image, views[:2], 192).astype(np.int16)
    f = 192 / views[1].side
    direct = cv2.resize(image, (round(3999 * f), round(2999 * f)), interpolation=cv2.INTER_AREA)
    whole = fast[1, :direct.shape[0], :direct.shape[1]]
    assert np.abs(whole - direct).mean() < 2.0


def test_views_of_small_photos_are_resized_as_before(shared_data):
    """Up to ~2.5 MP every level is one INTER_AREA resize of the image, as it always was."""
    image = cv2.imread(str(shared_data / "crowd/insightface_t1.jpg"))
    height, width = image.shape[:2]
    views = plan_views(width, height, 40, 20, 192)
    fast = render_views(image, views[:2], 192)
    f = 192 / views[1].side
    direct = cv2.resize(image, (round(width * f), round(height * f)), interpolation=cv2.INTER_AREA)
    assert np.array_equal(fast[1, :direct.shape[0], :direct.shape[1]], direct)


# -- reduced decode first (media/picture.py): what the API hands the largest-face paths ------------

@pytest.fixture(scope="module")
def camera_jpegs(shared_data) -> dict[str, bytes]:
    return {name: jpeg(image) for name, image in scenes(shared_data, 4000, 3000).items()}


@pytest.fixture
def full_decodes(monkeypatch) -> list[str]:
    """Records every full decode a picture makes."""
    from openfrs.media import picture as picture_module

    decoded: list[str] = []
    full_decode = picture_module.decode_image
    monkeypatch.setattr(picture_module, "decode_image",
                        lambda *a: decoded.append("full") or full_decode(*a))
    return decoded


def test_a_big_face_is_embedded_from_the_reduced_decode_in_full_coordinates(
        face_service, camera_jpegs, camera_photos, settings, full_decodes):
    encoded = EncodedPicture(camera_jpegs["portrait"], ImageLimits.from_settings(settings))
    reduced = face_service.largest_face_blocking(encoded)
    assert full_decodes == []  # every pixel was never decoded
    full = face_service.largest_face_blocking(camera_photos["portrait"])
    assert iou(reduced.box, full.box) > 0.9  # in the 4000x3000 photo's coordinates
    assert np.abs(reduced.landmarks - full.landmarks).max() < 0.05 * reduced.box.width
    assert float(reduced.embedding @ full.embedding) > 0.97
    calibration = face_service.pipeline.calibration
    assert calibration.similarity(float(reduced.embedding @ full.embedding)) >= 0.99


def test_a_small_face_falls_back_to_the_full_decode(face_service, camera_jpegs, settings, full_decodes):
    encoded = EncodedPicture(camera_jpegs["small face"], ImageLimits.from_settings(settings))
    face = face_service.largest_face_blocking(encoded)
    assert full_decodes == ["full"]
    assert 40 <= face.box.width <= 80 and face.box.x1 > 0.6 * 4000


def test_scale_face_maps_pixel_centres():
    face = Face(Box(10, 20, 30, 40), 0.9, np.array([[15.0, 25.0]] * 5, np.float32),
                extras={"shape68": np.zeros((68, 2), np.float32), "detector_box": Box(9, 19, 31, 41)})
    scaled = scale_face(face, 4.0)
    assert scaled.box == Box(40, 80, 120, 160) and scaled.extras["detector_box"] == Box(36, 76, 124, 164)
    np.testing.assert_allclose(scaled.landmarks[0], [61.5, 101.5])  # (15 + 0.5) * 4 - 0.5
    np.testing.assert_allclose(scaled.extras["shape68"][0], [1.5, 1.5])
    assert scale_face(face, 1.0) is face
