"""IndexRegistry over Milvus (issue 16): API replicas, each with its own PostgreSQL store and
Milvus client, share one collection per face set.

Real PostgreSQL (OPENFRS_TEST_DATABASE_URL) and a real Milvus server started here; either
missing fails these tests, as in tests/store: a skip would hide a broken scale-out mode.
"""

from __future__ import annotations

import asyncio
import time
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest
from pymilvus import MilvusClient, MilvusException

from openfrs.errors import FRSError
from openfrs.service.facesets import FaceSetService, FaceSetSpec
from openfrs.service.indexes import IndexRegistry
from openfrs.service.search_params import SearchParams
from openfrs.service.setfaces import NewFaces, SetFaceService
from openfrs.service.workers import InferencePool
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.records import FaceRecord
from openfrs.store.synthetic import clustered_embeddings
from openfrs.store.vectors.milvus import collection_name
from openfrs.vision.types import Box, Face
from tests.store.milvus_server import MilvusServer, session_server
from tests.store.store_helpers import PG_URL, face_set, postgres_schema

DIM = 128
MODEL = "faceplugin/fr_feature-0.0.1"  # a model with a similarity calibration (service search)
PROJECT = "p1"


@pytest.fixture(scope="session")
def server(request) -> MilvusServer:
    return session_server(request)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return clustered_embeddings(1_200, DIM, seed=5)[0]


@pytest.fixture
def open_store() -> Iterator[Callable[[], PostgresMetadataStore]]:
    """Stores on one fresh schema: each call is another replica's connection pool."""
    opened: list[PostgresMetadataStore] = []
    with postgres_schema() as schema:
        def open_one() -> PostgresMetadataStore:
            opened.append(PostgresMetadataStore(PG_URL, schema, max_connections=4))
            return opened[-1]

        yield open_one
        for store in opened:
            store.close()


@pytest.fixture
def replica(server, open_store) -> Iterator[Callable[..., tuple[PostgresMetadataStore, IndexRegistry]]]:
    """Another replica: its own store pool, Milvus client and registry; this test's prefix."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    made: list[IndexRegistry] = []

    def make(client: MilvusClient | None = None, wrap=None) -> tuple[PostgresMetadataStore, IndexRegistry]:
        store = open_store()
        registry = IndexRegistry.shared(wrap(store) if wrap else store, server.uri, prefix, {MODEL: DIM},
                                        client=client)
        made.append(registry)
        return store, registry

    yield make
    for registry in made:
        registry.close()
    admin = MilvusClient(uri=server.uri)
    for name in admin.list_collections():
        if name.startswith(prefix):
            admin.drop_collection(name)
    admin.close()


class CountingClient:
    """A MilvusClient that counts the rows it upserts (a rebuild would re-send every vector) and
    fails the next upsert when told to."""

    def __init__(self, uri: str) -> None:
        self.client, self.upserted, self.fail_next = MilvusClient(uri=uri), 0, False

    def upsert(self, collection: str, rows: list, **kwargs):
        if self.fail_next:
            self.fail_next = False
            raise MilvusException(message="injected: Milvus unreachable")
        self.upserted += len(rows)
        return self.client.upsert(collection, rows, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.client, name)


def new_set(store: PostgresMetadataStore, name: str = "staff") -> int:
    record = replace(face_set(name, PROJECT, capacity=100_000, fields={}), model_version=MODEL)
    return store.create_face_set(record).key


def commit(store: PostgresMetadataStore, set_key: int, vectors: np.ndarray) -> np.ndarray:
    """What the service does first: the store commits the faces; returns their keys."""
    records = [FaceRecord(face_id=uuid.uuid4().hex[:8], external_image_id="img", bounding_box=(0, 0, 1, 1),
                          embedding=v, model_version=MODEL) for v in vectors]
    return np.array([r.key for r in store.add_faces(set_key, records)], np.int64)


def add(store: PostgresMetadataStore, registry: IndexRegistry, set_key: int,
        vectors: np.ndarray) -> np.ndarray:
    """As SetFaceService adds: store commit first, then the registry."""
    keys = commit(store, set_key, vectors)
    registry.add(set_key, keys, vectors)
    return keys


def test_replicas_see_each_others_adds_removes_and_set_deletion(server, replica, vectors) -> None:
    store_a, a = replica()
    store_b, b = replica()
    set_key = new_set(store_a)
    assert len(b.get(set_key)) == 0  # B creates the collection and serves from it
    keys = add(store_a, a, set_key, vectors[:300])  # A has not loaded the set: forwarded all the same
    assert len(b.get(set_key)) == 300

    for i in range(300, 310):  # acknowledged by A, then at once searched on B
        (key,) = add(store_a, a, set_key, vectors[i : i + 1])
        assert b.get(set_key).search(vectors[i], 1)[0].tolist() == [key]

    gone = keys[:20]
    store_a.delete_faces(set_key, gone)
    a.remove(set_key, gone)
    for i in range(20):
        assert not np.isin(b.get(set_key).search(vectors[i], 10)[0], gone).any()
    assert len(b.get(set_key)) == 290

    assert store_a.delete_face_set(PROJECT, "staff")
    a.drop(set_key)
    admin = MilvusClient(uri=server.uri)
    assert not admin.has_collection(collection_name(a.provider.prefix, set_key))
    assert store_b.get_face_set(PROJECT, "staff") is None  # the service answers FRS.0302 here
    with pytest.raises(MilvusException):  # a race past that check errors, never answers stale faces
        b.get(set_key).search(vectors[0], 1)
    _, c = replica()
    with pytest.raises(LookupError):  # a replica never re-creates the index of a deleted set
        c.get(set_key)
    c.drop(set_key)  # already gone: nothing to do
    assert not admin.has_collection(collection_name(a.provider.prefix, set_key))
    admin.close()


def test_restart_attaches_without_rebuilding_and_catches_up(server, replica, vectors) -> None:
    """kill -9 between a commit and its index update (an add and a remove lost): the next
    process attaches, sends only the difference, and finds exactly the store's faces."""
    store, first = replica()
    set_key = new_set(store)
    keys = add(store, first, set_key, vectors[:1_000])
    first.close()
    lost_adds = commit(store, set_key, vectors[1_000:1_003])
    store.delete_faces(set_key, keys[:2])  # removal never forwarded

    counting = CountingClient(server.uri)
    _, restarted = replica(client=counting)
    started = time.monotonic()
    index = restarted.get(set_key)
    attach_s = time.monotonic() - started
    assert counting.upserted == 3  # the lost adds, not the 1,001 faces
    np.testing.assert_array_equal(np.sort(index.ids()), store.face_keys(set_key))
    for key, vector in zip(lost_adds, vectors[1_000:1_003], strict=True):
        assert index.search(vector, 1)[0].tolist() == [key]
    assert attach_s < 5, attach_s

    _, again = replica(client=CountingClient(server.uri))  # idempotent: a second replica sends nothing
    assert len(again.get(set_key)) == 1_001 and again.provider.client.upserted == 0


def test_a_failed_forward_is_caught_up_by_the_next_use(server, replica, vectors) -> None:
    """Milvus refuses an add after the store committed it: the add fails, and this replica's
    next use of the set reconciles the committed face into the shared index."""
    client = CountingClient(server.uri)
    store, a = replica(client=client)
    set_key = new_set(store)
    add(store, a, set_key, vectors[:10])
    client.fail_next = True
    with pytest.raises(MilvusException):
        add(store, a, set_key, vectors[10:11])
    (key,) = store.face_keys(set_key)[-1:]
    assert a.get(set_key).search(vectors[10], 1)[0].tolist() == [key]


def test_start_prunes_collections_of_deleted_sets(server, replica, vectors) -> None:
    store, a = replica()
    kept, deleted = new_set(store, "kept"), new_set(store, "deleted")
    add(store, a, kept, vectors[:5])
    add(store, a, deleted, vectors[5:10])
    store.delete_face_set(PROJECT, "deleted")  # the replica died before dropping the collection
    _, b = replica()
    b.start()
    admin = MilvusClient(uri=server.uri)
    assert not admin.has_collection(collection_name(b.provider.prefix, deleted))
    assert admin.has_collection(collection_name(b.provider.prefix, kept))
    admin.close()
    assert len(b.get(kept)) == 5


class DeletesWhileCopying:
    """A store on which another replica deletes a face between a reconcile's read of the missing
    faces and its upsert of them (the upsert would bring the deleted face back)."""

    def __init__(self, store: PostgresMetadataStore) -> None:
        self.store, self.meanwhile = store, []

    def iter_embeddings(self, set_key: int, keys: np.ndarray | None = None, batch: int = 10_000):
        for found in self.store.iter_embeddings(set_key, keys, batch):
            while self.meanwhile:
                self.meanwhile.pop()()
            yield found

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_reconcile_does_not_resurrect_a_face_deleted_meanwhile(replica, vectors) -> None:
    store_a, a = replica()
    set_key = new_set(store_a)
    add(store_a, a, set_key, vectors[:10])
    lost = commit(store_a, set_key, vectors[10:15])  # committed, index add lost
    racing: list[DeletesWhileCopying] = []
    _, b = replica(wrap=lambda store: racing.append(DeletesWhileCopying(store)) or racing[-1])

    def delete_on_a() -> None:
        store_a.delete_faces(set_key, lost[:1])
        a.remove(set_key, lost[:1])

    racing[0].meanwhile.append(delete_on_a)
    index = b.get(set_key)
    assert not racing[0].meanwhile  # the deletion did run mid-reconcile
    np.testing.assert_array_equal(np.sort(index.ids()), store_a.face_keys(set_key))
    assert lost[0] not in index.search(vectors[10], 3)[0]


class StubFaces:
    """FaceService's surface SetFaceService uses; the 'image' is the embedding itself."""

    def __init__(self) -> None:
        self.pool = InferencePool(2)

    def has_model(self, version: str) -> bool:
        return version == MODEL

    def embedded_faces_blocking(self, image: np.ndarray, single: bool, codes, model) -> list[Face]:
        return [Face(Box(0, 0, 10, 10), 0.99, np.zeros((5, 2), np.float32), embedding=image)]


def test_service_layer_runs_unchanged_on_shared_indexes(replica, vectors) -> None:
    settings = types.SimpleNamespace(default_face_set_capacity=10_000, max_face_set_capacity=100_000,
                                     max_face_sets=10)

    def services(store: PostgresMetadataStore, registry: IndexRegistry) -> SetFaceService:
        face_sets = FaceSetService(store, settings, MODEL, registry)
        return SetFaceService(face_sets, StubFaces(), registry)

    a, b = services(*replica()), services(*replica())

    async def scenario() -> None:
        await a.face_sets.create(PROJECT, FaceSetSpec("visitors"))
        added = await a.add(PROJECT, "visitors", vectors[0], NewFaces(external_image_id="v0"))
        await a.add(PROJECT, "visitors", vectors[1], NewFaces())
        params = SearchParams(face_id=added.faces[0].face_id, top_n=1)
        hits = await b.search(PROJECT, "visitors", params, None)
        assert [h.face.external_image_id for h in hits] == ["v0"]
        await a.delete(PROJECT, "visitors", "external_image_id", "v0")
        hits = await b.search(PROJECT, "visitors", SearchParams(top_n=5), vectors[0])
        assert "v0" not in [h.face.external_image_id for h in hits] and len(hits) == 1
        await a.face_sets.delete(PROJECT, "visitors")
        with pytest.raises(FRSError) as error:
            await b.search(PROJECT, "visitors", params, None)
        assert error.value.code == "FRS.0302"

    asyncio.run(scenario())
