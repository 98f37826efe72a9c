"""`openfrs admin ...`: projects, credentials, users, sub-services, QPS, usage and audit, on the
same --data-dir as the server (also while it runs: the accounts database is shared in WAL mode and
the server caches nothing of it). Every command prints JSON, so scripts can read it."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.tenancy import SERVICES, Tenancy


def add_arguments(admin: argparse.ArgumentParser) -> None:
    admin.add_argument("--data-dir", default=None, help="the server's data dir (default ./data)")
    sub = admin.add_subparsers(dest="admin_command", required=True)
    sub.add_parser("create-project").add_argument("name")
    sub.add_parser("create-credential").add_argument("--project", required=True)
    user = sub.add_parser("create-user")
    user.add_argument("--project", required=True)
    user.add_argument("name")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser("list-projects")
    for name in ("list-credentials", "list-users"):
        sub.add_parser(name).add_argument("--project", default=None)
    for name in ("disable-project", "enable-project"):
        sub.add_parser(name).add_argument("project")
    for name in ("disable-credential", "enable-credential"):
        sub.add_parser(name).add_argument("ak")
    for name in ("disable-user", "enable-user"):
        parser = sub.add_parser(name)
        parser.add_argument("--project", required=True)
        parser.add_argument("name")
    for name in ("enable-service", "disable-service"):
        parser = sub.add_parser(name)
        parser.add_argument("--project", required=True)
        parser.add_argument("service", choices=SERVICES)
    qps = sub.add_parser("set-qps", help="the project's calls per second per API (0: server default)")
    qps.add_argument("--project", required=True)
    qps.add_argument("qps", type=float)
    usage = sub.add_parser("usage")
    usage.add_argument("--project", required=True)
    usage.add_argument("--start", default="0000-00-00")
    usage.add_argument("--end", default="9999-99-99")
    audit = sub.add_parser("audit")
    audit.add_argument("--project", default=None)
    audit.add_argument("--action", default=None)
    audit.add_argument("--after", type=int, default=0)
    audit.add_argument("--limit", type=int, default=100)


def _project_json(tenancy: Tenancy, key: str) -> dict:
    project = tenancy.project(key)
    return {**asdict(project), "services": {name: enabled for name, (enabled, _) in
                                            tenancy.store.services(project.project_id).items()}}


def _execute(tenancy: Tenancy, args: argparse.Namespace) -> object:
    command = args.admin_command
    if command == "create-project":
        return _project_json(tenancy, tenancy.create_project(args.name).project_id)
    if command == "create-credential":
        return asdict(tenancy.create_credential(args.project))  # the only time the SK is shown
    if command == "create-user":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
        user = tenancy.create_user(args.project, args.name, password)
        return {"project_id": user.project_id, "name": user.name, "created_at": user.created_at}
    if command == "list-projects":
        return [_project_json(tenancy, p.project_id) for p in tenancy.store.projects()]
    if command == "list-credentials":
        project_id = tenancy.project(args.project).project_id if args.project else None
        return [{"ak": c.ak, "project_id": c.project_id, "created_at": c.created_at, "disabled": c.disabled}
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
    if command in ("disable-user", "enable-user"):
        tenancy.set_user_disabled(args.project, args.name, command.startswith("disable"))
        return {"user": args.name, "disabled": command.startswith("disable")}
    if command in ("enable-service", "disable-service"):
        tenancy.set_service(args.project, args.service, command.startswith("enable"))
        return _project_json(tenancy, args.project)
    if command == "set-qps":
        return asdict(tenancy.set_project(args.project, qps=args.qps))
    if command == "usage":
        return tenancy.usage(tenancy.project(args.project).project_id, args.start, args.end)
    project_id = tenancy.project(args.project).project_id if args.project else None
    return [asdict(e) for e in tenancy.audit_events(project_id, args.action, args.after, args.limit)]


def run(args: argparse.Namespace, settings: Settings) -> int:
    data_dir = args.data_dir or settings.data_dir
    tenancy = Tenancy.open(data_dir, settings.secret_key)
    try:
        print(json.dumps(_execute(tenancy, args), indent=1, ensure_ascii=False))
        return 0
    except FRSError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        tenancy.close()
