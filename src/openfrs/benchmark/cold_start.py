"""Cold start of one face set's index in a fresh process: time to the first answer and memory.

Run by `openfrs bench search` as `python -m openfrs.benchmark.cold_start DB INDEX_DIR SET_KEY
QUERY.npy`; prints one JSON object. A separate process so the figures include reading the files
and nothing the benchmark process already had in memory (except the OS page cache)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(db: Path, index_dir: Path | None, set_key: int, query_file: Path) -> dict:
    import numpy as np

    from openfrs.service.indexes import IndexRegistry
    from openfrs.store.sqlite import SQLiteMetadataStore

    query = np.load(query_file)
    import faiss  # noqa: F401  (loaded before the baseline, as a running server has it)

    before = rss_bytes()
    started = time.perf_counter()
    store = SQLiteMetadataStore(db)
    registry = IndexRegistry(store, index_dir)
    index = registry.get(set_key)
    index.search(query, 10)
    first_answer = time.perf_counter() - started
    after = rss_bytes()
    backend = index.serving_kind
    graph_ready = None
    migrates = len(index) >= getattr(index, "threshold", len(index) + 1)
    if backend == "exact" and migrates and os.environ.get("WAIT_GRAPH"):
        index.wait_migrated()
        graph_ready = time.perf_counter() - started
    return {"faces": len(index), "first_answer_s": first_answer, "backend_at_first_answer": backend,
            "graph_ready_s": graph_ready, "index_rss_bytes": after - before,
            "rss_bytes_per_face": (after - before) / max(len(index), 1)}


if __name__ == "__main__":
    db, index_dir, set_key, query_file = sys.argv[1:5]
    result = measure(Path(db), Path(index_dir) if index_dir != "-" else None, int(set_key),
                     Path(query_file))
    print(json.dumps(result))
