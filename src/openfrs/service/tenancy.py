"""Tenants and their keys: projects (the `project_id` of every path), sub-services, users with
passwords, AK/SK credentials and issued tokens; plus the daily usage counts and the audit log.

Used by the server (authentication, /subscribe, usage, audit) and by `openfrs admin` on the same
data dir or database, even while servers run: nothing is cached here, so a disabled credential
or project stops working on the next call.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import math
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag

from openfrs.errors import FRSError
from openfrs.store.accounts import (
    Accounts,
    AlreadyExists,
    AuditEvent,
    Credential,
    Project,
    User,
)
from openfrs.store.factory import ACCOUNTS_FILE as ACCOUNTS_FILE  # where callers have always found it
from openfrs.store.factory import open_accounts
from openfrs.store.secret_box import SecretBox, load_master_key

if TYPE_CHECKING:
    from openfrs.config import Settings

# FRS sub-services (the /subscribe document's *_service entries) and the APIs each one covers.
SERVICES = ("detect", "compare", "search", "live_detect")
DEFAULT_PROJECT = "default"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_AK_ALPHABET = string.ascii_uppercase + string.digits
_SK_ALPHABET = string.ascii_letters + string.digits
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
ROTATION_GRACE_S = 86400.0  # how long a rotated credential keeps signing beside its successor
MAX_ROTATION_GRACE_S = 366 * 86400  # a year; a far date would overflow the expiry
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PROJECT_ID = re.compile(r"[0-9a-f]{32}")


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(_hash_password(password, bytes.fromhex(salt)).split("$")[2], digest)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def time_text(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, UTC).strftime("%Y-%m-%d %H:%M:%S")


def check_day(value: str, name: str) -> str:
    """A YYYY-MM-DD calendar date, as usage days are kept; FRS.0117 names `name` otherwise."""
    if not _DAY.fullmatch(value):
        raise FRSError("FRS.0117", f"{name} must be YYYY-MM-DD, not {value[:32]!r}")
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise FRSError("FRS.0117", f"{name} {value} is not a calendar date") from None
    return value


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise FRSError("FRS.0012", "passwords have at least 8 characters")


def audit_document(event: AuditEvent) -> dict:
    """An audit event as GET /v1/{project_id}/audit shows it (the admin CLI uses the same names)."""
    return {"seq": event.seq, "time": event.at, "actor": event.actor, "action": event.action,
            "resource": event.resource, "detail": event.detail, "request_id": event.request_id}


def user_document(user: User) -> dict:
    """A user as the management API shows it (never the password hash)."""
    return {"name": user.name, "created_at": user.created_at, "disabled": user.disabled}


@dataclass(frozen=True)
class IssuedCredential:
    project_id: str
    ak: str
    sk: str


@dataclass(frozen=True)
class Rotation:
    """A rotation's new credential, and until when (Unix time) the old one still signs."""

    issued: IssuedCredential
    old_ak: str
    old_expires_at: float


class Tenancy:
    request_id = ""  # what audit records carry when a change names none (see for_request)

    def __init__(self, store: Accounts, box: SecretBox, token_ttl_s: float = 86400.0) -> None:
        self.store = store
        self.box = box
        self.token_ttl_s = token_ttl_s

    @classmethod
    def from_settings(cls, settings: Settings) -> Tenancy:
        """The accounts the settings name (the data dir's or the database's), sealed with their
        master key (OPENFRS_SECRET_KEY, else the data dir's key file: embedded only)."""
        box = SecretBox(load_master_key(settings.data_dir, settings.secret_key))
        return cls(open_accounts(settings), box, settings.token_ttl_s)

    @classmethod
    def open(cls, data_dir: Path, secret_key: str | None = None, token_ttl_s: float = 86400.0) -> Tenancy:
        """An embedded data dir's accounts, whatever the environment says (tests, tools)."""
        from openfrs.config import Settings

        return cls.from_settings(Settings.model_construct(data_dir=Path(data_dir), secret_key=secret_key,
                                                          token_ttl_s=token_ttl_s))

    def close(self) -> None:
        self.store.close()

    # -- projects ------------------------------------------------------------------------------

    def project(self, key: str) -> Project:
        """By id or name; FRS.0012 when there is none (admin use)."""
        project = self.store.project(key)
        if project is None:
            raise FRSError("FRS.0012", f"no project {key[:64]!r}")
        return project

    def create_project(self, name: str, actor: str = "admin") -> Project:
        if not _NAME.fullmatch(name):
            raise FRSError("FRS.0012", "project names are 1-64 letters, digits, '_', '.' or '-'")
        project = Project(uuid.uuid4().hex, name, now_text(), False, None)
        try:
            self.store.create_project(project, {service: True for service in SERVICES})
        except AlreadyExists:
            raise FRSError("FRS.0012", f"a project named {name!r} exists") from None
        self.audit(project.project_id, actor, "createProject", f"project/{name}", {})
        return project

    def set_project(self, key: str, *, disabled: bool | None = None, qps: float | None = None,
                    actor: str = "admin") -> Project:
        """Freeze or thaw, or set the QPS (0: back to the server's default)."""
        if qps is not None and not (math.isfinite(qps) and qps >= 0):
            raise FRSError("FRS.0012", "qps must be a number >= 0 (0: the server's default)")
        project = self.project(key)
        self.store.set_project(project.project_id, disabled=disabled, qps=qps)
        change = {k: v for k, v in (("disabled", disabled), ("qps", qps)) if v is not None}
        self.audit(project.project_id, actor, "updateProject", f"project/{project.name}", change)
        return self.project(project.project_id)

    def delete_project(self, key: str, face_sets: Callable[[str], list[str]],
                       actor: str = "admin") -> Project:
        """Delete a project with its users, credentials and tokens; refused (FRS.0012) while
        `face_sets(project_id)` names any: those live in the metadata store, with the server's
        vector indexes, and go through the API's delete. Frozen during the check, so no call
        creates a face set between the check and the delete."""
        project = self.project(key)
        if not project.disabled:
            self.store.set_project(project.project_id, disabled=True)
        try:
            owned = face_sets(project.project_id)
            if owned:
                shown = ", ".join(owned[:10]) + (", ..." if len(owned) > 10 else "")
                raise FRSError("FRS.0012", f"project {project.name!r} still has {len(owned)} face set(s): "
                               f"{shown}; delete them first (DELETE /v2/{project.project_id}/face-sets/NAME)")
        except BaseException:  # refused or failed: the project is as it was
            self.store.set_project(project.project_id, disabled=project.disabled)
            raise
        self.store.delete_project(project.project_id)
        self.audit(project.project_id, actor, "deleteProject", f"project/{project.name}", {})
        return project

    def set_service(self, key: str, service: str, enabled: bool, actor: str = "admin") -> None:
        if service not in SERVICES:
            raise FRSError("FRS.0012", f"services are {', '.join(SERVICES)}")
        project = self.project(key)
        self.store.set_service(project.project_id, service, enabled, now_text())
        self.audit(project.project_id, actor, "enableService" if enabled else "disableService",
                   f"project/{project.name}/service/{service}", {})

    def admit(self, project_id: str, service: str | None) -> Project:
        """The project of an authenticated call, if it may use `service` (None: account APIs,
        always allowed): FRS.0202 when the project is disabled, FRS.0019 when none of its
        sub-services is enabled, FRS.0020 when this one is not."""
        project = self.store.project(project_id)
        if project is None or project.disabled:
            raise FRSError("FRS.0202", "the project is disabled")
        if service is not None:
            services = self.store.services(project.project_id)
            if not any(enabled for enabled, _ in services.values()):
                raise FRSError("FRS.0019", "no sub-service is enabled for this project")
            if not services.get(service, (False, ""))[0]:
                raise FRSError("FRS.0020", f"{service} is not enabled for this project")
        return project

    def subscription(self, project_id: str, max_face_sets: int) -> dict:
        """The FRS /subscribe document."""
        document: dict[str, object] = {"max_face_set_number": max_face_sets}
        for service, (enabled, created) in sorted(self.store.services(project_id).items()):
            document[f"{service}_service"] = {"subscribe_status": enabled, "create_time": created}
        return document

    # -- credentials, users, tokens -------------------------------------------------------------

    def create_credential(self, key: str, actor: str = "admin") -> IssuedCredential:
        """A new AK/SK; the SK is returned this once and stored sealed."""
        project = self.project(key)
        ak, sk = self._new_key()
        sealed = self.box.seal(sk, ak)
        self.store.create_credential(Credential(ak, project.project_id, sealed, now_text(), False))
        self.audit(project.project_id, actor, "createCredential", f"credential/{ak}", {})
        return IssuedCredential(project.project_id, ak, sk)

    @staticmethod
    def _new_key() -> tuple[str, str]:
        return ("".join(secrets.choice(_AK_ALPHABET) for _ in range(20)),
                "".join(secrets.choice(_SK_ALPHABET) for _ in range(40)))

    def set_credential_disabled(self, ak: str, disabled: bool, actor: str = "admin") -> None:
        credential = self.store.credential(ak)
        if credential is None or not self.store.set_credential_disabled(ak, disabled):
            raise FRSError("FRS.0012", f"no credential {ak[:32]!r}")
        self.audit(credential.project_id, actor, "disableCredential" if disabled else "enableCredential",
                   f"credential/{ak}", {})

    def rotate_credential(self, ak: str, grace_s: float = ROTATION_GRACE_S,
                          actor: str = "admin") -> Rotation:
        """A new AK/SK for the credential's project (the SK returned this once); the old one
        keeps signing `grace_s` seconds more, then fails as a deleted one does (IAM's model:
        clients move to the new pair, then the old is deleted)."""
        if not (math.isfinite(grace_s) and 0 <= grace_s <= MAX_ROTATION_GRACE_S):
            raise FRSError("FRS.0012", f"the grace period is 0 to {MAX_ROTATION_GRACE_S} seconds")
        old = self.store.credential(ak)
        if old is None:
            raise FRSError("FRS.0012", f"no credential {ak[:32]!r}")
        ak_new, sk_new = self._new_key()
        expires_at = time.time() + grace_s
        new = Credential(ak_new, old.project_id, self.box.seal(sk_new, ak_new), now_text(), False)
        if not self.store.rotate_credential(ak, new, expires_at):
            raise FRSError("FRS.0012", f"credential {ak} is disabled or was rotated before "
                           "(rotate its successor, or create a new one)")
        self.audit(old.project_id, actor, "rotateCredential", f"credential/{ak}",
                   {"new_ak": ak_new, "old_valid_until": time_text(expires_at)})
        return Rotation(IssuedCredential(old.project_id, ak_new, sk_new), ak, expires_at)

    def delete_credential(self, ak: str, actor: str = "admin") -> None:
        credential = self.store.credential(ak)
        if credential is None or not self.store.delete_credential(ak):
            raise FRSError("FRS.0012", f"no credential {ak[:32]!r}")
        self.audit(credential.project_id, actor, "deleteCredential", f"credential/{ak}", {})

    def secret_key(self, ak: str) -> tuple[str, str] | None:
        """(project_id, SK) of an enabled credential not past its rotation grace, None otherwise."""
        credential = self.store.credential(ak)
        if credential is None or credential.disabled:
            return None
        if credential.expires_at is not None and credential.expires_at <= time.time():
            return None
        try:
            return credential.project_id, self.box.open(credential.sk_sealed, ak)
        except InvalidTag:  # sealed under another master key: unusable, never a pass
            return None

    def create_user(self, key: str, name: str, password: str, actor: str = "admin") -> User:
        project = self.project(key)
        if not _NAME.fullmatch(name):
            raise FRSError("FRS.0012", "user names are 1-64 letters, digits, '_', '.' or '-'")
        _check_password(password)
        user = User(project.project_id, name, _hash_password(password), now_text(), False)
        try:
            self.store.create_user(user)
        except AlreadyExists:
            raise FRSError("FRS.0012", f"user {name!r} exists in project {project.name!r}") from None
        self.audit(project.project_id, actor, "createUser", f"user/{name}", {})
        return user

    def set_user_disabled(self, key: str, name: str, disabled: bool, actor: str = "admin") -> None:
        project = self.project(key)
        if not self.store.set_user_disabled(project.project_id, name, disabled):
            raise FRSError("FRS.0012", f"no user {name[:64]!r} in project {project.name!r}")
        self.audit(project.project_id, actor, "disableUser" if disabled else "enableUser", f"user/{name}", {})

    def reset_password(self, key: str, name: str, password: str, actor: str = "admin") -> None:
        """A new password; every token the user holds stops working at once."""
        project = self.project(key)
        _check_password(password)
        if not self.store.set_password(project.project_id, name, _hash_password(password)):
            raise FRSError("FRS.0012", f"no user {name[:64]!r} in project {project.name!r}")
        self.audit(project.project_id, actor, "resetPassword", f"user/{name}", {})

    def delete_user(self, key: str, name: str, actor: str = "admin") -> None:
        project = self.project(key)
        if not self.store.delete_user(project.project_id, name):
            raise FRSError("FRS.0012", f"no user {name[:64]!r} in project {project.name!r}")
        self.audit(project.project_id, actor, "deleteUser", f"user/{name}", {})

    def issue_token(self, project_key: str, user_name: str, password: str) -> tuple[str, Project, float]:
        """(token, project, expires_at) for a user's password; APIG.0301 on any mismatch (one
        answer whether the project, the user or the password was wrong)."""
        project = self.store.project(project_key)
        user = self.store.user(project.project_id, user_name) if project else None
        known = project is not None and user is not None and not user.disabled
        if not known:
            _hash_password(password)  # the same work either way: timing tells nothing of who exists
        if not known or not _password_matches(password, user.password_hash):
            raise FRSError("APIG.0301", "the user name or password is wrong")
        token = "MII" + secrets.token_urlsafe(48)  # IAM tokens start so; clients do not parse them
        expires_at = time.time() + self.token_ttl_s
        self.store.add_token(token_hash(token), project.project_id, user_name, expires_at)
        return token, project, expires_at

    def token_owner(self, token: str) -> tuple[str, str] | None:
        """(project_id, user name) of a valid token, None when unknown, expired or its user disabled."""
        found = self.store.token(token_hash(token))
        if found is None or found[2] < time.time():
            return None
        project_id, user_name, _ = found
        user = self.store.user(project_id, user_name)
        return None if user is None or user.disabled else (project_id, user_name)

    # -- a project managing itself (OpenFRS extension: api/routes/manage.py) ---------------------

    def for_request(self, request_id: str) -> Tenancy:
        """The same accounts, whose audit records of changes carry the API request's id."""
        view = copy.copy(self)
        view.request_id = request_id
        return view

    def own_credential(self, project_id: str, ak: str) -> Credential:
        """The project's credential `ak`; another project's answers as an unknown one (FRS.0012)."""
        credential = self.store.credential(ak)
        if credential is None or credential.project_id != project_id:
            raise FRSError("FRS.0012", f"no credential {ak[:32]!r}")
        return credential

    def own_user(self, project_id: str, name: str) -> User:
        """The project's user `name` (FRS.0012 when there is none)."""
        user = self.store.user(project_id, name)
        if user is None:
            raise FRSError("FRS.0012", f"no user {name[:64]!r}")
        return user

    @staticmethod
    def refuse_own_access(caller: str, target: str, change: str) -> None:
        """A caller may not disable or delete the access it is using right now ("ak:<AK>" or
        "user:<name>"): the project would otherwise lock itself out without a word."""
        if caller == target:
            raise FRSError("FRS.0012", f"{target} is the access this request uses; {change} it "
                           "while signed in with another credential or user")

    def credential_documents(self, project_id: str) -> list[dict]:
        """The project's credentials as the management API lists them (never the SK)."""
        return [{"ak": c.ak, "created_at": c.created_at, "disabled": c.disabled,
                 "expires_at": None if c.expires_at is None else time_text(c.expires_at)}
                for c in self.store.credentials(project_id)]

    def user_documents(self, project_id: str) -> list[dict]:
        return [user_document(u) for u in self.store.users(project_id)]

    # -- usage and audit -----------------------------------------------------------------------

    def usage(self, project_id: str, start_day: str | None = None,
              end_day: str | None = None) -> list[dict]:
        """Successful, throttled and refused-or-failed calls per day and API, days as YYYY-MM-DD
        (inclusive bounds, None: open); FRS.0117 for a malformed date or a start after the end."""
        start_day = check_day(start_day, "the start date") if start_day else "0000-00-00"
        end_day = check_day(end_day, "the end date") if end_day else "9999-99-99"
        if start_day > end_day:
            raise FRSError("FRS.0117", f"the start date {start_day} is after the end date {end_day}")
        return [{"date": day, "api": api, "calls": calls, "throttled": throttled, "errors": errors}
                for day, api, calls, throttled, errors in self.store.usage(project_id, start_day, end_day)]

    def count_call(self, project_id: str, api: str, throttled: bool = False, error: bool = False) -> None:
        """Counts a successful call, or one refused by the QPS limit (`throttled`), or one refused
        or failed otherwise (`error`: any other 4xx or 5xx)."""
        self.store.count_call(project_id, api, datetime.now(UTC).strftime("%Y-%m-%d"), throttled, error)

    def audit(self, project_id: str, actor: str, action: str, resource: str, detail: dict,
              request_id: str = "") -> None:
        self.store.append_audit(now_text(), project_id, actor, action, resource, detail,
                                request_id or self.request_id)

    def audit_events(self, project_id: str | None, action: str | None = None, after: int = 0,
                     limit: int = 100) -> list[AuditEvent]:
        return self.store.audit(project_id, action, after, limit)

    def audit_page(self, project_id: str | None, action: str | None = None, after: int = 0,
                   limit: int = 100) -> tuple[list[AuditEvent], int | None]:
        """Up to `limit` events (action in any case) and the marker of the next page: the last
        seq shown when more events match, None when this page is the last."""
        events = self.store.audit(project_id, action, after, limit + 1)
        return events[:limit], (events[limit - 1].seq if len(events) > limit else None)

    def audit_project_id(self, key: str) -> str:
        """A project's id by name or id, or a deleted project's id (its events outlive it)."""
        project = self.store.project(key)
        if project is not None:
            return project.project_id
        if _PROJECT_ID.fullmatch(key):
            return key
        raise FRSError("FRS.0012", f"no project {key[:64]!r}")

    def ensure_default_project(self) -> IssuedCredential | None:
        """On a data dir with no project at all: the default project and a first credential."""
        if self.store.projects():
            return None
        try:
            self.create_project(DEFAULT_PROJECT, actor="first-start")
        except FRSError:  # another process starting on the same data dir made it just now
            return None
        return self.create_credential(DEFAULT_PROJECT, actor="first-start")
