"""The parameters of a face-set search: top_n, threshold, filter, sort, return_fields (typed;
api/frs_requests.py parses FRS's request fields into them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openfrs.errors import FRSError
from openfrs.service.quality_gate import Limits

if TYPE_CHECKING:
    from openfrs.service.setfaces import SearchHit

MAX_TOP_N = 1000
DEFAULT_TOP_N = 10
NUMERIC = frozenset({"integer", "long", "float", "double"})


@dataclass(frozen=True)
class SearchParams:
    top_n: int = DEFAULT_TOP_N
    threshold: float = 0.0  # on the calibrated 0-1 similarity
    filter: str | None = None
    sort: list[tuple[str, bool]] = dataclasses.field(default_factory=list)  # (field, descending)
    return_fields: list[str] | None = None
    face_id: str | None = None  # search by a stored face instead of an image
    quality: Limits | None = None  # quality_filter on the probe face (extension)

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
