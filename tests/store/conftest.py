"""Metadata- and accounts-store fixtures: every contract test runs on SQLite and on PostgreSQL.

PostgreSQL is at OPENFRS_TEST_DATABASE_URL (default 127.0.0.1:5432, database `test`); each test
gets a fresh schema, dropped after. An unreachable server fails the tests: CI always runs one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from store_helpers import fresh_schema, require_postgres

from openfrs.store.accounts import Accounts, AccountStore
from openfrs.store.accounts_pg import PostgresAccountStore
from openfrs.store.base import MetadataStore
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.sqlite import SQLiteMetadataStore

STORE_KINDS = ["sqlite", "postgres"]


class _Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=_Closable)


@pytest.fixture(scope="session")
def pg_url() -> str:
    return require_postgres()


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    with fresh_schema(pg_url) as name:
        yield name


def _opener(request: pytest.FixtureRequest, path: Path, sqlite: Callable[[Path], T],
            postgres: Callable[..., T]) -> Iterator[Callable[[], T]]:
    """Opens a store on this test's database (the SQLite file at `path`, or the test's schema);
    every call is a new store (a new pool or new connections) on the same data, as a restarted
    process or another replica would open it."""
    if request.param == "sqlite":
        def make() -> T:
            return sqlite(path)
    else:
        url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")

        def make() -> T:
            return postgres(url, schema, max_connections=4)

    opened: list[T] = []

    def opener() -> T:
        opened.append(make())
        return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture(params=STORE_KINDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], MetadataStore]]:
    yield from _opener(request, tmp_path / "meta.db", SQLiteMetadataStore, PostgresMetadataStore)


@pytest.fixture
def store(open_store: Callable[[], MetadataStore]) -> MetadataStore:
    return open_store()


@pytest.fixture(params=STORE_KINDS)
def open_accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Accounts]]:
    yield from _opener(request, tmp_path / "accounts.db", AccountStore, PostgresAccountStore)


@pytest.fixture
def accounts(open_accounts: Callable[[], Accounts]) -> Accounts:
    return open_accounts()
