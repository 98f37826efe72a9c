"""Silent (single-image) liveness: is this face a live person in front of the camera, or a
photo / screen held up to it?

Decided by one model, faceplugin fr_liveness (vision/fr_liveness.py), because that is what
measured best (`openfrs eval liveness`, docs/liveness.md): on ../shared/data/antispoof-more it
refuses 99% of NUAA print frames and 97% of phone-held screen replays at the operating point
below, while the earlier decision (human-models LivenessNet + moire + frame cues, now an
evaluation candidate in evaluation/liveness_cues.py) passed 85% of the prints. Fusing the old
cues in (either refusing, or a logistic fusion cross-validated by subject) refused more real
faces and no more attacks, so they are not part of the decision.

The operating point is set on real faces only (no attack label tunes it): P(live) below
OPERATING_POINT is refused, which refuses on average 4.5% of the real faces of four sources (LFW,
UTKFace, NUAA real frames, webcam videos), each source weighted equally. Attacks were then
measured, not fitted.

`confidence` (0..1) is a monotone function of the model's log-odds: 0.5 at the operating point,
toward 1 the more surely live, toward 0 the more surely an attack; a refusal is always below 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.vision.fr_liveness import FrLiveness
from openfrs.vision.pack import ModelPack
from openfrs.vision.types import Face

# From `openfrs eval liveness` (docs/liveness.md, "Operating point"): the largest P(live) cut at
# which the mean BPCER of the four real-face sources stays <= 0.05.
OPERATING_POINT = 0.05
CONFIDENCE_SLOPE = 0.4  # log-odds to confidence: P(live) 0.99 -> 0.95, 0.001 -> 0.17


def _logit(p: float) -> float:
    p = min(max(p, 1e-7), 1 - 1e-7)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class SilentVerdict:
    alive: bool
    confidence: float
    live_probability: float


def judge(live_probability: float, operating_point: float = OPERATING_POINT) -> SilentVerdict:
    """The verdict for a model P(live)."""
    alive = live_probability >= operating_point
    shift = CONFIDENCE_SLOPE * (_logit(live_probability) - _logit(operating_point))
    confidence = round(1.0 / (1.0 + math.exp(-shift)), 4)
    if not alive:
        confidence = min(confidence, 0.4999)  # rounding must not lift a refusal to 0.5
    return SilentVerdict(alive, confidence, round(live_probability, 6))


class SilentLiveness:
    """The model and the verdict for one face; thread-safe, blocking, pure compute."""

    def __init__(self, model: FrLiveness) -> None:
        self.model = model

    @classmethod
    def from_pack(cls, pack: ModelPack, intra_threads: int | None = 1) -> SilentLiveness:
        return cls(FrLiveness(Path(pack.entry("fr_liveness").path(pack.root)), intra_threads))

    def live_probability(self, image: np.ndarray, face: Face) -> float:
        """P(live) of `face` in the full-resolution RGB image it was found in."""
        return float(self.model.live_scores(image, [face.box])[0])

    def check(self, image: np.ndarray, face: Face) -> SilentVerdict:
        return judge(self.live_probability(image, face))
