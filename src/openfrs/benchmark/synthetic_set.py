"""The measurements `openfrs bench search` makes the same way on every backend: one synthetic face
set written through a metadata store and an IndexRegistry, as the add-face path commits them, then
searched. Shared so the embedded and the Milvus figures come from the same data, queries and code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from openfrs.benchmark.ground_truth import exact_topk, recall
from openfrs.benchmark.timing import percentiles_ms
from openfrs.service.filters import parse_filter
from openfrs.service.indexes import IndexRegistry
from openfrs.store.base import MetadataStore
from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.synthetic import clustered_embeddings, query_embeddings

BULK = 1_000  # faces per transaction in the bulk import
SINGLE_ADDS = 300  # one face per transaction, as one add-face request commits
K = 10
MODEL = "bench"
# Two integer fields, so a filter can keep 2% (g50:7) or 10% (g10:3) of the set.
FIELDS = {"g50": "integer", "g10": "integer"}
SHARES = {"2%": ("g50", 50, 7), "10%": ("g10", 10, 3)}


@dataclass
class SyntheticData:
    """Faces, identities, probes and the probes' exact top 10 (row numbers)."""

    vectors: np.ndarray
    identity: np.ndarray
    queries: np.ndarray
    truth_rows: np.ndarray

    @classmethod
    def make(cls, n: int, n_queries: int, dim: int) -> SyntheticData:
        vectors, identity = clustered_embeddings(n, dim)
        queries, _ = query_embeddings(n_queries, n, dim)
        return cls(vectors, identity, queries, exact_topk(vectors, queries, K))

    def members(self, field: str) -> np.ndarray:
        _, modulus, value = next(s for s in SHARES.values() if s[0] == field)
        return np.nonzero(self.identity % modulus == value)[0]


def records(vectors: np.ndarray, identity: np.ndarray, start: int) -> list[FaceRecord]:
    return [FaceRecord(face_id=f"{start + i:08x}", external_image_id=f"img{start + i}",
                       bounding_box=(0, 0, 100, 100), embedding=v,
                       fields={"g50": int(who % 50), "g10": int(who % 10)}, model_version=MODEL)
            for i, (v, who) in enumerate(zip(vectors, identity, strict=True))]


def new_set(store: MetadataStore, name: str, capacity: int) -> int:
    record = FaceSetRecord(key=0, project_id="bench", name=name, face_set_id=name[:8],
                           capacity=capacity, external_fields=dict(FIELDS), model_version=MODEL,
                           created_at="")
    return store.create_face_set(record).key


def timed(fn: Callable, items: Iterable) -> tuple[list, list[float]]:
    outputs, seconds = [], []
    for item in items:
        started = time.perf_counter()
        outputs.append(fn(item))
        seconds.append(time.perf_counter() - started)
    return outputs, seconds


def bulk_add(store: MetadataStore, registry: IndexRegistry, set_key: int,
             data: SyntheticData) -> tuple[np.ndarray, float]:
    """(face keys in row order, faces/s), timed around the store commit + index update only."""
    n = data.vectors.shape[0]
    keys = np.empty(n, np.int64)
    spent = 0.0
    for start in range(0, n, BULK):
        batch = records(data.vectors[start:start + BULK], data.identity[start:start + BULK], start)
        began = time.perf_counter()
        stored = store.add_faces(set_key, batch, capacity=n)
        added = np.array([r.key for r in stored], np.int64)
        registry.add(set_key, added, data.vectors[start:start + BULK])
        spent += time.perf_counter() - began
        keys[start:start + added.size] = added
    return keys, n / spent


def single_adds(store: MetadataStore, registry: IndexRegistry, data: SyntheticData) -> dict:
    """p50/p99 of one face per transaction into a new set (store commit + index update)."""
    set_key = new_set(store, "singles", SINGLE_ADDS)
    registry.get(set_key)

    def add_one(record: FaceRecord) -> None:
        (stored,) = store.add_faces(set_key, [record], capacity=SINGLE_ADDS)
        registry.add(set_key, np.array([stored.key]), record.embedding[None, :])

    _, seconds = timed(add_one, records(data.vectors[:SINGLE_ADDS], data.identity[:SINGLE_ADDS], 0))
    return percentiles_ms(seconds)


def search_figures(index, data: SyntheticData, keys: np.ndarray, n_queries: int | None = None) -> dict:
    """search_ms and recall_at_10 over the first ``n_queries`` probes (default all)."""
    queries = data.queries[:n_queries]
    found, seconds = timed(lambda q: index.search(q, K)[0], queries)
    return {"search_ms": percentiles_ms(seconds),
            "recall_at_10": recall(found, keys[data.truth_rows[:len(queries)]])}


def with_records_ms(store: MetadataStore, index, set_key: int, queries: np.ndarray) -> dict:
    """Search plus the metadata read a search response needs."""
    _, seconds = timed(lambda q: store.faces_by_keys(set_key, index.search(q, K)[0].tolist()), queries)
    return percentiles_ms(seconds)


def filtered(store: MetadataStore, index, set_key: int, data: SyntheticData, keys: np.ndarray,
             n_queries: int) -> dict:
    """Per share, as a request with filter "g50:7" runs it: SQL for the keys, then the index."""
    out = {}
    queries = data.queries[:n_queries]
    for label, (field, _, value) in SHARES.items():
        expr = parse_filter(f"{field}:{value}", FIELDS)
        members = data.members(field)
        truth = keys[members[exact_topk(data.vectors[members], queries, K)]]
        _, key_seconds = timed(lambda q, e=expr: store.keys_matching(set_key, e), queries)
        allowed = store.keys_matching(set_key, expr)
        found, index_seconds = timed(lambda q, a=allowed: index.search(q, K, a)[0], queries)
        out[label] = {"share": members.size / data.vectors.shape[0], "allowed": int(allowed.size),
                      "filter_keys_ms": percentiles_ms(key_seconds),
                      "index_ms": percentiles_ms(index_seconds), "recall_at_10": recall(found, truth)}
    return out
