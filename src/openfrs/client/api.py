"""`Client`: the FRS v2 calls as typed Python methods, over the signed, retrying Transport."""

from __future__ import annotations

import base64
import json as jsonlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openfrs.client.errors import FRSClientError
from openfrs.client.http import Params, Transport
from openfrs.client.images import MAX_SIDE, fit_image, image_size
from openfrs.client.results import (
    ActionLiveResult,
    AddedFace,
    CompareResult,
    DetectedFace,
    FaceSet,
    IssuedToken,
    LiveResult,
    SearchHit,
)

Image = bytes | Path | str  # raw bytes, a file, or an http(s):// URL the server fetches
Video = Image
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
NO_FACE_CODES = frozenset({"FRS.0501", "FRS.0304", "FRS.0404", "FRS.0707"})
CREDENTIALS_HINT = (
    "This server wants credentials: set OPENFRS_AK and OPENFRS_SK (an access key pair), or "
    "OPENFRS_TOKEN (an X-Auth-Token) — on the command line --ak/--sk or --token, in Python "
    "Client(ak=..., sk=...) or Client(token=...). `openfrs admin create-credential --project NAME` "
    "on the server makes a key pair; `openfrs issue-token USER` gets a token.")
log = logging.getLogger("openfrs.client")


def image_fields(image: Image, prefix: str = "image") -> dict[str, str]:
    """bytes or a Path -> `{prefix}_base64`; an http(s) URL -> `{prefix}_url` (fetched by the server)."""
    if isinstance(image, bytes | bytearray):
        return {f"{prefix}_base64": base64.b64encode(bytes(image)).decode("ascii")}
    if isinstance(image, Path):
        return image_fields(image.read_bytes(), prefix)
    if isinstance(image, str) and image.lower().startswith(("http://", "https://")):
        return {f"{prefix}_url": image}
    raise TypeError("image must be bytes, a pathlib.Path or an http(s):// URL string "
                    "(a plain str is refused: it could be a path or base64)")


@dataclass
class _Media:
    """One image or video of a request: its bytes (or URL), and how to name it in messages."""

    prefix: str  # "image", "image1", "video": the API's field prefix
    label: str
    data: bytes | None = None
    url: str | None = None
    filename: str = "upload"

    def fields(self) -> dict[str, str]:
        """Its JSON fields: `{prefix}_base64` or `{prefix}_url`."""
        return image_fields(self.data if self.data is not None else self.url or "", self.prefix)


def _media(value: Image, prefix: str) -> _Media:
    if isinstance(value, Path):
        return _Media(prefix, str(value), data=value.read_bytes(), filename=value.name)
    if isinstance(value, bytes | bytearray):
        return _Media(prefix, f"the {prefix} bytes", data=bytes(value), filename=prefix)
    image_fields(value, prefix)  # raises TypeError for anything but a URL
    return _Media(prefix, value, url=value)


def _segment(name: str) -> str:
    return quote(name, safe="")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _form_text(value: Any) -> str:
    """A multipart field's text: JSON for objects and lists, as FRS documents; true/false for bools."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return jsonlib.dumps(value, ensure_ascii=False)
    return str(value)


def _codes(value: str | Iterable[int] | None) -> str | None:
    """"1,2" or [1, 2] -> "1,2" (FRS's attribute and action lists are comma-separated text)."""
    if value is None or isinstance(value, str):
        return value
    return ",".join(str(code) for code in value)


def _sort(sort: Mapping[str, str] | Iterable[Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    """{"age": "desc", "height": "asc"} or FRS's [{"age": "desc"}, ...] -> FRS's list."""
    if sort is None:
        return None
    if isinstance(sort, Mapping):
        return [{field: direction} for field, direction in sort.items()]
    return [dict(item) for item in sort]


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


class Client:
    """Synchronous OpenFRS / Huawei FRS client.

    Authenticates with AK/SK (APIG SDK-HMAC-SHA256 signatures, as huaweicloudsdkfrs) or with an
    X-Auth-Token; with neither, requests go unsigned (a server run with OPENFRS_AUTH=off). Retries
    429, 5xx and timeouts `retries` times with exponential backoff (`backoff * 2**attempt`, at most
    8 s, longer when Retry-After asks); a refused connection fails at once. Failures raise
    FRSClientError. Note that a retried POST that reached the server may have taken effect (an add).

    `multipart=True` uploads images and videos as multipart files (`image_file`) instead of base64
    in JSON, which is a third smaller on the wire and keeps the whole body limit (8 MB) for the file.
    `downscale=True` shrinks an image with a side of 4096 px or more (which the server refuses,
    FRS.0013) to fit, EXIF orientation applied, before sending it.
    """

    def __init__(self, endpoint: str, project_id: str, ak: str | None = None, sk: str | None = None,
                 token: str | None = None, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5, multipart: bool = False, downscale: bool = False) -> None:
        self.project_id = project_id
        self.multipart = multipart
        self.downscale = downscale
        self.transport = Transport(endpoint, ak, sk, token, timeout, retries, backoff)

    @classmethod
    def from_env(cls, endpoint: str | None = None, project_id: str | None = None, ak: str | None = None,
                 sk: str | None = None, token: str | None = None, **options: Any) -> Client:
        """A client configured like the `openfrs` commands: the arguments given, else OPENFRS_ENDPOINT
        (default http://127.0.0.1:8080), OPENFRS_PROJECT_ID, OPENFRS_AK + OPENFRS_SK or
        OPENFRS_TOKEN. What is given wins over the environment (--ak over OPENFRS_TOKEN); a token
        wins over keys from the same place. Neither: unsigned requests. ValueError names what is
        missing."""
        project_id = project_id or _env("OPENFRS_PROJECT_ID")
        if not project_id:
            raise ValueError("no project id: set OPENFRS_PROJECT_ID or give --project-id (`openfrs serve` "
                             "prints it on first start; `openfrs admin list-projects` lists them)")
        if not token and not ak and not sk:
            token = _env("OPENFRS_TOKEN")
        if token:
            ak = sk = None
        else:
            ak, sk = ak or _env("OPENFRS_AK"), sk or _env("OPENFRS_SK")
            if bool(ak) != bool(sk):
                have, lack = ("OPENFRS_AK (--ak)", "OPENFRS_SK (--sk)") if ak else \
                    ("OPENFRS_SK (--sk)", "OPENFRS_AK (--ak)")
                raise ValueError(f"{have} is set but {lack} is not: give both halves of the key pair "
                                 "(`openfrs admin create-credential --project NAME` makes one), "
                                 "or OPENFRS_TOKEN (--token) instead")
        return cls(endpoint or _env("OPENFRS_ENDPOINT") or DEFAULT_ENDPOINT, project_id, ak=ak or None,
                   sk=sk or None, token=token or None, **options)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, json: Any = None, params: Params = None,
                form: Mapping[str, str] | None = None,
                files: Mapping[str, tuple[str, bytes, str]] | None = None) -> dict:
        """Any API, its JSON answer as a dict: `path` from the endpoint on, percent-encoded (e.g.
        "/v2/<project>/face-sets"); the body is `json`, or the multipart `form` and `files`."""
        response = self.transport.request(method, path, json=json, params=params, form=form, files=files)
        return response.json() if response.content else {}

    # -- paths, bodies and error advice ----------------------------------------------------------

    def _v2(self, *segments: str) -> str:
        return "/".join(["", "v2", _segment(self.project_id), *map(_segment, segments)])

    def _faces(self, face_set: str) -> str:
        return self._v2("face-sets", face_set, "faces")

    def _call(self, method: str, path: str, json: Any = None, params: Params = None,
              media: tuple[_Media, ...] = (), fields: dict[str, Any] | None = None) -> dict:
        """`request`, with `media` and `fields` as the body (multipart when asked and there are
        bytes to upload), and a hint added to the error when the client knows the fix."""
        fields = _drop_none(fields or {})
        form = files = None
        if media and self.multipart and any(m.data is not None for m in media):
            files = {f"{m.prefix}_file": (m.filename, m.data, "application/octet-stream")
                     for m in media if m.data is not None}
            form = {**{f"{m.prefix}_url": m.url for m in media if m.url},
                    **{name: _form_text(value) for name, value in fields.items()}}
        elif media:
            json = {**{k: v for m in media for k, v in m.fields().items()}, **fields}
        try:
            return self.request(method, path, json=json, params=params, form=form, files=files)
        except FRSClientError as error:
            if error.hint is None:
                error.hint = self._hint(error, media, files is not None)
            raise

    def _images(self, *pairs: tuple[Image, str]) -> tuple[_Media, ...]:
        """The request's images, each downscaled to the server's window when `downscale` is on."""
        media = tuple(_media(value, prefix) for value, prefix in pairs)
        if self.downscale:
            for item in media:
                if item.data is not None:
                    fitted, size = fit_image(item.data)
                    if size is not None:
                        log.info("%s is over %d px on a side: sent downscaled to %dx%d",
                                 item.label, MAX_SIDE, *size)
                        item.data = fitted
        return media

    def _hint(self, error: FRSClientError, media: tuple[_Media, ...], multipart: bool) -> str | None:
        code = error.error_code
        if code == "APIG.0301" and not self.transport.authenticated:
            return CREDENTIALS_HINT
        if code == "FRS.0002":
            return ("The X-Auth-Token is unknown or has expired: get a new one (`openfrs issue-token USER`, "
                    "Client.issue_token) and set OPENFRS_TOKEN.")
        if code in NO_FACE_CODES and media:
            named = [m for m in media if m.prefix in error.error_msg] or list(media)
            which = " or ".join(m.label for m in named)
            return (f"No face found in {which}. Faces smaller than OPENFRS_MIN_FACE_PX (a server setting, "
                    "default 40 px) are not searched for: use a photo where the face is larger.")
        if code == "FRS.0013":
            for item in media:
                size = image_size(item.data) if item.data is not None else None
                if size is not None and max(size) >= MAX_SIDE:
                    return (f"{item.label} is {size[0]}x{size[1]} px; the server takes images under "
                            f"{MAX_SIDE} px per side: downscale it (Client(downscale=True) does it before "
                            "sending; the openfrs commands always do).")
        if code == "FRS.0017" and any(m.data is not None for m in media):
            if not multipart:
                return ("base64 makes the body a third larger than the file: send it as a multipart upload "
                        "(image_file / video_file: Client(multipart=True); the openfrs commands do by "
                        "default), where the limit applies to the file's own bytes.")
            sizes = ", ".join(f"{m.label} is {len(m.data) / 2**20:.1f} MiB" for m in media if m.data)
            return (f"{sizes}: over the server's body limit (8 MB unless OPENFRS_MAX_BODY_BYTES says "
                    "otherwise) even as a multipart upload: send a smaller file.")
        return None

    # -- detection, comparison and liveness ------------------------------------------------------

    def detect(self, image: Image, attributes: str | Iterable[int] | None = None) -> list[DetectedFace]:
        """Faces, largest first; `attributes` are FRS codes ("1,2,4" or [1, 2, 4])."""
        answer = self._call("POST", self._v2("face-detect"), media=self._images((image, "image")),
                            fields={"attributes": _codes(attributes)})
        return [DetectedFace.from_json(face) for face in answer["faces"]]

    def compare(self, image1: Image, image2: Image) -> CompareResult:
        """The largest face of each image; `result.same_person` applies FRS's 0.93 threshold."""
        answer = self._call("POST", self._v2("face-compare"),
                            media=self._images((image1, "image1"), (image2, "image2")))
        return CompareResult.from_json(answer)

    def live_detect_face(self, image: Image) -> LiveResult:
        """Silent liveness of the largest face (FRS's v1 path, as the FRS SDK calls it)."""
        path = f"/v1/{_segment(self.project_id)}/live-detect-face"
        return LiveResult.from_json(self._call("POST", path, media=self._images((image, "image"))))

    def live_detect(self, video: Video, actions: str | Iterable[int], action_time: str | None = None,
                    nod_threshold: float | None = None) -> ActionLiveResult:
        """Action liveness on a 1-15 s video: `actions` are FRS codes in the order asked ("1,3" or
        [1, 3]: 1 turn left, 2 turn right, 3 nod, 4 open mouth, 5 blink); `action_time`
        "1000-3000,4000-7000" (ms, one window per action); `nod_threshold` in degrees (default 10)."""
        path = f"/v1/{_segment(self.project_id)}/live-detect"
        answer = self._call("POST", path, media=(_media(video, "video"),),
                            fields={"actions": _codes(actions), "action_time": action_time,
                                    "nod_threshold": nod_threshold})
        return ActionLiveResult.from_json(answer)

    # -- face sets -------------------------------------------------------------------------------

    def create_face_set(self, name: str, capacity: int | None = None,
                        external_fields: dict[str, Any] | None = None) -> FaceSet:
        """`external_fields` as FRS declares them: {"age": {"type": "integer"}}."""
        body = _drop_none({"face_set_name": name, "face_set_capacity": capacity,
                           "external_fields": external_fields})
        return FaceSet.from_json(self._call("POST", self._v2("face-sets"), json=body)["face_set_info"])

    def list_face_sets(self) -> list[FaceSet]:
        answer = self._call("GET", self._v2("face-sets"))
        return [FaceSet.from_json(info) for info in answer["face_sets_info"]]

    def get_face_set(self, name: str) -> FaceSet:
        return FaceSet.from_json(self._call("GET", self._v2("face-sets", name))["face_set_info"])

    def delete_face_set(self, name: str) -> None:
        """Deletes the set and every face in it."""
        self._call("DELETE", self._v2("face-sets", name))

    # -- faces in a set --------------------------------------------------------------------------

    def add_faces(self, face_set: str, image: Image, external_image_id: str | None = None,
                  external_fields: dict[str, Any] | None = None,
                  single: bool | None = None) -> list[AddedFace]:
        """Every face of the image (only the largest with single=True)."""
        answer = self._call("POST", self._faces(face_set), media=self._images((image, "image")),
                            fields={"external_image_id": external_image_id,
                                    "external_fields": external_fields, "single": single})
        return [AddedFace.from_json(face) for face in answer["faces"]]

    def list_faces(self, face_set: str, offset: int = 0, limit: int = 5) -> list[AddedFace]:
        """A page of the set's faces, in the order they were added (offset + limit <= 10,000)."""
        answer = self._call("GET", self._faces(face_set), params={"offset": offset, "limit": limit})
        return [AddedFace.from_json(face) for face in answer["faces"]]

    def get_face(self, face_set: str, face_id: str) -> AddedFace:
        """One face by its id (FRS ShowFaces with face_id; FRS.0403 when there is none)."""
        answer = self._call("GET", self._faces(face_set), params={"face_id": face_id})
        return AddedFace.from_json(answer["faces"][0])

    def update_face(self, face_set: str, face_id: str, external_image_id: str | None = None,
                    external_fields: dict[str, Any] | None = None) -> int:
        """FRS UpdateFace: a new external_image_id and/or field values, merged into the stored ones
        (a field given as None is removed). The number of faces updated (1)."""
        if external_image_id is None and external_fields is None:
            raise ValueError("update external_image_id, external_fields or both")
        body = _drop_none({"face_id": face_id, "external_image_id": external_image_id,
                           "external_fields": external_fields})
        return int(self._call("PUT", self._faces(face_set), json=body)["face_number"])

    def delete_face(self, face_set: str, face_id: str) -> int:
        """The number of faces deleted (FRS's `face_number`)."""
        return self.delete_faces(face_set, face_id=face_id)

    def delete_faces(self, face_set: str, *, face_id: str | None = None,
                     external_image_id: str | None = None,
                     field: tuple[str, str | int | float | bool] | None = None) -> int:
        """Delete by exactly one of: face_id, external_image_id (every face of that image), or
        field=(name, value) of a declared external field. The number of faces deleted."""
        given = [(name, value) for name, value in (("face_id", face_id),
                                                    ("external_image_id", external_image_id)) if value]
        if field is not None:
            given.append((field[0], _form_text(field[1])))
        if len(given) != 1:
            raise ValueError("delete by exactly one of face_id, external_image_id or field")
        return int(self._call("DELETE", self._faces(face_set), params=given)["face_number"])

    def batch_delete_faces(self, face_set: str, filter: str) -> int:
        """FRS BatchDeleteFaces: every face whose fields match the filter (e.g. "age:[* TO 17]");
        FRS.0407 when none does. The number of faces deleted."""
        answer = self._call("DELETE", self._faces(face_set) + "/batch", json={"filter": filter})
        return int(answer["face_number"])

    def search(self, face_set: str, image: Image | None = None, face_id: str | None = None,
               top_n: int | None = None, threshold: float | None = None, filter: str | None = None,
               return_fields: list[str] | None = None,
               sort: Mapping[str, str] | Iterable[Mapping[str, str]] | None = None) -> list[SearchHit]:
        """Most similar faces first, by the largest face of `image` or by a stored `face_id`.

        `threshold` drops hits below that similarity; `filter` is FRS's language ("dept:it &&
        age:[18 TO *]"); `sort` orders hits by numeric fields after similarity ({"age": "desc"});
        `external_fields` of the hits hold the fields named in `return_fields` (all when None)."""
        if (image is None) == (face_id is None):
            raise ValueError("search by exactly one of image or face_id")
        fields = {"top_n": top_n, "threshold": threshold, "filter": filter,
                  "return_fields": return_fields, "sort": _sort(sort)}
        path = self._v2("face-sets", face_set, "search")
        if image is None:
            answer = self._call("POST", path, json=_drop_none({"face_id": face_id, **fields}))
        else:
            answer = self._call("POST", path, media=self._images((image, "image")), fields=fields)
        return [SearchHit.from_json(face) for face in answer["faces"]]

    # -- tokens ----------------------------------------------------------------------------------

    def issue_token(self, user: str, password: str, project_name: str | None = None) -> IssuedToken:
        """An X-Auth-Token for a user of this client's project (or of `project_name`), from POST
        /v3/auth/tokens (IAM password auth); use it as Client(..., token=issued.token)."""
        project = {"name": project_name} if project_name else {"id": self.project_id}
        body = {"auth": {"identity": {"methods": ["password"],
                                      "password": {"user": {"name": user, "password": password}}},
                         "scope": {"project": project}}}
        response = self.transport.request("POST", "/v3/auth/tokens", json=body)
        info = response.json()["token"]
        return IssuedToken(response.headers["X-Subject-Token"], info["project"]["id"],
                           info["project"]["name"], info["expires_at"])
