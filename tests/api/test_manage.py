"""The management API (OpenFRS extension, api/routes/manage.py): a project's credentials, users,
sub-services and QPS over HTTP, per project, audited, refusing what would lock the caller out."""

from __future__ import annotations

import pytest

from openfrs.service.tenancy import Tenancy
from tests.api.test_auth import Caller, accounts, auth_app, projects_with_credentials
from tests.api.test_bad_inputs import assert_frs_error

pytestmark = pytest.mark.models


@pytest.fixture()
def world(face_service, own_stores):
    a, b = projects_with_credentials(own_stores, "a", "b")
    accounts(own_stores, lambda tenancy: tenancy.create_user("a", "alice", "alice-password"))
    with auth_app(own_stores, face_service, qps_default=1000) as http:
        token = http.post("/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": "alice",
                                                                        "password": "alice-password"}}},
            "scope": {"project": {"name": "a"}}}}).headers["X-Subject-Token"]
        yield {"http": http, "a": a, "b": b, "tenancy": http.app.state.tenancy,
               "as_a": Caller(http, a.ak, a.sk), "as_b": Caller(http, b.ak, b.sk),
               "as_alice": Caller(http, token=token)}


def _actions(tenancy: Tenancy, project_id: str) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.resource) for e in tenancy.audit_events(project_id, limit=1000)]


def test_credentials_create_sign_disable_rotate_delete(world):
    a, as_alice, tenancy = world["a"], world["as_alice"], world["tenancy"]
    base = f"/v1/{a.project_id}/credentials"
    created = as_alice("POST", base)
    assert created.status_code == 201, created.text
    new = created.json()["credential"]
    assert len(new["ak"]) == 20 and len(new["sk"]) == 40
    as_new = Caller(world["http"], new["ak"], new["sk"])
    assert as_new("GET", f"/v2/{a.project_id}/face-sets").status_code == 200
    listed = as_alice("GET", base).json()["credentials"]
    assert {c["ak"] for c in listed} == {a.ak, new["ak"]}
    assert all("sk" not in c for c in listed)  # the SK is shown once, at creation
    assert as_alice("PUT", f"{base}/{new['ak']}", {"disabled": True}).json() == {"ak": new["ak"],
                                                                                "disabled": True}
    assert_frs_error(as_new("GET", f"/v2/{a.project_id}/face-sets"), "APIG.0301", 401)
    assert as_alice("PUT", f"{base}/{new['ak']}", {"disabled": False}).status_code == 200
    rotated = as_alice("POST", f"{base}/{new['ak']}/rotate", {"grace_seconds": 0})
    assert rotated.status_code == 200, rotated.text
    successor = rotated.json()["credential"]
    assert Caller(world["http"], successor["ak"], successor["sk"])(
        "GET", f"/v2/{a.project_id}/face-sets").status_code == 200
    assert_frs_error(as_new("GET", f"/v2/{a.project_id}/face-sets"), "APIG.0301", 401)  # no grace
    assert as_alice("DELETE", f"{base}/{successor['ak']}").json() == {"ak": successor["ak"], "deleted": True}
    actions = _actions(tenancy, a.project_id)
    for action in ("createCredential", "disableCredential", "enableCredential", "rotateCredential",
                   "deleteCredential"):
        assert ("user:alice", action) in {(actor, act) for actor, act, _ in actions}, action


def test_users_create_disable_reset_delete(world):
    a, as_a, http = world["a"], world["as_a"], world["http"]
    base = f"/v1/{a.project_id}/users"
    created = as_a("POST", base, {"name": "bob", "password": "bob-password"})
    assert created.status_code == 201 and created.json()["user"]["name"] == "bob"
    assert {u["name"] for u in as_a("GET", base).json()["users"]} == {"alice", "bob"}
    assert all("password" not in str(u) for u in as_a("GET", base).json()["users"])

    def token(password: str):
        return http.post("/v3/auth/tokens", json={"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "bob", "password": password}}}, "scope": {"project": {"id": a.project_id}}}})

    assert token("bob-password").status_code == 201
    assert as_a("PUT", f"{base}/bob", {"password": "new-bob-password"}).json()["password_reset"] is True
    assert_frs_error(token("bob-password"), "APIG.0301", 401)
    assert token("new-bob-password").status_code == 201
    assert as_a("PUT", f"{base}/bob", {"disabled": True}).json()["user"]["disabled"] is True
    assert_frs_error(token("new-bob-password"), "APIG.0301", 401)
    deleted = as_a("DELETE", f"{base}/bob")
    assert deleted.json() == {"name": "bob", "deleted": True}
    assert ("ak:" + a.ak, "deleteUser", "user/bob") in _actions(world["tenancy"], a.project_id)
    last = world["tenancy"].audit_events(a.project_id, "deleteUser")[-1]
    assert last.request_id == deleted.headers["x-request-id"]  # the id the client saw


def test_services_and_qps(world):
    a, as_alice = world["a"], world["as_alice"]
    off = as_alice("PUT", f"/v1/{a.project_id}/subscribe/detect", {"enabled": False})
    assert off.json() == {"service": "detect", "subscribe_status": False}
    detect = as_alice("POST", f"/v2/{a.project_id}/face-detect", {"image_base64": "AAAA"})
    assert_frs_error(detect, "FRS.0020")
    subscription = as_alice("GET", f"/v1/{a.project_id}/subscribe").json()
    assert subscription["detect_service"]["subscribe_status"] is False
    assert as_alice("PUT", f"/v1/{a.project_id}/subscribe/detect", {"enabled": True}).status_code == 200
    project = as_alice("PUT", f"/v1/{a.project_id}/project", {"qps": 7.5}).json()
    assert project["qps"] == 7.5 and project["name"] == "a" and project["qps_default"] == 1000
    assert project["subscription"]["detect_service"]["subscribe_status"] is True
    assert as_alice("GET", f"/v1/{a.project_id}/project").json()["qps"] == 7.5
    actions = {act for _, act, _ in _actions(world["tenancy"], a.project_id)}
    assert {"disableService", "enableService", "updateProject"} <= actions


def test_refusals(world):
    a, b, as_a, as_alice = world["a"], world["b"], world["as_a"], world["as_alice"]
    creds, users = f"/v1/{a.project_id}/credentials", f"/v1/{a.project_id}/users"
    # the access in use cannot be disabled or deleted: no silent lock-out
    assert_frs_error(as_a("DELETE", f"{creds}/{a.ak}"), "FRS.0012")
    assert_frs_error(as_a("PUT", f"{creds}/{a.ak}", {"disabled": True}), "FRS.0012")
    assert_frs_error(as_alice("DELETE", f"{users}/alice"), "FRS.0012")
    assert_frs_error(as_alice("PUT", f"{users}/alice", {"disabled": True}), "FRS.0012")
    assert as_a("GET", creds).status_code == 200 and as_alice("GET", users).status_code == 200
    # another project's credential is unknown here; another project's paths are refused
    assert_frs_error(as_a("DELETE", f"{creds}/{b.ak}"), "FRS.0012")
    assert_frs_error(as_a("POST", f"{creds}/{b.ak}/rotate"), "FRS.0012")
    assert_frs_error(as_a("GET", f"/v1/{b.project_id}/credentials"), "FRS.0028", 403)
    assert_frs_error(as_a("POST", f"/v1/{b.project_id}/users", {"name": "x", "password": "x" * 8}),
                     "FRS.0028", 403)
    assert_frs_error(world["http"].get(creds), "APIG.0301", 401)  # no credentials at all
    # bad input: FRS codes, never 500 or 422
    assert_frs_error(as_a("POST", users, {"name": "bob"}), "FRS.0011")
    assert_frs_error(as_a("POST", users, {"name": "bob", "password": "short"}), "FRS.0012")
    assert_frs_error(as_a("POST", users, {"name": "bad name!", "password": "long-enough"}), "FRS.0012")
    assert_frs_error(as_a("POST", users, {"name": "alice", "password": "long-enough"}), "FRS.0012")  # exists
    assert_frs_error(as_a("POST", users, {"name": 5, "password": "long-enough"}), "FRS.0012")
    assert_frs_error(as_a("PUT", f"{users}/nobody", {"disabled": True}), "FRS.0012")
    assert_frs_error(as_a("PUT", f"{users}/alice", {}), "FRS.0011")
    assert_frs_error(as_a("PUT", f"{creds}/{a.ak}", {"disabled": "yes"}), "FRS.0012")
    assert_frs_error(as_a("PUT", f"/v1/{a.project_id}/subscribe/teleport", {"enabled": True}), "FRS.0012")
    assert_frs_error(as_a("PUT", f"/v1/{a.project_id}/subscribe/detect", {"enabled": 1}), "FRS.0012")
    assert_frs_error(as_a("PUT", f"/v1/{a.project_id}/project", {"qps": -1}), "FRS.0012")
    assert_frs_error(as_a("PUT", f"/v1/{a.project_id}/project", {"qps": True}), "FRS.0012")
    assert_frs_error(as_alice("PUT", f"/v1/{a.project_id}/project", send_body=b"{not json"), "FRS.0014")
    assert_frs_error(as_a("POST", f"{creds}/{a.ak}/rotate", {"grace_seconds": -5}), "FRS.0012")
    assert_frs_error(as_a("POST", f"{creds}/{a.ak}/rotate", {"grace_seconds": 1e300}), "FRS.0012")
    assert as_a("GET", creds).status_code == 200  # the refused rotation stored nothing
