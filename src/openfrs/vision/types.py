"""Value types shared by every vision model, so detectors and embedders stay swappable."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Order of the five landmarks everywhere in OpenFRS (image coordinates, x then y):
# eye on the image's left, eye on the image's right, nose tip, mouth corner left, mouth corner right.
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in pixel coordinates of the decoded (EXIF-rotated) image."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    def clipped(self, width: int, height: int) -> Box:
        return Box(
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
            min(max(self.x2, 0.0), width),
            min(max(self.y2, 0.0), height),
        )


@dataclass
class Face:
    """One detected face: box, detector confidence, five landmarks (5x2 float32).

    `box` is clipped to the image; a point no model computed yet is NaN in `landmarks`.
    `extras` holds per-model data, e.g. "detector_box" (the detector's unclipped box),
    "keypoints", "shape68" and "shape5" (filled by the pipeline stages that need them).
    """

    box: Box
    score: float
    landmarks: np.ndarray
    # Set by later stages; absent until computed (never invented).
    embedding: np.ndarray | None = None
    extras: dict = field(default_factory=dict)
