"""Vision results -> FRS response shapes (plus clearly named OpenFRS extension fields)."""

from __future__ import annotations

import dataclasses
import math

from openfrs.service.attributes import (
    AGE,
    BEARD,
    DRESS,
    ETHNIC,
    EXPRESSION,
    FACE_ANGLE,
    GENDER,
    HAIR,
    HEAD_POSE,
    LANDMARKS,
    MASK,
    PHOTO_TYPE,
    QUALITY,
    SKIN,
    SMILE,
)
from openfrs.vision.types import LANDMARK_NAMES, Face


def bounding_box_of(x: float, y: float, width: float, height: float) -> dict[str, int]:
    return {"top_left_x": int(round(x)), "top_left_y": int(round(y)),
            "width": int(round(width)), "height": int(round(height))}


def bounding_box(face: Face) -> dict[str, int]:
    box = face.box
    return bounding_box_of(box.x1, box.y1, box.width, box.height)


def key_points(face: Face) -> list[dict[str, object]]:
    """OpenFRS extension: the five landmarks; a point no model computed is left out."""
    points = []
    for name, (x, y) in zip(LANDMARK_NAMES, face.landmarks.tolist(), strict=True):
        if math.isfinite(x) and math.isfinite(y):
            points.append({"type": name, "x": round(x, 1), "y": round(y, 1)})
    return points


def detect_face(face: Face, codes: frozenset[int] = frozenset()) -> dict[str, object]:
    out: dict[str, object] = {
        "bounding_box": bounding_box(face),
        "detection_score": round(float(face.score), 4),
        "key_points": key_points(face),
    }
    if codes:
        out["attributes"] = attributes(face, codes)
    if LANDMARKS in codes and "shape68" in face.extras:
        out["landmark"] = contours(face.extras["shape68"])
    return out


UNKNOWN = "unknown"
# Codes whose value no shipped model measures yet: the FRS field(s) each asks for, reported
# as "unknown" (docs/attributes.md).
_UNMEASURED: dict[int, tuple[str, ...]] = {
    SMILE: ("smile",), MASK: ("mask",), HAIR: ("hair",), BEARD: ("beard",),
    SKIN: ("skin",), ETHNIC: ("ethnic",), PHOTO_TYPE: ("phototype",),
}
# The 68-point layout (iBUG 300-W) as FRS's historical `landmark` contours.
_CONTOURS = {"face_contour": range(0, 17), "eyebrow_contour": range(17, 27),
             "nose_contour": range(27, 36), "eyes_contour": range(36, 48),
             "mouth_contour": range(48, 68)}


def attributes(face: Face, codes: frozenset[int]) -> dict[str, object]:
    """FRS `attributes` for the asked-for codes: measured values, else unknown / null."""
    out: dict[str, object] = {}
    for code, names in _UNMEASURED.items():
        if code in codes:
            out.update(dict.fromkeys(names, UNKNOWN))
    estimate = face.extras.get("age_gender")
    if AGE in codes:
        out["age"] = None if estimate is None else int(round(estimate.age))
    if GENDER in codes:
        answered = estimate is not None and estimate.gender_is_answered
        out["gender"] = estimate.gender if answered else UNKNOWN
        # `unknown` for a face estimated under 13 or below the probability cut (vision/agegender.py,
        # measured in docs/accuracy.md); OpenFRS extension: the probability of the answer (0.5-1).
        out["gender_probability"] = round(estimate.gender_probability, 4) if answered else None
    if DRESS in codes:
        out.update(dress={"glass": UNKNOWN, "hat": UNKNOWN}, glass=UNKNOWN, hat=UNKNOWN)
    if EXPRESSION in codes:
        out["expression"] = {"type": UNKNOWN, "probability": None}
    if QUALITY in codes:
        quality = face.extras.get("quality")
        out["quality"] = None if quality is None else dataclasses.asdict(quality)
    if HEAD_POSE in codes and "head_pose" in face.extras:
        yaw, pitch, roll = (round(float(a), 2) for a in face.extras["head_pose"])
        angles = {"yaw_angle": yaw, "pitch_angle": pitch, "roll_angle": roll}
        out.update(headpose=angles, **angles)
    if FACE_ANGLE in codes:
        out["face_angle"] = int(face.extras.get("face_angle", 0))
    return out


def contours(shape68) -> dict[str, list[dict[str, float]]]:
    return {name: [{"x": round(float(shape68[i][0]), 1), "y": round(float(shape68[i][1]), 1)}
                   for i in points] for name, points in _CONTOURS.items()}


def compare_face(face: Face) -> dict[str, object]:
    return {"bounding_box": bounding_box(face)}
