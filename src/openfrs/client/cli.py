"""The client commands of `openfrs` (detect, compare, search, face sets, faces, liveness): the SDK
from a shell. Each prints the server's JSON answer as it came, so every field has the API's name
(docs/api.md); `compare` adds its verdict, `same_person`.

Connection settings come from --endpoint/--project-id/--ak/--sk/--token (before or after the
command), else OPENFRS_ENDPOINT (default http://127.0.0.1:8080), OPENFRS_PROJECT_ID, OPENFRS_AK +
OPENFRS_SK or OPENFRS_TOKEN — the names `openfrs serve` prints on first start. With no key and no
token the requests go unsigned, which a server run with OPENFRS_AUTH=off accepts. Images go as
multipart uploads, downscaled first when a side is 4096 px or more. An FRS error prints
"error_code: error_msg" (and a line of advice when there is one) on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openfrs.client.api import Client, Image
from openfrs.client.errors import FRSClientError
from openfrs.client.results import same_person_threshold

COMMANDS: dict[str, str] = {  # name -> one-line help, in the order `openfrs --help` lists them
    "detect": "detect the faces of an image (a file or an http(s) URL)",
    "compare": "compare the largest faces of two images: similarity and a same_person verdict",
    "search": "search a face set with the largest face of an image, or with a stored face",
    "list-face-sets": "list the project's face sets (also: face-sets)",
    "create-face-set": "create a face set, optionally with typed external fields",
    "show-face-set": "show one face set",
    "delete-face-set": "delete a face set and every face in it",
    "add-face": "add the faces of an image (or only the largest) to a face set",
    "list-faces": "list the faces of a face set, a page at a time",
    "show-face": "show one face of a face set",
    "update-face": "change a face's external_image_id or external fields",
    "delete-faces": "delete faces by face_id, external_image_id, a field's value, or a filter",
    "live-detect": "action liveness: check that a short video shows the asked head movements",
    "live-detect-face": "silent liveness: is the largest face of an image a live person",
    "issue-token": "get an X-Auth-Token for a user (then set OPENFRS_TOKEN)",
}
ALIASES = {"list-face-sets": ["face-sets"]}


class _Recorder(Client):
    """A Client that keeps the server's last JSON answer: the commands print it as it came."""

    answer: dict = {}

    def request(self, *args: Any, **kwargs: Any) -> dict:
        self.answer = super().request(*args, **kwargs)
        return self.answer


class _Notes(logging.Handler):
    """The client's notes (an image sent downscaled) as "note: ..." lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr)


# -- argument types ---------------------------------------------------------------------------------

def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc}): {text!r}") from None


def _json_object(text: str) -> dict:
    value = _json(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'a JSON object is expected, like \'{{"age": 30}}\': {text!r}')
    return value


def _field_types(text: str) -> dict:
    """'{"age": {"type": "integer"}}' as FRS declares fields, or the short form "age:integer,dept:string"."""
    if text.lstrip().startswith("{"):
        return _json_object(text)
    fields = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, kind = item.partition(":")
        if not name or not kind:
            raise argparse.ArgumentTypeError(f"{item!r}: write name:type, e.g. age:integer")
        fields[name.strip()] = {"type": kind.strip()}
    return fields


def _names(text: str) -> list[str]:
    """'["age", "dept"]' or "age,dept"."""
    if text.lstrip().startswith("["):
        value = _json(text)
    else:
        value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise argparse.ArgumentTypeError(f"a list of field names is expected: {text!r}")
    return value


def _sort(text: str) -> list[dict[str, str]]:
    """'[{"age": "desc"}]' as FRS takes it, or "age:desc,height" (ascending unless :desc)."""
    if text.lstrip().startswith("["):
        value = _json(text)
        if not isinstance(value, list):
            raise argparse.ArgumentTypeError(f'a list like [{{"age": "desc"}}] is expected: {text!r}')
        return value
    order = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, direction = item.partition(":")
        if direction not in ("", "asc", "desc"):
            raise argparse.ArgumentTypeError(f"{item!r}: the direction is asc or desc")
        order.append({name: direction or "asc"})
    return order


def _name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"write NAME=VALUE, e.g. dept=it: {text!r}")
    return name, value


def _similarity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a similarity from 0 to 1 is expected: {text!r}")
    return value


# -- the commands -----------------------------------------------------------------------------------

def add_arguments(subparsers: argparse._SubParsersAction) -> None:
    """Adds the client commands to `openfrs`'s subparsers; each sets `client_command` and func=run.
    The connection options (--endpoint, ...) are the top-level parser's global options."""

    def command(name: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, aliases=ALIASES.get(name, []), description=COMMANDS[name])
        parser.set_defaults(client_command=name, func=run)
        return parser

    detect = command("detect")
    detect.add_argument("image", help="an image file, or an http(s) URL the server fetches")
    detect.add_argument("--attributes", default=None,
                        help='FRS attribute codes, e.g. "1,2,4" (docs/attributes.md lists them)')

    compare = command("compare")
    compare.add_argument("image1")
    compare.add_argument("image2")
    compare.add_argument("--threshold", type=_similarity, default=None,
                         help="the similarity from which same_person is true (default: FRS's 0.93, a "
                              "false-accept rate of 1e-3; docs/api.md lists the others)")

    search = command("search")
    search.add_argument("face_set")
    search.add_argument("image", nargs="?", help="the probe image (or give --face-id)")
    search.add_argument("--face-id", default=None, help="search with a face already in the set")
    search.add_argument("--top-n", type=int, default=None, help="at most this many hits (1-1000, default 10)")
    search.add_argument("--threshold", type=_similarity, default=None,
                        help="only hits with at least this similarity (0-1)")
    search.add_argument("--filter", default=None, help='FRS filter, e.g. "dept:it && age:[18 TO *]"')
    search.add_argument("--sort", type=_sort, default=None,
                        help='order by numeric fields after similarity: "age:desc,height" or FRS\'s JSON')
    search.add_argument("--return-fields", type=_names, default=None,
                        help='the external fields to return: "age,dept" or a JSON list')

    command("list-face-sets")
    create = command("create-face-set")
    create.add_argument("name")
    create.add_argument("--capacity", type=int, default=None, help="a multiple of 10000 (default 100000)")
    create.add_argument("--external-fields", type=_field_types, default=None,
                        help='typed fields: "age:integer,dept:string" or \'{"age": {"type": "integer"}}\'')
    command("show-face-set").add_argument("name")
    command("delete-face-set").add_argument("name")

    add_face = command("add-face")
    add_face.add_argument("face_set")
    add_face.add_argument("image")
    add_face.add_argument("--external-image-id", default=None,
                          help="your id for the image (generated if absent)")
    add_face.add_argument("--external-fields", type=_json_object, default=None,
                          help='values of the set\'s fields, e.g. \'{"age": 30}\'')
    add_face.add_argument("--single", action="store_true", default=None,
                          help="add only the largest face (default: every face)")

    list_faces = command("list-faces")
    list_faces.add_argument("face_set")
    list_faces.add_argument("--offset", type=int, default=0)
    list_faces.add_argument("--limit", type=int, default=5, help="offset + limit <= 10000")
    show_face = command("show-face")
    show_face.add_argument("face_set")
    show_face.add_argument("face_id")
    update = command("update-face")
    update.add_argument("face_set")
    update.add_argument("face_id")
    update.add_argument("--external-image-id", default=None)
    update.add_argument("--external-fields", type=_json_object, default=None,
                        help='values merged into the stored ones; null removes a field: \'{"age": 31}\'')
    delete = command("delete-faces")
    delete.add_argument("face_set")
    which = delete.add_mutually_exclusive_group(required=True)
    which.add_argument("--face-id", default=None)
    which.add_argument("--external-image-id", default=None, help="every face added from that image")
    which.add_argument("--field", type=_name_value, default=None, metavar="NAME=VALUE",
                       help="every face whose external field NAME has VALUE")
    which.add_argument("--filter", default=None, help='every face matching an FRS filter (batch delete), '
                                                      'e.g. "age:[* TO 17]"')

    live = command("live-detect")
    live.add_argument("video", help="a 1-15 s video file (mp4, mov, avi, flv, webm) or an http(s) URL")
    live.add_argument("--actions", required=True,
                      help='the actions to see, in order: "1,3" (1 turn left, 2 turn right, 3 nod, '
                           "4 open mouth, 5 blink)")
    live.add_argument("--action-time", default=None, help='one window per action, ms: "1000-3000,4000-7000"')
    live.add_argument("--nod-threshold", type=float, default=None, help="degrees, 1-90 (default 10)")
    command("live-detect-face").add_argument("image")

    token = command("issue-token")
    token.add_argument("user")
    token.add_argument("--project", default=None,
                       help="the project's name (default: the project id of --project-id or "
                            "OPENFRS_PROJECT_ID)")
    token.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def _image(value: str) -> Image:
    return value if value.lower().startswith(("http://", "https://")) else Path(value)


def _client(args: argparse.Namespace) -> _Recorder:
    project_id = getattr(args, "project_id", None)
    if args.client_command == "issue-token" and args.project:
        project_id = project_id or "-"  # scoped by name: the answer says the project's id
    return _Recorder.from_env(getattr(args, "endpoint", None), project_id, getattr(args, "ak", None),
                              getattr(args, "sk", None), getattr(args, "token", None),
                              multipart=True, downscale=True)  # type: ignore[return-value]


def _compare(client: _Recorder, args: argparse.Namespace) -> dict:
    result = client.compare(_image(args.image1), _image(args.image2))
    threshold = same_person_threshold() if args.threshold is None else args.threshold
    return {**client.answer, "same_person": result.similarity >= threshold,
            "same_person_threshold": threshold}


def _search(client: _Recorder, args: argparse.Namespace) -> None:
    if (args.image is None) == (args.face_id is None):
        raise ValueError("search with an image or --face-id (one of them)")
    client.search(args.face_set, None if args.image is None else _image(args.image), face_id=args.face_id,
                  top_n=args.top_n, threshold=args.threshold, filter=args.filter,
                  return_fields=args.return_fields, sort=args.sort)


def _delete_faces(client: _Recorder, args: argparse.Namespace) -> None:
    if args.filter is not None:
        client.batch_delete_faces(args.face_set, args.filter)
    else:
        client.delete_faces(args.face_set, face_id=args.face_id, external_image_id=args.external_image_id,
                            field=args.field)


def _update_face(client: _Recorder, args: argparse.Namespace) -> None:
    if args.external_image_id is None and args.external_fields is None:
        raise ValueError("give --external-image-id, --external-fields or both")
    client.update_face(args.face_set, args.face_id, args.external_image_id, args.external_fields)


def _issue_token(client: _Recorder, args: argparse.Namespace) -> dict:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    issued = client.issue_token(args.user, password, args.project)
    print(f"use it: export OPENFRS_TOKEN=<token> OPENFRS_PROJECT_ID={issued.project_id}", file=sys.stderr)
    return {"token": issued.token, "project_id": issued.project_id, "project_name": issued.project_name,
            "expires_at": issued.expires_at}


Handler = Callable[[_Recorder, argparse.Namespace], Any]


def _answer(call: Handler) -> Handler:
    """A command whose output is the server's answer as it came (the typed call checks its shape)."""
    def handler(client: _Recorder, args: argparse.Namespace) -> dict:
        call(client, args)
        return client.answer
    return handler


HANDLERS: dict[str, Handler] = {  # command -> the JSON it prints
    "detect": _answer(lambda c, a: c.detect(_image(a.image), attributes=a.attributes)),
    "compare": _compare,
    "search": _answer(_search),
    "list-face-sets": _answer(lambda c, a: c.list_face_sets()),
    "create-face-set": _answer(lambda c, a: c.create_face_set(a.name, a.capacity, a.external_fields)),
    "show-face-set": _answer(lambda c, a: c.get_face_set(a.name)),
    "delete-face-set": _answer(lambda c, a: c.delete_face_set(a.name)),
    "add-face": _answer(lambda c, a: c.add_faces(a.face_set, _image(a.image), a.external_image_id,
                                                 a.external_fields, a.single)),
    "list-faces": _answer(lambda c, a: c.list_faces(a.face_set, a.offset, a.limit)),
    "show-face": _answer(lambda c, a: c.get_face(a.face_set, a.face_id)),
    "update-face": _answer(_update_face),
    "delete-faces": _answer(_delete_faces),
    "live-detect": _answer(lambda c, a: c.live_detect(_image(a.video), a.actions, a.action_time,
                                                      a.nod_threshold)),
    "live-detect-face": _answer(lambda c, a: c.live_detect_face(_image(a.image))),
    "issue-token": _issue_token,
}


def _show_notes() -> None:
    logger = logging.getLogger("openfrs.client")
    if not any(isinstance(handler, _Notes) for handler in logger.handlers):
        logger.addHandler(_Notes())
        logger.setLevel(logging.INFO)


def run(args: argparse.Namespace) -> int:
    """Runs `args.client_command`, prints its JSON; 1 on an FRS, connection, file or setting error."""
    _show_notes()
    try:
        with _client(args) as client:
            answer = HANDLERS[args.client_command](client, args)
    except FRSClientError as exc:
        print(f"{exc.error_code}: {exc.error_msg}", file=sys.stderr)
        if exc.hint:
            print(exc.hint, file=sys.stderr)
        return 1
    except OSError as exc:  # an image or video that cannot be read
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: cannot read {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a missing setting, a half key pair
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0
