"""Copy person groups, persons, their faces and memberships (store/persons_sql.py) by natural keys:
a group by (project_id, group_id) on its face set by (project_id, name), a person by (project_id,
person_id) with its faces (by face_id, in order) and its memberships (by group_id).

A group is a face set with a group row, and a person's faces are also faces of its groups' sets
(the same face_id): facesets.py copies those sets and faces as it copies any other, so this module
writes, after the sets, only the rows that make them groups and persons. A group row the target
lacks is written on its set; one it holds must be equal in every field and be on the same set. A
person the target lacks is written whole (faces, memberships), `batch` persons per transaction
(all or none of a batch lands); one it holds must be equal in every field, face and membership.
Conflicts refuse the run before anything is written; an interrupted run leaves whole groups and
persons, so the next writes only those missing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from openfrs.migrate.facesets import MAX_LISTED_CONFLICTS, all_sets
from openfrs.migrate.source import Refused
from openfrs.store.base import GroupConflict, MetadataStore, PersonExists
from openfrs.store.records import GroupRecord, PersonRecord

TABLES = ("person_groups", "persons", "person_faces", "memberships")
GROUP_PAGE = 1000
Person = tuple[PersonRecord, tuple[int, ...]]  # with its memberships' created_ms (persons_page)
PersonKey = tuple[str, str]  # (project_id, person_id)


@dataclass
class PersonsPlan:
    """The group rows the target lacks (with their set's name), the persons it holds equal, and
    `counts[table]`: (rows in the source, rows present)."""

    groups: list[tuple[GroupRecord, str]] = field(default_factory=list)
    present: set[PersonKey] = field(default_factory=set)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def all_groups(store: MetadataStore) -> list[GroupRecord]:
    """Every group of every project."""
    groups: list[GroupRecord] = []
    for project_id in sorted({project_id for project_id, _, _ in store.face_set_counts()}):
        found: list[GroupRecord] = []
        while page := store.list_groups(project_id, len(found), GROUP_PAGE)[0]:
            found += page
        groups += found
    return groups


def iter_persons(store: MetadataStore, batch: int) -> Iterator[list[Person]]:
    """Every person of every project, whole, in key order, `batch` at a time."""
    after = 0
    while page := store.persons_page(after, batch):
        yield page
        after = page[-1][0].key


def person_digest(person: PersonRecord, times: tuple[int, ...]) -> bytes:
    """Everything a person holds but its store keys: memberships by group id."""
    members = sorted(([m.group_id, {str(i): v for i, v in m.descriptions.items()}, at]
                      for m, at in zip(person.groups, times, strict=True)), key=lambda m: m[0])
    faces = [[f.face_id, list(f.bounding_box), f.model_version, f.created_at] for f in person.faces]
    text = json.dumps([person.project_id, person.person_id, person.name, person.gender,
                       person.created_ms, faces, members], sort_keys=True)
    vectors = b"".join(np.asarray(f.embedding, np.float32).tobytes() for f in person.faces)
    return hashlib.sha256(text.encode() + vectors).digest()


def held_persons(store: MetadataStore, batch: int) -> dict[PersonKey, tuple[bytes, list[str]]]:
    """Every person's digest and sorted group ids, by natural key."""
    return {(p.project_id, p.person_id): (person_digest(p, times), sorted(m.group_id for m in p.groups))
            for page in iter_persons(store, batch) for p, times in page}


class GroupIndex:
    """A store's groups by natural key, each with the name of its face set."""

    def __init__(self, store: MetadataStore) -> None:
        names = {record.key: record.name for record in all_sets(store)}
        self.groups = all_groups(store)
        self.set_name = {(g.project_id, g.group_id): names[g.set_key] for g in self.groups}
        self.by_id = {(g.project_id, g.group_id): g for g in self.groups}
        self.by_name = {(g.project_id, g.name): g for g in self.groups}
        self.by_set = {(g.project_id, self.set_name[(g.project_id, g.group_id)]): g for g in self.groups}

    def identity(self, group: GroupRecord) -> tuple:
        """Every field of the group row, its face set by name (the key differs on either side)."""
        return (group.project_id, group.group_id, group.name, group.tag, group.descriptions,
                group.created_ms, group.updated_ms, self.set_name[(group.project_id, group.group_id)])

    def differences(self, source: GroupIndex) -> tuple[list[tuple[GroupRecord, str]], list[str]]:
        """(the source's groups this index lacks, with their set's name; those it holds
        differently, under the group's id, name or set)."""
        missing, conflicts = [], []
        for group in source.groups:
            key = (group.project_id, group.group_id)
            where = f"group {group.project_id}/{group.group_id} (face set {source.set_name[key]})"
            held = self.by_id.get(key)
            if held is None:
                other = (self.by_name.get((group.project_id, group.name))
                         or self.by_set.get((group.project_id, source.set_name[key])))
                if other is None:
                    missing.append((group, source.set_name[key]))
                else:
                    conflicts.append(f"{where}: its name or face set is group {other.group_id} in the target")
            elif self.identity(held) != source.identity(group):
                conflicts.append(f"{where} differs in the target (name, tag, descriptions, times or set)")
        return missing, conflicts


def plan_persons(source: MetadataStore, target: MetadataStore, batch: int) -> PersonsPlan:
    """What the target lacks and what it holds differently; nothing is written."""
    plan = PersonsPlan()
    theirs, ours = GroupIndex(target), GroupIndex(source)
    plan.groups, plan.conflicts = theirs.differences(ours)
    for record in all_sets(source):  # a plain set of the source is a group in the target
        other = theirs.by_set.get((record.project_id, record.name))
        if other is not None and (record.project_id, record.name) not in ours.by_set:
            plan.conflicts.append(f"face set {record.project_id}/{record.name} is group "
                                  f"{other.group_id} in the target, a plain face set in the source")
    plan.counts["person_groups"] = (len(ours.groups), len(ours.groups) - len(plan.groups))
    held = held_persons(target, batch)
    totals = {table: [0, 0] for table in TABLES[1:]}
    differ = []
    for page in iter_persons(source, batch):
        for person, times in page:
            key = (person.project_id, person.person_id)
            found = held.get(key)
            equal = found is not None and found[0] == person_digest(person, times)
            if found is not None and not equal:
                differ.append(f"person {key[0]}/{key[1]}")
            if equal:
                plan.present.add(key)
            for table, rows in zip(TABLES[1:], (1, len(person.faces), len(person.groups)), strict=True):
                totals[table][0] += rows
                totals[table][1] += rows if equal else 0
    plan.counts.update({table: (n, present) for table, (n, present) in totals.items()})
    plan.conflicts += [f"{where} differs in the target" for where in differ[:MAX_LISTED_CONFLICTS]]
    if len(differ) > MAX_LISTED_CONFLICTS:
        plan.conflicts.append(f"{len(differ) - MAX_LISTED_CONFLICTS} more persons differ in the target")
    return plan


def copy_persons(plan: PersonsPlan, source: MetadataStore, target: MetadataStore,
                 batch: int) -> dict[str, int]:
    """Writes the group rows, then the persons, the plan found missing (their sets are copied
    already); returns how many rows per table."""
    copied = dict.fromkeys(TABLES, 0)
    try:
        for group, set_name in plan.groups:
            held = target.get_face_set(group.project_id, set_name)
            assert held is not None  # facesets.py copied every set of the source
            target.insert_group_row(replace(group, set_key=held.key))
            copied["person_groups"] += 1
        keys = {(g.project_id, g.group_id): g.set_key for g in all_groups(target)}
        for page in iter_persons(source, batch):
            new = [(_rekeyed(person, keys), times) for person, times in page
                   if (person.project_id, person.person_id) not in plan.present]
            if new:
                target.insert_persons(new)
            for person, _ in new:
                copied["persons"] += 1
                copied["person_faces"] += len(person.faces)
                copied["memberships"] += len(person.groups)
    except (GroupConflict, PersonExists) as taken:  # written by someone else since the plan
        raise Refused(f"the target changed while migrating ({type(taken).__name__}: {taken}): run "
                      "again to compare it") from None
    return copied


def _rekeyed(person: PersonRecord, set_keys: dict[tuple[str, str], int]) -> PersonRecord:
    """The person with the target's keys of its groups' sets."""
    groups = tuple(replace(m, set_key=set_keys[(person.project_id, m.group_id)]) for m in person.groups)
    return replace(person, key=0, groups=groups)
