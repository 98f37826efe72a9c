"""Face quality, FRS style: `blur`, `pose`, `occlusion`, `illumination` in 0..1 (higher = worse)
and `total_score` (higher = better) — measured from the face itself, no learned quality model.

* blur: Laplacian energy of the inner face (landmark hull box, resampled to 96x96 grey),
  divided by its contrast so lighting does not read as sharpness; a log scale maps
  SHARP_GOOD (crisp LFW photo) to 0 and SHARP_BAD (a strong blur) to 1. LFW photos: median
  0.048; blurred with sigma 2.5 px: median 0.006.
* illumination: the worst of too dark (mean grey below DARK), too bright (above BRIGHT) and
  too flat (grey std below FLAT) over the same region.
* pose: head yaw and pitch from the face mesh (vision/headpose.py); roll is harmless (chips
  are aligned) and not counted. 60 degrees of yaw (or 50 of pitch) is 1.
* occlusion: the share of the face mesh outside the image (a face cut by the border) and how
  little the mesh model believes its crop is a face (mesh score); a hand or a mask over the
  face is only seen through the latter.
* total_score: the product of (1 - each).

Constants were set on 60 LFW photos and copies degraded on purpose (blur, darken, crop;
tests/vision/test_quality.py checks the ordering on other photos).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from openfrs.vision.types import Face

SHARP_GOOD, SHARP_BAD = 0.06, 0.003
DARK, BRIGHT, FLAT = 0.35, 0.8, 0.06
YAW_LIMIT, PITCH_LIMIT = 60.0, 50.0
PATCH = 96


@dataclass(frozen=True)
class Quality:
    total_score: float
    blur: float
    pose: float
    occlusion: float
    illumination: float


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def face_patch(image: np.ndarray, face: Face) -> np.ndarray | None:
    """The inner face (box of the 68 landmarks without the jaw line) as 0..1 grey, PATCH px."""
    points = face.extras["shape68"][17:]
    height, width = image.shape[:2]
    x1, y1 = np.floor(points.min(axis=0)).astype(int)
    x2, y2 = np.ceil(points.max(axis=0)).astype(int)
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if x2 - x1 < 4 or y2 - y1 < 4:
        return None
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    return cv2.resize(grey, (PATCH, PATCH), interpolation=cv2.INTER_AREA)


def blur_score(patch: np.ndarray) -> float:
    sharpness = float(cv2.Laplacian(patch, cv2.CV_32F).var() / (patch.var() + 1e-4))
    return _clip(1.0 - math.log(max(sharpness, 1e-9) / SHARP_BAD) / math.log(SHARP_GOOD / SHARP_BAD))


def illumination_score(patch: np.ndarray) -> float:
    mean, spread = float(patch.mean()), float(patch.std())
    dark = (DARK - mean) / (DARK - 0.05)
    bright = (mean - BRIGHT) / (1.0 - BRIGHT)
    flat = (FLAT - spread) / (FLAT - 0.01)
    return _clip(max(dark, bright, flat))


def pose_score(yaw: float, pitch: float) -> float:
    return _clip(math.hypot(yaw / YAW_LIMIT, pitch / PITCH_LIMIT))


def occlusion_score(face: Face, image_shape: tuple[int, ...]) -> float:
    mesh = face.extras["mesh468"]
    height, width = image_shape[0], image_shape[1]
    outside = float(np.mean((mesh[:, 0] < 0) | (mesh[:, 0] >= width)
                            | (mesh[:, 1] < 0) | (mesh[:, 1] >= height)))
    disbelief = (0.9 - face.extras.get("mesh_score", 1.0)) / 0.9
    return _clip(max(2.5 * outside, disbelief))


def face_quality(image: np.ndarray, face: Face) -> Quality:
    """Needs `extras` "shape68", "mesh468" / "mesh_score" and "head_pose" on `face`."""
    patch = face_patch(image, face)
    blur = 1.0 if patch is None else blur_score(patch)
    illumination = 1.0 if patch is None else illumination_score(patch)
    yaw, pitch, _ = face.extras["head_pose"]
    pose = pose_score(yaw, pitch)
    occlusion = occlusion_score(face, image.shape)
    total = (1 - blur) * (1 - pose) * (1 - occlusion) * (1 - illumination)
    return Quality(round(total, 4), round(blur, 4), round(pose, 4), round(occlusion, 4),
                   round(illumination, 4))
