"""Tencent IAI groups, persons, faces, search and verification with the official SDK
(`tencentcloud-sdk-python-iai`) against a real `openfrs serve` with auth on: the whole flow
(create groups -> persons with LFW faces -> search faces / persons across two groups -> verify ->
copy / remove -> modify -> list / count -> delete), and refusals parsed by the SDK as
TencentCloudSDKException with Tencent's codes that store nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.iai.v20200303 import iai_client, models

from openfrs import signing
from openfrs.service.tenancy import Tenancy
from tests.api.test_auth import projects_with_credentials
from tests.api.test_tencent_sdk import sdk_server
from tests.conftest import server_env, stores_of_their_own

pytestmark = pytest.mark.models
PEOPLE = ("Ai_Sugiyama", "Ahmed_Chalabi", "Adam_Sandler", "Abdullah")


@pytest.fixture(scope="module")
def server(settings, model_pack_dir, tmp_path_factory):
    """(host:port, the server's settings, {project name: credential}), on stores of its own
    (the session's backend: SQLite + local indexes, or PostgreSQL + Milvus)."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("tencent-persons")) as own:
        keys = dict(zip(("owner", "other"), projects_with_credentials(own, "owner", "other"), strict=True))
        with sdk_server(own.data_dir, settings.model_dir, server_env(own)) as endpoint:
            yield endpoint, own, keys


def _client(endpoint: str, key) -> iai_client.IaiClient:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    return iai_client.IaiClient(credential.Credential(key.ak, key.sk), "ap-guangzhou", profile)


class Tc:
    """Calls an action by name with a dict of fields, through the SDK's own request model."""

    def __init__(self, client: iai_client.IaiClient) -> None:
        self.client = client

    def __call__(self, action: str, **fields):
        request = getattr(models, f"{action}Request")()
        request.from_json_string(json.dumps(fields))
        return getattr(self.client, action)(request)

    def refused(self, code: str, action: str, **fields) -> TencentCloudSDKException:
        with pytest.raises(TencentCloudSDKException) as caught:
            self(action, **fields)
        assert caught.value.code == code, caught.value.message
        assert caught.value.requestId
        return caught.value


@pytest.fixture(scope="module")
def tc(server) -> Tc:
    endpoint, _, keys = server
    return Tc(_client(endpoint, keys["owner"]))


@pytest.fixture(scope="module")
def other(server) -> Tc:
    endpoint, _, keys = server
    return Tc(_client(endpoint, keys["other"]))


@pytest.fixture(scope="module")
def photo(shared_data):
    root = shared_data / "lfw-partial/images"

    def load(person: str, number: int) -> str:
        path: Path = root / person / f"{person}_{number:04d}.jpg"
        return base64.b64encode(path.read_bytes()).decode()

    return load


def test_the_whole_flow(tc, photo):
    tc("CreateGroup", GroupId="staff", GroupName="Staff", GroupExDescriptions=["dept", "floor"], Tag="t")
    tc("CreateGroup", GroupId="guests#2", GroupName="Guests")  # an id FRS's set names cannot hold
    created = {}
    for person in PEOPLE[:3]:
        response = tc(
            "CreatePerson",
            GroupId="staff",
            PersonId=person,
            PersonName=person.replace("_", " "),
            Gender=1,
            Image=photo(person, 1),
            PersonExDescriptionInfos=[{"PersonExDescriptionIndex": 1, "PersonExDescription": "3F"}],
        )
        assert response.FaceId and response.FaceModelVersion == "3.0" and response.FaceRect.Width > 40
        created[person] = response.FaceId
    tc("CreatePerson", GroupId="guests#2", PersonId=PEOPLE[3], PersonName="A", Image=photo(PEOPLE[3], 2))

    # unique-person check: the same face again is a look-alike, nothing is created
    dup = tc(
        "CreatePerson",
        GroupId="staff",
        PersonId="again",
        PersonName="x",
        Image=photo(PEOPLE[0], 2),
        UniquePersonControl=1,
    )
    assert dup.SimilarPersonId == PEOPLE[0] and not dup.FaceId
    tc.refused("InvalidParameterValue.PersonIdNotExist", "GetPersonBaseInfo", PersonId="again")

    # more faces of one person, one per-item refusal (another person's face, not similar enough)
    faces = tc("CreateFace", PersonId=PEOPLE[0], Images=[photo(PEOPLE[0], 2), photo(PEOPLE[1], 2)])
    assert faces.SucFaceNum == 1 and faces.RetCode == [0, -1604] and faces.SucIndexes == [0]
    base = tc("GetPersonBaseInfo", PersonId=PEOPLE[0])
    assert base.PersonName == "Ai Sugiyama" and base.Gender == 1
    assert base.FaceIds == [created[PEOPLE[0]], faces.SucFaceIds[0]]

    # search across both groups
    found = tc(
        "SearchFaces",
        GroupIds=["staff", "guests#2"],
        Image=photo(PEOPLE[0], 3),
        MaxPersonNum=3,
        NeedPersonInfo=1,
    )
    assert found.FaceNum == 5 and found.FaceModelVersion == "3.0"
    best = found.Results[0].Candidates[0]
    assert best.PersonId == PEOPLE[0] and best.FaceId in base.FaceIds and best.Score >= 40
    assert best.PersonName == "Ai Sugiyama" and best.PersonGroupInfos[0].GroupId == "staff"
    assert best.PersonGroupInfos[0].PersonExDescriptions == ["", "3F"]
    assert len({c.PersonId for c in found.Results[0].Candidates}) == len(found.Results[0].Candidates)
    scores = [c.Score for c in found.Results[0].Candidates]
    assert scores == sorted(scores, reverse=True)
    persons = tc("SearchPersons", GroupIds=["staff", "guests#2"], Image=photo(PEOPLE[3], 3), MaxPersonNum=2)
    assert persons.PersonNum == 4 and persons.Results[0].Candidates[0].PersonId == PEOPLE[3]
    assert persons.Results[0].Candidates[0].FaceId is None
    strict = tc("SearchPersons", GroupIds=["staff"], Image=photo(PEOPLE[3], 3), FaceMatchThreshold=90)
    assert all(c.Score >= 90 for c in strict.Results[0].Candidates)
    grouped = tc(
        "SearchPersonsReturnsByGroup",
        GroupIds=["staff", "guests#2"],
        Image=photo(PEOPLE[1], 3),
        MaxPersonNumPerGroup=1,
    )
    by_group = {g.GroupId: g.Candidates for g in grouped.ResultsReturnsByGroup[0].GroupCandidates}
    assert by_group["staff"][0].PersonId == PEOPLE[1] and len(by_group["guests#2"]) == 1
    faces_grouped = tc("SearchFacesReturnsByGroup", GroupIds=["staff"], Image=photo(PEOPLE[1], 3))
    assert faces_grouped.ResultsReturnsByGroup[0].GroupCandidates[0].Candidates[0].PersonId == PEOPLE[1]

    # verify
    same = tc("VerifyPerson", PersonId=PEOPLE[0], Image=photo(PEOPLE[0], 4))
    assert same.IsMatch is True and same.Score >= 60
    assert tc("VerifyPerson", PersonId=PEOPLE[0], Image=photo(PEOPLE[2], 2)).IsMatch is False
    assert tc("VerifyFace", PersonId=PEOPLE[1], Image=photo(PEOPLE[1], 2)).IsMatch is True

    # copy / remove
    copied = tc("CopyPerson", PersonId=PEOPLE[0], GroupIds=["guests#2"])
    assert copied.SucGroupNum == 1 and copied.SucGroupIds == ["guests#2"]
    assert tc("GetPersonListNum", GroupId="guests#2").FaceNum == 3
    info = tc("GetPersonGroupInfo", PersonId=PEOPLE[0])
    assert info.GroupNum == 2 and [g.GroupId for g in info.PersonGroupInfos] == ["staff", "guests#2"]
    tc("DeletePersonFromGroup", PersonId=PEOPLE[0], GroupId="staff")
    assert tc("GetPersonListNum", GroupId="staff").PersonNum == 2

    # modify
    tc(
        "ModifyGroup",
        GroupId="staff",
        GroupName="Staff 2",
        Tag="new",
        GroupExDescriptionInfos=[{"GroupExDescriptionIndex": 0, "GroupExDescription": "team"}],
    )
    group = tc("GetGroupInfo", GroupId="staff")
    assert (group.GroupName, group.Tag, group.GroupExDescriptions) == ("Staff 2", "new", ["team", "floor"])
    tc("ModifyPersonBaseInfo", PersonId=PEOPLE[1], PersonName="Renamed", Gender=2)
    tc(
        "ModifyPersonGroupInfo",
        GroupId="staff",
        PersonId=PEOPLE[1],
        PersonExDescriptionInfos=[{"PersonExDescriptionIndex": 0, "PersonExDescription": "R&D"}],
    )

    # list / count
    listed = tc("GetPersonList", GroupId="staff", Limit=10)
    assert listed.PersonNum == 2 and listed.FaceNum == 2
    renamed = next(p for p in listed.PersonInfos if p.PersonId == PEOPLE[1])
    assert renamed.PersonName == "Renamed" and renamed.Gender == 2
    assert renamed.PersonExDescriptions == ["R&D", "3F"] and renamed.CreationTimestamp > 0
    groups = tc("GetGroupList", Limit=1)
    assert groups.GroupNum == 2 and len(groups.GroupInfos) == 1 and groups.GroupInfos[0].UpdateTimestamp > 0

    # delete
    deleted = tc("DeleteFace", PersonId=PEOPLE[0], FaceIds=[created[PEOPLE[0]], "nope"])
    assert deleted.SucDeletedNum == 1
    tc.refused(
        "InvalidParameterValue.DeleteFaceNumExceed",
        "DeleteFace",
        PersonId=PEOPLE[0],
        FaceIds=faces.SucFaceIds,
    )
    tc("DeletePerson", PersonId=PEOPLE[2])
    tc.refused("InvalidParameterValue.PersonIdNotExist", "GetPersonBaseInfo", PersonId=PEOPLE[2])
    tc("DeleteGroup", GroupId="staff")  # Ahmed, only in staff, goes with it
    tc.refused("InvalidParameterValue.PersonIdNotExist", "GetPersonBaseInfo", PersonId=PEOPLE[1])
    assert tc("GetPersonListNum", GroupId="guests#2").PersonNum == 2
    tc("DeleteGroup", GroupId="guests#2")
    assert tc("GetGroupList").GroupNum == 0


def test_refusals_have_tencents_codes_and_store_nothing(tc, other, photo):
    tc("CreateGroup", GroupId="mine", GroupName="Mine", GroupExDescriptions=["a"])
    tc("CreatePerson", GroupId="mine", PersonId="p1", PersonName="P", Image=photo(PEOPLE[0], 1))
    before = tc("GetPersonListNum", GroupId="mine")
    # another tenant sees no such group or person
    other.refused("InvalidParameterValue.GroupIdNotExist", "GetGroupInfo", GroupId="mine")
    other.refused(
        "InvalidParameterValue.GroupIdNotExist",
        "CreatePerson",
        GroupId="mine",
        PersonId="p2",
        PersonName="P",
        Image=photo(PEOPLE[1], 1),
    )
    other.refused("InvalidParameterValue.PersonIdNotExist", "DeletePerson", PersonId="p1")
    other.refused(
        "InvalidParameterValue.GroupIdNotExist", "SearchFaces", GroupIds=["mine"], Image=photo(PEOPLE[0], 2)
    )
    # malformed fields
    tc.refused("InvalidParameterValue.GroupIdIllegal", "CreateGroup", GroupId="bad id", GroupName="x")
    tc.refused("InvalidParameterValue.GroupIdTooLong", "CreateGroup", GroupId="g" * 65, GroupName="x")
    tc.refused("MissingParameter", "CreateGroup", GroupId="g2")
    tc.refused(
        "InvalidParameterValue.GroupExDescriptionsExceed",
        "CreateGroup",
        GroupId="g2",
        GroupName="x",
        GroupExDescriptions=list("abcdef"),
    )
    tc.refused("InvalidParameterValue.GroupIdAlreadyExist", "CreateGroup", GroupId="mine", GroupName="y")
    tc.refused("InvalidParameterValue.GroupNameAlreadyExist", "CreateGroup", GroupId="g3", GroupName="Mine")
    tc.refused(
        "InvalidParameterValue.PersonGenderIllegal",
        "CreatePerson",
        GroupId="mine",
        PersonId="p3",
        PersonName="P",
        Gender=7,
        Image=photo(PEOPLE[1], 1),
    )
    tc.refused(
        "InvalidParameterValue.PersonIdAlreadyExist",
        "CreatePerson",
        GroupId="mine",
        PersonId="p1",
        PersonName="P",
        Image=photo(PEOPLE[1], 1),
    )
    tc.refused(
        "InvalidParameterValue.PersonExDescriptionInfosExceed",
        "CreatePerson",
        GroupId="mine",
        PersonId="p3",
        PersonName="P",
        Image=photo(PEOPLE[1], 1),
        PersonExDescriptionInfos=[{"PersonExDescriptionIndex": 3, "PersonExDescription": "v"}],
    )
    tc.refused(
        "InvalidParameterValue.ImageEmpty", "CreatePerson", GroupId="mine", PersonId="p3", PersonName="P"
    )
    tc.refused("InvalidParameter", "GetGroupList", Limit="ten")
    tc.refused("InvalidParameterValue.LimitExceed", "GetGroupList", Limit=1001)
    tc.refused(
        "InvalidParameterValue.GroupIdsExceed",
        "SearchPersons",
        GroupIds=[f"g{i}" for i in range(101)],
        Image=photo(PEOPLE[0], 2),
    )
    tc.refused(
        "InvalidParameterValue.FaceMatchThresholdIllegal",
        "SearchFaces",
        GroupIds=["mine"],
        Image=photo(PEOPLE[0], 2),
        FaceMatchThreshold=101,
    )
    # over the per-person face limit: 1 + 4 is the most, a fifth image more is refused whole
    tc.refused(
        "InvalidParameterValue.UploadFaceNumExceed",
        "CreateFace",
        PersonId="p1",
        Images=[photo(PEOPLE[0], n) for n in (2, 3, 4, 5, 2)],
    )
    assert tc("CreateFace", PersonId="p1", Images=[photo(PEOPLE[0], n) for n in (2, 3, 4)]).SucFaceNum == 3
    tc.refused(
        "InvalidParameterValue.PersonFaceNumExceed",
        "CreateFace",
        PersonId="p1",
        Images=[photo(PEOPLE[0], 5), photo(PEOPLE[0], 1)],
    )
    # unknown person / group
    tc.refused(
        "InvalidParameterValue.PersonIdNotExist", "VerifyPerson", PersonId="nobody", Image=photo(PEOPLE[0], 2)
    )
    tc.refused("InvalidParameterValue.GroupIdNotExist", "CopyPerson", PersonId="p1", GroupIds=["nope"])
    tc.refused("InvalidParameterValue.PersonExistInGroup", "CopyPerson", PersonId="p1", GroupIds=["mine"])
    tc("CreateGroup", GroupId="side", GroupName="Side")
    tc.refused(
        "FailedOperation.GroupPersonMapNotExist", "DeletePersonFromGroup", GroupId="side", PersonId="p1"
    )
    tc.refused(
        "FailedOperation.GroupPersonMapNotExist",
        "ModifyPersonGroupInfo",
        GroupId="side",
        PersonId="p1",
        PersonExDescriptionInfos=[],
    )
    tc.refused(
        "InvalidParameterValue.NoFaceInGroups", "SearchFaces", GroupIds=["side"], Image=photo(PEOPLE[0], 2)
    )
    tc("DeleteGroup", GroupId="side")
    tc.refused(
        "InvalidParameterValue.NoFaceInPhoto",
        "VerifyFace",
        PersonId="p1",
        Image=base64.b64encode(_blank_jpeg()).decode(),
    )
    # nothing of the refused calls was stored
    after = tc("GetPersonListNum", GroupId="mine")
    assert (after.PersonNum, after.FaceNum) == (before.PersonNum, before.FaceNum + 3)
    assert tc("GetGroupList").GroupNum == 1 and other("GetGroupList").GroupNum == 0
    assert len(tc("GetPersonBaseInfo", PersonId="p1").FaceIds) == 4
    tc("DeleteGroup", GroupId="mine")


def _blank_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 120, 120)).save(out, "JPEG")
    return out.getvalue()


def test_changes_are_audited(server, tc, photo):
    _, own, _ = server
    tc("CreateGroup", GroupId="audited", GroupName="Audited")
    tc("CreatePerson", GroupId="audited", PersonId="a1", PersonName="A", Image=photo(PEOPLE[2], 1))
    tc("DeleteGroup", GroupId="audited")
    tenancy = Tenancy.from_settings(own)
    try:
        project = tenancy.project("owner").project_id
        events = [(e.action, e.resource) for e in tenancy.audit_events(project) if "audited" in e.resource]
    finally:
        tenancy.close()
    assert events == [("CreateGroup", "group/audited"), ("CreatePerson", "person/a1,group/audited"),
                      ("DeleteGroup", "group/audited")]


def _frs(server, method: str, path: str, query: list[tuple[str, str]] | None = None) -> httpx.Response:
    """An FRS call of project "owner", signed as the FRS SDK signs."""
    endpoint, _, keys = server
    key = keys["owner"]
    headers = signing.sign(method, endpoint, path, query or [], {}, b"", key.ak, key.sk)
    return httpx.request(method, f"http://{endpoint}{path}", params=query, headers=headers, trust_env=False)


def test_counts_are_of_distinct_persons_and_faces(tc, photo):
    """A person in two searched groups is one person, its face copied into both one face."""
    tc("CreateGroup", GroupId="count-a", GroupName="Count A")
    tc("CreateGroup", GroupId="count-b", GroupName="Count B")
    tc("CreatePerson", GroupId="count-a", PersonId="twice", PersonName="T", Image=photo(PEOPLE[0], 1))
    tc("CreatePerson", GroupId="count-a", PersonId="once", PersonName="O", Image=photo(PEOPLE[1], 1))
    tc("CopyPerson", PersonId="twice", GroupIds=["count-b"])
    tc("CreateFace", PersonId="twice", Images=[photo(PEOPLE[0], 2)])  # copied into both groups
    both = ["count-a", "count-b"]
    assert tc("GetPersonListNum", GroupId="count-a").FaceNum == 3  # per group: its own faces
    assert tc("GetPersonListNum", GroupId="count-b").FaceNum == 2
    probe = photo(PEOPLE[0], 3)
    for action in ("SearchFaces", "SearchFacesReturnsByGroup"):
        assert tc(action, GroupIds=both, Image=probe).FaceNum == 3, action
    for action in ("SearchPersons", "SearchPersonsReturnsByGroup"):
        assert tc(action, GroupIds=both, Image=probe).PersonNum == 2, action
    assert tc("SearchPersons", GroupIds=["count-b"], Image=probe).PersonNum == 1
    tc("DeleteGroup", GroupId="count-a")
    tc("DeleteGroup", GroupId="count-b")


def test_deleting_a_groups_face_set_through_frs_acts_as_delete_group(server, tc, photo):
    """FRS DeleteFaceSet on a group's set: persons left in no group go with their faces, in the
    same transaction; one also in another group stays, with its faces. An FRS face delete of a
    person's face in one group takes it out of that group only, and person-level actions still
    answer."""
    project = server[2]["owner"].project_id
    tc("CreateGroup", GroupId="frs-del", GroupName="FRS del")
    tc("CreateGroup", GroupId="frs-keep", GroupName="FRS keep")
    tc("CreatePerson", GroupId="frs-del", PersonId="only-here", PersonName="O", Image=photo(PEOPLE[1], 1))
    made = tc("CreatePerson", GroupId="frs-del", PersonId="in-both", PersonName="B",
              Image=photo(PEOPLE[0], 1))
    tc("CopyPerson", PersonId="in-both", GroupIds=["frs-keep"])

    # an FRS face delete in one group: out of that group only
    gone = _frs(server, "DELETE", f"/v2/{project}/face-sets/frs-keep/faces", [("face_id", made.FaceId)])
    assert gone.status_code == 200 and gone.json()["face_number"] == 1, gone.text
    assert tc("GetPersonBaseInfo", PersonId="in-both").FaceIds == [made.FaceId]
    counts = tc("GetPersonListNum", GroupId="frs-keep")
    assert (counts.PersonNum, counts.FaceNum) == (1, 0)
    assert tc("VerifyPerson", PersonId="in-both", Image=photo(PEOPLE[0], 2)).IsMatch is True
    assert tc("VerifyFace", PersonId="in-both", Image=photo(PEOPLE[0], 2)).IsMatch is True
    tc.refused("InvalidParameterValue.NoFaceInGroups", "SearchPersons", GroupIds=["frs-keep"],
               Image=photo(PEOPLE[0], 2))
    found = tc("SearchPersons", GroupIds=["frs-del", "frs-keep"], Image=photo(PEOPLE[0], 2))
    assert found.Results[0].Candidates[0].PersonId == "in-both" and found.PersonNum == 2
    grouped = tc("SearchFacesReturnsByGroup", GroupIds=["frs-del", "frs-keep"], Image=photo(PEOPLE[0], 2))
    by_group = {g.GroupId: g.Candidates for g in grouped.ResultsReturnsByGroup[0].GroupCandidates}
    assert by_group["frs-del"][0].PersonId == "in-both" and by_group["frs-keep"] == []
    added = tc("CreateFace", PersonId="in-both", Images=[photo(PEOPLE[0], 3)])
    assert added.SucFaceNum == 1 and tc("GetPersonListNum", GroupId="frs-keep").FaceNum == 1

    # FRS DeleteFaceSet of the group's set
    assert _frs(server, "DELETE", f"/v2/{project}/face-sets/frs-del").status_code == 200
    tc.refused("InvalidParameterValue.GroupIdNotExist", "GetGroupInfo", GroupId="frs-del")
    tc.refused("InvalidParameterValue.PersonIdNotExist", "GetPersonBaseInfo", PersonId="only-here")
    survivor = tc("GetPersonBaseInfo", PersonId="in-both")
    assert survivor.FaceIds == [made.FaceId, added.SucFaceIds[0]]
    assert [g.GroupId for g in tc("GetPersonGroupInfo", PersonId="in-both").PersonGroupInfos] == ["frs-keep"]
    assert tc("VerifyPerson", PersonId="in-both", Image=photo(PEOPLE[0], 2)).IsMatch is True
    # the deleted person's id and faces are free again: it can be enrolled anew
    again = tc("CreatePerson", GroupId="frs-keep", PersonId="only-here", PersonName="O",
               Image=photo(PEOPLE[1], 1))
    assert tc("GetPersonBaseInfo", PersonId="only-here").FaceIds == [again.FaceId]
    assert _frs(server, "DELETE", f"/v2/{project}/face-sets/frs-keep").status_code == 200
    for person in ("only-here", "in-both"):
        tc.refused("InvalidParameterValue.PersonIdNotExist", "GetPersonBaseInfo", PersonId=person)
