"""PostgreSQL down under a real scale-out server: signed calls answer FRS.0050 (503) within the
pool timeout instead of hanging, /health names the database and answers 503, and once the
database is back the same server serves again, with what it acknowledged before.

The outage is made without touching the machine's PostgreSQL (other tests share it): the server
logs in as a role of its own, which is then refused new logins (NOLOGIN) and has its sessions
terminated. Milvus down: a Milvus server of the test's own is frozen (SIGSTOP) under a real
server, and thawed; the error mapping and the /health probe are also checked in process.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg_pool import PoolTimeout

from openfrs.api.errors import install_error_handlers
from openfrs.api.routes.ops import _milvus_up
from openfrs.client import Client
from openfrs.client.errors import FRSClientError
from openfrs.config import Settings
from tests.real_server import first_credential, serve
from tests.store.milvus_server import TEST_CONFIG, milvus_server

TIMEOUT_S = 2  # OPENFRS_DEPENDENCY_TIMEOUT_S of the servers here (the default is 5)


def _as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def _cut(admin: psycopg.Connection, role: str, *, cut: bool) -> None:
    """Refuse (or allow again) the role's logins; cutting also ends the sessions it has."""
    admin.execute(sql.SQL("ALTER ROLE {} " + ("NOLOGIN" if cut else "LOGIN")).format(sql.Identifier(role)))
    if cut:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))


@pytest.fixture
def own_role(pg_env: dict[str, str],
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[psycopg.Connection, str]]:
    """A login role owning the test's schema, the server's URL switched to it; (admin conn, role)."""
    url, schema = pg_env["OPENFRS_DATABASE_URL"], pg_env["OPENFRS_DATABASE_SCHEMA"]
    role = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        try:  # CREATE SCHEMA IF NOT EXISTS (migrations) wants CREATE on the database
            admin.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                sql.Identifier(admin.info.dbname), sql.Identifier(role)))
            admin.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
            monkeypatch.setenv("OPENFRS_DATABASE_URL", _as_role(url, role))
            yield admin, role
        finally:
            _cut(admin, role, cut=True)
            admin.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.models
def test_postgres_down_answers_503_quickly_and_the_server_recovers(
        own_role: tuple[psycopg.Connection, str], settings: Settings, shared_data: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    admin, role = own_role
    monkeypatch.setenv("OPENFRS_DEPENDENCY_TIMEOUT_S", str(TIMEOUT_S))
    photo = sorted((shared_data / "lfw-partial/images").iterdir())[0].glob("*.jpg")
    proc, url = serve(tmp_path / "data", settings.model_dir, tmp_path / "server.log")
    try:
        credential = first_credential(tmp_path / "server.log")
        keys = (credential["project_id"], credential["ak"], credential["sk"])
        with Client(url, *keys, retries=0) as client:
            client.create_face_set("staff")
            face = client.add_faces("staff", sorted(photo)[0], single=True)[0]
            assert httpx.get(f"{url}/health").json()["dependencies"] == {"database": "ok"}

            _cut(admin, role, cut=True)
            started = time.monotonic()
            with pytest.raises(FRSClientError) as raised:
                client.get_face("staff", face.face_id)
            elapsed = time.monotonic() - started
            assert (raised.value.status, raised.value.error_code) == (503, "FRS.0050")
            assert role not in raised.value.error_msg and "127.0.0.1" not in raised.value.error_msg
            assert elapsed < TIMEOUT_S + 2, elapsed
            health = httpx.get(f"{url}/health", timeout=10)
            assert health.status_code == 503 and health.json()["dependencies"] == {"database": "down"}

            _cut(admin, role, cut=False)  # no restart: the pool reconnects by itself
            deadline = time.monotonic() + 15
            while httpx.get(f"{url}/health", timeout=10).status_code != 200:
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.2)
            assert client.get_face("staff", face.face_id).face_id == face.face_id
    finally:
        proc.kill()
        proc.wait(timeout=20)


def _milvus_refused() -> Exception:
    from pymilvus import MilvusException

    return MilvusException(code=2, message="Fail connecting to server on milvus.internal:19530")


def _milvus_timed_out() -> Exception:
    import grpc

    return grpc.RpcError("DEADLINE_EXCEEDED")  # what pymilvus lets through from a frozen server


@pytest.mark.parametrize(("error", "dependency"), [
    (lambda: PoolTimeout("couldn't get a connection after 5.00 sec"), "database"),
    (lambda: psycopg.OperationalError('connection to "db.internal" failed: password=hunter2'), "database"),
    (_milvus_refused, "vector database"),
    (_milvus_timed_out, "vector database"),
], ids=["pool-timeout", "postgres-refused", "milvus-refused", "milvus-deadline"])
def test_a_dependency_error_under_any_request_is_a_503_naming_no_secret(error, dependency: str):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise error()

    answer = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.json() == {"error_code": "FRS.0050",
                             "error_msg": f"A service dependency is unavailable, {dependency}"}


def test_milvus_probe_reports_down_on_any_failure():
    class Down:
        def get_server_version(self, timeout: float) -> str:
            raise ConnectionError("unreachable")

    class Up:
        def get_server_version(self, timeout: float) -> str:
            return "v2.3.5"

    assert (_milvus_up(Down()), _milvus_up(Up())) == (False, True)


@pytest.mark.models
def test_milvus_down_answers_503_quickly_stores_nothing_and_the_server_recovers(
        pg_env: dict[str, str], settings: Settings, shared_data: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    """A Milvus of this test's own (the session's is shared) is frozen with SIGSTOP: it holds its
    connections open and answers nothing, the worst case for a client. Searches and adds answer
    FRS.0050 within the dependency timeout, an add refused that way leaves no face behind (a
    retry must not make a duplicate), and after SIGCONT the same server serves again."""
    people = [sorted(folder.glob("*.jpg"))[0]
              for folder in sorted((shared_data / "lfw-partial/images").iterdir())[:2]]
    with milvus_server(tmp_path / "milvus", **TEST_CONFIG) as milvus:
        for name, value in {"OPENFRS_VECTOR_URL": milvus.uri, "OPENFRS_VECTOR_PREFIX": "outage",
                            "OPENFRS_DEPENDENCY_TIMEOUT_S": str(TIMEOUT_S)}.items():
            monkeypatch.setenv(name, value)
        proc, url = serve(tmp_path / "data", settings.model_dir, tmp_path / "server.log")
        try:
            credential = first_credential(tmp_path / "server.log")
            keys = (credential["project_id"], credential["ak"], credential["sk"])
            with Client(url, *keys, retries=0, timeout=60) as client:
                client.create_face_set("staff")
                kept = client.add_faces("staff", people[0], single=True)[0]
                up = {"database": "ok", "vectors": "ok"}
                assert httpx.get(f"{url}/health").json()["dependencies"] == up

                assert milvus.pgid > 0  # killpg(0) would freeze this test's own group
                os.killpg(milvus.pgid, signal.SIGSTOP)
                try:
                    for call in (lambda: client.search("staff", people[0], top_n=1),
                                 lambda: client.add_faces("staff", people[1], single=True)):
                        started = time.monotonic()
                        with pytest.raises(FRSClientError) as raised:
                            call()
                        elapsed = time.monotonic() - started
                        assert (raised.value.status, raised.value.error_code) == (503, "FRS.0050")
                        message = raised.value.error_msg
                        assert "vector database" in message and milvus.uri not in message
                        assert elapsed < TIMEOUT_S + 5, elapsed  # + the image's detection and embedding
                    assert [f.face_id for f in client.list_faces("staff", limit=10)] == [kept.face_id]
                    health = httpx.get(f"{url}/health", timeout=10)
                    assert health.status_code == 503 and health.json()["dependencies"]["vectors"] == "down"
                finally:
                    os.killpg(milvus.pgid, signal.SIGCONT)

                deadline = time.monotonic() + 30
                while httpx.get(f"{url}/health", timeout=10).status_code != 200:
                    assert time.monotonic() < deadline, "the server did not recover"
                    time.sleep(0.2)
                assert [h.face_id for h in client.search("staff", people[0], top_n=1)] == [kept.face_id]
                added = client.add_faces("staff", people[1], single=True)[0]
                assert [h.face_id for h in client.search("staff", people[1], top_n=1)] == [added.face_id]
                assert client.get_face_set("staff").face_number == 2
        finally:
            proc.kill()
            proc.wait(timeout=20)


def test_a_value_the_database_refuses_is_a_400_not_a_500():
    """PostgreSQL refuses a NUL in text (psycopg DataError) where SQLite stores it: whatever input
    path lets such a value through, the client gets FRS.0012, not FRS.0018."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/nul")
    def nul() -> None:
        raise psycopg.errors.UntranslatableCharacter("invalid byte sequence: 0x00")

    answer = TestClient(app, raise_server_exceptions=False).get("/nul")
    assert answer.status_code == 400 and answer.json()["error_code"] == "FRS.0012"
