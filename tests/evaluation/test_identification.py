"""1:N identification on an LFW-partial subset through the real face-set path (~15 s)."""

from __future__ import annotations

import pytest

from openfrs.benchmark.identification import lfw_identification

pytestmark = [pytest.mark.models, pytest.mark.data]


def test_lfw_subset_identification(settings, model_pack_dir, shared_data, tmp_path):
    # The first 40 people (sorted) hold 83 images; 13 of them have >= 2 images (56 probes).
    result = lfw_identification(settings, shared_data / "lfw-partial/images", tmp_path,
                                limit_people=40)
    assert result["people"] == 40
    assert result["probes"] > 0
    assert result["enrolled_faces"] == result["images"] - len(result["enrol_failures"])
    assert result["rank1"] >= 0.9, result["misses"]
    assert result["rank5"] >= result["rank1"]
    assert result["search_ms"]["p50"] > 0 and result["search_ms"]["n"] == result["probes"]
    assert (tmp_path / "openfrs.db").exists()
