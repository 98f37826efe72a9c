"""`openfrs admin ...`: projects, credentials, users, sub-services, QPS, usage and audit, on the
same --data-dir as the server, or the same PostgreSQL database when OPENFRS_DATABASE_URL is set
(also while servers run: the accounts database is shared, in WAL mode or PostgreSQL's own way, and
servers cache nothing of it). Every command prints JSON on stdout (create-credential and
rotate-credential also shell `export` lines), and says on stderr which data dir or database it used.

Exit codes: 0 done; 1 refused (an unknown name, a name taken, a project that still has face
sets, ...); 2 a usage error (options, no terminal for a password, no OpenFRS data there);
141 stdout closed before everything was printed (`| head`), as a process killed by SIGPIPE.
This module parses and prints; the rules are service/tenancy.py's.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import math
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.tenancy import (
    ACCOUNTS_FILE,
    ROTATION_GRACE_S,
    SERVICES,
    IssuedCredential,
    Tenancy,
    audit_document,
    check_day,
    time_text,
)
from openfrs.store.factory import (
    DependencyUnreachable,
    accounts_exist,
    check_reachable,
    location,
    metadata_exists,
    open_metadata_store,
)

MAX_AUDIT_PAGE = 1000
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a C tool killed by a closed pipe


class UsageError(Exception):
    """The command line cannot be run as given (exit 2)."""


# -- argument types: argparse reports their errors as usage errors (exit 2) -----------------------

def _non_negative(meaning: str) -> Callable[[str], float]:
    """A finite number >= 0; `meaning` completes the message (": <meaning>")."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(f"{text!r}: {meaning}")
        return value

    return parse


_qps = _non_negative("calls per second are a number >= 0 (0: the server's default)")
_seconds = _non_negative("a number of seconds >= 0")


def _day(text: str) -> str:
    try:
        return check_day(text, "the date")
    except FRSError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def _int_from(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: an integer from {low} to {high}")
        return int(text)

    return parse


# -- the parser ------------------------------------------------------------------------------------

def _where(parser: argparse.ArgumentParser) -> None:
    """--data-dir and --init, accepted before and after the sub-command. SUPPRESS: a parser that
    is not given the option sets nothing, so it never overwrites a value given earlier (argparse
    copies every sub-parser default over the parent's value)."""
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help="the server's data dir (default: OPENFRS_DATA_DIR, else ./data)")
    parser.add_argument("--init", action="store_true", default=argparse.SUPPRESS,
                        help="start a new accounts store if the data dir (or database schema) holds none")


def add_arguments(admin: argparse.ArgumentParser) -> None:
    _where(admin)
    where = argparse.ArgumentParser(add_help=False)
    _where(where)
    sub = admin.add_subparsers(dest="admin_command", required=True)

    def command(name: str, help: str | None = None) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[where], help=help)

    def in_project(name: str, help: str | None = None) -> argparse.ArgumentParser:
        parser = command(name, help)
        parser.add_argument("--project", required=True, help="project name or id")
        return parser

    command("create-project").add_argument("name")
    command("delete-project", help="only a project without face sets").add_argument("project")
    for name in ("disable-project", "enable-project"):
        command(name).add_argument("project")
    command("list-projects")

    create = in_project("create-credential", help="a new AK/SK (the SK is shown only now)")
    rotate = command("rotate-credential", help="a new AK/SK; the old one signs --grace-s more")
    rotate.add_argument("ak")
    rotate.add_argument("--grace-s", type=_seconds, default=ROTATION_GRACE_S,
                        help=f"seconds the old key keeps working (default {ROTATION_GRACE_S:g})")
    for parser in (create, rotate):
        parser.add_argument("--format", choices=("json", "env"), default="json",
                            help="env: shell export lines, for eval \"$(...)\"")
    for name in ("disable-credential", "enable-credential", "delete-credential"):
        command(name).add_argument("ak")

    for name in ("create-user", "reset-password"):
        parser = in_project(name)
        parser.add_argument("name")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from stdin's first line (no terminal needed)")
    for name in ("disable-user", "enable-user", "delete-user"):
        in_project(name).add_argument("name")
    for name in ("list-credentials", "list-users"):
        command(name).add_argument("--project", default=None)

    for name in ("enable-service", "disable-service"):
        in_project(name).add_argument("service", choices=SERVICES)
    in_project("set-qps", help="the project's calls per second per API (0: server default)").add_argument(
        "qps", type=_qps)
    usage = in_project("usage", help="successful, throttled and refused-or-failed calls per day and API")
    usage.add_argument("--start", type=_day, default=None, help="YYYY-MM-DD (inclusive)")
    usage.add_argument("--end", type=_day, default=None, help="YYYY-MM-DD (inclusive)")
    audit = command("audit", help="the audit log, oldest first")
    audit.add_argument("--project", default=None, help="name or id (also a deleted project's id)")
    audit.add_argument("--action", default=None, help="e.g. createCredential (any case)")
    audit.add_argument("--after", type=_int_from(0, 2**62), default=0, help="the seq to start after")
    audit.add_argument("--limit", type=_int_from(1, MAX_AUDIT_PAGE), default=100)


# -- the commands ----------------------------------------------------------------------------------

def _project_json(tenancy: Tenancy, key: str) -> dict:
    project = tenancy.project(key)
    return {**asdict(project), "services": {name: enabled for name, (enabled, _) in
                                            tenancy.store.services(project.project_id).items()}}


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask the password on: pipe it with --password-stdin, e.g. "
                         f"printf '%s\\n' \"$PASSWORD\" | openfrs admin {args.admin_command} "
                         f"--project {shlex.quote(args.project)} {shlex.quote(args.name)} --password-stdin")
    try:
        password = getpass.getpass("Password: ")
        repeated = getpass.getpass("Repeat it: ")
    except EOFError:  # Ctrl-D at the prompt
        raise UsageError("no password given") from None
    if repeated != password:
        raise UsageError("the two passwords differ")
    return password


def _credential_out(issued: IssuedCredential, form: str, extra: dict) -> object:
    if form == "env":
        return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in (
            ("OPENFRS_PROJECT_ID", issued.project_id), ("OPENFRS_AK", issued.ak),
            ("OPENFRS_SK", issued.sk)))
    return {**asdict(issued), **extra}


def _face_set_names(settings: Settings) -> Callable[[str], list[str]]:
    """The face sets a project owns in the server's metadata store (none when it has no store)."""
    def names(project_id: str) -> list[str]:
        if not metadata_exists(settings):
            return []
        store = open_metadata_store(settings)
        try:
            return [record.name for record in store.list_face_sets(project_id)]
        finally:
            store.close()

    return names


def _execute(tenancy: Tenancy, args: argparse.Namespace, settings: Settings) -> object:
    """The command's output: an object printed as JSON, or a str printed as it is."""
    command = args.admin_command
    if command == "create-project":
        return _project_json(tenancy, tenancy.create_project(args.name).project_id)
    if command == "delete-project":
        project = tenancy.delete_project(args.project, _face_set_names(settings))
        return {"project_id": project.project_id, "name": project.name, "deleted": True}
    if command == "create-credential":  # the only time the SK is shown
        return _credential_out(tenancy.create_credential(args.project), args.format, {})
    if command == "rotate-credential":
        rotation = tenancy.rotate_credential(args.ak, args.grace_s)
        return _credential_out(rotation.issued, args.format, {
            "replaces": rotation.old_ak, "old_valid_until": time_text(rotation.old_expires_at)})
    if command == "create-user":
        user = tenancy.create_user(args.project, args.name, _password(args))
        return {"project_id": user.project_id, "name": user.name, "created_at": user.created_at}
    if command == "reset-password":
        tenancy.reset_password(args.project, args.name, _password(args))
        return {"user": args.name, "password_reset": True, "tokens_revoked": True}
    if command == "list-projects":
        return [_project_json(tenancy, p.project_id) for p in tenancy.store.projects()]
    if command == "list-credentials":
        project_id = tenancy.project(args.project).project_id if args.project else None
        return [{"ak": c.ak, "project_id": c.project_id, "created_at": c.created_at, "disabled": c.disabled,
                 "expires_at": None if c.expires_at is None else time_text(c.expires_at)}
                for c in tenancy.store.credentials(project_id)]
    if command == "list-users":
        project_id = tenancy.project(args.project).project_id if args.project else None
        return [{"project_id": u.project_id, "name": u.name, "created_at": u.created_at,
                 "disabled": u.disabled} for u in tenancy.store.users(project_id)]
    if command in ("disable-project", "enable-project"):
        return asdict(tenancy.set_project(args.project, disabled=command.startswith("disable")))
    if command in ("disable-credential", "enable-credential"):
        tenancy.set_credential_disabled(args.ak, command.startswith("disable"))
        return {"ak": args.ak, "disabled": command.startswith("disable")}
    if command == "delete-credential":
        tenancy.delete_credential(args.ak)
        return {"ak": args.ak, "deleted": True}
    if command in ("disable-user", "enable-user"):
        tenancy.set_user_disabled(args.project, args.name, command.startswith("disable"))
        return {"user": args.name, "disabled": command.startswith("disable")}
    if command == "delete-user":
        tenancy.delete_user(args.project, args.name)
        return {"user": args.name, "deleted": True}
    if command in ("enable-service", "disable-service"):
        tenancy.set_service(args.project, args.service, command.startswith("enable"))
        return _project_json(tenancy, args.project)
    if command == "set-qps":
        return asdict(tenancy.set_project(args.project, qps=args.qps))
    if command == "usage":
        if args.start and args.end and args.start > args.end:
            raise UsageError(f"--start {args.start} is after --end {args.end}")
        return tenancy.usage(tenancy.project(args.project).project_id, args.start, args.end)
    project_id = tenancy.audit_project_id(args.project) if args.project else None
    events, next_marker = tenancy.audit_page(project_id, args.action, args.after, args.limit)
    if next_marker is not None:
        print(f"more events available: add --after {next_marker} for the next page", file=sys.stderr)
    return [{**audit_document(e), "project_id": e.project_id} for e in events]


def _nothing_there(settings: Settings) -> str:
    """Why a command is refused where no accounts store is: a typo must not start an empty one."""
    if settings.embedded:
        return (f"{settings.data_dir.resolve()} holds no OpenFRS data (no {ACCOUNTS_FILE}). Pass the "
                "server's data dir (--data-dir DIR or OPENFRS_DATA_DIR), or add --init to start a new "
                "one there.")
    return (f"{location(settings)} holds no OpenFRS accounts (no tables in that schema). Give the "
            "servers' OPENFRS_DATABASE_URL and OPENFRS_DATABASE_SCHEMA, or add --init to create them "
            "there.")


def _print(output: object) -> int:
    """stdout, and 141 when the reader is gone: then stdout points at /dev/null, so the flush at
    exit does not raise again and print a traceback."""
    text = output if isinstance(output, str) else json.dumps(output, indent=1, ensure_ascii=False) + "\n"
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # a stdout without a descriptor (tests)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": Path(data_dir)})
    try:
        check_reachable(settings)
    except DependencyUnreachable as down:
        print(f"error: {down}", file=sys.stderr)
        return 1
    if not getattr(args, "init", False) and not accounts_exist(settings):
        print(f"error: {_nothing_there(settings)}", file=sys.stderr)
        return 2
    print(f"openfrs admin: {location(settings)}", file=sys.stderr)
    tenancy = Tenancy.from_settings(settings)
    try:
        return _print(_execute(tenancy, args, settings))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FRSError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        tenancy.close()
