"""Silent liveness (FRS live-detect-face): is the largest face of one image a live person?

The verdict comes from vision/silent_liveness.py (fr_liveness, its operating point set on real
faces). The FRS
warnings 101-106 come from the face's quality (vision/quality.py) at the MEDIUM quality gate's
limits (service/quality_gate.py), so "blurred" means the same thing everywhere in the API.
A face with warning 101-105 is not passed as alive whatever the model says: blur, darkness, a
large turn or occlusion hide the traces (paper texture, screen edges, recapture blur) it looks
for, so the caller is told to retake rather than given a pass it cannot trust. Warning 106 (several faces)
does not block: the largest face is judged, as FRS documents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.service.attributes import HEAD_POSE, QUALITY
from openfrs.service.face_picture import face_picture
from openfrs.service.faces import FaceService
from openfrs.service.quality_gate import Limits, medium_limits, refusal_reasons
from openfrs.vision.silent_liveness import SilentVerdict
from openfrs.vision.types import Face

WARNINGS = {
    101: "The overall face quality is low.",
    102: "The face is blurred.",
    103: "The face pose is too large.",
    104: "The face is occluded.",
    105: "The face is too dark or badly lit.",
    106: "More than one face: the largest one was checked.",
}
BLOCKING_WARNINGS = frozenset({101, 102, 103, 104, 105})
# The quality gate's refusal reasons as FRS warnings (LOW_CONFIDENCE, a detector matter, has none).
REASON_WARNINGS = {"SMALL_BOUNDING_BOX": 101, "LOW_FACE_QUALITY": 101, "LOW_SHARPNESS": 102,
                   "EXTREME_POSE": 103, "FACE_OCCLUDED": 104, "LOW_BRIGHTNESS": 105}


@dataclass(frozen=True)
class SilentResult:
    alive: bool
    confidence: float
    picture: str
    warnings: list[int]


def quality_warnings(face: Face, limits: Limits | None = None) -> list[int]:
    """FRS warnings 101-105 for a face with extras["quality"]: the quality gate's own checks."""
    reasons = refusal_reasons(face, limits or medium_limits())
    return sorted({REASON_WARNINGS[r] for r in reasons if r in REASON_WARNINGS})


def passes(verdict: SilentVerdict, warnings: list[int]) -> bool:
    """Alive: the model says so and no quality warning hides what it looks for."""
    return verdict.alive and not BLOCKING_WARNINGS & set(warnings)


def check_image(service: FaceService, image: np.ndarray) -> SilentResult:
    """Blocking: detect, judge the largest face, warn. FRS.0707 when there is no face."""
    faces = service.detect_blocking(image, frozenset({QUALITY, HEAD_POSE}))
    if not faces:
        raise service.no_face("FRS.0707")
    face = faces[0]  # largest first
    verdict, warnings = service.pipeline.silent.check(image, face), quality_warnings(face)
    if len(faces) > 1:
        warnings.append(106)
    picture = face_picture(image, face.box)
    return SilentResult(passes(verdict, warnings), verdict.confidence, picture, warnings)
