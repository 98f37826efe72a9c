"""Score thresholds at false-accept rates below what a set's pair count resolves, from a
generalised Pareto model of its impostor tail (peaks over a threshold).

Why: a 1:N search over 1M faces at a 0.1% false-positive identification rate needs the score
exceeded by one impostor pair in 10^9; no set here has that many pairs. The tail of each
group's impostor scores is fitted by probability-weighted moments (Hosking & Wallis 1987: closed
form, no optimiser) on its highest scores, and the fit is checked against the measured
threshold at the lowest FAR the set does resolve (`check`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from openfrs.evaluation.metrics import threshold_at_far

TAIL_SHARE = 0.01  # the highest 1% of scores are modelled
MIN_TAIL, MAX_TAIL = 50, 20_000


@dataclass(frozen=True)
class Tail:
    """P(score > x) = share * (1 - k (x - start) / sigma) ** (1 / k) for x >= start."""

    start: float
    share: float
    sigma: float
    k: float  # Hosking's shape: k > 0 bounded tail, k < 0 heavy tail (xi = -k)
    count: int

    def threshold(self, far: float) -> float:
        """The score that impostors exceed with probability `far` (at most 1.0, a cosine)."""
        if far >= self.share:
            raise ValueError(f"FAR {far} is not in the modelled tail (share {self.share:.2e})")
        p = far / self.share
        y = -self.sigma * math.log(p) if abs(self.k) < 1e-6 else self.sigma / self.k * (1 - p ** self.k)
        return min(self.start + y, 1.0)


def fit_tail(scores: np.ndarray, share: float = TAIL_SHARE) -> Tail:
    """Fit the top `share` of `scores` (at least MIN_TAIL, at most MAX_TAIL of them)."""
    ranked = np.sort(np.asarray(scores, np.float64))[::-1]
    count = int(min(max(round(share * ranked.size), MIN_TAIL), MAX_TAIL, ranked.size - 1))
    if count < MIN_TAIL:
        raise ValueError(f"{ranked.size} scores are too few to model a tail")
    start = float(ranked[count])  # the exceedances are the `count` scores above it
    excess = np.sort(ranked[:count] - start)  # ascending
    n = excess.size
    a0 = float(excess.mean())
    a1 = float(np.sum(excess * (n - 1 - np.arange(n)) / (n - 1)) / n)
    k = a0 / (a0 - 2 * a1) - 2
    sigma = 2 * a0 * a1 / (a0 - 2 * a1)
    return Tail(start, count / ranked.size, sigma, k, count)


def threshold(scores: np.ndarray, far: float, resolved_pairs: float = 10.0) -> tuple[float, str]:
    """(cosine threshold at `far`, how it was found): measured when the set holds at least
    `resolved_pairs` / far pairs, else from the tail model."""
    if scores.size >= resolved_pairs / far:
        return threshold_at_far(scores, far), "measured"
    return fit_tail(scores).threshold(far), "tail model"
