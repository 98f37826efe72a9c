"""Verification metrics: k-fold accuracy with a threshold learnt on the other folds, TAR at FAR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """Threshold (between sorted neighbours) that maximises accuracy on these pairs."""
    order = np.sort(np.unique(scores))
    candidates = np.concatenate([[order[0] - 1e-6], (order[:-1] + order[1:]) / 2, [order[-1] + 1e-6]])
    accuracies = [np.mean((scores > t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracies))])


@dataclass(frozen=True)
class KFoldResult:
    accuracy_mean: float
    accuracy_std: float
    fold_accuracies: list[float]
    thresholds: list[float]


def kfold_accuracy(scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> KFoldResult:
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        test = folds == fold
        threshold = best_threshold(scores[~test], same[~test])
        thresholds.append(threshold)
        accuracies.append(float(np.mean((scores[test] > threshold) == same[test])))
    return KFoldResult(float(np.mean(accuracies)), float(np.std(accuracies)), accuracies, thresholds)


def threshold_at_far(impostor_scores: np.ndarray, far: float) -> float:
    """Smallest threshold whose false-accept rate (score > t) on impostors is at most `far`."""
    ranked = np.sort(impostor_scores)[::-1]
    allowed = int(np.floor(far * len(ranked)))
    if allowed >= len(ranked):
        return float(ranked[-1])
    return float(ranked[allowed])


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> tuple[float, float]:
    """(TAR, threshold) at the given FAR; needs at least 1/far impostor pairs to mean anything."""
    threshold = threshold_at_far(impostor, far)
    return float(np.mean(genuine > threshold)), threshold
