"""The vector-index contract shared by every backend, and the small helpers they share.

Backends: ExactIndex (numpy brute force), HnswIndex (faiss graph), TieredIndex (exact while small,
HNSW above a threshold). Library and parameters were chosen by bench/index_choice.py.

Deployment note: run the service with OPENBLAS_NUM_THREADS=1 (the CLI sets it). On 2 shared cores
a threaded matrix-vector product gains ~30% when idle but stalls ~8 ms whenever another process
holds a core.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SearchResult = tuple[np.ndarray, np.ndarray]  # ids int64 [<=k], scores float32 [<=k], best first
META_FILE = "meta.json"
EMPTY: SearchResult = (np.empty(0, np.int64), np.empty(0, np.float32))


class RWLock:
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


def as_ids(ids: np.ndarray | list[int] | int) -> np.ndarray:
    return np.atleast_1d(np.asarray(ids, dtype=np.int64))


def rows_of(row_map: dict[int, int], ids: np.ndarray) -> np.ndarray:
    """Row of each id, -1 where absent."""
    return np.fromiter((row_map.get(i, -1) for i in ids.tolist()), np.int64, ids.size)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest scores, best first (argpartition, then sort only k)."""
    if k >= scores.size:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def grown(array: np.ndarray, used: int, need: int) -> np.ndarray:
    """A copy of ``array[:used]`` with room for ``need`` rows (x1.5 amortised growth), zero-filled."""
    out = np.zeros((max(need, int(array.shape[0] * 1.5)), *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


def write_dir(path: str | os.PathLike, write) -> None:
    """Write an index directory next to `path`, then swap it in, so a crash mid-save never leaves
    a half-written index where load() would find it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        _fsync_tree(tmp)  # the rename below must never expose files still in the page cache
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


def _fsync_tree(directory: Path) -> None:
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [directory]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
    _kinds: dict[str, type[VectorIndex]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        VectorIndex._kinds[cls.kind] = cls  # so load() can find the class a directory names

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)
        self._lock = RWLock()

    # -- public API, validating and locking; subclasses implement the _underscored versions --

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = as_ids(ids)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if ids.shape[0] != vectors.shape[0]:
            raise ValueError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if np.unique(ids).size != ids.size:
            raise ValueError("ids repeated within one add()")
        if not ids.size:
            return
        with self._lock.write():
            self._add(ids, vectors)

    def add_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
        """Add many (ids, vectors) batches, e.g. a rebuild from the store; returns how many."""
        count = 0
        for ids, vectors in batches:
            self.add(ids, vectors)
            count += len(ids)
        return count

    def remove(self, ids: np.ndarray) -> int:
        """Remove these ids (absent ones are ignored); returns how many were present."""
        ids = np.unique(as_ids(ids))
        with self._lock.write():
            return self._remove(ids) if ids.size else 0

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> SearchResult:
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(self.dim)
        allowed_ids = None if allowed is None else as_ids(allowed)
        if k <= 0 or (allowed_ids is not None and not allowed_ids.size):
            return EMPTY
        with self._lock.read():
            return self._search(query, int(k), allowed_ids)

    @property
    def serving_kind(self) -> str:
        """The kind of index answering searches now (a tiered index: its current tier)."""
        return self.kind

    @abstractmethod
    def contains(self, id: int) -> bool: ...

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def ids(self) -> np.ndarray:
        """Every id present (int64, any order): what start-up checks against the store."""

    def save(self, path: str | os.PathLike) -> None:
        """Write the index as a directory at ``path`` (replaced atomically if it exists)."""
        with self._lock.read():
            write_dir(path, self._save)

    @classmethod
    def load(cls, path: str | os.PathLike) -> VectorIndex:
        """Load any index written by ``save`` (the concrete class comes from its metadata)."""
        meta = json.loads((Path(path) / META_FILE).read_text())
        return VectorIndex._kinds[meta["kind"]]._load(Path(path), meta)

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
