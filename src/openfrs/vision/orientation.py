"""Faces in images turned by 90, 180 or 270 degrees (a phone photo without its EXIF tag).

The detector is trained on upright faces: on a turned image it finds fewer faces with lower
scores, or none. Trying all four orientations on every image would cost 4x, so the other three
are tried only when the upright pass is not convincing: no face scoring >= CONFIDENT, or the
best face's detector key points (eyes above the mouth) pointing sideways. The orientation whose
best face scores highest wins; while the upright best face looks upright, a turn must beat it
by MARGIN, so an upright photo with only weak faces keeps its answer. Thresholds measured with tests/vision/
test_orientation.py.

Measured on the crowd, dlib and every other LFW photo in all four turns (tools-free: the
numbers are in docs/attributes.md): the turn is right for every crowd image with a face, ~98.5%
of LFW and ~98% of dlib cases, while 19% (crowd), 17% (dlib) and 38% (LFW portraits) of upright
photos pay the three extra passes. Because a wrong turn would embed a face sideways (LFW
verification fell from 0.987 to 0.976 when compare used it), the recognition paths (compare,
search, add) turn only when upright finds no face at all (`only_when_none`); face-detect, which
reports `face_angle`, uses the full search.

`face_angle` follows FRS: how far the face is turned clockwise in the image as given
(0, 90, 180, 270); turning the image counterclockwise by it makes the face upright.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from openfrs.vision.types import Box, Face

CONFIDENT = 0.9  # an upright face this sure ends the search (~63-83% of upright photos)
MARGIN = 0.03  # a turned orientation must beat an upright-looking best face by this much
SIDEWAYS_DEGREES = 30.0  # eyes-to-mouth direction further than this from "down" is suspicious
ANGLES = (0, 90, 180, 270)


@dataclass(frozen=True)
class Oriented:
    """Detection in the orientation that makes the faces upright: `image` is the input turned
    counterclockwise by `angle`, and `faces` are in that image's coordinates."""

    angle: int
    image: np.ndarray
    faces: list[Face]


def upright(image: np.ndarray, angle: int) -> np.ndarray:
    """The image turned counterclockwise by `angle` (np.rot90 turns counterclockwise)."""
    return np.ascontiguousarray(np.rot90(image, angle // 90)) if angle else image


def tilt_degrees(face: Face) -> float | None:
    """Angle of the eyes-to-mouth direction from image-down, from the detector's key points
    (None when the detector gave none)."""
    points = face.extras.get("keypoints")
    if not points or "mouth_center" not in points:
        return None
    eyes = (np.asarray(points["left_eye"]) + np.asarray(points["right_eye"])) / 2
    dx, dy = np.asarray(points["mouth_center"]) - eyes
    return math.degrees(math.atan2(-dx, dy))


def _best_score(faces: list[Face]) -> float:
    return max((face.score for face in faces), default=0.0)


def _looks_upright(faces: list[Face]) -> bool:
    """The best face's key points put the mouth below the eyes (or there are none to ask)."""
    tilt = tilt_degrees(max(faces, key=lambda face: face.score)) if faces else None
    return tilt is None or abs(tilt) <= SIDEWAYS_DEGREES


def detect_oriented(detect: Callable[[np.ndarray], list[Face]], image: np.ndarray,
                    only_when_none: bool = False) -> Oriented:
    """Run `detect` upright and, only when that is not convincing, in the three other turns.
    `only_when_none`: turn only when upright finds no face at all (the recognition paths: a
    face in a wrongly chosen turn would be embedded upside down, so they keep any upright face).
    """
    faces = detect(image)
    upright_looking = _looks_upright(faces)
    if faces and (only_when_none or (_best_score(faces) >= CONFIDENT and upright_looking)):
        return Oriented(0, image, faces)
    best = Oriented(0, image, faces)
    best_score = _best_score(faces) + (MARGIN if upright_looking else 0.0)
    for angle in ANGLES[1:]:
        turned = upright(image, angle)
        found = detect(turned)
        if _best_score(found) > best_score:
            best, best_score = Oriented(angle, turned, found), _best_score(found)
    return best


def point_to_original(points: np.ndarray, angle: int, shape: tuple[int, ...]) -> np.ndarray:
    """(N, 2) x, y in the upright image -> the same points in the original image of `shape`
    (H, W, ...). Continuous coordinates: pixel edges map to pixel edges."""
    points = np.asarray(points, np.float32).reshape(-1, 2)
    height, width = shape[0], shape[1]
    x, y = points[:, 0], points[:, 1]
    if angle == 0:
        return points.copy()
    if angle == 90:  # upright = original turned counterclockwise: (x', y') = (y, W - x)
        return np.stack([width - y, x], axis=1)
    if angle == 180:
        return np.stack([width - x, height - y], axis=1)
    if angle == 270:  # upright = original turned clockwise: (x', y') = (H - y, x)
        return np.stack([y, height - x], axis=1)
    raise ValueError(f"angle must be one of {ANGLES}, got {angle}")


def box_to_original(box: Box, angle: int, shape: tuple[int, ...]) -> Box:
    corners = point_to_original(np.array([[box.x1, box.y1], [box.x2, box.y2]]), angle, shape)
    (x1, y1), (x2, y2) = corners.min(axis=0), corners.max(axis=0)
    return Box(float(x1), float(y1), float(x2), float(y2))


def face_to_original(face: Face, angle: int, shape: tuple[int, ...]) -> Face:
    """A copy of `face` with its geometry in the original image and `extras["face_angle"]`;
    the embedding (computed on the upright image) is kept as is."""
    extras = dict(face.extras, face_angle=angle)
    if not angle:
        return replace(face, extras=extras)
    for key in ("shape68", "shape5"):
        if key in extras:
            extras[key] = point_to_original(extras[key], angle, shape)
    if "mesh468" in extras:  # x, y turn with the image; depth does not
        mesh = extras["mesh468"]
        extras["mesh468"] = np.column_stack([point_to_original(mesh[:, :2], angle, shape), mesh[:, 2]])
    if "head_pose" in extras:  # roll is measured in the image: it turns with it
        yaw, pitch, roll = extras["head_pose"]
        extras["head_pose"] = (yaw, pitch, (roll + angle + 180.0) % 360.0 - 180.0)
    if "keypoints" in extras:
        extras["keypoints"] = {name: tuple(point_to_original(np.array(xy), angle, shape)[0].tolist())
                               for name, xy in extras["keypoints"].items()}
    if "detector_box" in extras:
        extras["detector_box"] = box_to_original(extras["detector_box"], angle, shape)
    return replace(face, box=box_to_original(face.box, angle, shape),
                   landmarks=point_to_original(face.landmarks, angle, shape), extras=extras)
