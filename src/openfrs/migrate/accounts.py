"""Copy the accounts (projects, sub-services, users, credentials, live tokens, usage, audit) by
their natural keys: a row the target lacks is written, an equal one counted as present, a
different one refused before anything is written.

Secret keys are opened with the source's master key and sealed again with the target's, so the
same AK/SK keep signing. Password hashes are copied as they are (salted PBKDF2: no key involved),
tokens likewise (an unkeyed SHA-256 of the bearer token: the same token works on the target);
expired tokens are left behind. Audit events have no natural key: they are matched as a multiset
of their contents, so a re-run appends only those an interrupted run had not."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from cryptography.exceptions import InvalidTag

from openfrs.migrate.source import Refused
from openfrs.store.accounts import AccountSQL, AlreadyExists, AuditEvent, Credential, Project, User

AUDIT_PAGE = 1000
TABLES = ("projects", "project_services", "users", "credentials", "tokens", "usage", "audit")


@dataclass
class AccountsPlan:
    """What the target lacks, per table; `counts[table]` is (rows in the source, rows present)."""

    projects: list[Project] = field(default_factory=list)
    services: list[tuple[str, str, bool, str]] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)  # sealed with the target's key
    tokens: list[tuple[str, str, str, float]] = field(default_factory=list)
    usage: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def audit_events(store: AccountSQL) -> list[AuditEvent]:
    """Every event, oldest first."""
    events: list[AuditEvent] = []
    while page := store.audit(None, None, events[-1].seq if events else 0, AUDIT_PAGE):
        events.extend(page)
    return events


def _audit_key(event: AuditEvent) -> tuple:
    return (event.at, event.project_id, event.actor, event.action, event.resource,
            json.dumps(event.detail, sort_keys=True), event.request_id)


def live_tokens(store: AccountSQL, now: float) -> list[tuple[str, str, str, float]]:
    return [token for token in store.tokens() if token[3] > now]


class AccountsCopy:
    """One source and one target accounts store, with the boxes sealing their secret keys."""

    def __init__(self, source: AccountSQL, target: AccountSQL, source_box, target_box,
                 now: float | None = None) -> None:
        self.source, self.target = source, target
        self.source_box, self.target_box = source_box, target_box
        self.now = time.time() if now is None else now

    def plan(self) -> AccountsPlan:
        plan = AccountsPlan()
        self._projects(plan)
        self._services(plan)
        self._keyed(plan, "users", plan.users, self.source.users(),
                    lambda u: self.target.user(u.project_id, u.name),
                    lambda u: f"user {u.project_id}/{u.name}")
        self._credentials(plan)
        self._keyed(plan, "tokens", plan.tokens, live_tokens(self.source, self.now),
                    lambda t: _token_row(t[0], self.target.token(t[0])), lambda t: f"token {t[0][:12]}…")
        held = {row[:3]: row for row in self.target.usage_rows()}
        self._keyed(plan, "usage", plan.usage, self.source.usage_rows(), lambda r: held.get(r[:3]),
                    lambda r: f"usage {r[0]}/{r[1]}/{r[2]}")
        self._audit(plan)
        return plan

    def _keyed(self, plan: AccountsPlan, table: str, missing: list, rows: list,
               found: Callable[[object], object], name: Callable[[object], str]) -> None:
        """Rows the target lacks go to `missing`; a row it holds differently is a conflict."""
        for row in rows:
            held = found(row)
            if held is None:
                missing.append(row)
            elif held != row:
                plan.conflicts.append(f"{name(row)} differs in the target")
        plan.counts[table] = (len(rows), len(rows) - len(missing))

    def _projects(self, plan: AccountsPlan) -> None:
        def found(project: Project) -> Project | None:
            held = self.target.project(project.project_id)
            if held is None or held.project_id != project.project_id:
                held = self.target.project(project.name)  # the name taken by another project
            return held

        self._keyed(plan, "projects", plan.projects, self.source.projects(), found,
                    lambda p: f"project {p.name!r} ({p.project_id}, by id or name)")

    def _services(self, plan: AccountsPlan) -> None:
        rows, held = [], {}
        for project in self.source.projects():
            pid = project.project_id
            rows += [(pid, name, on, at) for name, (on, at) in sorted(self.source.services(pid).items())]
            held.update({(pid, name): (pid, name, on, at)
                         for name, (on, at) in self.target.services(pid).items()})
        self._keyed(plan, "project_services", plan.services, rows, lambda r: held.get(r[:2]),
                    lambda r: f"sub-service {r[1]} of project {r[0]}")

    def _credentials(self, plan: AccountsPlan) -> None:
        rows = self.source.credentials()
        if rows and self.source_box is None:
            raise Refused("the source has credentials but no master key was found to open them: give "
                          "the source server's OPENFRS_SECRET_KEY as OPENFRS_SOURCE_SECRET_KEY, or "
                          "--source-key-file")
        opened = [(c, self._open(self.source_box, c, "source")) for c in rows]
        for credential, sk in opened:
            held = self.target.credential(credential.ak)
            if held is None:
                sealed = self.target_box.seal(sk, credential.ak)  # the same SK under the target's key
                plan.credentials.append(replace(credential, sk_sealed=sealed))
            elif (replace(held, sk_sealed=b"") != replace(credential, sk_sealed=b"")
                  or self._open(self.target_box, held, "target", refuse=False) != sk):
                plan.conflicts.append(f"credential {credential.ak} differs in the target")
        plan.counts["credentials"] = (len(rows), len(rows) - len(plan.credentials))

    @staticmethod
    def _open(box, credential: Credential, side: str, refuse: bool = True) -> str | None:
        try:
            return box.open(credential.sk_sealed, credential.ak)
        except InvalidTag:
            if not refuse:
                return None
            raise Refused(f"the {side} master key does not open credential {credential.ak}: give the "
                          f"key its server used (OPENFRS_SOURCE_SECRET_KEY or --source-key-file)") from None

    def _audit(self, plan: AccountsPlan) -> None:
        """A multiset difference: each source event is matched by one equal target event at most."""
        held = Counter(_audit_key(event) for event in audit_events(self.target))
        events = audit_events(self.source)
        for event in events:
            key = _audit_key(event)
            if held[key] > 0:
                held[key] -= 1
            else:
                plan.audit.append(event)
        plan.counts["audit"] = (len(events), len(events) - len(plan.audit))

    def copy(self, plan: AccountsPlan, batch: int) -> dict[str, int]:
        """Writes what the plan found missing, parents first; returns how many rows per table."""
        try:
            for project in plan.projects:
                self.target.create_project(project, {})
            for project_id, service, enabled, created_at in plan.services:
                self.target.set_service(project_id, service, enabled, created_at)
            for user in plan.users:
                self.target.create_user(user)
            for credential in plan.credentials:
                self.target.create_credential(credential)
        except AlreadyExists as taken:  # written by someone else since the plan
            raise Refused(f"the target changed while migrating: {taken}") from None
        for token_hash, project_id, user_name, expires_at in plan.tokens:
            self.target.add_token(token_hash, project_id, user_name, expires_at)
        for start in range(0, len(plan.usage), batch):
            self.target.add_usage_rows(plan.usage[start:start + batch])
        for start in range(0, len(plan.audit), batch):
            self.target.append_audit_events(plan.audit[start:start + batch])
        return {"projects": len(plan.projects), "project_services": len(plan.services),
                "users": len(plan.users), "credentials": len(plan.credentials),
                "tokens": len(plan.tokens), "usage": len(plan.usage), "audit": len(plan.audit)}


def _token_row(token_hash: str, held: tuple[str, str, float] | None) -> tuple | None:
    return None if held is None else (token_hash, *held)


def table_counts(store: AccountSQL, now: float) -> dict[str, int]:
    """Rows per table (tokens: the live ones), for the verification."""
    projects = store.projects()
    return {"projects": len(projects),
            "project_services": sum(len(store.services(p.project_id)) for p in projects),
            "users": len(store.users()), "credentials": len(store.credentials()),
            "tokens": len(live_tokens(store, now)), "usage": len(store.usage_rows()),
            "audit": len(audit_events(store))}
