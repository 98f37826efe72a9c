"""The official Tencent Cloud IAI client (`tencentcloud-sdk-python-iai`, PyPI) against a real
`openfrs serve` with auth on, over a real socket, as shared/docs/tencent-iai.md §2 explains.

The SDK signs with TC3-HMAC-SHA256 using an OpenFRS credential (SecretId = AK, SecretKey = SK)
made on the server's own stores (the session's backend). What this proves: the SDK's requests
verify, its models parse our envelopes (HTTP 200, Content-Type exactly application/json), the
scores mean Tencent's false-accept rates, and every refusal reaches the SDK as a
TencentCloudSDKException with Tencent's code, counted as no successful call.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import io
import json
import math
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.iai.v20200303 import iai_client, models

from openfrs.api.tencent import signature
from openfrs.benchmark.http_load import free_port, start_server
from openfrs.config import Settings
from openfrs.service.scores import tencent_score, tencent_score_of_far
from openfrs.service.tenancy import Tenancy
from openfrs.vision.calibration import FAR_TARGETS
from tests.api.test_auth import accounts
from tests.conftest import server_env, stores_of_their_own

pytestmark = pytest.mark.models
FAR_1E3_SCORE = 40.0  # Tencent's compare score for FAR 0.1 % (model 3.0), its FAQ
SAME = [("Abdullah/Abdullah_0002.jpg", "Abdullah/Abdullah_0003.jpg"),
        ("Adam_Sandler/Adam_Sandler_0001.jpg", "Adam_Sandler/Adam_Sandler_0002.jpg"),
        ("Ai_Sugiyama/Ai_Sugiyama_0001.jpg", "Ai_Sugiyama/Ai_Sugiyama_0002.jpg")]
DIFFERENT = [("Abdullah/Abdullah_0002.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"),
             ("Ai_Sugiyama/Ai_Sugiyama_0001.jpg", "Ahmed_Chalabi/Ahmed_Chalabi_0001.jpg"),
             ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0001.jpg")]


def test_signature_matches_the_sdk_test_vector() -> None:
    """tencent-iai.md §3: the SDK's own signature for a pinned clock."""
    body = b'{"GroupName": "demo", "GroupId": "g-001"}'
    canonical = signature.canonical_request(
        "POST", "", {"content-type": "application/json", "host": "127.0.0.1:18482"},
        ["content-type", "host"], signature.payload_hash(body, None))
    assert signature.signature("stubsecretkey", "1700000000", "2023-11-14", "iai", canonical) == \
        "b0955b1600dfb4471eaa0c4b1b8b7b699bae33bfca9789f683a68a78e43411ff"


def test_tencent_scores_keep_tencents_false_accept_rates() -> None:
    """Score = 10 - 10 log10(FAR) at each of our calibration's FAR anchors."""
    assert tencent_score_of_far(1e-3) == FAR_1E3_SCORE and tencent_score_of_far(1e-5) == 60.0
    for far, similarity in FAR_TARGETS.items():
        assert tencent_score(similarity) == pytest.approx(min(100.0, 10 - 10 * math.log10(far)))
    assert tencent_score(0.0) == 0.0 and tencent_score(1.0) == 100.0
    grid = [i / 1000 for i in range(1001)]
    scores = [tencent_score(s) for s in grid]
    assert scores == sorted(scores)  # monotone: a higher similarity never scores lower


@pytest.fixture(scope="module")
def images(shared_data):
    """The LFW photos over plain HTTP on loopback, for the Url fields."""
    root = shared_data / "lfw-partial/images"
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(settings, model_pack_dir, tmp_path_factory):
    """(host:port, the server's settings, {project name: credential}), on stores of its own (the
    session's backend: SQLite + local indexes, or PostgreSQL + Milvus)."""
    names = ("sdk", "nodetect", "slow", "frozen")

    def setup(tenancy: Tenancy) -> dict:
        for name in names:
            tenancy.create_project(name)
        keys = {name: tenancy.create_credential(name) for name in names}
        tenancy.set_service("nodetect", "detect", False)
        tenancy.set_project("slow", qps=0.01)  # one call, then the bucket needs 100 s
        tenancy.set_project("frozen", disabled=True)
        return keys

    with stores_of_their_own(settings, tmp_path_factory.mktemp("tencent-data")) as own:
        keys = accounts(own, setup)
        env = {"OPENFRS_URL_ALLOW_HOSTS": '["127.0.0.1"]', **server_env(own)}
        with sdk_server(own.data_dir, settings.model_dir, env) as endpoint:
            yield endpoint, own, keys


@contextlib.contextmanager
def sdk_server(data_dir: Path, model_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """`openfrs serve` with auth on, and NO_PROXY set as the SDK needs (it matches host:port):
    yields the endpoint host:port."""
    port = free_port()
    proc = start_server(port, data_dir, model_dir,
                        extra_env={"OPENFRS_AUTH": "on", "OPENFRS_QPS_DEFAULT": "0", **env})
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("NO_PROXY", f"127.0.0.1:{port},127.0.0.1")
            patch.setenv("no_proxy", f"127.0.0.1:{port},127.0.0.1")
            yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def client(endpoint: str, secret_id: str, secret_key: str) -> iai_client.IaiClient:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http"))
    return iai_client.IaiClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)


@pytest.fixture(scope="module")
def sdk(server):
    endpoint, _, keys = server
    return client(endpoint, keys["sdk"].ak, keys["sdk"].sk)


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def detect_request(**fields) -> models.DetectFaceRequest:
    request = models.DetectFaceRequest()
    request.from_json_string(json.dumps(fields))
    return request


def compare_request(**fields) -> models.CompareFaceRequest:
    request = models.CompareFaceRequest()
    request.from_json_string(json.dumps(fields))
    return request


def refused(call, *args) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as caught:
        call(*args)
    assert caught.value.requestId  # the envelope's RequestId reached the SDK
    return caught.value


def usage(own: Settings, project: str) -> dict[str, tuple[int, int, int]]:
    """(calls, throttled, errors) by API."""
    rows = accounts(own, lambda tenancy: tenancy.usage(tenancy.project(project).project_id))
    return {row["api"]: (row["calls"], row["throttled"], row["errors"]) for row in rows}


# -- what works ------------------------------------------------------------------------------------


def test_detect_face_with_attributes_and_quality(sdk, images):
    root, _ = images
    response = sdk.DetectFace(detect_request(Image=b64(root / "Abdullah/Abdullah_0002.jpg"),
                                             NeedFaceAttributes=1, NeedQualityDetection=1))
    assert (response.ImageWidth, response.ImageHeight) == (250, 250)
    assert response.FaceModelVersion == "3.0" and response.RequestId
    (face,) = response.FaceInfos
    assert 40 < face.X < 120 and 40 < face.Y < 120 and 60 < face.Width < 160 and 60 < face.Height < 160
    attributes = face.FaceAttributesInfo
    assert isinstance(attributes.Age, int) and 15 < attributes.Age < 90
    assert attributes.Gender is None or 0 <= attributes.Gender <= 100
    assert all(isinstance(getattr(attributes, a), int) for a in ("Pitch", "Yaw", "Roll"))
    # not measured by any model we ship: absent, never a made-up zero
    assert attributes.Expression is None and attributes.Glass is None and attributes.Beauty is None
    assert attributes.Hat is None and attributes.Mask is None and attributes.EyeOpen is None
    quality = face.FaceQualityInfo
    assert 0 <= quality.Score <= 100 and 0 <= quality.Sharpness <= 100
    assert quality.Brightness is None and quality.Completeness is None


def test_detect_face_largest_faces_first(sdk, shared_data):
    crowd = b64(shared_data / "crowd/insightface_t1.jpg")
    one = sdk.DetectFace(detect_request(Image=crowd))
    five = sdk.DetectFace(detect_request(Image=crowd, MaxFaceNum=5))
    assert len(one.FaceInfos) == 1 and len(five.FaceInfos) == 5
    areas = [f.Width * f.Height for f in five.FaceInfos]
    assert areas == sorted(areas, reverse=True) and one.FaceInfos[0].Width == five.FaceInfos[0].Width
    assert five.FaceInfos[0].FaceAttributesInfo is None  # not asked for


def test_detect_face_by_url(sdk, images):
    _, base = images
    response = sdk.DetectFace(detect_request(Url=f"{base}/Adam_Sandler/Adam_Sandler_0001.jpg"))
    assert len(response.FaceInfos) == 1 and response.ImageWidth == 250


@pytest.mark.parametrize(("first", "second"), SAME)
def test_compare_same_person_scores_above_the_far_0_1_percent_threshold(sdk, images, first, second):
    root, _ = images
    response = sdk.CompareFace(compare_request(ImageA=b64(root / first), ImageB=b64(root / second)))
    assert isinstance(response.Score, float) and FAR_1E3_SCORE <= response.Score <= 100
    assert response.FaceModelVersion == "3.0"


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_compare_different_people_scores_low(sdk, images, first, second):
    root, base = images
    response = sdk.CompareFace(compare_request(UrlA=f"{base}/{first}", ImageB=b64(root / second),
                                               FaceMatchingStrategy=1))
    assert 0 <= response.Score < FAR_1E3_SCORE


def test_compare_with_quality_control(sdk, images):
    root, _ = images
    pair = SAME[0]
    response = sdk.CompareFace(compare_request(ImageA=b64(root / pair[0]), ImageB=b64(root / pair[1]),
                                               QualityControl=1))
    assert response.Score >= FAR_1E3_SCORE


# -- refusals, as the SDK sees them -------------------------------------------------------------------


def test_wrong_secret_key(server, images):
    endpoint, _, keys = server
    root, _ = images
    secret = keys["sdk"].sk
    wrong = client(endpoint, keys["sdk"].ak, secret[:-1] + ("x" if secret[-1] != "x" else "y"))
    error = refused(wrong.DetectFace, detect_request(Image=b64(root / SAME[0][0])))
    assert error.code == "AuthFailure.SignatureFailure"


def test_unknown_secret_id(server, images):
    endpoint, _, keys = server
    root, _ = images
    stranger = client(endpoint, "AKIDNOSUCHKEY0000000", keys["sdk"].sk)
    assert refused(stranger.DetectFace, detect_request(Image=b64(root / SAME[0][0]))).code == \
        "AuthFailure.SecretIdNotFound"


def test_stale_timestamp(sdk, images, monkeypatch):
    root, _ = images
    hour_ago = types.SimpleNamespace(time=lambda: time.time() - 3600, sleep=time.sleep)
    monkeypatch.setattr(abstract_client, "time", hour_ago)  # the SDK's clock only
    assert refused(sdk.DetectFace, detect_request(Image=b64(root / SAME[0][0]))).code == \
        "AuthFailure.SignatureExpire"


def test_other_api_version(server, images):
    endpoint, _, keys = server
    root, _ = images
    old = client(endpoint, keys["sdk"].ak, keys["sdk"].sk)
    old._apiVersion = "2018-03-01"  # what the 2018 client module sends
    assert refused(old.DetectFace, detect_request(Image=b64(root / SAME[0][0]))).code == "NoSuchVersion"


def test_unknown_action(sdk):
    with pytest.raises(TencentCloudSDKException) as caught:
        sdk.call_json("SearchFacesByMagic", {"GroupIds": ["g"]})
    assert caught.value.code == "InvalidAction"


@pytest.mark.parametrize(("fields", "code"), [
    ({}, "InvalidParameterValue.ImageEmpty"),
    ({"Image": ""}, "InvalidParameterValue.ImageEmpty"),
    ({"Image": 12}, "InvalidParameter"),
    ({"Image": "bm90IGFuIGltYWdl"}, "FailedOperation.ImageDecodeFailed"),
    ({"Image": "@@@not base64@@@"}, "FailedOperation.ImageDecodeFailed"),
    ({"Url": "http://10.0.0.1/face.jpg"}, "FailedOperation.ImageDownloadError"),
    ({"Image": "QUFB", "MaxFaceNum": 0}, "InvalidParameterValue"),
    ({"Image": "QUFB", "MaxFaceNum": "five"}, "InvalidParameter"),
    ({"Image": "QUFB", "MinFaceSize": 50}, "InvalidParameterValue"),
    ({"Image": "QUFB", "NeedFaceAttributes": 2}, "InvalidParameterValue"),
    ({"Image": "QUFB", "FaceModelVersion": "2.0"}, "InvalidParameterValue.FaceModelVersionIllegal"),
])
def test_malformed_detect_fields(sdk, fields, code):
    assert refused(sdk.DetectFace, detect_request(**fields)).code == code


def test_no_face(sdk):
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(out, "JPEG")
    error = refused(sdk.DetectFace, detect_request(Image=base64.b64encode(out.getvalue()).decode()))
    assert error.code == "InvalidParameterValue.NoFaceInPhoto"


@pytest.mark.parametrize(("fields", "code"), [
    ({"ImageA": "QUFB"}, "InvalidParameterValue.ImageEmpty"),
    ({"ImageA": "QUFB", "ImageB": "QUFB", "QualityControl": 7},
     "InvalidParameterValue.QualityControlIllegal"),
    ({"ImageA": "QUFB", "ImageB": "QUFB", "FaceMatchingStrategy": 3}, "InvalidParameterValue"),
])
def test_malformed_compare_fields(sdk, fields, code):
    assert refused(sdk.CompareFace, compare_request(**fields)).code == code


def test_oversized_image(sdk):
    huge = "A" * (5 * 1024 * 1024 + 4)
    assert refused(sdk.DetectFace, detect_request(Image=huge)).code == "FailedOperation.ImageSizeExceed"


def test_project_rights(server, images):
    endpoint, own, keys = server
    root, _ = images
    image = b64(root / SAME[0][0])

    def call(name: str):
        return client(endpoint, keys[name].ak, keys[name].sk).DetectFace(detect_request(Image=image))

    assert refused(call, "nodetect").code == "ResourceUnavailable.NotReady"
    assert refused(call, "frozen").code == "ResourceUnavailable.StopUsing"
    assert len(call("slow").FaceInfos) == 1
    assert refused(call, "slow").code == "RequestLimitExceeded"
    assert usage(own, "slow") == {"iai.DetectFace": (1, 1, 0)}  # the refusal counted as throttled
    assert usage(own, "nodetect") == usage(own, "frozen") == {"iai.DetectFace": (0, 0, 1)}  # not billed


def test_refusals_are_http_200_json_and_never_counted_as_calls(server, sdk, images):
    """A refusal (HTTP 200, as the SDK needs) is billed as no call and counted as an error_4xx
    (and in usage's errors):
    the surface leaves the status it stands for in the request state (api/auth.call_status)."""
    endpoint, own, keys = server
    root, _ = images
    before = usage(own, "sdk").get("iai.DetectFace", (0, 0, 0))
    metrics_before = _series(endpoint, "iai.DetectFace")
    sdk.DetectFace(detect_request(Image=b64(root / SAME[0][0])))
    for fields in ({}, {"Image": "QUFB", "MaxFaceNum": 0}):
        refused(sdk.DetectFace, detect_request(**fields))
    assert usage(own, "sdk")["iai.DetectFace"] == (before[0] + 1, before[1], before[2] + 2)
    after = _series(endpoint, "iai.DetectFace")
    assert after["api_calls"] == metrics_before.get("api_calls", 0) + 1
    assert after["error_4xx"] == metrics_before.get("error_4xx", 0) + 2
    assert after["error_5xx"] == metrics_before.get("error_5xx", 0)
    # unsigned, API 2.0 style (Action in a form body): a Tencent envelope, not an FRS 401
    raw = httpx.post(f"http://{endpoint}/", data={"Action": "DetectFace", "SecretId": keys["sdk"].ak},
                     trust_env=False)
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/json"
    assert raw.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert raw.json()["Response"]["RequestId"]


def _series(endpoint: str, api: str) -> dict[str, float]:
    """api_calls / error_4xx / error_5xx of one API, every project, from /metrics (a loopback
    scrape; the tests run one at a time, so differences are one test's calls)."""
    text = httpx.get(f"http://{endpoint}/metrics", trust_env=False).text
    out: dict[str, float] = {}
    for line in text.splitlines():
        for name in ("api_calls", "error_4xx", "error_5xx"):
            if line.startswith(name + "{") and f'api="{api}"' in line:
                out[name] = out.get(name, 0) + float(line.rsplit(" ", 1)[1])
    return out


# -- in process, OPENFRS_AUTH=off: the envelope for whatever arrives --------------------------------


TENCENT_HEADERS = {"X-TC-Action": "DetectFace", "X-TC-Version": "2020-03-03",
                   "Content-Type": "application/json"}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"Image": NaN}', b"[" * 100_000,
                                  b'{"Image": "\\ud800"}', "{\"Image\": \"\u00e9\"}".encode()])
def test_bad_bodies_get_an_envelope_never_a_5xx(client, body):
    response = client.post("/", content=body, headers=TENCENT_HEADERS)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    error = response.json()["Response"]["Error"]
    assert error["Code"] in ("InvalidParameter", "FailedOperation.ImageDecodeFailed"), error


def test_auth_off_serves_unsigned_calls(client, shared_data):
    image = b64(shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg")
    response = client.post("/", json={"Image": image}, headers=TENCENT_HEADERS)
    assert len(response.json()["Response"]["FaceInfos"]) == 1
    unknown = client.post("/", json={}, headers={**TENCENT_HEADERS, "X-TC-Action": "DetectFaceAttributes"})
    assert unknown.status_code == 200 and unknown.json()["Response"]["Error"]["Code"] == "InvalidAction"
