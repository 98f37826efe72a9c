"""1:N identification on LFW-style folders through the service's real face-set path.

Verification (1:1) says little about search: a face set adds the vector index, the store and
the API's largest-face rule. So every image is enrolled into one face set exactly as
POST .../faces does, and every image of a person with two or more images is searched back as
the API's search does, with its own enrolled face left out of the ranking."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from openfrs.benchmark.timing import percentiles_ms
from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media import ImageLimits, decode_image
from openfrs.service.faces import FaceService
from openfrs.service.facesets import FaceSetService, FaceSetSpec
from openfrs.service.indexes import IndexRegistry
from openfrs.service.search_params import SearchParams
from openfrs.service.setfaces import NewFaces, SetFaceService
from openfrs.store.sqlite import SQLiteMetadataStore

PROJECT = "bench"
SET_NAME = "lfw"
TOP_N = 10
MAX_MISSES = 20


def _images(images_root: Path, limit_people: int | None) -> list[tuple[str, Path]]:
    """(person, path) for every image; identity is the folder name, people in sorted order."""
    people = sorted(p for p in images_root.iterdir() if p.is_dir())[:limit_people]
    return [(person.name, path) for person in people for path in sorted(person.glob("*.jpg"))]


def lfw_identification(settings: Settings, images_root: Path, workdir: Path,
                       limit_people: int | None = None) -> dict:
    """Enroll every image (largest face), search with each image of a person who has >= 2 and
    report rank-1/rank-5 and timings. A probe without a face or without a hit is a miss."""
    workdir.mkdir(parents=True, exist_ok=True)
    images = _images(images_root, limit_people)
    counts: dict[str, int] = {}
    for person, _ in images:
        counts[person] = counts.get(person, 0) + 1
    ids = {f"img{i:05d}": item for i, item in enumerate(images)}  # LFW names exceed 36 chars
    limits = ImageLimits.from_settings(settings)

    face_service = FaceService.from_settings(settings)
    store = SQLiteMetadataStore(workdir / "openfrs.db")
    indexes = IndexRegistry(store, workdir / "indexes", dims=face_service.model_dims())
    face_sets = FaceSetService(store, settings, face_service.embedder_version, indexes)
    set_faces = SetFaceService(face_sets, face_service, indexes)

    async def main() -> dict:
        await face_sets.create(PROJECT, FaceSetSpec(SET_NAME, settings.max_face_set_capacity))
        decoded = {i: decode_image(path.read_bytes(), limits) for i, (_, path) in ids.items()}
        enrol_seconds: list[float] = []
        failures: list[str] = []
        start = time.perf_counter()
        for image_id, image in decoded.items():
            t0 = time.perf_counter()
            try:
                await set_faces.add(PROJECT, SET_NAME, image, NewFaces(image_id, single=True))
            except FRSError as exc:
                if exc.code != "FRS.0404":
                    raise
                failures.append(ids[image_id][1].name)
            enrol_seconds.append(time.perf_counter() - t0)
        enrol_s = time.perf_counter() - start

        params = SearchParams(top_n=TOP_N)
        search_seconds: list[float] = []
        rank1 = rank5 = probes = 0
        misses: list[str] = []
        start = time.perf_counter()
        for image_id, (person, path) in ids.items():
            if counts[person] < 2:
                continue
            probes += 1
            t0 = time.perf_counter()
            try:
                hits = await set_faces.search(PROJECT, SET_NAME, params, decoded[image_id])
            except FRSError as exc:
                if exc.code != "FRS.0304":
                    raise
                hits = []
            search_seconds.append(time.perf_counter() - t0)
            ranked = [ids[h.face.external_image_id][0] for h in hits
                      if h.face.external_image_id != image_id]
            rank1 += bool(ranked) and ranked[0] == person
            rank5 += person in ranked[:5]
            if (not ranked or ranked[0] != person) and len(misses) < MAX_MISSES:
                misses.append(f"{path.name} -> {ranked[0] if ranked else 'no face/no hit'}")
        search_s = time.perf_counter() - start
        return {
            "images": len(ids), "people": len(counts),
            "enrolled_faces": len(ids) - len(failures), "enrol_failures": failures,
            "probes": probes,
            "rank1": rank1 / probes if probes else 0.0,
            "rank5": rank5 / probes if probes else 0.0,
            "rank1_correct": rank1, "misses": misses,
            "search_ms": percentiles_ms(search_seconds) if search_seconds else None,
            "enrol_ms": percentiles_ms(enrol_seconds) if enrol_seconds else None,
            "enrol_total_s": enrol_s, "search_total_s": search_s,
            "face_rule": "largest face (single=true), as the API",
        }

    try:
        return asyncio.run(main())
    finally:
        face_service.pool.shutdown()
        indexes.close()
        store.close()
