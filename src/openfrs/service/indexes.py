"""One in-memory vector index per face set, built from the metadata store (the source of truth).

The store commits first, the index follows; after a crash the index is simply rebuilt from the
store on first use, so an acknowledged face is never missing from search.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from openfrs.store.sqlite import SQLiteMetadataStore
from openfrs.store.vector_index import TieredIndex, VectorIndex

EMBEDDING_DIM = 128


class IndexRegistry:
    def __init__(self, store: SQLiteMetadataStore,
                 factory: Callable[[], VectorIndex] = lambda: TieredIndex(EMBEDDING_DIM)) -> None:
        self.store = store
        self.factory = factory
        self._indexes: dict[int, VectorIndex] = {}
        self._lock = threading.Lock()

    def get(self, set_key: int) -> VectorIndex:
        """The set's index, loading it from the store the first time (blocking)."""
        with self._lock:
            index = self._indexes.get(set_key)
            if index is None:
                index = self.factory()
                for keys, vectors in self.store.iter_embeddings(set_key):
                    index.add(keys, vectors)
                self._indexes[set_key] = index
            return index

    def add(self, set_key: int, keys, vectors) -> None:
        """Index newly committed faces; keys a fresh build already picked up are skipped."""
        with self._lock:
            index = self._indexes.get(set_key)
            if index is None:
                return  # not loaded yet: the first get() reads these faces from the store
            fresh = [i for i, key in enumerate(keys) if not index.contains(int(key))]
            if fresh:
                index.add(keys[fresh], vectors[fresh])

    def remove(self, set_key: int, keys) -> None:
        with self._lock:
            index = self._indexes.get(set_key)
            if index is not None and len(keys):
                index.remove(keys)

    def drop(self, set_key: int) -> None:
        with self._lock:
            self._indexes.pop(set_key, None)
