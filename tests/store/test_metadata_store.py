"""The MetadataStore contract, held on every store (SQLite and PostgreSQL, tests/store/conftest.py):
round trips, per-project uniqueness, all-or-nothing batches, capacity, merges, durability at return
and what a second store (a restarted process, another replica) sees."""

from __future__ import annotations

import inspect
import sqlite3

import numpy as np
import psycopg
import pytest
from store_helpers import face, face_set

from openfrs.store.base import (
    DuplicateFaceSet,
    DuplicateFaceSetId,
    FaceSetFull,
    MetadataStore,
    TooManyFaceSets,
)
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.sqlite import SQLiteMetadataStore


def test_face_sets_are_per_project_and_unique(store):
    created = store.create_face_set(face_set())
    assert created.key > 0 and created.face_number == 0 and created.external_fields == {"age": "integer"}
    assert store.get_face_set("p1", "staff") == created
    with pytest.raises(DuplicateFaceSet):
        store.create_face_set(face_set())
    store.create_face_set(face_set(project="p2"))  # same name, other tenant
    clash = face_set(name="other")
    with pytest.raises(DuplicateFaceSetId):
        store.create_face_set(FaceSetRecord(**{**clash.__dict__, "face_set_id": created.face_set_id}))
    assert [s.name for s in store.list_face_sets("p1")] == ["staff"]
    assert len(store.list_face_sets("p2")) == 1
    assert store.get_face_set("p1", "nope") is None


def test_the_face_set_limit_is_per_project(store):
    store.create_face_set(face_set("a"), limit=2)
    store.create_face_set(face_set("b"), limit=2)
    with pytest.raises(TooManyFaceSets):
        store.create_face_set(face_set("c"), limit=2)
    store.create_face_set(face_set("a", project="p2"), limit=2)
    assert [s.name for s in store.list_face_sets("p1")] == ["a", "b"]


def test_faces_round_trip_with_keys_and_counts(store):
    key = store.create_face_set(face_set()).key
    stored = store.add_faces(key, [face(i) for i in range(3)])
    assert [f.key for f in stored] == sorted({f.key for f in stored})
    assert store.count_faces(key) == 3
    again = store.get_face(key, "f0000001")
    assert again.fields == {"age": 1} and again.bounding_box == (1, 2, 30, 40)
    assert again.key == stored[1].key and again.model_version == "m1"
    assert again.embedding.dtype == np.float32
    np.testing.assert_array_equal(again.embedding, face(1).embedding)
    assert [f.face_id for f in store.list_faces(key, offset=1, limit=5)] == ["f0000001", "f0000002"]
    keys, vectors = zip(*store.iter_embeddings(key, batch=2), strict=True)
    assert np.concatenate(keys).tolist() == [f.key for f in stored]
    assert np.concatenate(vectors).shape == (3, 128)
    assert store.delete_faces(key, [stored[0].key]) == 1
    assert store.count_faces(key) == 2 and store.get_face(key, "f0000000") is None


def test_lookups_by_key_and_what_indexes_are_built_from(store):
    key = store.create_face_set(face_set()).key
    other = store.create_face_set(face_set("other")).key
    stored = store.add_faces(key, [face(i) for i in range(5)])
    foreign = store.add_faces(other, [face(9)])[0].key
    wanted = [stored[3].key, stored[0].key, foreign]  # a key of another set is never returned
    found = store.faces_by_keys(key, wanted)
    assert sorted(found) == sorted(wanted[:2]) and found[stored[3].key].face_id == "f0000003"
    assert store.face_keys(key).tolist() == [f.key for f in stored]
    assert store.face_keys(key).dtype == np.int64
    (got_keys, vectors), = store.iter_embeddings(key, keys=np.array(wanted))
    assert got_keys.tolist() == sorted(wanted[:2]) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors[0], face(0).embedding)
    assert list(store.iter_embeddings(key, keys=np.array([], np.int64))) == []
    assert store.face_set_model(key) == "m1" and store.face_set_model(999_999) is None
    assert store.face_set_keys() == [key, other]
    assert store.face_set_counts() == [("p1", "other", 1), ("p1", "staff", 5)]


def test_keys_are_never_reused(store):
    key = store.create_face_set(face_set()).key
    stored = store.add_faces(key, [face(i) for i in range(3)])
    store.delete_faces(key, np.array([stored[-1].key]))
    again = store.add_faces(key, [face(2)])
    assert again[0].key > stored[-1].key


def test_deleting_a_face_set_removes_its_faces(store):
    key = store.create_face_set(face_set()).key
    store.add_faces(key, [face(i) for i in range(5)])
    assert store.delete_face_set("p1", "staff")
    assert store.get_face_set("p1", "staff") is None
    assert list(store.iter_embeddings(key)) == [] and store.count_faces(key) == 0
    assert not store.delete_face_set("p1", "staff")


def test_a_failed_batch_writes_nothing(store):
    key = store.create_face_set(face_set()).key
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.add_faces(key, [face(1), face(1)])  # duplicate face_id in one batch
    assert store.count_faces(key) == 0 and store.get_face(key, "f0000001") is None


def test_capacity_is_checked_with_the_whole_batch(store):
    key = store.create_face_set(face_set(capacity=3)).key
    store.add_faces(key, [face(0), face(1)], capacity=3)
    with pytest.raises(FaceSetFull):
        store.add_faces(key, [face(2), face(3)], capacity=3)
    assert store.count_faces(key) == 2 and store.get_face(key, "f0000002") is None
    store.add_faces(key, [face(2)], capacity=3)
    with pytest.raises(FaceSetFull):
        store.add_faces(999_999, [face(4)], capacity=3)  # no such set
    assert store.add_faces(key, [], capacity=3) == []


def test_update_merges_fields_and_keeps_what_is_not_given(store):
    key = store.create_face_set(face_set()).key
    store.add_faces(key, [FaceRecord("f1", "img1", (0, 0, 1, 1), face(1).embedding,
                                     {"age": 3, "name": "x", "ok": True})])
    assert store.update_face(key, "f1", None, {"age": 4, "name": None, "score": 0.5})
    got = store.get_face(key, "f1")
    assert got.fields == {"age": 4, "ok": True, "score": 0.5} and got.external_image_id == "img1"
    assert store.update_face(key, "f1", "img2", None)
    got = store.get_face(key, "f1")
    assert got.external_image_id == "img2" and got.fields == {"age": 4, "ok": True, "score": 0.5}
    assert not store.update_face(key, "nope", "img3", {"age": 1})


def test_image_ids_are_distinct_per_set_and_follow_deletes(store):
    first, second = store.create_face_set(face_set("a")).key, store.create_face_set(face_set("b")).key
    assert store.external_image_ids(first) == set()
    stored = store.add_faces(first, [face(1, "img1"), face(2, "img1"), face(3, "img2")])
    store.add_faces(second, [face(4, "other")])
    assert store.external_image_ids(first) == {"img1", "img2"}  # two faces of img1: one id
    assert store.external_image_ids(second) == {"other"}
    store.delete_faces(first, [stored[2].key])
    assert store.external_image_ids(first) == {"img1"}
    assert store.external_image_ids(9999) == set()


def test_an_acknowledged_add_survives_closing_and_reopening(open_store):
    store = open_store()
    key = store.create_face_set(face_set()).key
    stored = store.add_faces(key, [face(i) for i in range(3)])
    store.close()
    reopened = open_store()  # a new process's store: new connections, nothing cached
    assert reopened.face_keys(key).tolist() == [f.key for f in stored]
    np.testing.assert_array_equal(reopened.get_face(key, "f0000002").embedding, face(2).embedding)
    assert reopened.add_faces(key, [face(3)])[0].key > stored[-1].key


def test_two_stores_on_one_database_see_each_others_writes_at_once(open_store):
    """What replicas rely on: nothing a store returns is cached from before another's write."""
    first, second = open_store(), open_store()
    key = first.create_face_set(face_set()).key
    assert second.get_face_set("p1", "staff").key == key
    with pytest.raises(DuplicateFaceSet):
        second.create_face_set(face_set())
    stored = second.add_faces(key, [face(i) for i in range(2)])
    assert first.face_keys(key).tolist() == [f.key for f in stored] and first.count_faces(key) == 2
    first.update_face(key, "f0000001", None, {"age": 99})
    assert second.get_face(key, "f0000001").fields == {"age": 99}
    first.delete_faces(key, [stored[0].key])
    assert second.count_faces(key) == 1 and second.get_face(key, "f0000000") is None
    assert second.delete_face_set("p1", "staff") and first.get_face_set("p1", "staff") is None


@pytest.mark.parametrize("store_class", [SQLiteMetadataStore, PostgresMetadataStore])
def test_stores_implement_the_metadata_store_interface(store_class):
    """Services are typed against MetadataStore: every store offers every method with the same
    parameters."""
    methods = [name for name, _ in inspect.getmembers(MetadataStore, inspect.isfunction)
               if not name.startswith("_")]
    assert "keys_matching" in methods and "iter_embeddings" in methods
    for name in methods:
        wanted = list(inspect.signature(getattr(MetadataStore, name)).parameters)
        assert list(inspect.signature(getattr(store_class, name)).parameters) == wanted, name
