"""`openfrs bench search` — 1:N search at scale on synthetic faces, and identification on LFW.

Synthetic part, per size and backend (``--backend embedded|milvus|both``): the same
identity-clustered embeddings (store/synthetic.py; random vectors would make HNSW recall
meaningless) and probes go through a real metadata store and index registry, as the add-face path
commits them (benchmark/synthetic_set.py measures both backends the same way). Embedded: SQLite +
in-process faiss (tiered exact -> HNSW), here. Milvus: PostgreSQL + a Milvus server the benchmark
starts (benchmark/search_milvus.py). Measured: add throughput (bulk batches and single-face
commits), time until the HNSW graph serves, search p50/p99 at top_n 10 (index alone, and index +
the metadata read a search response needs), recall@10 against exact search, filtered search
keeping 2% and 10% of the set, memory and disk per face, and cold start to the first answer in a
fresh process.

Real part: every lfw-partial image enrolled through the face-set service, every image of a person
with another photo used as a probe (benchmark/identification.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from openfrs.benchmark import cold_start, search_milvus
from openfrs.benchmark.synthetic_set import (
    K,
    SyntheticData,
    bulk_add,
    filtered,
    new_set,
    search_figures,
    single_adds,
    with_records_ms,
)
from openfrs.config import Settings
from openfrs.service.indexes import DEFAULT_DIM, IndexRegistry
from openfrs.store.sqlite import SQLiteMetadataStore

BACKENDS = ("embedded", "milvus")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated set sizes for the synthetic runs (0: none)")
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both",
                        help="embedded: SQLite + in-process faiss; milvus: PostgreSQL + a Milvus "
                             "server the benchmark starts; both (default): each size on both")
    parser.add_argument("--dim", type=int, default=DEFAULT_DIM, help="embedding dimension")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--filtered-queries", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--no-lfw", action="store_true", help="skip the lfw-partial identification run")
    search_milvus.add_arguments(parser)


def run(args: argparse.Namespace, settings: Settings) -> dict:
    sizes = [int(s) for s in str(args.sizes).split(",") if int(s) > 0]
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    result: dict[str, object] = {"cpus": os.cpu_count(), "dim": args.dim, "backends": list(backends),
                                 "synthetic": []}
    started = time.monotonic()
    for n in sizes:
        data = SyntheticData.make(n, args.queries, args.dim)
        figures: dict[str, object] = {"faces": n}
        result["synthetic"].append(figures)  # type: ignore[union-attr]
        for backend in backends:
            with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
                if backend == "embedded":
                    figures[backend] = embedded_run(data, args.filtered_queries, Path(tmp))
                else:
                    figures[backend] = search_milvus.milvus_run(data, args, Path(tmp))
            result["duration_s"] = time.monotonic() - started
            print(json.dumps({"faces": n, backend: figures[backend]}), file=sys.stderr, flush=True)
            if args.json:  # a long run keeps what it measured so far
                args.json.write_text(json.dumps(result, indent=2, default=float) + "\n")
        del data
    lfw = args.data / "lfw-partial/images"
    if not args.no_lfw and lfw.is_dir():
        from openfrs.benchmark.identification import lfw_identification

        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            result["lfw_identification"] = lfw_identification(settings, lfw, Path(tmp))
    result["duration_s"] = time.monotonic() - started
    return result


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _cold_start(workdir: Path, set_key: int, query: np.ndarray, snapshot: bool, wait_graph: bool) -> dict:
    index_dir = str(workdir / "indexes") if snapshot else "-"
    return cold_start.run_fresh(workdir, query, ["sqlite", str(workdir / "openfrs.db"), index_dir,
                                                 str(set_key)], {"WAIT_GRAPH": "1"} if wait_graph else {})


def embedded_run(data: SyntheticData, n_filtered: int, workdir: Path) -> dict:
    n = data.vectors.shape[0]
    store = SQLiteMetadataStore(workdir / "openfrs.db")
    registry = IndexRegistry(store, workdir / "indexes")
    set_key = new_set(store, "synthetic", n)
    index = registry.get(set_key)
    out: dict[str, object] = {"faces": n, "queries": len(data.queries), "top_n": K}

    keys, out["bulk_add_faces_per_s"] = bulk_add(store, registry, set_key, data)
    began = time.perf_counter()
    if hasattr(index, "wait_migrated") and n >= getattr(index, "threshold", n + 1):
        index.wait_migrated()
    out["graph_ready_after_last_add_s"] = time.perf_counter() - began
    out["backend"] = index.serving_kind
    out["single_face_add_ms"] = single_adds(store, registry, data)

    out.update(search_figures(index, data, keys))
    out["search_with_records_ms"] = with_records_ms(store, index, set_key, data.queries)
    out["filtered"] = filtered(store, index, set_key, data, keys, n_filtered)

    # Footprint and cold start (fresh processes; the snapshot first, then a rebuild from the store).
    registry.maintain(force=True)
    out["disk_bytes_per_face"] = {
        "metadata_store": (workdir / "openfrs.db").stat().st_size / n,
        "index_snapshot": _folder_bytes(workdir / "indexes" / str(set_key)) / n,
    }
    store.close()
    out["cold_start_from_snapshot"] = _cold_start(workdir, set_key, data.queries[0], True, False)
    out["cold_start_rebuilt_from_store"] = _cold_start(workdir, set_key, data.queries[0], False,
                                                       n <= 200_000)
    out["memory_bytes_per_face"] = out["cold_start_from_snapshot"]["rss_bytes_per_face"]
    shutil.rmtree(workdir / "indexes", ignore_errors=True)
    return out
