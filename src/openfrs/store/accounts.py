"""Tenants and what is kept about their calls: projects, their sub-services, users, credentials,
tokens, daily usage counts and the audit log. `AccountSQL` holds every method once, in SQL that
SQLite and PostgreSQL both run; `AccountStore` keeps the accounts in their own SQLite file
(`accounts.db`), PostgresAccountStore (store/accounts_pg.py) in a schema replicas share.

Its own file because the admin CLI writes it while the server runs (WAL lets both in) and it has
nothing to do with the face data. Secrets never appear here in clear: secret keys are stored
encrypted by the caller (store/secret_box.py), passwords and tokens as hashes. The audit table
refuses UPDATE and DELETE by trigger: append-only even for code that tries.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from openfrs.store.sqlite_db import SQLiteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    qps REAL  -- NULL: the server's default
);
CREATE TABLE IF NOT EXISTS project_services (
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    service TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, service)
);
CREATE TABLE IF NOT EXISTS users (
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, name)
);
CREATE TABLE IF NOT EXISTS credentials (
    ak TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    sk_sealed BLOB NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    expires_at REAL  -- Unix time after which a rotated credential no longer signs; NULL: never
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    user_name TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage (
    project_id TEXT NOT NULL,
    api TEXT NOT NULL,
    day TEXT NOT NULL,
    calls INTEGER NOT NULL,
    throttled INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, api, day)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    project_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    detail TEXT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_project ON audit (project_id, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class AlreadyExists(Exception):
    """A project, user or credential with this key exists."""


@dataclass(frozen=True)
class Project:
    project_id: str
    name: str
    created_at: str
    disabled: bool
    qps: float | None


@dataclass(frozen=True)
class Credential:
    ak: str
    project_id: str
    sk_sealed: bytes
    created_at: str
    disabled: bool
    expires_at: float | None = None  # set by a rotation: the end of the old key's grace period


@dataclass(frozen=True)
class User:
    project_id: str
    name: str
    password_hash: str
    created_at: str
    disabled: bool


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str
    project_id: str
    actor: str
    action: str
    resource: str
    detail: dict
    request_id: str


class Accounts(Protocol):
    """What Tenancy needs of an accounts store, whichever database keeps it. Every write is one
    transaction, durable when the method returns; the create_* methods raise AlreadyExists."""

    def close(self) -> None: ...
    def create_project(self, project: Project, services: dict[str, bool]) -> None: ...
    def project(self, key: str) -> Project | None: ...
    def projects(self) -> list[Project]: ...
    def set_project(self, project_id: str, *, disabled: bool | None = None,
                    qps: float | None = None) -> bool: ...
    def delete_project(self, project_id: str) -> bool: ...
    def services(self, project_id: str) -> dict[str, tuple[bool, str]]: ...
    def set_service(self, project_id: str, service: str, enabled: bool, now: str) -> None: ...
    def create_user(self, user: User) -> None: ...
    def user(self, project_id: str, name: str) -> User | None: ...
    def users(self, project_id: str | None = None) -> list[User]: ...
    def set_user_disabled(self, project_id: str, name: str, disabled: bool) -> bool: ...
    def set_password(self, project_id: str, name: str, password_hash: str) -> bool: ...
    def delete_user(self, project_id: str, name: str) -> bool: ...
    def create_credential(self, credential: Credential) -> None: ...
    def credential(self, ak: str) -> Credential | None: ...
    def credentials(self, project_id: str | None = None) -> list[Credential]: ...
    def set_credential_disabled(self, ak: str, disabled: bool) -> bool: ...
    def rotate_credential(self, old_ak: str, new: Credential, old_expires_at: float) -> bool: ...
    def delete_credential(self, ak: str) -> bool: ...
    def add_token(self, token_hash: str, project_id: str, user_name: str, expires_at: float) -> None: ...
    def token(self, token_hash: str) -> tuple[str, str, float] | None: ...
    def count_call(self, project_id: str, api: str, day: str, throttled: bool = False,
                   error: bool = False) -> None: ...
    def usage(self, project_id: str, start_day: str = "",
              end_day: str = "9999") -> list[tuple[str, str, int, int, int]]: ...
    def append_audit(self, at: str, project_id: str, actor: str, action: str, resource: str,
                     detail: dict, request_id: str) -> None: ...
    def audit(self, project_id: str | None = None, action: str | None = None, after_seq: int = 0,
              limit: int = 100) -> list[AuditEvent]: ...
    # whole tables, for `openfrs migrate`
    def tokens(self) -> list[tuple[str, str, str, float]]: ...
    def usage_rows(self) -> list[tuple[str, str, str, int, int, int]]: ...
    def add_usage_rows(self, rows: Sequence[tuple[str, str, str, int, int, int]]) -> None: ...
    def append_audit_events(self, events: Sequence[AuditEvent]) -> None: ...


# Column orders the row decoders below expect.
_PROJECT_COLUMNS = "project_id, name, created_at, disabled, qps"
_USER_COLUMNS = "project_id, name, password_hash, created_at, disabled"
_CREDENTIAL_COLUMNS = "ak, project_id, sk_sealed, created_at, disabled, expires_at"
_AUDIT_COLUMNS = "at, project_id, actor, action, resource, detail, request_id"


def _insert(table: str, columns: str) -> str:
    return f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * (columns.count(',') + 1))})"


class AccountSQL:
    """Every accounts-store method, written once in SQL both databases run: `?` placeholders,
    booleans bound as such (SQLite keeps 0/1), ON CONFLICT upserts, `CAST(? AS TEXT)` where a
    parameter is only tested for NULL (PostgreSQL must know its type). A backend supplies the
    connections and the exception its driver raises for a broken constraint."""

    _integrity_error: ClassVar[type[Exception]]
    # One transaction, committed on return; its connection's execute/executemany take this SQL.
    _transaction: Callable[[], AbstractContextManager[Any]]
    _rows: Callable[[str, Sequence[object]], list[tuple]]
    _row: Callable[[str, Sequence[object]], tuple | None]

    @contextmanager
    def _creating(self) -> Iterator[Any]:
        """A write whose broken constraint (a taken key, an unknown project) is AlreadyExists."""
        try:
            with self._transaction() as db:
                yield db
        except self._integrity_error as exc:
            raise AlreadyExists(str(exc)) from exc

    # -- projects and their sub-services ----------------------------------------------------

    def create_project(self, project: Project, services: dict[str, bool]) -> None:
        """The project and its sub-services in one transaction."""
        with self._creating() as db:
            db.execute(_insert("projects", _PROJECT_COLUMNS),
                       (project.project_id, project.name, project.created_at, bool(project.disabled),
                        project.qps))
            db.executemany(_insert("project_services", "project_id, service, enabled, created_at"),
                           [(project.project_id, name, bool(on), project.created_at)
                            for name, on in services.items()])

    def project(self, key: str) -> Project | None:
        """By project id or by name."""
        row = self._row(f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE project_id = ? OR name = ?",
                        (key, key))
        return _project(row) if row else None

    def projects(self) -> list[Project]:
        return [_project(r) for r in self._rows(
            f"SELECT {_PROJECT_COLUMNS} FROM projects ORDER BY created_at, name", ())]

    def set_project(self, project_id: str, *, disabled: bool | None = None,
                    qps: float | None = None) -> bool:
        with self._transaction() as db:
            changed = 0
            if disabled is not None:
                changed += db.execute("UPDATE projects SET disabled = ? WHERE project_id = ?",
                                      (bool(disabled), project_id)).rowcount
            if qps is not None:
                changed += db.execute("UPDATE projects SET qps = ? WHERE project_id = ?",
                                      (qps if qps > 0 else None, project_id)).rowcount
        return changed > 0

    def delete_project(self, project_id: str) -> bool:
        """The project with its sub-services, users, credentials and tokens; its usage counts and
        audit events stay (history, and the audit log is append-only)."""
        with self._transaction() as db:
            for table in ("tokens", "credentials", "users", "project_services"):
                db.execute(f"DELETE FROM {table} WHERE project_id = ?", (project_id,))
            return db.execute("DELETE FROM projects WHERE project_id = ?", (project_id,)).rowcount > 0

    def services(self, project_id: str) -> dict[str, tuple[bool, str]]:
        rows = self._rows("SELECT service, enabled, created_at FROM project_services WHERE project_id = ?",
                          (project_id,))
        return {name: (bool(on), created) for name, on, created in rows}

    def set_service(self, project_id: str, service: str, enabled: bool, now: str) -> None:
        with self._transaction() as db:
            db.execute(_insert("project_services", "project_id, service, enabled, created_at")
                       + " ON CONFLICT (project_id, service) DO UPDATE SET enabled = excluded.enabled",
                       (project_id, service, bool(enabled), now))

    # -- users, credentials, tokens ---------------------------------------------------------

    def create_user(self, user: User) -> None:
        with self._creating() as db:
            db.execute(_insert("users", _USER_COLUMNS),
                       (user.project_id, user.name, user.password_hash, user.created_at, bool(user.disabled)))

    def user(self, project_id: str, name: str) -> User | None:
        row = self._row(f"SELECT {_USER_COLUMNS} FROM users WHERE project_id = ? AND name = ?",
                        (project_id, name))
        return _user(row) if row else None

    def users(self, project_id: str | None = None) -> list[User]:
        return [_user(r) for r in self._rows(
            f"SELECT {_USER_COLUMNS} FROM users WHERE CAST(? AS TEXT) IS NULL OR project_id = ?"
            " ORDER BY project_id, name", (project_id, project_id))]

    def set_user_disabled(self, project_id: str, name: str, disabled: bool) -> bool:
        with self._transaction() as db:
            return db.execute("UPDATE users SET disabled = ? WHERE project_id = ? AND name = ?",
                              (bool(disabled), project_id, name)).rowcount > 0

    def set_password(self, project_id: str, name: str, password_hash: str) -> bool:
        """The new hash, and every token the user holds revoked, in one transaction."""
        with self._transaction() as db:
            if db.execute("UPDATE users SET password_hash = ? WHERE project_id = ? AND name = ?",
                          (password_hash, project_id, name)).rowcount == 0:
                return False
            db.execute("DELETE FROM tokens WHERE project_id = ? AND user_name = ?", (project_id, name))
        return True

    def delete_user(self, project_id: str, name: str) -> bool:
        """The user and its tokens (a user made again with the name must not inherit them)."""
        with self._transaction() as db:
            db.execute("DELETE FROM tokens WHERE project_id = ? AND user_name = ?", (project_id, name))
            return db.execute("DELETE FROM users WHERE project_id = ? AND name = ?",
                              (project_id, name)).rowcount > 0

    def create_credential(self, credential: Credential) -> None:
        with self._creating() as db:
            db.execute(_insert("credentials", _CREDENTIAL_COLUMNS), _credential_row(credential))

    def credential(self, ak: str) -> Credential | None:
        row = self._row(f"SELECT {_CREDENTIAL_COLUMNS} FROM credentials WHERE ak = ?", (ak,))
        return _credential(row) if row else None

    def credentials(self, project_id: str | None = None) -> list[Credential]:
        return [_credential(r) for r in self._rows(
            f"SELECT {_CREDENTIAL_COLUMNS} FROM credentials WHERE CAST(? AS TEXT) IS NULL OR project_id = ?"
            " ORDER BY project_id, created_at", (project_id, project_id))]

    def set_credential_disabled(self, ak: str, disabled: bool) -> bool:
        with self._transaction() as db:
            return db.execute("UPDATE credentials SET disabled = ? WHERE ak = ?",
                              (bool(disabled), ak)).rowcount > 0

    def rotate_credential(self, old_ak: str, new: Credential, old_expires_at: float) -> bool:
        """The new credential and the old one's end, in one transaction; False (and nothing
        written) unless the old one exists, is enabled and was not rotated before."""
        with self._transaction() as db:
            if db.execute("UPDATE credentials SET expires_at = ? WHERE ak = ? AND NOT disabled"
                          " AND expires_at IS NULL", (old_expires_at, old_ak)).rowcount == 0:
                return False
            db.execute(_insert("credentials", _CREDENTIAL_COLUMNS), _credential_row(new))
        return True

    def delete_credential(self, ak: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM credentials WHERE ak = ?", (ak,)).rowcount > 0

    def add_token(self, token_hash: str, project_id: str, user_name: str, expires_at: float) -> None:
        """The token, and tokens two days past their end dropped (nothing else ever reads them)."""
        with self._transaction() as db:
            db.execute("DELETE FROM tokens WHERE expires_at < ?", (expires_at - 86400 * 2,))
            db.execute(_insert("tokens", "token_hash, project_id, user_name, expires_at"),
                       (token_hash, project_id, user_name, expires_at))

    def token(self, token_hash: str) -> tuple[str, str, float] | None:
        """(project_id, user name, expires_at)."""
        row = self._row("SELECT project_id, user_name, expires_at FROM tokens WHERE token_hash = ?",
                        (token_hash,))
        return (row[0], row[1], row[2]) if row else None

    # -- usage and audit -------------------------------------------------------------------

    def count_call(self, project_id: str, api: str, day: str, throttled: bool = False,
                   error: bool = False) -> None:
        """One more successful call, or one more rate-limited (`throttled`) or refused or failed
        (`error`) one; a single upsert, so replicas counting the same day at once lose nothing."""
        with self._transaction() as db:
            db.execute(_insert("usage", "project_id, api, day, calls, throttled, errors")
                       + " ON CONFLICT (project_id, api, day) DO UPDATE SET calls = usage.calls"
                       " + excluded.calls, throttled = usage.throttled + excluded.throttled,"
                       " errors = usage.errors + excluded.errors",
                       (project_id, api, day, int(not (throttled or error)), int(throttled), int(error)))

    def usage(self, project_id: str, start_day: str = "",
              end_day: str = "9999") -> list[tuple[str, str, int, int, int]]:
        """(day, api, calls, throttled, errors), by day then api."""
        return [tuple(r) for r in self._rows(
            "SELECT day, api, calls, throttled, errors FROM usage"
            " WHERE project_id = ? AND day BETWEEN ? AND ? ORDER BY day, api",
            (project_id, start_day, end_day))]

    def append_audit(self, at: str, project_id: str, actor: str, action: str, resource: str,
                     detail: dict, request_id: str) -> None:
        with self._transaction() as db:
            db.execute(_insert("audit", _AUDIT_COLUMNS),
                       (at, project_id, actor, action, resource, json.dumps(detail, sort_keys=True),
                        request_id))

    def audit(self, project_id: str | None = None, action: str | None = None, after_seq: int = 0,
              limit: int = 100) -> list[AuditEvent]:
        """Events after `after_seq`, oldest first; `action` matches whatever its (ASCII) case."""
        rows = self._rows(
            f"SELECT seq, {_AUDIT_COLUMNS} FROM audit WHERE (CAST(? AS TEXT) IS NULL OR project_id = ?)"
            " AND (CAST(? AS TEXT) IS NULL OR lower(action) = lower(?))"
            " AND seq > ? ORDER BY seq LIMIT ?",
            (project_id, project_id, action, action, after_seq, limit))
        return [AuditEvent(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7]) for r in rows]

    # -- whole tables, for `openfrs migrate` (migrate/accounts.py) -------------------------

    def tokens(self) -> list[tuple[str, str, str, float]]:
        """Every token as (token_hash, project_id, user name, expires_at)."""
        return [tuple(r) for r in self._rows(
            "SELECT token_hash, project_id, user_name, expires_at FROM tokens ORDER BY token_hash", ())]

    def usage_rows(self) -> list[tuple[str, str, str, int, int, int]]:
        """Every count as (project_id, api, day, calls, throttled, errors), deleted projects' too."""
        return [tuple(r) for r in self._rows(
            "SELECT project_id, api, day, calls, throttled, errors FROM usage ORDER BY project_id, api, day",
            ())]

    def add_usage_rows(self, rows: Sequence[tuple[str, str, str, int, int, int]]) -> None:
        """Counts copied from another store, in one transaction; a (project, api, day) counted
        here already keeps its own count."""
        with self._transaction() as db:
            db.executemany(_insert("usage", "project_id, api, day, calls, throttled, errors")
                           + " ON CONFLICT (project_id, api, day) DO NOTHING", list(rows))

    def append_audit_events(self, events: Sequence[AuditEvent]) -> None:
        """Events copied from another store, in order and in one transaction (each takes this
        store's next seq)."""
        with self._transaction() as db:
            db.executemany(_insert("audit", _AUDIT_COLUMNS), [
                (e.at, e.project_id, e.actor, e.action, e.resource, json.dumps(e.detail, sort_keys=True),
                 e.request_id) for e in events])


class AccountStore(AccountSQL, SQLiteDatabase):
    """The accounts in their own SQLite file."""

    _integrity_error = sqlite3.IntegrityError

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Columns added since the first release, on a database made before them."""
        for table, column, kind in (("credentials", "expires_at", "REAL"),
                                    ("usage", "throttled", "INTEGER NOT NULL DEFAULT 0"),
                                    ("usage", "errors", "INTEGER NOT NULL DEFAULT 0")):
            columns = {row[1] for row in self._writer.execute(f"PRAGMA table_info({table})")}
            if column in columns:
                continue
            try:
                self._writer.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as exc:  # another process added it just now
                if "duplicate column" not in str(exc):
                    raise

    def _rows(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        return self._reader().execute(query, params).fetchall()

    def _row(self, query: str, params: Sequence[object] = ()) -> tuple | None:
        return self._reader().execute(query, params).fetchone()


def _project(row: tuple) -> Project:
    return Project(row[0], row[1], row[2], bool(row[3]), row[4])


def _user(row: tuple) -> User:
    return User(row[0], row[1], row[2], row[3], bool(row[4]))


def _credential_row(credential: Credential) -> tuple:
    return (credential.ak, credential.project_id, credential.sk_sealed, credential.created_at,
            bool(credential.disabled), credential.expires_at)


def _credential(row: tuple) -> Credential:
    return Credential(row[0], row[1], row[2], row[3], bool(row[4]), row[5])
