"""What the store tests share: the face sets and faces they write, and a throwaway PostgreSQL
schema (imported by name: pytest puts tests/store on sys.path)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psycopg
import pytest

from openfrs.store.pg_db import throwaway_schema
from openfrs.store.records import FaceRecord, FaceSetRecord

PG_URL = os.environ.get("OPENFRS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def face_set(name: str = "staff", project: str = "p1", capacity: int = 10_000,
             fields: dict[str, str] | None = None) -> FaceSetRecord:
    return FaceSetRecord(key=0, project_id=project, name=name, face_set_id=f"{project}{name}"[:8],
                         capacity=capacity, external_fields={"age": "integer"} if fields is None else fields,
                         model_version="m1", created_at="2026-11-21 10:00:00")


def face(index: int, image: str | None = None, fields: dict[str, object] | None = None) -> FaceRecord:
    vector = np.random.default_rng(index).standard_normal(128).astype(np.float32)
    return FaceRecord(face_id=f"f{index:07d}", external_image_id=image or f"img{index}",
                      bounding_box=(1, 2, 30, 40), embedding=vector / np.linalg.norm(vector),
                      fields={"age": index} if fields is None else fields, model_version="m1",
                      created_at="2026-11-21 10:00:01")


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A schema name no other test uses; the schema (if a store made it) is dropped after."""
    with throwaway_schema(url, "test_") as name:
        yield name


def require_postgres() -> str:
    """The test database's URL; fails the test, loudly, where PostgreSQL is missing (CI runs one)."""
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable ({exc}): start one, or point "
                    "OPENFRS_TEST_DATABASE_URL at one.", pytrace=False)
    return PG_URL


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema of the reachable test database, dropped after."""
    with fresh_schema(require_postgres()) as name:
        yield name
