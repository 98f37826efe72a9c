"""`openfrs eval attributes`: the metrics on hand-made numbers, the SSR-Net readout of the
faceplugin candidate, and a small real run with candidates."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.evaluation.attributes import (
    age_metrics,
    faceplugin_candidate,
    gender_by_confidence,
    gender_metrics,
    parse_utkface_name,
    pose_stills,
    utkface,
)
from openfrs.vision.ssrnet import OUTPUTS, merge


def test_utkface_names_give_age_and_gender():
    assert parse_utkface_name("26_1_2_20170116.jpg.chip.jpg") == (26, 1)
    assert parse_utkface_name("61_3_20170109.jpg.chip.jpg") == (61, -1)  # no valid gender


def test_age_metrics_per_band_and_missing_predictions():
    truth = np.array([1.0, 25.0, 25.0, 80.0])
    predicted = np.array([3.0, 20.0, np.nan, 60.0])
    result = age_metrics(predicted, truth, np.ones(4, bool))
    assert result["mae"] == pytest.approx((2 + 5 + 20) / 3, abs=1e-3)
    assert result["no_prediction"] == 1 and result["n"] == 3
    assert result["bands"]["0-2"] == {"n": 1, "mae": 2.0, "bias": 2.0}
    assert result["bands"]["70+"]["bias"] == -20.0


def test_gender_metrics_confusion_and_adult_accuracy():
    p_female = np.array([0.9, 0.2, 0.7, 0.4, np.nan])
    truth = np.array([1, 0, 0, 1, 1])
    ages = np.array([30, 30, 5, 40, 50])
    result = gender_metrics(p_female, truth, ages, np.ones(5, bool))
    assert result["acc"] == 0.5 and result["n"] == 4 and result["no_prediction"] == 1
    assert result["acc_age_20_plus"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["confusion"] == {"true_male": {"pred_male": 1, "pred_female": 1},
                                   "true_female": {"pred_male": 1, "pred_female": 1}}


def test_gender_by_confidence_keeps_only_sure_answers():
    p_female = np.array([0.95, 0.55, 0.1, 0.4])
    truth = np.array([1, 0, 0, 1])
    rows = gender_by_confidence(p_female, truth, np.ones(4, bool), levels=(0.5, 0.8))
    assert rows[0] == {"min_gender_probability": 0.5, "answered": 1.0, "acc": 0.5}
    assert rows[1] == {"min_gender_probability": 0.8, "answered": 0.5, "acc": 1.0}


def test_ssrnet_merge_is_the_packages_stagewise_sum():
    """lib/fr_age.js mergeAge without V: stage k's bin expectation over 3^k (no deltas, offsets)."""
    zero = {name: np.zeros((1, 1 if "delta" in name else 3), np.float32) for name in OUTPUTS}
    one_hot = {**zero, "prob_stage_1": np.array([[0, 0, 1]], np.float32),
               "prob_stage_2": np.array([[0, 1, 0]], np.float32)}
    assert merge(one_hot) == pytest.approx(2 / 3 + 1 / 9)
    # a positive delta widens the stage's bins (divides by 3 * (1 + delta)); an offset shifts the bin
    widened = {**one_hot, "stage1_delta_k": np.array([[1.0]], np.float32),
               "index_offset_stage2": np.array([[0, 0.5, 0]], np.float32)}
    assert merge(widened) == pytest.approx(2 / 6 + 1.5 / 18)


@pytest.mark.models
def test_a_small_real_run(face_service, shared_data, settings):
    candidates = {"constant": lambda image, face: (30.0, 0.9)}
    result = utkface(face_service, shared_data / "utkface/images", settings, limit=30, log=lambda _: None,
                     candidates=candidates)
    assert result["images"] == 30
    # evenly spaced names span the ages, not just the first band
    assert sum(band["n"] > 0 for band in result["age"]["bands"].values()) >= 5
    assert result["age"]["mae"] < 9.0 and result["gender"]["acc"] > 0.6
    # a candidate is scored on the same faces: answers exactly where the shipped model does
    constant = result["candidates"]["constant"]
    assert constant["age"]["n"] == result["age"]["n"]
    assert constant["gender"]["confusion"]["true_male"]["pred_male"] == 0
    poses = pose_stills(face_service, shared_data / "liveness-stills/pose", settings)
    assert poses["of"] == 6 and poses["right_sign"] == 6


@pytest.mark.models
def test_the_faceplugin_candidate_runs_on_real_faces(face_service, shared_data, settings):
    """Its figures are in docs/accuracy.md (all 6,000 images); here only that it runs end to end
    from the cached archive and answers in range."""
    candidate = faceplugin_candidate(settings)
    result = utkface(face_service, shared_data / "utkface/images", settings, limit=6, log=lambda _: None,
                     candidates={"faceplugin": candidate})
    scored = result["candidates"]["faceplugin"]
    assert scored["age"]["n"] == result["age"]["n"] > 0
    assert 0 <= scored["age"]["mae"] < 100
