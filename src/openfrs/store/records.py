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
