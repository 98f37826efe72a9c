"""Every Tencent IAI action the server serves (dispatch.ACTIONS, read at collection time), sent
raw and TC3-signed by the small signer below (written from shared/docs/tencent-iai.md §3) to a real
`openfrs serve` with auth on, with bad values in each of its fields: wrong JSON types, missing
required fields, numbers out of range, empty, over-long and illegal strings, unknown ids and
another project's ids, and bad whole bodies.

Every answer must be HTTP 200 with Content-Type exactly application/json and a RequestId; a
refusal's Error.Code must be one Tencent documents (the SDK's errorcodes.py or an API 3.0 common
code), never InternalError; and the stored state of both projects (groups, persons, memberships,
faces, as GetGroupList / GetPersonList / GetPersonListNum and FRS ShowAllFaceSets / ShowFaces
answer them) must be what it was. The bases are chosen so that no case may change anything."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from PIL import Image
from tencentcloud.iai.v20200303 import errorcodes, models

from openfrs import signing
from openfrs.api.tencent.dispatch import ACTIONS
from openfrs.api.tencent.persons import CHANGES
from tests.api.test_auth import projects_with_credentials
from tests.api.test_tencent_sdk import sdk_server
from tests.conftest import server_env, stores_of_their_own

pytestmark = pytest.mark.models
PHOTO = "lfw-partial/images/{0}/{0}_{1:04d}.jpg"
COMMON = {  # API 3.0 common codes (tencent-iai.md §7) besides errorcodes.py's
    "InvalidAction", "NoSuchVersion", "InvalidParameter", "InvalidParameterValue", "MissingParameter",
    "UnknownParameter",
    "UnsupportedRegion", "RequestLimitExceeded", "LimitExceeded", "AuthFailure.SignatureFailure",
    "AuthFailure.SignatureExpire", "AuthFailure.SecretIdNotFound", "AuthFailure.InvalidSecretId",
    "AuthFailure.TokenFailure", "AuthFailure.InvalidAuthorization", "AuthFailure.UnauthorizedOperation",
    "ResourceUnavailable.NotReady", "ResourceUnavailable.StopUsing",
}
DOCUMENTED = ({v for k, v in vars(errorcodes).items() if k.isupper()} | COMMON) - {"InternalError"}

# The JSON type of each request field (tencent-iai.md §6); a field not named here is a string.
INTS = {"MaxFaceNum", "MinFaceSize", "NeedFaceAttributes", "NeedQualityDetection", "NeedRotateDetection",
        "QualityControl", "FaceMatchingStrategy", "Offset", "Limit", "Gender", "UniquePersonControl",
        "MaxPersonNum", "MaxPersonNumPerGroup", "NeedPersonInfo"}
FLOATS = {"FaceMatchThreshold"}
IDS = {"GroupId", "PersonId"}
ID_LISTS = {"GroupIds"}
STRING_LISTS = {"GroupExDescriptions", "Images", "Urls", "FaceIds"}
OBJECT_LISTS = {"GroupExDescriptionInfos", "PersonExDescriptionInfos"}
LIMITED = {"GroupName": 60, "PersonName": 60, "Tag": 40}  # longest allowed, in characters
SEARCHES = ("SearchFaces", "SearchFacesReturnsByGroup", "SearchPersons", "SearchPersonsReturnsByGroup")
FALLBACK_FIELDS = {"DetectLiveFace": ("Image", "Url", "FaceModelVersion")}  # not in SDK 3.1.191


def sign_tc3(secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int) -> str:
    """The Authorization header, tencent-iai.md §3 (POST: empty query, content-type;host signed)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(["POST", "/", "", f"content-type:application/json\nhost:{host}\n",
                           "content-type;host", hashlib.sha256(body).hexdigest()])
    scope = f"{date}/iai/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (date, "iai", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    digest = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host,"
            f" Signature={digest}")


def test_signer_matches_the_documented_test_vector() -> None:
    body = b'{"GroupName": "demo", "GroupId": "g-001"}'
    assert sign_tc3("AKIDstubexample", "stubsecretkey", "127.0.0.1:18482", body, 1700000000).endswith(
        "Signature=b0955b1600dfb4471eaa0c4b1b8b7b699bae33bfca9789f683a68a78e43411ff")


class Caller:
    """Raw signed calls of one project: the HTTP answer, unparsed."""

    def __init__(self, http: httpx.Client, host: str, key) -> None:
        self.http, self.host, self.key = http, host, key

    def raw(self, action: str, body: bytes) -> httpx.Response:
        now = int(time.time())
        headers = {"Content-Type": "application/json", "Host": self.host, "X-TC-Action": action,
                   "X-TC-Version": "2020-03-03", "X-TC-Timestamp": str(now), "X-TC-Region": "ap-guangzhou",
                   "Authorization": sign_tc3(self.key.ak, self.key.sk, self.host, body, now)}
        return self.http.post(f"http://{self.host}/", content=body, headers=headers)

    def __call__(self, action: str, **fields) -> dict:
        answer = self.raw(action, json.dumps(fields).encode()).json()["Response"]
        assert "Error" not in answer, (action, answer)
        return answer

    def frs(self, path: str, query: list[tuple[str, str]] | None = None) -> dict:
        headers = signing.sign("GET", self.host, path, query or [], {}, b"", self.key.ak, self.key.sk)
        response = self.http.get(f"http://{self.host}{path}", params=query, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def snapshot(self) -> dict:
        """Groups (with their persons, memberships and counts) and face sets (with their faces)."""
        groups = self("GetGroupList", Limit=1000)["GroupInfos"]
        state: dict = {"groups": groups}
        for group in groups:
            gid = group["GroupId"]
            listed = self("GetPersonList", GroupId=gid, Limit=1000)
            state[f"persons:{gid}"] = (listed["PersonInfos"], listed["PersonNum"], listed["FaceNum"])
        project = self.key.project_id
        for face_set in self.frs(f"/v2/{project}/face-sets")["face_sets_info"]:
            name = face_set["face_set_name"]
            faces = self.frs(f"/v2/{project}/face-sets/{name}/faces", [("offset", "0"), ("limit", "1000")])
            state[f"set:{name}"] = (face_set["face_number"],
                                    sorted((f["face_id"], f["external_image_id"]) for f in faces["faces"]))
        return state


@pytest.fixture(scope="module")
def world(settings, model_pack_dir, shared_data, tmp_path_factory) -> Iterator[dict]:
    """A server on stores of its own; project "owner" with groups g1 (one description field) and
    g2, person p1 in both and p2 in g1; project "other" with group og and person op."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("tencent-bad")) as own:
        owner, other = projects_with_credentials(own, "owner", "other")
        with sdk_server(own.data_dir, settings.model_dir, server_env(own)) as host, \
                httpx.Client(trust_env=False, timeout=60) as http:
            me, them = Caller(http, host, owner), Caller(http, host, other)

            def photo(name: str, number: int) -> str:
                return base64.b64encode((shared_data / PHOTO.format(name, number)).read_bytes()).decode()

            me("CreateGroup", GroupId="g1", GroupName="G one", GroupExDescriptions=["d0"])
            me("CreateGroup", GroupId="g2", GroupName="G two")
            p1 = me("CreatePerson", GroupId="g1", PersonId="p1", PersonName="P1",
                    Image=photo("Ai_Sugiyama", 1))
            me("CopyPerson", PersonId="p1", GroupIds=["g2"])
            p2 = me("CreatePerson", GroupId="g1", PersonId="p2", PersonName="P2",
                    Image=photo("Adam_Sandler", 1))
            them("CreateGroup", GroupId="og", GroupName="Other")
            op = them("CreatePerson", GroupId="og", PersonId="op", PersonName="OP",
                      Image=photo("Abdullah", 2))
            yield {"me": me, "them": them, "image": photo("Ai_Sugiyama", 2), "p1_face": p1["FaceId"],
                   "p2_face": p2["FaceId"], "op_face": op["FaceId"], "stranger": photo("Abdullah", 3)}


def bases(world: dict) -> dict[str, dict]:
    """Per action, fields that pass every check but end refused (an unknown or taken id) or change
    nothing: a case is the base with one field made bad."""
    image = {"Image": world["image"]}
    return {
        "DetectFace": image, "CompareFace": {"ImageA": world["image"], "ImageB": world["image"]},
        "DetectLiveFace": image, "DetectLiveFaceAccurate": image,
        "CreateGroup": {"GroupId": "g1", "GroupName": "G two", "Tag": "t", "GroupExDescriptions": ["x"]},
        "DeleteGroup": {"GroupId": "g1"},
        "GetGroupList": {"Offset": 0, "Limit": 10},
        "GetGroupInfo": {"GroupId": "g1"},
        "ModifyGroup": {"GroupId": "g1", "GroupName": "G two", "Tag": "t", "GroupExDescriptionInfos": [
            {"GroupExDescriptionIndex": 1, "GroupExDescription": "renamed"}]},  # name taken, no field 1
        "CreatePerson": {"GroupId": "nogroup", "PersonId": "new", "PersonName": "N", "Gender": 1,
                         "UniquePersonControl": 1, "QualityControl": 1, "NeedRotateDetection": 0,
                         "PersonExDescriptionInfos": [{"PersonExDescriptionIndex": 0,
                                                       "PersonExDescription": "v"}], **image},
        "DeletePerson": {"PersonId": "p1"},
        "DeletePersonFromGroup": {"PersonId": "p1", "GroupId": "g1"},
        "GetPersonList": {"GroupId": "g1", "Offset": 0, "Limit": 10},
        "GetPersonListNum": {"GroupId": "g1"},
        "GetPersonBaseInfo": {"PersonId": "p1"},
        "GetPersonGroupInfo": {"PersonId": "p1", "Offset": 0, "Limit": 10},
        "ModifyPersonBaseInfo": {"PersonId": "nobody", "PersonName": "N", "Gender": 1},
        "ModifyPersonGroupInfo": {"GroupId": "g1", "PersonId": "nobody", "PersonExDescriptionInfos": [
            {"PersonExDescriptionIndex": 0, "PersonExDescription": "v"}]},
        "CopyPerson": {"PersonId": "p1", "GroupIds": ["g1"]},  # already in g1
        "CreateFace": {"PersonId": "nobody", "Images": [world["image"]], "FaceMatchThreshold": 60,
                       "QualityControl": 0, "NeedRotateDetection": 0},
        "DeleteFace": {"PersonId": "p1", "FaceIds": ["nope"]},  # deletes nothing
        **{name: {"GroupIds": ["g1", "g2"], "MaxFaceNum": 1, "MinFaceSize": 34, "NeedPersonInfo": 1,
                  "QualityControl": 0, "FaceMatchThreshold": 0, "NeedRotateDetection": 0, **image,
                  ("MaxPersonNumPerGroup" if "ByGroup" in name else "MaxPersonNum"): 2}
           for name in SEARCHES},
        "VerifyFace": {"PersonId": "p1", **image}, "VerifyPerson": {"PersonId": "p1", **image},
    }


# Fields without which an action is refused (an image field: ImageEmpty).
REQUIRED = {
    "DetectFace": {"Image"}, "CompareFace": {"ImageA", "ImageB"}, "DetectLiveFace": {"Image"},
    "DetectLiveFaceAccurate": {"Image"}, "CreateGroup": {"GroupId", "GroupName"}, "DeleteGroup": {"GroupId"},
    "GetGroupInfo": {"GroupId"}, "ModifyGroup": {"GroupId"},
    "CreatePerson": {"GroupId", "PersonId", "PersonName", "Image"}, "DeletePerson": {"PersonId"},
    "DeletePersonFromGroup": {"PersonId", "GroupId"}, "GetPersonList": {"GroupId"},
    "GetPersonListNum": {"GroupId"}, "GetPersonBaseInfo": {"PersonId"}, "GetPersonGroupInfo": {"PersonId"},
    "ModifyPersonBaseInfo": {"PersonId"},
    "ModifyPersonGroupInfo": {"GroupId", "PersonId", "PersonExDescriptionInfos"},
    "CopyPerson": {"PersonId", "GroupIds"}, "CreateFace": {"PersonId", "Images"},
    "DeleteFace": {"PersonId", "FaceIds"}, **{name: {"GroupIds", "Image"} for name in SEARCHES},
    "VerifyFace": {"PersonId", "Image"}, "VerifyPerson": {"PersonId", "Image"},
}
# (action, field) where an unknown id is no refusal: it would be created, or is skipped.
UNKNOWN_IS_FINE = {("CreateGroup", "GroupId"), ("DeleteFace", "FaceIds")}


def fields_of(action: str) -> list[str]:
    request = getattr(models, f"{action}Request", None)
    if request is None:
        return list(FALLBACK_FIELDS.get(action, ()))
    return [name.lstrip("_") for name in vars(request())]


def mutations(action: str, field: str, world: dict) -> list[tuple[str, object, bool]]:
    """(label, bad value, whether it must be refused) for one field."""
    wrong = [("object", {"a": 1}, True), ("bool", True, True)]
    required = field in REQUIRED.get(action, ())
    cases = [("null", None, required), *wrong]
    if field in INTS:
        cases += [("string", "1", True), ("list", [1], True), ("float", 1.5, True), ("negative", -1, True),
                  ("huge", 2**63, True), ("past int64", 10**30, True)]
    elif field in FLOATS:
        cases += [("string", "50", True), ("list", [50], True), ("negative", -0.5, True),
                  ("over", 100.5, True), ("huge", 1e308, True)]
    elif field in ID_LISTS | STRING_LISTS:
        cases += [("string", "g1", True), ("numbers", [1], True), ("nulls", [None], True),
                  ("nested", [["g1"]], True), ("empty list", [], required),
                  ("long item", ["x" * 100_000], False), ("many", [f"i{i}" for i in range(101)], False),
                  ("control item", ["a\u0000b"], field != "FaceIds"),
                  ("lone surrogate item", ["\ud800"], field != "FaceIds")]
        if field in ID_LISTS:
            cases += [("illegal id", ["bad id!"], True), ("unknown id", ["unknown-g"], True),
                      ("other project's", ["og"], True), ("too long id", ["g" * 65], True)]
        if field == "FaceIds":
            cases += [("other project's", [world["op_face"]], False)]
    elif field in OBJECT_LISTS:
        index, value = field.removesuffix("Infos") + "Index", field.removesuffix("Infos")
        cases += [("string", "x", True), ("numbers", [1], True), ("strings", ["x"], True),
                  ("nulls", [None], True), ("no index", [{value: "v"}], True),
                  ("string index", [{index: "0", value: "v"}], True),
                  ("index out of range", [{index: 99, value: "v"}], True),
                  ("negative index", [{index: -1, value: "v"}], True),
                  ("number value", [{index: 0, value: 5}], True),
                  ("long value", [{index: 0, value: "v" * 1000}], True),
                  ("control value", [{index: 0, value: "a\u0000b"}], True),
                  ("lone surrogate value", [{index: 0, value: "\ud800"}], True),
                  ("too many", [{index: i % 5, value: "v"} for i in range(6)], True)]
    else:  # a string
        cases += [("number", 123, True), ("float", 1.5, True), ("list", ["x"], True),
                  ("empty", "", required), ("long", "x" * 70_000, True),
                  ("control character", "a\u0000b", True), ("lone surrogate", "\ud800", True)]
        if field in IDS and (action, field) not in UNKNOWN_IS_FINE:
            other = "og" if field == "GroupId" else "op"
            cases += [("unknown id", f"unknown-{field}", True), ("other project's", other, True),
                      ("illegal id", "bad id!", True), ("too long id", "p" * 65, True)]
        if field in LIMITED:
            cases += [("one too long", "n" * (LIMITED[field] + 1), True)]
        if field.startswith("Image"):
            cases += [("not base64", "@@@", True), ("over 5 MB", "A" * (5 * 1024 * 1024 + 4), True)]
    return cases


BODIES = [("not json", b"{", True), ("a list", b"[]", True), ("null", b"null", True),
          ("a string", b'"x"', True), ("NaN", b'{"Limit": NaN}', True),
          ("not UTF-8", b'{"GroupId": "\xff"}', True), ("deep", b"[" * 50_000, True), ("empty", b"", False)]


def check(answer: httpx.Response, must_refuse: bool, what: str) -> str | None:
    """What is wrong with one answer, or None."""
    if answer.status_code != 200 or answer.headers.get("content-type") != "application/json":
        return f"{what}: HTTP {answer.status_code} {answer.headers.get('content-type')}"
    response = answer.json().get("Response", {})
    if not response.get("RequestId"):
        return f"{what}: no RequestId"
    error = response.get("Error")
    if error is None:
        return f"{what}: accepted" if must_refuse else None
    if error["Code"] not in DOCUMENTED:
        return f"{what}: {error['Code']} {error['Message'][:120]}"
    return None


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_bad_field_is_refused_with_a_documented_code_and_changes_nothing(world, action):
    me, them = world["me"], world["them"]
    before = me.snapshot(), them.snapshot()
    base = bases(world).get(action, {"Image": world["image"]})
    problems = []
    cases = [(f"{field}={label}", {**base, field: value}, must)
             for field in fields_of(action) for label, value, must in mutations(action, field, world)]
    cases += [(f"without {field}", {k: v for k, v in base.items() if k != field}, True)
              for field in base if field in REQUIRED.get(action, ())]
    for what, fields, must_refuse in cases:
        body = json.dumps(fields).encode()
        problems.append(check(me.raw(action, body), must_refuse, what))
        if action in CHANGES and (me.snapshot(), them.snapshot()) != before:
            pytest.fail(f"{action} {what} changed the stored state")
    for what, body, must_refuse in BODIES:
        problems.append(check(me.raw(action, body), must_refuse, f"body {what}"))
    assert [p for p in problems if p] == []
    assert (me.snapshot(), them.snapshot()) == before


def test_an_oversized_body_is_refused(world):
    me = world["me"]
    before = me.snapshot()
    body = json.dumps({"GroupId": "g1", "Image": "A" * (9 * 1024 * 1024)}).encode()
    assert check(me.raw("CreatePerson", body), True, "9 MB body") is None
    assert me.snapshot() == before


def _blank() -> str:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 120, 120)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


def test_well_formed_calls_the_rules_refuse_change_nothing(world):
    """Valid fields on records that exist, refused by the rules (limits, memberships, the last
    face): each its own code, nothing stored; CreateFace with nothing acceptable stores nothing."""
    me, them = world["me"], world["them"]
    before = me.snapshot(), them.snapshot()
    image, p2_face = world["image"], world["p2_face"]
    refused = [
        ("InvalidParameterValue.PersonIdAlreadyExist", "CreatePerson",
         {"GroupId": "g2", "PersonId": "p1", "PersonName": "again", "Image": image}),
        ("InvalidParameterValue.GroupExDescriptionsNameIdentical", "CreateGroup",
         {"GroupId": "fresh", "GroupName": "Fresh", "GroupExDescriptions": ["a", "a"]}),
        ("InvalidParameterValue.GroupExDescriptionsNameIllegal", "ModifyGroup",
         {"GroupId": "g1",
          "GroupExDescriptionInfos": [{"GroupExDescriptionIndex": 0, "GroupExDescription": ""}]}),
        ("InvalidParameterValue.PersonExistInGroup", "CopyPerson",
         {"PersonId": "p1", "GroupIds": ["g2", "g2"]}),
        ("InvalidParameterValue.GroupIdNotExist", "CopyPerson", {"PersonId": "p2", "GroupIds": ["g2", "og"]}),
        ("FailedOperation.GroupPersonMapNotExist", "DeletePersonFromGroup",
         {"PersonId": "p2", "GroupId": "g2"}),
        ("FailedOperation.GroupPersonMapNotExist", "ModifyPersonGroupInfo",
         {"PersonId": "p2", "GroupId": "g2", "PersonExDescriptionInfos": []}),
        ("InvalidParameterValue.PersonExDescriptionInfosExceed", "ModifyPersonGroupInfo",
         {"PersonId": "p1", "GroupId": "g1",
          "PersonExDescriptionInfos": [{"PersonExDescriptionIndex": 3, "PersonExDescription": "v"}]}),
        ("InvalidParameterValue.DeleteFaceNumExceed", "DeleteFace",
         {"PersonId": "p2", "FaceIds": [p2_face]}),
        ("InvalidParameterValue.UploadFaceNumExceed", "CreateFace",
         {"PersonId": "p1", "Images": [image] * 5}),
        ("InvalidParameterValue.NoFaceInPhoto", "VerifyFace", {"PersonId": "p1", "Image": _blank()}),
        ("InvalidParameterValue.NoFaceInPhoto", "SearchPersons", {"GroupIds": ["g1"], "Image": _blank()}),
        ("FailedOperation.ImageDecodeFailed", "CreatePerson",
         {"GroupId": "g1", "PersonId": "new", "PersonName": "N", "Image": "bm90IGFuIGltYWdl"}),
    ]
    for code, action, fields in refused:
        answer = me.raw(action, json.dumps(fields).encode())
        assert check(answer, True, action) is None
        assert answer.json()["Response"]["Error"]["Code"] == code, (action, answer.json())
        assert (me.snapshot(), them.snapshot()) == before, (action, fields)
    kept = me("CreateFace", PersonId="p1", Images=[world["stranger"], _blank(), "@@@"])
    assert kept["SucFaceNum"] == 0 and kept["RetCode"] == [-1604, -1101, -1102]
    assert (me.snapshot(), them.snapshot()) == before
