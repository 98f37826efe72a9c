"""Vision results -> FRS response shapes (plus clearly named OpenFRS extension fields)."""

from __future__ import annotations

import math

from openfrs.vision.types import LANDMARK_NAMES, Face


def bounding_box(face: Face) -> dict[str, int]:
    box = face.box
    return {
        "top_left_x": int(round(box.x1)),
        "top_left_y": int(round(box.y1)),
        "width": int(round(box.width)),
        "height": int(round(box.height)),
    }


def key_points(face: Face) -> list[dict[str, object]]:
    """OpenFRS extension: the five landmarks; a point no model computed is left out."""
    points = []
    for name, (x, y) in zip(LANDMARK_NAMES, face.landmarks.tolist(), strict=True):
        if math.isfinite(x) and math.isfinite(y):
            points.append({"type": name, "x": round(x, 1), "y": round(y, 1)})
    return points


def detect_face(face: Face) -> dict[str, object]:
    return {
        "bounding_box": bounding_box(face),
        "detection_score": round(float(face.score), 4),
        "key_points": key_points(face),
    }


def compare_face(face: Face) -> dict[str, object]:
    return {"bounding_box": bounding_box(face)}
