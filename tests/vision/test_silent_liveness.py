"""The silent-liveness verdict from fr_liveness's P(live), and the model's crop (pure arithmetic;
the model on real attacks is tested in tests/api/test_live_detect_face.py)."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.vision.fr_liveness import crop_region
from openfrs.vision.silent_liveness import OPERATING_POINT, judge
from openfrs.vision.types import Box


def test_alive_exactly_from_the_operating_point_up():
    assert judge(OPERATING_POINT).alive
    assert not judge(OPERATING_POINT * 0.999).alive
    assert judge(OPERATING_POINT).confidence == pytest.approx(0.5, abs=1e-4)


def test_confidence_is_monotone_and_below_half_on_every_refusal():
    probabilities = np.concatenate([np.geomspace(1e-9, OPERATING_POINT, 50, endpoint=False),
                                    np.linspace(OPERATING_POINT, 1.0, 50)])
    verdicts = [judge(float(p)) for p in probabilities]
    confidences = [v.confidence for v in verdicts]
    assert confidences == sorted(confidences)
    assert all(v.confidence < 0.5 for v in verdicts if not v.alive)
    assert all(v.confidence >= 0.5 for v in verdicts if v.alive)
    assert judge(1e-6).confidence < 0.2 and judge(0.99).confidence > 0.9


def test_crop_is_2_7_times_the_box_about_its_centre_when_it_fits():
    x, y, w, h = crop_region(Box(900, 500, 1000, 600), 1920, 1080)
    assert (w, h) == (270, 270)
    assert (x + w / 2, y + h / 2) == pytest.approx((950, 550), abs=1)


def test_crop_is_shifted_inside_the_image_not_cut():
    x, y, w, h = crop_region(Box(10, 10, 110, 110), 640, 480)  # near the top-left corner
    assert (x, y) == (0, 0) and (w, h) == (270, 270)
    x, y, w, h = crop_region(Box(560, 400, 630, 470), 640, 480)  # near the bottom-right corner
    assert x + w <= 639 and y + h <= 479 and (w, h) == (189, 189)


def test_crop_scale_shrinks_when_the_image_is_too_small_for_it():
    x, y, w, h = crop_region(Box(20, 20, 180, 180), 200, 200)  # a face filling a chip
    assert (x, y) == (0, 0) and w <= 199 and h <= 199 and w >= 160
