"""`openfrs detect | compare | search | face-sets | add-face`: the SDK from a shell, JSON out.

Connection settings come from --endpoint/--project-id/--ak/--sk, else OPENFRS_ENDPOINT (default
http://127.0.0.1:8080), OPENFRS_PROJECT_ID, OPENFRS_AK, OPENFRS_SK — the names `openfrs serve`
prints on first start. Output is the typed result as JSON (dataclass fields); an FRS error prints
"error_code: error_msg" on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from openfrs.client.api import Client, Image
from openfrs.client.errors import FRSClientError

COMMANDS = ("detect", "compare", "search", "face-sets", "add-face")
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--endpoint", default=None, help=f"env OPENFRS_ENDPOINT, default {DEFAULT_ENDPOINT}")
    group.add_argument("--project-id", default=None, help="env OPENFRS_PROJECT_ID")
    group.add_argument("--ak", default=None, help="access key; env OPENFRS_AK")
    group.add_argument("--sk", default=None, help="secret key; env OPENFRS_SK")
    return parent


def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Adds the client subcommands to `openfrs`'s subparsers; each sets `client_command` and func=run."""
    parent = _connection_options()

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help_text, parents=[parent])
        parser.set_defaults(client_command=name, func=run)
        return parser

    detect = command("detect", "detect faces in an image (path or http(s) URL)")
    detect.add_argument("image")
    detect.add_argument("--attributes", default=None, help='FRS attribute codes, e.g. "1,2,4"')
    compare = command("compare", "compare the largest faces of two images")
    compare.add_argument("image1")
    compare.add_argument("image2")
    search = command("search", "search a face set with the largest face of an image")
    search.add_argument("face_set")
    search.add_argument("image")
    search.add_argument("--top-n", type=int, default=None)
    command("face-sets", "list the project's face sets")
    add_face = command("add-face", "add the faces of an image to a face set")
    add_face.add_argument("face_set")
    add_face.add_argument("image")
    add_face.add_argument("--external-image-id", default=None)


def _image(value: str) -> Image:
    return value if value.lower().startswith(("http://", "https://")) else Path(value)


def _client(args: argparse.Namespace) -> Client:
    project_id = getattr(args, "project_id", None) or os.environ.get("OPENFRS_PROJECT_ID")
    if not project_id:
        raise FRSClientError(0, "CLIENT_CONFIG", "no project id: give --project-id or set OPENFRS_PROJECT_ID")
    return Client(getattr(args, "endpoint", None) or os.environ.get("OPENFRS_ENDPOINT") or DEFAULT_ENDPOINT,
                  project_id, ak=getattr(args, "ak", None) or os.environ.get("OPENFRS_AK"),
                  sk=getattr(args, "sk", None) or os.environ.get("OPENFRS_SK"))


def _call(client: Client, args: argparse.Namespace) -> Any:
    command = args.client_command
    if command == "detect":
        return {"faces": client.detect(_image(args.image), attributes=args.attributes)}
    if command == "compare":
        return client.compare(_image(args.image1), _image(args.image2))
    if command == "search":
        return {"faces": client.search(args.face_set, _image(args.image), top_n=args.top_n)}
    if command == "face-sets":
        return {"face_sets": client.list_face_sets()}
    if command == "add-face":
        return {"faces": client.add_faces(args.face_set, _image(args.image),
                                          external_image_id=args.external_image_id)}
    raise ValueError(f"unknown client command {command!r}")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def run(args: argparse.Namespace) -> int:
    """Runs `args.client_command`, prints its JSON; 1 on an FRS, connection or file error."""
    try:
        with _client(args) as client:
            result = _call(client, args)
    except FRSClientError as exc:
        print(f"{exc.error_code}: {exc.error_msg}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:  # an unreadable image file, a bad key pair
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(_plain(result), ensure_ascii=False, indent=2))
    return 0
