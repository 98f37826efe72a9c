"""Face detectors: each family turns an RGB image into `Face`s with image-space boxes."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from openfrs.vision.detectors.blazeface import DEFAULT_VARIANT, BlazeFaceDetector
from openfrs.vision.pack import ModelEntry
from openfrs.vision.types import Box, Face


class Detector(Protocol):
    """What the pipeline needs from a detector."""

    def detect(self, image: np.ndarray) -> list[Face]: ...

    def detect_largest(self, image: np.ndarray, min_face: float | None = None) -> list[Face]: ...

    def to_landmark_box(self, box: Box) -> Box: ...


def build_detector(entry: ModelEntry, root: Path, min_face_px: float,
                   intra_threads: int | None = None) -> Detector:
    """Instantiate the detector a pack entry names (family + params from the manifest)."""
    if entry.family != "blazeface":
        raise ValueError(f"unknown detector family {entry.family!r}")
    params = entry.params
    return BlazeFaceDetector(
        entry.path(root),
        spec=params.get("variant", DEFAULT_VARIANT),
        score_threshold=params.get("score_threshold"),
        nms_iou=params.get("nms_iou", 0.3),
        min_face=min_face_px,
        intra_threads=intra_threads,
    )


__all__ = ["BlazeFaceDetector", "Detector", "build_detector"]
