"""`openfrs`: the one command line of OpenFRS — run the service (serve, models, admin), call a
running server (detect, compare, search, face sets, faces, liveness: openfrs.client.cli), and
enrol or measure in bulk (import, eval, bench).

The global options (--endpoint, --project-id, --ak, --sk, --token, --data-dir, --model-dir) are
accepted before and after the command: the top-level parser has them with default None and every
sub-command's parser has them with default SUPPRESS, so a value given at either place survives
(argparse copies a sub-parser's defaults over the values parsed before it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openfrs.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    """The environment's settings with the command line's folders and address; invalid ones
    (e.g. OPENFRS_DATABASE_URL without OPENFRS_SECRET_KEY) end the command with their reasons."""
    from pydantic import ValidationError

    from openfrs.config import Settings  # pydantic-settings: a third of a second, not for --help

    overrides = {}
    for name in ("host", "port", "data_dir", "model_dir"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    try:
        return Settings(**overrides)
    except ValidationError as invalid:
        reasons = [f"{'.'.join(map(str, error['loc'])) or 'settings'}: "
                   + error["msg"].removeprefix("Value error, ") for error in invalid.errors()]
        raise SystemExit("error: invalid settings\n  " + "\n  ".join(reasons)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    import uvicorn

    from openfrs.api.app import create_app
    from openfrs.store.data_dir_lock import DataDirBusy, hold_data_dir
    from openfrs.store.factory import DependencyUnreachable, check_reachable

    try:
        check_reachable(settings)
    except DependencyUnreachable as down:
        print(f"error: {down}", file=sys.stderr)
        return 1
    try:  # held until this process ends: one server per embedded data dir (replicas share a database)
        if settings.embedded:
            hold_data_dir(settings.data_dir, "server")
    except DataDirBusy as busy:
        print(f"error: {busy}: stop it first, or give this server another --data-dir (two servers "
              "on one embedded data dir would not see each other's faces)", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    if not settings.auth_enabled:
        print("warning: OPENFRS_AUTH=off — every caller is trusted (local development only)",
              file=sys.stderr)
    else:
        _first_start(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def _first_start(settings: Settings) -> None:
    """A data dir (or database) without any project gets the default project and a credential,
    shown once (by the one replica that made them)."""
    from openfrs.service.tenancy import Tenancy

    tenancy = Tenancy.from_settings(settings)
    try:
        issued = tenancy.ensure_default_project()
    finally:
        tenancy.close()
    if issued is None:
        return
    endpoint = f"http://{settings.host}:{settings.port}"
    more = (f"openfrs admin --data-dir {settings.data_dir} create-credential --project default"
            if settings.embedded else "openfrs admin create-credential --project default  (with this "
            "server's OPENFRS_DATABASE_URL, OPENFRS_DATABASE_SCHEMA and OPENFRS_SECRET_KEY)")
    print(f"""
First start: created project "default" and a credential (the secret key is shown only now):
  {{"project_id": "{issued.project_id}", "ak": "{issued.ak}", "sk": "{issued.sk}"}}
Use them with the official SDK:
  FrsClient.new_builder().with_credentials(BasicCredentials("{issued.ak}", "<sk>", "{issued.project_id}"))
      .with_endpoint("{endpoint}").build()
or with OpenFRS's client:  OPENFRS_ENDPOINT={endpoint} OPENFRS_PROJECT_ID={issued.project_id} \\
  OPENFRS_AK={issued.ak} OPENFRS_SK=<sk> openfrs detect photo.jpg
More: {more}
""", file=sys.stderr, flush=True)


def cmd_admin(args: argparse.Namespace) -> int:
    from openfrs import admin_cli

    return admin_cli.run(args, _settings(args))


def cmd_models(args: argparse.Namespace) -> int:
    from openfrs.vision.pack import PackError, load_pack

    settings = _settings(args)
    if args.action == "install":
        from openfrs.modelpack.install import install

        install(settings.model_dir, settings.download_dir, force=args.force)
        return 0
    try:
        pack = load_pack(settings.pack_dir)
    except PackError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.action == "list":
        print(f"pack {pack.name} at {pack.root}")
        width = max(map(len, pack.models))
        for role, entry in pack.models.items():
            files = ", ".join(entry.files.values())
            print(f"  {role:{width}s} {entry.family:22s} {entry.version}  [{files}]")
        for source in pack.sources:
            print(f"  source  {source['registry']}:{source['name']}@{source['version']}")
        return 0
    problems = pack.verify()
    for problem in problems:
        print("FAIL", problem)
    print("pack verifies" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from openfrs.evaluation import cli as eval_cli

    return eval_cli.run(args, _settings(args))


def cmd_bench(args: argparse.Namespace) -> int:
    from openfrs.benchmark import cli as bench_cli

    return bench_cli.run(args, _settings(args))


def cmd_import(args: argparse.Namespace) -> int:
    from openfrs.importer import cli as import_cli

    return import_cli.run(args, _settings(args))


def cmd_migrate(args: argparse.Namespace) -> int:
    from openfrs.migrate import cli as migrate_cli

    try:
        settings = _settings(args)
    except SystemExit as invalid:  # invalid target settings: refused before anything is read (2)
        print(invalid, file=sys.stderr)
        return migrate_cli.EXIT_REFUSED
    return migrate_cli.run(args, settings)


# -- the parser -------------------------------------------------------------------------------------

GLOBAL_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--endpoint", {"metavar": "URL",
                    "help": "the server the client commands call (env OPENFRS_ENDPOINT; default "
                            "http://127.0.0.1:8080)"}),
    ("--project-id", {"help": "the project in the request paths (env OPENFRS_PROJECT_ID)"}),
    ("--ak", {"help": "access key, to sign requests with (env OPENFRS_AK)"}),
    ("--sk", {"help": "secret key of --ak (env OPENFRS_SK)"}),
    ("--token", {"help": "an X-Auth-Token, instead of --ak/--sk (env OPENFRS_TOKEN)"}),
    ("--data-dir", {"type": Path, "metavar": "DIR",
                    "help": "the server's data folder (env OPENFRS_DATA_DIR; default ./data)"}),
    ("--model-dir", {"type": Path, "metavar": "DIR",
                     "help": "the model packs folder (env OPENFRS_MODEL_DIR)"}),
)
CLIENT_OPTIONS = frozenset({"--endpoint", "--project-id", "--ak", "--sk", "--token"})
GLOBAL_TITLE = "global options (also accepted before the command)"

SERVICE_COMMANDS = {
    "serve": "start the HTTP API (FRS v2, with /docs and /openapi.json) on --host:--port",
    "models": "install, list or verify the model pack",
    "admin": "projects, credentials, users, sub-services, QPS, usage and audit (on --data-dir)",
}
BULK_COMMANDS = {
    "import": "enrol a folder or CSV of images into a face set (on --data-dir, no server needed)",
    "eval": "measure accuracy: verification, fairness, calibration, attributes, liveness",
    "bench": "measure speed: the pipeline, search, enrolment, a camera stream (docs/benchmarks.md)",
    "migrate": "copy an embedded data dir into the scale-out PostgreSQL and Milvus, and verify it",
}
DESCRIPTION = """\
OpenFRS is a self-hosted face recognition service. It speaks the Huawei Cloud FRS v2 HTTP API,
so Huawei's SDKs work against it, and keeps face features, never photos: face detection and
attributes, 1:1 comparison, face sets with 1:N search, and liveness checks."""
EPILOG = """\
Options may come before or after the command. The client commands connect with --endpoint,
--project-id and --ak/--sk or --token, else OPENFRS_ENDPOINT, OPENFRS_PROJECT_ID, OPENFRS_AK +
OPENFRS_SK or OPENFRS_TOKEN (`openfrs serve` prints them on its first start; with neither key nor
token the requests go unsigned, as a server run with OPENFRS_AUTH=off takes them).
`openfrs COMMAND --help` shows a command's own options. Guides: docs/client.md (the commands and
the Python client), docs/api.md (the HTTP API), docs/operations.md (running the server)."""


def _listing(title: str, commands: dict[str, str], width: int) -> str:
    lines = [f"  {name:<{width}}{help_text}" for name, help_text in commands.items()]
    return "\n".join([f"{title}:", *lines])


def accept_global_options(parser: argparse.ArgumentParser) -> None:
    """Gives a sub-command's parser the global options with default SUPPRESS; one it already has
    (e.g. the admin's or import's --data-dir) keeps its help but gets default SUPPRESS too. Shown
    in its --help: the connection options for a client command, the folders for the others."""
    client = parser.get_default("client_command") is not None
    group = None
    for option, spec in GLOBAL_OPTIONS:
        existing = parser._option_string_actions.get(option)
        if existing is not None:
            existing.default = argparse.SUPPRESS
            continue
        group = group or parser.add_argument_group(GLOBAL_TITLE)
        shown = (option in CLIENT_OPTIONS) == client
        group.add_argument(option, **{**spec, "default": argparse.SUPPRESS,
                                      **({} if shown else {"help": argparse.SUPPRESS})})


class CommandParser(argparse.ArgumentParser):
    """A sub-command's parser. Its arguments are added on first use (parsing or help) by `build`,
    so `openfrs detect` does not import the benchmark code, then the global options (see
    accept_global_options). Nested sub-commands (admin's) get this class too."""

    def __init__(self, *args: Any, build: Callable[[argparse.ArgumentParser], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._build, self._built = build, False

    def _complete(self) -> None:
        if not self._built:
            self._built = True
            if self._build is not None:
                self._build(self)
            accept_global_options(self)

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        self._complete()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._complete()
        return super().format_help()

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()


def _add_serve(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", default=None, help="the address to listen on (env OPENFRS_HOST; 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="the port (env OPENFRS_PORT; 8080)")


def _add_models(models: argparse.ArgumentParser) -> None:
    models.add_argument("action", choices=["install", "list", "verify"])
    models.add_argument("--force", action="store_true", help="rebuild even if installed")


def _add_admin(admin: argparse.ArgumentParser) -> None:
    from openfrs.admin_cli import add_arguments

    add_arguments(admin)


def _add_import(parser: argparse.ArgumentParser) -> None:
    from openfrs.importer.cli import add_arguments

    add_arguments(parser)


def _add_eval(parser: argparse.ArgumentParser) -> None:
    from openfrs.evaluation.cli import add_arguments

    add_arguments(parser)


def _add_bench(parser: argparse.ArgumentParser) -> None:
    from openfrs.benchmark.cli import add_arguments

    add_arguments(parser)


def _add_migrate(parser: argparse.ArgumentParser) -> None:
    from openfrs.migrate.cli import add_arguments

    add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    from openfrs.client.cli import COMMANDS as CLIENT_COMMANDS
    from openfrs.client.cli import add_arguments as add_client_arguments

    width = 2 + max(map(len, [*SERVICE_COMMANDS, *CLIENT_COMMANDS, *BULK_COMMANDS]))
    description = "\n\n".join([
        DESCRIPTION, _listing("Run the service", SERVICE_COMMANDS, width),
        _listing("Call a running server (prints the server's JSON answer)", CLIENT_COMMANDS, width),
        _listing("Enrol and measure in bulk", BULK_COMMANDS, width)])
    parser = argparse.ArgumentParser(prog="openfrs", description=description, epilog=EPILOG,
                                     usage="%(prog)s [options] COMMAND [command options]",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_argument_group("global options (also accepted after the command)")
    for option, spec in GLOBAL_OPTIONS:
        group.add_argument(option, **{**spec, "default": None})
    # The commands are listed in the description above, grouped; argparse's own list stays empty.
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS,
                                prog="openfrs", parser_class=CommandParser)

    def command(name: str, help_text: str, build: Callable[[argparse.ArgumentParser], None],
                func: Callable[[argparse.Namespace], int]) -> None:
        sub.add_parser(name, description=help_text, build=build).set_defaults(func=func)

    command("serve", SERVICE_COMMANDS["serve"], _add_serve, cmd_serve)
    command("models", SERVICE_COMMANDS["models"], _add_models, cmd_models)
    command("admin", SERVICE_COMMANDS["admin"], _add_admin, cmd_admin)
    add_client_arguments(sub)
    command("import", BULK_COMMANDS["import"], _add_import, cmd_import)
    command("eval", BULK_COMMANDS["eval"], _add_eval, cmd_eval)
    command("bench", BULK_COMMANDS["bench"], _add_bench, cmd_bench)
    command("migrate", BULK_COMMANDS["migrate"], _add_migrate, cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before numpy loads: single-threaded BLAS for index searches (store/vectors/base.py says why).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
