"""The person-group contract (store/persons_sql.py), held on SQLite and PostgreSQL alike: a group
is a face set with a group row; a person's faces are copied into each of its groups' sets in the
same transaction; refusals write nothing; a person left in no group is gone."""

from __future__ import annotations

import numpy as np
import pytest
from store_helpers import face_set

from openfrs.store.base import (
    FaceSetFull,
    GroupConflict,
    MembershipConflict,
    PersonExists,
    PersonLimit,
    TooManyFaceSets,
    UnknownGroup,
    UnknownPerson,
)
from openfrs.store.persons_sql import person_image_id
from openfrs.store.records import GroupRecord, PersonFaceRecord, PersonRecord


def _group(
    store,
    group_id: str,
    name: str | None = None,
    project: str = "p1",
    capacity: int = 100,
    limit: int | None = None,
):
    record = face_set(name=f"s-{group_id}", project=project, capacity=capacity)
    return store.create_group(
        record, GroupRecord(0, project, group_id, name or f"name {group_id}", "tag", ("a", "b"), 1, 1), limit
    )


def _face(index: int) -> PersonFaceRecord:
    vector = np.zeros(8, np.float32)
    vector[index % 8] = 1.0
    return PersonFaceRecord(f"pf{index:06d}", vector, (1, 2, 3, 4), "m1", "2026-01-01 00:00:00")


def _person(store, person_id: str, group_id: str, faces=(0,), project: str = "p1"):
    record = PersonRecord(project, person_id, "Ann", 2, 5, faces=tuple(_face(i) for i in faces))
    return store.create_person(record, group_id, {0: "x"})


def test_groups_are_face_sets_with_unique_ids_and_names(store):
    group = _group(store, "g1")
    assert group.descriptions == ("a", "b") and group.face_number == 0 and group.model_version == "m1"
    assert store.get_face_set("p1", "s-g1").key == group.set_key
    with pytest.raises(GroupConflict, match="id"):
        _group(store, "g1", "other")
    with pytest.raises(GroupConflict, match="name"):
        _group(store, "g2", "name g1")
    _group(store, "g1", project="p2")  # other tenant
    _group(store, "g2", limit=3)
    with pytest.raises(TooManyFaceSets):
        _group(store, "g3", limit=2)
    groups, total = store.list_groups("p1", 0, 10)
    assert [g.group_id for g in groups] == ["g1", "g2"] and total == 2
    changed = store.update_group("p1", "g1", "renamed", None, {1: "c"}, 9)
    assert (changed.name, changed.tag, changed.descriptions) == ("renamed", "tag", ("a", "c"))
    with pytest.raises(GroupConflict):
        store.update_group("p1", "g1", None, None, {0: "c"}, 9)  # two fields named c
    assert store.get_group("p1", "g1") == changed


def test_a_person_lives_in_its_groups_face_sets(store):
    g1, g2 = _group(store, "g1"), _group(store, "g2")
    person, set_key, stored = _person(store, "ann#1", "g1", faces=(0, 1))
    assert set_key == g1.set_key and [f.face_id for f in stored] == ["pf000000", "pf000001"]
    assert stored[0].external_image_id == person_image_id("ann#1")
    assert store.count_faces(g1.set_key) == 2 and person.groups[0].descriptions == {0: "x"}
    with pytest.raises(PersonExists):
        _person(store, "ann#1", "g2")
    with pytest.raises(UnknownGroup):
        _person(store, "bob", "nope")
    copied = store.join_groups("p1", "ann#1", ["g2"], 100, 7)
    assert list(copied) == [g2.set_key] and store.count_faces(g2.set_key) == 2
    with pytest.raises(MembershipConflict):
        store.join_groups("p1", "ann#1", ["g2"], 100, 7)
    added = store.add_person_faces("p1", "ann#1", [_face(2)], 5)
    assert sorted(added) == sorted([g1.set_key, g2.set_key]) and store.count_faces(g2.set_key) == 3
    with pytest.raises(PersonLimit):
        store.add_person_faces("p1", "ann#1", [_face(3), _face(4), _face(5)], 5)
    assert len(store.get_person("p1", "ann#1").faces) == 3  # refused: nothing written
    found = store.persons_of_faces("p1", ["pf000001", "zzz"])
    assert list(found) == ["pf000001"] and found["pf000001"].person_id == "ann#1"
    gone, removed = store.delete_person_faces("p1", "ann#1", ["pf000000", "nope"])
    assert gone == ["pf000000"] and all(len(keys) == 1 for keys in removed.values())
    with pytest.raises(PersonLimit):
        store.delete_person_faces("p1", "ann#1", ["pf000001", "pf000002"])
    store.update_person("p1", "ann#1", "Anna", None)
    store.update_membership("p1", "ann#1", "g2", {1: "y"})
    person = store.get_person("p1", "ann#1")
    assert (person.name, person.gender) == ("Anna", 2)
    assert [g.descriptions for g in person.groups] == [{0: "x"}, {1: "y"}]
    assert store.group_counts(g2.set_key) == (1, 2)
    assert [p.person_id for p in store.group_persons(g2.set_key, 0, 10)] == ["ann#1"]


def test_leaving_the_last_group_deletes_the_person(store):
    _group(store, "g1"), _group(store, "g2")
    _person(store, "ann", "g1")
    store.join_groups("p1", "ann", ["g2"], 100, 1)
    set_key, keys, gone = store.leave_group("p1", "ann", "g1")
    assert len(keys) == 1 and not gone and store.count_faces(set_key) == 0
    with pytest.raises(MembershipConflict):
        store.leave_group("p1", "ann", "g1")
    assert store.leave_group("p1", "ann", "g2")[2] is True
    assert store.get_person("p1", "ann") is None
    with pytest.raises(UnknownPerson):
        store.delete_person("p1", "ann")


def test_deleting_a_group_keeps_persons_of_other_groups(store):
    g1 = _group(store, "g1")
    _group(store, "g2")
    _person(store, "ann", "g1")
    _person(store, "bob", "g1", faces=(1,))
    store.join_groups("p1", "bob", ["g2"], 100, 1)
    assert store.delete_group("p1", "g1") == g1.set_key
    assert store.get_person("p1", "ann") is None and store.get_face_set("p1", "s-g1") is None
    assert [g.group_id for g in store.get_person("p1", "bob").groups] == ["g2"]
    assert store.delete_group("p1", "g1") is None
    assert store.delete_person("p1", "bob") and store.get_person("p1", "bob") is None


def test_person_limits_and_capacity_refuse_whole_calls(store):
    _group(store, "g1", capacity=2)
    _group(store, "g2", capacity=1)
    _person(store, "ann", "g1", faces=(0, 1))
    with pytest.raises(FaceSetFull):
        _person(store, "bob", "g1")
    assert store.get_person("p1", "bob") is None
    with pytest.raises(FaceSetFull):
        store.join_groups("p1", "ann", ["g2"], 100, 1)
    with pytest.raises(PersonLimit):
        store.join_groups("p1", "ann", ["g2"], 1, 1)
    assert [g.group_id for g in store.get_person("p1", "ann").groups] == ["g1"]


def test_the_tables_survive_a_reopen(open_store):
    first = open_store()
    _group(first, "g1")
    _person(first, "ann", "g1")
    again = open_store()
    assert again.get_person("p1", "ann").faces[0].face_id == "pf000000"


def test_stores_made_before_persons_gain_the_tables(tmp_path, request):
    """A data dir (SQLite) or schema (PostgreSQL, metadata version 1) made by older code opens
    with its face sets intact and the person tables added."""
    import sqlite3

    from openfrs.store.pg_db import migrate
    from openfrs.store.postgres import MIGRATIONS, PostgresMetadataStore
    from openfrs.store.sqlite import SCHEMA, SQLiteMetadataStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA[: SCHEMA.index("CREATE TABLE IF NOT EXISTS person_groups")])
        db.execute("INSERT INTO face_sets (project_id, name, face_set_id, capacity, external_fields,"
                   " model_version, created_at) VALUES ('p1', 'old', 'abcdefgh', 10, '{}', 'm1', 'now')")
    opened = SQLiteMetadataStore(path)
    assert opened.get_face_set("p1", "old").face_set_id == "abcdefgh"
    assert _group(opened, "g1").group_id == "g1"
    opened.close()

    import psycopg
    from psycopg import sql

    url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        assert migrate(conn, schema, "metadata", MIGRATIONS[:1]) == 1
        conn.execute("INSERT INTO face_sets (project_id, name, face_set_id, capacity, external_fields,"
                     " model_version, created_at) VALUES ('p1', 'old', 'abcdefgh', 10, '{}', 'm1', 'now')")
    store = PostgresMetadataStore(url, schema, max_connections=2)
    try:
        assert store.get_face_set("p1", "old").face_set_id == "abcdefgh"
        assert _group(store, "g1").group_id == "g1"
    finally:
        store.close()


def test_persons_of_many_face_ids(store):
    """A search over many groups asks for thousands of face ids: one statement would pass
    SQLite's parameter cap."""
    _group(store, "g1")
    _person(store, "ann", "g1", faces=(3,))
    ids = [f"x{i:06d}" for i in range(40_000)] + ["pf000003"]
    assert [p.person_id for p in store.persons_of_faces("p1", ids).values()] == ["ann"]
