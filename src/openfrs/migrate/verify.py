"""After the copy, both sides are read again: the same number of faces per set and of rows per
accounts table, every credential opening to the same secret key, and a sample of each set's
stored faces searched on the target's index (Milvus, or the in-process one a replica would build)
and on the source's index. A sampled face must come back as its own top hit (or tied with it:
the same photo enrolled twice) with every field equal, and the two top-k lists must agree (up to
an approximate index's misses, MIN_AGREEMENT). Person groups and persons: the same rows per
table, every group equal, every person equal in every field with the same set of groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.migrate.accounts import TABLES, table_counts
from openfrs.migrate.facesets import MAX_LISTED_CONFLICTS, face_digest
from openfrs.migrate.persons import GroupIndex, held_persons, iter_persons, person_digest
from openfrs.store.accounts import AccountSQL
from openfrs.store.base import MetadataStore
from openfrs.store.records import FaceSetRecord

TIE = 1e-4  # scores this close to the best are a tie (float32 inner products of equal vectors)
# Mean share of the source's top-k the target's top-k must hold, per set. Not 1: Milvus's HNSW is
# approximate (recall@10 0.905 and 0.955 measured at 50k synthetic faces per set, whose impostors
# crowd within 0.01 of each other); a copy gone wrong fails the own-top-hit and field checks.
MIN_AGREEMENT = 0.8


def verify_accounts(source: AccountSQL, target: AccountSQL, source_box, target_box,
                    now: float) -> tuple[dict, list[str]]:
    """({table: {"source": n, "target": n}}, mismatches)."""
    counts = {"source": table_counts(source, now), "target": table_counts(target, now)}
    tables = {table: {side: counts[side][table] for side in counts} for table in TABLES}
    problems = [f"accounts table {table}: {n['source']} row(s) in the source, {n['target']} in the target"
                for table, n in tables.items() if n["source"] != n["target"]]
    for credential in source.credentials():
        held = target.credential(credential.ak)
        sk = source_box.open(credential.sk_sealed, credential.ak)
        try:
            same = held is not None and target_box.open(held.sk_sealed, credential.ak) == sk
        except Exception:  # InvalidTag: sealed under another key
            same = False
        if not same:
            problems.append(f"credential {credential.ak} does not open to the source's secret key")
    return tables, problems


def verify_persons(source: MetadataStore, target: MetadataStore,
                   batch: int) -> tuple[dict, list[str]]:
    """({table: {"source": n, "target": n}}, mismatches)."""
    counts = {"source": source.person_counts(), "target": target.person_counts()}
    tables = {table: {side: counts[side][table] for side in counts} for table in counts["source"]}
    problems = [f"person table {table}: {n['source']} row(s) in the source, {n['target']} in the target"
                for table, n in tables.items() if n["source"] != n["target"]]
    theirs, ours = GroupIndex(target), GroupIndex(source)
    for group in ours.groups:
        held = theirs.by_id.get((group.project_id, group.group_id))
        if held is None or theirs.identity(held) != ours.identity(group):
            state = "is missing" if held is None else "differs"
            problems.append(f"group {group.project_id}/{group.group_id} {state} in the target")
    held_by_key = held_persons(target, batch)
    differ = []
    for page in iter_persons(source, batch):
        for person, times in page:
            where = f"person {person.project_id}/{person.person_id}"
            groups = sorted(m.group_id for m in person.groups)
            digest, held_groups = held_by_key.get((person.project_id, person.person_id), (None, None))
            if held_groups is None:
                differ.append(f"{where} is missing in the target")
            elif held_groups != groups:
                differ.append(f"{where} is in groups {groups} in the source, {held_groups} in the target")
            elif digest != person_digest(person, times):
                differ.append(f"{where} differs in the target")
    problems += differ[:MAX_LISTED_CONFLICTS]
    if len(differ) > MAX_LISTED_CONFLICTS:
        problems.append(f"{len(differ) - MAX_LISTED_CONFLICTS} more persons do not match")
    return tables, problems


def verify_face_set(record: FaceSetRecord, target_key: int, source: MetadataStore,
                    target: MetadataStore, source_index, target_index, samples: int,
                    top_k: int) -> tuple[dict, list[str]]:
    """(this set's figures, mismatches); the indexes are VectorIndex objects, or None (no search)."""
    where = f"face set {record.project_id}/{record.name}"
    report = {"source_faces": source.count_faces(record.key), "target_faces": target.count_faces(target_key),
              "target_rows": len(target.face_keys(target_key))}
    problems = []
    if len({*report.values()}) != 1:
        problems.append(f"{where}: {report['source_faces']} face(s) in the source, {report['target_faces']} "
                        f"counted and {report['target_rows']} stored in the target")
    if target_index is not None:
        report["target_vectors"] = len(target_index)
        if report["target_vectors"] != report["source_faces"]:
            problems.append(f"{where}: {report['target_vectors']} vector(s) in the target index for "
                            f"{report['source_faces']} face(s)")
    keys = source.face_keys(record.key)
    picked = np.unique(np.linspace(0, len(keys) - 1, min(samples, len(keys))).astype(int))  # spread out
    faces = source.faces_by_keys(record.key, [int(keys[i]) for i in picked] if len(keys) else [])
    own = agreement = 0.0
    for face in faces.values():
        held = target.get_face(target_key, face.face_id)
        if held is None or face_digest(held) != face_digest(face):
            state = "is missing" if held is None else "differs"
            problems.append(f"{where}: face {face.face_id} {state} in the target")
            continue
        if target_index is None:
            continue
        k = min(top_k, len(keys))
        found = _top(target, target_key, target_index, face.embedding, k)
        expected = _top(source, record.key, source_index, face.embedding, k)
        own += face.face_id in found.best
        agreement += found.agreement(expected)
    if faces and target_index is not None:
        report["searches"] = {"sampled": len(faces), "own_top_hit": int(own),
                              "top_k": min(top_k, len(keys)), "agreement": round(agreement / len(faces), 4)}
        if own < len(faces):
            problems.append(f"{where}: {len(faces) - int(own)} of {len(faces)} sampled faces are not "
                            "their own top hit on the target index")
        if agreement / len(faces) < MIN_AGREEMENT:
            problems.append(f"{where}: the target's top-{report['searches']['top_k']} agrees with the "
                            f"source's on {report['searches']['agreement']:.0%} only")
    return report, problems


@dataclass(frozen=True)
class Hits:
    """One search's top k as face ids (either side's keys differ), best first."""

    face_ids: list[str]
    scores: np.ndarray

    @property
    def best(self) -> set[str]:
        """The face ids tied for the top."""
        top = self.scores[0] - TIE
        return {f for f, score in zip(self.face_ids, self.scores, strict=True) if score >= top}

    def agreement(self, expected: Hits) -> float:
        """Share of `expected` found here, a hit counting as found when it is here or no better
        than our k-th (a tie or an approximate index's reordering at the cut, not a miss)."""
        if not expected.face_ids:
            return 1.0
        floor = self.scores[-1] + TIE if len(self.scores) else np.inf
        found = sum(f in self.face_ids or score <= floor
                    for f, score in zip(expected.face_ids, expected.scores, strict=True))
        return float(found) / len(expected.face_ids)


def _top(store: MetadataStore, set_key: int, index, vector: np.ndarray, k: int) -> Hits:
    ids, scores = index.search(vector, k)
    records = store.faces_by_keys(set_key, [int(i) for i in ids])
    return Hits([records[int(i)].face_id if int(i) in records else f"?{int(i)}" for i in ids], scores)
