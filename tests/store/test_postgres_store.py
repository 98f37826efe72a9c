"""What only the PostgreSQL store has to show: migrations applied once when replicas start
together, field indexes the planner uses, and limits that hold across concurrent replicas.
The contract every store shares is in test_metadata_store.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg import sql
from store_helpers import face, face_set

from openfrs.service.filters import parse_filter
from openfrs.store.base import FaceSetFull, TooManyFaceSets
from openfrs.store.pg_db import migrate
from openfrs.store.postgres import MIGRATIONS, PostgresMetadataStore
from openfrs.store.sql_filter import POSTGRES, to_sql


def connect(url: str, schema: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def test_replicas_starting_together_migrate_once(pg_url, pg_schema):
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresMetadataStore(pg_url, pg_schema, max_connections=1),
                               range(4)))
    for store in stores:
        store.close()
    with connect(pg_url, pg_schema) as conn:
        current = len(MIGRATIONS)
        assert conn.execute("SELECT component, version FROM schema_version").fetchall() == [
            ("metadata", version) for version in range(1, current + 1)]
        later = (*MIGRATIONS, ("CREATE TABLE later_step (x INTEGER)",))
        assert migrate(conn, pg_schema, "metadata", later) == current + 1
        assert migrate(conn, pg_schema, "metadata", later) == current + 1  # applied once
        assert migrate(conn, pg_schema, "metadata", MIGRATIONS) == current + 1  # older code leaves it be
        versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert versions == [(version,) for version in range(1, current + 2)]


def test_declared_fields_are_indexed_so_filters_skip_the_json_scan(pg_url, pg_schema):
    store = PostgresMetadataStore(pg_url, pg_schema, max_connections=1)
    schema = {"age": "integer", "name": "string"}
    key = store.create_face_set(face_set(fields=schema)).key
    store.add_faces(key, [face(i, fields={"age": i, "name": f"n{i % 7}"}) for i in range(300)])
    with connect(pg_url, pg_schema) as conn:
        conn.execute("ANALYZE faces")
        conn.execute("SET enable_seqscan = off")
        for text, index in [("age:[10 TO 12]", "faces_field_age_number"),
                            ("name:n3", "faces_field_name_json")]:
            where, params = to_sql(parse_filter(text, schema), POSTGRES)
            plan = conn.execute(f"EXPLAIN SELECT key FROM faces WHERE set_key = %s AND ({where})",
                                (key, *params)).fetchall()
            assert index in " ".join(row[0] for row in plan), text
    assert len(store.keys_matching(key, parse_filter("age:[10 TO 12]", schema))) == 3
    store.close()


def test_capacity_holds_across_replicas_adding_at_once(pg_url, pg_schema):
    first = PostgresMetadataStore(pg_url, pg_schema, max_connections=4)
    second = PostgresMetadataStore(pg_url, pg_schema, max_connections=4)
    key = first.create_face_set(face_set(capacity=10)).key

    def add(index: int) -> bool:
        try:
            (first if index % 2 else second).add_faces(key, [face(index)], capacity=10)
            return True
        except FaceSetFull:
            return False

    with ThreadPoolExecutor(8) as pool:
        added = sum(pool.map(add, range(40)))
    assert added == 10 and first.count_faces(key) == 10 and len(second.face_keys(key)) == 10
    first.close()
    second.close()


def test_the_face_set_limit_holds_across_replicas(pg_url, pg_schema):
    stores = [PostgresMetadataStore(pg_url, pg_schema, max_connections=4) for _ in range(2)]

    def create(index: int) -> bool:
        try:
            stores[index % 2].create_face_set(face_set(f"s{index}"), limit=3)
            return True
        except TooManyFaceSets:
            return False

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(create, range(12))) == 3
    assert len(stores[0].list_face_sets("p1")) == 3
    for store in stores:
        store.close()


def test_an_unreachable_server_fails_at_open():
    with pytest.raises(psycopg.OperationalError):
        PostgresMetadataStore("postgresql://postgres@127.0.0.1:1/test")
