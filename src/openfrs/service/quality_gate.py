"""`quality_filter` on add-face and search (OpenFRS extension, after AWS IndexFaces'
QualityFilter): refuse faces too poor to recognise, and say why.

Levels: NONE (the default: FRS clients never send it and see FRS behaviour), LOW (only the
hopeless), MEDIUM (= AUTO), HIGH (enrolment-grade photos). The limits sit on the 0..1 quality
scores of vision/quality.py (higher = worse) plus face size and detector confidence; MEDIUM
keeps every photo of lfw-partial's `*_0001.jpg` set (tests/service/test_quality_gate.py).
Reasons use AWS's names where one exists: SMALL_BOUNDING_BOX, LOW_CONFIDENCE, LOW_SHARPNESS,
EXTREME_POSE, LOW_BRIGHTNESS (too dark, too bright or flat light), LOW_FACE_QUALITY; and
FACE_OCCLUDED (cut by the border, or not face-like) which AWS reports as an attribute.
"""

from __future__ import annotations

from dataclasses import dataclass

from openfrs.errors import FRSError
from openfrs.vision.quality import Quality
from openfrs.vision.types import Face

LEVELS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class Limits:
    min_side_px: float
    min_detection_score: float
    max_blur: float
    max_pose: float
    max_occlusion: float
    max_illumination: float
    min_total: float


_LIMITS = {
    "LOW": Limits(40, 0.5, 0.9, 0.95, 0.8, 0.95, 0.02),
    "MEDIUM": Limits(60, 0.6, 0.7, 0.75, 0.5, 0.75, 0.1),
    "HIGH": Limits(90, 0.75, 0.45, 0.5, 0.25, 0.5, 0.3),
}
_LIMITS["AUTO"] = _LIMITS["MEDIUM"]


def medium_limits() -> Limits:
    """The MEDIUM gate: what the liveness warnings 101-105 call too poor."""
    return _LIMITS["MEDIUM"]


def is_clear(quality: Quality) -> bool:
    """Sharp enough for the HIGH (enrolment) gate: the legacy blur-classify `isClarity`. The
    MEDIUM limit only refuses the hopeless, too lenient for a yes/no "is this photo sharp"."""
    return quality.blur <= _LIMITS["HIGH"].max_blur


def parse_quality_filter(value: object) -> Limits | None:
    """None for NONE / absent: no quality is computed, nothing is refused."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.upper() not in LEVELS:
        raise FRSError("FRS.0012", "quality_filter must be one of " + ", ".join(LEVELS))
    return _LIMITS.get(value.upper())


def refusal_reasons(face: Face, limits: Limits) -> list[str]:
    """Why this face falls short of `limits` (empty: it passes). Needs extras["quality"]."""
    quality: Quality = face.extras["quality"]
    checks = [
        (min(face.box.width, face.box.height) < limits.min_side_px, "SMALL_BOUNDING_BOX"),
        (face.score < limits.min_detection_score, "LOW_CONFIDENCE"),
        (quality.blur > limits.max_blur, "LOW_SHARPNESS"),
        (quality.pose > limits.max_pose, "EXTREME_POSE"),
        (quality.illumination > limits.max_illumination, "LOW_BRIGHTNESS"),
        (quality.occlusion > limits.max_occlusion, "FACE_OCCLUDED"),
        (quality.total_score < limits.min_total, "LOW_FACE_QUALITY"),
    ]
    return [reason for failed, reason in checks if failed]
