"""One migration: open both sides, compare them by natural keys (refusing before any write if the
target holds something different), copy what is missing, verify, and sum it up as JSON."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from openfrs.config import Settings
from openfrs.migrate.accounts import AccountsCopy
from openfrs.migrate.facesets import SetPlan, copy_face_set, embedding_dims, plan_face_sets
from openfrs.migrate.persons import copy_persons, plan_persons
from openfrs.migrate.progress import CopyProgress
from openfrs.migrate.source import Refused, Source, open_source
from openfrs.migrate.verify import verify_accounts, verify_face_set, verify_persons
from openfrs.store.factory import location, open_accounts, open_index_registry, open_metadata_store
from openfrs.store.secret_box import SecretBox, load_master_key

NO_VECTORS = ("not copied: OPENFRS_VECTOR_URL is unset, so each replica rebuilds its in-memory "
              "index of a set from the database when it first loads it")


@dataclass
class MigrateRequest:
    source: Path
    key_file: Path | None = None  # the source's master key file (default: its secret.key)
    source_key: str | None = None  # or the key itself, base64 (OPENFRS_SOURCE_SECRET_KEY)
    batch: int = 1000  # faces (and persons, usage or audit rows) per transaction
    samples: int = 20  # faces searched per set when verifying
    top_k: int = 10


class Conflicts(Refused):
    """The target holds something different under one of the source's keys; nothing was written."""

    def __init__(self, conflicts: list[str]) -> None:
        super().__init__("the target holds different data under the source's keys, so nothing was "
                         "copied (migrate into an empty schema, before any server starts on it):\n  "
                         + "\n  ".join(conflicts))
        self.conflicts = conflicts


def run_migration(request: MigrateRequest, settings: Settings,
                  stream: TextIO | None = None) -> tuple[dict, list[str]]:
    """(the JSON summary, what did not match); raises Refused when it cannot (go on) copying."""
    stream = stream or sys.stderr
    if settings.embedded:
        raise Refused("the target is not scale-out: set OPENFRS_DATABASE_URL (and OPENFRS_SECRET_KEY, "
                      "OPENFRS_DATABASE_SCHEMA, OPENFRS_VECTOR_URL) as for `openfrs serve`")
    started, now = time.monotonic(), time.time()
    source = open_source(request.source, request.key_file, request.source_key)
    with ExitStack() as stack:
        stack.callback(source.close)
        target_meta, target_accounts = _open_target(settings, stack)
        target_box = SecretBox(load_master_key(settings.data_dir, settings.secret_key))
        accounts = (AccountsCopy(source.accounts, target_accounts, source.box, target_box, now)
                    if source.accounts is not None else None)
        account_plan = accounts.plan() if accounts is not None else None
        plans, conflicts = (plan_face_sets(source.metadata, target_meta, request.batch)
                            if source.metadata is not None else ([], []))
        person_plan = (plan_persons(source.metadata, target_meta, request.batch)
                       if source.metadata is not None else None)
        conflicts = ((account_plan.conflicts if account_plan else []) + conflicts
                     + (person_plan.conflicts if person_plan else []))
        if conflicts:
            raise Conflicts(conflicts)
        vectors = (f"Milvus at {settings.vector_url}, collections {settings.vector_prefix}_set_*"
                   if settings.vector_url else NO_VECTORS)
        summary: dict = {"source": str(Path(request.source).resolve()), "target": location(settings),
                         "vectors": vectors}
        dims = embedding_dims(source.metadata, [p.source for p in plans]) if source.metadata else {}
        registry = _open_registry(settings, target_meta, dims, stack)
        if registry is None:
            print(f"note: vectors {NO_VECTORS}", file=stream, flush=True)
        if accounts is not None and account_plan is not None:
            copied = accounts.copy(account_plan, request.batch)
            summary["accounts"] = {table: {"source": n, "present": present, "copied": copied[table]}
                                   for table, (n, present) in account_plan.counts.items()}
            print(f"accounts: {sum(copied.values())} row(s) copied", file=stream, flush=True)
        copy_started = time.monotonic()
        copies = _copy_sets(plans, source, target_meta, registry, request.batch, stream)
        copy_s = time.monotonic() - copy_started
        copied_faces = sum(c.copied for c in copies)
        rate = round(copied_faces / copy_s, 1) if copy_s > 0 and copied_faces else None
        summary["faces"] = {"source": sum(c.copied + c.present for c in copies), "copied": copied_faces,
                            "present": sum(c.present for c in copies), "copy_seconds": round(copy_s, 2),
                            "faces_per_s": rate}
        if person_plan is not None:  # after the sets: groups are rows on them, memberships too
            copied = copy_persons(person_plan, source.metadata, target_meta, request.batch)
            summary["persons"] = {table: {"source": n, "present": present, "copied": copied[table]}
                                  for table, (n, present) in person_plan.counts.items()}
            print(f"person groups and persons: {sum(copied.values())} row(s) copied", file=stream,
                  flush=True)
        mismatches = _verify(request, settings, source, target_meta, target_accounts, target_box,
                             registry, plans, copies, dims, now, summary)
    summary["seconds"] = round(time.monotonic() - started, 2)
    summary["verified"] = not mismatches
    summary["mismatches"] = mismatches
    return summary, mismatches


def _open_target(settings: Settings, stack: ExitStack):
    import psycopg

    try:
        metadata = open_metadata_store(settings)
        stack.callback(metadata.close)
        accounts = open_accounts(settings)
        stack.callback(accounts.close)
    except (psycopg.Error, OSError) as failed:
        first = str(failed).strip().splitlines()[0] if str(failed).strip() else type(failed).__name__
        raise Refused(f"cannot reach the target, {location(settings)}: {first}") from None
    return metadata, accounts


def _open_registry(settings: Settings, target_meta, dims: dict[str, int], stack: ExitStack):
    """The target's shared index registry (Milvus), opened before anything is written; None
    without OPENFRS_VECTOR_URL."""
    if settings.vector_url is None:
        return None
    from pymilvus import MilvusException

    try:
        registry = open_index_registry(settings, target_meta, dims)
    except MilvusException as failed:
        raise Refused(f"cannot reach Milvus at {settings.vector_url}: "
                      f"{getattr(failed, 'message', failed)}") from None
    stack.callback(registry.close)
    return registry


def _copy_sets(plans: list[SetPlan], source: Source, target, registry, batch: int, stream: TextIO):
    assert source.metadata is not None or not plans
    total = sum(source.metadata.count_faces(p.source.key) for p in plans) if plans else 0
    progress = CopyProgress(total, total, stream)
    counts = {"copied": 0, "present": 0}

    def on_batch(copied: int, present: int) -> None:
        counts["copied"] += copied
        counts["present"] += present
        progress.update(counts, counts["copied"] + counts["present"])

    copies = []
    for plan in plans:
        progress.note(f"face set {plan.source.project_id}/{plan.source.name}: "
                      f"{'copying' if plan.target is None else 'completing'}")
        copies.append(copy_face_set(plan, source.metadata, target, registry, batch, on_batch))
    progress.close(counts, counts["copied"] + counts["present"])
    return copies


def _verify(request: MigrateRequest, settings: Settings, source: Source, target_meta, target_accounts,
            target_box, registry, plans, copies, dims, now: float, summary: dict) -> list[str]:
    """Fills the summary's verification figures; returns the mismatches."""
    from openfrs.service.indexes import IndexRegistry

    mismatches: list[str] = []
    if source.accounts is not None:
        tables, problems = verify_accounts(source.accounts, target_accounts, source.box, target_box, now)
        for table, sides in tables.items():
            summary["accounts"][table]["target"] = sides["target"]
        mismatches += problems
    if source.metadata is not None:
        tables, problems = verify_persons(source.metadata, target_meta, request.batch)
        for table, sides in tables.items():
            summary["persons"][table]["target"] = sides["target"]
        mismatches += problems
    # The source's own index: its snapshot caught up with its store, in memory only (never saved:
    # the source data dir is left as it was). The target's: Milvus, or what a replica would build.
    source_indexes = IndexRegistry(source.metadata, source.index_dir, dims=dims) if plans else None
    target_indexes = registry or (IndexRegistry(target_meta, None, dims=dims) if plans else None)
    summary["face_sets"] = []
    for plan, copy in zip(plans, copies, strict=True):
        record = plan.source
        has_faces = source.metadata.count_faces(record.key) > 0
        report, problems = verify_face_set(
            record, copy.target_key, source.metadata, target_meta,
            source_indexes.get(record.key) if has_faces else None,
            target_indexes.get(copy.target_key) if has_faces else None, request.samples, request.top_k)
        summary["face_sets"].append({"project_id": record.project_id, "name": record.name,
                                     "face_set_id": record.face_set_id, "copied": copy.copied,
                                     "present": copy.present, **report})
        mismatches += problems
    return mismatches
