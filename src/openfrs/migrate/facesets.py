"""Copy face sets, faces and vectors by natural keys: a set by (project_id, name) with its
face_set_id, a face by face_id within its set.

A set the target lacks is created with every field of the source's; one it holds must be equal
in every field and hold no face the source lacks or holds differently, else the run is refused
before anything is written. Faces go in source key order, `batch` per transaction (all or none of
a batch lands, so an interrupted run leaves whole batches), and each committed batch is handed to
the target's IndexRegistry, which upserts it into the set's Milvus collection: the same path a
server's add takes, keyed by the target's face keys. A set the registry attaches is first
reconciled with the store by key diff, which catches up vectors an interrupted run committed but
never sent."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from openfrs.migrate.source import Refused
from openfrs.store.base import DuplicateFaceSet, DuplicateFaceSetId, MetadataStore
from openfrs.store.records import FaceRecord, FaceSetRecord

MAX_LISTED_CONFLICTS = 5  # per set: enough to see what differs


@dataclass
class SetPlan:
    source: FaceSetRecord
    target: FaceSetRecord | None  # None: the target lacks the set
    present: set[str] = field(default_factory=set)  # face ids the target holds, equal to the source's


def iter_faces(store: MetadataStore, set_key: int, batch: int) -> Iterator[list[FaceRecord]]:
    """A set's faces in key order, `batch` at a time (by key, not OFFSET: no re-reading)."""
    keys = store.face_keys(set_key)
    for start in range(0, len(keys), batch):
        chunk = [int(key) for key in keys[start:start + batch]]
        found = store.faces_by_keys(set_key, chunk)
        yield [found[key] for key in chunk if key in found]


def face_digest(face: FaceRecord) -> bytes:
    """Everything a face record holds but its store key (JSON as either database returns it)."""
    text = json.dumps([face.face_id, face.external_image_id, list(face.bounding_box),
                       face.fields, face.model_version, face.created_at],
                      sort_keys=True)
    return hashlib.sha256(text.encode() + np.asarray(face.embedding, np.float32).tobytes()).digest()


def _identity(record: FaceSetRecord) -> tuple:
    return (record.project_id, record.name, record.face_set_id, record.capacity,
            record.external_fields, record.model_version, record.created_at)


def all_sets(store: MetadataStore) -> list[FaceSetRecord]:
    """Every face set of every project, by (project_id, name)."""
    found = (store.get_face_set(project_id, name) for project_id, name, _ in store.face_set_counts())
    return [record for record in found if record is not None]


def plan_face_sets(source: MetadataStore, target: MetadataStore,
                   batch: int) -> tuple[list[SetPlan], list[str]]:
    """(one plan per source set, conflicts); nothing is written."""
    by_id = {record.face_set_id: record for record in all_sets(target)}
    plans, conflicts = [], []
    for record in all_sets(source):
        held = target.get_face_set(record.project_id, record.name)
        where = f"face set {record.project_id}/{record.name}"
        plan = SetPlan(record, held)
        plans.append(plan)
        if held is None:
            other = by_id.get(record.face_set_id)
            if other is not None:
                conflicts.append(f"{where}: its face_set_id {record.face_set_id} is face set "
                                 f"{other.project_id}/{other.name} in the target")
        elif _identity(held) != _identity(record):
            conflicts.append(f"{where} differs in the target (id, capacity, fields, model or time)")
        else:
            conflicts += _compare_faces(plan, source, target, batch, where)
    return plans, conflicts


def _compare_faces(plan: SetPlan, source: MetadataStore, target: MetadataStore, batch: int,
                   where: str) -> list[str]:
    """Fills plan.present; the faces the target holds differently, or holds and the source lacks."""
    assert plan.target is not None
    held = {face.face_id: face_digest(face)
            for faces in iter_faces(target, plan.target.key, batch) for face in faces}
    differ = []
    for faces in iter_faces(source, plan.source.key, batch):
        for face in faces:
            digest = held.pop(face.face_id, None)
            if digest is None:
                continue
            if digest == face_digest(face):
                plan.present.add(face.face_id)
            else:
                differ.append(face.face_id)
    conflicts = [f"{where}: face {face_id} differs in the target"
                 for face_id in differ[:MAX_LISTED_CONFLICTS]]
    if len(differ) > MAX_LISTED_CONFLICTS:
        conflicts.append(f"{where}: {len(differ) - MAX_LISTED_CONFLICTS} more faces differ")
    if held:
        conflicts.append(f"{where}: the target holds {len(held)} face(s) the source lacks "
                         f"(e.g. {sorted(held)[0]})")
    return conflicts


def embedding_dims(source: MetadataStore, sets: list[FaceSetRecord]) -> dict[str, int]:
    """Model version -> embedding dimension, from each set's first stored face: the target's
    collections must be made with the dimension of the vectors going into them."""
    dims: dict[str, int] = {}
    for record in sets:
        if record.model_version not in dims:
            for _, vectors in source.iter_embeddings(record.key, batch=1):
                dims[record.model_version] = int(vectors.shape[1])
                break
    return dims


@dataclass
class SetCopy:
    """How a set's copy went: faces written now, faces found already there."""

    target_key: int
    copied: int = 0
    present: int = 0


def copy_face_set(plan: SetPlan, source: MetadataStore, target: MetadataStore, registry, batch: int,
                  on_batch) -> SetCopy:
    """Creates the set if missing, then copies the faces it lacks (and their vectors when
    `registry` is a shared one); `on_batch(copied, present)` after each batch."""
    held = plan.target or _create(target, plan.source)
    result = SetCopy(held.key)
    if registry is not None and source.count_faces(plan.source.key):
        registry.get(held.key)  # attach the collection and catch up what a stopped run stored
    for faces in iter_faces(source, plan.source.key, batch):
        new = [replace(face, key=0) for face in faces if face.face_id not in plan.present]
        if new:
            stored = target.add_faces(held.key, new)
            if registry is not None:
                registry.add(held.key, np.array([f.key for f in stored], np.int64),
                             np.stack([f.embedding for f in stored]))
        result.copied += len(new)
        result.present += len(faces) - len(new)
        on_batch(len(new), len(faces) - len(new))
    return result


def _create(target: MetadataStore, record: FaceSetRecord) -> FaceSetRecord:
    try:
        return target.create_face_set(replace(record, key=0, face_number=0))
    except (DuplicateFaceSet, DuplicateFaceSetId):  # made by someone else since the plan
        raise Refused(f"face set {record.project_id}/{record.name} appeared in the target while "
                      "migrating: run again to compare it") from None
