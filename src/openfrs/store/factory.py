"""Which stores a process opens, from its settings alone: the one place that picks a backend.

Embedded (OPENFRS_DATABASE_URL unset, the default): `openfrs.db` (face sets and faces) and
`accounts.db` (projects, credentials, users, usage, audit) are SQLite files in the data dir, and
one server holds the data dir (store/data_dir_lock.py).

Scale-out (OPENFRS_DATABASE_URL=postgresql://...): both live in PostgreSQL, in the schema
OPENFRS_DATABASE_SCHEMA (default `openfrs`, made with its tables on first use), each store with a
pool of OPENFRS_DATABASE_POOL connections; OPENFRS_SECRET_KEY is required (config.py says why).
One server on PostgreSQL is complete: everything it acknowledged is in the database, and a
server started on another, empty data dir serves it (its vector indexes are rebuilt from the
database). Without OPENFRS_VECTOR_URL each replica's vector index is its own, in memory,
reconciled with the database only when a set is loaded: a face one replica adds is not found by
another replica's search until that one restarts. With OPENFRS_VECTOR_URL=http://HOST:19530 the
indexes are Milvus collections every replica reads and writes (service/index_providers.py), so
a face added through one replica is found through any other in the very next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from openfrs.store.accounts import Accounts, AccountStore
from openfrs.store.base import MetadataStore
from openfrs.store.sqlite import METADATA_FILE, SQLiteMetadataStore

if TYPE_CHECKING:
    from openfrs.config import Settings
    from openfrs.service.indexes import IndexRegistry

ACCOUNTS_FILE = "accounts.db"  # in the data dir, beside METADATA_FILE
INDEX_DIR = "indexes"  # in the data dir: snapshots of the in-process vector indexes


def open_metadata_store(settings: Settings) -> MetadataStore:
    if settings.embedded:
        return SQLiteMetadataStore(settings.data_dir / METADATA_FILE)
    from openfrs.store.postgres import PostgresMetadataStore  # psycopg only where configured

    return PostgresMetadataStore(settings.database_url, settings.database_schema,
                                 max_connections=settings.database_pool,
                                 request_timeout=settings.dependency_timeout_s)


def open_accounts(settings: Settings) -> Accounts:
    if settings.embedded:
        return AccountStore(settings.data_dir / ACCOUNTS_FILE)
    from openfrs.store.accounts_pg import PostgresAccountStore

    return PostgresAccountStore(settings.database_url, settings.database_schema,
                                max_connections=settings.database_pool,
                                request_timeout=settings.dependency_timeout_s)


def accounts_exist(settings: Settings) -> bool:
    """Whether the accounts store is there already (opening it would create it)."""
    return _exists(settings, ACCOUNTS_FILE, "projects")


def metadata_exists(settings: Settings) -> bool:
    """Whether the metadata store is there already (opening it would create it)."""
    return _exists(settings, METADATA_FILE, "face_sets")


def _exists(settings: Settings, file: str, table: str) -> bool:
    if settings.embedded:
        return (settings.data_dir / file).is_file()
    import psycopg

    with psycopg.connect(settings.database_url, connect_timeout=10) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = %s "
                           "AND tablename = %s)", (settings.database_schema, table)).fetchone()
    return bool(row and row[0])


def location(settings: Settings) -> str:
    """Where the stores are, for messages: the data dir, or the database without its password."""
    if settings.embedded:
        return f"data dir {settings.data_dir.resolve()}"
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(settings.database_url)
    server = f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"
    return f"PostgreSQL {server}, schema {settings.database_schema}"


class DependencyUnreachable(Exception):
    """PostgreSQL or Milvus did not answer at start: the message says which and where, without
    credentials, so a command can end with it instead of a driver's traceback."""


def check_reachable(settings: Settings) -> None:
    """Scale-out only: the database (and Milvus, when configured) answer within the dependency
    timeout; else DependencyUnreachable. A server that cannot reach them must not start."""
    if settings.embedded:
        return
    import psycopg

    try:
        wait_s = max(1, round(settings.dependency_timeout_s))
        psycopg.connect(settings.database_url, connect_timeout=wait_s).close()
    except psycopg.Error as failed:
        raise DependencyUnreachable(f"cannot reach {location(settings)}: {_reason(failed)}") from None
    if settings.vector_url is None:
        return
    from pymilvus import MilvusClient, MilvusException

    try:
        MilvusClient(uri=settings.vector_url, timeout=settings.dependency_timeout_s).close()
    except MilvusException as failed:
        raise DependencyUnreachable(f"cannot reach Milvus at {settings.vector_url}: "
                                    f"{getattr(failed, 'message', failed)}") from None


def _reason(error: Exception) -> str:
    """The driver's first line, which names host and port but never the password."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def open_index_registry(settings: Settings, store: MetadataStore, dims: Mapping[str, int],
                        snapshots: bool = True) -> IndexRegistry:
    """Milvus collections shared by every replica (OPENFRS_VECTOR_URL), else indexes in this
    process's memory, snapshotted in the data dir when `snapshots` (a server; not an importer,
    whose registry is never loaded: the store is what a server reads)."""
    from openfrs.service.indexes import IndexRegistry

    if settings.vector_url is not None:
        return IndexRegistry.shared(store, settings.vector_url, settings.vector_prefix, dims,
                                    timeout=settings.dependency_timeout_s)
    return IndexRegistry(store, settings.data_dir / INDEX_DIR if snapshots else None,
                         save_changes=settings.index_save_changes,
                         save_interval_s=settings.index_save_interval_s, dims=dims)
