"""Milvus vector index: one face set = one collection on a Milvus shared by every API replica.

Choices (measured on Milvus 2.3.5 standalone, pymilvus 2.6.17, 2 shared cores; see
tests/store/test_milvus_index.py):

* Collection: ``id`` INT64 primary key (auto_id off: ids are the store's face keys) and ``vector``
  FLOAT_VECTOR(dim); HNSW with metric IP (vectors are L2-normalised, so score = cosine), M=32,
  efConstruction=200, ef=max(384, k): the parameters bench/index_choice.py chose for HnswIndex.
* Consistency Strong. Replicas are separate processes, and a search on one must see an add that
  another has acknowledged. Measured with a second process searching right after each of 20 adds
  and 20 removes: Strong missed none; Session missed all 20 adds and still returned all 20 removed
  ids (pymilvus keeps the "last write" timestamp per process, so only the writer reads its writes);
  Bounded missed all 20 adds. Strong costs a wait for the server's time tick: search p50 ~200 ms
  (p95 ~400 ms) at 10k faces with the default ``proxy.timeTickInterval`` of 200 ms, ~32 ms with
  20 ms, against ~3 ms under Bounded. Cheaper cross-replica reads are possible later (share the
  last mutation timestamp through the metadata store and search with it as the guarantee
  timestamp); ``consistency`` is a parameter for that.
* ``allowed``: up to ``filter_limit`` ids go to the server as ``id in [...]`` (an exact filtered
  search; the expression costs ~4 µs per id: 1k ids ~8 ms, 10k ~40 ms, 100k ~420 ms). Larger sets
  are searched wider (limit sized by the allowed share of the collection, widened up to Milvus's
  top-k cap of 16,384) and filtered here; only if that cannot find k does it fall back to the
  expression in chunks.
* Upsert = Milvus ``upsert`` (delete + insert under one primary key), so re-adding an id replaces its
  vector, as in the other backends.

Design note for the registry (implemented by service/indexes.py through
service/index_providers.MilvusProvider): a Milvus index is not a cache to snapshot but shared,
durable state. ``save`` writes only a small meta file naming the server and collection and
``load`` reconnects, so the snapshot model would still run, but the registry instead (1) attaches:
``MilvusIndex(dim, uri, collection_name(prefix, set_key))`` with one shared ``MilvusClient`` per
process, never rebuilding from the store; (2) reconciles by key diff (``ids()`` against the
store's face keys; idempotent, so concurrent replicas are safe); (3) always forwards add/remove,
also for sets it has not loaded (other replicas read the same collection, no later load would
catch them up); (4) ``drop()``s the collection when a face set is deleted instead of deleting a
snapshot directory; (5) schedules no snapshots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from openfrs.store.vectors.base import META_FILE, SearchResult, VectorIndex, top_k

if TYPE_CHECKING:
    from pymilvus import MilvusClient

MAX_TOPK = 16_384  # Milvus caps a search's limit (and a query's offset + limit) at this
WRITE_BATCH = 5_000  # rows per upsert: 5k x 512-d float32 = 10 MB, well under gRPC's 64 MB
EXPR_CHUNK = 8_192  # ids per ``id in [...]`` when a large set must be chunked (~35 ms each)
# Seconds for one round trip (search, upsert, delete, query, one batch of an id scan): without
# it a server that stopped answering holds the API call for as long as gRPC waits, instead of
# answering FRS.0050 (503). Only load_collection has none: loading a large collection takes longer.
CALL_TIMEOUT_S = 10.0
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def collection_name(prefix: str, set_key: int) -> str:
    """The collection holding one face set; ``prefix`` separates deployments sharing a Milvus."""
    name = f"{prefix}_set_{int(set_key)}"
    if not _NAME.fullmatch(name) or len(name) > 255:
        raise ValueError(f"not a valid Milvus collection name: {name!r}")
    return name


def _in(ids: np.ndarray) -> str:
    return f"id in [{','.join(map(str, ids.tolist()))}]"


def _chunks(ids: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, ids.size, size):
        yield ids[start : start + size]


class MilvusIndex(VectorIndex):
    """One collection on a Milvus server; every method is a round trip (see the module docstring)."""

    kind = "milvus"

    def __init__(
        self,
        dim: int,
        uri: str,
        collection: str,
        *,
        client: MilvusClient | None = None,
        consistency: str = "Strong",
        m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 384,
        filter_limit: int = 1_024,
        timeout: float = CALL_TIMEOUT_S,
    ) -> None:
        super().__init__(dim)
        import pymilvus  # lazy: only scale-out deployments need it

        self.uri, self.collection, self.consistency = uri, collection, consistency
        self.m, self.ef_construction, self.ef_search = int(m), int(ef_construction), int(ef_search)
        self.filter_limit = int(filter_limit)
        self.timeout = float(timeout)
        self._client = client if client is not None else pymilvus.MilvusClient(uri=uri)
        self._ensure_collection()

    def _ensure_collection(self) -> None:
        """Create the collection (with its index, loaded) unless it exists; then check its dim."""
        client = self._client
        if not client.has_collection(self.collection, timeout=self.timeout):
            from pymilvus import DataType, MilvusException

            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
            index = client.prepare_index_params()
            index.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                            params={"M": self.m, "efConstruction": self.ef_construction})
            try:
                client.create_collection(self.collection, schema=schema, index_params=index,
                                         consistency_level=self.consistency, timeout=self.timeout)
            except MilvusException:  # another replica may have created it first
                if not client.has_collection(self.collection, timeout=self.timeout):
                    raise
        fields = client.describe_collection(self.collection, timeout=self.timeout)["fields"]
        dim = next(int(f["params"]["dim"]) for f in fields if f["name"] == "vector")
        if dim != self.dim:
            raise ValueError(f"collection {self.collection} holds {dim}-d vectors, not {self.dim}-d")
        client.load_collection(self.collection)  # a no-op when loaded; needed after a server restart

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        for start in range(0, ids.size, WRITE_BATCH):
            rows = zip(ids[start : start + WRITE_BATCH].tolist(), vectors[start : start + WRITE_BATCH],
                       strict=True)
            self._client.upsert(self.collection, [{"id": i, "vector": v} for i, v in rows],
                                timeout=self.timeout)

    def _remove(self, ids: np.ndarray) -> int:
        present = self._present(ids)
        for chunk in _chunks(present, EXPR_CHUNK):
            self._client.delete(self.collection, ids=chunk.tolist(), timeout=self.timeout)
        return int(present.size)

    def _present(self, ids: np.ndarray) -> np.ndarray:
        found = []
        for chunk in _chunks(ids, MAX_TOPK):
            rows = self._client.query(self.collection, filter=_in(chunk), output_fields=["id"],
                                      consistency_level=self.consistency, timeout=self.timeout)
            found.extend(row["id"] for row in rows)
        return np.asarray(found, np.int64)

    def _search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> SearchResult:
        k = min(k, MAX_TOPK)
        if allowed is None:
            return self._hits(query, k)
        allowed = np.unique(allowed)
        if allowed.size <= self.filter_limit:
            return self._hits(query, k, _in(allowed))
        return self._search_wide(query, k, allowed)

    def _search_wide(self, query: np.ndarray, k: int, allowed: np.ndarray) -> SearchResult:
        """Over-fetch and filter here; widen while short of k and more remains; else chunked
        server-side filters (exact but ~4 µs per allowed id)."""
        stats = self._client.get_collection_stats(self.collection, timeout=self.timeout)
        rows = int(stats["row_count"])  # ~ incl. deleted
        limit = min(MAX_TOPK, max(4 * k, int(2 * k * rows / allowed.size)))
        while True:
            ids, scores = self._hits(query, limit)
            keep = np.isin(ids, allowed, assume_unique=True)
            if keep.sum() >= k or ids.size < limit:  # enough, or the whole collection was seen
                return ids[keep][:k], scores[keep][:k]
            if limit == MAX_TOPK:
                break
            limit = min(MAX_TOPK, limit * 4)
        hits = [self._hits(query, k, _in(chunk)) for chunk in _chunks(allowed, EXPR_CHUNK)]
        ids, scores = np.concatenate([h[0] for h in hits]), np.concatenate([h[1] for h in hits])
        best = top_k(scores, k)
        return ids[best], scores[best]

    def _hits(self, query: np.ndarray, limit: int, expr: str = "") -> SearchResult:
        result = self._client.search(
            self.collection, [query], limit=limit, filter=expr, output_fields=[],
            search_params={"metric_type": "IP", "params": {"ef": max(self.ef_search, limit)}},
            consistency_level=self.consistency, timeout=self.timeout)[0]
        ids = np.fromiter((hit["id"] for hit in result), np.int64, len(result))
        scores = np.fromiter((hit["distance"] for hit in result), np.float32, len(result))
        return ids, scores

    def contains(self, id: int) -> bool:
        return self._present(np.array([int(id)], np.int64)).size > 0

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"],
                                  consistency_level=self.consistency, timeout=self.timeout)
        return int(rows[0]["count(*)"])

    def ids(self) -> np.ndarray:
        iterator = self._client.query_iterator(self.collection, batch_size=MAX_TOPK // 2,
                                               output_fields=["id"], consistency_level=self.consistency,
                                               timeout=self.timeout)
        found: list[int] = []
        try:
            while batch := iterator.next():
                found.extend(row["id"] for row in batch)
        finally:
            iterator.close()
        return np.asarray(found, np.int64)

    def drop(self) -> None:
        """Delete the collection: its face set is gone (there is no snapshot to delete)."""
        with self._lock.write():
            self._client.drop_collection(self.collection, timeout=self.timeout)

    def _save(self, directory: Path) -> None:
        """Milvus persists the vectors; the meta file only says where they are (no credentials)."""
        meta = {"kind": self.kind, "dim": self.dim, "uri": self.uri, "collection": self.collection,
                "consistency": self.consistency, "m": self.m, "ef_construction": self.ef_construction,
                "ef_search": self.ef_search}
        (directory / META_FILE).write_text(json.dumps(meta))

    @classmethod
    def _load(cls, directory: Path, meta: dict) -> MilvusIndex:
        return cls(meta["dim"], meta["uri"], meta["collection"], consistency=meta["consistency"],
                   m=meta["m"], ef_construction=meta["ef_construction"], ef_search=meta["ef_search"])
