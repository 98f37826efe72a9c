"""Face-set use cases (FRS CreateFaceSet, ShowAllFaceSets, ShowFaceSet, DeleteFaceSet)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.indexes import IndexRegistry
from openfrs.service.params import random_id
from openfrs.store.base import DuplicateFaceSet, DuplicateFaceSetId, MetadataStore, TooManyFaceSets
from openfrs.store.query import FIELD_NAME
from openfrs.store.records import FaceSetRecord

# Letters of any script, digits, "_" and "-"; not starting with "_" (FRS: such names break the
# Cloud Eye face counter) and no "/" so the name is one URL path segment.
_NAME = re.compile(r"[^\W_][\w-]{0,63}")
FIELD_TYPES = frozenset({"string", "integer", "long", "float", "double", "boolean"})
RESERVED_FIELDS = frozenset({"external_image_id", "bounding_box", "similarity", "face_id",
                             "create_time", "vector", "_id", "_all", "_source"})
MAX_FIELDS = 10
CAPACITY_STEP = 10_000


def validate_name(name: object) -> str:
    if name is None or name == "":
        raise FRSError("FRS.0011", "face_set_name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FRSError("FRS.0012", "face_set_name must be 1-64 letters, digits, '_' or '-', "
                       "not starting with '_'")
    return name


def validate_capacity(value: object, settings: Settings) -> int:
    if value is None:
        return settings.default_face_set_capacity
    top = settings.max_face_set_capacity
    if (isinstance(value, bool) or not isinstance(value, int) or value < CAPACITY_STEP
            or value > top or value % CAPACITY_STEP):
        raise FRSError("FRS.0012", f"face_set_capacity must be a multiple of {CAPACITY_STEP} "
                       f"between {CAPACITY_STEP} and {top}")
    return value


def declared_types(value: object) -> dict[str, object]:
    """The shape of a field declaration, FRS `external_fields` at creation and the importer's:
    {name: {"type": t}} -> {name: t}, not yet checked (`check_fields`)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FRSError("FRS.0012", 'external_fields must be an object {"name": {"type": ...}}')
    return {name: spec.get("type") if isinstance(spec, dict) else None for name, spec in value.items()}


def validate_schema(value: object) -> dict[str, str]:
    """A field declaration, checked: {name: {"type": t}} -> {name: t}."""
    return check_fields(declared_types(value))


def check_fields(fields: Mapping[str, object]) -> dict[str, str]:
    """Custom field names and types a face set declares: at most MAX_FIELDS, names not reserved,
    types one of FIELD_TYPES (any case) -> {name: lower-case type}."""
    if len(fields) > MAX_FIELDS:
        raise FRSError("FRS.0012", f"external_fields has more than {MAX_FIELDS} fields")
    schema = {}
    for name, kind in fields.items():
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name) or name in RESERVED_FIELDS:
            raise FRSError("FRS.0012", f"external_fields: {str(name)[:40]!r} is not an allowed field name")
        if not isinstance(kind, str) or kind.lower() not in FIELD_TYPES:
            raise FRSError("FRS.0012", f"external_fields.{name}: type must be one of "
                           + ", ".join(sorted(FIELD_TYPES)))
        schema[name] = kind.lower()
    return schema


@dataclass(frozen=True)
class FaceSetSpec:
    """A face set to create, whichever surface parsed it."""

    name: str
    capacity: int | None = None  # None: the server's default
    fields: Mapping[str, object] = field(default_factory=dict)  # custom field name -> type (checked)



class FaceSetService:
    """Face sets per project, stored in the metadata store (the source of truth)."""

    def __init__(self, store: MetadataStore, settings: Settings, model_version: str,
                 indexes: IndexRegistry | None = None) -> None:
        self.store = store
        self.settings = settings
        self.model_version = model_version
        self.indexes = indexes

    async def create(self, project_id: str, spec: FaceSetSpec) -> FaceSetRecord:
        name = validate_name(spec.name)
        capacity = validate_capacity(spec.capacity, self.settings)
        schema = check_fields(spec.fields)
        return await asyncio.to_thread(self._create, project_id, name, capacity, schema)

    def _create(self, project_id: str, name: str, capacity: int, schema: dict) -> FaceSetRecord:
        created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        for _ in range(5):  # 62**8 ids: a collision is rare, two in a row rarer still
            record = FaceSetRecord(key=0, project_id=project_id, name=name,
                                   face_set_id=random_id(8),
                                   capacity=capacity, external_fields=schema,
                                   model_version=self.model_version, created_at=created)
            try:
                return self.store.create_face_set(record, self.settings.max_face_sets)
            except TooManyFaceSets:
                raise FRSError("FRS.0305", f"at most {self.settings.max_face_sets} per project") from None
            except DuplicateFaceSet:
                raise FRSError("FRS.0301", name) from None
            except DuplicateFaceSetId:
                continue
        raise FRSError("FRS.0018")

    async def list(self, project_id: str) -> list[FaceSetRecord]:
        return await asyncio.to_thread(self.store.list_face_sets, project_id)

    async def get(self, project_id: str, name: str) -> FaceSetRecord:
        record = await asyncio.to_thread(self.store.get_face_set, project_id, name)
        if record is None:
            raise FRSError("FRS.0302", name[:64])
        return record

    async def delete(self, project_id: str, name: str) -> None:
        """The set, its faces and, when it is a person group, the persons left in no group with
        their faces (one transaction, the rule Tencent DeleteGroup follows: store/persons_sql.py
        _drop_set), then its vector index."""
        record = await self.get(project_id, name)
        if not await asyncio.to_thread(self.store.delete_face_set, project_id, name):
            raise FRSError("FRS.0302", name[:64])
        if self.indexes is not None:
            self.indexes.drop(record.key)
