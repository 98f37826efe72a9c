"""The scale-out half of `openfrs bench search`: the same synthetic set and probes as the embedded
run, written through PostgresMetadataStore + IndexRegistry.shared (Milvus), as the add-face path of
a scale-out replica commits them.

The benchmark starts its own Milvus server (benchmark/milvus_server.py, server defaults unless
``--milvus-config`` says otherwise) and its own PostgreSQL schema, dropped afterwards. Beyond the
embedded figures it measures what only a server has: when searches hit the HNSW index Milvus builds
on sealed segments (with recall meanwhile), searches under Strong consistency (what the service
uses: each waits for the server's time tick) and Bounded (the index's own cost), the server
process tree's memory growth per face, PostgreSQL bytes per face row, a new replica attaching and
reconciling by key diff, and search throughput of 2 replica processes against 1.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from openfrs.benchmark import cold_start
from openfrs.benchmark import synthetic_set as bench_set
from openfrs.benchmark.cold_start import MILVUS_PREFIX as PREFIX
from openfrs.benchmark.ground_truth import recall
from openfrs.benchmark.milvus_server import milvus_server, process_tree_rss
from openfrs.benchmark.replica_load import replica_throughput
from openfrs.benchmark.synthetic_set import K, SyntheticData
from openfrs.benchmark.timing import percentiles_ms
from openfrs.service.indexes import IndexRegistry
from openfrs.store.pg_db import throwaway_schema
from openfrs.store.vectors.milvus import MilvusIndex, collection_name

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
READY_POLL_S = 5.0
FLUSH_AFTER_IDLE_S = 30.0  # no indexing progress this long: flush, sealing the growing tail
READY_TIMEOUT_S = 3_600.0
PROGRESS_QUERIES = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=PG_URL,
                        help="PostgreSQL for --backend milvus (a schema of its own, dropped after)")
    parser.add_argument("--milvus-config", action="append", default=[], metavar="KEY=VALUE",
                        help="Milvus server setting, e.g. proxy.timeTickInterval=50 (default: none)")
    parser.add_argument("--strong-queries", type=int, default=300,
                        help="probes timed under Strong consistency (each waits for a time tick)")
    parser.add_argument("--replica-threads", type=int, default=8, help="searchers per replica process")
    parser.add_argument("--replica-seconds", type=float, default=20.0)


def _pg_bytes_per_face(url: str, schema: str, n: int) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        table, everything = conn.execute(
            "SELECT pg_total_relation_size(format('%%I.faces', %s::text)),"
            " (SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s"
            "  ON s.oid = c.relnamespace WHERE s.nspname = %s AND c.relkind IN ('r', 'm'))",
            (schema, schema)).fetchone()
    return {"faces_table_incl_indexes_and_toast": table / n, "schema": float(everything) / n}


def _data_bytes(data_dir: Path) -> dict:
    """Bytes under the server's data/ folder by subfolder (etcd, rocksmq WAL, segments and index
    files); bin/, configs/ and logs/ beside it are the launcher's copy of Milvus and its logs."""
    sizes = {child.name: sum(p.stat().st_size for p in child.rglob("*") if p.is_file())
             for child in (data_dir / "data").iterdir() if child.is_dir()}
    return {name: size for name, size in sizes.items() if size}


def _wait_indexed(client, collection: str, bounded: MilvusIndex, data: SyntheticData,
                  keys: np.ndarray, n: int) -> dict:
    """Poll until Milvus has built the HNSW index over every row; recall meanwhile (Bounded)."""
    queries = data.queries[:PROGRESS_QUERIES]
    truth = keys[data.truth_rows[:PROGRESS_QUERIES]]
    started = time.monotonic()
    progress, flushed_at, last_change, last_indexed = [], None, started, -1
    while True:
        info = client.describe_index(collection, "vector")
        indexed = int(info.get("indexed_rows", 0))
        found, seconds = bench_set.timed(lambda q: bounded.search(q, K)[0], queries)
        now = time.monotonic()
        progress.append({"s": now - started, "indexed_rows": indexed,
                         "pending_index_rows": int(info.get("pending_index_rows", 0)),
                         "recall_at_10": recall(found, truth),
                         "bounded_search_p50_ms": percentiles_ms(seconds)["p50"]})
        if indexed >= n or now - started > READY_TIMEOUT_S:
            break
        if indexed != last_indexed:
            last_indexed, last_change = indexed, now
        elif flushed_at is None and now - last_change > FLUSH_AFTER_IDLE_S:
            client.flush(collection)
            flushed_at = time.monotonic() - started
        time.sleep(READY_POLL_S)
    return {"index_built_after_last_add_s": progress[-1]["s"], "flushed_after_s": flushed_at,
            "all_rows_indexed": indexed >= n, "progress": progress}


def milvus_run(data: SyntheticData, args: argparse.Namespace, workdir: Path) -> dict:
    n = data.vectors.shape[0]
    config = dict(item.split("=", 1) for item in args.milvus_config)
    out: dict[str, object] = {"faces": n, "queries": len(data.queries), "top_n": K,
                              "milvus_config": config or "server defaults"}
    with (milvus_server(workdir / "milvus", **config) as server,
          throwaway_schema(args.database_url, "bench_search_") as schema):
        from openfrs.store.postgres import PostgresMetadataStore

        out["server_startup_s"] = server.startup_s
        store = PostgresMetadataStore(args.database_url, schema)
        registry = IndexRegistry.shared(store, server.uri, prefix=PREFIX)
        rss_before = process_tree_rss(server.pgid)
        set_key = bench_set.new_set(store, "synthetic", n)
        index = registry.get(set_key)
        collection = collection_name(PREFIX, set_key)
        client = registry.provider.client  # type: ignore[union-attr]
        bounded = MilvusIndex(index.dim, server.uri, collection, client=client, consistency="Bounded")

        keys, out["bulk_add_faces_per_s"] = bench_set.bulk_add(store, registry, set_key, data)
        out["index_ready"] = _wait_indexed(client, collection, bounded, data, keys, n)
        out["single_face_add_ms"] = bench_set.single_adds(store, registry, data)

        # Strong (as the service searches) on fewer probes: each waits for a time tick.
        strong = bench_set.search_figures(index, data, keys, args.strong_queries)
        out["search_ms"], out["recall_at_10"] = strong["search_ms"], strong["recall_at_10"]
        out["bounded"] = bench_set.search_figures(bounded, data, keys)
        out["search_with_records_ms"] = bench_set.with_records_ms(store, index, set_key,
                                                        data.queries[:args.strong_queries])
        out["filtered"] = bench_set.filtered(store, index, set_key, data, keys, args.filtered_queries)

        out["memory_bytes_per_face"] = (process_tree_rss(server.pgid) - rss_before) / n
        data_bytes = _data_bytes(server.data_dir)
        out["disk_bytes_per_face"] = {
            "postgresql": _pg_bytes_per_face(args.database_url, schema, n),
            "milvus": sum(data_bytes.values()) / n,
            "milvus_by_folder": {k: v / n for k, v in data_bytes.items()}}
        target = [server.uri, args.database_url, schema, str(set_key)]
        out["cold_start_new_replica"] = cold_start.run_fresh(workdir, data.queries[0], ["milvus", *target])
        np.save(workdir / "queries.npy", data.queries)
        out["replicas"] = {level: replica_throughput(workdir / "queries.npy", [*target, level],
                                                     args.replica_threads, args.replica_seconds)
                           for level in ("Strong", "Bounded")}
        registry.close()
        store.close()
    return out
