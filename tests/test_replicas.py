"""Two `openfrs serve` replicas on one PostgreSQL schema and one Milvus (both real; Milvus is
started by the tests, PostgreSQL must be running: a missing one fails loudly): what one replica
acknowledges, the other serves in the very next request, and a replica killed with -9 in the
middle of a stream of adds loses no acknowledged face and leaves none half-written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from openfrs.client import Client
from openfrs.client.errors import FRSClientError
from openfrs.config import Settings
from tests.real_server import first_credential, serve
from tests.store.milvus_server import MilvusServer, session_server

pytestmark = pytest.mark.models


@pytest.fixture(scope="session")
def milvus(request) -> MilvusServer:
    return session_server(request)


@pytest.fixture
def scaleout_env(pg_env: dict[str, str], milvus: MilvusServer, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> dict[str, str]:
    """pg_env (a fresh schema) plus the Milvus address and a collection prefix of this test's own."""
    prefix = f"t{abs(hash(str(tmp_path))) % 10**9}"
    for name, value in {"OPENFRS_VECTOR_URL": milvus.uri, "OPENFRS_VECTOR_PREFIX": prefix}.items():
        monkeypatch.setenv(name, value)
    return {**pg_env, "OPENFRS_VECTOR_URL": milvus.uri, "OPENFRS_VECTOR_PREFIX": prefix}


def photos(shared_data: Path, n: int) -> list[Path]:
    """One photo each of n different LFW people."""
    return [sorted(folder.glob("*.jpg"))[0]
            for folder in sorted((shared_data / "lfw-partial/images").iterdir())[:n]]


def test_what_one_replica_acknowledges_the_other_serves_at_once(
        scaleout_env: dict[str, str], settings: Settings, shared_data: Path, tmp_path: Path):
    people = photos(shared_data, 3)
    a, url_a = serve(tmp_path / "a", settings.model_dir, tmp_path / "a.log")
    try:
        credential = first_credential(tmp_path / "a.log")
        b, url_b = serve(tmp_path / "b", settings.model_dir, tmp_path / "b.log")
        try:
            keys = (credential["project_id"], credential["ak"], credential["sk"])
            with Client(url_a, *keys) as on_a, Client(url_b, *keys) as on_b:
                on_a.create_face_set("staff", external_fields={"n": {"type": "integer"}})
                assert on_b.get_face_set("staff").face_number == 0
                added = [on_a.add_faces("staff", p, external_fields={"n": i}, single=True)[0]
                         for i, p in enumerate(people)]
                for face, photo in zip(added, people, strict=True):  # the very next request, on B
                    hits = on_b.search("staff", photo, top_n=1)
                    assert [h.face_id for h in hits] == [face.face_id] and hits[0].similarity > 0.9
                on_a.update_face("staff", added[0].face_id, external_fields={"n": 42})
                assert on_b.get_face("staff", added[0].face_id).external_fields["n"] == 42
                assert on_a.delete_face("staff", added[1].face_id) == 1
                assert added[1].face_id not in {h.face_id for h in on_b.search("staff", people[1], top_n=3)}
                on_b.delete_face_set("staff")
                with pytest.raises(FRSClientError):
                    on_a.get_face_set("staff")
        finally:
            b.kill()
            b.wait(timeout=20)
    finally:
        a.kill()
        a.wait(timeout=20)


def test_kill_9_of_a_replica_during_adds_loses_no_acknowledged_face(
        scaleout_env: dict[str, str], settings: Settings, shared_data: Path, tmp_path: Path):
    people = photos(shared_data, 40)
    a, url_a = serve(tmp_path / "a", settings.model_dir, tmp_path / "a.log")
    b = None
    try:
        credential = first_credential(tmp_path / "a.log")
        keys = (credential["project_id"], credential["ak"], credential["sk"])
        b, url_b = serve(tmp_path / "b", settings.model_dir, tmp_path / "b.log")
        with Client(url_b, *keys) as on_b:
            on_b.create_face_set("stream", external_fields={"n": {"type": "integer"}})
        acknowledged: dict[str, int] = {}

        def stream() -> None:
            with Client(url_a, *keys, timeout=10) as on_a:
                for i, photo in enumerate(people):
                    try:
                        face = on_a.add_faces("stream", photo, external_fields={"n": i}, single=True)[0]
                    except Exception:  # the replica died under us: what it acknowledged counts
                        return
                    acknowledged[face.face_id] = i

        writer = threading.Thread(target=stream)
        writer.start()
        while len(acknowledged) < 5 and writer.is_alive():
            threading.Event().wait(0.05)
        a.kill()
        a.wait(timeout=20)
        writer.join(timeout=30)
        assert 5 <= len(acknowledged) < len(people), len(acknowledged)

        with Client(url_b, *keys) as on_b:
            stored = {f.face_id: f for f in on_b.list_faces("stream", limit=1000)}
            assert set(acknowledged) <= set(stored)  # none lost
            assert len(stored) - len(acknowledged) <= 1  # at most the add in flight, complete
            for face_id, face in stored.items():
                assert face.external_fields["n"] in range(len(people))  # every stored one whole
                i = face.external_fields["n"]
                hits = on_b.search("stream", people[i], top_n=1)
                assert hits and hits[0].face_id == face_id, (face_id, i)
    finally:
        a.kill()
        if b is not None:
            b.kill()
            b.wait(timeout=20)
