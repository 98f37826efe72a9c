"""One API replica's search load, for `openfrs bench search --backend milvus`: a process with its own
PostgreSQL store and IndexRegistry on the shared Milvus, running concurrent searchers.

Run as `python -m openfrs.benchmark.replica_load QUERIES.npy URI PG_URL SCHEMA SET_KEY CONSISTENCY
THREADS SECONDS` (CONSISTENCY: Strong as the service searches, or Bounded to see the servers'
own capacity without the time-tick wait): it attaches to the set, prints "ready", waits for a
line on stdin (so every replica starts at once), searches from THREADS threads for SECONDS, and
prints one JSON object. ``replica_throughput`` runs 1 and then 2 of them and reports searches/s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

TOP_N = 10


def search_load(index, queries, threads: int, seconds: float) -> dict:
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def searcher(slot: int) -> None:
        i = slot
        while time.monotonic() < deadline:
            index.search(queries[i % len(queries)], TOP_N)
            counts[slot] += 1
            i += threads

    started = time.monotonic()
    workers = [threading.Thread(target=searcher, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"searches": sum(counts), "seconds": time.monotonic() - started}


def replica_throughput(queries_file: Path, args: list[str], threads: int, seconds: float) -> dict:
    """Searches/s of 1 replica process, then of 2 at once (each with ``threads`` searchers)."""
    out: dict[str, object] = {"threads_per_replica": threads, "seconds": seconds}
    for replicas in (1, 2):
        procs = [subprocess.Popen([sys.executable, "-m", "openfrs.benchmark.replica_load",
                                   str(queries_file), *args, str(threads), str(seconds)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(replicas)]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [json.loads(proc.communicate(timeout=seconds + 600)[0].strip().splitlines()[-1])
                   for proc in procs]
        out[f"searches_per_s[{replicas}]"] = sum(r["searches"] / r["seconds"] for r in results)
    out["ratio_2_vs_1"] = out["searches_per_s[2]"] / out["searches_per_s[1]"]  # type: ignore[operator]
    return out


if __name__ == "__main__":
    import numpy as np

    from openfrs.benchmark.cold_start import open_registry

    queries = np.load(sys.argv[1])
    store, registry, set_key = open_registry("milvus", sys.argv[2:6], consistency=sys.argv[6])
    index = registry.get(set_key)
    index.search(queries[0], TOP_N)
    print("ready", flush=True)
    sys.stdin.readline()
    result = search_load(index, queries, int(sys.argv[7]), float(sys.argv[8]))
    registry.close()
    print(json.dumps(result), flush=True)
