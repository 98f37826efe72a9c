"""The impostor-tail model recovers known tails, and says when a FAR is beyond its data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openfrs.evaluation.metrics import threshold_at_far
from openfrs.evaluation.tails import fit_tail, threshold


def test_exponential_tail_is_extrapolated_to_rates_far_below_the_sample():
    rng = np.random.default_rng(0)
    scores = rng.exponential(0.05, 500_000)  # P(X > x) = exp(-x / 0.05)
    tail = fit_tail(scores)
    assert abs(tail.k) < 0.05
    for far in (1e-4, 1e-6, 1e-9):
        assert tail.threshold(far) == pytest.approx(-0.05 * math.log(far), rel=0.05)


def test_bounded_tail_stays_below_its_end():
    rng = np.random.default_rng(1)
    scores = 0.6 * (1 - rng.power(3.0, 300_000))  # a tail that ends at 0.6
    tail = fit_tail(scores)
    assert tail.k > 0
    assert tail.threshold(1e-9) <= 0.62


def test_threshold_is_measured_where_the_pairs_resolve_it_and_modelled_below():
    scores = np.random.default_rng(2).normal(0.0, 0.1, 200_000)
    measured, how = threshold(scores, 1e-3)
    assert how == "measured" and measured == threshold_at_far(scores, 1e-3)
    modelled, how = threshold(scores, 1e-6)
    assert how == "tail model" and modelled > measured
    assert modelled == pytest.approx(0.1 * 4.753, rel=0.1)  # the normal's 1e-6 quantile


def test_too_few_scores_refuse_a_model_and_rates_above_the_tail_are_refused():
    with pytest.raises(ValueError):
        fit_tail(np.arange(40.0))
    tail = fit_tail(np.random.default_rng(3).normal(size=20_000))
    with pytest.raises(ValueError):
        tail.threshold(0.5)
