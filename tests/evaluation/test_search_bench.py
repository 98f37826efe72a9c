"""`openfrs bench search` on a small synthetic set: every figure is produced and plausible."""

from __future__ import annotations

from openfrs.benchmark.search import synthetic_run


def test_small_synthetic_search_run(tmp_path):
    out = synthetic_run(3_000, n_queries=50, n_filtered=10, workdir=tmp_path)
    assert out["backend"] == "exact"  # below the HNSW threshold: exact search, recall 1
    assert out["recall_at_10"] == 1.0 and out["filtered"]["recall_at_10"] == 1.0
    assert 0.04 <= out["filtered"]["share"] <= 0.06
    assert out["search_ms"]["n"] == 50 and out["search_ms"]["p50"] <= out["search_ms"]["p99"]
    assert out["bulk_add_faces_per_s"] > 0 and out["single_face_add_ms"]["n"] > 0
    for cold in (out["cold_start_from_snapshot"], out["cold_start_rebuilt_from_store"]):
        assert cold["faces"] == 3_000 and cold["first_answer_s"] > 0
    assert out["memory_bytes_per_face"] > 128 * 4 * 0.5  # the vectors alone are 512 B per face
    assert out["disk_bytes_per_face"]["metadata_store"] > 512
