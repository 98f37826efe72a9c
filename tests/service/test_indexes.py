"""IndexRegistry: snapshots, reconciliation with the store after any stop, and clean-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openfrs.service.indexes import DEFAULT_DIM as EMBEDDING_DIM
from openfrs.service.indexes import IndexRegistry
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.sqlite import SQLiteMetadataStore
from openfrs.store.synthetic import clustered_embeddings, query_embeddings
from openfrs.store.vectors import ExactIndex, HnswIndex, TieredIndex

N = 3_000
THRESHOLD = 1_000  # small, so these sets really migrate to the HNSW backend


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return clustered_embeddings(N + 1_000, EMBEDDING_DIM, seed=7)[0]


@pytest.fixture
def store(tmp_path: Path):
    db = SQLiteMetadataStore(tmp_path / "meta.db")
    yield db
    db.close()


def new_set(store: SQLiteMetadataStore, name: str = "staff") -> int:
    record = FaceSetRecord(key=0, project_id="p1", name=name, face_set_id=name[:8],
                           capacity=100_000, external_fields={}, model_version="m1",
                           created_at="2026-11-21 10:00:00")
    return store.create_face_set(record).key


def add(store: SQLiteMetadataStore, set_key: int, vectors: np.ndarray) -> np.ndarray:
    records = [FaceRecord(face_id=f"f{i}-{np.random.randint(1 << 30)}", external_image_id="img",
                          bounding_box=(0, 0, 1, 1), embedding=v) for i, v in enumerate(vectors)]
    return np.array([r.key for r in store.add_faces(set_key, records)], np.int64)


def registry(store: SQLiteMetadataStore, directory: Path, **kwargs) -> IndexRegistry:
    return IndexRegistry(store, directory,
                         factory=lambda dim: TieredIndex(dim, THRESHOLD, background=False),
                         **kwargs)


def answers(index, queries: np.ndarray) -> list[list[int]]:
    return [index.search(q, 10)[0].tolist() for q in queries]


def test_restart_loads_the_snapshot_and_catches_up_with_the_store(store, tmp_path, vectors):
    """What kill -9 leaves behind: faces committed after the last snapshot (the index never
    saw them) and faces deleted since. The next load has exactly the store's faces."""
    set_key = new_set(store)
    keys = add(store, set_key, vectors[:N])
    first = registry(store, tmp_path / "ix")
    index = first.get(set_key)
    assert isinstance(index.backend, HnswIndex) and len(index) == N
    assert first.maintain() == 1 and (tmp_path / "ix" / str(set_key) / "meta.json").exists()
    assert first.maintain() == 0  # nothing changed since

    later = add(store, set_key, vectors[N:N + 500])  # committed, never indexed
    gone = keys[::7]
    store.delete_faces(set_key, gone.tolist())

    second = registry(store, tmp_path / "ix")
    loaded = second.get(set_key)
    expected = np.setdiff1d(np.concatenate([keys, later]), gone)
    np.testing.assert_array_equal(np.sort(loaded.ids()), expected)
    assert isinstance(loaded.backend, HnswIndex)  # from the snapshot, not rebuilt exact

    rebuilt = registry(store, None).get(set_key)  # no snapshot: straight from the store
    queries = query_embeddings(50, N + 500, EMBEDDING_DIM, seed=7)[0]
    same = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(answers(loaded, queries),
                                                              answers(rebuilt, queries), strict=True)])
    assert same >= 0.98
    assert second.maintain() == 0  # 929 changes: below save_changes, not yet due
    assert second.maintain(force=True) == 1


def test_damaged_snapshot_is_rebuilt_from_the_store(store, tmp_path, vectors):
    set_key = new_set(store)
    keys = add(store, set_key, vectors[:500])
    first = registry(store, tmp_path / "ix")
    first.get(set_key)
    first.maintain(force=True)
    (tmp_path / "ix" / str(set_key) / "inner" / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    index = registry(store, tmp_path / "ix").get(set_key)
    assert isinstance(index.backend, ExactIndex)
    np.testing.assert_array_equal(np.sort(index.ids()), keys)


def test_updates_reach_a_loaded_index_and_drop_removes_the_snapshot(store, tmp_path, vectors):
    set_key, other = new_set(store), new_set(store, "visitors")
    keys = add(store, set_key, vectors[:200])
    reg = registry(store, tmp_path / "ix", save_changes=100)
    reg.get(set_key)
    more = add(store, set_key, vectors[200:300])
    reg.add(set_key, more, vectors[200:300])
    reg.remove(set_key, keys[:10])
    assert len(reg.get(set_key)) == 290 and reg.maintain() == 1
    reg.drop(set_key)
    assert not (tmp_path / "ix" / str(set_key)).exists()

    add(store, other, vectors[:50])
    reg.get(other)
    reg.maintain(force=True)
    (tmp_path / "ix" / "999999").mkdir()  # a snapshot whose set is gone
    fresh = registry(store, tmp_path / "ix")
    fresh.start(check_every_s=3600)
    try:
        assert sorted(p.name for p in (tmp_path / "ix").iterdir()) == [str(other)]
        assert len(fresh.get(other)) == 50
    finally:
        fresh.close()


def test_close_snapshots_changes_and_the_next_start_uses_them(store, tmp_path, vectors):
    set_key = new_set(store)
    add(store, set_key, vectors[:1_500])
    reg = registry(store, tmp_path / "ix")
    reg.start(check_every_s=3600)
    assert len(reg.get(set_key)) == 1_500
    more = add(store, set_key, vectors[1_500:1_600])
    reg.add(set_key, more, vectors[1_500:1_600])
    reg.close()
    snapshot = tmp_path / "ix" / str(set_key)
    reloaded = IndexRegistry(store, tmp_path / "ix")._read_snapshot(set_key, EMBEDDING_DIM)
    assert snapshot.exists() and reloaded is not None and len(reloaded) == 1_600
    assert isinstance(reloaded.backend, HnswIndex)


def test_each_set_gets_the_dimension_of_its_recogniser(store, tmp_path, vectors):
    """Sets of two recognisers (512-d and 128-d) live side by side; an empty set is sized by its
    model's dimension, a set of a model the pack no longer holds by its stored vectors, and a
    snapshot of another dimension is never loaded into a set."""
    def model_set(name: str, model: str) -> int:
        record = FaceSetRecord(key=0, project_id="p1", name=name, face_set_id=name[:8], capacity=100_000,
                               external_fields={}, model_version=model, created_at="2026-12-01 10:00:00")
        return store.create_face_set(record).key

    wide = clustered_embeddings(50, 512, seed=3)[0]
    new_key, old_key, empty_key, retired_key = (model_set("new", "m512"), model_set("old", "m128"),
                                                model_set("empty", "m512"), model_set("retired", "gone"))
    add(store, new_key, wide)
    add(store, old_key, vectors[:50])
    add(store, retired_key, vectors[50:60])
    dims = {"m512": 512, "m128": 128}
    first = IndexRegistry(store, tmp_path / "ix", dims=dims)
    assert (first.get(new_key).dim, first.get(old_key).dim) == (512, 128)
    assert (first.get(empty_key).dim, first.get(retired_key).dim) == (512, 128)
    assert first.get(new_key).search(wide[7], 1)[0].tolist() == [first.get(new_key).ids()[7]]
    first.close()
    # a snapshot whose dimension no longer matches the set's model is rebuilt, not served
    again = IndexRegistry(store, tmp_path / "ix", dims={"m512": 128, "m128": 128})
    assert again._read_snapshot(new_key, 128) is None
    assert again.get(old_key).dim == 128 and len(again.get(old_key)) == 50
