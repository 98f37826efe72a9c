"""`openfrs bench search` — 1:N search at scale on synthetic faces, and identification on LFW.

Synthetic part, per size: identity-clustered embeddings (store/synthetic.py; random vectors
would make HNSW recall meaningless) go through the real metadata store and index registry, as the
add-face path commits them. Measured: add throughput (bulk batches and single-face commits, each
an fsync'd transaction), time until the HNSW graph serves, search p50/p99 at top_n 10 (index
alone, and index + the metadata read a search response needs), recall@10 against exact search,
filtered search (a 5% field filter, as FRS `filter` runs it), memory and disk per face, and cold
start to the first answer in a fresh process (from the snapshot, and rebuilt from the store).

Real part: every lfw-partial image enrolled through the face-set service, every image of a person
with another photo used as a probe (benchmark/identification.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from openfrs.benchmark.ground_truth import exact_topk, recall
from openfrs.benchmark.timing import percentiles_ms
from openfrs.config import Settings
from openfrs.service.filters import parse_filter
from openfrs.service.indexes import DEFAULT_DIM, IndexRegistry
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.sqlite import SQLiteMetadataStore
from openfrs.store.synthetic import clustered_embeddings, query_embeddings

GROUPS = 20  # the filtered search keeps one group: 5% of the set
BULK = 1_000  # faces per transaction in the bulk import
SINGLE_ADDS = 300  # one face per transaction, as one add-face request commits
K = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated set sizes for the synthetic runs (0: none)")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--filtered-queries", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--no-lfw", action="store_true", help="skip the lfw-partial identification run")


def run(args: argparse.Namespace, settings: Settings) -> dict:
    sizes = [int(s) for s in str(args.sizes).split(",") if int(s) > 0]
    result: dict[str, object] = {"cpus": os.cpu_count(), "synthetic": []}
    for n in sizes:
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            figures = synthetic_run(n, args.queries, args.filtered_queries, Path(tmp))
        result["synthetic"].append(figures)  # type: ignore[union-attr]
        print(json.dumps(figures), file=sys.stderr)
    lfw = args.data / "lfw-partial/images"
    if not args.no_lfw and lfw.is_dir():
        from openfrs.benchmark.identification import lfw_identification

        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            result["lfw_identification"] = lfw_identification(settings, lfw, Path(tmp))
    return result


def _records(vectors: np.ndarray, identity: np.ndarray, start: int) -> list[FaceRecord]:
    return [FaceRecord(face_id=f"{start + i:08x}", external_image_id=f"img{start + i}",
                       bounding_box=(0, 0, 100, 100), embedding=v,
                       fields={"group": int(who % GROUPS)}, model_version="bench")
            for i, (v, who) in enumerate(zip(vectors, identity, strict=True))]


def _new_set(store: SQLiteMetadataStore, name: str, capacity: int) -> int:
    record = FaceSetRecord(key=0, project_id="bench", name=name, face_set_id=name[:8],
                           capacity=capacity, external_fields={"group": "integer"},
                           model_version="bench", created_at="")
    return store.create_face_set(record).key


def _timed(fn, items) -> tuple[list, list[float]]:
    outputs, seconds = [], []
    for item in items:
        started = time.perf_counter()
        outputs.append(fn(item))
        seconds.append(time.perf_counter() - started)
    return outputs, seconds


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _cold_start(workdir: Path, set_key: int, query: np.ndarray, snapshot: bool, wait_graph: bool) -> dict:
    np.save(workdir / "query.npy", query)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **({"WAIT_GRAPH": "1"} if wait_graph else {})}
    out = subprocess.run(
        [sys.executable, "-m", "openfrs.benchmark.cold_start", str(workdir / "openfrs.db"),
         str(workdir / "indexes") if snapshot else "-", str(set_key), str(workdir / "query.npy")],
        capture_output=True, text=True, env=env, check=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic_run(n: int, n_queries: int, n_filtered: int, workdir: Path) -> dict:
    vectors, identity = clustered_embeddings(n, DEFAULT_DIM)
    queries, _ = query_embeddings(n_queries, n, DEFAULT_DIM)
    store = SQLiteMetadataStore(workdir / "openfrs.db")
    registry = IndexRegistry(store, workdir / "indexes")
    set_key = _new_set(store, "synthetic", n)
    index = registry.get(set_key)
    out: dict[str, object] = {"faces": n, "queries": n_queries, "top_n": K}

    # Bulk import, timed around the store commit + index update only (not record building).
    keys = np.empty(n, np.int64)
    spent = 0.0
    for start in range(0, n, BULK):
        records = _records(vectors[start:start + BULK], identity[start:start + BULK], start)
        began = time.perf_counter()
        stored = store.add_faces(set_key, records, capacity=n)
        batch = np.array([r.key for r in stored], np.int64)
        registry.add(set_key, batch, vectors[start:start + BULK])
        spent += time.perf_counter() - began
        keys[start:start + len(batch)] = batch
    out["bulk_add_faces_per_s"] = n / spent
    began = time.perf_counter()
    if hasattr(index, "wait_migrated") and n >= getattr(index, "threshold", n + 1):
        index.wait_migrated()
    out["graph_ready_after_last_add_s"] = time.perf_counter() - began
    out["backend"] = index.serving_kind

    singles_key = _new_set(store, "singles", SINGLE_ADDS)
    registry.get(singles_key)
    single = _records(vectors[:SINGLE_ADDS], identity[:SINGLE_ADDS], 0)

    def add_one(record: FaceRecord) -> None:
        (stored,) = store.add_faces(singles_key, [record], capacity=SINGLE_ADDS)
        registry.add(singles_key, np.array([stored.key]), record.embedding[None, :])

    _, seconds = _timed(add_one, single)
    out["single_face_add_ms"] = percentiles_ms(seconds)

    # Search: the index alone, then with the metadata read a response needs.
    truth = keys[exact_topk(vectors, queries, K)]
    found, seconds = _timed(lambda q: index.search(q, K)[0], queries)
    out["search_ms"] = percentiles_ms(seconds)
    out["recall_at_10"] = recall(found, truth)
    _, seconds = _timed(lambda q: store.faces_by_keys(set_key, index.search(q, K)[0].tolist()), queries)
    out["search_with_records_ms"] = percentiles_ms(seconds)

    # Filtered search, as a request with filter "group:3" runs it: SQL for the keys, then index.
    expr = parse_filter(f"group:{3}", {"group": "integer"})
    members = np.nonzero(identity % GROUPS == 3)[0]
    filtered_truth = keys[members[exact_topk(vectors[members], queries[:n_filtered], K)]]
    _, key_seconds = _timed(lambda q: store.keys_matching(set_key, expr), queries[:n_filtered])
    allowed = store.keys_matching(set_key, expr)
    found, index_seconds = _timed(lambda q: index.search(q, K, allowed)[0], queries[:n_filtered])
    out["filtered"] = {"share": members.size / n, "filter_keys_ms": percentiles_ms(key_seconds),
                       "index_ms": percentiles_ms(index_seconds),
                       "recall_at_10": recall(found, filtered_truth)}

    # Footprint and cold start (fresh processes; the snapshot first, then a rebuild from the store).
    registry.maintain(force=True)
    out["disk_bytes_per_face"] = {
        "metadata_store": (workdir / "openfrs.db").stat().st_size / n,
        "index_snapshot": _folder_bytes(workdir / "indexes" / str(set_key)) / n,
    }
    store.close()
    out["cold_start_from_snapshot"] = _cold_start(workdir, set_key, queries[0], True, False)
    out["cold_start_rebuilt_from_store"] = _cold_start(workdir, set_key, queries[0], False,
                                                       n <= 200_000)
    out["memory_bytes_per_face"] = out["cold_start_from_snapshot"]["rss_bytes_per_face"]
    shutil.rmtree(workdir / "indexes", ignore_errors=True)
    return out
