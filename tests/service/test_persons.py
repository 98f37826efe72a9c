"""PersonService and GroupSearchService on a real SQLite store and index registry, with a stand-in
for the vision pipeline (an "image" here is the embedding its one face gets): the rules, the
fused per-person score, the unique-person check and the take-back after an index failure."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import numpy as np
import pytest

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.facesets import FaceSetService
from openfrs.service.group_search import GroupSearchService
from openfrs.service.indexes import IndexRegistry
from openfrs.service.persons import GroupSpec, NewPerson, PersonError, PersonService, fused
from openfrs.service.scores import similarity_at_far
from openfrs.service.setfaces import SetFaceService
from openfrs.service.workers import InferencePool
from openfrs.store.sqlite import SQLiteMetadataStore
from openfrs.vision.types import Box, Face

MODEL = "faceplugin/fr_feature-0.0.1"
DIM = 16


class FakeFaces:
    """The FaceService surface PersonService uses; an image is a vector (one face) or None (no face)."""

    def __init__(self) -> None:
        self.pool = InferencePool(2)
        self.pipeline = SimpleNamespace(recognisers={MODEL: None})

    def has_model(self, version: str) -> bool:
        return version == MODEL

    def no_face(self, code: str, where: str = "the image") -> FRSError:
        return FRSError(code, where)

    def embedded_faces_blocking(self, image, single, codes=frozenset(), model=None) -> list[Face]:
        if image is None:
            return []
        vector = np.asarray(image, np.float32)
        face = Face(Box(10, 10, 110, 110), 0.99, np.full((5, 2), np.nan, np.float32))
        face.embedding = vector / np.linalg.norm(vector)
        return [face]


def unit(*hot: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    vector = (
        np.random.default_rng(seed).normal(0, noise, DIM).astype(np.float32)
        if noise
        else np.zeros(DIM, np.float32)
    )
    for index in hot:
        vector[index] += 1.0
    return vector / np.linalg.norm(vector)


@pytest.fixture
def services(tmp_path):
    store = SQLiteMetadataStore(tmp_path / "meta.db")
    indexes = IndexRegistry(store, dims={MODEL: DIM})
    settings = Settings(data_dir=tmp_path, auth="off", database_url=None)
    faces = FakeFaces()
    set_faces = SetFaceService(FaceSetService(store, settings, MODEL, indexes), faces, indexes)
    persons = PersonService(set_faces)
    yield persons, GroupSearchService(persons), indexes
    faces.pool.shutdown()
    store.close()


def run(coro):
    return asyncio.run(coro)


def test_person_search_scores_the_fused_feature(services):
    persons, search, _ = services

    async def scenario():
        await persons.create_group("p", GroupSpec("g1", "one"))
        await persons.create_group("p", GroupSpec("g2", "two"))
        await persons.create_person("p", "g1", NewPerson("ann", "Ann"), unit(0))
        await persons.add_faces("p", "ann", [unit(0, 1)], min_similarity=0.0)
        await persons.create_person("p", "g2", NewPerson("bob", "Bob"), unit(5))
        per_face = await search.search("p", ["g1", "g2"], unit(0, 1), per_person=False, limit=5)
        per_person = await search.search("p", ["g1", "g2"], unit(0, 1), per_person=True, limit=5)
        return per_face, per_person, await persons.person("p", "ann")

    per_face, per_person, ann = run(scenario())
    assert per_face.faces == 3 and per_person.persons == 2
    best_face = per_face.results[0].candidates[0]
    assert best_face.person.person_id == "ann" and best_face.face_id == ann.faces[1].face_id
    assert [c.person.person_id for c in per_face.results[0].candidates] == ["ann", "bob"]  # one per person
    best_person = per_person.results[0].candidates[0]
    assert best_person.face_id is None and best_person.person.person_id == "ann"
    assert best_person.similarity < best_face.similarity  # the fused feature, not the best face
    np.testing.assert_allclose(np.linalg.norm(fused(ann)), 1.0, rtol=1e-5)


def test_unique_person_check_and_batch_statuses(services):
    persons, _, _ = services

    async def scenario():
        await persons.create_group("p", GroupSpec("g1", "one"))
        await persons.create_person("p", "g1", NewPerson("ann", "Ann"), unit(0))
        again = await persons.create_person(
            "p",
            "g1",
            NewPerson("ann2", "Ann"),
            unit(0, noise=0.01),
            unique_similarity=similarity_at_far(1e-3),
        )
        outcomes = await persons.add_faces(
            "p", "ann", [unit(0, noise=0.01, seed=2), None, unit(7)], min_similarity=similarity_at_far(1e-5)
        )
        return again, outcomes

    again, outcomes = run(scenario())
    assert again.person is None and again.similar_person_id == "ann"
    assert [o.status for o in outcomes] == ["ok", "decode", "not_similar"]
    with pytest.raises(PersonError) as caught:
        run(persons.person("p", "ann2"))
    assert caught.value.kind == "person_not_found"


def test_an_index_failure_takes_the_change_back(services, monkeypatch):
    persons, _, indexes = services
    run(persons.create_group("p", GroupSpec("g1", "one")))

    def broken(*args):
        raise ConnectionError("index down")

    monkeypatch.setattr(indexes, "add", broken)
    with pytest.raises(ConnectionError):
        run(persons.create_person("p", "g1", NewPerson("ann", "Ann"), unit(0)))
    assert persons.store.get_person("p", "ann") is None
    assert persons.store.group_counts(persons.store.get_group("p", "g1").set_key) == (0, 0)


def test_limits_are_service_rules(services):
    persons, _, _ = services

    async def scenario():
        await persons.create_group("p", GroupSpec("g1", "one", descriptions=("a",)))
        await persons.create_person("p", "g1", NewPerson("ann", "Ann", descriptions={0: "x"}), unit(0))
        await persons.add_faces("p", "ann", [unit(0)] * 4)
        return await persons.person("p", "ann")

    assert len(run(scenario()).faces) == 5
    for call, kind in (
        (persons.add_faces("p", "ann", [unit(0)]), "too_many_faces"),
        (
            persons.create_person("p", "g1", NewPerson("bob", "B", descriptions={1: "y"}), unit(3)),
            "description_index",
        ),
        (persons.create_group("p", GroupSpec("g2", "two", descriptions=("a", "a"))), "description_conflict"),
        (
            persons.delete_faces("p", "ann", [f.face_id for f in persons.store.get_person("p", "ann").faces]),
            "last_face",
        ),
        (persons.leave_group("p", "ann", "nope"), "group_not_found"),
    ):
        with pytest.raises(PersonError) as caught:
            run(call)
        assert caught.value.kind == kind
    assert run(persons.leave_group("p", "ann", "g1")) is True  # its last group: the person goes
    assert persons.store.get_person("p", "ann") is None
