"""Tiered vector index: exact while small, HNSW from a size threshold on."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from openfrs.store.vectors.base import META_FILE, SearchResult, VectorIndex, write_dir
from openfrs.store.vectors.exact import ExactIndex
from openfrs.store.vectors.hnsw import HnswIndex

log = logging.getLogger("openfrs.index")


FINAL_ROUND = 2_000  # journaled ids replayed while writes wait (~1 s of graph inserts at most)


def _catch_up(graph: HnswIndex, exact: ExactIndex, touched: list[np.ndarray]) -> None:
    """Make the graph agree with the exact index on every touched id: absent there -> removed,
    present with another vector (or not yet in the graph) -> added."""
    if not touched:
        return
    ids = np.unique(np.concatenate(touched))
    present, vectors = exact.lookup(ids)
    graph.remove(ids[~present])
    ids = ids[present]
    in_graph, old = graph.lookup(ids)
    stale = np.ones(ids.size, bool)
    stale[in_graph] = np.any(old != vectors[in_graph], axis=1)
    graph.add(ids[stale], vectors[stale])


class TieredIndex(VectorIndex):
    """Exact while small, HNSW from ``threshold`` faces on (one way; it never migrates back).

    Why 50,000 by default: bench/index_choice.py measured the exact single-query p50 on 2 cores
    at ~0.1-0.2 ms for 20k, ~0.3-0.9 ms for 50k and ~1.2-2.0 ms for 100k faces (two BLAS threads
    / one), and the exact path is also 3x smaller and removes cleanly; 50k keeps the exact p50
    near 1 ms with headroom for a busy machine.

    Migration builds the graph from a snapshot of the exact index without holding any lock
    (~17 s per 50k faces on 2 cores, ~6 min at 1M), while adds and removes go on into the exact
    index while their ids go to a journal; the graph then catches up with the journaled ids in
    rounds, the last (<= FINAL_ROUND ids) under the lock, and is swapped in. So searches never
    wait for a migration and writes at most for that last round; a bulk import during a
    migration costs the ids, not a second copy of the vectors. With ``background`` (the default)
    it runs on its own thread, started by the add that crosses the threshold; otherwise that add
    runs it. Each search runs entirely on one backend.
    """

    kind = "tiered"

    def __init__(self, dim: int, threshold: int = 50_000, hnsw: dict | None = None,
                 background: bool = True) -> None:
        super().__init__(dim)
        self.threshold = int(threshold)
        self.hnsw_params = dict(hnsw or {})
        self.background = background
        self._inner: VectorIndex = ExactIndex(self.dim)
        self._mutate = threading.Lock()  # serialises add/remove/save and the journal
        self._journal: list[np.ndarray] | None = None  # ids written while migrating
        self._migrated = threading.Event()

    @property
    def backend(self) -> VectorIndex:
        return self._inner

    @property
    def serving_kind(self) -> str:
        return self._inner.kind

    @property
    def migrating(self) -> bool:
        return self._journal is not None

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.add_batches([(ids, vectors)])

    def add_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
        """Fill the current tier first and migrate once at the end: a rebuild of a big set does
        not start a migration per batch."""
        count = 0
        for ids, vectors in batches:
            with self._mutate:
                self._inner.add(ids, vectors)
                if self._journal is not None:
                    self._journal.append(np.array(ids, np.int64).reshape(-1))
            count += len(ids)
        self.settle()
        return count

    def settle(self) -> None:
        """Start the migration when the exact tier has reached the threshold (a loaded or
        rebuilt index may already be past it)."""
        with self._mutate:
            start = (isinstance(self._inner, ExactIndex) and self._journal is None
                     and len(self._inner) >= self.threshold)
            if start:
                self._journal = []
        if not start:
            return
        if self.background:
            threading.Thread(target=self._migrate, name="openfrs-index-migrate", daemon=True).start()
        else:
            self._migrate()

    def remove(self, ids: np.ndarray) -> int:
        with self._mutate:
            if self._journal is not None:
                self._journal.append(np.array(ids, np.int64).reshape(-1))
            return self._inner.remove(ids)

    def wait_migrated(self, timeout: float | None = None) -> bool:
        """Block until the HNSW backend serves searches (True), or the timeout passes."""
        return self._migrated.wait(timeout)

    def _migrate(self) -> None:
        """Build the graph from a snapshot, then catch up with the journal (the ids written
        since) in rounds outside the lock; only the last, small round holds it."""
        exact = self._inner
        assert isinstance(exact, ExactIndex)
        try:
            graph = HnswIndex(self.dim, **self.hnsw_params)
            graph.add(*exact.snapshot())
            while True:
                with self._mutate:
                    touched, self._journal = self._journal or [], []
                    if sum(ids.size for ids in touched) <= FINAL_ROUND:
                        _catch_up(graph, exact, touched)
                        self._inner = graph  # atomic swap: in-flight searches finish on exact
                        self._journal = None
                        break
                _catch_up(graph, exact, touched)
            self._migrated.set()
            log.info("vector index moved to HNSW at %d faces", len(graph))
        except BaseException:
            with self._mutate:
                self._journal = None  # stay exact; the next add past the threshold retries
            log.exception("vector index migration to HNSW failed; staying exact")
            if not self.background:
                raise

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> SearchResult:
        return self._inner.search(query, k, allowed)  # no lock here: the backend has its own

    def contains(self, id: int) -> bool:
        return self._inner.contains(id)

    def __len__(self) -> int:
        return len(self._inner)

    def ids(self) -> np.ndarray:
        return self._inner.ids()

    def save(self, path: str | os.PathLike) -> None:
        with self._mutate:
            write_dir(path, self._save)

    _add = add  # the public methods above replace the base ones; hooks only for completeness
    _remove = remove
    _search = search

    def _save(self, directory: Path) -> None:
        self._inner.save(directory / "inner")
        meta = {"kind": self.kind, "dim": self.dim, "threshold": self.threshold, "hnsw": self.hnsw_params}
        (directory / META_FILE).write_text(json.dumps(meta))

    @classmethod
    def _load(cls, directory: Path, meta: dict) -> TieredIndex:
        index = cls(meta["dim"], meta["threshold"], meta["hnsw"])
        index._inner = VectorIndex.load(directory / "inner")
        if isinstance(index._inner, HnswIndex):
            index._migrated.set()
        return index
