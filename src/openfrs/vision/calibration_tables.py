"""Measured calibration anchors per recogniser version (from `openfrs eval calibrate`)."""

from __future__ import annotations

from openfrs.vision.calibration import Calibration

# From `openfrs eval calibrate` (docs/accuracy.md). Anchors: cosine -1 -> 0; the LFW impostor
# median -> 0.5; for each FAR target (calibration.FAR_TARGETS) the cosine the worst measured group
# needs to stay at or below it -> 0.90 / 0.93 / 0.96 / 0.98 / 0.99; cosine 1 -> 1. Groups: LFW,
# asian-faces and (for 1e-2, 1e-3) the UTKFace race groups; 1e-4 and below from the labelled
# sets' impostor tail models where they hold too few pairs.
CALIBRATIONS: dict[str, Calibration] = {
    "faceplugin/fr_feature-0.0.1": Calibration(
        cosines=(-1.0000, 0.0076, 0.4224, 0.4812, 0.5142, 0.5350, 0.6172, 1.0000),
        similarities=(0.00, 0.50, 0.90, 0.93, 0.96, 0.98, 0.99, 1.00),
    ),
    # The recogniser before it, for face sets enrolled with it. Until 2026-12 its anchors came
    # from LFW alone (0.93 at cosine 0.9254), where East-Asian impostors matched at 0.33.
    "dlib_face_recognition_resnet_model_v1": Calibration(
        cosines=(-1.0000, 0.8400, 0.9545, 0.9642, 0.9720, 0.9855, 0.9999, 1.0000),
        similarities=(0.00, 0.50, 0.90, 0.93, 0.96, 0.98, 0.99, 1.00),
    ),
}


def calibration_for(embedder_version: str) -> Calibration:
    if embedder_version not in CALIBRATIONS:
        raise KeyError(f"no similarity calibration for embedder {embedder_version!r}")
    return CALIBRATIONS[embedder_version]
