"""The cue decision that shipped until 2026-12, now an evaluation candidate: real-face tails,
margins and the verdict (pure arithmetic; the cues themselves are tested in test_spoof_cues.py)."""

from __future__ import annotations

import pytest

from openfrs.evaluation.liveness_cues import CALIBRATION, CueCalibration, judge_cues

HIGH = CueCalibration(values=(0.0, 1.0, 2.0, 3.0), shares=(1.0, 0.5, 0.05, 0.01), attack_high=True, cut=0.02)
LOW = CueCalibration(values=(1.0, 0.9, 0.5, 0.1), shares=(1.0, 0.5, 0.05, 0.01), attack_high=False, cut=0.02)


def test_tail_share_interpolates_and_saturates():
    assert HIGH.tail_share(1.0) == pytest.approx(0.5)
    assert HIGH.tail_share(1.5) == pytest.approx(0.275)
    assert HIGH.tail_share(-5) == 1.0 and HIGH.tail_share(9) == 0.0
    assert LOW.tail_share(0.9) == pytest.approx(0.5)
    assert LOW.tail_share(0.3) == pytest.approx(0.03)
    assert LOW.tail_share(2.0) == 1.0 and LOW.tail_share(0.0) == 0.0


def test_margin_is_half_at_the_cut_and_monotone():
    at_cut = HIGH.values[2] + (HIGH.values[3] - HIGH.values[2]) * (0.05 - 0.02) / (0.05 - 0.01)
    assert HIGH.margin(at_cut) == pytest.approx(0.5, abs=1e-6)
    margins = [HIGH.margin(v) for v in (0.0, 1.0, 2.0, 2.8, 3.0, 4.0)]
    assert margins == sorted(margins, reverse=True)
    assert margins[0] == 1.0 and margins[-1] == 0.0
    assert HIGH.margin(None) == 1.0  # an unmeasured cue cannot speak against the face


def test_any_rare_cue_refuses_and_confidence_is_the_least_margin():
    calibration = {"a": HIGH, "b": LOW}
    ordinary = judge_cues({"a": 0.5, "b": 0.95}, calibration)
    assert ordinary.alive and ordinary.confidence > 0.9
    screen = judge_cues({"a": 3.5, "b": 0.95}, calibration)
    assert not screen.alive and screen.confidence == pytest.approx(screen.margins["a"], abs=1e-4)
    assert not judge_cues({"a": 0.5, "b": 0.05}, calibration).alive


def test_frozen_calibration_is_ordered_and_cut_inside_its_range():
    assert set(CALIBRATION) == {"liveness", "moire", "frame"}
    for name, cal in CALIBRATION.items():
        assert list(cal.shares) == sorted(cal.shares, reverse=True), name
        ordered = list(cal.values) if cal.attack_high else [-v for v in cal.values]
        assert ordered == sorted(ordered), name
        assert cal.shares[-1] <= cal.cut < 0.5, name
