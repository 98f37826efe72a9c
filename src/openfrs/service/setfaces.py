"""Faces in face sets: add, list, show, delete, and 1:N search (FRS v2 face-set APIs)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from openfrs.errors import FRSError
from openfrs.media.picture import Picture
from openfrs.service.attributes import QUALITY
from openfrs.service.faces import FaceService
from openfrs.service.facesets import FaceSetService
from openfrs.service.field_values import validate_values
from openfrs.service.filters import parse_filter
from openfrs.service.indexes import IndexRegistry, index_or_undo
from openfrs.service.params import random_id
from openfrs.service.quality_gate import Limits, refusal_reasons
from openfrs.service.search_params import SearchParams
from openfrs.store.base import FaceSetFull
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.vision.calibration import Calibration
from openfrs.vision.calibration_tables import calibration_for
from openfrs.vision.types import Face

_EXTERNAL_IMAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")
LIST_WINDOW = 10_000  # FRS: offset + limit <= 10,000 ("FRS is not a storage system")
DEFAULT_LIST_LIMIT = 5


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def external_image_id(value: object) -> str:
    if value is None or value == "":
        return random_id(8)
    if not isinstance(value, str) or not _EXTERNAL_IMAGE_ID.fullmatch(value):
        raise FRSError("FRS.0012", "external_image_id must be 1-36 of [A-Za-z0-9_-]")
    return value


@dataclass(frozen=True)
class NewFaces:
    """What an add-face call asks for, whichever surface parsed it."""

    external_image_id: str | None = None  # None: a generated one
    values: Mapping[str, object] = field(default_factory=dict)  # custom fields, checked against the set
    single: bool = False  # only the largest face
    quality: Limits | None = None  # refuse faces below this gate (and say why)



@dataclass(frozen=True)
class FaceUpdate:
    """FRS UpdateFace: a new external_image_id and/or a merge patch of custom field values
    (a value None removes that field)."""

    face_id: str
    external_image_id: str | None = None
    values: Mapping[str, object] | None = None


@dataclass(frozen=True)
class AddResult:
    face_set: FaceSetRecord
    faces: list[FaceRecord]  # stored
    refused: list[tuple[Face, list[str]]]  # faces the quality filter refused, with reasons
    filtered: bool  # a quality_filter was given (the reply then lists refused faces)


@dataclass(frozen=True)
class SearchHit:
    face: FaceRecord
    similarity: float


class SetFaceService:
    def __init__(self, face_sets: FaceSetService, faces: FaceService, indexes: IndexRegistry) -> None:
        self.face_sets = face_sets
        self.store = face_sets.store
        self.faces = faces
        self.indexes = indexes

    # -- add ----------------------------------------------------------------------------

    async def add(self, project_id: str, set_name: str, image: np.ndarray | Picture,
                  request: NewFaces = NewFaces()) -> AddResult:
        face_set = await self.face_sets.get(project_id, set_name)
        self._same_model(face_set)
        values = validate_values(dict(request.values), face_set.external_fields)
        image_id = external_image_id(request.external_image_id)
        limits = request.quality
        codes = frozenset({QUALITY}) if limits else frozenset()
        detected = await self.faces.pool.run(self.faces.embedded_faces_blocking, image, request.single,
                                             codes, face_set.model_version)
        if not detected:
            raise self.faces.no_face("FRS.0404")
        refused: list[tuple[Face, list[str]]] = []
        if limits:
            judged = [(face, refusal_reasons(face, limits)) for face in detected]
            detected = [face for face, reasons in judged if not reasons]
            refused = [(face, reasons) for face, reasons in judged if reasons]
        if not detected:  # every face refused: nothing is written, the reasons say why
            return AddResult(face_set, [], refused, limits is not None)
        created = _now()
        records = [
            FaceRecord(face_id=random_id(8), external_image_id=image_id,
                       bounding_box=_box(face), embedding=face.embedding, fields=values,
                       model_version=face_set.model_version, created_at=created)
            for face in detected
        ]
        stored = await asyncio.to_thread(self._commit, face_set, records)
        return AddResult(face_set, stored, refused, limits is not None)

    def _same_model(self, face_set: FaceSetRecord) -> None:
        """Embeddings of two models are not comparable: a new face or a probe is embedded by the
        model that embedded the set, which the pack must still hold (else: re-enrol the set,
        `openfrs import`)."""
        if not self.faces.has_model(face_set.model_version):
            loaded = ", ".join(self.faces.pipeline.recognisers)
            raise FRSError("FRS.0306", f"set {face_set.model_version}, loaded {loaded}")

    def _commit(self, face_set: FaceSetRecord, records: list[FaceRecord]) -> list[FaceRecord]:
        try:
            stored = self.store.add_faces(face_set.key, records, capacity=face_set.capacity)
        except FaceSetFull:
            raise FRSError("FRS.0408", f"capacity {face_set.capacity}") from None
        keys = np.array([r.key for r in stored], np.int64)
        index_or_undo(lambda: self.indexes.add(face_set.key, keys, np.stack([r.embedding for r in stored])),
                      lambda: self.store.delete_faces(face_set.key, keys),
                      f"{len(keys)} face(s) of set {face_set.key}")
        return stored

    # -- read ---------------------------------------------------------------------------

    async def list(self, project_id: str, set_name: str, first: int = 0,
                   count: int = DEFAULT_LIST_LIMIT,
                   filter_text: str | None = None) -> tuple[FaceSetRecord, list[FaceRecord]]:
        """A page of the set's faces in the order they were added; with a filter (search's
        language, FRS.0012 when malformed) a page of those it matches, selected by the store."""
        face_set = await self.face_sets.get(project_id, set_name)
        if first < 0 or count < 1 or first + count > LIST_WINDOW:
            raise FRSError("FRS.0012", f"offset + limit must be at most {LIST_WINDOW}")
        expr = parse_filter(filter_text, face_set.external_fields) if filter_text else None
        faces = await asyncio.to_thread(self.store.list_faces, face_set.key, first, count, expr)
        return face_set, faces

    async def show(self, project_id: str, set_name: str,
                   face_id: str) -> tuple[FaceSetRecord, FaceRecord]:
        face_set = await self.face_sets.get(project_id, set_name)
        face = await asyncio.to_thread(self.store.get_face, face_set.key, face_id)
        if face is None:
            raise FRSError("FRS.0403", face_id[:40])
        return face_set, face

    # -- delete -------------------------------------------------------------------------

    async def delete(self, project_id: str, set_name: str, field: str,
                     value: str) -> tuple[FaceSetRecord, int]:
        """By face_id (FRS.0403 when absent), by external_image_id or by one custom field's
        value (FRS.0401 when nothing has it; FRS.0402 for a field the set does not declare)."""
        face_set = await self.face_sets.get(project_id, set_name)
        if field not in ("face_id", "external_image_id") and field not in face_set.external_fields:
            raise FRSError("FRS.0402", field[:40])
        expr = parse_filter(f'{field}:"{_quoted(value)}"', face_set.external_fields)
        keys = await asyncio.to_thread(self.store.keys_matching, face_set.key, expr)
        if not keys.size:
            if field == "face_id":
                raise FRSError("FRS.0403", value[:40])
            raise FRSError("FRS.0401", f"{field[:40]}={value[:40]}")
        deleted = await asyncio.to_thread(self._delete_keys, face_set.key, keys)
        return face_set, deleted

    async def delete_by_filter(self, project_id: str, set_name: str,
                               filter_text: str) -> tuple[FaceSetRecord, int]:
        """FRS BatchDeleteFaces: every face matching the filter; FRS.0407 when none does."""
        face_set = await self.face_sets.get(project_id, set_name)
        expr = parse_filter(filter_text, face_set.external_fields)
        keys = await asyncio.to_thread(self.store.keys_matching, face_set.key, expr)
        if not keys.size:
            raise FRSError("FRS.0407", "no face matches the filter")
        deleted = await asyncio.to_thread(self._delete_keys, face_set.key, keys)
        return face_set, deleted

    async def update(self, project_id: str, set_name: str, change: FaceUpdate) -> FaceSetRecord:
        """FRS UpdateFace: a new external_image_id and/or changes to one face's external_fields.

        The fields sent are merged into the stored ones (JSON merge patch, RFC 7396): a field sent
        gets the new value, a field sent as null is removed, a field not sent is kept."""
        face_set = await self.face_sets.get(project_id, set_name)
        if change.external_image_id is None and change.values is None:
            raise FRSError("FRS.0011", "external_image_id or external_fields")
        image_id = None if change.external_image_id is None else external_image_id(change.external_image_id)
        values = (None if change.values is None else
                  validate_values(dict(change.values), face_set.external_fields, allow_null=True))
        if not await asyncio.to_thread(self.store.update_face, face_set.key, change.face_id, image_id,
                                       values):
            raise FRSError("FRS.0303", change.face_id[:40])
        return face_set

    def _delete_keys(self, set_key: int, keys: np.ndarray) -> int:
        deleted = self.store.delete_faces(set_key, keys)
        self.indexes.remove(set_key, np.array(keys, np.int64))
        return deleted

    # -- search -------------------------------------------------------------------------

    async def search(self, project_id: str, set_name: str, params: SearchParams,
                     image: np.ndarray | Picture | None) -> list[SearchHit]:
        return (await self.search_set(project_id, set_name, params, image))[1]

    async def search_set(self, project_id: str, set_name: str, params: SearchParams,
                         image: np.ndarray | Picture | None) -> tuple[FaceSetRecord, list[SearchHit]]:
        """`search`, with the set searched (a reply that adds per-set facts about the hits)."""
        face_set = await self.face_sets.get(project_id, set_name)
        expr = parse_filter(params.filter, face_set.external_fields) if params.filter else None
        params.check_fields(face_set.external_fields)
        if image is not None:
            self._same_model(face_set)
            codes = frozenset({QUALITY}) if params.quality else frozenset()
            detected = await self.faces.pool.run(self.faces.embedded_faces_blocking, image, True,
                                                 codes, face_set.model_version)
            if not detected:
                raise self.faces.no_face("FRS.0304", "the probe image")
            reasons = refusal_reasons(detected[0], params.quality) if params.quality else []
            if reasons:
                raise FRSError("FRS.0307", ", ".join(reasons))
            query = detected[0].embedding
        else:
            probe = await asyncio.to_thread(self.store.get_face, face_set.key, params.face_id)
            if probe is None:
                raise FRSError("FRS.0403", str(params.face_id)[:40])
            query = probe.embedding
        return face_set, await self.faces.pool.run(self._search, face_set, query, params, expr)

    def _search(self, face_set: FaceSetRecord, query: np.ndarray, params: SearchParams,
                expr) -> list[SearchHit]:
        allowed = None
        if expr is not None:
            allowed = self.store.keys_matching(face_set.key, expr)
            if not allowed.size:
                return []
        index = self.indexes.get(face_set.key)
        keys, scores = index.search(query, params.top_n, allowed)
        similarities = _calibration(face_set).similarity(np.clip(scores, -1.0, 1.0))
        records = self.store.faces_by_keys(face_set.key, [int(k) for k in keys])
        hits = [SearchHit(records[int(k)], float(s)) for k, s in zip(keys, np.atleast_1d(similarities),
                                                                     strict=True)
                if int(k) in records and s >= params.threshold]
        return params.sorted(hits)


def _calibration(face_set: FaceSetRecord) -> Calibration:
    """The similarity scale of the set's model; searching by face_id needs only this, so it
    works on a set whose model the pack no longer holds."""
    try:
        return calibration_for(face_set.model_version)
    except KeyError:
        raise FRSError("FRS.0306", f"no similarity scale for model {face_set.model_version}") from None


def _quoted(value: str) -> str:
    """A query-string value as a quoted filter string (the filter parser checks it)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _box(face: Face) -> tuple[int, int, int, int]:
    box = face.box
    return (int(round(box.x1)), int(round(box.y1)), int(round(box.width)), int(round(box.height)))
