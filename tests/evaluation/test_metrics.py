"""The verification metrics on small hand-checkable inputs."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.evaluation.metrics import best_threshold, kfold_accuracy, tar_at_far, threshold_at_far


def test_best_threshold_separates_clean_scores():
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    same = np.array([False, False, False, True, True, True])
    threshold = best_threshold(scores, same)
    assert 0.3 < threshold < 0.7


def test_kfold_accuracy_counts_errors_per_fold():
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.95, 0.85])
    same = np.array([False, True, False, True, False, True])  # 0.95 is an impostor
    folds = np.array([0, 0, 1, 1, 2, 2])
    result = kfold_accuracy(scores, same, folds)
    assert len(result.fold_accuracies) == 3
    # Folds 0 and 1 are separable with thresholds learnt elsewhere; fold 2 holds the impostor
    # at 0.95 above the genuine 0.85, so one of its two pairs is always wrong.
    assert result.fold_accuracies == [1.0, 1.0, 0.5]
    assert result.accuracy_mean == pytest.approx(2.5 / 3)


def test_threshold_at_far_allows_the_requested_false_accepts():
    impostor = np.arange(1000) / 1000.0
    threshold = threshold_at_far(impostor, 0.01)
    assert np.sum(impostor > threshold) <= 10
    tar, _ = tar_at_far(np.array([0.995, 0.5, 0.999]), impostor, 0.01)
    assert tar == 2 / 3
