"""FRS face-set management over HTTP: shapes, rules and error codes."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from openfrs.api.app import create_app

pytestmark = pytest.mark.models


def project() -> str:
    """A fresh tenant per test, so tests never see each other's sets."""
    return "p" + uuid.uuid4().hex[:12]


def assert_error(response, code: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error_code"] == code, response.json()


def test_create_show_list_delete(client):
    pid = project()
    schema = {"age": {"type": "integer"}, "vip": {"type": "boolean"}, "dept": {"type": "string"}}
    created = client.post(f"/v2/{pid}/face-sets",
                          json={"face_set_name": "staff", "external_fields": schema})
    assert created.status_code == 200, created.text
    info = created.json()["face_set_info"]
    assert info["face_set_name"] == "staff" and len(info["face_set_id"]) == 8
    assert info["face_set_capacity"] == 100_000 and info["face_number"] == 0
    assert info["external_fields"] == schema and info["create_date"]

    shown = client.get(f"/v2/{pid}/face-sets/staff").json()["face_set_info"]
    assert shown == info
    listed = client.get(f"/v2/{pid}/face-sets").json()["face_sets_info"]
    assert [s["face_set_name"] for s in listed] == ["staff"]
    assert client.get(f"/v2/{project()}/face-sets").json() == {"face_sets_info": []}

    deleted = client.delete(f"/v2/{pid}/face-sets/staff")
    assert deleted.json() == {"face_set_name": "staff"}
    assert_error(client.get(f"/v2/{pid}/face-sets/staff"), "FRS.0302")
    assert_error(client.delete(f"/v2/{pid}/face-sets/staff"), "FRS.0302")


def test_duplicate_face_set_is_frs_0301(client):
    pid = project()
    assert client.post(f"/v2/{pid}/face-sets", json={"face_set_name": "a"}).status_code == 200
    assert_error(client.post(f"/v2/{pid}/face-sets", json={"face_set_name": "a"}), "FRS.0301")


@pytest.mark.parametrize("body, code", [
    ({}, "FRS.0011"),
    ({"face_set_name": ""}, "FRS.0011"),
    ({"face_set_name": "_hidden"}, "FRS.0012"),
    ({"face_set_name": "a/b"}, "FRS.0012"),
    ({"face_set_name": "x" * 65}, "FRS.0012"),
    ({"face_set_name": 7}, "FRS.0012"),
    ({"face_set_name": "s", "face_set_capacity": 12_345}, "FRS.0012"),
    ({"face_set_name": "s", "face_set_capacity": 200_000}, "FRS.0012"),
    ({"face_set_name": "s", "face_set_capacity": True}, "FRS.0012"),
    ({"face_set_name": "s", "external_fields": {"face_id": {"type": "string"}}}, "FRS.0012"),
    ({"face_set_name": "s", "external_fields": {"a": {"type": "date"}}}, "FRS.0012"),
    ({"face_set_name": "s", "external_fields": {"a b": {"type": "string"}}}, "FRS.0012"),
    ({"face_set_name": "s", "external_fields": {f"f{i}": {"type": "long"} for i in range(11)}},
     "FRS.0012"),
    ({"face_set_name": "s", "external_fields": ["age"]}, "FRS.0012"),
])
def test_invalid_create_requests(client, body, code):
    assert_error(client.post(f"/v2/{project()}/face-sets", json=body), code)


def test_face_set_limit_per_project(settings, face_service):
    limited = settings.model_copy(update={"max_face_sets": 2})
    with TestClient(create_app(limited, face_service)) as local:
        pid = project()
        for name in ("a", "b"):
            assert local.post(f"/v2/{pid}/face-sets", json={"face_set_name": name}).status_code == 200
        assert_error(local.post(f"/v2/{pid}/face-sets", json={"face_set_name": "c"}), "FRS.0305")
        assert local.post(f"/v2/{project()}/face-sets", json={"face_set_name": "c"}).status_code == 200


def test_capacity_can_be_raised_by_settings(settings, face_service):
    large = settings.model_copy(update={"max_face_set_capacity": 10_000_000})
    with TestClient(create_app(large, face_service)) as local:
        response = local.post(f"/v2/{project()}/face-sets",
                              json={"face_set_name": "big", "face_set_capacity": 10_000_000})
        assert response.json()["face_set_info"]["face_set_capacity"] == 10_000_000


def test_face_sets_survive_a_restart(settings, face_service):
    pid = project()
    with TestClient(create_app(settings, face_service)) as first:
        first.post(f"/v2/{pid}/face-sets", json={"face_set_name": "kept"})
    with TestClient(create_app(settings, face_service)) as second:
        assert second.get(f"/v2/{pid}/face-sets/kept").status_code == 200
