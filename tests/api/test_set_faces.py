"""Faces in face sets over HTTP: add, list, show, delete and 1:N search with real images."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openfrs.api.app import create_app

pytestmark = pytest.mark.models

SCHEMA = {"age": {"type": "integer"}, "dept": {"type": "string"}, "score": {"type": "double"}}


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def lfw(shared_data: Path, name: str, index: int) -> Path:
    return shared_data / "lfw-partial" / "images" / name / f"{name}_{index:04d}.jpg"


def assert_error(response, code: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error_code"] == code, response.json()


@pytest.fixture
def enrolled(client, shared_data):
    """A fresh project with a set holding three people (one photo each)."""
    pid = "p" + uuid.uuid4().hex[:12]
    assert client.post(f"/v2/{pid}/face-sets",
                       json={"face_set_name": "s", "external_fields": SCHEMA}).status_code == 200
    people = [("Abdullah", 2, 30, "hr"), ("Aaron_Eckhart", 1, 40, "it"), ("Ariel_Sharon", 1, 50, "it")]
    ids = {}
    for name, index, age, dept in people:
        response = client.post(f"/v2/{pid}/face-sets/s/faces", json={
            "image_base64": b64(lfw(shared_data, name, index)), "external_image_id": name,
            "external_fields": {"age": age, "dept": dept, "score": age / 10}, "single": True})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["face_set_name"] == "s" and len(body["faces"]) == 1
        face = body["faces"][0]
        assert face["external_image_id"] == name and face["external_fields"]["age"] == age
        ids[name] = face["face_id"]
    return pid, ids


def test_search_by_image_finds_the_same_person_first(client, shared_data, enrolled):
    pid, ids = enrolled
    response = client.post(f"/v2/{pid}/face-sets/s/search",
                           json={"image_base64": b64(lfw(shared_data, "Abdullah", 3)), "top_n": 2})
    assert response.status_code == 200, response.text
    faces = response.json()["faces"]
    assert len(faces) == 2
    assert faces[0]["face_id"] == ids["Abdullah"] and faces[0]["similarity"] >= 0.93
    assert faces[1]["similarity"] < faces[0]["similarity"]
    assert set(faces[0]) == {"bounding_box", "external_image_id", "external_fields", "face_id",
                             "similarity"}


def test_search_threshold_filter_return_fields_and_face_id(client, shared_data, enrolled):
    pid, ids = enrolled
    url = f"/v2/{pid}/face-sets/s/search"
    probe = b64(lfw(shared_data, "Abdullah", 3))
    strict = client.post(url, json={"image_base64": probe, "threshold": 0.93}).json()["faces"]
    assert [f["face_id"] for f in strict] == [ids["Abdullah"]]
    filtered = client.post(url, json={"image_base64": probe, "filter": "dept:it && age:[* TO 45]",
                                      "return_fields": ["age"]}).json()["faces"]
    assert [f["face_id"] for f in filtered] == [ids["Aaron_Eckhart"]]
    assert filtered[0]["external_fields"] == {"age": 40}
    by_id = client.post(url, json={"face_id": ids["Ariel_Sharon"], "top_n": 1}).json()["faces"]
    assert by_id[0]["face_id"] == ids["Ariel_Sharon"] and by_id[0]["similarity"] > 0.99
    ordered = client.post(url, json={"face_id": ids["Ariel_Sharon"],
                                     "sort": [{"age": "asc"}]}).json()["faces"]
    assert [f["external_fields"]["age"] for f in ordered] == [30, 40, 50]


@pytest.mark.parametrize("extra, code", [
    ({"top_n": 0}, "FRS.0012"),
    ({"top_n": 1001}, "FRS.0012"),
    ({"threshold": 2}, "FRS.0012"),
    ({"filter": "height:[1 TO 2]"}, "FRS.0012"),
    ({"filter": "age:abc"}, "FRS.0012"),
    ({"sort": [{"dept": "asc"}]}, "FRS.0032"),
    ({"return_fields": ["height"]}, "FRS.0402"),
])
def test_bad_search_parameters(client, enrolled, extra, code):
    pid, ids = enrolled
    body = {"face_id": ids["Abdullah"], **extra}
    assert_error(client.post(f"/v2/{pid}/face-sets/s/search", json=body), code)


def test_search_errors(client, enrolled):
    pid, _ = enrolled
    url = f"/v2/{pid}/face-sets/s/search"
    assert_error(client.post(url, json={"face_id": "nope"}), "FRS.0403")
    assert_error(client.post(url, json={}), "FRS.0011")
    gray = np.full((200, 200, 3), 128, np.uint8)
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, "PNG")
    assert_error(client.post(url, json={"image_base64": base64.b64encode(buffer.getvalue()).decode()}),
                 "FRS.0304")
    assert_error(client.post(f"/v2/{pid}/face-sets/none/search", json={"face_id": "x"}), "FRS.0302")


def test_list_show_delete(client, enrolled):
    pid, ids = enrolled
    url = f"/v2/{pid}/face-sets/s/faces"
    listed = client.get(url, params={"offset": 1, "limit": 5}).json()
    assert [f["face_id"] for f in listed["faces"]] == [ids["Aaron_Eckhart"], ids["Ariel_Sharon"]]
    assert_error(client.get(url, params={"offset": 9999, "limit": 5}), "FRS.0012")
    shown = client.get(url, params={"face_id": ids["Abdullah"]}).json()["faces"]
    assert shown[0]["external_fields"] == {"age": 30, "dept": "hr", "score": 3.0}
    assert_error(client.get(url, params={"face_id": "missing"}), "FRS.0403")
    gone = client.delete(url, params={"face_id": ids["Abdullah"]}).json()
    assert gone["face_number"] == 1 and gone["face_set_name"] == "s"
    assert_error(client.delete(url, params={"face_id": ids["Abdullah"]}), "FRS.0403")
    assert client.delete(url, params={"external_image_id": "Ariel_Sharon"}).json()["face_number"] == 1
    assert_error(client.delete(url, params={"external_image_id": "Ariel_Sharon"}), "FRS.0401")
    left = client.post(f"/v2/{pid}/face-sets/s/search", json={"face_id": ids["Aaron_Eckhart"]})
    assert [f["face_id"] for f in left.json()["faces"]] == [ids["Aaron_Eckhart"]]
    assert client.get(f"/v2/{pid}/face-sets/s").json()["face_set_info"]["face_number"] == 1


@pytest.mark.parametrize("fields, code", [
    ({"external_fields": {"height": 1}}, "FRS.0405"),
    ({"external_fields": {"age": "old"}}, "FRS.0406"),
    ({"external_image_id": "bad id!"}, "FRS.0012"),
    ({"single": "maybe"}, "FRS.0012"),
])
def test_bad_add_requests(client, shared_data, enrolled, fields, code):
    pid, _ = enrolled
    body = {"image_base64": b64(lfw(shared_data, "Abdullah", 3)), **fields}
    assert_error(client.post(f"/v2/{pid}/face-sets/s/faces", json=body), code)


def test_add_without_a_face_and_to_a_missing_set(client, enrolled):
    pid, _ = enrolled
    import io

    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(buffer, "PNG")
    blank = base64.b64encode(buffer.getvalue()).decode()
    assert_error(client.post(f"/v2/{pid}/face-sets/s/faces", json={"image_base64": blank}), "FRS.0404")
    assert_error(client.post(f"/v2/{pid}/face-sets/none/faces", json={"image_base64": blank}),
                 "FRS.0302")


def test_full_face_set_refuses_more_faces(settings, face_service, shared_data):
    small = settings.model_copy(update={"default_face_set_capacity": 10_000})
    with TestClient(create_app(small, face_service)) as local:
        pid = "p" + uuid.uuid4().hex[:12]
        local.post(f"/v2/{pid}/face-sets", json={"face_set_name": "s"})
        store = local.app.state.face_set_service.store
        record = store.get_face_set(pid, "s")
        # Fill the set through the store (10,000 real images would take minutes), then ask the API.
        from openfrs.store.records import FaceRecord
        unit = np.full(128, 1 / np.sqrt(128), np.float32)
        store.add_faces(record.key, [FaceRecord(f"x{i}", "x", (0, 0, 1, 1), unit) for i in range(10_000)])
        response = local.post(f"/v2/{pid}/face-sets/s/faces",
                              json={"image_base64": b64(lfw(shared_data, "Abdullah", 3))})
        assert_error(response, "FRS.0408")


def test_search_results_survive_a_restart(settings, face_service, shared_data):
    pid = "p" + uuid.uuid4().hex[:12]
    probe = {"image_base64": b64(lfw(shared_data, "Abdullah", 3))}
    with TestClient(create_app(settings, face_service)) as first:
        first.post(f"/v2/{pid}/face-sets", json={"face_set_name": "s"})
        for name, index in (("Abdullah", 2), ("Aaron_Eckhart", 1)):
            first.post(f"/v2/{pid}/face-sets/s/faces",
                       json={"image_base64": b64(lfw(shared_data, name, index))})
        before = first.post(f"/v2/{pid}/face-sets/s/search", json=probe).json()
    with TestClient(create_app(settings, face_service)) as second:
        after = second.post(f"/v2/{pid}/face-sets/s/search", json=probe).json()
    assert after == before and len(after["faces"]) == 2


def test_update_batch_delete_and_delete_by_field(client, enrolled):
    pid, ids = enrolled
    url = f"/v2/{pid}/face-sets/s/faces"
    updated = client.put(url, json={"face_id": ids["Abdullah"], "external_fields": {"age": 31},
                                    "external_image_id": "renamed"})
    assert updated.json() == {"face_number": 1, "face_set_id": updated.json()["face_set_id"],
                              "face_set_name": "s"}
    shown = client.get(url, params={"face_id": ids["Abdullah"]}).json()["faces"][0]
    assert shown["external_fields"] == {"age": 31, "dept": "hr", "score": 3.0}  # merged, not replaced
    assert shown["external_image_id"] == "renamed"
    assert_error(client.put(url, json={"face_id": "nope", "external_image_id": "x"}), "FRS.0303")
    assert_error(client.put(url, json={"face_id": ids["Abdullah"]}), "FRS.0011")
    assert_error(client.put(url, json={"face_id": ids["Abdullah"], "external_fields": {"age": "x"}}),
                 "FRS.0406")

    assert_error(client.delete(url, params={"height": "3"}), "FRS.0402")
    assert_error(client.delete(url, params={"age": "99"}), "FRS.0401")
    assert client.delete(url, params={"age": "31"}).json()["face_number"] == 1

    batch = client.request("DELETE", url + "/batch", json={"filter": "dept:it && age:[40 TO 50]"})
    assert batch.json()["face_number"] == 2
    assert_error(client.request("DELETE", url + "/batch", json={"filter": "dept:it"}), "FRS.0407")
    assert_error(client.request("DELETE", url + "/batch", json={"filter": "dept:["}), "FRS.0012")
    assert client.get(f"/v2/{pid}/face-sets/s").json()["face_set_info"]["face_number"] == 0


def test_update_merges_fields_and_null_removes_one(client, enrolled):
    """UpdateFace is a JSON merge patch on external_fields: sent fields change, unsent ones stay,
    a null removes a field; filters and search see the merged values at once."""
    pid, ids = enrolled
    url = f"/v2/{pid}/face-sets/s/faces"
    face_id = ids["Aaron_Eckhart"]
    assert client.put(url, json={"face_id": face_id, "external_fields": {"dept": "ops", "score": None}}
                      ).status_code == 200
    shown = client.get(url, params={"face_id": face_id}).json()["faces"][0]
    assert shown["external_fields"] == {"age": 40, "dept": "ops"}
    assert shown["external_image_id"] == "Aaron_Eckhart"
    hits = client.post(f"/v2/{pid}/face-sets/s/search",
                       json={"face_id": face_id, "filter": "dept:ops", "return_fields": ["age", "dept"]}
                       ).json()["faces"]
    assert [hit["face_id"] for hit in hits] == [face_id]
    assert hits[0]["external_fields"] == {"age": 40, "dept": "ops"}
    refused = client.put(url, json={"face_id": face_id, "external_fields": {"age": 41, "nope": 1}})
    assert_error(refused, "FRS.0405")  # all or nothing: the valid half of a refused update is not kept
    assert client.get(url, params={"face_id": face_id}).json()["faces"][0]["external_fields"]["age"] == 40


def test_multipart_add_takes_fields_as_json_text(client, shared_data):
    """Multipart forms carry only text: external_fields arrives as JSON text and single as
    "true", and both are checked exactly as in a JSON body."""
    pid = "p" + uuid.uuid4().hex[:12]
    client.post(f"/v2/{pid}/face-sets", json={"face_set_name": "m", "external_fields": SCHEMA})
    url = f"/v2/{pid}/face-sets/m/faces"
    image = ("a.jpg", lfw(shared_data, "Abdullah", 2).read_bytes(), "image/jpeg")
    response = client.post(url, files={"image_file": image},
                           data={"external_fields": '{"age": 30, "dept": "hr"}',
                                 "external_image_id": "abd", "single": "true"})
    assert response.status_code == 200, response.text
    (face,) = response.json()["faces"]
    assert face["external_fields"] == {"age": 30, "dept": "hr"} and face["external_image_id"] == "abd"
    shown = client.get(url, params={"face_id": face["face_id"]}).json()["faces"][0]
    assert shown["external_fields"] == {"age": 30, "dept": "hr"}
    assert_error(client.post(url, files={"image_file": image}, data={"external_fields": "{age: 30"}),
                 "FRS.0012")
    assert_error(client.post(url, files={"image_file": image}, data={"external_fields": '{"age": "x"}'}),
                 "FRS.0406")
    assert client.get(f"/v2/{pid}/face-sets/m").json()["face_set_info"]["face_number"] == 1


def test_a_set_embedded_by_another_model_refuses_new_embeddings(client, shared_data):
    from openfrs.store.records import FaceSetRecord

    pid = "p" + uuid.uuid4().hex[:12]
    store = client.app.state.face_set_service.store
    store.create_face_set(FaceSetRecord(key=0, project_id=pid, name="old", face_set_id=pid[:8],
                                        capacity=10_000, external_fields={},
                                        model_version="some-older-model", created_at=""))
    image = {"image_base64": b64(lfw(shared_data, "Abdullah", 2))}
    assert_error(client.post(f"/v2/{pid}/face-sets/old/faces", json=image), "FRS.0306")
    assert_error(client.post(f"/v2/{pid}/face-sets/old/search", json=image), "FRS.0306")
    assert client.get(f"/v2/{pid}/face-sets/old/faces").status_code == 200
