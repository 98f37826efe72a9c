"""Cold start of one face set's index in a fresh process: time to the first answer and memory.

Run by `openfrs bench search` (``run_fresh``) as `python -m openfrs.benchmark.cold_start QUERY.npy
sqlite DB INDEX_DIR|- SET_KEY` (embedded: snapshot or rebuild) or `... QUERY.npy milvus URI PG_URL
SCHEMA SET_KEY` (a new replica attaching to the existing collection, reconciling it with
PostgreSQL by key diff); prints one JSON object. A separate process so the figures include reading
the files and nothing the benchmark process already had in memory (except the OS page cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

MILVUS_PREFIX = "bench"  # the benchmark's collections: bench_set_<key>


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def run_fresh(workdir: Path, query, args: list[str], env: dict[str, str] | None = None) -> dict:
    """Run this module in a new process (``args`` after the query file); its JSON result."""
    import numpy as np

    np.save(workdir / "query.npy", query)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    out = subprocess.run([sys.executable, "-m", "openfrs.benchmark.cold_start",
                          str(workdir / "query.npy"), *args],
                         capture_output=True, text=True, env=env, check=True, timeout=3600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def open_registry(kind: str, args: list[str], **milvus_options):
    """(store, registry, set_key) from the command line after the query file."""
    from openfrs.service.indexes import IndexRegistry

    if kind == "sqlite":
        from openfrs.store.sqlite import SQLiteMetadataStore

        db, index_dir, set_key = args
        store = SQLiteMetadataStore(Path(db))
        return store, IndexRegistry(store, Path(index_dir) if index_dir != "-" else None), int(set_key)
    from openfrs.store.postgres import PostgresMetadataStore

    uri, pg_url, schema, set_key = args
    store = PostgresMetadataStore(pg_url, schema)
    return store, IndexRegistry.shared(store, uri, prefix=MILVUS_PREFIX, **milvus_options), int(set_key)


def measure(query_file: Path, kind: str, args: list[str]) -> dict:
    import numpy as np

    query = np.load(query_file)
    import faiss  # noqa: F401  (loaded before the baseline, as a running server has it)

    if kind == "milvus":
        import psycopg  # noqa: F401
        import pymilvus  # noqa: F401  (likewise)

    before = rss_bytes()
    started = time.perf_counter()
    store, registry, set_key = open_registry(kind, args)
    index = registry.get(set_key)
    attached = time.perf_counter() - started
    index.search(query, 10)
    first_answer = time.perf_counter() - started
    after = rss_bytes()
    backend = index.serving_kind
    graph_ready = None
    migrates = len(index) >= getattr(index, "threshold", len(index) + 1)
    if backend == "exact" and migrates and os.environ.get("WAIT_GRAPH"):
        index.wait_migrated()
        graph_ready = time.perf_counter() - started
    faces = len(index)
    if kind == "milvus":
        registry.close()
    return {"faces": faces, "first_answer_s": first_answer, "load_or_attach_s": attached,
            "backend_at_first_answer": backend, "graph_ready_s": graph_ready,
            "index_rss_bytes": after - before, "rss_bytes_per_face": (after - before) / max(faces, 1)}


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])))
