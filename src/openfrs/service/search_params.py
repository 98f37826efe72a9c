"""The parameters of an FRS face-set search: top_n, threshold, filter, sort, return_fields."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openfrs.errors import FRSError
from openfrs.service.params import parse_int
from openfrs.service.quality_gate import Limits, parse_quality_filter

if TYPE_CHECKING:
    from openfrs.service.setfaces import SearchHit

MAX_TOP_N = 1000
NUMERIC = frozenset({"integer", "long", "float", "double"})


def _json_value(value: object, name: str) -> object:
    """Multipart clients send arrays as JSON text, as FRS documents."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise FRSError("FRS.0012", f"{name} is not valid JSON") from None
    return value


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


@dataclass(frozen=True)
class SearchParams:
    top_n: int
    threshold: float
    filter: str | None
    sort: list[tuple[str, bool]]
    return_fields: list[str] | None
    face_id: str | None
    quality: Limits | None = None  # quality_filter on the probe face (extension)

    @classmethod
    def parse(cls, fields: dict) -> SearchParams:
        filter_text = fields.get("filter")
        if filter_text is not None and not isinstance(filter_text, str):
            raise FRSError("FRS.0012", "filter must be a string")
        face_id = fields.get("face_id")
        if face_id is not None and not isinstance(face_id, str):
            raise FRSError("FRS.0012", "face_id must be a string")
        return cls(top_n=parse_int(fields.get("top_n"), "top_n", 10, 1, MAX_TOP_N),
                   threshold=_threshold(fields.get("threshold")),
                   filter=filter_text or None, sort=_sort(fields.get("sort")),
                   return_fields=_return_fields(fields.get("return_fields")), face_id=face_id or None,
                   quality=parse_quality_filter(fields.get("quality_filter")))

    def check_fields(self, schema: dict[str, str]) -> None:
        """Sort only by declared numeric fields (FRS.0032); return only declared fields (FRS.0402)."""
        for field, _ in self.sort:
            if schema.get(field) not in NUMERIC:
                raise FRSError("FRS.0032", f"{str(field)[:40]} is not a numeric field")
        for field in self.return_fields or []:
            if field not in schema:
                raise FRSError("FRS.0402", field[:40])

    def sorted(self, hits: list[SearchHit]) -> list[SearchHit]:
        """Similarity order, then the requested field order (missing values last)."""
        for field, descending in reversed(self.sort):
            present = [h for h in hits if h.face.fields.get(field) is not None]
            absent = [h for h in hits if h.face.fields.get(field) is None]
            present.sort(key=lambda h, f=field: h.face.fields[f], reverse=descending)
            hits = present + absent
        return hits
