"""Head pose from the face mesh: sign conventions on labelled stills, ~0 on frontal LFW
photos, roll that follows image rotation, mirror symmetry, and the pure geometry."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openfrs.media import ImageLimits, decode_image
from openfrs.vision.headpose import (
    CHIN,
    FOREHEAD,
    LEFT_EYE_OUTER,
    NOSE_TIP,
    RIGHT_EYE_OUTER,
    FaceMesh,
    head_pose,
    pose_from_mesh,
)
from openfrs.vision.pack import load_pack
from openfrs.vision.types import Box, Face

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def mesh_model(model_pack_dir: Path) -> FaceMesh:
    return FaceMesh.from_pack(load_pack(model_pack_dir), intra_threads=1)


@pytest.fixture(scope="module")
def decode(settings):
    limits = ImageLimits.from_settings(settings)
    return lambda path: decode_image(Path(path).read_bytes(), limits)


def _central_face(faces: list[Face], image: np.ndarray) -> Face:
    """The detected face nearest the image centre (LFW centres the named person)."""
    assert faces, "no face detected"
    cy, cx = image.shape[0] / 2, image.shape[1] / 2
    return min(faces, key=lambda f: abs((f.box.x1 + f.box.x2) / 2 - cx)
               + abs((f.box.y1 + f.box.y2) / 2 - cy))


def _pose(face_service, mesh_model: FaceMesh, image: np.ndarray) -> tuple[float, float, float]:
    face = _central_face(face_service.pipeline.detect(image), image)
    return mesh_model.head_poses(image, [face])[0]


def _lfw_frontal(shared_data: Path, count: int = 50) -> list[Path]:
    return sorted((shared_data / "lfw-partial/images").glob("*/*_0001.jpg"))[:count]


def _rotate(image: np.ndarray, clockwise_deg: float) -> np.ndarray:
    """The image turned clockwise (as displayed) about its centre, same size."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -clockwise_deg, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)


# Measured (refine=True): left_face yaw -52, right_face yaw +54, lower_face pitch -35,
# rise_face pitch +22, left_wryneck roll -59 (head top to the image's left, i.e. tilted
# counter-clockwise), right_wryneck roll +39 (clockwise). Bounds leave >= 7 degrees margin.
def test_pose_stills_come_back_by_sign(shared_data: Path, decode, face_service, mesh_model):
    pose_dir = shared_data / "liveness-stills/pose"
    poses = {}
    for path in sorted(pose_dir.iterdir()):
        image = decode(path)
        faces = face_service.pipeline.detect(image)
        assert len(faces) == 1, path.name
        mesh_model.landmarks(image, faces)
        assert faces[0].extras["mesh_score"] > 0.5, path.name
        poses[path.stem] = head_pose(faces[0])
    yaw, pitch, roll = 0, 1, 2
    assert poses["left_face"][yaw] < -30  # nose points to the image's left
    assert poses["right_face"][yaw] > 30
    assert poses["lower_face"][pitch] < -20  # looking down
    assert poses["rise_face"][pitch] > 12  # looking up
    assert poses["left_wryneck"][roll] < -40  # counter-clockwise tilt
    assert poses["right_wryneck"][roll] > 25  # clockwise tilt
    # The yaw stills are mostly yaw; the roll stills mostly roll.
    for name in ("left_face", "right_face"):
        assert abs(poses[name][pitch]) < 15 and abs(poses[name][roll]) < 25, name
    for name in ("left_wryneck", "right_wryneck"):
        assert abs(poses[name][roll]) > abs(poses[name][yaw]), name


def test_frontal_lfw_photos_are_near_zero(shared_data: Path, decode, face_service, mesh_model):
    """LFW _0001 photos are mostly frontal (some are turned 20-40 degrees, hence medians).
    Measured on these 50: median |yaw| 7.7, |pitch| 7.4, |roll| 1.2 degrees."""
    poses = np.array([_pose(face_service, mesh_model, decode(p))
                      for p in _lfw_frontal(shared_data)])
    median_abs = np.median(np.abs(poses), axis=0)
    assert median_abs[0] < 10, median_abs
    assert median_abs[1] < 10, median_abs
    assert median_abs[2] < 3, median_abs
    assert np.all(np.abs(poses) <= 180)


def test_roll_follows_image_rotation(shared_data: Path, decode, face_service, mesh_model):
    """Turning the image in its plane changes roll by the same angle and leaves yaw/pitch
    (measured: within ~3 degrees up to +-60)."""
    for path in _lfw_frontal(shared_data, 3):
        image = decode(path)
        yaw0, pitch0, roll0 = _pose(face_service, mesh_model, image)
        for angle in (-50, 30):
            yaw, pitch, roll = _pose(face_service, mesh_model, _rotate(image, angle))
            assert abs(roll - roll0 - angle) < 6, (path.name, angle, roll0, roll)
            assert abs(yaw - yaw0) < 6 and abs(pitch - pitch0) < 6, (path.name, angle)


def test_mirrored_image_flips_yaw_and_roll(shared_data: Path, decode, face_service, mesh_model):
    for path in _lfw_frontal(shared_data, 5)[::2]:
        image = decode(path)
        yaw, pitch, roll = _pose(face_service, mesh_model, image)
        m_yaw, m_pitch, m_roll = _pose(face_service, mesh_model,
                                       np.ascontiguousarray(image[:, ::-1]))
        assert abs(yaw + m_yaw) < 4 and abs(roll + m_roll) < 3 and abs(pitch - m_pitch) < 4, \
            (path.name, (yaw, pitch, roll), (m_yaw, m_pitch, m_roll))


def _synthetic_mesh(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Mesh whose used points form a frontal face rotated by the documented convention."""
    points = np.zeros((468, 3))
    points[RIGHT_EYE_OUTER] = (-1.0, 0.0, 0.0)
    points[LEFT_EYE_OUTER] = (1.0, 0.0, 0.0)
    points[FOREHEAD] = (0.0, -1.2, 0.3)  # forehead slopes back, as on a real face
    points[CHIN] = (0.0, 1.6, 0.1)
    points[NOSE_TIP] = (0.0, 0.6, -0.8)
    y, p, r = np.radians([yaw, pitch, roll])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    ry = np.array([[np.cos(-y), 0, np.sin(-y)], [0, 1, 0], [-np.sin(-y), 0, np.cos(-y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(-p), -np.sin(-p)], [0, np.sin(-p), np.cos(-p)]])
    return points @ (rz @ ry @ rx).T * 50 + (200.0, 150.0, 0.0)


def test_pose_from_mesh_conventions():
    # The template's chin-forehead line leans back (pitch ~+4): rotations add to that.
    offset = pose_from_mesh(_synthetic_mesh(0, 0, 0))[1]
    assert abs(offset) < 6
    for angles in [(30, 0, 0), (0, 25, 0), (0, 0, 40), (-35, -20, 15), (50, 10, -70)]:
        yaw, pitch, roll = pose_from_mesh(_synthetic_mesh(*angles))
        assert np.allclose((yaw, pitch - offset, roll), angles, atol=1e-6), angles
    # The nose points toward the image's right for yaw > 0 and up (smaller y) for pitch > 0.
    frontal_nose = _synthetic_mesh(0, 0, 0)[NOSE_TIP]
    assert _synthetic_mesh(30, 0, 0)[NOSE_TIP][0] > frontal_nose[0]
    assert _synthetic_mesh(0, 25, 0)[NOSE_TIP][1] < frontal_nose[1]
    # Clockwise tilt: the eye on the image's right goes down.
    tilted = _synthetic_mesh(0, 0, 20)
    assert tilted[LEFT_EYE_OUTER][1] > tilted[RIGHT_EYE_OUTER][1]


def test_head_pose_needs_a_mesh():
    face = Face(box=Box(0, 0, 10, 10), score=1.0, landmarks=np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match="mesh468"):
        head_pose(face)
