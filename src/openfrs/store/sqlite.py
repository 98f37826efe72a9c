"""SQLite metadata store: the source of truth for face sets and faces (WAL, fsync per commit).

Every acknowledged write is committed with `synchronous=FULL` in WAL mode, so it survives a
process kill or power loss; vector indexes are caches rebuilt from here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from openfrs.store.base import DuplicateFaceSet, DuplicateFaceSetId, FaceSetFull, TooManyFaceSets
from openfrs.store.persons_sql import TABLES, PersonTables
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
from openfrs.store.sql_filter import SQLITE, field_sql, to_sql
from openfrs.store.sqlite_db import SQLiteDatabase

METADATA_FILE = "openfrs.db"  # in the data dir: the source of truth for face sets and faces
SCHEMA = """
CREATE TABLE IF NOT EXISTS face_sets (
    key INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    face_set_id TEXT NOT NULL UNIQUE,
    capacity INTEGER NOT NULL,
    external_fields TEXT NOT NULL,
    model_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    face_number INTEGER NOT NULL DEFAULT 0,  -- kept in the same transactions as the faces
    UNIQUE (project_id, name)
);
CREATE TABLE IF NOT EXISTS faces (
    key INTEGER PRIMARY KEY AUTOINCREMENT,
    set_key INTEGER NOT NULL REFERENCES face_sets(key) ON DELETE CASCADE,
    face_id TEXT NOT NULL,
    external_image_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    bbox TEXT NOT NULL,
    embedding BLOB NOT NULL,
    model_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (set_key, face_id)
);
CREATE INDEX IF NOT EXISTS faces_by_image ON faces (set_key, external_image_id);
""" + "".join(table.format(key="INTEGER PRIMARY KEY AUTOINCREMENT", blob="BLOB") + ";\n" for table in TABLES)
# Person groups, persons and memberships (store/persons_sql.py) came later: CREATE ... IF NOT EXISTS
# adds them to a data dir made before them, on its first open.


def _field_index(field: str) -> str:
    """One index per field name (shared by every set declaring it), so a filter reads only the
    faces it matches instead of parsing every face's JSON (~0.5 us each: 0.5 s at 1M)."""
    return f'CREATE INDEX IF NOT EXISTS "faces_field_{field}" ON faces (set_key, {field_sql(field)})'


__all__ = ["DuplicateFaceSet", "DuplicateFaceSetId", "FaceSetFull", "SQLiteMetadataStore",
           "TooManyFaceSets"]


class SQLiteMetadataStore(PersonTables, SQLiteDatabase):
    """The embedded MetadataStore (store/base.py). Thread-safe: one writer connection behind a
    lock, one reader connection per thread.

    Look-ups by face key write ``+set_key``: the unary plus keeps SQLite on the primary key
    instead of walking the set's whole (set_key, ...) index (8 ms per search at 60k faces)."""

    PARAM = "?"

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)
        with self._transaction() as db:  # stores made before field indexes existed get them
            for (schema,) in db.execute("SELECT external_fields FROM face_sets").fetchall():
                for field in json.loads(schema):
                    db.execute(_field_index(field))

    def _query_rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._reader().execute(query, params).fetchall()

    # -- face sets ----------------------------------------------------------------------

    def create_face_set(self, record: FaceSetRecord, limit: int | None = None) -> FaceSetRecord:
        """Insert a face set; the per-project `limit` is checked in the same transaction."""
        try:
            with self._transaction() as db:
                if limit is not None:
                    (count,) = db.execute("SELECT COUNT(*) FROM face_sets WHERE project_id = ?",
                                          (record.project_id,)).fetchone()
                    if count >= limit:
                        raise TooManyFaceSets(record.project_id)
                for field in record.external_fields:
                    db.execute(_field_index(field))
                db.execute(
                    "INSERT INTO face_sets (project_id, name, face_set_id, capacity, external_fields,"
                    " model_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", face_set_values(record))
        except sqlite3.IntegrityError as exc:
            if "face_set_id" in str(exc):
                raise DuplicateFaceSetId(record.face_set_id) from exc
            raise DuplicateFaceSet(record.name) from exc
        created = self.get_face_set(record.project_id, record.name)
        assert created is not None  # committed just above
        return created

    def get_face_set(self, project_id: str, name: str) -> FaceSetRecord | None:
        row = self._reader().execute(
            _FACE_SET_QUERY + " WHERE project_id = ? AND name = ?",
            (project_id, name)).fetchone()
        return face_set_from_row(row) if row else None

    def list_face_sets(self, project_id: str) -> list[FaceSetRecord]:
        rows = self._reader().execute(
            _FACE_SET_QUERY + " WHERE project_id = ? ORDER BY key",
            (project_id,)).fetchall()
        return [face_set_from_row(row) for row in rows]

    # -- faces --------------------------------------------------------------------------

    def add_faces(self, set_key: int, faces: list[FaceRecord],
                  capacity: int | None = None) -> list[FaceRecord]:
        """All or nothing; returns the faces with their keys (their vector-index ids).
        The capacity is checked in the same transaction, so concurrent adds cannot overfill."""
        stored = []
        with self._transaction() as db:
            if capacity is not None:
                row = db.execute("SELECT face_number FROM face_sets WHERE key = ?", (set_key,)).fetchone()
                if row is None or row[0] + len(faces) > capacity:
                    raise FaceSetFull(set_key)
            for face in faces:
                cursor = db.execute(
                    f"INSERT INTO faces (set_key, {FACE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (set_key, *face_values(face)))
                stored.append(replace(face, key=int(cursor.lastrowid or 0)))
            db.execute("UPDATE face_sets SET face_number = face_number + ? WHERE key = ?",
                       (len(stored), set_key))
        return stored

    def count_faces(self, set_key: int) -> int:
        row = self._reader().execute("SELECT face_number FROM face_sets WHERE key = ?",
                                     (set_key,)).fetchone()
        return int(row[0]) if row else 0

    def external_image_ids(self, set_key: int) -> set[str]:
        """Distinct image ids of the set, read from the (set_key, external_image_id) index."""
        rows = self._reader().execute("SELECT DISTINCT external_image_id FROM faces WHERE set_key = ?",
                                      (set_key,))
        return {row[0] for row in rows}

    def get_face(self, set_key: int, face_id: str) -> FaceRecord | None:
        row = self._reader().execute(_FACE_QUERY + " WHERE set_key = ? AND face_id = ?",
                                     (set_key, face_id)).fetchone()
        return face_from_row(row) if row else None

    def list_faces(self, set_key: int, offset: int, limit: int,
                   expr: Expr | None = None) -> list[FaceRecord]:
        """A page of the set's faces in key order; with `expr`, of those the filter matches."""
        where, params = to_sql(expr, SQLITE) if expr is not None else ("TRUE", [])
        rows = self._reader().execute(
            _FACE_QUERY + f" WHERE set_key = ? AND ({where}) ORDER BY key LIMIT ? OFFSET ?",
            (set_key, *params, limit, offset)).fetchall()
        return [face_from_row(row) for row in rows]

    def face_set_counts(self) -> list[tuple[str, str, int]]:
        """(project_id, face set name, face number) of every set: the face_number metric."""
        return [tuple(row) for row in self._reader().execute(
            "SELECT project_id, name, face_number FROM face_sets ORDER BY project_id, name").fetchall()]

    def face_set_keys(self) -> list[int]:
        """Keys of every face set of every project (index warm-up and clean-up)."""
        return [row[0] for row in self._reader().execute("SELECT key FROM face_sets ORDER BY key")]

    def face_set_model(self, set_key: int) -> str | None:
        """The model version a set's faces are embedded with (None for no such set)."""
        row = self._reader().execute("SELECT model_version FROM face_sets WHERE key = ?",
                                     (set_key,)).fetchone()
        return None if row is None else row[0]

    def face_keys(self, set_key: int) -> np.ndarray:
        """Every face key of a set, ascending: what a loaded index is checked against."""
        rows = self._reader().execute("SELECT key FROM faces WHERE set_key = ? ORDER BY key",
                                      (set_key,)).fetchall()
        return np.fromiter((row[0] for row in rows), np.int64, len(rows))

    def iter_embeddings(self, set_key: int, keys: np.ndarray | None = None,
                        batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(keys, vectors) in batches: every face of the set (an index rebuild), or only the
        given keys (catching a loaded index up)."""
        if keys is not None:
            for chunk, marks in _key_chunks(keys):
                rows = self._reader().execute(
                    f"SELECT key, embedding FROM faces WHERE +set_key = ? AND key IN ({marks})"
                    " ORDER BY key", (set_key, *chunk)).fetchall()
                if rows:
                    yield embeddings_from_rows(rows)
            return
        last = 0
        while True:
            rows = self._reader().execute(
                "SELECT key, embedding FROM faces WHERE +set_key = ? AND key > ? ORDER BY key LIMIT ?",
                (set_key, last, batch)).fetchall()
            if not rows:
                return
            found = embeddings_from_rows(rows)
            yield found
            last = int(found[0][-1])

    def faces_by_keys(self, set_key: int, keys: list[int]) -> dict[int, FaceRecord]:
        """Records for index hits (search results), keyed by their index id."""
        found: dict[int, FaceRecord] = {}
        for chunk, marks in _key_chunks(keys):
            rows = self._reader().execute(
                _FACE_QUERY + f" WHERE +set_key = ? AND key IN ({marks})", (set_key, *chunk))
            found.update((row[0], face_from_row(row)) for row in rows)
        return found

    def keys_matching(self, set_key: int, expr: Expr | None = None) -> np.ndarray:
        """Keys (ascending) of the set's faces that pass a filter tree; every face for None."""
        if expr is None:
            return self.face_keys(set_key)
        where, params = to_sql(expr, SQLITE)
        rows = self._reader().execute(
            f"SELECT key FROM faces WHERE set_key = ? AND ({where}) ORDER BY key",
            (set_key, *params)).fetchall()
        return np.fromiter((row[0] for row in rows), np.int64, len(rows))

    def update_face(self, set_key: int, face_id: str, external_image_id: str | None,
                    fields: dict | None) -> bool:
        """Set the image id and/or merge `fields` into the face's custom fields (FRS UpdateFace):
        a name with a value is set, a name with None removed, a name not given kept."""
        patch = None if fields is None else json.dumps(fields)
        with self._transaction() as db:  # json_patch is RFC 7396's merge: a null member removes
            cursor = db.execute(
                "UPDATE faces SET external_image_id = COALESCE(?, external_image_id),"
                " fields = CASE WHEN ? IS NULL THEN fields ELSE json_patch(COALESCE(fields, '{}'), ?) END"
                " WHERE set_key = ? AND face_id = ?",
                (external_image_id, patch, patch, set_key, face_id))
        return cursor.rowcount > 0

    def delete_faces(self, set_key: int, keys: Sequence[int] | np.ndarray) -> int:
        with self._transaction() as db:
            deleted = 0
            for chunk, marks in _key_chunks(keys):
                deleted += db.execute(f"DELETE FROM faces WHERE +set_key = ? AND key IN ({marks})",
                                      (set_key, *chunk)).rowcount
            db.execute("UPDATE face_sets SET face_number = face_number - ? WHERE key = ?",
                       (deleted, set_key))
        return deleted


_FACE_SET_QUERY = f"SELECT {FACE_SET_COLUMNS} FROM face_sets"
_FACE_QUERY = f"SELECT {FACE_COLUMNS} FROM faces"


def _key_chunks(keys: Sequence[int] | np.ndarray,
                size: int = 500) -> Iterator[tuple[list[int], str]]:
    """Keys as plain ints in chunks for `key IN (...)`, with the chunk's `?,?,...` placeholders
    (SQLite caps the parameters of one statement)."""
    for start in range(0, len(keys), size):
        chunk = [int(key) for key in keys[start:start + size]]
        yield chunk, ",".join("?" * len(chunk))
