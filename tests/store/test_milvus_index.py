"""MilvusIndex against a real Milvus 2.3.5 server that this module starts (no running Milvus needed).

The server failing to start fails these tests: it is a dependency in requirements.lock, not an
optional extra, so a skip would hide a broken scale-out mode.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from openfrs.store.synthetic import clustered_embeddings, query_embeddings
from openfrs.store.vectors import ExactIndex, MilvusIndex, VectorIndex
from openfrs.store.vectors import milvus as milvus_module
from tests.store.milvus_server import MilvusServer, session_server

N, DIM, K = 3_000, 128, 10
BIG = 2**40  # face keys need not be small or dense
_names = itertools.count()

# Another API replica: a separate process with its own client, attached to the same collection.
REPLICA = """
import json, sys
import numpy as np
from openfrs.store.vectors import MilvusIndex
index = MilvusIndex(int(sys.argv[3]), sys.argv[1], sys.argv[2])
print("ready", flush=True)
for line in sys.stdin:
    ids, _ = index.search(np.asarray(json.loads(line), np.float32), 3)
    print(json.dumps(ids.tolist()), flush=True)
"""


@pytest.fixture(scope="session")
def server(request) -> MilvusServer:
    return session_server(request)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    vectors, _ = clustered_embeddings(N + 200, DIM, seed=11)
    queries, _ = query_embeddings(50, N, DIM, seed=11)
    return BIG + np.arange(N + 200, dtype=np.int64) * 7, vectors, queries


def new_index(server: MilvusServer) -> MilvusIndex:
    return MilvusIndex(DIM, server.uri, milvus_module.collection_name("t", next(_names)))


@pytest.fixture
def make(server) -> Iterator:
    """New empty indexes on the server; their collections are dropped after the test."""
    made: list[MilvusIndex] = []

    def make_one() -> MilvusIndex:
        made.append(new_index(server))
        return made[-1]

    yield make_one
    for index in made:
        index.drop()


@pytest.fixture(scope="module")
def shared(server, data) -> Iterator[MilvusIndex]:
    """The first N vectors, for the tests that only read (a collection takes ~3 s to create)."""
    ids, vectors, _ = data
    index = new_index(server)
    index.add(ids[:N], vectors[:N])
    yield index
    index.drop()


@pytest.fixture
def filled(make, data) -> MilvusIndex:
    ids, vectors, _ = data
    index = make()
    index.add(ids[:N], vectors[:N])
    return index


def test_server_starts_in_time(server) -> None:
    assert server.startup_s < 120


def test_recall_against_exact(shared, data) -> None:
    ids, vectors, queries = data
    exact = ExactIndex(DIM)
    exact.add(ids[:N], vectors[:N])
    hits = 0
    for q in queries:
        found, scores = shared.search(q, K)
        truth, truth_scores = exact.search(q, K)
        assert found.dtype == np.int64 and scores.dtype == np.float32 and np.all(np.diff(scores) <= 1e-6)
        hits += np.intersect1d(found, truth).size
        np.testing.assert_allclose(scores[0], truth_scores[0], atol=1e-4)  # score = inner product
    assert hits / (len(queries) * K) >= 0.95
    assert len(shared) == N and shared.contains(int(ids[0])) and not shared.contains(5)


def test_add_is_seen_at_once_by_another_replica_and_remove_too(server, filled, data) -> None:
    ids, vectors, _ = data
    replica = subprocess.Popen([sys.executable, "-c", REPLICA, server.uri, filled.collection, str(DIM)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert replica.stdout.readline().strip() == "ready"

        def replica_top(vector: np.ndarray) -> list[int]:
            replica.stdin.write(json.dumps(vector.tolist()) + "\n")
            replica.stdin.flush()
            return json.loads(replica.stdout.readline())

        for i in range(N, N + 8):  # acknowledged add, then at once a search on the other replica
            filled.add(ids[i : i + 1], vectors[i : i + 1])
            assert replica_top(vectors[i])[0] == ids[i]
        for i in range(N, N + 8):
            assert filled.remove(ids[i : i + 1]) == 1
            assert ids[i] not in replica_top(vectors[i])
    finally:
        replica.stdin.close()
        replica.wait(timeout=30)


def test_removed_ids_never_returned(filled, data) -> None:
    ids, vectors, queries = data
    top = np.concatenate([filled.search(q, K)[0] for q in queries[:20]])
    gone = np.union1d(top, ids[: N : 3])
    assert filled.remove(np.concatenate([gone, [-1, 12345]])) == gone.size  # absent ids are ignored
    assert filled.remove(gone) == 0
    assert len(filled) == N - gone.size
    np.testing.assert_array_equal(np.sort(filled.ids()), np.setdiff1d(ids[:N], gone))
    for q in queries[:20]:
        found, _ = filled.search(q, K)
        assert found.size == K and not np.isin(found, gone).any()


@pytest.mark.parametrize("share", [0.005, 0.5, "sparse"])
def test_allowed_restricts_results(shared, data, monkeypatch, share) -> None:
    """Small sets go to the server as an expression, large ones are over-fetched and filtered;
    a large set that is mostly absent ids also takes the chunked-expression fallback."""
    ids, vectors, queries = data
    rng = np.random.default_rng(3)
    if share == "sparse":
        allowed = np.concatenate([rng.choice(ids[:N], 40, replace=False), -np.arange(1, 2_000)])
        monkeypatch.setattr(milvus_module, "MAX_TOPK", 64)  # a small cap forces the fallback
    else:
        allowed = rng.choice(ids[:N], int(N * share), replace=False)
    assert (allowed.size > shared.filter_limit) == (share != 0.005)
    keep = np.isin(ids[:N], allowed)
    exact = ExactIndex(DIM)
    exact.add(ids[:N][keep], vectors[:N][keep])
    hits = 0
    for q in queries[:10]:
        found, scores = shared.search(q, K, allowed)
        assert found.size == K and np.isin(found, allowed).all() and np.all(np.diff(scores) <= 1e-6)
        hits += np.intersect1d(found, exact.search(q, K)[0]).size
    assert hits / (10 * K) >= 0.95


def test_upsert_replaces_and_validates(make, data) -> None:
    ids, vectors, _ = data
    index = make()
    index.add(ids[:100], vectors[:100])
    index.add(ids[:1], vectors[500:501])  # replace
    assert len(index) == 100
    found, scores = index.search(vectors[500], 2)
    assert found[0] == ids[0] and scores[0] == pytest.approx(1.0, abs=1e-4)
    assert ids[0] not in index.search(vectors[0], K)[0][:1]  # the old vector is gone
    with pytest.raises(ValueError):
        index.add(np.array([1, 1]), vectors[:2])
    assert index.search(vectors[0], 1000)[0].size == 100
    assert make().search(vectors[0], K)[0].size == 0


def test_save_load_reattaches_and_dim_is_checked(server, shared, data, tmp_path) -> None:
    _, _, queries = data
    shared.save(tmp_path / "ix")
    loaded = VectorIndex.load(tmp_path / "ix")
    assert isinstance(loaded, MilvusIndex) and len(loaded) == N
    np.testing.assert_array_equal(loaded.search(queries[0], K)[0], shared.search(queries[0], K)[0])
    with pytest.raises(ValueError, match="128-d"):
        MilvusIndex(DIM * 2, server.uri, shared.collection)
    with pytest.raises(ValueError):
        milvus_module.collection_name("bad-prefix", 1)
