"""1:N search over several person groups, per face or per person, and 1:1 verification against a
person (Tencent IAI's SearchFaces / SearchPersons and their ReturnsByGroup forms, VerifyFace /
VerifyPerson), on the groups' own face-set indexes.

Per-person search takes its candidate persons from face-level retrieval: each group's index gives
its `CANDIDATE_FACTOR` x limit nearest faces, those are grouped by person, and each candidate is
scored by the person's fused feature (the renormalised mean of its face embeddings, persons.fused)
against the probe; no second index is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openfrs.errors import FRSError
from openfrs.media.picture import Picture
from openfrs.service.persons import PersonError, PersonService, fused, similarity
from openfrs.service.quality_gate import Limits
from openfrs.store.records import GroupRecord, PersonRecord
from openfrs.vision.types import Face

CANDIDATE_FACTOR = 5


@dataclass(frozen=True)
class Candidate:
    similarity: float  # calibrated 0-1
    face_id: str | None  # None for a person-level candidate
    person: PersonRecord | None  # None for a face added without a person (FRS add-face)
    group_id: str


@dataclass(frozen=True)
class ProbeResult:
    """One probe face: its candidates (best first), or the quality gate's reasons to refuse it."""

    face: Face
    refused: list[str]
    candidates: list[Candidate]


@dataclass(frozen=True)
class GroupSearch:
    groups: list[GroupRecord]
    faces: int  # distinct faces in the searched groups (a person's face in two of them: once)
    persons: int  # distinct persons in the searched groups (one in two of them: once)
    results: list[ProbeResult]


class GroupSearchService:
    def __init__(self, persons: PersonService) -> None:
        self.persons = persons
        self.store = persons.store

    async def _groups(self, project_id: str, group_ids: Sequence[str]) -> list[GroupRecord]:
        groups = [await self.persons.group(project_id, group_id) for group_id in dict.fromkeys(group_ids)]
        if len({group.model_version for group in groups}) > 1:
            raise PersonError("mixed_versions", "the groups hold faces of different models")
        return groups

    async def search(
        self,
        project_id: str,
        group_ids: Sequence[str],
        image: np.ndarray | Picture,
        *,
        per_person: bool,
        limit: int,
        by_group: bool = False,
        max_faces: int = 1,
        min_similarity: float = 0.0,
        quality: Limits | None = None,
    ) -> GroupSearch:
        """The `limit` best candidates per probe face (per group when `by_group`), at least
        `min_similarity`: one per person (its best face, or its fused feature when `per_person`),
        faces without a person on their own."""
        groups = await self._groups(project_id, group_ids)
        probes = await self.persons.embed(image, groups[0].model_version, quality, max_faces)
        persons, faces = await asyncio.to_thread(self.store.groups_counts, [g.set_key for g in groups])
        if not faces:
            raise PersonError("no_faces_in_groups", "the groups hold no face")
        results = []
        for face, reasons in probes:
            found: list[Candidate] = []
            if not reasons:
                found = await self._candidates(project_id, groups, face.embedding, limit, per_person)
            found = [c for c in found if c.similarity >= min_similarity]
            if by_group:
                picked = [
                    c for group in groups for c in [x for x in found if x.group_id == group.group_id][:limit]
                ]
            else:
                picked = _one_per_person(found)[:limit]
            results.append(ProbeResult(face, reasons, picked))
        return GroupSearch(groups, faces, persons, results)

    async def _candidates(
        self, project_id: str, groups: list[GroupRecord], query: np.ndarray, limit: int, per_person: bool
    ) -> list[Candidate]:
        """Best first; per group, one candidate per person (or anonymous face)."""
        k = limit * CANDIDATE_FACTOR if per_person else limit * 2
        hits = [
            (group, await self.persons.faces.pool.run(self.persons._nearest, group, query, k))
            for group in groups
        ]
        owners = await asyncio.to_thread(
            self.store.persons_of_faces,
            project_id,
            [record.face_id for _, found in hits for record, _ in found],
        )
        out = []
        for group, found in hits:
            seen: set[str] = set()
            for record, sim in found:
                owner = owners.get(record.face_id)
                if owner is not None and all(g.set_key != group.set_key for g in owner.groups):
                    owner = None  # a face id reused by an FRS add-face: not this person's
                key = owner.person_id if owner is not None else f"face:{record.face_id}"
                if key in seen:
                    continue
                seen.add(key)
                if per_person:
                    if owner is None:
                        continue
                    sim = float(similarity(group.model_version, float(fused(owner) @ query))[0])
                out.append(Candidate(sim, None if per_person else record.face_id, owner, group.group_id))
        out.sort(key=lambda c: -c.similarity)
        return out

    async def verify(
        self,
        project_id: str,
        person_id: str,
        image: np.ndarray | Picture,
        *,
        per_person: bool,
        quality: Limits | None = None,
    ) -> tuple[float, PersonRecord]:
        """The probe's largest face against the person: its best face, or its fused feature."""
        person = await self.persons.person(project_id, person_id)
        if not person.faces:
            raise PersonError("no_faces_in_groups", "the person has no face")
        model = person.faces[0].model_version
        ((face, reasons),) = await self.persons.embed(image, model, quality)
        if reasons:
            raise FRSError("FRS.0307", ", ".join(reasons))
        if per_person:
            cosine = float(fused(person) @ face.embedding)
        else:
            cosine = float(np.max(np.stack([f.embedding for f in person.faces]) @ face.embedding))
        return float(similarity(model, cosine)[0]), person


def _one_per_person(candidates: list[Candidate]) -> list[Candidate]:
    """Across groups, a person (or an anonymous face) once, at its best (candidates sorted)."""
    seen: set[str] = set()
    out = []
    for c in candidates:
        key = c.person.person_id if c.person is not None else f"face:{c.face_id}"
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
