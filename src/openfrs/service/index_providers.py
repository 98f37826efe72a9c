"""Shared index providers: vector indexes that live outside the process, one per face set, read
and written by every API replica (issue 16: stateless replicas).

IndexRegistry (service/indexes.py) builds in-process indexes itself, as a cache of the metadata
store snapshotted to disk. Given a provider it instead attaches to the set's durable index (never
rebuilt, never snapshotted), reconciles it with the store once per process, forwards every add
and remove, and drops the index with its face set (the design note in store/vectors/milvus.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from openfrs.store.vectors import VectorIndex
from openfrs.store.vectors.milvus import MilvusIndex, collection_name

if TYPE_CHECKING:
    from pymilvus import MilvusClient


class SharedIndexes(Protocol):
    """Where the registry finds each face set's shared index."""

    def attach(self, set_key: int, dim: int) -> VectorIndex:
        """The set's index, created empty if it has none yet (concurrent replicas may race)."""
        ...

    def drop(self, set_key: int) -> None:
        """Delete the index of a deleted face set (none: nothing to do)."""
        ...

    def prune(self, live_keys: Callable[[], Iterable[int]]) -> int:
        """Delete the indexes of face sets the store no longer has; returns how many."""
        ...

    def close(self) -> None: ...


class MilvusProvider:
    """One Milvus collection per face set, named ``collection_name(prefix, set_key)``; one client
    (one gRPC channel) for every set of the process. ``options`` go to each MilvusIndex
    (consistency, HNSW parameters, filter_limit)."""

    def __init__(self, uri: str, prefix: str = "openfrs", client: MilvusClient | None = None,
                 **options: Any) -> None:
        collection_name(prefix, 0)  # a bad prefix fails at start-up, not at the first face set
        self.uri, self.prefix, self.options = uri, prefix, options
        self._owned = client is None
        if client is None:
            import pymilvus  # lazy: only scale-out deployments need it

            client = pymilvus.MilvusClient(uri=uri)
        self.client = client
        self._name = re.compile(re.escape(prefix) + r"_set_(\d+)")

    def attach(self, set_key: int, dim: int) -> MilvusIndex:
        return MilvusIndex(dim, self.uri, collection_name(self.prefix, set_key), client=self.client,
                           **self.options)

    def drop(self, set_key: int) -> None:
        self._drop(collection_name(self.prefix, set_key))

    def _drop(self, name: str) -> None:
        from pymilvus import MilvusException

        try:
            self.client.drop_collection(name)
        except MilvusException:  # another replica dropped it first (or it never existed)
            if self.client.has_collection(name):
                raise

    def prune(self, live_keys: Callable[[], Iterable[int]]) -> int:
        """Collections are listed before the store is read: a collection exists only once its set
        was committed, so a set created meanwhile is in ``live_keys()`` and keeps its collection."""
        found = {int(m[1]): name for name in self.client.list_collections()
                 if (m := self._name.fullmatch(name))}
        live = set(live_keys())
        orphans = [name for key, name in found.items() if key not in live]
        for name in orphans:  # face-set keys are never reused: these sets are gone for good
            self._drop(name)
        return len(orphans)

    def close(self) -> None:
        if self._owned:
            self.client.close()
