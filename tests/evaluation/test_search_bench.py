"""`openfrs bench search` on a small synthetic set: every figure is produced and plausible."""

from __future__ import annotations

import os

from openfrs.benchmark.milvus_server import process_tree_rss
from openfrs.benchmark.search import embedded_run
from openfrs.benchmark.synthetic_set import SHARES, SyntheticData


def test_small_synthetic_search_run(tmp_path):
    out = embedded_run(SyntheticData.make(3_000, 50, 128), n_filtered=10, workdir=tmp_path)
    assert out["backend"] == "exact"  # below the HNSW threshold: exact search, recall 1
    assert out["recall_at_10"] == 1.0
    assert set(out["filtered"]) == set(SHARES) == {"2%", "10%"}
    for label, share in (("2%", 0.02), ("10%", 0.10)):
        assert out["filtered"][label]["recall_at_10"] == 1.0
        assert 0.8 * share <= out["filtered"][label]["share"] <= 1.2 * share
    assert out["search_ms"]["n"] == 50 and out["search_ms"]["p50"] <= out["search_ms"]["p99"]
    assert out["bulk_add_faces_per_s"] > 0 and out["single_face_add_ms"]["n"] > 0
    for cold in (out["cold_start_from_snapshot"], out["cold_start_rebuilt_from_store"]):
        assert cold["faces"] == 3_000 and cold["first_answer_s"] > 0
    assert out["memory_bytes_per_face"] > 128 * 4 * 0.5  # the vectors alone are 512 B per face
    assert out["disk_bytes_per_face"]["metadata_store"] > 512


def test_process_tree_rss_counts_the_group():
    assert process_tree_rss(os.getpgrp()) > 10_000_000  # at least this Python with numpy loaded
    assert process_tree_rss(2**22 + 12345) == 0  # no such group
