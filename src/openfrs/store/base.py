"""The metadata-store interface the services use, and the outcomes they must tell apart.

SQLiteMetadataStore (store/sqlite.py) implements it for the embedded default; a PostgreSQL store
implements the same methods, so services and the index registry never change with the backend.
Every write is one transaction, durable when the method returns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from openfrs.store.query import Expr
from openfrs.store.records import FaceRecord, FaceSetRecord


class DuplicateFaceSet(Exception):
    """A face set with this name already exists in the project."""


class TooManyFaceSets(Exception):
    """The project already has as many face sets as its limit allows."""


class FaceSetFull(Exception):
    """Adding these faces would take the set past its capacity."""


class DuplicateFaceSetId(Exception):
    """The random face_set_id collided with another set's; the caller draws a new one."""


class MetadataStore(Protocol):
    """Face sets and faces per project: the source of truth every vector index is rebuilt from.
    Face keys are unique across the store, never reused, and a stored embedding never changes."""

    def close(self) -> None: ...

    # face sets
    def create_face_set(self, record: FaceSetRecord, limit: int | None = None) -> FaceSetRecord:
        """Raises TooManyFaceSets, DuplicateFaceSet or DuplicateFaceSetId."""

    def get_face_set(self, project_id: str, name: str) -> FaceSetRecord | None: ...
    def list_face_sets(self, project_id: str) -> list[FaceSetRecord]: ...
    def delete_face_set(self, project_id: str, name: str) -> bool: ...
    def face_set_keys(self) -> list[int]: ...
    def face_set_counts(self) -> list[tuple[str, str, int]]: ...
    def face_set_model(self, set_key: int) -> str | None: ...

    # faces
    def add_faces(self, set_key: int, faces: list[FaceRecord],
                  capacity: int | None = None) -> list[FaceRecord]:
        """All or nothing; raises FaceSetFull. Returns the faces with their keys."""

    def count_faces(self, set_key: int) -> int: ...
    def external_image_ids(self, set_key: int) -> set[str]:
        """Every external_image_id the set holds (a bulk import skips those already enrolled)."""

    def get_face(self, set_key: int, face_id: str) -> FaceRecord | None: ...
    def list_faces(self, set_key: int, offset: int, limit: int,
                   expr: Expr | None = None) -> list[FaceRecord]: ...
    def faces_by_keys(self, set_key: int, keys: list[int]) -> dict[int, FaceRecord]: ...
    def keys_matching(self, set_key: int, expr: Expr | None = None) -> np.ndarray: ...
    def update_face(self, set_key: int, face_id: str, external_image_id: str | None,
                    fields: dict | None) -> bool:
        """Merges `fields` into the stored ones (None removes a field); False if no such face."""

    def delete_faces(self, set_key: int, keys: Sequence[int] | np.ndarray) -> int: ...

    # what vector indexes are built and checked from
    def face_keys(self, set_key: int) -> np.ndarray: ...
    def iter_embeddings(self, set_key: int, keys: np.ndarray | None = None,
                        batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...


class GroupConflict(Exception):
    """Another group of the project has this id (args[0] == "id") or this name ("name")."""


class PersonExists(Exception):
    """A person with this id already exists in the project."""


class UnknownPerson(Exception):
    """No person with this id in the project."""


class UnknownGroup(Exception):
    """No group with this id in the project."""


class MembershipConflict(Exception):
    """The person is already in the group (args[0] == "member") or not in it ("not_member")."""


class PersonLimit(Exception):
    """A per-person limit would be passed: args = ("faces" | "groups" | "last_face", limit)."""
