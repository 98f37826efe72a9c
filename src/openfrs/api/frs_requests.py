"""FRS request fields -> the service layer's typed arguments (face sets and their faces).

FRS sends values as JSON or as multipart text ("true", "10", JSON arrays as text), so the
adapter turns them into plain values here, with FRS's error codes; the service layer checks the
rules every surface shares (names, capacity, declared fields, the list window) on typed values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from openfrs.errors import FRSError
from openfrs.service.facesets import FaceSetSpec, declared_types
from openfrs.service.quality_gate import parse_quality_filter
from openfrs.service.search_params import DEFAULT_TOP_N, MAX_TOP_N, SearchParams
from openfrs.service.setfaces import DEFAULT_LIST_LIMIT, LIST_WINDOW, FaceUpdate, NewFaces

Fields = Mapping[str, object]


def parse_bool(value: object, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise FRSError("FRS.0012", f"{name} must be true or false")


def parse_int(value: object, name: str, default: int, low: int, high: int) -> int:
    """An integer in [low, high]; multipart and query strings send it as ASCII digits."""
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FRSError("FRS.0012", f"{name} must be an integer from {low} to {high}")
    return value


def _json_value(value: object, name: str, what: str = "valid JSON") -> object:
    """Multipart clients send arrays and objects as JSON text, as FRS documents."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise FRSError("FRS.0012", f"{name} is not {what}") from None
    return value


def _optional_string(fields: Fields, name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise FRSError("FRS.0012", f"{name} must be a string")
    return value or None


# -- face sets ------------------------------------------------------------------------------------


def face_set_spec(fields: Fields) -> FaceSetSpec:
    """CreateFaceSet's body; name and capacity are checked by the service (FRS.0011 / FRS.0012)."""
    return FaceSetSpec(name=fields.get("face_set_name"),  # type: ignore[arg-type]
                       capacity=fields.get("face_set_capacity"),  # type: ignore[arg-type]
                       fields=declared_types(fields.get("external_fields")))


# -- faces in a face set --------------------------------------------------------------------------


def field_values(value: object) -> dict[str, object] | None:
    """`external_fields` on add / update: an object (JSON text from multipart); None when absent."""
    if value is None or value == "":
        return None
    value = _json_value(value, "external_fields", "a JSON object")
    if not isinstance(value, dict):
        raise FRSError("FRS.0012", "external_fields must be an object")
    return value


def new_faces(fields: Fields) -> NewFaces:
    """AddFaces' fields besides the image."""
    image_id = fields.get("external_image_id")
    values = field_values(fields.get("external_fields"))
    return NewFaces(external_image_id=None if image_id in (None, "") else image_id,  # type: ignore[arg-type]
                    values=values or {},
                    single=parse_bool(fields.get("single"), "single", default=False),
                    quality=parse_quality_filter(fields.get("quality_filter")))


def face_update(body: Fields) -> FaceUpdate:
    """UpdateFace's body: face_id (FRS.0011) and what changes."""
    face_id = body.get("face_id")
    if not face_id or not isinstance(face_id, str):
        raise FRSError("FRS.0011", "face_id")
    image_id = body.get("external_image_id")
    values = body.get("external_fields")
    return FaceUpdate(face_id=face_id,
                      external_image_id=None if image_id in (None, "") else image_id,  # type: ignore[arg-type]
                      values=None if values is None else field_values(values) or {})


def list_window(query: Fields) -> tuple[int, int]:
    """ShowFaces' offset and limit."""
    return (parse_int(query.get("offset"), "offset", 0, 0, LIST_WINDOW),
            parse_int(query.get("limit"), "limit", DEFAULT_LIST_LIMIT, 1, LIST_WINDOW))


def list_filter(query: Fields) -> str | None:
    """ShowFaces' `filter` (extension): search's filter language; checked by the service."""
    return _optional_string(query, "filter")


PERSONS_LIMIT = 1000  # a page of a group's persons, as Tencent GetPersonList allows
MAX_OFFSET = 999_999_999


def persons_window(query: Fields) -> tuple[int, int]:
    """The persons listing's offset (>= 0) and limit (1-1000, default 100)."""
    return (parse_int(query.get("offset"), "offset", 0, 0, MAX_OFFSET),
            parse_int(query.get("limit"), "limit", 100, 1, PERSONS_LIMIT))


def delete_by(query: Fields) -> tuple[str, str]:
    """DeleteFaces' one query parameter: (face_id | external_image_id | a custom field, value)."""
    if not query:
        raise FRSError("FRS.0011", "face_id, external_image_id or a custom field")
    if len(query) > 1:
        raise FRSError("FRS.0012", "delete by one of face_id, external_image_id or a field")
    (field, value), = query.items()
    return field, str(value)


def batch_filter(body: Fields) -> str:
    """BatchDeleteFaces' filter; its syntax is checked against the set's fields by the service."""
    text = body.get("filter")
    if not text:
        raise FRSError("FRS.0011", "filter")
    return text  # type: ignore[return-value]


# -- search ---------------------------------------------------------------------------------------


def _threshold(value: object) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise FRSError("FRS.0012", "threshold must be a number from 0 to 1") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 <= value <= 1:
        raise FRSError("FRS.0012", "threshold must be a number from 0 to 1")
    return float(value)


def _sort(value: object) -> list[tuple[str, bool]]:
    """[{"field": "asc"|"desc"}, ...] -> [(field, descending)]; a repeated key overwrites."""
    value = _json_value(value, "sort")
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FRSError("FRS.0012", 'sort must be a list like [{"field": "asc"}]')
    order: dict[str, bool] = {}
    for item in value:
        for field, direction in item.items():
            if direction not in ("asc", "desc"):
                raise FRSError("FRS.0012", f"sort.{str(field)[:40]} must be asc or desc")
            order.pop(field, None)
            order[field] = direction == "desc"
    return list(order.items())


def _return_fields(value: object) -> list[str] | None:
    value = _json_value(value, "return_fields")
    if value is None or value == "":
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FRSError("FRS.0012", "return_fields must be a list of field names")
    return value


def search_params(fields: Fields) -> SearchParams:
    """SearchFace's fields besides the image."""
    filter_text = _optional_string(fields, "filter")
    face_id = _optional_string(fields, "face_id")
    return SearchParams(top_n=parse_int(fields.get("top_n"), "top_n", DEFAULT_TOP_N, 1, MAX_TOP_N),
                        threshold=_threshold(fields.get("threshold")),
                        filter=filter_text, sort=_sort(fields.get("sort")),
                        return_fields=_return_fields(fields.get("return_fields")), face_id=face_id,
                        quality=parse_quality_filter(fields.get("quality_filter")))
