"""`openfrs eval verification | fairness | calibrate` on the real collections (UTKFace thinned 20x:
~2 min on 2 cores), and the shipped calibration holds for every group these sets can measure."""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.evaluation import recognition_reports
from openfrs.evaluation.study import build_study
from openfrs.vision.calibration import FAR_TARGETS
from openfrs.vision.calibration_tables import calibration_for

pytestmark = [pytest.mark.models, pytest.mark.data]


@pytest.fixture(scope="module")
def study(settings, shared_data, model_pack_dir, tmp_path_factory):
    built, service = build_study(settings, shared_data, tmp_path_factory.mktemp("eval-cache"),
                                 utk_every=20, progress=lambda _: None)
    yield built
    service.pool.shutdown()


def test_every_candidate_is_scored_on_all_pairs(study):
    report = recognition_reports.verification(study)
    table = report["candidates"]
    assert {"fr_feature-0.0.1", "dlib", "mobilefacenet", "fr_feature-0.0.1+flip",
            "fr_feature+mobilefacenet"} <= set(table)
    lfw = {name: rows["lfw"] for name, rows in table.items()}
    assert lfw["fr_feature-0.0.1"]["impostor_pairs"] == 536_986 - 1  # less the known label error
    # 1e-5 rests on 5 false accepts of 536,985: reported, marked as not resolved (< 10 / FAR pairs)
    assert lfw["fr_feature-0.0.1"]["at_far"]["1e-04"]["resolved"]
    assert not lfw["fr_feature-0.0.1"]["at_far"]["1e-05"]["resolved"]
    assert not table["fr_feature-0.0.1"]["asian-faces"]["at_far"]["1e-04"]["resolved"]
    # the reason for the change of default: dlib misses far more genuine pairs at low FAR
    at_1e5 = {name: lfw[name]["at_far"]["1e-05"]["tar"] for name in ("dlib", "fr_feature-0.0.1")}
    assert at_1e5["dlib"] < 0.8 < 0.91 <= at_1e5["fr_feature-0.0.1"]
    assert report["excluded_same_person_pairs"]["lfw"] == 1


@pytest.mark.parametrize("far", [1e-2, 1e-3])
def test_published_threshold_keeps_every_measurable_group_at_its_far(study, far):
    """similarity >= FAR_TARGETS[far] false-matches at most `far` in every group holding enough
    impostor pairs to measure it (10 / far), for the default recogniser."""
    cosine = calibration_for("faceplugin/fr_feature-0.0.1").cosine_for(FAR_TARGETS[far])
    groups = study.groups("fr_feature-0.0.1")
    measured = {g: s for g, s in groups.items() if s.size >= 10 / far}
    assert {"lfw", "asian-faces"} <= set(measured)
    for group, scores in measured.items():
        # UTKFace is thinned here, so its groups get the slack of a small sample (3 pairs)
        slack = 0 if group in ("lfw", "asian-faces") else 3 / scores.size
        assert np.mean(scores >= cosine) <= far + slack, group


def test_fairness_report_compares_models_on_one_yardstick(study):
    report = recognition_reports.fairness(study)
    own = report["at_own_lfw_far_1e-3_threshold"]
    assert own["dlib"]["fmr"]["asian-faces"] > 0.2  # what the issue measured: 0.33
    assert own["fr_feature-0.0.1"]["fmr"]["asian-faces"] < 0.1
    published = report["at_published_thresholds"]["fr_feature-0.0.1"]["similarity>=0.93"]
    assert published["fmr"]["asian-faces"] <= 1e-3


def test_calibration_report_is_monotone_and_its_1n_table_grows_with_the_gallery(study):
    report = recognition_reports.calibrate(study, "fr_feature-0.0.1")
    cosines = [row["cosine"] for row in report["anchors"]]
    assert cosines == sorted(cosines) and len(set(cosines)) == len(cosines)
    assert report["anchors"][1]["far"] == 1e-3 and report["anchors"][1]["similarity"] == 0.93
    table = report["one_to_n"]
    for fpir in (0.01, 0.001):
        rows = [r for r in table if r["fpir"] == fpir]
        assert [r["gallery"] for r in rows] == [10_000, 100_000, 1_000_000]
        assert all(a["cosine"] < b["cosine"] for a, b in zip(rows, rows[1:], strict=False))
        assert all(0.96 <= r["similarity"] <= 1.0 for r in rows)
    assert "Calibration(" in report["literal"]
