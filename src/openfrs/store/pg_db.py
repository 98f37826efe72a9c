"""What every PostgreSQL store of OpenFRS shares: a connection pool on one schema, one transaction
per write (durable at COMMIT: synchronous_commit is never left off), and versioned migrations
that replicas starting at the same moment apply exactly once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

# How long a request waits for a pooled connection (or a new one) before it fails with
# PoolTimeout / OperationalError: the API answers FRS.0050 (503) instead of hanging while
# PostgreSQL is down. The pool reconnects by itself when it is back (check= drops dead
# connections); its reconnection backoff gives up after as long, so the next request starts a new
# attempt at once instead of waiting out a backoff grown over a long outage (default: 5 minutes).
DEPENDENCY_TIMEOUT_S = 5.0

# One ordered list of DDL steps per component; step i takes the component to version i + 1.
Migrations = Sequence[Sequence[str]]

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
)"""


class PostgresDatabase:
    """A pool of autocommit connections: reads are single statements, writes use _transaction()."""

    def __init__(self, url: str, schema: str | None, component: str, migrations: Migrations, *,
                 max_connections: int = 10, timeout: float = 10.0,
                 request_timeout: float = DEPENDENCY_TIMEOUT_S) -> None:
        """`timeout` bounds the start (first connection, migrations, pool open); `request_timeout`
        each later wait for a connection."""
        self.schema = schema
        with psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout))) as conn:
            self._configure(conn)
            migrate(conn, schema, component, migrations)
        connect_timeout = max(1, round(request_timeout))  # a silent host must not hold a pool worker
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False,
                                    kwargs={"autocommit": True, "connect_timeout": connect_timeout},
                                    configure=self._configure, check=ConnectionPool.check_connection,
                                    timeout=request_timeout, reconnect_timeout=request_timeout,
                                    name=f"openfrs-{component}")
        self._pool.open(wait=True, timeout=timeout)

    def _configure(self, conn: psycopg.Connection) -> None:
        """JSON columns come back as text, so both stores decode rows with the same code
        (store/rows.py); the search path is the store's schema."""
        conn.adapters.register_loader("jsonb", TextLoader)
        if self.schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        (commit,) = conn.execute("SHOW synchronous_commit").fetchone() or ("on",)
        if commit == "off":  # an acknowledged write must survive a server crash
            conn.execute("SET synchronous_commit TO on")

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        """One transaction on one pooled connection: committed on return, rolled back on error."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    def _rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._pool.connection() as conn:
            return conn.execute(query, params).fetchall()

    def _row(self, query: str, params: Sequence[object] = ()) -> tuple | None:
        with self._pool.connection() as conn:
            return conn.execute(query, params).fetchone()

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the database answers a trivial query within `timeout` (for /health)."""
        try:
            with self._pool.connection(timeout=timeout) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def close(self) -> None:
        self._pool.close()


def migrate(conn: psycopg.Connection, schema: str | None, component: str,
            migrations: Migrations) -> int:
    """Apply the component's steps the schema has not seen, in one transaction under an advisory
    lock (two replicas starting together: the second waits, then finds nothing to do). Returns
    the version now in place; a schema newer than this code is left alone (rolling upgrades)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                     (f"openfrs.migrate:{schema or ''}",))
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(_VERSION_TABLE)
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version WHERE component = %s",
                           (component,)).fetchone()
        current = int(row[0]) if row else 0
        for version in range(current + 1, len(migrations) + 1):
            for statement in migrations[version - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (component, version) VALUES (%s, %s)",
                         (component, version))
        return max(current, len(migrations))


@contextmanager
def throwaway_schema(url: str, prefix: str) -> Iterator[str]:
    """A schema name nobody else uses (`prefix` + random), dropped with what a store made in it
    when the block ends: for tests and benchmarks that must leave the database as they found it."""
    import uuid

    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
