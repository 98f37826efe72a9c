"""Plain records the metadata store reads and writes; no SQL, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FaceSetRecord:
    """One face set of one project (tenant). `key` is the store's internal id."""

    key: int
    project_id: str
    name: str
    face_set_id: str  # 8 random characters, as FRS returns
    capacity: int
    external_fields: dict[str, str]  # field name -> FRS type (string, integer, ...)
    model_version: str  # every face in the set was embedded by this model
    created_at: str
    face_number: int = 0


@dataclass(frozen=True)
class FaceRecord:
    """One enrolled face. `key` doubles as its id in the set's vector index."""

    face_id: str
    external_image_id: str
    bounding_box: tuple[int, int, int, int]  # x, y, width, height
    embedding: np.ndarray  # float32, L2-normalised
    fields: dict[str, object] = field(default_factory=dict)
    model_version: str = ""
    created_at: str = ""
    key: int = 0


@dataclass(frozen=True)
class GroupRecord:
    """A face set that is also a person group (Tencent's 人员库): its own id, name, tag and the
    names of up to five per-person description fields. `set_key` is the face set's key."""

    set_key: int
    project_id: str
    group_id: str
    name: str
    tag: str = ""
    descriptions: tuple[str, ...] = ()
    created_ms: int = 0
    updated_ms: int = 0
    model_version: str = ""
    face_number: int = 0


@dataclass(frozen=True)
class PersonFaceRecord:
    """One photo's face of a person: stored once, copied as a FaceRecord into each of its groups."""

    face_id: str
    embedding: np.ndarray  # float32, L2-normalised
    bounding_box: tuple[int, int, int, int]
    model_version: str
    created_at: str = ""


@dataclass(frozen=True)
class MembershipRecord:
    """A person in a group, with that group's description values by field index."""

    set_key: int
    group_id: str
    descriptions: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonRecord:
    """A person of a project (unique id per project), with its faces and groups."""

    project_id: str
    person_id: str
    name: str
    gender: int = 0  # 0 unset, 1 male, 2 female
    created_ms: int = 0
    key: int = 0
    faces: tuple[PersonFaceRecord, ...] = ()
    groups: tuple[MembershipRecord, ...] = ()
