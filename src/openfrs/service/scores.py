"""Scores on other clouds' scales, tied to the same measured false-accept rates as ours.

Our calibrated similarity (0-1, vision/calibration.py) maps each published operating point to
a fixed value: FAR 1e-2 -> 0.90, 1e-3 -> 0.93, 1e-4 -> 0.96, 1e-6 -> 0.98, 1e-9 -> 0.99, each
holding for the worst group measured (docs/accuracy.md); 0.5 is the impostor median (FAR 0.5).

Tencent IAI scores (0-100) follow one per-pair curve, Score = 10 - 10 log10(FAR): its FAQ puts
compare at 40 / 50 / 60 for FAR 1e-3 / 1e-4 / 1e-5 (model 3.0), and its search thresholds by
gallery size (10 k faces: 70 / 80 / 90 at 1 % / 0.1 % / 0.01 % of searches, i.e. a pair FAR of
1e-6 / 1e-7 / 1e-8) fit the same line. So a Tencent score is our similarity carried through the
FAR of each anchor: similarity 0.93 (FAR 1e-3) -> 40, 0.96 (1e-4) -> 50, 0.98 (1e-6) -> 70,
0.99 (1e-9) -> 100; linear between anchors, 0 -> 0 and 1 -> 100. A client's Tencent threshold
then keeps Tencent's meaning here: Score >= 40 accepts a stranger about once in a thousand pairs.
"""

from __future__ import annotations

import math

import numpy as np

from openfrs.vision.calibration import FAR_TARGETS

IMPOSTOR_MEDIAN = (0.5, 0.5)  # (similarity, FAR): the calibration's middle anchor
TENCENT_MAX = 100.0


def tencent_score_of_far(far: float) -> float:
    """Tencent's per-pair curve, capped to its 0-100 range."""
    return float(min(TENCENT_MAX, max(0.0, 10.0 - 10.0 * math.log10(far))))


def _tencent_anchors() -> tuple[tuple[float, ...], tuple[float, ...]]:
    points = sorted([IMPOSTOR_MEDIAN, *((sim, far) for far, sim in FAR_TARGETS.items())])
    similarities = (0.0, *(sim for sim, _ in points), 1.0)
    scores = (0.0, *(tencent_score_of_far(far) for _, far in points), TENCENT_MAX)
    return similarities, scores


TENCENT_ANCHORS = _tencent_anchors()


def tencent_score(similarity: float) -> float:
    """Our calibrated 0-1 similarity on Tencent's 0-100 scale (same FAR at every anchor), 2 decimals."""
    similarities, scores = TENCENT_ANCHORS
    return round(float(np.interp(similarity, similarities, scores)), 2)


def similarity_of_tencent_score(score: float) -> float:
    """The calibrated similarity a Tencent score stands for (the inverse of `tencent_score`): a
    client's FaceMatchThreshold becomes a similarity threshold with the same false-accept rate."""
    similarities, scores = TENCENT_ANCHORS
    return float(np.interp(score, scores, similarities))


def similarity_at_far(far: float) -> float:
    """The similarity at which strangers match at this per-pair false-accept rate (the Tencent
    curve between our anchors): UniquePersonControl's 1e-2 ... 1e-5 as thresholds."""
    return similarity_of_tencent_score(tencent_score_of_far(far))
