"""Two `openfrs serve` replicas on one PostgreSQL schema and one Milvus (both real; Milvus is
started by the tests, PostgreSQL must be running: a missing one fails loudly): what one replica
acknowledges (faces, and account changes made with `openfrs admin`), the other serves in the very
next request, usage and audit are one, and a replica killed with -9 in the
middle of a stream of adds loses no acknowledged face and leaves none half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from openfrs.benchmark.http_load import free_port
from openfrs.client import Client
from openfrs.client.errors import FRSClientError
from openfrs.config import Settings
from openfrs.service.tenancy import Tenancy
from tests.real_server import first_credential, serve, wait_healthy
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


def test_account_changes_usage_and_audit_are_shared_by_replicas(
        scaleout_env: dict[str, str], settings: Settings, tmp_path: Path):
    """What `openfrs admin` changes in the shared database (a new project and credential, a
    disabled credential, a disabled sub-service) holds on both replicas in the very next call,
    and both replicas count usage and write audit into one place."""
    a, url_a = serve(tmp_path / "a", settings.model_dir, tmp_path / "a.log")
    b = None
    tenancy = Tenancy.from_settings(Settings())  # the admin's view: the same database
    try:
        b, url_b = serve(tmp_path / "b", settings.model_dir, tmp_path / "b.log")
        shop = tenancy.create_project("shop")
        issued = tenancy.create_credential(shop.project_id)
        keys = (issued.project_id, issued.ak, issued.sk)
        with Client(url_a, *keys, retries=0) as on_a, Client(url_b, *keys, retries=0) as on_b:
            on_a.create_face_set("doors")  # the new credential works on both at once
            assert [s.name for s in on_b.list_face_sets()] == ["doors"]
            on_b.delete_face_set("doors")

            tenancy.set_service(shop.project_id, "search", enabled=False)
            for client in (on_a, on_b):
                with pytest.raises(FRSClientError) as refused:
                    client.list_face_sets()
                assert refused.value.error_code == "FRS.0020"
            tenancy.set_service(shop.project_id, "search", enabled=True)
            assert on_a.list_face_sets() == [] and on_b.list_face_sets() == []

            tenancy.set_credential_disabled(issued.ak, True)
            for client in (on_a, on_b):
                with pytest.raises(FRSClientError) as refused:
                    client.list_face_sets()
                assert refused.value.status in (401, 403), refused.value
            tenancy.set_credential_disabled(issued.ak, False)

            usage = [on.request("GET", f"/v1/{issued.project_id}/usage") for on in (on_a, on_b)]
            calls = [{row["api"]: row["calls"] for row in u["usage"]} for u in usage]
            # A made one list call, B two, and made and deleted the set: counted in one place
            made = ("create_face_set", "delete_face_set", "list_face_sets")
            assert {api: calls[0][api] for api in made} == dict(zip(made, (1, 1, 3), strict=True))
            assert calls[1] == {**calls[0], "show_usage": calls[0].get("show_usage", 0) + 1}  # A's read
            audit = [on.request("GET", f"/v1/{issued.project_id}/audit") for on in (on_b, on_a)]
            assert audit[0] == audit[1]
            actions = [event["action"] for event in audit[0]["events"]]
            for done in ("createFaceSet", "deleteFaceSet"):  # one made through A, one through B
                assert done in actions, actions
    finally:
        tenancy.close()
        for proc in (a, b):
            if proc is not None:
                proc.kill()
                proc.wait(timeout=20)


HAPROXY_EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "haproxy.cfg"


def _haproxy(replicas: list[str], log: Path) -> tuple[subprocess.Popen, str]:
    """Debian's haproxy running docs/deploy/haproxy.cfg unchanged (addresses by environment)."""
    binary = shutil.which("haproxy")
    if binary is None:
        pytest.fail("haproxy is not installed: `make test` installs Debian's haproxy (apt)")
    port = free_port()
    env = {**os.environ, "OPENFRS_LB_BIND": f"127.0.0.1:{port}",
           "OPENFRS_REPLICA_A": replicas[0].removeprefix("http://"),
           "OPENFRS_REPLICA_B": replicas[1].removeprefix("http://")}
    with log.open("ab") as out:
        proc = subprocess.Popen([binary, "-db", "-f", str(HAPROXY_EXAMPLE)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, log, "haproxy", timeout_s=20)
    return proc, url


def _served(log: Path, server: str, path_part: str) -> int:
    """Requests for a path containing `path_part` that haproxy's log says `server` answered."""
    return sum(f" replicas/{server} " in line and path_part in line
               for line in log.read_text(errors="replace").splitlines())


def test_the_haproxy_example_spreads_calls_and_survives_a_replica_killed(
        scaleout_env: dict[str, str], settings: Settings, shared_data: Path, tmp_path: Path):
    """Signed calls through docs/deploy/haproxy.cfg reach both replicas and see one state; after
    kill -9 of one replica every call still succeeds (refused connections are sent to the other
    one, and its health check takes the dead one out); /metrics is not exposed through it."""
    people = photos(shared_data, 4)
    a, url_a = serve(tmp_path / "a", settings.model_dir, tmp_path / "a.log")
    b = lb = None
    try:
        credential = first_credential(tmp_path / "a.log")
        keys = (credential["project_id"], credential["ak"], credential["sk"])
        b, url_b = serve(tmp_path / "b", settings.model_dir, tmp_path / "b.log")
        lb, url = _haproxy([url_a, url_b], tmp_path / "haproxy.log")
        with Client(url, *keys, retries=0) as through_lb:
            through_lb.create_face_set("hall")
            added = [through_lb.add_faces("hall", p, single=True)[0] for p in people]
            for _ in range(2):
                for face, photo in zip(added, people, strict=True):
                    assert [h.face_id for h in through_lb.search("hall", photo, top_n=1)] == [face.face_id]
            assert all(_served(tmp_path / "haproxy.log", server, "/search") for server in "ab")
            assert httpx.get(f"{url}/metrics").status_code == 403

            a.kill()
            a.wait(timeout=20)
            for face, photo in zip(added * 2, people * 2, strict=True):  # right away: none fails
                assert [h.face_id for h in through_lb.search("hall", photo, top_n=1)] == [face.face_id]
            assert through_lb.get_face_set("hall").face_number == len(people)
    finally:
        for proc in (lb, a, b):
            if proc is not None:
                proc.kill()
                proc.wait(timeout=20)
