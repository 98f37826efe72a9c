"""Person groups and persons (Tencent IAI's 人员库 / 人员) on face sets: typed use cases, no surface
fields. A group is a face set of the project with a group row; a person has up to `max_faces`
faces and is in 1 to `max_groups` groups; its faces are stored once and copied into each group's
face set (same face_id), so every group is searched by the face-set index path unchanged. The
metadata transaction commits first (the source of truth), the vector indexes follow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from openfrs.errors import FRSError
from openfrs.media.picture import Picture
from openfrs.service.attributes import QUALITY
from openfrs.service.facesets import _NAME
from openfrs.service.indexes import index_or_undo
from openfrs.service.params import random_id
from openfrs.service.quality_gate import Limits, refusal_reasons
from openfrs.service.setfaces import SetFaceService
from openfrs.store import base
from openfrs.store.records import FaceRecord, FaceSetRecord, GroupRecord, PersonFaceRecord, PersonRecord
from openfrs.vision.calibration_tables import calibration_for
from openfrs.vision.types import Face

UNREADABLE = ("FRS.0013", "FRS.0015", "FRS.0016")  # media/decode.py: size, format, corrupt


@dataclass(frozen=True)
class PersonLimits:
    """Tencent's documented limits, as defaults (tencent-iai.md §5)."""

    max_faces: int = 5  # per person
    max_groups: int = 100  # groups a person is in
    max_descriptions: int = 5  # description fields per group
    max_add_images: int = 4  # images per add-faces call


class PersonError(Exception):
    """A refusal of the person/group rules; each surface maps `kind` to its own code."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


@dataclass(frozen=True)
class GroupSpec:
    group_id: str
    name: str
    tag: str = ""
    descriptions: tuple[str, ...] = ()  # names of the per-person description fields


@dataclass(frozen=True)
class NewPerson:
    person_id: str
    name: str
    gender: int = 0  # 0 unset, 1 male, 2 female
    descriptions: Mapping[int, str] = field(default_factory=dict)  # by the group's field index


@dataclass(frozen=True)
class Enrolled:
    """A created person, or (nothing created) the id of an existing look-alike."""

    person: PersonRecord | None
    face: Face | None
    similar_person_id: str | None = None


@dataclass(frozen=True)
class FaceOutcome:
    """One image of a batch enrolment: status "ok", "no_face", "quality" or "not_similar"."""

    status: str
    face_id: str | None = None
    face: Face | None = None


def _ms() -> int:
    return int(time.time() * 1000)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _box(face: Face) -> tuple[int, int, int, int]:
    box = face.box
    return (int(round(box.x1)), int(round(box.y1)), int(round(box.width)), int(round(box.height)))


def similarity(model_version: str, cosines: np.ndarray | float) -> np.ndarray:
    """Calibrated 0-1 similarity of cosines under a model's scale."""
    return np.atleast_1d(calibration_for(model_version).similarity(np.clip(cosines, -1.0, 1.0)))


def fused(person: PersonRecord) -> np.ndarray:
    """The person's feature: the renormalised mean of its face embeddings."""
    mean = np.mean(np.stack([face.embedding for face in person.faces]), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


class PersonService:
    """Groups and persons of a project over the face-set service, store and index registry."""

    def __init__(self, set_faces: SetFaceService, limits: PersonLimits = PersonLimits()) -> None:
        self.set_faces = set_faces
        self.faces = set_faces.faces
        self.store = set_faces.store
        self.indexes = set_faces.indexes
        self.settings = set_faces.face_sets.settings
        self.limits = limits

    async def _call(self, method, *args):
        """A store call off the event loop, its refusals as PersonError."""
        try:
            return await asyncio.to_thread(method, *args)
        except base.UnknownPerson as exc:
            raise PersonError("person_not_found", f"no person {str(exc)[:64]!r}") from None
        except base.UnknownGroup as exc:
            raise PersonError("group_not_found", f"no group {str(exc)[:64]!r}") from None
        except base.PersonExists as exc:
            raise PersonError("person_exists", f"person {str(exc)[:64]!r} exists") from None
        except base.GroupConflict as exc:
            kind = {"id": "group_exists", "name": "group_name_exists", "index": "descriptions_exceeded"}.get(
                exc.args[0], "description_conflict"
            )
            raise PersonError(kind, f"group {exc.args[0]} taken or invalid") from None
        except base.MembershipConflict as exc:
            kind = "already_member" if exc.args[0] == "member" else "not_member"
            raise PersonError(
                kind,
                "the person is already in the group"
                if kind == "already_member"
                else "the person is not in the group",
            ) from None
        except base.PersonLimit as exc:
            kind = {"faces": "too_many_faces", "groups": "too_many_groups", "last_face": "last_face"}[
                exc.args[0]
            ]
            raise PersonError(kind, f"limit {exc.args[1]}") from None
        except base.FaceSetFull:
            raise PersonError("group_full", "the group is at its capacity") from None
        except base.TooManyFaceSets:
            raise PersonError(
                "project_groups_exceeded", f"at most {self.settings.max_face_sets} face sets per project"
            ) from None

    # -- groups -------------------------------------------------------------------------

    async def create_group(self, project_id: str, spec: GroupSpec) -> GroupRecord:
        """The group's face set is named by its id where FRS's name rule allows, else g-<random>."""
        if len(spec.descriptions) > self.limits.max_descriptions:
            raise PersonError("descriptions_exceeded", f"at most {self.limits.max_descriptions} fields")
        if len(set(spec.descriptions)) != len(spec.descriptions):
            raise PersonError("description_conflict", "description field names must differ")
        now = _ms()
        group = GroupRecord(
            0, project_id, spec.group_id, spec.name, spec.tag, tuple(spec.descriptions), now, now
        )
        for attempt in range(5):
            name = spec.group_id if attempt == 0 and _NAME.fullmatch(spec.group_id) else f"g-{random_id(8)}"
            face_set = FaceSetRecord(
                key=0,
                project_id=project_id,
                name=name,
                face_set_id=random_id(8),
                capacity=self.settings.max_face_set_capacity,
                external_fields={},
                model_version=self.set_faces.face_sets.model_version,
                created_at=_now(),
            )
            try:
                return await self._call(self.store.create_group, face_set, group, self.settings.max_face_sets)
            except (base.DuplicateFaceSet, base.DuplicateFaceSetId):
                continue
        raise FRSError("FRS.0018")

    async def group(self, project_id: str, group_id: str) -> GroupRecord:
        found = await asyncio.to_thread(self.store.get_group, project_id, group_id)
        if found is None:
            raise PersonError("group_not_found", f"no group {group_id[:64]!r}")
        return found

    async def list_groups(self, project_id: str, offset: int, limit: int) -> tuple[list[GroupRecord], int]:
        return await asyncio.to_thread(self.store.list_groups, project_id, offset, limit)

    async def modify_group(
        self,
        project_id: str,
        group_id: str,
        name: str | None,
        tag: str | None,
        descriptions: Mapping[int, str],
    ) -> GroupRecord:
        if any(index >= self.limits.max_descriptions for index in descriptions):
            raise PersonError("descriptions_exceeded", f"at most {self.limits.max_descriptions} fields")
        return await self._call(self.store.update_group, project_id, group_id, name, tag, descriptions, _ms())

    async def delete_group(self, project_id: str, group_id: str) -> None:
        """The group, its memberships and faces; persons in no group any more go too."""
        set_key = await asyncio.to_thread(self.store.delete_group, project_id, group_id)
        if set_key is None:
            raise PersonError("group_not_found", f"no group {group_id[:64]!r}")
        self.indexes.drop(set_key)

    async def group_members(
        self, project_id: str, group_id: str, offset: int, limit: int
    ) -> tuple[GroupRecord, list[PersonRecord], int, int]:
        """(group, a page of its persons, person count, face count)."""
        return await self._members(await self.group(project_id, group_id), offset, limit)

    async def _members(
        self, group: GroupRecord, offset: int, limit: int
    ) -> tuple[GroupRecord, list[PersonRecord], int, int]:
        persons = await asyncio.to_thread(self.store.group_persons, group.set_key, offset, limit)
        counts = await asyncio.to_thread(self.store.group_counts, group.set_key)
        return group, persons, *counts

    async def group_counts(self, project_id: str, group_id: str) -> tuple[int, int]:
        group = await self.group(project_id, group_id)
        return await asyncio.to_thread(self.store.group_counts, group.set_key)

    # -- faces of images ----------------------------------------------------------------

    async def embed(
        self, image: np.ndarray | Picture, model_version: str, quality: Limits | None, limit: int = 1
    ) -> list[tuple[Face, list[str]]]:
        """The `limit` largest faces with embeddings, each with the quality gate's reasons to
        refuse it (empty: accepted); FRS.0404-style no-face error when there is none."""
        if not self.faces.has_model(model_version):
            raise FRSError(
                "FRS.0306", f"set {model_version}, loaded {', '.join(self.faces.pipeline.recognisers)}"
            )
        codes = frozenset({QUALITY}) if quality else frozenset()
        detected = await self.faces.pool.run(
            self.faces.embedded_faces_blocking, image, limit == 1, codes, model_version
        )
        if not detected:
            raise self.faces.no_face("FRS.0404")
        return [(face, refusal_reasons(face, quality) if quality else []) for face in detected[:limit]]

    async def _index(self, stored: Mapping[int, Sequence[FaceRecord]], undo: Callable[[], object]) -> None:
        """Index faces just committed (off the loop: Milvus is I/O), or take the change back out
        of the store with `undo` (service/indexes.index_or_undo)."""
        await asyncio.to_thread(index_or_undo, lambda: self._add_vectors(stored), undo, "a person change")

    def _add_vectors(self, stored: Mapping[int, Sequence[FaceRecord]]) -> None:
        for set_key, records in stored.items():
            if records:
                self.indexes.add(
                    set_key,
                    np.array([r.key for r in records], np.int64),
                    np.stack([r.embedding for r in records]),
                )

    async def _unindex(self, removed: Mapping[int, Sequence[int]]) -> None:
        """Vectors of faces already deleted from the store; a stale one left in an index by a
        failure here is never answered (search drops keys the store no longer has)."""
        await asyncio.to_thread(self._remove_vectors, removed)

    def _remove_vectors(self, removed: Mapping[int, Sequence[int]]) -> None:
        for set_key, keys in removed.items():
            if len(keys):
                self.indexes.remove(set_key, np.array(keys, np.int64))

    async def _new_face_id(self, project_id: str) -> str:
        for _ in range(5):
            face_id = random_id(8)
            if not await asyncio.to_thread(self.store.face_id_taken, project_id, face_id):
                return face_id
        raise FRSError("FRS.0018")

    # -- persons ------------------------------------------------------------------------

    async def create_person(
        self,
        project_id: str,
        group_id: str,
        person: NewPerson,
        image: np.ndarray | Picture,
        quality: Limits | None = None,
        unique_similarity: float | None = None,
    ) -> Enrolled:
        """The person with the image's largest face, in one group. With `unique_similarity`, a
        person of the group already matching at that similarity is returned instead, and nothing
        is created ("unique person" check)."""
        group = await self.group(project_id, group_id)
        self._check_descriptions(group, person.descriptions)
        ((face, reasons),) = await self.embed(image, group.model_version, quality)
        if reasons:
            raise FRSError("FRS.0307", ", ".join(reasons))
        if unique_similarity is not None:
            hits = await self.faces.pool.run(self._nearest, group, face.embedding, 1)
            if hits and hits[0][1] >= unique_similarity:
                owner = await asyncio.to_thread(self.store.persons_of_faces, project_id, [hits[0][0].face_id])
                if owner:
                    return Enrolled(None, face, next(iter(owner.values())).person_id)
        record = PersonRecord(
            project_id,
            person.person_id,
            person.name,
            person.gender,
            _ms(),
            faces=(self._person_face(await self._new_face_id(project_id), face, group.model_version),),
        )
        created, set_key, stored = await self._call(
            self.store.create_person, record, group_id, dict(person.descriptions)
        )
        await self._index({set_key: stored}, lambda: self.store.delete_person(project_id, person.person_id))
        return Enrolled(created, face)

    def _person_face(self, face_id: str, face: Face, model_version: str) -> PersonFaceRecord:
        return PersonFaceRecord(
            face_id, np.asarray(face.embedding, np.float32), _box(face), model_version, _now()
        )

    def _check_descriptions(self, group: GroupRecord, values: Mapping[int, str]) -> None:
        if any(index < 0 or index >= len(group.descriptions) for index in values):
            raise PersonError(
                "description_index", f"the group declares {len(group.descriptions)} description field(s)"
            )

    def _nearest(self, group: GroupRecord, query: np.ndarray, k: int) -> list[tuple[FaceRecord, float]]:
        """The group's k nearest faces with calibrated similarities, best first; blocks."""
        keys, cosines = self.indexes.get(group.set_key).search(query, k)
        if not len(keys):
            return []
        records = self.store.faces_by_keys(group.set_key, [int(k) for k in keys])
        sims = similarity(group.model_version, np.asarray(cosines))
        return [
            (records[int(key)], float(s)) for key, s in zip(keys, sims, strict=True) if int(key) in records
        ]

    async def person(self, project_id: str, person_id: str) -> PersonRecord:
        found = await asyncio.to_thread(self.store.get_person, project_id, person_id)
        if found is None:
            raise PersonError("person_not_found", f"no person {person_id[:64]!r}")
        return found

    async def delete_person(self, project_id: str, person_id: str) -> None:
        await self._unindex(await self._call(self.store.delete_person, project_id, person_id))

    async def leave_group(self, project_id: str, person_id: str, group_id: str) -> bool:
        """Out of one group; True when that was its last group and the person is deleted."""
        set_key, keys, gone = await self._call(self.store.leave_group, project_id, person_id, group_id)
        await self._unindex({set_key: keys})
        return gone

    async def copy_person(self, project_id: str, person_id: str, group_ids: Sequence[str]) -> list[str]:
        """Into more groups (descriptions are not copied); all or nothing. The groups joined."""
        person = await self.person(project_id, person_id)
        for group_id in dict.fromkeys(group_ids):
            group = await self.group(project_id, group_id)
            if person.faces and group.model_version != person.faces[0].model_version:
                raise PersonError("mixed_versions", f"group {group_id[:64]!r} holds another model's faces")
        stored = await self._call(
            self.store.join_groups, project_id, person_id, list(group_ids), self.limits.max_groups, _ms()
        )
        joined = list(dict.fromkeys(group_ids))

        def undo() -> None:
            for group_id in joined:
                self.store.leave_group(project_id, person_id, group_id)

        await self._index(stored, undo)
        return joined

    async def modify_person(
        self, project_id: str, person_id: str, name: str | None, gender: int | None
    ) -> None:
        await self._call(self.store.update_person, project_id, person_id, name, gender)

    async def modify_membership(
        self, project_id: str, person_id: str, group_id: str, descriptions: Mapping[int, str]
    ) -> None:
        group = await self.group(project_id, group_id)
        self._check_descriptions(group, descriptions)
        await self._call(self.store.update_membership, project_id, person_id, group_id, dict(descriptions))

    async def add_faces(
        self,
        project_id: str,
        person_id: str,
        images: Sequence[np.ndarray | Picture | None],
        quality: Limits | None = None,
        min_similarity: float = 0.0,
    ) -> list[FaceOutcome]:
        """Batch enrolment with a status per image (None: an image that could not be decoded is
        the caller's "decode" status): each image's largest face, kept when it passes the quality
        gate and matches one of the person's faces at `min_similarity`; the kept ones are stored
        together (all or nothing against the per-person limit)."""
        if len(images) > self.limits.max_add_images:
            raise PersonError("too_many_images", f"at most {self.limits.max_add_images} images per call")
        person = await self.person(project_id, person_id)
        if len(person.faces) + len(images) > self.limits.max_faces:
            raise PersonError("too_many_faces", f"a person has at most {self.limits.max_faces} faces")
        model = person.faces[0].model_version
        outcomes: list[FaceOutcome] = []
        new: list[PersonFaceRecord] = []
        for image in images:
            if image is None:
                outcomes.append(FaceOutcome("decode"))
                continue
            try:
                ((face, reasons),) = await self.embed(image, model, quality)
            except FRSError as error:
                if error.code not in UNREADABLE and error.code != "FRS.0404":
                    raise
                outcomes.append(FaceOutcome("no_face" if error.code == "FRS.0404" else "decode"))
                continue
            if reasons:
                outcomes.append(FaceOutcome("quality", face=face))
                continue
            best = float(
                similarity(model, np.stack([f.embedding for f in person.faces]) @ face.embedding).max()
            )
            if best < min_similarity:
                outcomes.append(FaceOutcome("not_similar", face=face))
                continue
            record = self._person_face(await self._new_face_id(project_id), face, model)
            new.append(record)
            outcomes.append(FaceOutcome("ok", record.face_id, face))
        if new:
            stored = await self._call(
                self.store.add_person_faces, project_id, person_id, new, self.limits.max_faces
            )
            ids = [record.face_id for record in new]
            await self._index(stored, lambda: self.store.delete_person_faces(project_id, person_id, ids))
        return outcomes

    async def delete_faces(self, project_id: str, person_id: str, face_ids: Sequence[str]) -> list[str]:
        """Those of the ids the person has; the last face cannot go."""
        gone, removed = await self._call(
            self.store.delete_person_faces, project_id, person_id, list(face_ids)
        )
        await self._unindex(removed)
        return gone

    # -- read only, for the FRS surface's group and person extensions ----------------------

    async def groups_of_sets(self, set_keys: Sequence[int]) -> dict[int, GroupRecord]:
        """The groups among these face sets, by set key (plain FRS sets are absent)."""
        if not set_keys:
            return {}
        return await asyncio.to_thread(self.store.groups_of_sets, list(set_keys))

    async def face_person_ids(self, set_key: int, face_ids: Sequence[str]) -> dict[str, str]:
        """face_id -> PersonId for the faces of a set that belong to a person in it, in one
        batched look-up (a reply's faces, not one query each)."""
        if not face_ids:
            return {}
        return await asyncio.to_thread(self.store.face_person_ids, set_key, list(face_ids))

    async def set_members(
        self, project_id: str, set_name: str, offset: int, limit: int
    ) -> tuple[FaceSetRecord, GroupRecord | None, list[PersonRecord], int]:
        """(face set, its group or None, a page of its persons in GetPersonList's order, person
        count); a set that is no group has none. FRS.0302 for an unknown set, as FRS answers."""
        face_set = await self.set_faces.face_sets.get(project_id, set_name)
        group = (await self.groups_of_sets([face_set.key])).get(face_set.key)
        if group is None:
            return face_set, None, [], 0
        _, persons, total, _ = await self._members(group, offset, limit)
        return face_set, group, persons, total
