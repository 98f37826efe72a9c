"""Person groups, persons, their faces and group memberships: one SQL text for SQLite and PostgreSQL.

A group is a face set with a row in `person_groups`; a person's faces are stored once in
`person_faces` and copied as plain faces (same face_id) into every face set the person is a member
of, in the same transaction as the membership, so the sets' vector indexes, FRS search and the
capacity checks work on them unchanged. Every write takes the project's lock first (a no-op on
SQLite, whose writes are serialised already; an advisory lock on PostgreSQL, the one face-set
creation takes), checks, then writes: a refused call writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from openfrs.store.base import (
    DuplicateFaceSet,
    DuplicateFaceSetId,
    FaceSetFull,
    GroupConflict,
    MembershipConflict,
    PersonExists,
    PersonLimit,
    TooManyFaceSets,
    UnknownGroup,
    UnknownPerson,
)
from openfrs.store.records import (
    FaceRecord,
    FaceSetRecord,
    GroupRecord,
    MembershipRecord,
    PersonFaceRecord,
    PersonRecord,
)
from openfrs.store.rows import face_set_values, face_values

# {key}: the dialect's auto-increment primary key; {blob}: its byte-string type.
TABLES = (
    """CREATE TABLE IF NOT EXISTS person_groups (
        set_key BIGINT PRIMARY KEY REFERENCES face_sets(key) ON DELETE CASCADE,
        project_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        name TEXT NOT NULL,
        tag TEXT NOT NULL,
        descriptions TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        UNIQUE (project_id, group_id),
        UNIQUE (project_id, name)
    )""",
    """CREATE TABLE IF NOT EXISTS persons (
        key {key},
        project_id TEXT NOT NULL,
        person_id TEXT NOT NULL,
        name TEXT NOT NULL,
        gender INTEGER NOT NULL,
        created_ms BIGINT NOT NULL,
        UNIQUE (project_id, person_id)
    )""",
    """CREATE TABLE IF NOT EXISTS person_faces (
        key {key},
        person_key BIGINT NOT NULL REFERENCES persons(key) ON DELETE CASCADE,
        face_id TEXT NOT NULL,
        embedding {blob} NOT NULL,
        bbox TEXT NOT NULL,
        model_version TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS person_faces_by_person ON person_faces (person_key, key)",
    "CREATE INDEX IF NOT EXISTS person_faces_by_face_id ON person_faces (face_id)",
    """CREATE TABLE IF NOT EXISTS memberships (
        person_key BIGINT NOT NULL REFERENCES persons(key) ON DELETE CASCADE,
        set_key BIGINT NOT NULL REFERENCES face_sets(key) ON DELETE CASCADE,
        descriptions TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        PRIMARY KEY (person_key, set_key)
    )""",
    "CREATE INDEX IF NOT EXISTS memberships_by_set ON memberships (set_key, person_key)",
)
_GROUP_QUERY = (
    "SELECT g.set_key, g.project_id, g.group_id, g.name, g.tag, g.descriptions, g.created_ms,"
    " g.updated_ms, s.model_version, s.face_number FROM person_groups g"
    " JOIN face_sets s ON s.key = g.set_key"
)
_PERSON_QUERY = "SELECT key, project_id, person_id, name, gender, created_ms FROM persons"
_IMAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")
ID_CHUNK = 500
Rows = Callable[[str, Sequence[object]], list[tuple]]


def person_image_id(person_id: str) -> str:
    """The external_image_id a person's faces carry in a face set (FRS's 1-36 of [A-Za-z0-9_-]):
    the person id itself where it fits, else `p-` and a hash of it."""
    if _IMAGE_ID.fullmatch(person_id):
        return person_id
    return "p-" + hashlib.sha256(person_id.encode()).hexdigest()[:32]


def _group(row: tuple) -> GroupRecord:
    return GroupRecord(
        set_key=int(row[0]),
        project_id=row[1],
        group_id=row[2],
        name=row[3],
        tag=row[4],
        descriptions=tuple(json.loads(row[5])),
        created_ms=int(row[6]),
        updated_ms=int(row[7]),
        model_version=row[8],
        face_number=int(row[9]),
    )


def _descriptions(text: str) -> dict[int, str]:
    return {int(index): value for index, value in json.loads(text).items()}


_PERSON_FACE_COLUMNS = "face_id, embedding, bbox, model_version, created_at"


def _person_face(row: Sequence[Any]) -> PersonFaceRecord:
    """A row of _PERSON_FACE_COLUMNS."""
    return PersonFaceRecord(
        face_id=row[0],
        embedding=np.frombuffer(bytes(row[1]), np.float32).copy(),
        bounding_box=tuple(json.loads(row[2])),
        model_version=row[3],
        created_at=row[4],
    )


def _membership(row: Sequence[Any]) -> MembershipRecord:
    """A (set_key, group_id, descriptions) row."""
    return MembershipRecord(set_key=int(row[0]), group_id=row[1], descriptions=_descriptions(row[2]))


def _person_record(
    row: Sequence[Any], faces: Sequence[PersonFaceRecord], groups: Sequence[MembershipRecord]
) -> PersonRecord:
    """A row of _PERSON_QUERY, with its faces and memberships."""
    return PersonRecord(
        key=int(row[0]),
        project_id=row[1],
        person_id=row[2],
        name=row[3],
        gender=int(row[4]),
        created_ms=int(row[5]),
        faces=tuple(faces),
        groups=tuple(groups),
    )


def _face_copy(person_id: str, face: PersonFaceRecord) -> FaceRecord:
    return FaceRecord(
        face_id=face.face_id,
        external_image_id=person_image_id(person_id),
        bounding_box=face.bounding_box,
        embedding=face.embedding,
        model_version=face.model_version,
        created_at=face.created_at,
    )


class PersonTables:
    """Mixed into both metadata stores; they give `_transaction`, `_query_rows`, `_project_lock`
    and PARAM (their placeholder)."""

    PARAM = "%s"
    _transaction: Callable[[], AbstractContextManager[Any]]

    def _query_rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        raise NotImplementedError

    def _project_lock(self, db: Any, project_id: str) -> None:
        """Serialise this project's group and person writes (and face-set creation)."""

    def _q(self, query: str) -> str:
        if self.PARAM == "%s":
            return query
        return query.replace("%s::jsonb", "?").replace("%s", "?")

    def _read(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._query_rows(self._q(query), params)

    def _read_in(self, query: str, leading: Sequence[object], values: Sequence[object]) -> list[tuple]:
        """Rows of `query` whose `{in}` is a list of `values` (after the `leading` parameters), in
        chunks of ID_CHUNK: SQLite caps the parameters of a statement."""
        rows: list[tuple] = []
        for start in range(0, len(values), ID_CHUNK):
            chunk = values[start : start + ID_CHUNK]
            rows += self._read(query.replace("{in}", ", ".join(["%s"] * len(chunk))), (*leading, *chunk))
        return rows

    def _in_tx(self, db: Any) -> Rows:
        return lambda query, params=(): db.execute(self._q(query), params).fetchall()

    @contextmanager
    def _locked(self, project_id: str) -> Iterator[tuple[Any, Rows]]:
        with self._transaction() as db:
            self._project_lock(db, project_id)
            yield db, self._in_tx(db)

    # -- groups ---------------------------------------------------------------------------

    def create_group(
        self, face_set: FaceSetRecord, group: GroupRecord, limit: int | None = None
    ) -> GroupRecord:
        """The face set and its group row in one transaction. Raises TooManyFaceSets,
        GroupConflict("id" | "name"), DuplicateFaceSet (the set name taken) or DuplicateFaceSetId."""
        project = face_set.project_id
        with self._locked(project) as (_, run):
            if (
                limit is not None
                and run("SELECT COUNT(*) FROM face_sets WHERE project_id = %s", (project,))[0][0] >= limit
            ):
                raise TooManyFaceSets(project)
            self._check_group_free(run, project, group)
            if run("SELECT 1 FROM face_sets WHERE project_id = %s AND name = %s", (project, face_set.name)):
                raise DuplicateFaceSet(face_set.name)
            if run("SELECT 1 FROM face_sets WHERE face_set_id = %s", (face_set.face_set_id,)):
                raise DuplicateFaceSetId(face_set.face_set_id)
            ((set_key,),) = run(
                "INSERT INTO face_sets (project_id, name, face_set_id, capacity, external_fields,"
                " model_version, created_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s) RETURNING key",
                face_set_values(face_set),
            )
            self._insert_group_row(run, int(set_key), project, group)
        found = self.get_group(project, group.group_id)
        assert found is not None  # committed just above
        return found

    @staticmethod
    def _check_group_free(run: Rows, project_id: str, group: GroupRecord) -> None:
        """Raises GroupConflict("id" | "name") when another group of the project has either."""
        for what, column, value in (("id", "group_id", group.group_id), ("name", "name", group.name)):
            if run(
                f"SELECT 1 FROM person_groups WHERE project_id = %s AND {column} = %s", (project_id, value)
            ):
                raise GroupConflict(what)

    @staticmethod
    def _insert_group_row(run: Rows, set_key: int, project_id: str, group: GroupRecord) -> None:
        run(
            "INSERT INTO person_groups (set_key, project_id, group_id, name, tag, descriptions,"
            " created_ms, updated_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING set_key",
            (
                set_key,
                project_id,
                group.group_id,
                group.name,
                group.tag,
                json.dumps(list(group.descriptions)),
                group.created_ms,
                group.updated_ms,
            ),
        )

    def get_group(self, project_id: str, group_id: str) -> GroupRecord | None:
        rows = self._read(
            _GROUP_QUERY + " WHERE g.project_id = %s AND g.group_id = %s", (project_id, group_id)
        )
        return _group(rows[0]) if rows else None

    def list_groups(self, project_id: str, offset: int, limit: int) -> tuple[list[GroupRecord], int]:
        rows = self._read(
            _GROUP_QUERY + " WHERE g.project_id = %s ORDER BY g.set_key LIMIT %s OFFSET %s",
            (project_id, limit, offset),
        )
        ((total,),) = self._read("SELECT COUNT(*) FROM person_groups WHERE project_id = %s", (project_id,))
        return [_group(row) for row in rows], int(total)

    def update_group(
        self,
        project_id: str,
        group_id: str,
        name: str | None,
        tag: str | None,
        descriptions: Mapping[int, str],
        updated_ms: int,
    ) -> GroupRecord:
        """New name / tag / description field names by index. Raises UnknownGroup,
        GroupConflict("name") or GroupConflict("description") (two fields of one name)."""
        with self._locked(project_id) as (_, run):
            rows = run(_GROUP_QUERY + " WHERE g.project_id = %s AND g.group_id = %s", (project_id, group_id))
            if not rows:
                raise UnknownGroup(group_id)
            group = _group(rows[0])
            if (
                name is not None
                and name != group.name
                and run("SELECT 1 FROM person_groups WHERE project_id = %s AND name = %s", (project_id, name))
            ):
                raise GroupConflict("name")
            fields = list(group.descriptions)
            for index, value in descriptions.items():
                if index >= len(fields):
                    raise GroupConflict("index")
                fields[index] = value
            if len(set(fields)) != len(fields):
                raise GroupConflict("description")
            run(
                "UPDATE person_groups SET name = %s, tag = %s, descriptions = %s, updated_ms = %s"
                " WHERE set_key = %s RETURNING set_key",
                (
                    group.name if name is None else name,
                    group.tag if tag is None else tag,
                    json.dumps(fields),
                    updated_ms,
                    group.set_key,
                ),
            )
        return replace(
            group,
            name=group.name if name is None else name,
            tag=group.tag if tag is None else tag,
            descriptions=tuple(fields),
            updated_ms=updated_ms,
        )

    def delete_group(self, project_id: str, group_id: str) -> int | None:
        """The group's face set and what goes with it (_drop_set); returns the set's key, None
        when there is no such group."""
        with self._locked(project_id) as (_, run):
            rows = run(
                "SELECT set_key FROM person_groups WHERE project_id = %s AND group_id = %s",
                (project_id, group_id),
            )
            if not rows:
                return None
            return self._drop_set(run, project_id, int(rows[0][0]))

    def delete_face_set(self, project_id: str, name: str) -> bool:
        """A face set by name (FRS DeleteFaceSet, a group's set too) and what goes with it
        (_drop_set); False when there is no such set."""
        with self._locked(project_id) as (_, run):
            rows = run("SELECT key FROM face_sets WHERE project_id = %s AND name = %s", (project_id, name))
            if rows:
                self._drop_set(run, project_id, int(rows[0][0]))
        return bool(rows)

    @staticmethod
    def _drop_set(run: Rows, project_id: str, set_key: int) -> int:
        """The one deletion rule, whichever surface deletes a set, in the caller's transaction:
        the persons whose only group it is go with their faces (Tencent DeleteGroup), then the
        set, its faces, group row and other memberships by cascade. Touches the set's members
        only (memberships_by_set), not every person of the project."""
        run(
            "DELETE FROM persons WHERE project_id = %s AND key IN"
            " (SELECT person_key FROM memberships WHERE set_key = %s) AND NOT EXISTS"
            " (SELECT 1 FROM memberships m WHERE m.person_key = persons.key AND m.set_key <> %s)"
            " RETURNING key",
            (project_id, set_key, set_key),
        )
        run("DELETE FROM face_sets WHERE key = %s RETURNING key", (set_key,))
        return set_key

    def group_counts(self, set_key: int) -> tuple[int, int]:
        """(persons, faces) of a group; faces counts every face of the set (anonymous ones too)."""
        return self.groups_counts([set_key])

    def groups_counts(self, set_keys: Sequence[int]) -> tuple[int, int]:
        """(persons, faces) over several groups, each counted once: a person in two of them is
        one person, its face copied into both one face (anonymous faces count each)."""
        keys = sorted({int(key) for key in set_keys})
        if not keys:
            return 0, 0
        marks = ", ".join(["%s"] * len(keys))
        ((persons,),) = self._read(
            f"SELECT COUNT(DISTINCT person_key) FROM memberships WHERE set_key IN ({marks})", keys
        )
        ((faces,),) = self._read(
            f"SELECT COALESCE(SUM(face_number), 0) FROM face_sets WHERE key IN ({marks})", keys
        )
        if len(keys) > 1:  # copies of one person face in several of the sets: count it once
            ((copies, distinct),) = self._read(
                "SELECT COUNT(*), COUNT(DISTINCT f.face_id) FROM person_faces pf JOIN faces f"
                f" ON f.face_id = pf.face_id AND f.set_key IN ({marks}) WHERE pf.person_key IN"
                f" (SELECT person_key FROM memberships WHERE set_key IN ({marks})"
                " GROUP BY person_key HAVING COUNT(*) > 1)",
                [*keys, *keys],
            )
            faces = int(faces) - (int(copies) - int(distinct))
        return int(persons), int(faces)

    def group_persons(self, set_key: int, offset: int, limit: int) -> list[PersonRecord]:
        """A page of the group's persons (oldest membership first), with their faces and only
        this group's membership."""
        rows = self._read(
            "SELECT p.key, p.project_id, p.person_id, p.name, p.gender, p.created_ms"
            " FROM memberships m JOIN persons p ON p.key = m.person_key WHERE m.set_key = %s"
            " ORDER BY m.created_ms, p.key LIMIT %s OFFSET %s",
            (set_key, limit, offset),
        )
        persons = [self._full_person(self._read, row) for row in rows]
        return [replace(p, groups=tuple(g for g in p.groups if g.set_key == set_key)) for p in persons]

    # -- persons --------------------------------------------------------------------------

    def _full_person(self, run: Rows, row: tuple) -> PersonRecord:
        key = int(row[0])
        faces = run(
            f"SELECT {_PERSON_FACE_COLUMNS} FROM person_faces WHERE person_key = %s ORDER BY key", (key,)
        )
        groups = run(
            "SELECT m.set_key, g.group_id, m.descriptions FROM memberships m"
            " JOIN person_groups g ON g.set_key = m.set_key WHERE m.person_key = %s"
            " ORDER BY m.created_ms, m.set_key",
            (key,),
        )
        return _person_record(row, [_person_face(f) for f in faces], [_membership(g) for g in groups])

    def _person(self, run: Rows, project_id: str, person_id: str) -> PersonRecord:
        rows = run(_PERSON_QUERY + " WHERE project_id = %s AND person_id = %s", (project_id, person_id))
        if not rows:
            raise UnknownPerson(person_id)
        return self._full_person(run, rows[0])

    def get_person(self, project_id: str, person_id: str) -> PersonRecord | None:
        try:
            return self._person(self._read, project_id, person_id)
        except UnknownPerson:
            return None

    def persons_of_faces(self, project_id: str, face_ids: Sequence[str]) -> dict[str, PersonRecord]:
        """The persons (with faces and groups) whose faces have these ids, by face id."""
        rows = self._read_in(
            "SELECT f.face_id, p.key, p.project_id, p.person_id, p.name, p.gender, p.created_ms"
            " FROM person_faces f JOIN persons p ON p.key = f.person_key"
            " WHERE p.project_id = %s AND f.face_id IN ({in})",
            (project_id,), sorted(set(face_ids)),
        )
        persons: dict[int, PersonRecord] = {}
        found = {}
        for row in rows:
            key = int(row[1])
            if key not in persons:
                persons[key] = self._full_person(self._read, row[1:])
            found[row[0]] = persons[key]
        return found

    def face_id_taken(self, project_id: str, face_id: str) -> bool:
        return bool(
            self._read(
                "SELECT 1 FROM person_faces f JOIN persons p ON p.key = f.person_key"
                " WHERE p.project_id = %s AND f.face_id = %s",
                (project_id, face_id),
            )
        )

    def _group_key(self, run: Rows, project_id: str, group_id: str) -> int:
        rows = run(
            "SELECT set_key FROM person_groups WHERE project_id = %s AND group_id = %s",
            (project_id, group_id),
        )
        if not rows:
            raise UnknownGroup(group_id)
        return int(rows[0][0])

    def _copy_faces(
        self, run: Rows, set_key: int, person_id: str, faces: Sequence[PersonFaceRecord]
    ) -> list[FaceRecord]:
        """The person's faces as faces of the set, the set's count and capacity kept."""
        if not faces:
            return []
        ((number, capacity),) = run(
            "UPDATE face_sets SET face_number = face_number + %s WHERE key = %s"
            " RETURNING face_number, capacity",
            (len(faces), set_key),
        )
        if number > capacity:
            raise FaceSetFull(set_key)
        stored = []
        for face in faces:
            record = _face_copy(person_id, face)
            ((key,),) = run(
                "INSERT INTO faces (set_key, face_id, external_image_id, fields, bbox, embedding,"
                " model_version, created_at) VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s)"
                " RETURNING key",
                (set_key, *face_values(record)),
            )
            stored.append(replace(record, key=int(key)))
        return stored

    def _drop_faces(self, run: Rows, set_key: int, face_ids: Sequence[str]) -> list[int]:
        keys = [
            int(row[0])
            for face_id in face_ids
            for row in run(
                "DELETE FROM faces WHERE set_key = %s AND face_id = %s RETURNING key", (set_key, face_id)
            )
        ]
        if keys:
            run(
                "UPDATE face_sets SET face_number = face_number - %s WHERE key = %s RETURNING key",
                (len(keys), set_key),
            )
        return keys

    @staticmethod
    def _insert_person_faces(run: Rows, person_key: int, faces: Sequence[PersonFaceRecord]) -> None:
        for face in faces:
            run(
                "INSERT INTO person_faces (person_key, face_id, embedding, bbox, model_version, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING key",
                (
                    person_key,
                    face.face_id,
                    np.asarray(face.embedding, np.float32).tobytes(),
                    json.dumps(list(face.bounding_box)),
                    face.model_version,
                    face.created_at,
                ),
            )

    @staticmethod
    def _insert_person(run: Rows, person: PersonRecord) -> int:
        """The person row and its faces (not copied into any set); returns its key."""
        ((key,),) = run(
            "INSERT INTO persons (project_id, person_id, name, gender, created_ms)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING key",
            (person.project_id, person.person_id, person.name, person.gender, person.created_ms),
        )
        PersonTables._insert_person_faces(run, int(key), person.faces)
        return int(key)

    @staticmethod
    def _insert_membership(
        run: Rows, person_key: int, set_key: int, descriptions: Mapping[int, str], created_ms: int
    ) -> None:
        run(
            "INSERT INTO memberships (person_key, set_key, descriptions, created_ms)"
            " VALUES (%s, %s, %s, %s) RETURNING set_key",
            (person_key, set_key, json.dumps({str(i): v for i, v in descriptions.items()}), created_ms),
        )

    def create_person(
        self, person: PersonRecord, group_id: str, descriptions: Mapping[int, str]
    ) -> tuple[PersonRecord, int, list[FaceRecord]]:
        """The person with its faces, in one group: (person, set key, the faces stored in the set).
        Raises PersonExists, UnknownGroup or FaceSetFull."""
        with self._locked(person.project_id) as (_, run):
            set_key = self._group_key(run, person.project_id, group_id)
            if run(
                "SELECT 1 FROM persons WHERE project_id = %s AND person_id = %s",
                (person.project_id, person.person_id),
            ):
                raise PersonExists(person.person_id)
            key = self._insert_person(run, person)
            self._insert_membership(run, key, set_key, descriptions, person.created_ms)
            stored = self._copy_faces(run, set_key, person.person_id, person.faces)
            created = self._person(run, person.project_id, person.person_id)
        return created, set_key, stored

    def delete_person(self, project_id: str, person_id: str) -> dict[int, list[int]]:
        """The person, its faces and memberships; the face keys removed, by set. Raises UnknownPerson."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            ids = [face.face_id for face in person.faces]
            removed = {g.set_key: self._drop_faces(run, g.set_key, ids) for g in person.groups}
            run("DELETE FROM persons WHERE key = %s RETURNING key", (person.key,))
        return removed

    def leave_group(self, project_id: str, person_id: str, group_id: str) -> tuple[int, list[int], bool]:
        """The person out of one group: (set key, face keys removed, whether the person, now in no
        group, was deleted). Raises UnknownPerson, UnknownGroup, MembershipConflict("not_member")."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            set_key = self._group_key(run, project_id, group_id)
            if all(g.set_key != set_key for g in person.groups):
                raise MembershipConflict("not_member")
            keys = self._drop_faces(run, set_key, [face.face_id for face in person.faces])
            run(
                "DELETE FROM memberships WHERE person_key = %s AND set_key = %s RETURNING set_key",
                (person.key, set_key),
            )
            gone = len(person.groups) == 1
            if gone:
                run("DELETE FROM persons WHERE key = %s RETURNING key", (person.key,))
        return set_key, keys, gone

    def join_groups(
        self, project_id: str, person_id: str, group_ids: Sequence[str], max_groups: int, created_ms: int
    ) -> dict[int, list[FaceRecord]]:
        """The person copied into more groups (no descriptions): the faces stored, by set key.
        All or nothing; raises UnknownPerson, UnknownGroup, MembershipConflict("member"),
        PersonLimit("groups") or FaceSetFull."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            keys = [self._group_key(run, project_id, group_id) for group_id in dict.fromkeys(group_ids)]
            if any(g.set_key in keys for g in person.groups):
                raise MembershipConflict("member")
            if len(person.groups) + len(keys) > max_groups:
                raise PersonLimit("groups", max_groups)
            stored = {}
            for set_key in keys:
                self._insert_membership(run, person.key, set_key, {}, created_ms)
                stored[set_key] = self._copy_faces(run, set_key, person_id, person.faces)
        return stored

    def add_person_faces(
        self, project_id: str, person_id: str, faces: Sequence[PersonFaceRecord], max_faces: int
    ) -> dict[int, list[FaceRecord]]:
        """New faces of a person, copied into every group of it: the faces stored, by set key.
        Raises UnknownPerson, PersonLimit("faces") or FaceSetFull."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            if len(person.faces) + len(faces) > max_faces:
                raise PersonLimit("faces", max_faces)
            self._insert_person_faces(run, person.key, faces)
            return {g.set_key: self._copy_faces(run, g.set_key, person_id, faces) for g in person.groups}

    def delete_person_faces(
        self, project_id: str, person_id: str, face_ids: Sequence[str]
    ) -> tuple[list[str], dict[int, list[int]]]:
        """Some of a person's faces, from every group: (ids deleted, face keys removed by set); ids
        the person does not have are skipped. Raises UnknownPerson or PersonLimit("last_face")."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            own = [face.face_id for face in person.faces]
            gone = [face_id for face_id in dict.fromkeys(face_ids) if face_id in own]
            if gone and len(gone) == len(own):
                raise PersonLimit("last_face", 1)
            for face_id in gone:
                run(
                    "DELETE FROM person_faces WHERE person_key = %s AND face_id = %s RETURNING key",
                    (person.key, face_id),
                )
            removed = {g.set_key: self._drop_faces(run, g.set_key, gone) for g in person.groups}
        return gone, removed

    def update_person(self, project_id: str, person_id: str, name: str | None, gender: int | None) -> None:
        """Raises UnknownPerson."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            run(
                "UPDATE persons SET name = %s, gender = %s WHERE key = %s RETURNING key",
                (
                    person.name if name is None else name,
                    person.gender if gender is None else gender,
                    person.key,
                ),
            )

    def update_membership(
        self, project_id: str, person_id: str, group_id: str, descriptions: Mapping[int, str]
    ) -> None:
        """Merge description values (by field index) into the person's in one group. Raises
        UnknownPerson, UnknownGroup, MembershipConflict("not_member")."""
        with self._locked(project_id) as (_, run):
            person = self._person(run, project_id, person_id)
            set_key = self._group_key(run, project_id, group_id)
            member = next((g for g in person.groups if g.set_key == set_key), None)
            if member is None:
                raise MembershipConflict("not_member")
            merged = {**member.descriptions, **descriptions}
            run(
                "UPDATE memberships SET descriptions = %s WHERE person_key = %s AND set_key = %s"
                " RETURNING set_key",
                (json.dumps({str(i): v for i, v in merged.items()}), person.key, set_key),
            )

    # -- whole tables, for `openfrs migrate` --------------------------------------------------

    def person_counts(self) -> dict[str, int]:
        """Rows in each person table (every project)."""
        return {
            table: int(self._read(f"SELECT COUNT(*) FROM {table}")[0][0])
            for table in ("person_groups", "persons", "person_faces", "memberships")
        }

    def persons_page(self, after_key: int, limit: int) -> list[tuple[PersonRecord, tuple[int, ...]]]:
        """Up to `limit` persons of every project with keys above `after_key`, in key order, each
        whole (faces in order, every membership), with its memberships' created_ms in the order of
        its `groups`; three queries a page."""
        rows = self._read(_PERSON_QUERY + " WHERE key > %s ORDER BY key LIMIT %s", (after_key, limit))
        if not rows:
            return []
        span = (int(rows[0][0]), int(rows[-1][0]))  # the page's persons are every person in it
        faces: dict[int, list[PersonFaceRecord]] = {}
        for row in self._read(
            f"SELECT person_key, {_PERSON_FACE_COLUMNS} FROM person_faces"
            " WHERE person_key BETWEEN %s AND %s ORDER BY person_key, key",
            span,
        ):
            faces.setdefault(int(row[0]), []).append(_person_face(row[1:]))
        groups: dict[int, list[tuple[MembershipRecord, int]]] = {}
        for row in self._read(
            "SELECT m.person_key, m.set_key, g.group_id, m.descriptions, m.created_ms FROM memberships m"
            " JOIN person_groups g ON g.set_key = m.set_key WHERE m.person_key BETWEEN %s AND %s"
            " ORDER BY m.person_key, m.created_ms, m.set_key",
            span,
        ):
            groups.setdefault(int(row[0]), []).append((_membership(row[1:4]), int(row[4])))
        page = []
        for row in rows:
            member = groups.get(int(row[0]), [])
            person = _person_record(row, faces.get(int(row[0]), []), [m for m, _ in member])
            page.append((person, tuple(created_ms for _, created_ms in member)))
        return page

    def insert_group_row(self, group: GroupRecord) -> None:
        """The group row of an existing face set (`group.set_key`), every field as given. Raises
        GroupConflict("id" | "name"), or GroupConflict("set") when the set is a group already."""
        with self._locked(group.project_id) as (_, run):
            self._check_group_free(run, group.project_id, group)
            if run("SELECT 1 FROM person_groups WHERE set_key = %s", (group.set_key,)):
                raise GroupConflict("set")
            self._insert_group_row(run, group.set_key, group.project_id, group)

    def insert_persons(self, persons: Sequence[tuple[PersonRecord, Sequence[int]]]) -> None:
        """Persons as `persons_page` reads them, in one transaction: each with its faces and its
        memberships (the set keys and descriptions of `groups`, with the created_ms given for
        each), every field as given. The faces are not copied into the groups' face sets (a
        migration copies those as faces of the sets). Raises PersonExists: nothing written."""
        with self._transaction() as db:
            for project_id in sorted({person.project_id for person, _ in persons}):
                self._project_lock(db, project_id)
            run = self._in_tx(db)
            for person, times in persons:
                if run(
                    "SELECT 1 FROM persons WHERE project_id = %s AND person_id = %s",
                    (person.project_id, person.person_id),
                ):
                    raise PersonExists(person.person_id)
                key = self._insert_person(run, person)
                for member, created_ms in zip(person.groups, times, strict=True):
                    self._insert_membership(run, key, member.set_key, member.descriptions, created_ms)

    # -- what the FRS surface shows of groups and persons (read only) ------------------------

    def groups_of_sets(self, set_keys: Sequence[int]) -> dict[int, GroupRecord]:
        """The groups among these face sets, by set key: one query for a whole listing."""
        keys = sorted({int(key) for key in set_keys})
        rows = self._read_in(_GROUP_QUERY + " WHERE g.set_key IN ({in})", (), keys)
        return {int(row[0]): _group(row) for row in rows}

    def face_person_ids(self, set_key: int, face_ids: Sequence[str]) -> dict[str, str]:
        """face_id -> PersonId for those of these faces of a set that are copies of a member's
        faces (anonymous faces are absent): one query per 500 ids, not one per face."""
        rows = self._read_in(
            "SELECT f.face_id, p.person_id FROM person_faces f JOIN persons p ON p.key = f.person_key"
            " JOIN memberships m ON m.person_key = p.key AND m.set_key = %s WHERE f.face_id IN ({in})",
            (set_key,), sorted(set(face_ids)),
        )
        return {face_id: person_id for face_id, person_id in rows}
