"""Metadata-store fixtures: every contract test runs on SQLite and on PostgreSQL.

PostgreSQL is at OPENFRS_TEST_DATABASE_URL (default 127.0.0.1:5432, database `test`); each test
gets a fresh schema, dropped after. An unreachable server fails the tests: CI always runs one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from store_helpers import PG_URL, fresh_schema

from openfrs.store.base import MetadataStore
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.sqlite import SQLiteMetadataStore

STORE_KINDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_url() -> str:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable ({exc}). The PostgreSQL store tests need "
                    "it: start one, or point OPENFRS_TEST_DATABASE_URL at one.", pytrace=False)
    return PG_URL


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    with fresh_schema(pg_url) as name:
        yield name


@pytest.fixture(params=STORE_KINDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], MetadataStore]]:
    """Opens a store on this test's database; every call is a new store (a new pool or new
    connections) on the same data, as a restarted process or another replica would open it."""
    opened: list[MetadataStore] = []

    if request.param == "sqlite":
        def make() -> MetadataStore:
            return SQLiteMetadataStore(tmp_path / "meta.db")
    else:
        url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")

        def make() -> MetadataStore:
            return PostgresMetadataStore(url, schema, max_connections=4)

    def opener() -> MetadataStore:
        opened.append(make())
        return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], MetadataStore]) -> MetadataStore:
    return open_store()
