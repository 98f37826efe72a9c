"""`Client`: the FRS v2 calls as typed Python methods, over the signed, retrying Transport."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openfrs.client.http import Params, Transport
from openfrs.client.results import AddedFace, CompareResult, DetectedFace, FaceSet, LiveResult, SearchHit

Image = bytes | Path | str


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


def _segment(name: str) -> str:
    return quote(name, safe="")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


class Client:
    """Synchronous OpenFRS / Huawei FRS client.

    Authenticates with AK/SK (APIG SDK-HMAC-SHA256 signatures, as huaweicloudsdkfrs) or with an
    X-Auth-Token; retries 429, 5xx and connection errors `retries` times with exponential backoff
    (`backoff * 2**attempt`, at most 8 s, longer when Retry-After asks). Failures raise
    FRSClientError. Note that a retried POST that reached the server may have taken effect (an add).
    """

    def __init__(self, endpoint: str, project_id: str, ak: str | None = None, sk: str | None = None,
                 token: str | None = None, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5) -> None:
        self.project_id = project_id
        self.transport = Transport(endpoint, ak, sk, token, timeout, retries, backoff)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, json: Any = None, params: Params = None) -> dict:
        """Any API: `path` from the endpoint on, percent-encoded (e.g. "/v2/<project>/face-sets")."""
        response = self.transport.request(method, path, json=json, params=params)
        return response.json() if response.content else {}

    # -- paths -----------------------------------------------------------------------------------

    def _v2(self, *segments: str) -> str:
        return "/".join(["", "v2", _segment(self.project_id), *map(_segment, segments)])

    def _faces(self, face_set: str) -> str:
        return self._v2("face-sets", face_set, "faces")

    # -- detection and comparison ----------------------------------------------------------------

    def detect(self, image: Image, attributes: str | Iterable[int] | None = None) -> list[DetectedFace]:
        """Faces, largest first; `attributes` are FRS codes ("1,2,4" or [1, 2, 4])."""
        if attributes is not None and not isinstance(attributes, str):
            attributes = ",".join(str(code) for code in attributes)
        body = _drop_none({**image_fields(image), "attributes": attributes})
        return [DetectedFace.from_json(face) for face in self.request("POST", self._v2("face-detect"),
                                                                        json=body)["faces"]]

    def compare(self, image1: Image, image2: Image) -> CompareResult:
        body = {**image_fields(image1, "image1"), **image_fields(image2, "image2")}
        return CompareResult.from_json(self.request("POST", self._v2("face-compare"), json=body))

    def live_detect_face(self, image: Image) -> LiveResult:
        """Silent liveness of the largest face (FRS's v1 path, as the FRS SDK calls it)."""
        path = f"/v1/{_segment(self.project_id)}/live-detect-face"
        return LiveResult.from_json(self.request("POST", path, json=image_fields(image)))

    # -- face sets -------------------------------------------------------------------------------

    def create_face_set(self, name: str, capacity: int | None = None,
                        external_fields: dict[str, Any] | None = None) -> FaceSet:
        """`external_fields` as FRS declares them: {"age": {"type": "integer"}}."""
        body = _drop_none({"face_set_name": name, "face_set_capacity": capacity,
                           "external_fields": external_fields})
        return FaceSet.from_json(self.request("POST", self._v2("face-sets"), json=body)["face_set_info"])

    def list_face_sets(self) -> list[FaceSet]:
        answer = self.request("GET", self._v2("face-sets"))
        return [FaceSet.from_json(info) for info in answer["face_sets_info"]]

    def get_face_set(self, name: str) -> FaceSet:
        return FaceSet.from_json(self.request("GET", self._v2("face-sets", name))["face_set_info"])

    def delete_face_set(self, name: str) -> None:
        """Deletes the set and every face in it."""
        self.request("DELETE", self._v2("face-sets", name))

    # -- faces in a set --------------------------------------------------------------------------

    def add_faces(self, face_set: str, image: Image, external_image_id: str | None = None,
                  external_fields: dict[str, Any] | None = None,
                  single: bool | None = None) -> list[AddedFace]:
        """Every face of the image (only the largest with single=True)."""
        body = _drop_none({**image_fields(image), "external_image_id": external_image_id,
                           "external_fields": external_fields, "single": single})
        return [AddedFace.from_json(face) for face in self.request("POST", self._faces(face_set),
                                                                     json=body)["faces"]]

    def list_faces(self, face_set: str, offset: int = 0, limit: int = 5) -> list[AddedFace]:
        answer = self.request("GET", self._faces(face_set), params={"offset": offset, "limit": limit})
        return [AddedFace.from_json(face) for face in answer["faces"]]

    def delete_face(self, face_set: str, face_id: str) -> int:
        """The number of faces deleted (FRS's `face_number`)."""
        answer = self.request("DELETE", self._faces(face_set), params={"face_id": face_id})
        return int(answer["face_number"])

    def search(self, face_set: str, image: Image | None = None, face_id: str | None = None,
               top_n: int | None = None, threshold: float | None = None, filter: str | None = None,
               return_fields: list[str] | None = None) -> list[SearchHit]:
        """Most similar faces first, by the largest face of `image` or by a stored `face_id`.

        `external_fields` of the hits are filled for the fields named in `return_fields`."""
        if (image is None) == (face_id is None):
            raise ValueError("search by exactly one of image or face_id")
        body = _drop_none({**(image_fields(image) if image is not None else {"face_id": face_id}),
                           "top_n": top_n, "threshold": threshold, "filter": filter,
                           "return_fields": return_fields})
        answer = self.request("POST", self._v2("face-sets", face_set, "search"), json=body)
        return [SearchHit.from_json(face) for face in answer["faces"]]
