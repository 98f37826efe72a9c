"""The Tencent IAI surface beyond the JSON POST: liveness, X-TC-Language and GET, with the official
SDK (`tencentcloud-sdk-python-iai` 3.1.191) against a real `openfrs serve` with auth on, on stores
of its own (the session's backend, so this file also runs with `--backend scaleout`).

What this proves: DetectLiveFaceAccurate (SDK model) and DetectLiveFace (the SDK's generic
call_json, for older clients) give the same decision as FRS live-detect-face on the same real
photos, live and printed, on the same server; the `live_detect` sub-service gates them; a refusal's
Message follows X-TC-Language with its code unchanged; `HttpProfile(reqMethod="GET")` works for
detect, groups, persons and search (numbers read from the query's strings, a POST's JSON kept
strict), and a bad GET signature, malformed flattening or another HTTP method get an envelope.
What it does not: liveness rates (docs/liveness.md measures those on every frame).
"""

from __future__ import annotations

import base64
import csv
import functools
import http.server
import io
import json
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.iai.v20200303 import iai_client, models

from openfrs import signing
from openfrs.api.tencent import dispatch, errors, messages, persons, signature
from openfrs.api.tencent.liveness import ACCURATE_THRESHOLD, LEGACY_THRESHOLD, tencent_live_score
from tests.api.test_auth import accounts, projects_with_credentials
from tests.api.test_tencent_sdk import sdk_server
from tests.conftest import server_env, stores_of_their_own

pytestmark = pytest.mark.models
LIVE_STILLS = ["reaction/open_eyes.png", "pose/rise_face.jpeg", "reaction/close_eyes.jpeg"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_live_score_puts_our_decision_on_tencents_threshold():
    """Monotone in our confidence; the operating point (0.5) lands exactly on the threshold and a
    refusal always stays under it, even one the model liked but quality blocked."""
    for threshold in (ACCURATE_THRESHOLD, LEGACY_THRESHOLD):
        grid = [i / 1000 for i in range(1001)]
        scores = [tencent_live_score(c, c >= 0.5, threshold) for c in grid]
        assert scores == sorted(scores) and scores[0] == 0.0 and scores[-1] == 100.0
        assert tencent_live_score(0.5, True, threshold) == threshold
        assert tencent_live_score(0.4999, False, threshold) < threshold
        assert tencent_live_score(0.9, False, threshold) < threshold  # refused for its quality


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def lfw_base(shared_data):
    """The LFW photos over plain HTTP on loopback, for the Url fields of GET calls."""
    handler = functools.partial(_QuietHandler, directory=str(shared_data / "lfw-partial/images"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(settings, model_pack_dir, tmp_path_factory):
    """(host:port, {project name: credential}); project `nolive` has live_detect switched off."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("tencent-transport")) as own:
        names = ("owner", "nolive")
        keys = dict(zip(names, projects_with_credentials(own, *names), strict=True))
        accounts(own, lambda tenancy: tenancy.set_service("nolive", "live_detect", False))
        env = {**server_env(own), "OPENFRS_URL_ALLOW_HOSTS": '["127.0.0.1"]'}
        with sdk_server(own.data_dir, settings.model_dir, env) as endpoint:
            yield endpoint, keys


def _client(endpoint: str, key, *, method: str = "POST", language: str = "zh-CN",
            secret_key: str | None = None) -> iai_client.IaiClient:
    http_profile = HttpProfile(endpoint=endpoint, protocol="http", reqMethod=method)
    profile = ClientProfile(httpProfile=http_profile, language=language)
    return iai_client.IaiClient(credential.Credential(key.ak, secret_key or key.sk), "ap-guangzhou", profile)


@pytest.fixture(scope="module")
def sdk(server):
    endpoint, keys = server
    return _client(endpoint, keys["owner"])


@pytest.fixture(scope="module")
def sdk_get(server):
    endpoint, keys = server
    return _client(endpoint, keys["owner"], method="GET")


def call(client: iai_client.IaiClient, action: str, **fields):
    """An action through the SDK's own request model and method."""
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(fields))
    return getattr(client, action)(request)


def refused(run, *args, **fields) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as caught:
        run(*args, **fields)
    assert caught.value.requestId
    return caught.value


def b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def frs_live(endpoint: str, key, image: str) -> dict:
    """FRS live-detect-face on the same server, signed with the same credential (SDK-HMAC-SHA256)."""
    path, data = f"/v2/{key.project_id}/live-detect-face", json.dumps({"image_base64": image}).encode()
    headers = signing.sign("POST", endpoint, path, [], {"Content-Type": "application/json"}, data,
                           key.ak, key.sk)
    response = httpx.post(f"http://{endpoint}{path}", content=data, headers=headers, trust_env=False)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def first_frames(shared_data, label: str, count: int) -> list:
    """The first listed NUAA image of each of `count` subjects of one label (antispoof-more)."""
    folder = shared_data / "antispoof-more"
    with open(folder / "labels.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle)
                if r["label"] == label and r["source"] == "nuaa" and r["media"] == "image"]
    first: dict = {}
    for row in rows:
        first.setdefault(row["subject"], folder / row["file"])
    return sorted(first.values())[:count]


# -- liveness ---------------------------------------------------------------------------------------


def test_liveness_agrees_with_frs_live_detect_face(server, sdk, shared_data):
    """Live stills and NUAA webcam frames against NUAA hand-held prints: each image's Tencent
    answers (Score >= 40 for the Accurate action, IsLiveness and Score >= 87 for the old one) are
    FRS's `alive` for it, and the real photos pass while the prints are refused; a real face FRS
    refuses for its pose though the model likes it is held under the threshold too."""
    endpoint, keys = server
    real = [shared_data / "liveness-stills" / name for name in LIVE_STILLS] + \
        first_frames(shared_data, "real", 3)
    prints = first_frames(shared_data, "attack", 4)
    turned = shared_data / "liveness-stills/pose/left_face.jpeg"  # real, turned 40°+: warning 103
    assert len(real) == 6 and len(prints) == 4
    decided, confidence = {}, {}
    for path in [*real, *prints, turned]:
        image = b64(path)
        frs = frs_live(endpoint, keys["owner"], image)
        accurate = call(sdk, "DetectLiveFaceAccurate", Image=image)
        legacy = sdk.call_json("DetectLiveFace", {"Image": image, "FaceModelVersion": "3.0"})["Response"]
        assert isinstance(accurate.Score, float) and 0 <= accurate.Score <= 100
        assert accurate.FaceModelVersion == "3.0" and legacy["FaceModelVersion"] == "3.0"
        assert (accurate.Score >= ACCURATE_THRESHOLD) is frs["alive"], (path, accurate.Score, frs)
        assert legacy["IsLiveness"] is frs["alive"], (path, legacy, frs)
        assert (legacy["Score"] >= LEGACY_THRESHOLD) is frs["alive"], (path, legacy, frs)
        assert accurate.Score == tencent_live_score(frs["confidence"], frs["alive"], ACCURATE_THRESHOLD)
        decided[path], confidence[path] = frs["alive"], frs["confidence"]
    assert sum(decided[p] for p in real) >= len(real) - 1, decided
    assert sum(not decided[p] for p in prints) >= len(prints) - 1, decided
    # the model likes the turned face, but FRS refuses it for its pose: the Score stays under 40
    assert confidence[turned] >= 0.5 and not decided[turned], (confidence[turned], decided[turned])


def test_liveness_refusals(server, sdk, lfw_base):
    endpoint, keys = server
    blank = io.BytesIO()
    Image.new("RGB", (240, 320), (128, 128, 128)).save(blank, "JPEG")
    image = base64.b64encode(blank.getvalue()).decode()
    assert refused(call, sdk, "DetectLiveFaceAccurate", Image=image).code == \
        "InvalidParameterValue.NoFaceInPhoto"
    assert refused(sdk.call_json, "DetectLiveFace", {"Image": image}).code == \
        "InvalidParameterValue.NoFaceInPhoto"
    assert refused(call, sdk, "DetectLiveFaceAccurate", Image="bm90IGFuIGltYWdl").code == \
        "FailedOperation.ImageDecodeFailed"
    assert refused(call, sdk, "DetectLiveFaceAccurate").code == "InvalidParameterValue.ImageEmpty"
    assert refused(call, sdk, "DetectLiveFaceAccurate", Url="http://10.0.0.1/a.jpg").code == \
        "FailedOperation.ImageDownloadError"
    assert refused(call, sdk, "DetectLiveFaceAccurate", Image=image, FaceModelVersion="2.0").code == \
        "InvalidParameterValue.FaceModelVersionIllegal"
    # the live_detect sub-service switched off for the project: refused before the image is read
    nolive = _client(endpoint, keys["nolive"])
    url = f"{lfw_base}/Abdullah/Abdullah_0002.jpg"
    assert refused(call, nolive, "DetectLiveFaceAccurate", Url=url).code == "ResourceUnavailable.NotReady"
    assert refused(nolive.call_json, "DetectLiveFace", {"Url": url}).code == "ResourceUnavailable.NotReady"
    assert len(call(nolive, "DetectFace", Url=url).FaceInfos) == 1  # its other services still work


# -- X-TC-Language ----------------------------------------------------------------------------------


def test_messages_follow_x_tc_language(server, sdk):
    endpoint, keys = server
    english = _client(endpoint, keys["owner"], language="en-US")
    cases = (("GetGroupInfo", {"GroupId": "nope"}, "InvalidParameterValue.GroupIdNotExist"),
             ("DetectLiveFaceAccurate", {}, "InvalidParameterValue.ImageEmpty"),
             ("GetGroupList", {"Limit": 5000}, "InvalidParameterValue.LimitExceed"))
    for action, fields, code in cases:
        zh = refused(call, sdk, action, **fields)
        en = refused(call, english, action, **fields)
        assert zh.code == en.code == code
        assert zh.message != en.message
        assert CHINESE.search(zh.message) and not CHINESE.search(en.message), (zh.message, en.message)
        assert en.message in zh.message  # the English detail is kept, in brackets
    # no header at all (an unsigned API 2.0 call): Tencent's default, zh-CN
    raw = httpx.post(f"http://{endpoint}/", data={"Action": "DetectFace"}, trust_env=False)
    assert CHINESE.search(raw.json()["Response"]["Error"]["Message"])


# -- GET --------------------------------------------------------------------------------------------


def test_get_detect_face_by_url(sdk_get, lfw_base):
    response = call(sdk_get, "DetectFace", Url=f"{lfw_base}/Abdullah/Abdullah_0002.jpg", MaxFaceNum=2,
                    NeedFaceAttributes=1)
    assert (response.ImageWidth, response.ImageHeight) == (250, 250)
    assert len(response.FaceInfos) == 1 and isinstance(response.FaceInfos[0].FaceAttributesInfo.Age, int)
    error = refused(call, sdk_get, "DetectFace", Url=f"{lfw_base}/Abdullah/Abdullah_0002.jpg", MaxFaceNum=500)
    assert error.code == "InvalidParameterValue"  # the string "500" is read as 500, then range-checked


def test_get_groups_persons_and_search(sdk, sdk_get, lfw_base):
    """Lists, lists of objects, ints and floats, all as query strings."""
    call(sdk_get, "CreateGroup", GroupId="get-a", GroupName="A", GroupExDescriptions=["dept", "floor"])
    for name in ("get-b", "get-c"):
        call(sdk_get, "CreateGroup", GroupId=name, GroupName=name.upper())
    info = call(sdk, "GetGroupInfo", GroupId="get-a")  # read back by POST
    assert info.GroupExDescriptions == ["dept", "floor"] and info.GroupName == "A"
    everything = call(sdk_get, "GetGroupList", Offset=0, Limit=10)
    page = call(sdk_get, "GetGroupList", Offset=1, Limit=1)
    assert page.GroupNum == everything.GroupNum >= 3 and len(page.GroupInfos) == 1
    assert page.GroupInfos[0].GroupId == everything.GroupInfos[1].GroupId

    url = f"{lfw_base}/Ai_Sugiyama/Ai_Sugiyama_0001.jpg"
    floor = [{"PersonExDescriptionIndex": 1, "PersonExDescription": "3F"}]
    created = call(sdk_get, "CreatePerson", GroupId="get-a", PersonId="ai", PersonName="Ai", Gender=2,
                   Url=url, PersonExDescriptionInfos=floor)
    assert created.FaceId
    probe = f"{lfw_base}/Ai_Sugiyama/Ai_Sugiyama_0002.jpg"
    found = call(sdk_get, "SearchFaces", GroupIds=["get-a", "get-b"], Url=probe, MaxPersonNum=2,
                 NeedPersonInfo=1, FaceMatchThreshold=40.0)
    best = found.Results[0].Candidates[0]
    assert best.PersonId == "ai" and best.Score >= 40 and best.Gender == 2
    assert best.PersonGroupInfos[0].PersonExDescriptions == ["", "3F"]
    nobody = call(sdk_get, "SearchFaces", GroupIds=["get-a"], Url=f"{lfw_base}/Abdullah/Abdullah_0002.jpg",
                  FaceMatchThreshold=99.5)
    assert nobody.Results[0].Candidates == []
    # a POST's JSON keeps strict types: the same numbers as strings are refused there
    assert refused(sdk.call_json, "GetGroupList", {"Limit": "2"}).code == "InvalidParameter"
    assert refused(sdk_get.call_json, "GetGroupList", {"Limit": "two"}).code == "InvalidParameter"
    for name in ("get-a", "get-b", "get-c"):
        call(sdk_get, "DeleteGroup", GroupId=name)


def test_get_with_a_wrong_signature(server, lfw_base):
    endpoint, keys = server
    secret = keys["owner"].sk
    wrong = _client(endpoint, keys["owner"], method="GET",
                    secret_key=secret[:-1] + ("x" if secret[-1] != "x" else "y"))
    error = refused(call, wrong, "DetectFace", Url=f"{lfw_base}/Abdullah/Abdullah_0002.jpg")
    assert error.code == "AuthFailure.SignatureFailure"


def tc3_get(endpoint: str, key, action: str, sent: str, signed: str | None = None) -> dict:
    """A raw GET signed as the SDK signs it, over `signed` (default: the query as sent)."""
    now = int(time.time())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": endpoint}
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical = signature.canonical_request("GET", sent if signed is None else signed, lowered,
                                            ["content-type", "host"], signature.payload_hash(b"", None))
    date = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    digest = signature.signature(key.sk, str(now), date, "iai", canonical)
    headers |= {"X-TC-Action": action, "X-TC-Version": "2020-03-03", "X-TC-Timestamp": str(now),
                "X-TC-Language": "en-US",
                "Authorization": f"TC3-HMAC-SHA256 Credential={key.ak}/{date}/iai/tc3_request, "
                                 f"SignedHeaders=content-type;host, Signature={digest}"}
    response = httpx.get(f"http://{endpoint}/?{sent}", headers=headers, trust_env=False)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    return response.json()["Response"]


@pytest.mark.parametrize("query", [
    "GroupName=x&GroupId=q1&GroupExDescriptions.0=a&GroupExDescriptions.2=b",  # a gap
    "GroupName=x&GroupId=q1&GroupExDescriptions.0=a&GroupExDescriptions.name=b",  # list and object
    "GroupName=x&GroupId=q1&GroupExDescriptions=a&GroupExDescriptions.0=b",  # value and list
    "GroupName=x&GroupId=q1&GroupId=q2",  # twice
    "GroupName=x&GroupId=q1&GroupExDescriptions..0=a",  # an empty segment
    "GroupName=x&GroupId",  # no "="
])
def test_malformed_flattening_is_refused(server, query):
    endpoint, keys = server
    answer = tc3_get(endpoint, keys["owner"], "CreateGroup", query)
    assert answer["Error"]["Code"] == "InvalidParameter", answer
    assert answer["RequestId"]


def test_a_query_other_than_the_signed_one_is_refused(server):
    endpoint, keys = server
    good = tc3_get(endpoint, keys["owner"], "GetGroupList", "Offset=0&Limit=1")
    assert "GroupNum" in good, good
    tampered = tc3_get(endpoint, keys["owner"], "GetGroupList", "Offset=0&Limit=1000",
                       signed="Offset=0&Limit=1")
    assert tampered["Error"]["Code"] == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_get_an_envelope(server, method):
    endpoint, _ = server
    response = httpx.request(method, f"http://{endpoint}/", headers={"X-TC-Action": "DetectFace"},
                             content=b"{}", trust_env=False)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()["Response"]
    assert body["Error"]["Code"] == "UnsupportedProtocol" and body["RequestId"]


def test_every_code_the_surface_sends_has_a_chinese_message():
    """Each code written in the surface's modules or mapped from FRS and the person rules has its
    own entry (families are only the fallback for codes composed at run time)."""
    source = "".join(path.read_text() for path in Path(dispatch.__file__).parent.glob("*.py"))
    written = set(re.findall(r'"((?:AuthFailure|InvalidParameterValue|InvalidParameter|MissingParameter|'
                             r'FailedOperation|ResourceUnavailable|LimitExceeded|RequestLimitExceeded|'
                             r'InvalidAction|NoSuchVersion|UnsupportedProtocol|InternalError)(?:\.[A-Za-z]+)?)"',
                             source))
    ends = {"Illegal", "TooLong"}
    composed = {f"{persons.GROUP}{field}{end}" for field in ("Id", "Name", "Tag", "ExDescriptionsName")
                for end in ends} | {f"{persons.PERSON}{field}{end}" for field in
                                    ("Id", "Name", "ExDescriptionsName") for end in ends}
    composed |= {f"{persons.GROUP}ExDescriptionsExceed", f"{persons.PERSON}ExDescriptionInfosExceed"}
    prefixes = {code for code in written if "." in code and any(c.startswith(code) and c != code
                                                                 for c in composed)}
    codes = (written - prefixes) | composed | set(errors._FROM_FRS.values()) | \
        set(errors._FROM_PERSONS.values())
    assert len(codes) > 40
    missing = sorted(code for code in codes if code not in messages.CHINESE)
    assert missing == []
    assert messages.message("AuthFailure.Whatever", "d", None) == "认证失败（d）"
    assert messages.message("AuthFailure.Whatever", "d", "EN-us") == "d"
