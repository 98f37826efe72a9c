"""Measured calibration anchors per embedder version (from `openfrs eval calibrate`)."""

from __future__ import annotations

from openfrs.vision.calibration import Calibration

# From `openfrs eval calibrate` (docs/accuracy.md): all 536,986 cross-identity pairs of
# ../shared/data/lfw-partial. Anchors: cosine -1 -> 0; the impostor median -> 0.5; the cosine
# thresholds at FAR 1e-2 / 1e-3 / 1e-4 -> 0.90 / 0.93 / 0.96 (FAR_TARGETS); cosine 1 -> 1.
CALIBRATIONS: dict[str, Calibration] = {
    "dlib_face_recognition_resnet_model_v1": Calibration(
        cosines=(-1.0, 0.8400, 0.9084, 0.9254, 0.9371, 1.0),
        similarities=(0.0, 0.50, 0.90, 0.93, 0.96, 1.0),
    ),
}


def calibration_for(embedder_version: str) -> Calibration:
    if embedder_version not in CALIBRATIONS:
        raise KeyError(f"no similarity calibration for embedder {embedder_version!r}")
    return CALIBRATIONS[embedder_version]
