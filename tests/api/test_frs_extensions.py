"""The FRS surface's view of Tencent groups and persons (OpenFRS extensions the web console reads),
against a real `openfrs serve` with auth on: a group with persons made with the official Tencent
SDK, then, over signed FRS HTTP calls, `group` in the set's face_set_info (absent on a plain set),
`person_id` on the persons' faces in list / show / search (absent on an FRS-added face), the
set's persons listing (paging, totals, descriptions, the search sub-service rule) and listing
faces with a filter. Runs on the session's backend (`--backend scaleout` too)."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from tests.api.test_auth import projects_with_credentials
from tests.api.test_tencent_persons import PEOPLE, Tc, _client
from tests.api.test_tencent_sdk import sdk_server
from tests.conftest import server_env, stores_of_their_own
from tests.signed_http import AkSkAuth

pytestmark = pytest.mark.models
GROUP = "staff"  # a GroupId FRS's set names can hold: the set is named after it
PLAIN = "plain"
FIELDS = {"dept": {"type": "string"}, "no": {"type": "integer"}}


class Frs:
    """FRS v2 calls of one project: `call` answers the JSON and wants `status`."""

    def __init__(self, endpoint: str, key) -> None:
        self.base = f"http://{endpoint}/v2/{key.project_id}/face-sets"
        self.manage = f"http://{endpoint}/v1/{key.project_id}"
        self.auth = AkSkAuth(key.ak, key.sk)

    def call(self, method: str, path: str = "", status: int = 200, base: str | None = None, **kwargs) -> dict:
        response = requests.request(method, (base or self.base) + path, auth=self.auth, timeout=60, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def refused(self, code: str, method: str, path: str, **kwargs) -> None:
        assert self.call(method, path, 400, **kwargs)["error_code"] == code


@pytest.fixture(scope="module")
def world(settings, model_pack_dir, tmp_path_factory, shared_data):
    """A group `staff` (descriptions dept, floor) with three persons made by the Tencent SDK, one
    of them with two faces, and an anonymous face added by FRS; a plain set with two faces."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("frs-extensions")) as own:
        owner, other = projects_with_credentials(own, "owner", "other")
        with sdk_server(own.data_dir, settings.model_dir, server_env(own)) as endpoint:
            photo = _photos(shared_data)
            tc = Tc(_client(endpoint, owner))
            tc("CreateGroup", GroupId=GROUP, GroupName="Staff", GroupExDescriptions=["dept", "floor"],
               Tag="hq")
            faces: dict[str, list[str]] = {}
            started_ms = int(time.time() * 1000)
            for number, person in enumerate(PEOPLE[:3]):
                descriptions = ([{"PersonExDescriptionIndex": 0, "PersonExDescription": "it"},
                                 {"PersonExDescriptionIndex": 1, "PersonExDescription": "3F"}]
                                if number == 0 else [])
                created = tc("CreatePerson", GroupId=GROUP, PersonId=person, Gender=number,
                             PersonName=person.replace("_", " "), Image=photo(person, 1),
                             PersonExDescriptionInfos=descriptions)
                faces[person] = [created.FaceId]
            added = tc("CreateFace", PersonId=PEOPLE[0], Images=[photo(PEOPLE[0], 2)])
            faces[PEOPLE[0]] += added.SucFaceIds
            frs = Frs(endpoint, owner)
            anonymous = frs.call("POST", f"/{GROUP}/faces", json={
                "image_base64": photo(PEOPLE[3], 1), "external_image_id": "walk-in", "single": True})
            created_plain = frs.call("POST", json={"face_set_name": PLAIN, "external_fields": FIELDS})
            plain = [frs.call("POST", f"/{PLAIN}/faces", json={
                "image_base64": photo(person, 2), "external_image_id": image_id, "single": True,
                "external_fields": values})["faces"][0]["face_id"]
                for person, image_id, values in ((PEOPLE[3], "abdullah", {"dept": "it", "no": 1}),
                                                 (PEOPLE[2], "adam", {"dept": "hr", "no": 2}))]
            yield {"frs": frs, "other": Frs(endpoint, other), "faces": faces, "started_ms": started_ms,
                   "anonymous": anonymous["faces"][0]["face_id"], "plain": plain,
                   "created_plain": created_plain["face_set_info"]}


def _photos(shared_data):
    root = shared_data / "lfw-partial/images"
    return lambda person, number: base64.b64encode(
        (root / person / f"{person}_{number:04d}.jpg").read_bytes()).decode()


def _owners(world) -> dict[str, str]:
    return {face_id: person for person, ids in world["faces"].items() for face_id in ids}


def test_a_group_set_says_it_is_one_and_a_plain_set_does_not(world):
    frs = world["frs"]
    group = {"group_id": GROUP, "group_name": "Staff", "tag": "hq", "descriptions": ["dept", "floor"]}
    shown = frs.call("GET", f"/{GROUP}")["face_set_info"]
    assert shown["group"] == group
    assert shown["face_number"] == 5  # four person faces and the anonymous one
    assert "group" not in frs.call("GET", f"/{PLAIN}")["face_set_info"]
    assert "group" not in world["created_plain"]
    listed = {info["face_set_name"]: info for info in frs.call("GET")["face_sets_info"]}
    assert listed[GROUP]["group"] == group and "group" not in listed[PLAIN]
    world["other"].refused("FRS.0302", "GET", f"/{GROUP}")  # another project's group


def test_person_faces_carry_their_person_id_and_others_none(world):
    frs, owners = world["frs"], _owners(world)
    listed = frs.call("GET", f"/{GROUP}/faces", params={"limit": 10})["faces"]
    assert len(listed) == 5
    by_id = {face["face_id"]: face for face in listed}
    for face_id, person in owners.items():
        assert by_id[face_id]["person_id"] == person
        shown = frs.call("GET", f"/{GROUP}/faces", params={"face_id": face_id})["faces"]
        assert [face.get("person_id") for face in shown] == [person]
    assert "person_id" not in by_id[world["anonymous"]]
    shown = frs.call("GET", f"/{GROUP}/faces", params={"face_id": world["anonymous"]})["faces"][0]
    assert shown["external_image_id"] == "walk-in" and "person_id" not in shown
    for face in frs.call("GET", f"/{PLAIN}/faces", params={"limit": 10})["faces"]:
        assert "person_id" not in face


def test_search_hits_carry_the_person_id(world):
    frs, owners = world["frs"], _owners(world)
    probe = world["faces"][PEOPLE[0]][0]
    hits = frs.call("POST", f"/{GROUP}/search", json={"face_id": probe, "top_n": 10})["faces"]
    assert len(hits) == 5 and hits[0]["face_id"] == probe and hits[0]["person_id"] == PEOPLE[0]
    for hit in hits:
        assert hit.get("person_id") == owners.get(hit["face_id"]), hit
    assert "person_id" not in next(hit for hit in hits if hit["face_id"] == world["anonymous"])
    # the fields asked for do not hide it
    hits = frs.call("POST", f"/{GROUP}/search", json={"face_id": probe, "top_n": 1,
                                                      "return_fields": []})["faces"]
    assert hits[0]["person_id"] == PEOPLE[0] and hits[0]["external_fields"] == {}


def test_the_persons_of_a_group_as_get_person_list_orders_them(world):
    frs, faces = world["frs"], world["faces"]
    answer = frs.call("GET", f"/{GROUP}/persons")
    assert answer["face_set_name"] == GROUP and answer["total"] == 3
    assert answer["face_set_id"] == frs.call("GET", f"/{GROUP}")["face_set_info"]["face_set_id"]
    persons = answer["persons"]
    assert [p["person_id"] for p in persons] == list(PEOPLE[:3])
    first = persons[0]
    assert first["person_name"] == "Ai Sugiyama" and first["gender"] == 0
    assert first["face_ids"] == faces[PEOPLE[0]] and len(first["face_ids"]) == 2
    assert first["descriptions"] == {"dept": "it", "floor": "3F"}
    assert persons[1]["descriptions"] == {"dept": "", "floor": ""} and persons[1]["gender"] == 1
    assert persons[2]["gender"] == 2 and persons[2]["face_ids"] == faces[PEOPLE[2]]
    now_ms = int(time.time() * 1000)
    assert all(world["started_ms"] - 1000 <= p["create_time"] <= now_ms for p in persons)

    page = frs.call("GET", f"/{GROUP}/persons", params={"offset": 1, "limit": 1})
    assert page["total"] == 3 and [p["person_id"] for p in page["persons"]] == [PEOPLE[1]]
    page = frs.call("GET", f"/{GROUP}/persons", params={"offset": 2, "limit": 1000})
    assert page["total"] == 3 and [p["person_id"] for p in page["persons"]] == [PEOPLE[2]]
    assert frs.call("GET", f"/{GROUP}/persons", params={"offset": 3})["persons"] == []


def test_a_plain_set_has_no_persons_and_bad_windows_are_refused(world):
    frs = world["frs"]
    plain = frs.call("GET", f"/{PLAIN}/persons")
    assert plain == {"face_set_name": PLAIN, "face_set_id": world["created_plain"]["face_set_id"],
                     "total": 0, "persons": []}
    frs.refused("FRS.0302", "GET", "/nowhere/persons")
    world["other"].refused("FRS.0302", "GET", f"/{GROUP}/persons")
    for params in ({"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"offset": -1}, {"offset": "1.5"}):
        frs.refused("FRS.0012", "GET", f"/{GROUP}/persons", params=params)


def test_the_persons_listing_follows_the_search_sub_service(world):
    frs = world["frs"]
    switch = "/subscribe/search"
    frs.call("PUT", switch, base=frs.manage, json={"enabled": False})
    try:
        frs.refused("FRS.0020", "GET", f"/{GROUP}/persons")
        frs.refused("FRS.0020", "GET", f"/{GROUP}/faces")
    finally:
        frs.call("PUT", switch, base=frs.manage, json={"enabled": True})
    assert frs.call("GET", f"/{GROUP}/persons")["total"] == 3


def test_listing_faces_with_a_filter(world):
    frs = world["frs"]
    it, hr = world["plain"]

    def ids(name: str, **params) -> list[str]:
        return [face["face_id"] for face in frs.call("GET", f"/{name}/faces", params=params)["faces"]]

    assert ids(PLAIN, limit=10) == [it, hr]
    assert ids(PLAIN, filter="dept:it") == [it]
    assert ids(PLAIN, filter="no:[2 TO *]", limit=10) == [hr]
    assert ids(PLAIN, filter="(!dept:it)", limit=10) == [hr]
    assert ids(PLAIN, filter="external_image_id:adam || dept:it", limit=10) == [it, hr]
    assert ids(PLAIN, filter="external_image_id:adam || dept:it", offset=1, limit=1) == [hr]
    assert ids(PLAIN, filter="dept:sales", limit=10) == []
    assert ids(PLAIN, filter="", limit=10) == [it, hr]  # empty: no filter
    # a person's faces in a group by their external_image_id (the PersonId where it fits)
    faces = frs.call("GET", f"/{GROUP}/faces", params={"filter": f"external_image_id:{PEOPLE[0]}",
                                                       "limit": 10})["faces"]
    assert [f["face_id"] for f in faces] == world["faces"][PEOPLE[0]]
    assert {f["person_id"] for f in faces} == {PEOPLE[0]}
    for bad in ("dept:", "nope:1", "no:abc", "dept:it &&", "(dept:it"):
        frs.refused("FRS.0012", "GET", f"/{PLAIN}/faces", params={"filter": bad})
    frs.refused("FRS.0012", "GET", f"/{PLAIN}/faces", params={"filter": "dept:it", "offset": 9999,
                                                              "limit": 2})
