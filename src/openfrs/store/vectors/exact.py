"""Brute-force vector index: exact, compact and cheap to mutate; the HNSW recall reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from openfrs.store.vectors.base import META_FILE, SearchResult, VectorIndex, grown, rows_of, top_k


class ExactIndex(VectorIndex):
    """Brute force: one (n, d) float32 matrix, an id array and an id -> row dict.

    Search is one matrix-vector product plus argpartition (exact, O(n·d)); remove swaps the last
    row into the hole so the matrix stays dense. Fast enough below a few tens of thousands of
    faces (see bench/index_choice.py) and the reference the HNSW index is measured against."""

    kind = "exact"

    def __init__(self, dim: int, capacity: int = 0) -> None:
        super().__init__(dim)
        self._vectors = np.empty((max(capacity, 16), self.dim), np.float32)
        self._ids = np.empty(max(capacity, 16), np.int64)
        self._n = 0
        self._row: dict[int, int] = {}

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        rows = rows_of(self._row, ids)
        present = rows >= 0
        self._vectors[rows[present]] = vectors[present]  # upsert in place
        ids, vectors = ids[~present], vectors[~present]
        stop = self._n + ids.size
        if stop > self._ids.size:
            self._vectors, self._ids = grown(self._vectors, self._n, stop), grown(self._ids, self._n, stop)
        self._vectors[self._n : stop] = vectors
        self._ids[self._n : stop] = ids
        self._row.update(zip(ids.tolist(), range(self._n, stop), strict=True))
        self._n = stop

    def _remove(self, ids: np.ndarray) -> int:
        removed = 0
        for i in ids.tolist():
            row = self._row.pop(i, None)
            if row is None:
                continue
            last = self._n - 1
            if row != last:
                moved = int(self._ids[last])
                self._vectors[row] = self._vectors[last]
                self._ids[row] = moved
                self._row[moved] = row
            self._n = last
            removed += 1
        return removed

    def _search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> SearchResult:
        if allowed is None:
            scores = self._vectors[: self._n] @ query
            pos = top_k(scores, k)
            return self._ids[pos], scores[pos]
        if allowed.size * 8 < self._n:  # small filter: dict look-ups; large: one vectorised isin
            rows = rows_of(self._row, allowed)
            rows = np.unique(rows[rows >= 0])
        else:
            rows = np.nonzero(np.isin(self._ids[: self._n], allowed))[0]
        scores = np.take(self._vectors, rows, axis=0) @ query
        pos = top_k(scores, k)
        return self._ids[rows[pos]], scores[pos]

    def contains(self, id: int) -> bool:
        return int(id) in self._row

    def __len__(self) -> int:
        return self._n

    def ids(self) -> np.ndarray:
        with self._lock.read():
            return self._ids[: self._n].copy()

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(present mask, vectors of the present ids) for these ids."""
        with self._lock.read():
            rows = rows_of(self._row, ids)
            return rows >= 0, self._vectors[rows[rows >= 0]]

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (ids, vectors) currently held, e.g. to build another index from them."""
        with self._lock.read():
            return self._ids[: self._n].copy(), self._vectors[: self._n].copy()

    def _save(self, directory: Path) -> None:
        np.save(directory / "ids.npy", self._ids[: self._n])
        np.save(directory / "vectors.npy", self._vectors[: self._n])
        (directory / META_FILE).write_text(json.dumps({"kind": self.kind, "dim": self.dim}))

    @classmethod
    def _load(cls, directory: Path, meta: dict) -> ExactIndex:
        ids = np.load(directory / "ids.npy")
        index = cls(meta["dim"], capacity=ids.size)
        index._add(ids, np.load(directory / "vectors.npy"))
        return index
