"""SQLite metadata store: face sets and faces round-trip, cascade delete, and kill -9 durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.sqlite import DuplicateFaceSet, DuplicateFaceSetId, SQLiteMetadataStore


def face_set(name: str = "staff", project: str = "p1") -> FaceSetRecord:
    return FaceSetRecord(key=0, project_id=project, name=name, face_set_id=f"{project}{name}"[:8],
                         capacity=10_000, external_fields={"age": "integer"},
                         model_version="m1", created_at="2026-11-21 10:00:00")


def face(index: int) -> FaceRecord:
    vector = np.random.default_rng(index).standard_normal(128).astype(np.float32)
    return FaceRecord(face_id=f"f{index:07d}", external_image_id=f"img{index}",
                      bounding_box=(1, 2, 30, 40), embedding=vector / np.linalg.norm(vector),
                      fields={"age": index}, model_version="m1", created_at="2026-11-21 10:00:01")


@pytest.fixture
def store(tmp_path: Path):
    db = SQLiteMetadataStore(tmp_path / "meta.db")
    yield db
    db.close()


def test_face_sets_are_per_project_and_unique(store):
    created = store.create_face_set(face_set())
    assert created.key > 0 and created.face_number == 0
    with pytest.raises(DuplicateFaceSet):
        store.create_face_set(face_set())
    store.create_face_set(face_set(project="p2"))  # same name, other tenant
    clash = face_set(name="other")
    with pytest.raises(DuplicateFaceSetId):
        store.create_face_set(FaceSetRecord(**{**clash.__dict__, "face_set_id": created.face_set_id}))
    assert [s.name for s in store.list_face_sets("p1")] == ["staff"]
    assert len(store.list_face_sets("p2")) == 1
    assert store.get_face_set("p1", "nope") is None


def test_faces_round_trip_with_keys_and_counts(store):
    key = store.create_face_set(face_set()).key
    stored = store.add_faces(key, [face(i) for i in range(3)])
    assert [f.key for f in stored] == sorted({f.key for f in stored})
    assert store.count_faces(key) == 3
    again = store.get_face(key, "f0000001")
    assert again.fields == {"age": 1} and again.bounding_box == (1, 2, 30, 40)
    np.testing.assert_array_equal(again.embedding, face(1).embedding)
    assert [f.face_id for f in store.list_faces(key, offset=1, limit=5)] == ["f0000001", "f0000002"]
    keys, vectors = zip(*store.iter_embeddings(key, batch=2), strict=True)
    assert np.concatenate(keys).tolist() == [f.key for f in stored]
    assert np.concatenate(vectors).shape == (3, 128)
    assert store.delete_faces(key, [stored[0].key]) == 1
    assert store.count_faces(key) == 2 and store.get_face(key, "f0000000") is None


def test_deleting_a_face_set_removes_its_faces(store):
    key = store.create_face_set(face_set()).key
    store.add_faces(key, [face(i) for i in range(5)])
    assert store.delete_face_set("p1", "staff")
    assert store.get_face_set("p1", "staff") is None
    assert list(store.iter_embeddings(key)) == []
    assert not store.delete_face_set("p1", "staff")


def test_a_failed_batch_writes_nothing(store):
    key = store.create_face_set(face_set()).key
    with pytest.raises(sqlite3.IntegrityError):
        store.add_faces(key, [face(1), face(1)])  # duplicate face_id in one batch
    assert store.count_faces(key) == 0 and store.get_face(key, "f0000001") is None


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from openfrs.store.records import FaceRecord, FaceSetRecord
    from openfrs.store.sqlite import SQLiteMetadataStore
    store = SQLiteMetadataStore(sys.argv[1])
    key = store.create_face_set(FaceSetRecord(0, "p1", "s", "abcdefgh", 10000, {}, "m1", "t")).key
    i = 0
    while True:
        v = np.full(128, 1 / np.sqrt(128), np.float32)
        store.add_faces(key, [FaceRecord(f"f{i}", f"img{i}", (0, 0, 1, 1), v)])
        print(f"f{i}", flush=True)  # acknowledged only after the commit returned
        i += 1
""")


def test_acknowledged_faces_survive_kill_9(tmp_path: Path):
    db = tmp_path / "meta.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    try:
        while len(acknowledged) < 200:
            line = proc.stdout.readline()
            assert line, "writer died early"
            acknowledged.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    store = SQLiteMetadataStore(db)
    key = store.get_face_set("p1", "s").key
    for face_id in acknowledged:
        assert store.get_face(key, face_id) is not None, face_id
    assert store.count_faces(key) >= len(acknowledged)
    store.close()


def test_declared_fields_are_indexed_so_filters_skip_the_json_scan(tmp_path):
    from openfrs.service.filters import parse_filter
    from openfrs.store.sql_filter import column_sql, to_sql

    path = tmp_path / "meta.db"
    store = SQLiteMetadataStore(path)
    key = store.create_face_set(face_set()).key  # declares "age"
    store.add_faces(key, [face(i) for i in range(50)])
    expr = parse_filter("age:[10 TO 12]", {"age": "integer"})
    where, params = to_sql(expr, column_sql)
    plan = " ".join(row[3] for row in store._reader().execute(
        f"EXPLAIN QUERY PLAN SELECT key FROM faces WHERE set_key = ? AND ({where})", (key, *params)))
    assert "faces_field_age" in plan
    assert store.keys_matching(key, expr).tolist() == [11, 12, 13]  # faces 10-12 have keys 11-13
    store._writer.execute('DROP INDEX "faces_field_age"')  # a store made before field indexes
    store.close()
    reopened = SQLiteMetadataStore(path)
    indexes = reopened._reader().execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    names = {row[0] for row in indexes}
    assert "faces_field_age" in names
    reopened.close()


def test_sqlite_store_implements_the_metadata_store_interface():
    """Services are typed against MetadataStore; the SQLite store must offer every method with
    the same parameters (a PostgreSQL store will be held to the same check)."""
    import inspect

    from openfrs.store.base import MetadataStore

    methods = [name for name, _ in inspect.getmembers(MetadataStore, inspect.isfunction)
               if not name.startswith("_")]
    assert "keys_matching" in methods and "iter_embeddings" in methods
    for name in methods:
        wanted = list(inspect.signature(getattr(MetadataStore, name)).parameters)
        assert list(inspect.signature(getattr(SQLiteMetadataStore, name)).parameters) == wanted, name
