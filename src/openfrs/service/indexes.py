"""One in-memory vector index per face set: a cache of the metadata store (the source of truth),
snapshotted to disk so a restart does not rebuild graphs.

Order of writes: the store commits first, the index follows. After any stop (a clean one, or
kill -9 between a commit and the index update, or in the middle of a snapshot) the index is
loaded from its last snapshot and reconciled with the store: faces the store has and the snapshot
lacks are added, faces the snapshot has and the store no longer has are removed. Face keys are
never reused and a stored embedding never changes, so equal key sets mean equal indexes. With no
usable snapshot the index is rebuilt from the store: exact first (seconds), the HNSW graph
behind it in the background.

Scale-out (issue 16): ``IndexRegistry.shared(store, uri, prefix, dims)`` (or ``provider=`` any
service/index_providers.SharedIndexes) keeps each set's index in Milvus, shared by every replica
and durable. The service layer calls the same methods; the registry then attaches to the set's
collection instead of building an index, reconciles it with the store by key diff the first time
this process uses the set (idempotent, so replicas may do it at once), forwards every add and
remove even for sets it has not loaded (no later load on another replica would catch them up),
drops the collection with its face set, prunes collections of deleted sets at start, and never
snapshots.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from openfrs.service.index_providers import MilvusProvider, SharedIndexes
from openfrs.store.base import MetadataStore
from openfrs.store.vectors import TieredIndex, VectorIndex

DEFAULT_DIM = 128  # a set of an unknown model with no faces yet
SAVE_SHARE = 0.05  # big sets: a snapshot is due once this share has changed (else save_changes)
log = logging.getLogger("openfrs.index")


def index_or_undo(index: Callable[[], object], undo: Callable[[], object], what: str) -> None:
    """Index what the store has just committed; should that fail (a shared index down: the call
    answers an error), `undo` takes the change back out of the store, so the refusal stores
    nothing and the client's retry duplicates nothing. Should the undo fail too (the database down
    as well) the change stays, and the set's next load reconciles the index with it."""
    try:
        index()
    except Exception:
        try:
            undo()
        except Exception:  # noqa: BLE001 - the original failure is the one to answer
            log.warning("could not take back %s after an index failure", what)
        raise


class IndexRegistry:
    """Thread-safe. Each set has its own lock, held while the set's index is loaded, mutated or
    snapshotted, so one big set loading never holds up another and no committed face can slip
    between a load and the first update.

    Each set's index has the dimension of the recogniser the set records (`dims`: model version
    -> dimension); a model not loaded takes it from the set's stored embeddings."""

    def __init__(self, store: MetadataStore, directory: Path | None = None,
                 factory: Callable[[int], VectorIndex] = TieredIndex,
                 save_changes: int = 10_000, save_interval_s: float = 600.0,
                 dims: Mapping[str, int] | None = None, provider: SharedIndexes | None = None) -> None:
        if provider is not None and directory is not None:
            raise ValueError("shared indexes are durable: they take no snapshot directory")
        self.store = store
        self.provider = provider
        self.directory = None if directory is None else Path(directory)
        self.factory = factory
        self.dims = dict(dims or {})
        self.save_changes = save_changes
        self.save_interval_s = save_interval_s
        self._indexes: dict[int, VectorIndex] = {}
        self._set_locks: dict[int, threading.Lock] = {}
        self._unsaved: dict[int, int] = {}  # changes since the last snapshot
        self._saved: dict[int, tuple[float, str]] = {}  # (monotonic time, backend kind) of it
        self._lock = threading.Lock()  # guards the dicts above, never held for long
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def shared(cls, store: MetadataStore, uri: str, prefix: str = "openfrs",
               dims: Mapping[str, int] | None = None, **options) -> IndexRegistry:
        """Every replica's registry on one Milvus at ``uri``; ``prefix`` names this deployment's
        collections (``options``: MilvusProvider's, e.g. ``client``)."""
        return cls(store, dims=dims, provider=MilvusProvider(uri, prefix, **options))

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, check_every_s: float = 30.0) -> None:
        """Remove snapshots of deleted sets, load every set in the background (searches on a
        set wait only for that set) and snapshot changed indexes from then on. Shared indexes:
        drop those of deleted sets and load (attach and reconcile) every set; nothing to save."""
        if self.provider is not None:
            pruned = self.provider.prune(self.store.face_set_keys)
            if pruned:
                log.info("dropped %d shared index(es) of deleted face sets", pruned)
        self._remove_orphan_snapshots()
        self._spawn(self._warm_all, "openfrs-index-warm")
        if self.directory is not None:
            self._spawn(lambda: self._maintain_every(check_every_s), "openfrs-index-save")

    def close(self) -> None:
        """Stop the background threads and snapshot whatever changed (a clean shutdown)."""
        self._stop.set()
        for thread in self._threads[1:]:  # not the warm-up: it stops after the set it is loading
            thread.join()
        self.maintain(force=True)
        if self.provider is not None:
            if self._threads:
                self._threads[0].join()  # the warm-up uses the provider's connection
            self.provider.close()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _warm_all(self) -> None:
        for set_key in self.store.face_set_keys():
            if self._stop.is_set():
                return
            try:
                self.get(set_key)
            except Exception:  # the set stays unloaded; its first search retries and reports
                log.exception("loading the index of face set %d failed", set_key)

    def _maintain_every(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                self.maintain()
            except Exception:
                log.exception("index snapshot failed; the store still holds every face")

    # -- reads and updates ----------------------------------------------------------------

    def _set_lock(self, set_key: int) -> threading.Lock:
        with self._lock:
            return self._set_locks.setdefault(set_key, threading.Lock())

    def get(self, set_key: int) -> VectorIndex:
        """The set's index, loading it the first time (blocking)."""
        index = self._indexes.get(set_key)
        if index is not None:
            return index
        with self._set_lock(set_key):
            return self._loaded(set_key)

    def _loaded(self, set_key: int) -> VectorIndex:
        """Called with the set's lock held."""
        index = self._indexes.get(set_key)
        if index is None:
            index, changes = self._load(set_key)
            with self._lock:
                self._indexes[set_key] = index
                self._unsaved[set_key] = changes
        return index

    def add(self, set_key: int, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Index newly committed faces."""
        with self._updating(set_key) as index:
            if index is None:
                return  # not loaded: its load reads these faces from the store
            index.add(keys, vectors)
            self._changed(set_key, len(keys))

    def remove(self, set_key: int, keys: np.ndarray) -> None:
        with self._updating(set_key) as index:
            if index is not None and len(keys):
                self._changed(set_key, index.remove(keys))

    @contextmanager
    def _updating(self, set_key: int) -> Iterator[VectorIndex | None]:
        """With the set's lock held, the index an update goes to: a local one only if loaded, a
        shared one always (other replicas read it and will not reload it). A failed shared update
        unloads the set, so its next use here reconciles it with the store, which has the change."""
        with self._set_lock(set_key):
            if self.provider is None:
                yield self._indexes.get(set_key)
                return
            try:
                yield self._loaded(set_key)
            except Exception:
                with self._lock:
                    self._indexes.pop(set_key, None)
                raise

    def drop(self, set_key: int) -> None:
        """Forget a deleted set: its index and its snapshot (a shared index: delete it)."""
        with self._set_lock(set_key):
            with self._lock:
                self._indexes.pop(set_key, None)
                self._unsaved.pop(set_key, None)
                self._saved.pop(set_key, None)
            if self.provider is not None:
                self.provider.drop(set_key)
            if self.directory is not None:
                shutil.rmtree(self._path(set_key), ignore_errors=True)

    def _changed(self, set_key: int, count: int) -> None:
        with self._lock:
            self._unsaved[set_key] = self._unsaved.get(set_key, 0) + count

    # -- snapshots ----------------------------------------------------------------------

    def _path(self, set_key: int) -> Path:
        assert self.directory is not None
        return self.directory / str(set_key)

    def _load(self, set_key: int) -> tuple[VectorIndex, int]:
        """(index, changes not in its snapshot) from the snapshot and the store."""
        started = time.monotonic()
        if self.provider is not None:
            return self._attach(set_key, started)
        dim = self._dim(set_key)
        index = self._read_snapshot(set_key, dim)
        if index is None:
            index = self.factory(dim)
            changes = index.add_batches(self.store.iter_embeddings(set_key))
            how = "rebuilt from the store"
        else:
            changes = self._reconcile(set_key, index)
            how = f"loaded from its snapshot ({changes} change(s) caught up)"
            with self._lock:
                self._saved[set_key] = (time.monotonic(), index.serving_kind)
        log.info("index of face set %d: %d faces %s in %.2f s", set_key, len(index), how,
                 time.monotonic() - started)
        return index, changes

    def _attach(self, set_key: int, started: float) -> tuple[VectorIndex, int]:
        """A shared index is never rebuilt: attach and catch up with the store by key diff."""
        assert self.provider is not None
        if self.store.face_set_model(set_key) is None:  # never create an index for no set
            raise LookupError(f"no face set with key {set_key}")
        index = self.provider.attach(set_key, self._dim(set_key))
        changes = self._reconcile(set_key, index)
        log.info("shared index of face set %d: %d faces, attached with %d change(s) caught up "
                 "in %.2f s", set_key, len(index), changes, time.monotonic() - started)
        return index, changes

    def _dim(self, set_key: int) -> int:
        version = self.store.face_set_model(set_key)
        if version in self.dims:
            return self.dims[version]
        for _, vectors in self.store.iter_embeddings(set_key, batch=1):
            return int(vectors.shape[1])
        return DEFAULT_DIM

    def _read_snapshot(self, set_key: int, dim: int) -> VectorIndex | None:
        if self.directory is None or not self._path(set_key).exists():
            return None
        try:
            index = VectorIndex.load(self._path(set_key))
        except Exception:  # damaged or from another version: the store rebuilds it
            log.warning("snapshot of face set %d unreadable; rebuilding", set_key, exc_info=True)
            return None
        return index if index.dim == dim else None

    def _reconcile(self, set_key: int, index: VectorIndex) -> int:
        """Key diff with the store. The index is read first: a face reaches it only after its
        commit, so a face it has and the store then lacks was deleted, never one committed by
        another replica meanwhile."""
        present = index.ids()
        stored = self.store.face_keys(set_key)
        extra = np.setdiff1d(present, stored, assume_unique=True)
        missing = np.setdiff1d(stored, present, assume_unique=True)
        removed = index.remove(extra) if extra.size else 0
        added = index.add_batches(self.store.iter_embeddings(set_key, missing)) if missing.size else 0
        if self.provider is not None and added:  # another replica may delete what we just copied
            gone = np.setdiff1d(missing, self.store.face_keys(set_key), assume_unique=True)
            removed += index.remove(gone) if gone.size else 0
        return removed + added

    def maintain(self, force: bool = False) -> int:
        """Snapshot every loaded index that is due (all changed ones when ``force``); returns how
        many were written. Due: many changes, changes older than the interval, or a migration
        to HNSW finished since the last snapshot."""
        if self.directory is None:
            return 0
        written = 0
        for set_key in list(self._indexes):
            with self._set_lock(set_key):
                index = self._indexes.get(set_key)
                if index is not None and self._due(set_key, index, force):
                    index.save(self._path(set_key))
                    with self._lock:
                        self._unsaved[set_key] = 0
                        self._saved[set_key] = (time.monotonic(), index.serving_kind)
                    written += 1
        return written

    def _due(self, set_key: int, index: VectorIndex, force: bool) -> bool:
        if getattr(index, "migrating", False):
            return False  # the graph is about to replace what a snapshot would write
        unsaved = self._unsaved.get(set_key, 0)
        saved_at, saved_kind = self._saved.get(set_key, (None, None))
        if saved_at is None:
            return unsaved > 0
        if saved_kind != index.serving_kind:
            return True
        if not unsaved:
            return False
        return (force or unsaved >= max(self.save_changes, SAVE_SHARE * len(index))
                or time.monotonic() - saved_at >= self.save_interval_s)

    def _remove_orphan_snapshots(self) -> None:
        if self.directory is None or not self.directory.exists():
            return
        live = {str(key) for key in self.store.face_set_keys()}
        for path in self.directory.iterdir():
            if path.name not in live:  # a deleted set, or a save interrupted mid-way
                shutil.rmtree(path, ignore_errors=True)
