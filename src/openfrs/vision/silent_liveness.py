"""Silent (single-image) liveness: is this face a live person in front of the camera, or a
photo / screen held up to it?

No presentation-attack training data ships here, so the decision is a *novelty test against
real faces*: each cue's value is turned into its real-face tail share (how many real faces look
at least this attack-like, from `openfrs eval liveness --calibrate` on the 1,044 faces of
../shared/data/lfw-partial), and a face is refused when any cue is rarer among real faces than
its cut. That fixes the operating point on real faces alone (BPCER about 5% on LFW, see
docs/liveness.md) and leaves attacks out of the tuning; APCER is then measured, not fitted.

The cues (each says why it separates; vision/spoof_cues.py):
* ``liveness``: human-models LivenessNet P(real) (vision/liveness_models.py) — low on some
  recaptures (screen colour cast, JPEG'd replays);
* ``moire``: high-frequency spectral peak of the face — screen replays;
* ``frame``: straight edges on the sides of the face — a held-up photo or phone.
human-models ``antispoof`` is measured (openfrs eval liveness) but not part of the decision:
on our evidence it scores recaptures *higher* than the originals (docs/liveness.md).

`confidence` (0..1) is the least of the cues' margins: 0.5 at a cue's cut, 1 when every cue is
as ordinary as a median real face, toward 0 the rarer among real faces; alive iff >= 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.vision.liveness_models import LIVENESS, SilentLivenessModel
from openfrs.vision.pack import ModelPack
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


# From `openfrs eval liveness --calibrate` (docs/liveness.md): `liveness` and `moire` tails on the
# 1,044 faces of ../shared/data/lfw-partial (the face nearest each image's centre); `frame` on the
# 231 camera faces of the crowd photos, liveness stills and real videos (LFW's deep-funnelled
# images have black warp borders round every face). Cuts: a cue refuses what at most 1% of real
# faces show (3% for `frame`: only a closed frame, 4 sides, which no real face here showed).
# In-sample that refuses 5.3% of the LFW faces, 6.2% with the quality warnings.
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
class SilentVerdict:
    alive: bool
    confidence: float
    cues: dict[str, float | None]
    margins: dict[str, float]


def judge(cues: dict[str, float | None],
          calibration: dict[str, CueCalibration] | None = None) -> SilentVerdict:
    """The verdict for measured cue values."""
    calibration = calibration or CALIBRATION
    margins = {name: cal.margin(cues.get(name)) for name, cal in calibration.items()}
    confidence = round(min(margins.values(), default=1.0), 4)
    return SilentVerdict(confidence >= 0.5, confidence, cues, margins)


class SilentLiveness:
    """The cues of one face and the verdict; thread-safe, blocking, pure compute."""

    def __init__(self, liveness_model: SilentLivenessModel) -> None:
        self.liveness_model = liveness_model

    @classmethod
    def from_pack(cls, pack: ModelPack, intra_threads: int | None = 1) -> SilentLiveness:
        return cls(SilentLivenessModel(Path(pack.entry("liveness").path(pack.root)), LIVENESS, intra_threads))

    def cues(self, image: np.ndarray, face: Face) -> dict[str, float | None]:
        """The cue values of `face` (which needs extras["mesh468"]) in the full-resolution RGB
        image it was found in."""
        gray = as_gray(image)  # once for both image cues
        return {
            "liveness": self.liveness_model.scores(image, [face], upright=True)[0],
            "moire": moire_peak(gray, face.box),
            "frame": float(frame_sides(gray, face.box)),
        }

    def check(self, image: np.ndarray, face: Face) -> SilentVerdict:
        return judge(self.cues(image, face))
