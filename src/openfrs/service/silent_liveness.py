"""Silent liveness (FRS live-detect-face): is the largest face of one image a live person?

The verdict comes from vision/silent_liveness.py (cues calibrated on real faces). The FRS
warnings 101-106 come from the face's quality (vision/quality.py) at the MEDIUM quality gate's
limits (service/quality_gate.py), so "blurred" means the same thing everywhere in the API.
A face with warning 101-105 is not passed as alive whatever the cues say: blur, darkness, a
large turn or occlusion hide exactly the traces (moire, frame edges) the check looks for, so the
caller is told to retake rather than given a pass it cannot trust. Warning 106 (several faces)
does not block: the largest face is judged, as FRS documents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.errors import FRSError
from openfrs.service.attributes import HEAD_POSE, QUALITY
from openfrs.service.face_picture import face_picture
from openfrs.service.faces import FaceService
from openfrs.service.quality_gate import Limits, medium_limits
from openfrs.vision.quality import Quality
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


@dataclass(frozen=True)
class SilentResult:
    alive: bool
    confidence: float
    picture: str
    warnings: list[int]
    verdict: SilentVerdict


def quality_warnings(face: Face, limits: Limits | None = None) -> list[int]:
    """FRS warnings 101-105 for a face with extras["quality"]."""
    limits = limits or medium_limits()
    quality: Quality = face.extras["quality"]
    small = min(face.box.width, face.box.height) < limits.min_side_px
    checks = [
        (quality.total_score < limits.min_total or small, 101),
        (quality.blur > limits.max_blur, 102),
        (quality.pose > limits.max_pose, 103),
        (quality.occlusion > limits.max_occlusion, 104),
        (quality.illumination > limits.max_illumination, 105),
    ]
    return [code for failed, code in checks if failed]


def judge_face(service: FaceService, image: np.ndarray, face: Face) -> tuple[SilentVerdict, list[int]]:
    """The cue verdict and the quality warnings of one measured face (extras["quality"])."""
    return service.pipeline.silent.check(image, face), quality_warnings(face)


def check_image(service: FaceService, image: np.ndarray) -> SilentResult:
    """Blocking: detect, judge the largest face, warn. FRS.0707 when there is no face."""
    faces = service.detect_blocking(image, frozenset({QUALITY, HEAD_POSE}))
    if not faces:
        raise FRSError("FRS.0707")
    face = faces[0]  # largest first
    verdict, warnings = judge_face(service, image, face)
    if len(faces) > 1:
        warnings.append(106)
    alive = verdict.alive and not BLOCKING_WARNINGS & set(warnings)
    return SilentResult(alive, verdict.confidence, face_picture(image, face.box), warnings, verdict)
