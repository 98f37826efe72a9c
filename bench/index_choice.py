"""Choose the HNSW library for 1:N search by measurement: usearch vs faiss-cpu vs hnswlib.

Why a separate process per build: resident memory is measured as the VmRSS/RssAnon delta around
the build, and a process that already built (and freed) another index would reuse that memory and
under-report. The parent generates the identity-clustered data once (openfrs.store.synthetic),
computes exact top-10 ground truth, times the exact numpy backend, then runs one worker per
(library, size, M, ef_construction), which sweeps ef_search over the same queries.

    .venv/bin/python bench/index_choice.py --json bench/out/index_choice.json
    .venv/bin/python bench/index_choice.py --sizes 100000          # ~2 min
    .venv/bin/python bench/index_choice.py --libs openfrs --ef 384  # our HnswIndex + filters

Wall time on the 2-core box: ~2 min at 100k; each 1M build takes 5-13 min (faiss fastest,
usearch slowest), so the default three-library run is ~25 min on a shared machine.

Needs the candidates installed in the venv (not project dependencies):
    pip install usearch==2.26.6 faiss-cpu==1.15.1 hnswlib==0.8.0
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from openfrs.benchmark.ground_truth import exact_topk, recall
from openfrs.store.synthetic import clustered_embeddings, cosine_profile, query_embeddings
from openfrs.store.vectors import ExactIndex

K = 10
CANDIDATES = ("usearch", "faiss", "hnswlib")
LIBS = (*CANDIDATES, "openfrs")  # openfrs = our HnswIndex (faiss) incl. filtered search; opt-in
# (M, ef_construction) per size; 1M builds are ~minutes each on 2 cores, so fewer there.
DEFAULT_BUILDS = {100_000: [(16, 100), (32, 200)], 1_000_000: [(32, 200)]}
FALLBACK_BUILDS = [(32, 200)]
EF_SEARCH = (32, 64, 128, 256, 512)
FILTER_FRACTIONS = (0.005, 0.02, 0.1, 0.5)  # share of the set a pre-filtered search may return


def rss_kib() -> dict[str, int]:
    """VmRSS and RssAnon in KiB from /proc/self/status (Linux)."""
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                out[key] = int(value.split()[0])
    return out


def latency(search, queries: np.ndarray, warmup: int = 50) -> tuple[dict[str, float], list[np.ndarray]]:
    """Single-query latency percentiles (ms) and the returned ids, one query per call."""
    for q in queries[:warmup]:
        search(q)
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter_ns()
        ids = search(q)
        times.append(time.perf_counter_ns() - t0)
        found.append(np.asarray(ids, np.int64).ravel())
    ms = np.asarray(times) / 1e6
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}, found


# --- workers: one build per process -------------------------------------------------------------


def build_usearch(base: np.ndarray, m: int, efc: int, threads: int):
    from usearch.index import Index

    index = Index(ndim=base.shape[1], metric="ip", dtype="f32", connectivity=m, expansion_add=efc)
    index.add(np.arange(base.shape[0], dtype=np.uint64), base, threads=threads)

    def set_ef(ef: int) -> None:
        index.expansion_search = ef

    def search(q: np.ndarray) -> np.ndarray:
        return index.search(q, K, threads=1).keys

    return index, set_ef, search, int(index.memory_usage)


def build_faiss(base: np.ndarray, m: int, efc: int, threads: int):
    import faiss

    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = efc
    index.add(base)
    faiss.omp_set_num_threads(1)  # single queries: no OpenMP fan-out
    params = faiss.SearchParametersHNSW()

    def set_ef(ef: int) -> None:
        params.efSearch = ef

    def search(q: np.ndarray) -> np.ndarray:
        return index.search(q[None, :], K, params=params)[1][0]

    hnsw = index.hnsw
    own = base.nbytes + 4 * hnsw.neighbors.size() + 8 * hnsw.offsets.size() + 4 * hnsw.levels.size()
    return index, set_ef, search, int(own)


def build_hnswlib(base: np.ndarray, m: int, efc: int, threads: int):
    import hnswlib

    index = hnswlib.Index(space="ip", dim=base.shape[1])
    index.init_index(max_elements=base.shape[0], ef_construction=efc, M=m)
    index.set_num_threads(threads)
    index.add_items(base, np.arange(base.shape[0]))
    index.set_num_threads(1)

    def search(q: np.ndarray) -> np.ndarray:
        return index.knn_query(q, k=K)[0]

    return index, index.set_ef, search, int(index.index_file_size())


def build_openfrs(base: np.ndarray, m: int, efc: int, threads: int):
    from openfrs.store.vectors import HnswIndex

    index = HnswIndex(base.shape[1], m=m, ef_construction=efc)
    index.add(np.arange(base.shape[0], dtype=np.int64), base)

    def set_ef(ef: int) -> None:
        index.ef_search = ef

    def search(q: np.ndarray) -> np.ndarray:
        return index.search(q, K)[0]

    return index, set_ef, search, 0


def filtered(index, base: np.ndarray, queries: np.ndarray) -> list[dict]:
    """Pre-filtered search through our wrapper: latency and recall against exact on the subset."""
    rng = np.random.default_rng(0)
    rows = []
    for fraction in FILTER_FRACTIONS:
        allowed = np.sort(rng.choice(base.shape[0], int(base.shape[0] * fraction), replace=False))
        truth = allowed[exact_topk(base[allowed], queries)]
        lat, found = latency(lambda q, allowed=allowed: index.search(q, K, allowed)[0], queries, warmup=10)
        path = "exact" if allowed.size <= index._exact_limit(len(index)) else "graph"
        rows.append({"fraction": fraction, "path": path, **lat, "recall_at_10": recall(found, truth)})
    return rows


BUILDERS = {
    "usearch": build_usearch,
    "faiss": build_faiss,
    "hnswlib": build_hnswlib,
    "openfrs": build_openfrs,
}


def library_version(lib: str) -> str:
    from importlib.metadata import version

    return version({"faiss": "faiss-cpu", "openfrs": "faiss-cpu"}.get(lib, lib))


def worker(args: argparse.Namespace) -> None:
    data = Path(args.data_dir)
    base = np.load(data / "base.npy", mmap_mode="r")[: args.size]
    base = np.ascontiguousarray(base)  # resident before the baseline reading
    queries = np.load(data / "queries.npy")
    truth = np.load(data / f"truth_{args.size}.npy")
    before = rss_kib()
    t0 = time.perf_counter()
    index, set_ef, search, own_bytes = BUILDERS[args.lib](base, args.m, args.efc, args.threads)
    build_s = time.perf_counter() - t0
    after = rss_kib()
    rows = []
    for ef in args.ef:
        set_ef(ef)
        lat, found = latency(search, queries)
        rows.append({"ef_search": ef, **lat, "recall_at_10": recall(found, truth)})
    result = {
        "lib": args.lib,
        "version": library_version(args.lib),
        "size": args.size,
        "M": args.m,
        "ef_construction": args.efc,
        "build_s": build_s,
        "add_per_s": args.size / build_s,
        "rss_delta_bytes_per_face": (after["VmRSS"] - before["VmRSS"]) * 1024 / args.size,
        "anon_delta_bytes_per_face": (after["RssAnon"] - before["RssAnon"]) * 1024 / args.size,
        "lib_bytes_per_face": own_bytes / args.size,
        "search": rows,
    }
    if args.lib == "openfrs":
        index.ef_search = args.ef[-1] if args.filter_ef is None else args.filter_ef
        result["filtered_ef_search"] = index.ef_search
        result["filtered"] = filtered(index, base, queries[: args.filter_queries])
    print(json.dumps(result))


# --- parent -------------------------------------------------------------------------------------


def exact_backend(base: np.ndarray, queries: np.ndarray, truth: np.ndarray | None, n: int) -> dict:
    index = ExactIndex(base.shape[1])
    index.add(np.arange(n, dtype=np.int64), base[:n])
    lat, found = latency(lambda q: index.search(q, K)[0], queries)
    return {"size": n, **lat, "recall_at_10": recall(found, truth) if truth is not None else None}


def run_worker(args: argparse.Namespace, lib: str, size: int, m: int, efc: int) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", lib, "--size", str(size), "--m", str(m)]
    cmd += ["--efc", str(efc), "--data-dir", args.data_dir, "--threads", str(args.threads)]
    cmd += ["--ef", ",".join(map(str, args.ef)), "--filter-queries", str(args.filter_queries)]
    if args.filter_ef is not None:
        cmd += ["--filter-ef", str(args.filter_ef)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.worker_timeout)
    if done.returncode != 0:
        print(f"  {lib} failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def available(lib: str) -> bool:
    try:
        __import__({"openfrs": "faiss"}.get(lib, lib))
    except ImportError:
        return False
    return True


def print_table(results: list[dict], exact: list[dict]) -> None:
    print("\nexact numpy backend (ExactIndex, single query, top 10)")
    print(f"{'size':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for row in exact:
        print(f"{row['size']:>9} {row['p50_ms']:>8.3f} {row['p99_ms']:>8.3f}")
    print("\nHNSW candidates (build on all threads, single-query search on 1 thread, top 10)")
    head = f"{'lib':<8} {'size':>8} {'M':>3} {'efC':>4} {'add/s':>8} {'B/face':>7} {'lib B':>6}"
    print(head + f" {'ef':>4} {'p50 ms':>7} {'p99 ms':>7} {'rec@10':>7}")
    for r in results:
        build = (
            f"{r['lib']:<8} {r['size']:>8} {r['M']:>3} {r['ef_construction']:>4} {r['add_per_s']:>8.0f}"
            f" {r['rss_delta_bytes_per_face']:>7.0f} {r['lib_bytes_per_face']:>6.0f}"
        )
        for i, s in enumerate(r["search"]):
            lead = build if i == 0 else " " * len(build)
            timing = f"{s['p50_ms']:>7.3f} {s['p99_ms']:>7.3f}"
            print(f"{lead} {s['ef_search']:>4} {timing} {s['recall_at_10']:>7.4f}")
    for r in results:
        if "filtered" not in r:
            continue
        ef = r["filtered_ef_search"]
        print(f"\nopenfrs HnswIndex, n={r['size']}, pre-filtered search (allowed=...), ef_search {ef}")
        print(f"{'allowed':>8} {'path':>6} {'p50 ms':>7} {'p99 ms':>7} {'rec@10':>7}")
        for f in r["filtered"]:
            timing = f"{f['p50_ms']:>7.3f} {f['p99_ms']:>7.3f}"
            print(f"{f['fraction']:>8.1%} {f['path']:>6} {timing} {f['recall_at_10']:>7.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--libs", default=",".join(CANDIDATES), help=f"any of {','.join(LIBS)}")
    parser.add_argument("--builds", help="M:efC pairs for every size, e.g. 16:100,32:200")
    parser.add_argument("--ef", default=",".join(map(str, EF_SEARCH)))
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--exact-sizes", default="10000,20000,50000")
    parser.add_argument("--filter-queries", type=int, default=200)
    parser.add_argument("--filter-ef", type=int, help="ef_search for the filtered runs (default: last --ef)")
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=LIBS, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--m", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--efc", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-timeout", type=int, default=900, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.ef = [int(x) for x in str(args.ef).split(",")]
    if args.worker:
        args.lib = args.worker
        worker(args)
        return

    sizes = [int(x) for x in args.sizes.split(",")]
    libs = [lib for lib in args.libs.split(",") if available(lib)]
    missing = sorted(set(args.libs.split(",")) - set(libs))
    if missing:
        print(f"not installed, skipped: {missing}", file=sys.stderr)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="openfrs-index-bench-") as tmp:
        args.data_dir = tmp
        base, identity = clustered_embeddings(max(sizes))
        queries, _ = query_embeddings(args.queries, min(sizes))  # identities present at every size
        profile = cosine_profile(base, identity)
        print(f"data: {max(sizes)} x {base.shape[1]}, cosine percentiles {profile}")
        np.save(Path(tmp) / "base.npy", base)
        np.save(Path(tmp) / "queries.npy", queries)
        exact_sizes = [int(x) for x in args.exact_sizes.split(",") if x] if args.exact_sizes else []
        exact = [exact_backend(base, queries, None, n) for n in exact_sizes if n <= max(sizes)]
        results = []
        for size in sizes:
            truth = exact_topk(base[:size], queries)
            np.save(Path(tmp) / f"truth_{size}.npy", truth)
            exact.append(exact_backend(base, queries, truth, size))
            builds = DEFAULT_BUILDS.get(size, FALLBACK_BUILDS)
            if args.builds:
                builds = [tuple(map(int, b.split(":"))) for b in args.builds.split(",")]
            for lib in libs:
                for m, efc in builds:
                    t0 = time.perf_counter()
                    result = run_worker(args, lib, size, m, efc)
                    print(f"  {lib} n={size} M={m} efC={efc}: {time.perf_counter() - t0:.0f} s", flush=True)
                    if result:
                        results.append(result)
        del base
    print_table(results, exact)
    report = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor(), "python": sys.version},
        "threads": args.threads,
        "queries": args.queries,
        "k": K,
        "cosine_profile": profile,
        "exact": exact,
        "hnsw": results,
        "wall_s": time.perf_counter() - started,
    }
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\ntotal {report['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
