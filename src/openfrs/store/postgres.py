"""PostgreSQL metadata store: the source of truth for face sets and faces when replicas share it.

Same semantics as SQLiteMetadataStore (store/sqlite.py): every write one transaction, durable at
COMMIT; keys from identity columns, never reused. Concurrent writers on other replicas are
serialised by row locks on the face set, which is also what keeps capacity checks exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np
import psycopg
from psycopg import errors

from openfrs.store.base import DuplicateFaceSet, DuplicateFaceSetId, FaceSetFull, TooManyFaceSets
from openfrs.store.persons_sql import TABLES, PersonTables
from openfrs.store.pg_db import DEPENDENCY_TIMEOUT_S, PostgresDatabase
from openfrs.store.query import Expr
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.rows import (
    FACE_COLUMNS,
    FACE_INSERT_COLUMNS,
    FACE_SET_COLUMNS,
    embeddings_from_rows,
    face_from_row,
    face_set_from_row,
    face_set_values,
    face_values,
)
from openfrs.store.sql_filter import POSTGRES, pg_json_sql, pg_number_sql, to_sql

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: face sets and faces, as in the SQLite store; JSON columns are JSONB
        """CREATE TABLE face_sets (
            key BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_id TEXT NOT NULL,
            name TEXT NOT NULL,
            face_set_id TEXT NOT NULL CONSTRAINT face_sets_face_set_id_unique UNIQUE,
            capacity BIGINT NOT NULL,
            external_fields JSONB NOT NULL,
            model_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            face_number BIGINT NOT NULL DEFAULT 0,  -- kept in the same transactions as the faces
            CONSTRAINT face_sets_name_unique UNIQUE (project_id, name)
        )""",
        """CREATE TABLE faces (
            key BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            set_key BIGINT NOT NULL REFERENCES face_sets(key) ON DELETE CASCADE,
            face_id TEXT NOT NULL,
            external_image_id TEXT NOT NULL,
            fields JSONB NOT NULL,
            bbox JSONB NOT NULL,
            embedding BYTEA NOT NULL,
            model_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CONSTRAINT faces_face_id_unique UNIQUE (set_key, face_id)
        )""",
        "CREATE INDEX faces_by_image ON faces (set_key, external_image_id)",
        "CREATE INDEX faces_by_set ON faces (set_key, key)",  # pages, key filters, rebuilds
    ),
    # 2: person groups, persons, their faces and memberships (store/persons_sql.py)
    tuple(table.format(key="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", blob="BYTEA")
          for table in TABLES),
)

_FACE_SET_QUERY = f"SELECT {FACE_SET_COLUMNS} FROM face_sets"
_FACE_QUERY = f"SELECT {FACE_COLUMNS} FROM faces"

__all__ = ["MIGRATIONS", "PostgresMetadataStore"]


def _field_index(field: str, kind: str) -> tuple[str, str]:
    """(name, DDL) of the index filters on one declared field use: strings compare as JSONB,
    every other FRS type as a number (store/sql_filter.py writes exactly these expressions)."""
    if kind.lower() == "string":
        name, expression = f"faces_field_{field}_json", pg_json_sql(field)
    else:
        name, expression = f"faces_field_{field}_number", pg_number_sql(field)
    return name, f'CREATE INDEX IF NOT EXISTS "{name}" ON faces (set_key, {expression})'


def _insert_faces(db: psycopg.Connection, set_key: int, faces: list[FaceRecord]) -> list[int]:
    """The faces' new keys, in order: one pipelined INSERT ... RETURNING per face."""
    cursor = db.cursor()
    cursor.executemany(f"INSERT INTO faces (set_key, {FACE_INSERT_COLUMNS})"
                       " VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s) RETURNING key",
                       [(set_key, *face_values(face)) for face in faces], returning=True)
    return [int(row[0]) for result in cursor.results() for row in result.fetchall()]


def _key_list(keys: Sequence[int] | np.ndarray) -> list[int]:
    return [int(key) for key in keys]


class PostgresMetadataStore(PersonTables, PostgresDatabase):
    """The MetadataStore (store/base.py) on PostgreSQL; `schema` keeps one deployment's tables
    apart from others in the same database (created on first use). Thread-safe (a pool)."""

    def __init__(self, url: str, schema: str | None = None, *, max_connections: int = 10,
                 request_timeout: float = DEPENDENCY_TIMEOUT_S) -> None:
        super().__init__(url, schema, "metadata", MIGRATIONS, max_connections=max_connections,
                         request_timeout=request_timeout)

    def _query_rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._rows(query, params)

    def _project_lock(self, db: psycopg.Connection, project_id: str) -> None:
        """The lock create_face_set takes: groups, persons and face-set creation of one project
        are serialised across replicas."""
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                   (f"openfrs.face_sets:{self.schema or ''}:{project_id}",))

    # -- face sets ----------------------------------------------------------------------

    def create_face_set(self, record: FaceSetRecord, limit: int | None = None) -> FaceSetRecord:
        """Insert a face set; the per-project `limit` is checked under a per-project lock, so two
        replicas creating sets at once cannot both pass it."""
        try:
            with self._transaction() as db:
                if limit is not None:
                    db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                               (f"openfrs.face_sets:{self.schema or ''}:{record.project_id}",))
                    row = db.execute("SELECT COUNT(*) FROM face_sets WHERE project_id = %s",
                                     (record.project_id,)).fetchone()
                    if row and row[0] >= limit:
                        raise TooManyFaceSets(record.project_id)
                self._add_field_indexes(db, record.external_fields)
                row = db.execute(
                    "INSERT INTO face_sets (project_id, name, face_set_id, capacity, external_fields,"
                    " model_version, created_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)"
                    f" RETURNING {FACE_SET_COLUMNS}", face_set_values(record)).fetchone()
        except errors.UniqueViolation as exc:  # a taken name wins over a taken id, as in SQLite
            if (exc.diag.constraint_name == "face_sets_face_set_id_unique"
                    and self.get_face_set(record.project_id, record.name) is None):
                raise DuplicateFaceSetId(record.face_set_id) from exc
            raise DuplicateFaceSet(record.name) from exc
        assert row is not None  # INSERT ... RETURNING gives the row
        return face_set_from_row(row)

    def _add_field_indexes(self, db: psycopg.Connection, fields: dict[str, str]) -> None:
        """Index each declared field once (shared by every set declaring it). Creation is
        serialised by an advisory lock: two concurrent CREATE INDEX IF NOT EXISTS can clash."""
        wanted = [_field_index(field, kind) for field, kind in fields.items()]
        missing = [ddl for name, ddl in wanted
                   if db.execute("SELECT to_regclass(%s)", (f'"{name}"',)).fetchone() == (None,)]
        if missing:
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                       (f"openfrs.field_index:{self.schema or ''}",))
            for ddl in missing:
                db.execute(ddl)

    def get_face_set(self, project_id: str, name: str) -> FaceSetRecord | None:
        row = self._row(_FACE_SET_QUERY + " WHERE project_id = %s AND name = %s", (project_id, name))
        return face_set_from_row(row) if row else None

    def list_face_sets(self, project_id: str) -> list[FaceSetRecord]:
        rows = self._rows(_FACE_SET_QUERY + " WHERE project_id = %s ORDER BY key", (project_id,))
        return [face_set_from_row(row) for row in rows]

    def face_set_keys(self) -> list[int]:
        """Keys of every face set of every project (index warm-up and clean-up)."""
        return [row[0] for row in self._rows("SELECT key FROM face_sets ORDER BY key")]

    def face_set_counts(self) -> list[tuple[str, str, int]]:
        """(project_id, face set name, face number) of every set: the face_number metric."""
        return [(row[0], row[1], int(row[2])) for row in self._rows(
            "SELECT project_id, name, face_number FROM face_sets ORDER BY project_id, name")]

    def face_set_model(self, set_key: int) -> str | None:
        """The model version a set's faces are embedded with (None for no such set)."""
        row = self._row("SELECT model_version FROM face_sets WHERE key = %s", (set_key,))
        return None if row is None else row[0]

    # -- faces --------------------------------------------------------------------------

    def add_faces(self, set_key: int, faces: list[FaceRecord],
                  capacity: int | None = None) -> list[FaceRecord]:
        """All or nothing; returns the faces with their keys (their vector-index ids). The set's
        row is locked first (the count goes up before the inserts), so adds to one set are
        serialised across replicas: the capacity check is exact and keys rise in commit order."""
        with self._transaction() as db:
            row = db.execute("UPDATE face_sets SET face_number = face_number + %s WHERE key = %s"
                             " RETURNING face_number", (len(faces), set_key)).fetchone()
            if capacity is not None and (row is None or row[0] > capacity):
                raise FaceSetFull(set_key)
            keys = _insert_faces(db, set_key, faces) if faces else []
        return [replace(face, key=key) for face, key in zip(faces, keys, strict=True)]

    def count_faces(self, set_key: int) -> int:
        row = self._row("SELECT face_number FROM face_sets WHERE key = %s", (set_key,))
        return int(row[0]) if row else 0

    def external_image_ids(self, set_key: int) -> set[str]:
        """Distinct image ids of the set, read from the (set_key, external_image_id) index."""
        rows = self._rows("SELECT DISTINCT external_image_id FROM faces WHERE set_key = %s", (set_key,))
        return {row[0] for row in rows}

    def get_face(self, set_key: int, face_id: str) -> FaceRecord | None:
        row = self._row(_FACE_QUERY + " WHERE set_key = %s AND face_id = %s", (set_key, face_id))
        return face_from_row(row) if row else None

    def list_faces(self, set_key: int, offset: int, limit: int,
                   expr: Expr | None = None) -> list[FaceRecord]:
        """A page of the set's faces in key order; with `expr`, of those the filter matches."""
        where, params = to_sql(expr, POSTGRES) if expr is not None else ("TRUE", [])
        rows = self._rows(_FACE_QUERY + f" WHERE set_key = %s AND ({where}) ORDER BY key LIMIT %s OFFSET %s",
                          (set_key, *params, limit, offset))
        return [face_from_row(row) for row in rows]

    def faces_by_keys(self, set_key: int, keys: list[int]) -> dict[int, FaceRecord]:
        """Records for index hits (search results), keyed by their index id."""
        rows = self._rows(_FACE_QUERY + " WHERE set_key = %s AND key = ANY(%s::bigint[])",
                          (set_key, _key_list(keys)))
        return {row[0]: face_from_row(row) for row in rows}

    def keys_matching(self, set_key: int, expr: Expr | None = None) -> np.ndarray:
        """Keys (ascending) of the set's faces that pass a filter tree; every face for None."""
        if expr is None:
            return self.face_keys(set_key)
        where, params = to_sql(expr, POSTGRES)
        rows = self._rows(f"SELECT key FROM faces WHERE set_key = %s AND ({where}) ORDER BY key",
                          (set_key, *params))
        return np.fromiter((row[0] for row in rows), np.int64, len(rows))

    def update_face(self, set_key: int, face_id: str, external_image_id: str | None,
                    fields: dict | None) -> bool:
        """Set the image id and/or merge `fields` into the face's custom fields (FRS UpdateFace):
        a name with a value is set, a name with None removed, a name not given kept."""
        with self._transaction() as db:
            row = db.execute("SELECT fields FROM faces WHERE set_key = %s AND face_id = %s FOR UPDATE",
                             (set_key, face_id)).fetchone()
            if row is None:
                return False
            merged = row[0] if fields is None else json.dumps(merge_patch(json.loads(row[0]), fields))
            db.execute("UPDATE faces SET external_image_id = COALESCE(%s, external_image_id),"
                       " fields = %s::jsonb WHERE set_key = %s AND face_id = %s",
                       (external_image_id, merged, set_key, face_id))
        return True

    def delete_faces(self, set_key: int, keys: Sequence[int] | np.ndarray) -> int:
        with self._transaction() as db:
            deleted = db.execute("DELETE FROM faces WHERE set_key = %s AND key = ANY(%s::bigint[])",
                                 (set_key, _key_list(keys))).rowcount
            db.execute("UPDATE face_sets SET face_number = face_number - %s WHERE key = %s",
                       (deleted, set_key))
        return deleted

    # -- what vector indexes are built and checked from ---------------------------------

    def face_keys(self, set_key: int) -> np.ndarray:
        """Every face key of a set, ascending: what a loaded index is checked against."""
        rows = self._rows("SELECT key FROM faces WHERE set_key = %s ORDER BY key", (set_key,))
        return np.fromiter((row[0] for row in rows), np.int64, len(rows))

    def iter_embeddings(self, set_key: int, keys: np.ndarray | None = None,
                        batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(keys, vectors) in batches: every face of the set (an index rebuild), or only the
        given keys (catching a loaded index up)."""
        if keys is not None:
            for start in range(0, len(keys), batch):
                rows = self._rows("SELECT key, embedding FROM faces WHERE set_key = %s"
                                  " AND key = ANY(%s::bigint[]) ORDER BY key",
                                  (set_key, _key_list(keys[start:start + batch])))
                if rows:
                    yield embeddings_from_rows(rows)
            return
        last = 0
        while rows := self._rows("SELECT key, embedding FROM faces WHERE set_key = %s AND key > %s"
                                 " ORDER BY key LIMIT %s", (set_key, last, batch)):
            found = embeddings_from_rows(rows)
            yield found
            last = int(found[0][-1])


def merge_patch(target: object, patch: object) -> object:
    """RFC 7396 JSON merge patch (what SQLite's json_patch does): None removes a member."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged
