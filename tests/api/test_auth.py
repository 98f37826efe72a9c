"""Authentication, tenancy, sub-services, quotas, usage and audit through the app with auth on.

Requests are signed with openfrs.signing (the same rules as the official signer; tests/client
checks the two give the same signatures, tests/api/test_huawei_sdk.py drives the official SDK).
The accounts are on the session's backend (`--backend`), in stores of each test's own: a SQLite
file in a temporary data dir, or a fresh PostgreSQL schema (tests/conftest.py, own_stores).
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from openfrs import signing
from openfrs.api.app import create_app
from openfrs.config import Settings
from openfrs.migrate.accounts import TABLES
from openfrs.service.tenancy import ACCOUNTS_FILE, IssuedCredential, Tenancy
from tests.api.test_bad_inputs import assert_frs_error

pytestmark = pytest.mark.models
HOST = "testserver"


class Caller:
    """Signs each request with one AK/SK (or sends a token), as a client of project `project_id`."""

    def __init__(self, http: TestClient, ak: str = "", sk: str = "", token: str = "") -> None:
        self.http, self.ak, self.sk, self.token = http, ak, sk, token

    def __call__(self, method: str, path: str, body: dict | None = None, query: list | None = None,
                 now: datetime | None = None, sk: str | None = None, send_body: bytes | None = None):
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token:
            headers["X-Auth-Token"] = self.token
        else:
            headers = signing.sign(method, HOST, path, query or [], headers, data, self.ak,
                                   sk or self.sk, now)
        return self.http.request(method, path, params=query or None, content=send_body or data,
                                 headers=headers)


def accounts(settings: Settings, setup) -> object:
    """What `setup(tenancy)` returns, run on the accounts of `settings` (closed after)."""
    tenancy = Tenancy.from_settings(settings)
    try:
        return setup(tenancy)
    finally:
        tenancy.close()


def projects_with_credentials(settings: Settings, *names: str) -> list[IssuedCredential]:
    """A new project and a credential of it for each name, on the accounts of `settings`."""
    return accounts(settings, lambda tenancy: [tenancy.create_credential(tenancy.create_project(name).name)
                                               for name in names])


def auth_app(settings: Settings, face_service, **changes) -> TestClient:
    """A test client of an app with auth on over the stores of `settings` (closed with it)."""
    return TestClient(create_app(settings.model_copy(update={"auth": "on", **changes}), face_service))


@pytest.fixture()
def world(face_service, own_stores):
    """An app with auth on and a generous quota; projects a and b with a credential each."""
    a, b = projects_with_credentials(own_stores, "a", "b")
    accounts(own_stores, lambda tenancy: tenancy.create_user("a", "alice", "alice-password"))
    with auth_app(own_stores, face_service, qps_default=1000) as http:
        yield {"http": http, "a": a, "b": b, "tenancy": http.app.state.tenancy, "settings": own_stores,
               "as_a": Caller(http, a.ak, a.sk), "as_b": Caller(http, b.ak, b.sk)}


def sets_path(project_id: str, name: str = "") -> str:
    return f"/v2/{project_id}/face-sets" + (f"/{name}" if name else "")


def test_a_signed_call_succeeds_and_bad_signatures_are_refused(world):
    a, as_a = world["a"], world["as_a"]
    assert as_a("GET", sets_path(a.project_id)).status_code == 200
    assert as_a("POST", sets_path(a.project_id), {"face_set_name": "s1"}).status_code == 200
    wrong_sk = as_a("GET", sets_path(a.project_id), sk=a.sk[::-1])
    assert_frs_error(wrong_sk, "APIG.0301", 401)
    stale = as_a("GET", sets_path(a.project_id), now=datetime.now(UTC) - timedelta(minutes=16))
    assert_frs_error(stale, "APIG.0301", 401)
    within_skew = as_a("GET", sets_path(a.project_id), now=datetime.now(UTC) - timedelta(minutes=14))
    assert within_skew.status_code == 200
    tampered = as_a("POST", sets_path(a.project_id), {"face_set_name": "s2"},
                    send_body=json.dumps({"face_set_name": "s3"}).encode())
    assert_frs_error(tampered, "APIG.0301", 401)
    assert_frs_error(world["http"].get(sets_path(a.project_id)), "APIG.0301", 401)  # no credentials
    query = [("offset", "0"), ("limit", "2")]
    faces = as_a("GET", sets_path(a.project_id, "s1") + "/faces", query=query)
    assert faces.status_code == 200, faces.text
    names = [s["face_set_name"] for s in as_a("GET", sets_path(a.project_id)).json()["face_sets_info"]]
    assert names == ["s1"]  # the tampered request changed nothing


def test_the_host_header_must_be_signed(world):
    a = world["a"]
    headers = signing.sign("GET", HOST, sets_path(a.project_id), [], {}, b"", a.ak, a.sk)
    access = headers["Authorization"].replace("SignedHeaders=host;x-sdk-date", "SignedHeaders=x-sdk-date")
    canonical = signing.canonical_request("GET", sets_path(a.project_id), [],
                                          {"x-sdk-date": headers["X-Sdk-Date"]}, ["x-sdk-date"],
                                          signing.EMPTY_HASH)
    resigned = signing.signature(a.sk, headers["X-Sdk-Date"], canonical)
    forged = re.sub(r"Signature=\w+", "Signature=" + resigned, access)
    response = world["http"].get(sets_path(a.project_id), headers={**headers, "Authorization": forged})
    assert_frs_error(response, "APIG.0301", 401)


def test_projects_are_isolated_on_every_endpoint(world):
    """Project a's credential against project b's path: FRS.0028 on every FRS route, and b's data
    neither read nor changed."""
    a, b, as_a, as_b = world["a"], world["b"], world["as_a"], world["as_b"]
    assert as_b("POST", sets_path(b.project_id), {"face_set_name": "bs"}).status_code == 200
    routes = [(method.upper(), path) for path, methods in world["http"].app.openapi()["paths"].items()
              if "{project_id}" in path for method in methods]
    assert len(routes) >= 17
    for method, template in routes:
        path = template.replace("{project_id}", b.project_id).replace("{face_set_name}", "bs")
        body = {"face_set_name": "bs"} if method in ("POST", "PUT") else None
        response = as_a(method, path, body)
        assert_frs_error(response, "FRS.0028", 403)
    assert as_a("GET", sets_path(a.project_id)).json()["face_sets_info"] == []
    b_sets = as_b("GET", sets_path(b.project_id)).json()["face_sets_info"]
    assert [s["face_set_name"] for s in b_sets] == ["bs"]
    assert_frs_error(as_a("GET", sets_path(a.project_id, "bs")), "FRS.0302")  # by name: not a's


def test_disabled_credentials_projects_and_services(world):
    a, as_a, tenancy = world["a"], world["as_a"], world["tenancy"]
    detect = f"/v2/{a.project_id}/face-detect"
    tenancy.set_service("a", "detect", False)
    assert_frs_error(as_a("POST", detect, {"image_base64": "AAAA"}), "FRS.0020")
    assert as_a("GET", sets_path(a.project_id)).status_code == 200  # search still enabled
    for service in ("compare", "search", "live_detect"):
        tenancy.set_service("a", service, False)
    assert_frs_error(as_a("GET", sets_path(a.project_id)), "FRS.0019")
    subscription = as_a("GET", f"/v1/{a.project_id}/subscribe").json()
    assert subscription["detect_service"]["subscribe_status"] is False
    assert set(subscription) == {"max_face_set_number", "detect_service", "compare_service",
                                 "search_service", "live_detect_service"}
    tenancy.set_service("a", "search", True)
    tenancy.set_project("a", disabled=True)
    assert_frs_error(as_a("GET", sets_path(a.project_id)), "FRS.0202")
    tenancy.set_project("a", disabled=False)
    tenancy.set_credential_disabled(a.ak, True)
    assert_frs_error(as_a("GET", sets_path(a.project_id)), "APIG.0301", 401)


def test_tokens_from_user_passwords(world):
    a, b, http = world["a"], world["b"], world["http"]

    def token_body(password: str, project: dict) -> dict:
        return {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": "alice", "password": password, "domain": {"name": "any"}}}},
            "scope": {"project": project}}}

    issued = http.post("/v3/auth/tokens", json=token_body("alice-password", {"name": "a"}))
    assert issued.status_code == 201
    token = issued.headers["X-Subject-Token"]
    assert issued.json()["token"]["project"]["id"] == a.project_id
    as_alice = Caller(http, token=token)
    assert as_alice("GET", sets_path(a.project_id)).status_code == 200
    assert_frs_error(as_alice("GET", sets_path(b.project_id)), "FRS.0028", 403)
    assert_frs_error(Caller(http, token=token + "x")("GET", sets_path(a.project_id)), "FRS.0002", 403)
    assert_frs_error(http.post("/v3/auth/tokens", json=token_body("wrong-password", {"id": a.project_id})),
                     "APIG.0301", 401)
    assert_frs_error(http.post("/v3/auth/tokens", json={"auth": {}}), "FRS.0011")
    misshapen = token_body("alice-password", {"name": "a"})
    misshapen["auth"]["scope"]["project"] = "a"  # a string where IAM has an object
    assert_frs_error(http.post("/v3/auth/tokens", json=misshapen), "FRS.0011")
    world["tenancy"].set_user_disabled("a", "alice", True)
    assert_frs_error(as_alice("GET", sets_path(a.project_id)), "FRS.0002", 403)


def _user_token(tenancy: Tenancy):
    tenancy.create_project("p")
    tenancy.create_user("p", "u", "password-u")
    return tenancy.issue_token("p", "u", "password-u")


def test_expired_tokens_are_refused(face_service, own_stores):
    token, project, _ = accounts(own_stores.model_copy(update={"token_ttl_s": -1}), _user_token)
    with auth_app(own_stores, face_service) as http:
        assert_frs_error(Caller(http, token=token)("GET", sets_path(project.project_id)), "FRS.0002", 403)


def test_qps_over_the_limit_gets_429_with_retry_after(world):
    a, as_a = world["a"], world["as_a"]
    world["tenancy"].set_project("a", qps=5)
    answers = [as_a("GET", sets_path(a.project_id)) for _ in range(20)]
    passed = [r for r in answers if r.status_code == 200]
    limited = [r for r in answers if r.status_code == 429]
    assert 5 <= len(passed) <= 7 and len(passed) + len(limited) == 20
    assert all(r.json()["error_code"] == "FRS.0033" and int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert world["as_b"]("GET", sets_path(world["b"].project_id)).status_code == 200  # b has its own


def test_the_default_quota_lets_a_plain_loop_through(face_service, own_stores):
    """A single-tenant server has no per-API rate limit by default: 40 back-to-back calls (more
    than the old default of 10 per second allowed) all succeed, as an enrol loop's adds must."""
    [credential] = projects_with_credentials(own_stores, "loop")
    with auth_app(own_stores, face_service) as http:
        call = Caller(http, credential.ak, credential.sk)
        statuses = [call("GET", sets_path(credential.project_id)).status_code for _ in range(40)]
    assert statuses == [200] * 40


def test_throttled_calls_are_counted_and_name_the_setting(world):
    """A 429 is an answered call of the project: /metrics counts it in error_4xx and usage in
    `throttled`; its message says which setting limits it."""
    a, as_a = world["a"], world["as_a"]
    world["tenancy"].set_project("a", qps=2)
    answers = [as_a("GET", sets_path(a.project_id)) for _ in range(12)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited and "openfrs admin set-qps" in limited[0].json()["error_msg"]
    world["tenancy"].set_project("a", qps=1000)
    text = world["http"].app.state.metrics.render()  # what /metrics serves
    series = f'error_4xx{{project="{a.project_id}",api="list_face_sets"}}'
    assert f"{series} {len(limited)}\n" in text
    usage = as_a("GET", f"/v1/{a.project_id}/usage").json()
    rows = {row["api"]: row for row in usage["usage"]}
    assert rows["list_face_sets"]["calls"] == 12 - len(limited)
    assert rows["list_face_sets"]["throttled"] == len(limited)


def test_usage_and_audit_reflect_the_calls(world):
    a, as_a = world["a"], world["as_a"]
    for name in ("u1", "u2"):
        assert as_a("POST", sets_path(a.project_id), {"face_set_name": name}).status_code == 200
    assert_frs_error(as_a("POST", sets_path(a.project_id), {"face_set_name": "u1"}), "FRS.0301")
    deleted = as_a("DELETE", sets_path(a.project_id, "u2"))
    for _ in range(3):
        as_a("GET", sets_path(a.project_id))
    usage = as_a("GET", f"/v1/{a.project_id}/usage").json()
    calls = {row["api"]: row["calls"] for row in usage["usage"]}
    assert calls == {"create_face_set": 2, "delete_face_set": 1, "list_face_sets": 3}
    errors = {row["api"]: row["errors"] for row in usage["usage"]}  # the FRS.0301 refusal, never billed
    assert errors == {"create_face_set": 1, "delete_face_set": 0, "list_face_sets": 0}
    assert usage["errors"] == 1
    assert_frs_error(as_a("GET", f"/v1/{a.project_id}/usage", query=[("start_date", "2026-13-01")]),
                     "FRS.0117")
    for bad_limit in ("0", "abc", "²"):  # "²".isdigit() is True, int("²") raises
        assert_frs_error(as_a("GET", f"/v1/{a.project_id}/audit", query=[("limit", bad_limit)]), "FRS.0012")
    events = as_a("GET", f"/v1/{a.project_id}/audit").json()["events"]
    faceset_events = [(e["action"], e["resource"]) for e in events if e["resource"].startswith("faceset/")]
    assert faceset_events == [("createFaceSet", "faceset/u1"), ("createFaceSet", "faceset/u2"),
                              ("deleteFaceSet", "faceset/u2")]
    assert events[-1]["actor"] == f"ak:{a.ak}" and events[-1]["request_id"] == deleted.headers["X-Request-Id"]
    b_events = world["as_b"]("GET", f"/v1/{world['b'].project_id}/audit").json()["events"]
    assert all(not e["resource"].startswith("faceset/") for e in b_events)


def test_secrets_are_not_stored_in_clear(world):
    a, store, own = world["a"], world["tenancy"].store, world["settings"]
    raw = repr([store._rows(f"SELECT * FROM {table}") for table in TABLES]).encode()  # every row, as stored
    if own.embedded:  # the SQLite file and its WAL as bytes too (deleted rows' pages included);
        # PostgreSQL's files belong to its server, not to the test: there its rows are what is read
        for path in (own.data_dir / ACCOUNTS_FILE, *own.data_dir.glob(ACCOUNTS_FILE + "-wal")):
            raw += path.read_bytes()
    for secret in (a.sk, "alice-password", base64.b64encode(a.sk.encode()).decode()):
        assert secret.encode() not in raw
    assert a.ak.encode() in raw  # the access key is an identifier, kept as is


def test_audit_log_refuses_changes(world):
    tenancy = world["tenancy"]
    with pytest.raises(Exception, match="append-only"), tenancy.store._transaction() as db:
        db.execute("DELETE FROM audit")
    assert tenancy.audit_events(None)


def test_metrics_reflect_exactly_the_calls(face_service, own_stores):
    """/metrics with its bearer token: FRS names, labelled by project and API, counting only the
    calls this test made; refused without the token."""
    [credential] = projects_with_credentials(own_stores, "m")
    with auth_app(own_stores, face_service, qps_default=1000, metrics_token="scrape-me") as http:
        call = Caller(http, credential.ak, credential.sk)
        pid = credential.project_id
        assert call("POST", sets_path(pid), {"face_set_name": "m1"}).status_code == 200
        for _ in range(3):
            assert call("GET", sets_path(pid)).status_code == 200
        assert_frs_error(call("GET", sets_path(pid, "missing")), "FRS.0302")
        assert_frs_error(http.get(sets_path(pid)), "APIG.0301", 401)  # unauthenticated: unlabelled
        assert_frs_error(http.get("/metrics"), "APIG.0301", 401)
        text = http.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).text
    samples = dict(re.findall(r"^(\w+\{[^}]*\}) (\S+)$", text, re.MULTILINE))

    def value(name: str, **labels: str) -> float:
        key = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
        return float(samples[key])

    assert value("api_calls", project=pid, api="list_face_sets") == 3
    assert value("api_calls", project=pid, api="create_face_set") == 1
    assert value("error_4xx", project=pid, api="show_face_set") == 1
    assert value("api_calls", project=pid, api="show_face_set") == 0
    assert value("request_latency_seconds_count", project=pid, api="list_face_sets") == 3
    assert value("face_number", project=pid, face_set="m1") == 0
    assert sum(float(v) for k, v in samples.items() if k.startswith("api_calls{")) == 4
