"""One import run on a data dir, through the service layer (no HTTP): check the source and the
target before anything is written, create the set if asked, skip what the set already holds,
enrol the rest and tell what became of each image."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.importer.enrol import Enroller
from openfrs.importer.outcomes import ImportResult
from openfrs.importer.sources import CsvSource, FolderSource, SourceError, SourceItem, open_source
from openfrs.media import ImageLimits
from openfrs.service.faces import FaceService
from openfrs.service.facesets import FaceSetService, FaceSetSpec, validate_name, validate_schema
from openfrs.service.setfaces import SetFaceService
from openfrs.service.tenancy import Tenancy
from openfrs.store.factory import open_index_registry, open_metadata_store
from openfrs.store.records import FaceSetRecord

SERVER_CAVEAT = ("note: a running `openfrs serve` on this data dir (or database) keeps its in-memory "
                 "index and will not find the imported faces until it is restarted")


class TargetError(Exception):
    """The data dir, project or face set cannot be used as asked: nothing is written."""


class EmptySource(Exception):
    """The source holds no image."""


@dataclass
class ImportRequest:
    source: Path
    face_set: str
    project: str = "default"
    create: bool = False
    field_types: dict[str, str] = field(default_factory=dict)
    capacity: int | None = None
    workers: int | None = None  # images in flight; None: the settings' inference workers
    limit: int | None = None  # enrol at most this many new images, then stop


def run_import(request: ImportRequest, settings: Settings, face_service: FaceService | None = None, *,
               notes: TextIO | None = None, progress: TextIO | None = None,
               on_enroller: Callable[[Enroller], None] | None = None) -> ImportResult:
    """`face_service`: a loaded FaceService to reuse (tests, benchmarks), else one is loaded and
    shut down here. `on_enroller` sees the enroller before it starts (a test may hook a stop)."""
    notes = notes or sys.stderr
    source = open_source(request.source)
    set_name = _checked(validate_name, request.face_set)
    if settings.embedded and not settings.data_dir.is_dir():
        raise TargetError(f"no data dir at {settings.data_dir} (give --data-dir, or start "
                          "`openfrs serve` once to make one)")
    with ExitStack() as stack:
        tenancy = Tenancy.from_settings(settings)
        stack.callback(tenancy.close)
        project_id, project_name = _project(tenancy, request.project, settings)
        store = open_metadata_store(settings)
        stack.callback(store.close)
        record = store.get_face_set(project_id, set_name)
        if record is None and not request.create:
            existing = ", ".join(s.name for s in store.list_face_sets(project_id)) or "none"
            raise TargetError(f"no face set {set_name!r} in project {project_name!r} (its sets: "
                              f"{existing}); --create makes it")
        schema = _schema(request, source, record, notes)
        if settings.vector_url is None:  # with Milvus the servers search what this adds
            print(SERVER_CAVEAT, file=notes, flush=True)
        scan = source.scan(schema)
        if not scan.items:
            raise EmptySource(f"{request.source}: no image found (jpg, jpeg, png, bmp, webp"
                              + (" in one sub-folder per person)" if source.kind == "folder" else ")"))

        if face_service is None:
            face_service = FaceService.from_settings(settings)
            stack.callback(face_service.pool.shutdown)
        # In-process: never loaded here (the store is what a server reads); Milvus: every add is
        # forwarded to the collections the servers search.
        indexes = open_index_registry(settings, store, face_service.model_dims(), snapshots=False)
        stack.callback(indexes.close)
        face_sets = FaceSetService(store, settings, face_service.embedder_version, indexes)
        set_faces = SetFaceService(face_sets, face_service, indexes)
        created = record is None
        if record is None:
            record = _create(face_sets, tenancy, project_id, set_name, schema, request.capacity)
            print(f"created face set {set_name!r} with fields {schema or 'none'}", file=notes)
        present = store.external_image_ids(record.key)
        _warn_capacity(scan.items, present, record.capacity - store.count_faces(record.key), notes)

        workers = request.workers or settings.inference_workers
        enroller = Enroller(set_faces, project_id, set_name, limits=ImageLimits.from_settings(settings),
                            max_bytes=settings.max_body_bytes, workers=workers, progress_stream=progress)
        if on_enroller is not None:
            on_enroller(enroller)
        started = time.monotonic()
        outcomes = enroller.run_blocking(scan.items, present, request.limit)
        result = ImportResult(str(request.source), project_id, project_name, set_name, created, workers,
                              outcomes, scan.ignored, scan.adapted, enroller.stop_reason,
                              time.monotonic() - started)
        tenancy.audit(project_id, "admin", "importFaces", f"faceset/{set_name}",
                      {"source": str(request.source), "stopped": result.stopped,
                       **{k: v for k, v in result.counts().items() if v}})
        return result


def _schema(request: ImportRequest, source: FolderSource | CsvSource, record: FaceSetRecord | None,
            notes: TextIO) -> dict[str, str]:
    """The fields the source's values are converted to: the existing set's (the CSV's columns
    must be among them), or those --create will declare."""
    if record is not None:
        source.check_fields(record.external_fields)
        if request.field_types or request.capacity is not None:
            print("note: --field-types and --capacity apply only to a set --create makes; "
                  "the set exists", file=notes)
        return record.external_fields
    schema = source.schema_to_create(request.field_types)
    _checked(validate_schema, {name: {"type": kind} for name, kind in schema.items()})
    return schema


def _create(face_sets: FaceSetService, tenancy: Tenancy, project_id: str, name: str,
            schema: dict[str, str], capacity: int | None) -> FaceSetRecord:
    spec = FaceSetSpec(name=name, capacity=capacity, fields=schema)
    record = _checked(asyncio.run, face_sets.create(project_id, spec))
    tenancy.audit(project_id, "admin", "createFaceSet", f"faceset/{name}",
                  {"face_set_id": record.face_set_id, "capacity": record.capacity, "by": "import"})
    return record


def _warn_capacity(items: list[SourceItem], present: set[str], room: int, notes: TextIO) -> None:
    new = {item.image_id for item in items if item.problem is None} - present - {None}
    if len(new) > room:
        print(f"warning: {len(new)} new image(s), room for {room} more face(s) in the set: the rest "
              "will be refused (FRS.0408)", file=notes)


def _checked(fn, *args):
    """A service-layer check whose FRSError here means a wrong argument, not a refused image."""
    try:
        return fn(*args)
    except FRSError as exc:
        raise TargetError(f"{exc.code}: {exc.message}") from None


def _project(tenancy: Tenancy, key: str, settings: Settings) -> tuple[str, str]:
    """(project_id, name) by id or name, as `openfrs admin` finds it. With auth off the server
    trusts the path's project id, so an unregistered one is taken as written."""
    project = tenancy.store.project(key)
    if project is not None:
        return project.project_id, project.name
    if not settings.auth_enabled:
        return key, key
    known = ", ".join(p.name for p in tenancy.store.projects()) or "none"
    raise TargetError(f"no project {key!r} (projects: {known}); `openfrs admin create-project NAME` "
                      "makes one")


__all__ = ["EmptySource", "ImportRequest", "SourceError", "TargetError", "run_import"]
