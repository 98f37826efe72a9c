"""`openfrs bench import` — bulk enrolment throughput, the same N LFW images (default 300) two ways
in one run: `openfrs import` (service layer, N images in flight) and POST
/v2/{project_id}/face-sets/{name}/faces against a real `openfrs serve` subprocess (auth off) with
--concurrency clients. Model loading and server start are outside the timings; each way gets a
few warm-up images first; with --rounds > 1 the medians are reported."""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from openfrs.benchmark.http_load import free_port, start_server
from openfrs.config import Settings
from openfrs.service.faces import FaceService

PROJECT = "bench"
WARMUP = 8


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--images", type=int, default=300, help="LFW images enrolled each way")
    group.add_argument("--rounds", type=int, default=1, help="repeat both ways, report medians")
    group.add_argument("--import-workers", type=int, default=None,
                       help="images in flight for the importer (default: OPENFRS_INFERENCE_WORKERS)")


def _lfw(root: Path, count: int) -> list[Path]:
    """The first `count` images, people in sorted order (as the identification bench reads them)."""
    paths = [path for person in sorted(p for p in root.iterdir() if p.is_dir())
             for path in sorted(person.glob("*.jpg"))]
    if len(paths) < count + WARMUP:
        raise SystemExit(f"{root}: {len(paths)} images, the bench needs {count + WARMUP}")
    return paths[:count + WARMUP]


def _linked_folder(paths: list[Path], folder: Path) -> Path:
    """A person-per-folder source of links to the LFW files (nothing copied)."""
    for path in paths:
        (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
        (folder / path.parent.name / path.name).symlink_to(path.resolve())
    return folder


def _importer(settings: Settings, face_service: FaceService, paths: list[Path], workdir: Path,
              workers: int | None) -> dict:
    from openfrs.importer.job import ImportRequest, run_import  # FastAPI & co. only when benched

    data_dir = workdir / "data"
    data_dir.mkdir()
    settings = settings.model_copy(update={"data_dir": data_dir, "auth": "off"})
    warm = _linked_folder(paths[:WARMUP], workdir / "warm")
    source = _linked_folder(paths[WARMUP:], workdir / "source")
    quiet = {"notes": io.StringIO(), "progress": io.StringIO()}
    run_import(ImportRequest(warm, "warm", PROJECT, create=True, workers=workers), settings,
               face_service, **quiet)
    result = run_import(ImportRequest(source, "bench", PROJECT, create=True, workers=workers), settings,
                        face_service, **quiet)
    counts = result.counts()
    return {"images_per_s": len(result.outcomes) / result.seconds, "seconds": result.seconds,
            "enrolled": counts["enrolled"], "workers": result.workers}


async def _post_all(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, int]:
    pending = iter(bodies)
    failures = 0
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(timeout=120) as client:
        async def worker() -> None:
            nonlocal failures
            for body in pending:
                response = await client.post(url, content=body, headers=headers)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, failures


def _http(model_dir: Path, paths: list[Path], workdir: Path, concurrency: int) -> dict:
    def body(path: Path, image_id: str) -> bytes:
        return json.dumps({"image_base64": base64.b64encode(path.read_bytes()).decode(),
                           "external_image_id": image_id, "single": True}).encode()

    bodies = [body(path, f"img{i:05d}") for i, path in enumerate(paths)]  # encoded before timing
    port = free_port()
    proc = start_server(port, workdir / "server-data", model_dir)
    base = f"http://127.0.0.1:{port}/v2/{PROJECT}/face-sets"
    try:
        for name in ("warm", "bench"):
            created = httpx.post(base, json={"face_set_name": name}, timeout=30)
            created.raise_for_status()
        asyncio.run(_post_all(f"{base}/warm/faces", bodies[:WARMUP], concurrency))
        seconds, failures = asyncio.run(_post_all(f"{base}/bench/faces", bodies[WARMUP:], concurrency))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"images_per_s": (len(bodies) - WARMUP) / seconds, "seconds": seconds,
            "failures": failures, "concurrency": concurrency}


def run(args: argparse.Namespace, settings: Settings) -> dict:
    paths = _lfw(args.data / "lfw-partial" / "images", args.images)
    face_service = FaceService.from_settings(settings)
    imports, posts = [], []
    try:
        for round_ in range(max(1, args.rounds)):
            with tempfile.TemporaryDirectory() as tmp:
                imports.append(_importer(settings, face_service, paths, Path(tmp), args.import_workers))
            with tempfile.TemporaryDirectory() as tmp:
                posts.append(_http(settings.model_dir, paths, Path(tmp), args.concurrency))
            print(f"round {round_ + 1}: import {imports[-1]['images_per_s']:.1f} images/s, "
                  f"HTTP add-face {posts[-1]['images_per_s']:.1f} images/s", file=sys.stderr)
    finally:
        face_service.pool.shutdown()
    ours = statistics.median(r["images_per_s"] for r in imports)
    http = statistics.median(r["images_per_s"] for r in posts)
    return {"images": args.images, "cpus": os.cpu_count(), "rounds": len(imports),
            "import": {"images_per_s": ours, "workers": imports[0]["workers"], "runs": imports},
            "http_add_face": {"images_per_s": http, "concurrency": args.concurrency, "runs": posts},
            "import_over_http": ours / http}
