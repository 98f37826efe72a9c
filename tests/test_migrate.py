"""`openfrs migrate`: an embedded data dir copied into a real PostgreSQL schema and a real Milvus
(started by the tests), verified, re-run without duplicates after a second run or a kill -9,
refusing a target that holds something else and a source a server holds; and (with the models) a
real scale-out server serving the migrated faces to the source's own AK/SK."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

from openfrs.client import Client
from openfrs.service.tenancy import Tenancy
from openfrs.store.accounts import Project
from openfrs.store.accounts_pg import PostgresAccountStore
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.records import FaceRecord, FaceSetRecord, GroupRecord, PersonFaceRecord, PersonRecord
from openfrs.store.secret_box import SecretBox
from openfrs.store.sqlite import SQLiteMetadataStore
from openfrs.store.synthetic import clustered_embeddings
from openfrs.store.vectors.milvus import collection_name
from tests.real_server import first_credential, serve
from tests.store.milvus_server import session_server

PASSWORD = "correct-horse-9"


@pytest.fixture(scope="session")
def milvus_uri(request: pytest.FixtureRequest) -> str:
    return session_server(request).uri


@pytest.fixture
def vectors(milvus_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Milvus in the environment, with a collection prefix of this test's own; returns the prefix."""
    prefix = f"mig{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("OPENFRS_VECTOR_URL", milvus_uri)
    monkeypatch.setenv("OPENFRS_VECTOR_PREFIX", prefix)
    return prefix


def migrate(source: Path, *options: str, env: dict[str, str] | None = None,
            wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
    """`openfrs migrate --from source` in its own process (it holds the source's lock until exit)."""
    command = [sys.executable, "-m", "openfrs.cli", "migrate", "--from", str(source), *options]
    if not wait:
        return subprocess.Popen(command, env=env or dict(os.environ), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env or dict(os.environ), capture_output=True, text=True, timeout=300)


def summary_of(done: subprocess.CompletedProcess) -> dict:
    assert done.stdout, done.stderr[-3000:]
    return json.loads(done.stdout)


def synthetic_source(data_dir: Path, faces: int, secret_key: str | None = None) -> dict:
    """Two projects' face sets of synthetic faces with fields, and a second project with a
    credential, a user, a live token, usage counts and audit events."""
    store = SQLiteMetadataStore(data_dir / "openfrs.db")
    vectors, identity = clustered_embeddings(faces)
    for s, (project, name) in enumerate([("p1", "staff"), ("p2", "visitors")]):
        record = store.create_face_set(FaceSetRecord(
            0, project, name, f"{name[:4]}{s:04d}", 100_000, {"n": "integer", "who": "string"}, "m1",
            "2026-11-21 10:00:00"))
        mine = vectors[s::2]
        records = [FaceRecord(f"f{s}-{i:06d}", f"img{i}", (1, 2, 30, 40), mine[i],
                              {"n": i, "who": f"id{identity[s + 2 * i]}"}, "m1", "2026-11-21 10:00:01")
                   for i in range(len(mine))]
        for start in range(0, len(records), 5000):
            store.add_faces(record.key, records[start:start + 5000])
    store.close()
    tenancy = Tenancy.open(data_dir, secret_key)
    project = tenancy.create_project("second")
    issued = tenancy.create_credential("second")
    tenancy.create_user("second", "alice", PASSWORD)
    token, _, _ = tenancy.issue_token("second", "alice", PASSWORD)
    tenancy.count_call(project.project_id, "search")
    tenancy.count_call(project.project_id, "search", throttled=True)
    tenancy.count_call(project.project_id, "search", error=True)
    tenancy.close()
    return {"project_id": project.project_id, "ak": issued.ak, "sk": issued.sk, "token": token}


GROUPS = (("club", "g-club0001", ("role",)), ("vip", "vip", ("level", "floor")))


def persons_source(data_dir: Path, persons: int, fast: bool = False) -> None:
    """Project p1's person groups (besides synthetic_source's sets) and `persons` persons, made by
    the store's own calls: each in group "club" with 1 or 2 faces, every third also in "vip" with
    description values. `fast`: the source file not fsynced per commit (many persons)."""
    store = SQLiteMetadataStore(data_dir / "openfrs.db")
    if fast:
        store._writer.execute("PRAGMA synchronous=OFF")
    for g, (group_id, set_name, fields) in enumerate(GROUPS):
        store.create_group(FaceSetRecord(0, "p1", set_name, f"grp{g:05d}", 100_000, {}, "m1",
                                         "2026-11-21 11:00:00"),
                           GroupRecord(0, "p1", group_id, f"Group {group_id}", "t", fields,
                                       1_700_000_000_000 + g, 1_700_000_000_500 + g))
    vectors, _ = clustered_embeddings(2 * persons, seed=7)
    for i in range(persons):
        person_id = f"person-{i:04d}"
        faces = [PersonFaceRecord(f"pf{i:04d}{j}", vectors[2 * i + j], (j, 2, 30, 40), "m1",
                                  "2026-11-21 11:00:02") for j in range(1 + i % 2)]
        store.create_person(PersonRecord("p1", person_id, f"Name {i}", i % 3, 1_700_000_001_000 + i,
                                         faces=tuple(faces[:1])), "club", {0: f"r{i}"})
        if len(faces) > 1:
            store.add_person_faces("p1", person_id, faces[1:], 5)
        if i % 3 == 0:
            store.join_groups("p1", person_id, ["vip"], 100, 1_700_000_002_000 + i)
            store.update_membership("p1", person_id, "vip", {1: f"floor {i}"})
    store.close()


def person_state(store) -> tuple[list, list]:
    """(every group with its counts, every person) of project p1, without store keys."""
    groups, _ = store.list_groups("p1", 0, 100)
    persons = [store.get_person("p1", f"person-{i:04d}") for i in range(store.person_counts()["persons"])]
    return ([(replace(g, set_key=0), store.group_counts(g.set_key)) for g in groups],
            [(replace(p, key=0, faces=(), groups=tuple(replace(m, set_key=0) for m in p.groups)),
              [(f.face_id, f.embedding.tobytes(), f.bounding_box, f.model_version, f.created_at)
               for f in p.faces])
             for p in persons])


def target_rows(env: dict[str, str], query: str) -> list[tuple]:
    with psycopg.connect(env["OPENFRS_DATABASE_URL"]) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(env["OPENFRS_DATABASE_SCHEMA"])))
        return conn.execute(query).fetchall()


def milvus_rows(uri: str, prefix: str) -> int:
    """Vectors in this prefix's collections, counted by Milvus itself."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri)
    try:
        return sum(client.query(name, filter="", output_fields=["count(*)"],
                                consistency_level="Strong")[0]["count(*)"]
                   for name in client.list_collections() if name.startswith(f"{prefix}_set_"))
    finally:
        client.close()


def killed_midway(source: Path, env: dict[str, str], table: str, at_least: int, total: int,
                  *options: str) -> int:
    """Starts a migration and kills it (-9) once the target's `table` holds `at_least` rows;
    returns the rows it holds then, asserted to be neither none nor all."""
    stopped = migrate(source, *options, wait=False)
    copied = 0
    deadline = time.monotonic() + 120
    while copied < at_least and stopped.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
        try:
            copied = target_rows(env, f"SELECT count(*) FROM {table}")[0][0]
        except psycopg.Error:  # the tables are not made yet
            continue
    stopped.kill()
    stopped.wait(timeout=30)
    halfway = target_rows(env, f"SELECT count(*) FROM {table}")[0][0]
    assert 0 < halfway < total, f"the kill came at {halfway} of {total} {table}: not midway"
    return halfway


def test_refuses_a_target_that_is_not_scale_out(tmp_path: Path):
    synthetic_source(tmp_path / "src", 10)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENFRS_")}
    done = migrate(tmp_path / "src", env=env)
    assert done.returncode == 2, done.stderr
    assert "not scale-out" in done.stderr and "OPENFRS_DATABASE_URL" in done.stderr
    done = migrate(tmp_path / "nothing", env={**env, "OPENFRS_DATABASE_URL": "postgresql://x@127.0.0.1/y",
                                               "OPENFRS_SECRET_KEY": "a" * 44})
    assert done.returncode == 2 and "not an OpenFRS data dir" in done.stderr, done.stderr
    assert not (tmp_path / "nothing").exists()  # nothing made where nothing was


def test_copies_everything_resumes_after_kill_9_and_a_rerun_changes_nothing(
        tmp_path: Path, pg_env: dict[str, str], vectors: str, milvus_uri: str):
    total = 8_000
    keys = synthetic_source(tmp_path / "src", total)
    halfway = killed_midway(tmp_path / "src", pg_env, "faces", 600, total, "--batch", "200")

    done = migrate(tmp_path / "src")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = summary_of(done)
    assert summary["verified"] and summary["mismatches"] == []
    assert summary["faces"]["source"] == total and summary["faces"]["present"] == halfway
    assert summary["faces"]["copied"] == total - halfway
    for report in summary["face_sets"]:
        assert report["source_faces"] == report["target_faces"] == report["target_vectors"] == total // 2
        assert report["searches"]["own_top_hit"] == report["searches"]["sampled"] == 20
        assert report["searches"]["agreement"] >= 0.8
    faces = target_rows(pg_env, "SELECT set_key, face_id, key FROM faces ORDER BY key")
    assert len(faces) == len({row[:2] for row in faces}) == total  # no duplicates
    assert milvus_rows(milvus_uri, vectors) == total
    sets = target_rows(pg_env, "SELECT project_id, name, face_set_id, capacity, external_fields::text,"
                               " model_version, created_at, face_number FROM face_sets ORDER BY name")
    assert sets == [("p1", "staff", "staf0000", 100_000, '{"n": "integer", "who": "string"}', "m1",
                     "2026-11-21 10:00:00", total // 2),
                    ("p2", "visitors", "visi0001", 100_000, '{"n": "integer", "who": "string"}', "m1",
                     "2026-11-21 10:00:00", total // 2)]
    store = PostgresMetadataStore(pg_env["OPENFRS_DATABASE_URL"], pg_env["OPENFRS_DATABASE_SCHEMA"])
    try:
        face = store.get_face(store.get_face_set("p2", "visitors").key, "f1-000007")
        assert (face.fields, face.external_image_id, face.bounding_box) == (
            {"n": 7, "who": face.fields["who"]}, "img7", (1, 2, 30, 40))
    finally:
        store.close()

    before = target_rows(pg_env, "SELECT key, set_key, face_id, fields::text FROM faces ORDER BY key")
    audit = target_rows(pg_env, "SELECT count(*) FROM audit")
    again = migrate(tmp_path / "src")
    assert again.returncode == 0, again.stderr[-3000:]
    summary = summary_of(again)
    assert summary["faces"]["copied"] == 0 and summary["faces"]["present"] == total
    assert all(table["copied"] == 0 and table["present"] == table["source"]
               for table in summary["accounts"].values()), summary["accounts"]
    assert target_rows(pg_env, "SELECT key, set_key, face_id, fields::text FROM faces ORDER BY key") == before
    assert target_rows(pg_env, "SELECT count(*) FROM audit") == audit
    assert milvus_rows(milvus_uri, vectors) == total

    target = target_tenancy(pg_env)
    try:  # the same AK/SK, password, token, counts (checked last: a token issued here is a new row)
        assert target.secret_key(keys["ak"]) == (keys["project_id"], keys["sk"])
        assert target.issue_token("second", "alice", PASSWORD)[1].project_id == keys["project_id"]
        assert target.token_owner(keys["token"]) == (keys["project_id"], "alice")
        usage = target.usage(keys["project_id"])
        assert [(u["api"], u["calls"], u["throttled"], u["errors"]) for u in usage] == [("search", 1, 1, 1)]
        assert [e.action for e in target.audit_events(keys["project_id"])][:3] == [
            "createProject", "createCredential", "createUser"]
    finally:
        target.close()

    # A vector gone wrong in Milvus (the set's first face: verification always samples it).
    from pymilvus import MilvusClient

    staff = target_rows(pg_env, "SELECT key FROM face_sets WHERE name = 'staff'")[0][0]
    first = target_rows(pg_env, f"SELECT min(key) FROM faces WHERE set_key = {staff}")[0][0]
    client = MilvusClient(uri=milvus_uri)
    client.upsert(collection_name(vectors, staff), [{"id": first, "vector": [0.0] * 127 + [1.0]}])
    client.close()
    broken = migrate(tmp_path / "src")
    assert broken.returncode == 1, broken.stderr[-3000:]
    assert "mismatch: face set p1/staff: 1 of 20 sampled faces are not their own top hit" in broken.stderr


def test_person_groups_and_persons_are_copied_whole_and_a_rerun_copies_nothing(
        tmp_path: Path, pg_env: dict[str, str], vectors: str, milvus_uri: str):
    persons_source(tmp_path / "src", 30)
    source = SQLiteMetadataStore(tmp_path / "src" / "openfrs.db")
    try:
        expected, counts = person_state(source), source.person_counts()
    finally:
        source.close()
    assert counts == {"person_groups": 2, "persons": 30, "person_faces": 45, "memberships": 40}

    done = migrate(tmp_path / "src")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = summary_of(done)
    assert summary["verified"] and summary["mismatches"] == []
    assert summary["persons"] == {table: {"source": n, "present": 0, "copied": n, "target": n}
                                  for table, n in counts.items()}
    sets = {report["name"]: report for report in summary["face_sets"]}
    assert {name: report["target_vectors"] for name, report in sets.items()} == {
        "g-club0001": 45, "vip": 15}  # a person's faces in each of its groups
    assert sets["vip"]["searches"]["own_top_hit"] == sets["vip"]["searches"]["sampled"] == 15
    assert milvus_rows(milvus_uri, vectors) == 60
    store = PostgresMetadataStore(pg_env["OPENFRS_DATABASE_URL"], pg_env["OPENFRS_DATABASE_SCHEMA"])
    try:
        assert person_state(store) == expected  # every field, face, membership and description
        assert store.persons_of_faces("p1", ["pf00031"])["pf00031"].person_id == "person-0003"
        vip = store.get_group("p1", "vip")
        assert store.get_face(vip.set_key, "pf00031").external_image_id == "person-0003"

        rows = target_rows(pg_env, "SELECT key, project_id, person_id FROM persons ORDER BY key")
        again = migrate(tmp_path / "src")
        assert again.returncode == 0, again.stderr[-3000:]
        summary = summary_of(again)
        assert summary["persons"] == {table: {"source": n, "present": n, "copied": 0, "target": n}
                                      for table, n in counts.items()}
        assert summary["faces"]["copied"] == 0 and summary["faces"]["present"] == 60
        assert target_rows(pg_env, "SELECT key, project_id, person_id FROM persons ORDER BY key") == rows
        assert person_state(store) == expected
        assert milvus_rows(milvus_uri, vectors) == 60
    finally:
        store.close()


def test_refuses_a_target_holding_another_group_or_person_under_the_same_keys(
        tmp_path: Path, pg_env: dict[str, str]):
    persons_source(tmp_path / "src", 6)
    store = PostgresMetadataStore(pg_env["OPENFRS_DATABASE_URL"], pg_env["OPENFRS_DATABASE_SCHEMA"])
    try:  # group "club" of p1, on a face set of another name
        store.create_group(FaceSetRecord(0, "p1", "other", "other001", 10, {}, "m1", "2026-01-01 10:00"),
                           GroupRecord(0, "p1", "club", "Group club", "t", ("role",),
                                       1_700_000_000_000, 1_700_000_000_500))
        done = migrate(tmp_path / "src")
        assert done.returncode == 2 and "nothing was copied" in done.stderr, done.stderr
        assert "group p1/club (face set g-club0001) differs in the target" in done.stderr
        assert store.get_face_set("p1", "vip") is None and store.person_counts()["persons"] == 0
        store.delete_group("p1", "club")

        assert migrate(tmp_path / "src").returncode == 0
        store.update_person("p1", "person-0004", "Renamed", None)  # changed in the target since
        done = migrate(tmp_path / "src")
        assert done.returncode == 2, done.stderr
        assert "person p1/person-0004 differs in the target" in done.stderr
        assert store.get_person("p1", "person-0004").name == "Renamed"  # left as it is
        store.update_person("p1", "person-0004", "Name 4", None)

        # a group and person of another project, made on the target since: counted, not refused
        store.create_group(FaceSetRecord(0, "p9", "g9", "g9000001", 10, {}, "m1", "2026-01-01 10:00"),
                           GroupRecord(0, "p9", "g9", "G9"))
        face = PersonFaceRecord("x1", np.full(128, 128 ** -0.5, np.float32), (0, 0, 9, 9), "m1")
        store.create_person(PersonRecord("p9", "extra", "X", faces=(face,)), "g9", {})
        done = migrate(tmp_path / "src")
        assert done.returncode == 1, done.stderr
        assert "mismatch: person table persons: 6 row(s) in the source, 7 in the target" in done.stderr
    finally:
        store.close()


def test_persons_resume_after_kill_9_without_duplicates(tmp_path: Path, pg_env: dict[str, str]):
    total = 600
    persons_source(tmp_path / "src", total, fast=True)
    halfway = killed_midway(tmp_path / "src", pg_env, "persons", 60, total, "--batch", "10")

    done = migrate(tmp_path / "src")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = summary_of(done)
    assert summary["verified"], summary["mismatches"]
    persons = summary["persons"]["persons"]
    assert (persons["present"], persons["copied"], persons["target"]) == (halfway, total - halfway, total)
    assert summary["persons"]["person_groups"]["copied"] == 0  # written before the first person
    assert target_rows(pg_env, "SELECT count(*), count(DISTINCT person_id) FROM persons") == [(total, total)]
    assert target_rows(pg_env, "SELECT count(*), count(DISTINCT face_id) FROM person_faces") == [(900, 900)]
    assert target_rows(pg_env, "SELECT count(*) FROM memberships") == [(800,)]
    assert target_rows(pg_env, "SELECT name, face_number FROM face_sets ORDER BY name") == [
        ("g-club0001", 900), ("vip", 300)]
    assert target_rows(pg_env, "SELECT count(*), count(DISTINCT (set_key, face_id)) FROM faces") == [
        (1200, 1200)]


def target_tenancy(env: dict[str, str]) -> Tenancy:
    """The target's accounts, opened as its servers do (with its master key)."""
    store = PostgresAccountStore(env["OPENFRS_DATABASE_URL"], env["OPENFRS_DATABASE_SCHEMA"])
    return Tenancy(store, SecretBox(base64.b64decode(env["OPENFRS_SECRET_KEY"])))


def test_refuses_a_target_holding_other_data_under_the_same_keys(tmp_path: Path, pg_env: dict[str, str]):
    synthetic_source(tmp_path / "src", 40)
    url, schema = pg_env["OPENFRS_DATABASE_URL"], pg_env["OPENFRS_DATABASE_SCHEMA"]
    store = PostgresMetadataStore(url, schema)
    try:  # another "staff" set of project p1: its own id and fields
        store.create_face_set(FaceSetRecord(0, "p1", "staff", "other001", 10, {}, "m1", "2026-01-01 10:00"))
        done = migrate(tmp_path / "src")
        assert done.returncode == 2, done.stderr
        assert "face set p1/staff differs in the target" in done.stderr
        assert "nothing was copied" in done.stderr
        assert store.get_face_set("p2", "visitors") is None  # nothing written, not even other sets
        assert target_rows(pg_env, "SELECT count(*) FROM projects") == [(0,)]
        store.delete_face_set("p1", "staff")

        assert migrate(tmp_path / "src").returncode == 0
        held = store.get_face_set("p1", "staff")
        store.update_face(held.key, "f0-000003", None, {"n": 99})  # changed in the target since
        done = migrate(tmp_path / "src")
        assert done.returncode == 2 and "face f0-000003 differs in the target" in done.stderr, done.stderr
        assert store.get_face(held.key, "f0-000003").fields["n"] == 99  # left as it is
    finally:
        store.close()


def test_another_project_under_the_name_is_refused_and_extra_rows_fail_verification(
        tmp_path: Path, pg_env: dict[str, str]):
    synthetic_source(tmp_path / "src", 10)
    target = target_tenancy(pg_env)
    try:
        # another project "second", as if made on the target first (straight in: no audit event)
        target.store.create_project(Project("0" * 32, "second", "2026-01-01 00:00:00", False, None), {})
        done = migrate(tmp_path / "src")
        assert done.returncode == 2 and "project 'second'" in done.stderr, done.stderr
        target.store.delete_project("0" * 32)
        assert migrate(tmp_path / "src").returncode == 0
        target.audit("p1", "someone", "createFaceSet", "face-set/x", {})  # written on the target since
        done = migrate(tmp_path / "src")
        assert done.returncode == 1, done.stderr
        assert "mismatch: accounts table audit" in done.stderr and not summary_of(done)["verified"]
    finally:
        target.close()


def test_the_source_master_key_opens_its_credentials(tmp_path: Path, pg_env: dict[str, str]):
    """A source server run with OPENFRS_SECRET_KEY has no key file: without that key nothing is
    copied; with it the same AK/SK open on the target."""
    from tests.conftest import new_master_key

    source_key = new_master_key()
    keys = synthetic_source(tmp_path / "src", 10, secret_key=source_key)
    done = migrate(tmp_path / "src")
    assert done.returncode == 2 and "OPENFRS_SOURCE_SECRET_KEY" in done.stderr, done.stderr
    done = migrate(tmp_path / "src", env={**os.environ, "OPENFRS_SOURCE_SECRET_KEY": new_master_key()})
    assert done.returncode == 2 and f"does not open credential {keys['ak']}" in done.stderr, done.stderr
    done = migrate(tmp_path / "src", env={**os.environ, "OPENFRS_SOURCE_SECRET_KEY": source_key})
    assert done.returncode == 0, done.stderr[-3000:]
    target = target_tenancy(pg_env)
    try:
        assert target.secret_key(keys["ak"]) == (keys["project_id"], keys["sk"])
    finally:
        target.close()


@pytest.mark.models
def test_a_scale_out_server_serves_the_migrated_faces_to_the_source_keys(
        tmp_path: Path, pg_env: dict[str, str], vectors: str, settings, shared_data: Path,
        monkeypatch: pytest.MonkeyPatch):
    people = [sorted(folder.glob("*.jpg"))[0]
              for folder in sorted((shared_data / "lfw-partial/images").iterdir())[:3]]
    source = tmp_path / "src"
    target_env = {name: value for name, value in os.environ.items()
                  if name in pg_env or name.startswith("OPENFRS_VECTOR")}
    for name in target_env:  # the source server is embedded
        monkeypatch.delenv(name)
    proc, url = serve(source, settings.model_dir, tmp_path / "src.log")
    try:
        keys = first_credential(tmp_path / "src.log")
        with Client(url, keys["project_id"], keys["ak"], keys["sk"]) as frs:
            frs.create_face_set("staff", external_fields={"n": {"type": "integer"},
                                                          "who": {"type": "string"}})
            added = [frs.add_faces("staff", photo, external_fields={"n": i, "who": photo.parent.name},
                                   single=True)[0] for i, photo in enumerate(people)]
            assert frs.search("staff", people[0], top_n=1)[0].face_id == added[0].face_id
        busy = migrate(source, env={**os.environ, **target_env})
        assert busy.returncode == 2 and "in use by openfrs server" in busy.stderr, busy.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    tenancy = Tenancy.open(source)
    second = tenancy.create_credential(tenancy.create_project("second").project_id)
    tenancy.close()

    for name, value in target_env.items():
        monkeypatch.setenv(name, value)
    done = migrate(source)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = summary_of(done)
    assert summary["verified"] and summary["faces"]["copied"] == 3
    assert summary["accounts"]["usage"]["copied"] >= 1 and summary["accounts"]["audit"]["copied"] >= 3
    again = summary_of(migrate(source))  # before any server counts calls on the target
    assert again["verified"] and again["faces"]["copied"] == 0 and again["faces"]["present"] == 3
    assert sum(table["copied"] for table in again["accounts"].values()) == 0

    replica, replica_url = serve(tmp_path / "replica", settings.model_dir, tmp_path / "replica.log")
    try:
        assert '{"project_id"' not in (tmp_path / "replica.log").read_text()  # no new default project
        with Client(replica_url, keys["project_id"], keys["ak"], keys["sk"]) as frs:
            for i, (photo, face) in enumerate(zip(people, added, strict=True)):
                hits = frs.search("staff", photo, top_n=1)
                assert [h.face_id for h in hits] == [face.face_id] and hits[0].similarity > 0.9
                held = frs.get_face("staff", face.face_id)
                assert held.external_fields == {"n": i, "who": photo.parent.name}
        with Client(replica_url, second.project_id, second.ak, second.sk) as other:
            assert other.list_face_sets() == []
    finally:
        replica.terminate()
        replica.wait(timeout=30)
