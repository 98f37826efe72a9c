"""What `openfrs admin` deletes, rotates and resets, seen from signed requests and tokens against
the app (auth on), and the account routes' paging and date checks.

The admin commands run in-process through `openfrs.cli.main` on the app's own stores (its data dir,
or on PostgreSQL its schema through the OPENFRS_* variables), as an operator would run them beside
a live server.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from fastapi.testclient import TestClient

from openfrs import cli
from openfrs.service.tenancy import Tenancy
from tests.api.test_auth import Caller, accounts, auth_app, sets_path
from tests.api.test_bad_inputs import assert_frs_error
from tests.conftest import server_env

pytestmark = pytest.mark.models


def _project_a(tenancy: Tenancy):
    tenancy.create_project("a")
    credential = tenancy.create_credential("a")
    tenancy.create_user("a", "alice", "alice-password")
    return credential


@pytest.fixture()
def world(face_service, own_stores, monkeypatch):
    """An app with auth on; project a with a credential and the user alice; `openfrs admin` in
    this process reaches the same stores."""
    for name, value in server_env(own_stores).items():
        monkeypatch.setenv(name, value)
    credential = accounts(own_stores, _project_a)
    with auth_app(own_stores, face_service, qps_default=1000) as http:
        yield {"http": http, "a": credential, "dir": own_stores.data_dir,
               "as_a": Caller(http, credential.ak, credential.sk)}


def admin(capsys, world, *argv: str, code: int = 0) -> object:
    """The command's JSON output; its stderr when it must fail (exit `code`)."""
    assert cli.main(["admin", "--data-dir", str(world["dir"]), *argv]) == code
    captured = capsys.readouterr()
    return json.loads(captured.out) if code == 0 else captured.err


def token_for(http: TestClient, name: str, password: str) -> str | None:
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": name, "password": password, "domain": {"name": "any"}}}},
        "scope": {"project": {"name": "a"}}}}
    issued = http.post("/v3/auth/tokens", json=body)
    return issued.headers["X-Subject-Token"] if issued.status_code == 201 else None


def test_a_rotated_key_signs_until_its_grace_period_ends(capsys, world):
    a, http = world["a"], world["http"]
    sets = sets_path(a.project_id)
    rotated = admin(capsys, world, "rotate-credential", a.ak, "--grace-s", "1.5")
    as_new = Caller(http, rotated["ak"], rotated["sk"])
    assert world["as_a"]("GET", sets).status_code == 200  # the old key, in its grace period
    assert as_new("GET", sets).status_code == 200
    time.sleep(1.6)
    assert_frs_error(world["as_a"]("GET", sets), "APIG.0301", 401)
    assert as_new("GET", sets).status_code == 200
    admin(capsys, world, "delete-credential", rotated["ak"])
    assert_frs_error(as_new("GET", sets), "APIG.0301", 401)


def test_reset_deleted_users_and_deleted_projects_lose_their_tokens(capsys, world, monkeypatch):
    a, http, as_a = world["a"], world["http"], world["as_a"]
    sets = sets_path(a.project_id)
    old_token = token_for(http, "alice", "alice-password")
    assert Caller(http, token=old_token)("GET", sets).status_code == 200
    monkeypatch.setattr("sys.stdin", io.StringIO("new-password\n"))
    admin(capsys, world, "reset-password", "--project", "a", "alice", "--password-stdin")
    assert_frs_error(Caller(http, token=old_token)("GET", sets), "FRS.0002", 403)
    assert token_for(http, "alice", "alice-password") is None
    token = token_for(http, "alice", "new-password")
    assert Caller(http, token=token)("GET", sets).status_code == 200
    admin(capsys, world, "delete-user", "--project", "a", "alice")
    assert_frs_error(Caller(http, token=token)("GET", sets), "FRS.0002", 403)

    monkeypatch.setattr("sys.stdin", io.StringIO("bob-password\n"))
    admin(capsys, world, "create-user", "--project", "a", "bob", "--password-stdin")
    bob = Caller(http, token=token_for(http, "bob", "bob-password"))
    assert as_a("POST", sets, {"face_set_name": "staff"}).status_code == 200
    assert "face set(s): staff" in admin(capsys, world, "delete-project", "a", code=1)
    assert as_a("GET", sets).status_code == 200  # refused: the project works as before
    assert as_a("DELETE", sets_path(a.project_id, "staff")).status_code == 200
    admin(capsys, world, "delete-project", "a")
    assert_frs_error(as_a("GET", sets), "APIG.0301", 401)
    assert_frs_error(bob("GET", sets), "FRS.0002", 403)


def test_audit_route_matches_actions_in_any_case_and_pages_exactly(world):
    a, as_a = world["a"], world["as_a"]
    audit = f"/v1/{a.project_id}/audit"
    found = as_a("GET", audit, query=[("action", "CREATECREDENTIAL")]).json()
    assert [e["resource"] for e in found["events"]] == [f"credential/{a.ak}"]
    everything = as_a("GET", audit).json()
    assert len(everything["events"]) == 3 and everything["next_marker"] is None  # createProject, ...
    first = as_a("GET", audit, query=[("limit", "2")]).json()
    assert first["next_marker"] == first["events"][-1]["seq"]
    last = as_a("GET", audit, query=[("limit", "1"), ("marker", str(first["next_marker"]))]).json()
    assert [e["action"] for e in last["events"]] == ["createUser"]
    assert last["next_marker"] is None  # the page held exactly the last event: nothing more


def test_usage_route_refuses_a_reversed_range(world):
    a, as_a = world["a"], world["as_a"]
    usage = f"/v1/{a.project_id}/usage"
    reversed_range = [("start_date", "2026-12-05"), ("end_date", "2026-12-01")]
    assert_frs_error(as_a("GET", usage, query=reversed_range), "FRS.0117")
    assert_frs_error(as_a("GET", usage, query=[("start_date", "12/01/2026")]), "FRS.0117")
    same_day = [("start_date", "2026-12-01"), ("end_date", "2026-12-01")]
    assert as_a("GET", usage, query=same_day).json() == {"usage": [], "total": 0, "throttled": 0, "errors": 0}
