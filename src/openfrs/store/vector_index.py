"""Per-face-set vector indexes for 1:N search: exact (numpy), HNSW (faiss) and a tiered mix.

Why three: below a few tens of thousands of faces a brute-force matrix product is exact, fast
(~0.1-1 ms), compact (512 B/face) and trivially mutable; above that its O(n) cost (13-17 ms at
1M) outgrows the budget and an HNSW graph (~1.2 ms at 1M, recall@10 >= 0.99) takes over.
TieredIndex starts exact and migrates once. Library and parameters: bench/index_choice.py.

Deployment note: run the service with OPENBLAS_NUM_THREADS=1. On 2 shared cores a threaded
matrix-vector product gains ~30% when idle but stalls ~8 ms whenever another process holds a core.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SearchResult = tuple[np.ndarray, np.ndarray]  # ids int64 [<=k], scores float32 [<=k], best first
_META = "meta.json"
_EMPTY: SearchResult = (np.empty(0, np.int64), np.empty(0, np.float32))


class _RWLock:
    """Many readers or one (preferred) writer. Why: numpy and faiss release the GIL, so searches
    really run in parallel, but none may see a half-applied add/remove (swap-remove moves rows,
    faiss is not safe to search while adding)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = self._writers = 0  # active readers; writers waiting or active
        self._writing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writers)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers += 1
            self._cond.wait_for(lambda: not self._readers and not self._writing)
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._writers -= 1
                self._cond.notify_all()


def _as_ids(ids: np.ndarray | list[int] | int) -> np.ndarray:
    return np.atleast_1d(np.asarray(ids, dtype=np.int64))


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest scores, best first (argpartition, then sort only k)."""
    if k >= scores.size:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def _grown(array: np.ndarray, used: int, need: int) -> np.ndarray:
    """A copy of ``array[:used]`` with room for ``need`` rows (x1.5 amortised growth), zero-filled."""
    out = np.zeros((max(need, int(array.shape[0] * 1.5)), *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


def _write_dir(path: str | os.PathLike, write) -> None:
    """Write an index directory next to `path`, then swap it in, so a crash mid-save never leaves
    a half-written index where load() would find it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}-{threading.get_ident()}")
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class VectorIndex(ABC):
    """Inner-product top-k search over int64-keyed, L2-normalised float32 vectors of one face set.

    Contract shared by every implementation:

    * ``add`` is an upsert: an id already present gets its vector replaced. Ids repeated within
      one call are rejected.
    * ``search`` returns at most ``k`` (ids, scores), scores = inner product, best first;
      ``allowed`` restricts results to those ids (ids not in the index are ignored).
    * Thread safety: any number of ``search``/``contains``/``len`` calls may run concurrently from
      several threads; ``add``/``remove``/``save`` take an internal writer lock, so they are safe
      against concurrent searches too (searches wait for the mutation and vice versa). Callers are
      expected to serialise mutations; concurrent ones are still safe, just not ordered.
    * The metadata store is the source of truth: ``save``/``load`` exist only for a faster cold
      start, and an index that fails to load can always be rebuilt from stored embeddings.
    """

    kind: str

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)
        self._lock = _RWLock()

    # -- public API, validating and locking; subclasses implement the _underscored versions --

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = _as_ids(ids)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if ids.shape[0] != vectors.shape[0]:
            raise ValueError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if np.unique(ids).size != ids.size:
            raise ValueError("ids repeated within one add()")
        if not ids.size:
            return
        with self._lock.write():
            self._add(ids, vectors)

    def remove(self, ids: np.ndarray) -> int:
        """Remove these ids (absent ones are ignored); returns how many were present."""
        ids = np.unique(_as_ids(ids))
        with self._lock.write():
            return self._remove(ids) if ids.size else 0

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> SearchResult:
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(self.dim)
        allowed_ids = None if allowed is None else _as_ids(allowed)
        if k <= 0 or (allowed_ids is not None and not allowed_ids.size):
            return _EMPTY
        with self._lock.read():
            return self._search(query, int(k), allowed_ids)

    @abstractmethod
    def contains(self, id: int) -> bool: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def save(self, path: str | os.PathLike) -> None:
        """Write the index as a directory at ``path`` (replaced atomically if it exists)."""
        with self._lock.read():
            _write_dir(path, self._save)

    @classmethod
    def load(cls, path: str | os.PathLike) -> VectorIndex:
        """Load any index written by ``save`` (the concrete class comes from its metadata)."""
        meta = json.loads((Path(path) / _META).read_text())
        return _KINDS[meta["kind"]]._load(Path(path), meta)

    # -- implementation hooks --

    @abstractmethod
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _remove(self, ids: np.ndarray) -> int: ...

    @abstractmethod
    def _search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> SearchResult: ...

    @abstractmethod
    def _save(self, directory: Path) -> None: ...

    @classmethod
    @abstractmethod
    def _load(cls, directory: Path, meta: dict) -> VectorIndex: ...


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
        rows = np.fromiter((self._row.get(i, -1) for i in ids.tolist()), np.int64, ids.size)
        present = rows >= 0
        self._vectors[rows[present]] = vectors[present]  # upsert in place
        ids, vectors = ids[~present], vectors[~present]
        stop = self._n + ids.size
        if stop > self._ids.size:
            self._vectors, self._ids = _grown(self._vectors, self._n, stop), _grown(self._ids, self._n, stop)
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
            pos = _top_k(scores, k)
            return self._ids[pos], scores[pos]
        if allowed.size * 8 < self._n:  # small filter: dict look-ups; large: one vectorised isin
            rows = np.fromiter((self._row.get(i, -1) for i in allowed.tolist()), np.int64, allowed.size)
            rows = np.unique(rows[rows >= 0])
        else:
            rows = np.nonzero(np.isin(self._ids[: self._n], allowed))[0]
        scores = np.take(self._vectors, rows, axis=0) @ query
        pos = _top_k(scores, k)
        return self._ids[rows[pos]], scores[pos]

    def contains(self, id: int) -> bool:
        return int(id) in self._row

    def __len__(self) -> int:
        return self._n

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of (ids, vectors) currently held, e.g. to build another index from them."""
        with self._lock.read():
            return self._ids[: self._n].copy(), self._vectors[: self._n].copy()

    def _save(self, directory: Path) -> None:
        np.save(directory / "ids.npy", self._ids[: self._n])
        np.save(directory / "vectors.npy", self._vectors[: self._n])
        (directory / _META).write_text(json.dumps({"kind": self.kind, "dim": self.dim}))

    @classmethod
    def _load(cls, directory: Path, meta: dict) -> ExactIndex:
        ids = np.load(directory / "ids.npy")
        index = cls(meta["dim"], capacity=ids.size)
        index._add(ids, np.load(directory / "vectors.npy"))
        return index


def _faiss():
    """faiss is imported lazily so the exact index (and this module) work without it."""
    import faiss

    return faiss


class HnswIndex(VectorIndex):
    """HNSW graph on faiss ``IndexHNSWFlat`` (inner product), with our own int64 id <-> row map.

    Why faiss (bench/index_choice.py, 1M clustered faces, 2 shared cores): at recall@10 0.99 it
    ties hnswlib on latency (~1.2-1.4 ms; usearch ~2.2 ms), builds fastest (~3.0k faces/s vs 2.6k
    and 1.3k) with the smallest resident size (~1.3 kB/face), ships manylinux wheels (hnswlib: sdist
    only, so no --only-binary lock) and filters inside the graph walk (IDSelector). M=32,
    efC=200, ef=384: recall@10 0.992, p50 1.2 ms at 1M.

    faiss HNSW cannot delete, so ``remove`` leaves a tombstone: the row stays in the graph (so
    navigation is unaffected) and a bitmap selector hides it. Tombstones keep their memory until
    ``rebuilt()`` makes a fresh graph of the live rows (watch ``dead_fraction``).

    ``allowed`` becomes a bitmap selector with ef scaled up by the selectivity; small filters
    (``_exact_limit``) get an exact product over their rows instead (a graph walk finds a few
    scattered points poorly and slowly; brute force on them is exact and cheaper).
    """

    kind = "hnsw"

    def __init__(
        self,
        dim: int,
        m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 384,
        exact_below: int | None = None,
        max_filter_ef: int = 4096,
    ) -> None:
        super().__init__(dim)
        faiss = _faiss()
        self.m, self.ef_construction, self.ef_search = int(m), int(ef_construction), int(ef_search)
        self.exact_below = None if exact_below is None else int(exact_below)  # None: cost model
        self.max_filter_ef = int(max_filter_ef)
        self._index = faiss.IndexHNSWFlat(self.dim, self.m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = self.ef_construction
        self._ids = np.empty(0, np.int64)  # row -> id (faiss numbers rows 0..ntotal-1)
        self._live = np.zeros(0, bool)  # row -> not removed
        self._row: dict[int, int] = {}  # id -> live row, for point operations
        self._live_bits: np.ndarray | None = None  # packed _live for the selector, built lazily
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None  # (ids asc, rows) for bulk look-ups

    def params(self) -> dict[str, int | None]:
        keys = ("m", "ef_construction", "ef_search", "exact_below", "max_filter_ef")
        return {key: getattr(self, key) for key in keys}

    @property
    def dead_fraction(self) -> float:
        """Share of graph rows that are tombstones (removed or replaced faces)."""
        total = self._index.ntotal
        return 1.0 - len(self._row) / total if total else 0.0

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        replaced = self._kill(ids)  # upsert: the old row of a re-added id becomes a tombstone
        start = self._index.ntotal
        self._index.add(vectors)
        stop = self._index.ntotal
        if stop > self._ids.size:
            self._ids, self._live = _grown(self._ids, start, stop), _grown(self._live, start, stop)
        self._ids[start:stop], self._live[start:stop] = ids, True
        self._row.update(zip(ids.tolist(), range(start, stop), strict=True))
        self._live_bits = None
        # keep the sorted look-up current when keys arrive in ascending order (store keys do)
        old = self._sorted
        if (
            old is not None
            and not replaced
            and np.all(np.diff(ids) > 0)
            and (not old[0].size or ids[0] > old[0][-1])
        ):
            self._sorted = (np.concatenate([old[0], ids]), np.concatenate([old[1], np.arange(start, stop)]))
        else:
            self._sorted = None

    def _kill(self, ids: np.ndarray) -> int:
        rows = [row for row in (self._row.pop(i, None) for i in ids.tolist()) if row is not None]
        if rows:
            self._live[rows] = False
            self._live_bits = None
        return len(rows)

    def _remove(self, ids: np.ndarray) -> int:
        return self._kill(ids)  # the sorted look-up may keep dead rows; look-ups drop them

    def _vectors(self) -> np.ndarray:
        """Zero-copy (ntotal, dim) view of the vectors faiss stores; valid until the next add."""
        faiss = _faiss()
        total = self._index.ntotal
        storage = faiss.downcast_index(self._index.storage)
        return faiss.rev_swig_ptr(storage.get_xb(), total * self.dim).reshape(total, self.dim)

    def _allowed_mask_or_rows(self, allowed: np.ndarray) -> np.ndarray:
        """Live rows of the allowed ids (small filters: binary search in a sorted id array, rows may
        repeat) or a boolean row mask (large filters: one vectorised membership test)."""
        total = self._index.ntotal
        if allowed.size * 8 >= len(self._row):
            return np.isin(self._ids[:total], allowed) & self._live[:total]
        if self._sorted is None:
            rows = np.nonzero(self._live[:total])[0]
            order = np.argsort(self._ids[rows], kind="stable")
            self._sorted = (self._ids[rows][order], rows[order])
        ids, rows = self._sorted
        pos = np.minimum(np.searchsorted(ids, allowed), ids.size - 1)
        found = rows[pos[ids[pos] == allowed]]
        return found[self._live[found]]

    def _exact(self, query: np.ndarray, k: int, rows: np.ndarray) -> SearchResult:
        scores = np.take(self._vectors(), rows, axis=0) @ query  # take: ~2x faster than [rows]
        pos = _top_k(scores, k)
        return self._ids[rows[pos]], scores[pos]

    def _graph(self, query: np.ndarray, k: int, ef: int, bits: np.ndarray | None) -> SearchResult:
        faiss = _faiss()
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef, k)
        if bits is not None:
            params.sel = selector = faiss.IDSelectorBitmap(bits)  # noqa: F841 (kept alive)
        scores, rows = self._index.search(query[None, :], k, params=params)
        keep = rows[0] >= 0
        return self._ids[rows[0][keep]], scores[0][keep]

    def _search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> SearchResult:
        live, total = len(self._row), self._index.ntotal
        if not live:
            return _EMPTY
        if allowed is None:
            if live == total:
                return self._graph(query, k, self.ef_search, None)
            if self._live_bits is None:
                self._live_bits = np.packbits(self._live[:total], bitorder="little")
            return self._graph(query, k, self.ef_search, self._live_bits)
        found = self._allowed_mask_or_rows(allowed)
        rows = None if found.dtype == bool else found
        if rows is not None and not np.all(rows[1:] > rows[:-1]):
            rows = np.unique(rows)  # allowed repeated ids or was unsorted
        count = int(found.sum()) if rows is None else rows.size
        if count <= self._exact_limit(live):
            return self._exact(query, k, np.nonzero(found)[0] if rows is None else rows)
        if rows is not None:
            found = np.zeros(total, bool)
            found[rows] = True
        # a filter keeping a share f of the set needs ef ~ ef_search / sqrt(f) for the same recall
        ef = min(int(self.ef_search * (live / count) ** 0.5), max(self.max_filter_ef, self.ef_search))
        ids, scores = self._graph(query, k, ef, np.packbits(found, bitorder="little"))
        if ids.size < min(k, count):  # the walk ran dry inside a sparse filter
            return self._exact(query, k, np.nonzero(found)[0])
        return ids, scores

    def _exact_limit(self, live: int) -> float:
        """Largest filter served by brute force. Measured at 1M on 2 cores: a gathered exact
        product costs ~0.3 us/row, a filtered walk ~6 us per ef step with ef ~ ef_search/sqrt(f),
        so brute force wins while rows**1.5 < 20 * ef_search * sqrt(live) (~40k rows at 1M)."""
        if self.exact_below is not None:
            return self.exact_below
        return (20 * self.ef_search * live**0.5) ** (2 / 3)

    def contains(self, id: int) -> bool:
        return int(id) in self._row

    def __len__(self) -> int:
        return len(self._row)

    def rebuilt(self) -> HnswIndex:
        """A fresh graph of the live rows only (reclaims tombstones). Built from a snapshot, so
        searches on this index go on meanwhile; the caller swaps the result in."""
        with self._lock.read():
            rows = np.nonzero(self._live[: self._index.ntotal])[0]
            ids, vectors = self._ids[rows], self._vectors()[rows]
        fresh = HnswIndex(self.dim, **self.params())
        fresh.add(ids, vectors)
        return fresh

    def _save(self, directory: Path) -> None:
        _faiss().write_index(self._index, str(directory / "hnsw.faiss"))
        total = self._index.ntotal
        np.save(directory / "ids.npy", self._ids[:total])
        np.save(directory / "live.npy", self._live[:total])
        meta = {"kind": self.kind, "dim": self.dim, "params": self.params()}
        (directory / _META).write_text(json.dumps(meta))

    @classmethod
    def _load(cls, directory: Path, meta: dict) -> HnswIndex:
        index = cls(meta["dim"], **meta["params"])
        index._index = _faiss().read_index(str(directory / "hnsw.faiss"))
        index._ids, index._live = np.load(directory / "ids.npy"), np.load(directory / "live.npy")
        if not index._ids.size == index._live.size == index._index.ntotal:
            raise ValueError(f"{directory}: id map does not match the graph")
        rows = np.nonzero(index._live)[0]
        index._row = dict(zip(index._ids[rows].tolist(), rows.tolist(), strict=True))
        return index


class TieredIndex(VectorIndex):
    """Exact while small, HNSW from ``threshold`` faces on (one way; it never migrates back).

    Why 50,000 by default: bench/index_choice.py measured the exact single-query p50 on 2 cores
    at ~0.1-0.2 ms for 20k, ~0.3-0.9 ms for 50k and ~1.2-2.0 ms for 100k faces (two BLAS threads
    / one), and the exact path is also 3x smaller and removes cleanly; 50k keeps the exact p50
    near 1 ms with headroom for a busy machine. The migration build (~10 s at 50k on 2 cores)
    runs outside the search lock: searches keep using the exact index until the graph is ready.

    Concurrency: mutations are serialised by an internal mutex; searches never wait for a
    migration, and each search runs entirely on one backend (exact or HNSW).
    """

    kind = "tiered"

    def __init__(self, dim: int, threshold: int = 50_000, hnsw: dict | None = None) -> None:
        super().__init__(dim)
        self.threshold = int(threshold)
        self.hnsw_params = dict(hnsw or {})
        self._inner: VectorIndex = ExactIndex(self.dim)
        self._mutate = threading.Lock()

    @property
    def backend(self) -> VectorIndex:
        return self._inner

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._mutate:
            self._inner.add(ids, vectors)
            inner = self._inner
            if isinstance(inner, ExactIndex) and len(inner) >= self.threshold:
                graph = HnswIndex(self.dim, **self.hnsw_params)
                graph.add(*inner.snapshot())
                self._inner = graph  # atomic swap: in-flight searches finish on the exact one

    def remove(self, ids: np.ndarray) -> int:
        with self._mutate:
            return self._inner.remove(ids)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> SearchResult:
        return self._inner.search(query, k, allowed)  # no lock here: the backend has its own

    def contains(self, id: int) -> bool:
        return self._inner.contains(id)

    def __len__(self) -> int:
        return len(self._inner)

    def save(self, path: str | os.PathLike) -> None:
        with self._mutate:
            _write_dir(path, self._save)

    _add = add  # the public methods above replace the base ones; hooks only for completeness
    _remove = remove
    _search = search

    def _save(self, directory: Path) -> None:
        self._inner.save(directory / "inner")
        meta = {"kind": self.kind, "dim": self.dim, "threshold": self.threshold, "hnsw": self.hnsw_params}
        (directory / _META).write_text(json.dumps(meta))

    @classmethod
    def _load(cls, directory: Path, meta: dict) -> TieredIndex:
        index = cls(meta["dim"], meta["threshold"], meta["hnsw"])
        index._inner = VectorIndex.load(directory / "inner")
        return index


_KINDS: dict[str, type[VectorIndex]] = {k.kind: k for k in (ExactIndex, HnswIndex, TieredIndex)}
