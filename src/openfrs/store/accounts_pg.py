"""The accounts store on PostgreSQL, for replicas that share tenants, usage counts and the audit
log: the same methods and SQL as the SQLite one (store/accounts.py), its own tables under the
migration component "accounts".

Where PostgreSQL needs more than the SQL text to behave as SQLite, the schema says it: text
compares byte-wise (COLLATE "C", as SQLite's BINARY orders), deleting a project cascades (a
credential a replica adds while the project is deleted goes with it instead of failing the
delete), and an audit event takes its seq under a lock held to its commit, so seqs become visible
in order and a reader paging by `after_seq` never steps over one committed late.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg

from openfrs.store.accounts import AccountSQL
from openfrs.store.pg_db import DEPENDENCY_TIMEOUT_S, PostgresDatabase

_TEXT = 'TEXT COLLATE "C"'
_PROJECT = "REFERENCES projects(project_id) ON DELETE CASCADE"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the tables of the SQLite store as of credential rotation and throttled counts
        f"""CREATE TABLE projects (
            project_id {_TEXT} PRIMARY KEY,
            name {_TEXT} NOT NULL UNIQUE,
            created_at {_TEXT} NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            qps DOUBLE PRECISION  -- NULL: the server's default
        )""",
        f"""CREATE TABLE project_services (
            project_id {_TEXT} NOT NULL {_PROJECT},
            service {_TEXT} NOT NULL,
            enabled BOOLEAN NOT NULL,
            created_at {_TEXT} NOT NULL,
            PRIMARY KEY (project_id, service)
        )""",
        f"""CREATE TABLE users (
            project_id {_TEXT} NOT NULL {_PROJECT},
            name {_TEXT} NOT NULL,
            password_hash TEXT NOT NULL,
            created_at {_TEXT} NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (project_id, name)
        )""",
        f"""CREATE TABLE credentials (
            ak {_TEXT} PRIMARY KEY,
            project_id {_TEXT} NOT NULL {_PROJECT},
            sk_sealed BYTEA NOT NULL,
            created_at {_TEXT} NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            expires_at DOUBLE PRECISION  -- Unix time after which a rotated credential no longer signs
        )""",
        f"""CREATE TABLE tokens (
            token_hash {_TEXT} PRIMARY KEY,
            project_id {_TEXT} NOT NULL {_PROJECT},
            user_name {_TEXT} NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
        f"""CREATE TABLE usage (
            project_id {_TEXT} NOT NULL,
            api {_TEXT} NOT NULL,
            day {_TEXT} NOT NULL,
            calls BIGINT NOT NULL,
            throttled BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, api, day)
        )""",
        "CREATE SEQUENCE audit_seq AS BIGINT",
        f"""CREATE TABLE audit (
            seq BIGINT PRIMARY KEY,  -- set by audit_in_commit_order, whatever the INSERT says
            at {_TEXT} NOT NULL,
            project_id {_TEXT} NOT NULL,
            actor {_TEXT} NOT NULL,
            action {_TEXT} NOT NULL,
            resource {_TEXT} NOT NULL,
            detail TEXT NOT NULL,
            request_id {_TEXT} NOT NULL
        )""",
        "CREATE INDEX audit_by_project ON audit (project_id, seq)",
        """CREATE FUNCTION audit_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended('openfrs.audit:' || TG_TABLE_SCHEMA, 0));
            NEW.seq := nextval(format('%I.audit_seq', TG_TABLE_SCHEMA)::regclass);
            RETURN NEW;
        END $$""",
        """CREATE TRIGGER audit_ordered BEFORE INSERT ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_in_commit_order()""",
        """CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only';
        END $$""",
        """CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()""",
    ),
    (  # 2: refused or failed calls counted per day and API, beside throttled ones
        "ALTER TABLE usage ADD COLUMN errors BIGINT NOT NULL DEFAULT 0",
    ),
)

__all__ = ["MIGRATIONS", "PostgresAccountStore"]


def _pg(query: str) -> str:
    """The shared SQL's `?` placeholders as psycopg's `%s` (that SQL has no other `?` or `%`)."""
    return query.replace("?", "%s")


class _QmarkConnection:
    """A connection in a transaction that takes the shared SQL as the SQLite connection does."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn

    def execute(self, query: str, params: Sequence[object] = ()) -> psycopg.Cursor:
        return self._conn.execute(_pg(query), params)

    def executemany(self, query: str, params: Sequence[Sequence[object]]) -> None:
        self._conn.cursor().executemany(_pg(query), params)


class PostgresAccountStore(AccountSQL, PostgresDatabase):
    """The accounts store (store/accounts.py) on PostgreSQL; `schema` as for the metadata store
    (the two may share one). Thread-safe (a pool); nothing cached, so every replica sees a
    disabled credential or a new token on its next call."""

    _integrity_error = psycopg.IntegrityError

    def __init__(self, url: str, schema: str | None = None, *, max_connections: int = 10,
                 request_timeout: float = DEPENDENCY_TIMEOUT_S) -> None:
        super().__init__(url, schema, "accounts", MIGRATIONS, max_connections=max_connections,
                         request_timeout=request_timeout)

    @contextmanager
    def _transaction(self) -> Iterator[_QmarkConnection]:  # type: ignore[override]
        with super()._transaction() as conn:
            yield _QmarkConnection(conn)

    def _rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        return super()._rows(_pg(query), params)

    def _row(self, query: str, params: Sequence[object] = ()) -> tuple | None:
        return super()._row(_pg(query), params)
