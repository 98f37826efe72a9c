"""Vision results -> FRS response shapes (plus clearly named OpenFRS extension fields)."""

from __future__ import annotations

import math

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


def detect_face(face: Face) -> dict[str, object]:
    return {
        "bounding_box": bounding_box(face),
        "detection_score": round(float(face.score), 4),
        "key_points": key_points(face),
    }


def compare_face(face: Face) -> dict[str, object]:
    return {"bounding_box": bounding_box(face)}
