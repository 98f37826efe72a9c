"""CTyun compare's `confidence` (0-100, 3 decimals) and `face_compare` decision.

The manual states neither the scale's meaning nor the threshold (ctyun.md §4), so the mapping is
the plainest one that keeps our calibration (vision/calibration.py, service/scores.py):
confidence = 100 x our calibrated similarity. It inherits the published operating points:
93 = FAR 1e-3 (FRS's "same person" 0.93), 96 = 1e-4, 98 = 1e-6, 99 = 1e-9 for the worst group
measured (docs/accuracy.md); 50 is the impostor median. `face_compare` is "true" at FAR 1e-3 and
above, the threshold FRS clients use; a client wanting another FAR compares `confidence` itself.
"""

from __future__ import annotations

from openfrs.vision.calibration import FAR_TARGETS

SAME_PERSON_FAR = 1e-3
SAME_PERSON_SIMILARITY = FAR_TARGETS[SAME_PERSON_FAR]


def confidence(similarity: float) -> float:
    """Our calibrated 0-1 similarity on CTyun's 0-100 scale, 3 decimals."""
    return round(100.0 * min(1.0, max(0.0, float(similarity))), 3)


def same_person(similarity: float) -> bool:
    return similarity >= SAME_PERSON_SIMILARITY
