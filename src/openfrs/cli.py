"""`openfrs serve | models | import | eval | bench` — the command-line contract scripts rely on."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from openfrs.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in ("host", "port", "data_dir", "model_dir"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from openfrs.api.app import create_app

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    if not settings.auth_enabled:
        print("warning: OPENFRS_AUTH=off — every caller is trusted (local development only)",
              file=sys.stderr)
    else:
        _first_start(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def _first_start(settings: Settings) -> None:
    """A data dir without any project gets the default project and a credential, shown once."""
    from openfrs.service.tenancy import Tenancy

    tenancy = Tenancy.open(settings.data_dir, settings.secret_key)
    try:
        issued = tenancy.ensure_default_project()
    finally:
        tenancy.close()
    if issued is None:
        return
    endpoint = f"http://{settings.host}:{settings.port}"
    print(f"""
First start: created project "default" and a credential (the secret key is shown only now):
  {{"project_id": "{issued.project_id}", "ak": "{issued.ak}", "sk": "{issued.sk}"}}
Use them with the official SDK:
  FrsClient.new_builder().with_credentials(BasicCredentials("{issued.ak}", "<sk>", "{issued.project_id}"))
      .with_endpoint("{endpoint}").build()
or with OpenFRS's client:  OPENFRS_ENDPOINT={endpoint} OPENFRS_PROJECT_ID={issued.project_id} \\
  OPENFRS_AK={issued.ak} OPENFRS_SK=<sk> openfrs detect photo.jpg
More: openfrs admin --data-dir {settings.data_dir} create-credential --project default
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
        for role, entry in pack.models.items():
            files = ", ".join(entry.files.values())
            print(f"  {role:10s} {entry.family:22s} {entry.version}  [{files}]")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openfrs", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=None, help="model packs folder")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the HTTP API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--data-dir", type=Path, default=None)
    serve.set_defaults(func=cmd_serve)

    models = sub.add_parser("models", help="install, list or verify the model pack")
    models.add_argument("action", choices=["install", "list", "verify"])
    models.add_argument("--force", action="store_true", help="rebuild even if installed")
    models.set_defaults(func=cmd_models)

    from openfrs.admin_cli import add_arguments as add_admin_arguments

    admin = sub.add_parser("admin", help="projects, credentials, users, quotas, usage, audit")
    add_admin_arguments(admin)
    admin.set_defaults(func=cmd_admin)

    from openfrs.client.cli import add_arguments as add_client_arguments

    add_client_arguments(sub)  # detect, compare, search, face-sets, add-face: the HTTP client

    from openfrs.importer.cli import add_arguments as add_import_arguments

    add_import_arguments(sub.add_parser("import", help="enrol a folder or CSV of images into a face set"))
    sub.choices["import"].set_defaults(func=cmd_import)

    from openfrs.benchmark.cli import add_arguments as add_bench_arguments
    from openfrs.evaluation.cli import add_arguments as add_eval_arguments

    add_eval_arguments(sub.add_parser("eval", help="accuracy evaluations"))
    sub.choices["eval"].set_defaults(func=cmd_eval)
    add_bench_arguments(sub.add_parser("bench", help="speed benchmarks"))
    sub.choices["bench"].set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before numpy loads: single-threaded BLAS for index searches (store/vectors/base.py says why).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
