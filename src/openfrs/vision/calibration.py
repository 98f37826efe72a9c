"""Map a raw cosine between two embeddings to the calibrated 0-1 `similarity` users see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """Monotone piecewise-linear map through (cosine, similarity) anchors tied to measured FARs.

    Anchors come from `openfrs eval calibrate` on the evaluation data (see docs/accuracy.md):
    the cosine each FAR target needs in the worst measured group maps to a fixed similarity value
    (FAR_TARGETS), so a client's FRS-style threshold (0.93 = "same person") keeps a documented
    false-accept rate for every group we can measure.
    """

    cosines: tuple[float, ...]
    similarities: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.cosines) != len(self.similarities) or len(self.cosines) < 2:
            raise ValueError("calibration needs matching anchor lists of length >= 2")
        if any(b <= a for a, b in zip(self.cosines, self.cosines[1:], strict=False)):
            raise ValueError("calibration cosines must increase")

    def similarity(self, cosine: float | np.ndarray) -> float | np.ndarray:
        value = np.interp(cosine, self.cosines, self.similarities)
        return float(value) if np.ndim(value) == 0 else value

    def cosine_for(self, similarity: float) -> float:
        """Inverse map, for turning a client's similarity threshold into a cosine one."""
        return float(np.interp(similarity, self.similarities, self.cosines))


# Similarity values the published operating points map to (FRS documents 0.93 as "same person").
# Each holds for the worst group measured (docs/accuracy.md); 1e-6 and 1e-9 are the rates 1:N
# search over large galleries needs, from the impostor tail models (evaluation/tails.py).
FAR_TARGETS = {1e-2: 0.90, 1e-3: 0.93, 1e-4: 0.96, 1e-6: 0.98, 1e-9: 0.99}
