"""Scale-out by configuration only: OPENFRS_DATABASE_URL moves face sets, faces and accounts into
PostgreSQL (store/factory.py), with a shared OPENFRS_SECRET_KEY; unset, nothing changes."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from openfrs import cli
from openfrs.client import Client
from openfrs.config import Settings
from openfrs.importer.job import ImportRequest, run_import
from openfrs.service.tenancy import Tenancy
from openfrs.store.accounts import AccountStore
from openfrs.store.accounts_pg import PostgresAccountStore
from openfrs.store.data_dir_lock import LOCK_FILE
from openfrs.store.factory import accounts_exist, location, open_accounts, open_metadata_store
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.sqlite import SQLiteMetadataStore
from tests.real_server import first_credential, serve


def test_database_settings_are_checked_at_startup(master_key: str, monkeypatch: pytest.MonkeyPatch):
    key = master_key
    assert Settings(database_url="", secret_key=None).embedded  # an empty variable is unset
    with pytest.raises(ValidationError, match="OPENFRS_DATABASE_URL must be a PostgreSQL URL"):
        Settings(database_url="mysql://root:hunter2@db/openfrs", secret_key=key)
    monkeypatch.setenv("OPENFRS_DATABASE_URL", "mysql://root:hunter2@db/openfrs")
    with pytest.raises(SystemExit) as refused:  # what a command says: the reason, not the password
        cli.main(["admin", "list-projects"])
    assert "OPENFRS_DATABASE_URL must be a PostgreSQL URL" in str(refused.value.code)
    assert "hunter2" not in str(refused.value.code)
    with pytest.raises(ValidationError, match="OPENFRS_SECRET_KEY is required with OPENFRS_DATABASE_URL"):
        Settings(database_url="postgresql://db/openfrs", secret_key=None)
    with pytest.raises(ValidationError):
        Settings(database_url="postgres://db/openfrs", secret_key=key, database_pool=0)
    settings = Settings(database_url="postgres://frs:hunter2@db:5433/faces", secret_key=key)
    assert (settings.database_schema, settings.database_pool, settings.embedded) == ("openfrs", 10, False)
    assert location(settings) == "PostgreSQL db:5433/faces, schema openfrs"  # no password in messages


def test_the_factory_opens_sqlite_in_the_data_dir_by_default(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, database_url=None)
    assert not accounts_exist(settings)
    metadata, accounts = open_metadata_store(settings), open_accounts(settings)
    try:
        assert isinstance(metadata, SQLiteMetadataStore) and isinstance(accounts, AccountStore)
        assert accounts_exist(settings)
        assert {"openfrs.db", "accounts.db"} <= {p.name for p in tmp_path.iterdir()}
    finally:
        metadata.close()
        accounts.close()


def test_the_factory_opens_postgres_and_leaves_the_data_dir_alone(pg_env: dict[str, str], tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    assert not accounts_exist(settings)
    metadata, accounts = open_metadata_store(settings), open_accounts(settings)
    try:
        assert isinstance(metadata, PostgresMetadataStore) and isinstance(accounts, PostgresAccountStore)
        assert accounts_exist(settings)
    finally:
        metadata.close()
        accounts.close()
    assert not (tmp_path / "data").exists()


def test_admin_on_postgres_wants_init_then_shares_the_schema(pg_env: dict[str, str], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]):
    assert cli.main(["admin", "list-projects", "--data-dir", str(tmp_path)]) == 2
    refused = capsys.readouterr().err
    assert f"schema {pg_env['OPENFRS_DATABASE_SCHEMA']} holds no OpenFRS accounts" in refused
    assert "--init" in refused
    assert cli.main(["admin", "create-project", "shop", "--init"]) == 0
    capsys.readouterr()
    assert cli.main(["admin", "create-credential", "--project", "shop"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert list(tmp_path.iterdir()) == []  # nothing in a data dir: not even a key file
    tenancy = Tenancy.from_settings(Settings(data_dir=tmp_path / "elsewhere"))  # another replica
    try:
        assert tenancy.secret_key(issued["ak"]) == (issued["project_id"], issued["sk"])
    finally:
        tenancy.close()


def test_serve_refuses_postgres_without_a_shared_secret_key(pg_env: dict[str, str], tmp_path: Path):
    env = {name: value for name, value in os.environ.items() if name != "OPENFRS_SECRET_KEY"}
    refused = subprocess.run([sys.executable, "-m", "openfrs.cli", "serve", "--data-dir", str(tmp_path)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "OPENFRS_SECRET_KEY is required with OPENFRS_DATABASE_URL" in refused.stderr
    assert "Traceback" not in refused.stderr and not any(tmp_path.iterdir())


@pytest.mark.parametrize("down", ["database", "milvus"])
def test_serve_and_admin_end_with_one_line_when_a_dependency_is_unreachable(
        pg_env: dict[str, str], tmp_path: Path, down: str):
    """Nothing listens on the port given (a free one): the command says what it could not reach,
    where, and never the password, instead of a driver's traceback; it takes the bounded time."""
    from openfrs.benchmark.http_load import free_port

    env = {**os.environ, "OPENFRS_DEPENDENCY_TIMEOUT_S": "2"}
    if down == "database":
        env["OPENFRS_DATABASE_URL"] = f"postgresql://openfrs:hunter2@127.0.0.1:{free_port()}/test"
        expected = "cannot reach PostgreSQL 127.0.0.1:"
    else:
        env["OPENFRS_VECTOR_URL"] = f"http://127.0.0.1:{free_port()}"
        expected = "cannot reach Milvus at http://127.0.0.1:"
    for command in (["serve", "--data-dir", str(tmp_path / "d")], ["admin", "list-projects"]):
        refused = subprocess.run([sys.executable, "-m", "openfrs.cli", *command], env=env,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1, refused.stderr
        assert expected in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr and "hunter2" not in refused.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.models
def test_a_server_on_postgres_keeps_everything_in_the_database(
        pg_env: dict[str, str], settings: Settings, model_pack_dir: Path, shared_data: Path,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """First start prints the default credential; a signed add is in PostgreSQL, so a server
    killed (-9) and started on another, empty data dir serves the set, finds the face by search
    (its index rebuilt from the database) and takes the same credential; no data-dir lock."""
    photo = sorted((shared_data / "lfw-partial/images").glob("A*/*_0001.jpg"))[0]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    proc, url = serve(tmp_path / "first", settings.model_dir, first_log)
    try:
        credential = first_credential(first_log)
        with Client(url, credential["project_id"], credential["ak"], credential["sk"]) as client:
            client.create_face_set("staff", external_fields={"n": {"type": "integer"}})
            (added,) = client.add_faces("staff", photo, external_fields={"n": 7}, single=True)
    finally:
        proc.kill()
        proc.wait(timeout=20)
    made = {path.name for path in (tmp_path / "first").rglob("*")}  # index snapshots at most
    assert not {LOCK_FILE, "openfrs.db", "accounts.db", "secret.key"} & made, made

    proc, url = serve(tmp_path / "second", settings.model_dir, second_log)
    try:
        assert "First start" not in second_log.read_text()
        with Client(url, credential["project_id"], credential["ak"], credential["sk"]) as client:
            assert client.get_face_set("staff").face_number == 1
            assert client.get_face("staff", added.face_id) == added
            hits = client.search("staff", photo, top_n=1)
            assert [hit.face_id for hit in hits] == [added.face_id] and hits[0].similarity > 0.9
        assert cli.main(["admin", "list-projects", "--data-dir", str(tmp_path / "admin")]) == 0
        projects = json.loads(capsys.readouterr().out)
        assert [p["project_id"] for p in projects] == [credential["project_id"]]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.models
def test_import_on_postgres_writes_the_database_not_a_data_dir(pg_env: dict[str, str], face_service,
                                                               shared_data: Path, tmp_path: Path):
    source = tmp_path / "people"
    for photo in sorted((shared_data / "lfw-partial/images").glob("A*/*_0001.jpg"))[:2]:
        (source / photo.parent.name).mkdir(parents=True)
        shutil.copy(photo, source / photo.parent.name)
    on_postgres = Settings(data_dir=tmp_path / "none", auth="off")  # the database from the environment
    result = run_import(ImportRequest(source, "people", create=True), on_postgres, face_service,
                        notes=io.StringIO(), progress=io.StringIO())
    assert result.counts()["enrolled"] == 2
    store = open_metadata_store(on_postgres)
    try:
        assert store.count_faces(store.get_face_set("default", "people").key) == 2
    finally:
        store.close()
    assert not (tmp_path / "none").exists()
