"""Vector indexes: exact is exact, HNSW is close enough, and both honour remove/allowed/save."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from openfrs.store.synthetic import clustered_embeddings, cosine_profile, query_embeddings
from openfrs.store.vectors import ExactIndex, HnswIndex, TieredIndex, VectorIndex

N, DIM, K = 20_000, 128, 10
BIG = 2**40  # ids come from the metadata store and need not be small or dense


def needs_faiss() -> None:
    pytest.importorskip("faiss")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    vectors, _ = clustered_embeddings(N, DIM, seed=7)
    queries, _ = query_embeddings(200, N, DIM, seed=7)
    ids = BIG + np.arange(N, dtype=np.int64) * 3
    return ids, vectors, queries


def brute(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return ids[order], scores[order]


def recall(index: VectorIndex, ids, vectors, queries, allowed=None) -> float:
    hits = 0
    for q in queries:
        found, _ = index.search(q, K, allowed)
        if allowed is None:
            truth, _ = brute(ids, vectors, q, K)
        else:
            keep = np.isin(ids, allowed)
            truth, _ = brute(ids[keep], vectors[keep], q, K)
        hits += np.intersect1d(found, truth).size
    return hits / (len(queries) * K)


@pytest.fixture(scope="module")
def exact(data) -> ExactIndex:
    ids, vectors, _ = data
    index = ExactIndex(DIM)
    index.add(ids[: N // 2], vectors[: N // 2])  # two batches: exercises growth
    index.add(ids[N // 2 :], vectors[N // 2 :])
    return index


@pytest.fixture(scope="module")
def hnsw(data) -> HnswIndex:
    needs_faiss()
    ids, vectors, _ = data
    index = HnswIndex(DIM)
    index.add(ids, vectors)
    return index


def test_synthetic_data_looks_like_face_embeddings(data) -> None:
    vectors, identity = clustered_embeddings(N, DIM, seed=7)
    assert vectors.dtype == np.float32 and identity.dtype == np.int64
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    profile = cosine_profile(vectors, identity)
    assert 0.80 < profile["impostor"]["50"] < 0.88  # dlib: median ~0.84
    assert profile["genuine"]["5"] > 0.93 and profile["genuine"]["95"] < 0.995
    again, _ = clustered_embeddings(N // 2, DIM, seed=7)
    np.testing.assert_allclose(again, vectors[: N // 2], atol=1e-6)  # deterministic, prefix-stable


def test_exact_equals_brute_force(data, exact) -> None:
    ids, vectors, queries = data
    assert len(exact) == N
    for q in queries[:50]:
        found, scores = exact.search(q, K)
        truth, truth_scores = brute(ids, vectors, q, K)
        assert found.dtype == np.int64 and scores.dtype == np.float32
        np.testing.assert_array_equal(found, truth)
        np.testing.assert_allclose(scores, truth_scores, rtol=1e-5)
        assert np.all(np.diff(scores) <= 0)


def test_hnsw_recall_against_exact(data, hnsw) -> None:
    ids, vectors, queries = data
    assert recall(hnsw, ids, vectors, queries) >= 0.99


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_removed_ids_never_returned(data, kind) -> None:
    ids, vectors, queries = data
    n = 5_000
    if kind == "hnsw":
        needs_faiss()
    index = ExactIndex(DIM) if kind == "exact" else HnswIndex(DIM)
    index.add(ids[:n], vectors[:n])
    # remove every query's current top hits plus a random third: the hardest case for tombstones
    top = np.concatenate([index.search(q, K)[0] for q in queries])
    rng = np.random.default_rng(0)
    gone = np.union1d(top, rng.choice(ids[:n], n // 3, replace=False))
    assert index.remove(gone) == gone.size
    assert index.remove(gone) == 0
    assert len(index) == n - gone.size
    np.testing.assert_array_equal(np.sort(index.ids()), np.setdiff1d(ids[:n], gone))
    assert not index.contains(int(gone[0])) and index.contains(int(np.setdiff1d(ids[:n], gone)[0]))
    some_live = np.setdiff1d(ids[:n], gone)[:50]
    for q in queries:
        found, _ = index.search(q, K)
        assert found.size == K and not np.isin(found, gone).any()
        found, _ = index.search(q, K, allowed=np.concatenate([gone, some_live]))
        assert found.size == K and np.isin(found, some_live).all()
    keep = ~np.isin(ids[:n], gone)
    assert recall(index, ids[:n][keep], vectors[:n][keep], queries) >= (1.0 if kind == "exact" else 0.99)


@pytest.mark.parametrize("kind", ["exact", "hnsw-exact-path", "hnsw-graph-path"])
@pytest.mark.parametrize("fraction", [0.002, 0.1, 0.5])
def test_allowed_restricts_results(request, monkeypatch, data, exact, kind, fraction) -> None:
    ids, vectors, queries = data
    rng = np.random.default_rng(int(fraction * 1000))
    allowed = rng.choice(ids, int(N * fraction), replace=False)
    allowed = np.concatenate([allowed, [-5, 123]])  # ids not in the index are ignored
    index: VectorIndex = exact
    if kind != "exact":
        index = request.getfixturevalue("hnsw")
        # the graph path normally serves only filters of >= exact_below rows; force it here
        monkeypatch.setattr(index, "exact_below", 10_000 if kind == "hnsw-exact-path" else 0)
    for q in queries[:50]:
        found, _ = index.search(q, K, allowed)
        assert np.isin(found, allowed).all()
        assert found.size == min(K, allowed.size - 2)
    if kind == "hnsw-graph-path":
        if fraction >= 0.1:  # sparse filters are what the exact path is for
            assert recall(index, ids, vectors, queries[:100], allowed) >= 0.98
    else:  # exact over the subset, identical to brute force on it
        keep = np.isin(ids, allowed)
        for q in queries[:50]:
            truth, _ = brute(ids[keep], vectors[keep], q, K)
            np.testing.assert_array_equal(index.search(q, K, allowed)[0], truth)


def test_exact_upsert_and_validation(data) -> None:
    ids, vectors, _ = data
    index = ExactIndex(DIM)
    index.add(ids[:100], vectors[:100])
    index.add(ids[:1], vectors[500:501])  # replace
    assert len(index) == 100
    found, scores = index.search(vectors[500], 1)
    assert found[0] == ids[0] and scores[0] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError):
        index.add(np.array([1, 1]), vectors[:2])
    with pytest.raises(ValueError):
        index.add(np.array([1, 2]), vectors[:3])
    assert index.search(vectors[0], 1000)[0].size == 100
    assert ExactIndex(DIM).search(vectors[0], K)[0].size == 0


def test_hnsw_upsert_replaces(data) -> None:
    needs_faiss()
    ids, vectors, _ = data
    index = HnswIndex(DIM)
    index.add(ids[:1000], vectors[:1000])
    index.add(ids[:1], vectors[5000:5001])
    assert len(index) == 1000 and index.dead_fraction > 0
    found, scores = index.search(vectors[5000], 1)
    assert found[0] == ids[0] and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert ids[0] not in index.search(vectors[0], K)[0][:1]  # the old vector is gone
    fresh = index.rebuilt()
    assert len(fresh) == 1000 and fresh.dead_fraction == 0


@pytest.mark.parametrize("kind", ["exact", "hnsw", "tiered"])
def test_save_load_round_trip(tmp_path, data, kind) -> None:
    ids, vectors, queries = data
    n = 3_000
    if kind != "exact":
        needs_faiss()
    make = {"exact": ExactIndex, "hnsw": HnswIndex, "tiered": lambda d: TieredIndex(d, threshold=1000)}
    index = make[kind](DIM)
    index.add(ids[:n], vectors[:n])
    index.remove(ids[:10])
    index.save(tmp_path / "ix")
    index.save(tmp_path / "ix")  # overwriting an existing save is fine
    loaded = VectorIndex.load(tmp_path / "ix")
    assert type(loaded) is type(index) and len(loaded) == len(index)
    allowed = ids[:n:2]
    for q in queries[:30]:
        for flt in (None, allowed):
            a_ids, a_scores = index.search(q, K, flt)
            b_ids, b_scores = loaded.search(q, K, flt)
            np.testing.assert_array_equal(a_ids, b_ids)
            np.testing.assert_array_equal(a_scores, b_scores)
    assert not loaded.contains(int(ids[0])) and loaded.contains(int(ids[10]))


def test_tiered_migrates_at_threshold(data) -> None:
    needs_faiss()
    ids, vectors, queries = data
    threshold = 4_000
    index = TieredIndex(DIM, threshold=threshold, background=False)
    index.add(ids[: threshold - 1], vectors[: threshold - 1])
    assert isinstance(index.backend, ExactIndex)
    index.add(ids[threshold - 1 : threshold], vectors[threshold - 1 : threshold])
    assert isinstance(index.backend, HnswIndex) and len(index) == threshold
    index.add(ids[threshold:8_000], vectors[threshold:8_000])
    assert recall(index, ids[:8_000], vectors[:8_000], queries) >= 0.99
    index.remove(ids[:100])
    assert not np.isin(index.search(vectors[0], K)[0], ids[:100]).any()
    assert len(index) == 7_900 and index.contains(int(ids[100]))


def test_concurrent_searches_during_mutation(data) -> None:
    needs_faiss()
    ids, vectors, queries = data
    index = TieredIndex(DIM, threshold=2_000)
    index.add(ids[:1_000], vectors[:1_000])
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        try:
            while not stop.is_set():
                for q in queries[:20]:
                    found, scores = index.search(q, K)
                    assert found.size == min(K, len(index)) or found.size <= K
                    assert np.all(np.diff(scores) <= 1e-6)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for start in range(1_000, 4_000, 500):  # crosses the threshold while searches run
        index.add(ids[start : start + 500], vectors[start : start + 500])
        index.remove(ids[start - 1_000 : start - 900])
    assert index.wait_migrated(timeout=60)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    assert isinstance(index.backend, HnswIndex) and len(index) == 4_000 - 600


def test_writes_during_a_background_migration_reach_the_graph(data) -> None:
    """Adds, re-adds and removes made while the graph is built are replayed onto it: the
    migrated index holds exactly what a never-migrated one would."""
    needs_faiss()
    ids, vectors, queries = data
    index = TieredIndex(DIM, threshold=3_000)
    index.add(ids[:3_000], vectors[:3_000])  # starts the migration thread
    assert index.migrating or isinstance(index.backend, HnswIndex)
    index.add(ids[3_000:6_000], vectors[3_000:6_000])
    index.remove(ids[:500])
    index.add(ids[:100], vectors[:100])  # removed, then back
    index.remove(ids[5_000:5_200])
    index.add(ids[700:701], vectors[7_000:7_001])  # an upsert with a new vector
    assert index.wait_migrated(timeout=60) and isinstance(index.backend, HnswIndex)
    present, now = index.backend.lookup(ids[700:701])
    assert present.all() and np.array_equal(now[0], vectors[7_000])
    expected = np.concatenate([ids[:100], ids[500:5_000], ids[5_200:6_000]])
    np.testing.assert_array_equal(np.sort(index.ids()), np.sort(expected))
    assert len(index) == expected.size
    keep = np.isin(ids[:6_000], expected)
    assert recall(index, ids[:6_000][keep], vectors[:6_000][keep], queries) >= 0.99


def test_loaded_exact_tier_past_threshold_settles_into_hnsw(data, tmp_path) -> None:
    needs_faiss()
    ids, vectors, _ = data
    small = TieredIndex(DIM, threshold=10_000, background=False)
    small.add(ids[:2_500], vectors[:2_500])
    small.save(tmp_path / "ix")
    meta = tmp_path / "ix" / "meta.json"
    meta.write_text(meta.read_text().replace('"threshold": 10000', '"threshold": 2000'))
    loaded = VectorIndex.load(tmp_path / "ix")
    assert isinstance(loaded.backend, ExactIndex) and len(loaded) == 2_500
    loaded.settle()
    assert loaded.wait_migrated(timeout=60) and isinstance(loaded.backend, HnswIndex)
    np.testing.assert_array_equal(np.sort(loaded.ids()), ids[:2_500])
