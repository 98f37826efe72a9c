"""The silent-liveness decision shipped until 2026-12, kept as an evaluation candidate.

Cues that need no attack data, each turned into its real-face tail share (how many real faces
look at least this attack-like, calibrated on the 1,044 faces of ../shared/data/lfw-partial),
and a face refused when any cue is rarer among real faces than its cut:
* ``liveness``: human-models LivenessNet P(real) (vision/liveness_models.py);
* ``moire``: high-frequency spectral peak of the face (vision/spoof_cues.py) — screen replays;
* ``frame``: straight edges on the sides of the face — a held-up photo or phone.
`openfrs eval liveness` measures it beside fr_liveness; on antispoof-more it passed 85% of the
NUAA print frames (docs/liveness.md), which is why it no longer decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.vision.liveness_models import LIVENESS, SilentLivenessModel
from openfrs.vision.spoof_cues import as_gray, frame_sides, moire_peak
from openfrs.vision.types import Face


@dataclass(frozen=True)
class CueCalibration:
    """A cue's real-face tail: `shares[i]` of real faces have a value at least as attack-like
    as `values[i]` (values ordered from ordinary to rare); refused below `cut`."""

    values: tuple[float, ...]
    shares: tuple[float, ...]
    attack_high: bool  # True: larger values look more like an attack
    cut: float

    def tail_share(self, value: float) -> float:
        """Share of real faces at least as attack-like as `value` (piecewise linear)."""
        values = np.asarray(self.values, np.float64)
        shares = np.asarray(self.shares, np.float64)
        if not self.attack_high:
            values, value = -values, -value
        return float(np.interp(value, values, shares, left=1.0, right=0.0))

    def margin(self, value: float | None) -> float:
        """0.5 at the cut, 1 for a median-or-more-ordinary value, 0 at the rarest; an unmeasured
        cue (None) counts as ordinary: it cannot speak against the face."""
        if value is None:
            return 1.0
        share = self.tail_share(value)
        if share < self.cut:
            return 0.5 * share / self.cut
        return min(1.0, 0.5 + 0.5 * (share - self.cut) / (0.5 - self.cut))


# Frozen as shipped (from the last `openfrs eval liveness --calibrate`, 2026-11-21): `liveness`
# and `moire` tails on the 1,044 faces of ../shared/data/lfw-partial (the face nearest each
# image's centre); `frame` on the 231 camera faces of the crowd photos, liveness stills and real
# videos (LFW's deep-funnelled images have black warp borders round every face). Cuts: a cue
# refuses what at most 1% of real faces show (3% for `frame`: only a closed frame, 4 sides).
CALIBRATION: dict[str, CueCalibration] = {
    "liveness": CueCalibration(
        values=(1.0, 0.9916, 0.9354, 0.8565, 0.7331, 0.6186, 0.495, 0.2972, 0.2087, 0.1569),
        shares=(1.0, 0.5, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005, 0.002),
        attack_high=False, cut=0.01),
    "moire": CueCalibration(
        values=(1.7689, 2.7252, 2.936, 3.0496, 3.1432, 3.2019, 3.257, 3.3318, 3.3885, 3.435),
        shares=(1.0, 0.5, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005, 0.002),
        attack_high=True, cut=0.01),
    "frame": CueCalibration(
        values=(0.0, 1.0, 2.0, 3.0, 4.0),
        shares=(1.0, 0.4069, 0.1602, 0.0433, 0.0043),
        attack_high=True, cut=0.03),
}


@dataclass(frozen=True)
class CueVerdict:
    alive: bool
    confidence: float
    margins: dict[str, float]


def judge_cues(cues: dict[str, float | None],
          calibration: dict[str, CueCalibration] | None = None) -> CueVerdict:
    """The verdict for measured cue values."""
    calibration = calibration or CALIBRATION
    margins = {name: cal.margin(cues.get(name)) for name, cal in calibration.items()}
    confidence = round(min(margins.values(), default=1.0), 4)
    return CueVerdict(confidence >= 0.5, confidence, margins)


class CueMeasurer:
    """The three cue values of one face (which needs extras["mesh468"])."""

    def __init__(self, liveness_model_path: Path) -> None:
        self.liveness_model = SilentLivenessModel(liveness_model_path, LIVENESS)

    def cues(self, image: np.ndarray, face: Face) -> dict[str, float | None]:
        gray = as_gray(image)  # once for both image cues
        return {
            "liveness": self.liveness_model.scores(image, [face], upright=True)[0],
            "moire": moire_peak(gray, face.box),
            "frame": float(frame_sides(gray, face.box)),
        }
