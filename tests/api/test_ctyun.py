"""The CTyun face API surface against a real `openfrs serve` with auth on, over a real socket.

Requests are signed by the small signer below, written from shared/docs/ctyun.md §5 and checked
against its test vector, not imported from the server: so the server is checked against the
documented algorithm. What this proves: detect / attributes / compare answer in CTyun's envelope
under all three path spellings, a batch of 100 with bad items answers each item in order (the rest
served), and every refusal has its code and HTTP status, counted as no call and storing nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import http.server
import io
import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from openfrs import signing
from openfrs.config import Settings
from openfrs.service.tenancy import Tenancy
from tests.conftest import server_env, stores_of_their_own
from tests.real_server import first_credential, serve

pytestmark = pytest.mark.models
DETECT, ANALYSE = "/face/api/v1/face_detect.json", "/v1/face_analyse.json"
COMPARE = "/api/v1/face_compare.json"
LFW = ["Abdullah/Abdullah_0002.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg", "Ai_Sugiyama/Ai_Sugiyama_0001.jpg",
       "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0001.jpg"]
SAME = [("Abdullah/Abdullah_0002.jpg", "Abdullah/Abdullah_0003.jpg"),
        ("Adam_Sandler/Adam_Sandler_0001.jpg", "Adam_Sandler/Adam_Sandler_0002.jpg")]
DIFFERENT = [("Abdullah/Abdullah_0002.jpg", "Adam_Sandler/Adam_Sandler_0001.jpg"),
             ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Abel_Pacheco/Abel_Pacheco_0001.jpg")]
SAME_PERSON_CONFIDENCE = 93.0  # docs/api.md: confidence = 100 x calibrated similarity, "true" at FAR 1e-3


# -- the signer, from ctyun.md §5 ----------------------------------------------------------------------


def ctyun_sign(app_secret: str, method: str, path: str, query: str, dt: str, body: bytes) -> str:
    request_str = "\n".join([method, path, query, dt, hashlib.sha1(body).hexdigest()])
    return hmac.new(app_secret.encode("utf-8"), request_str.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(app_key: str, app_secret: str, path: str, body: bytes, dt: str | None = None) -> dict:
    dt = dt or str(int(time.time() * 1000))
    return {"Content-Type": "application/json", "X-CTYUN-DT": dt,
            "Authorization": f"CTYUN {app_key}:{ctyun_sign(app_secret, 'POST', path, '', dt, body)}"}


def test_signer_matches_the_documented_test_vector() -> None:
    body = b'{"data": ["https://img.example.com/a.jpg"]}'
    assert hashlib.sha1(body).hexdigest() == "98feae9da958fc658b7bcaf8dc13c465c3aa92c2"
    assert signed_headers("ak-demo", "sk-demo", "/face/api/v1/face_detect.json", body, "1700000000123")[
        "Authorization"] == "CTYUN ak-demo:e652e90275b025acd66acac6cdde47079e5eda76658f104484ca5787433a933f"


# -- fixtures ------------------------------------------------------------------------------------------


def data_item(raw: bytes, urlsafe: bool = True) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return "data:application/octet-stream;base64," + encode(raw).decode()


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def files(shared_data, tmp_path_factory):
    """(LFW root, base URL of a loopback web server with LFW's photos plus big.jpg over 8 MB)."""
    root = tmp_path_factory.mktemp("ctyun-web")
    lfw = shared_data / "lfw-partial/images"
    for name in LFW[:2]:
        (root / Path(name).name).write_bytes((lfw / name).read_bytes())
    (root / "big.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(9 * 1024 * 1024))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield lfw, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def server(settings, tmp_path_factory):
    """(base URL, the server's settings, the first credential {project_id, ak, sk}) of a real
    server, auth on, on stores of its own (the session's backend: SQLite + local indexes, or
    PostgreSQL + Milvus)."""
    with stores_of_their_own(settings, tmp_path_factory.mktemp("ctyun-data")) as own:
        log = own.data_dir / "server.log"
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {"OPENFRS_URL_ALLOW_HOSTS": '["127.0.0.1"]', "OPENFRS_QPS_DEFAULT": "0",
                                **server_env(own)}.items():
                patch.setenv(name, value)
            proc, url = serve(own.data_dir, settings.model_dir, log)
        try:
            yield url, own, first_credential(log)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def call(server, path: str, payload: object, **kwargs) -> httpx.Response:
    """POST `payload` (JSON, or raw bytes) signed with the server's credential; kwargs: app_key,
    app_secret, dt to sign with instead."""
    url, _, credential = server
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    key, secret = kwargs.get("app_key", credential["ak"]), kwargs.get("app_secret", credential["sk"])
    headers = signed_headers(key, secret, path, body, kwargs.get("dt"))
    return httpx.post(url + path, content=body, headers=headers, timeout=120, trust_env=False)


def ok(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["code"] == 0 and answer["message"] == "成功", answer
    return answer["result"]


def lfw_item(files, name: str) -> str:
    return data_item((files[0] / name).read_bytes())


def usage_and_audit(own: Settings, project_id: str) -> tuple[dict, int]:
    tenancy = Tenancy.from_settings(own)
    try:
        rows = {row["api"]: (row["calls"], row["throttled"], row["errors"])  # by API
                for row in tenancy.usage(project_id)}
        return rows, len(tenancy.audit_events(project_id, limit=1000))
    finally:
        tenancy.close()


# -- what works ----------------------------------------------------------------------------------------


def test_detect_lfw_and_crowd(server, files, shared_data):
    crowd = data_item((shared_data / "crowd/insightface_t1.jpg").read_bytes(), urlsafe=False)
    single, many = ok(call(server, DETECT, {"data": [lfw_item(files, LFW[0]), crowd]}))
    (face,) = single["face_list"]
    box = face["location"]
    assert set(box) == {"left", "top", "width", "height"} and all(isinstance(v, int) for v in box.values())
    assert 40 < box["left"] < 120 and 40 < box["top"] < 120 and 60 < box["width"] < 160
    assert 0.5 < face["face_probability"] <= 1 and single["pic_quality"] == 0
    assert len(many["face_list"]) >= 5 and many["pic_quality"] == 0
    areas = [f["location"]["width"] * f["location"]["height"] for f in many["face_list"]]
    assert areas == sorted(areas, reverse=True)  # largest first


@pytest.mark.parametrize("path", ["/face/api/v1/face_detect.json", "/api/v1/face_detect.json",
                                  "/v1/face_detect.json"])
def test_every_path_spelling_and_url_items(server, files, path):
    _, base = files
    (result,) = ok(call(server, path, {"data": [f"{base}/{Path(LFW[1]).name}"]}))
    assert len(result["face_list"]) == 1 and result["pic_quality"] == 0


def test_attributes_are_age_and_measured_gender_only(server, files):
    results = ok(call(server, ANALYSE, {"data": [lfw_item(files, name) for name in LFW[:3]]}))
    assert len(results) == 3
    for result in results:
        (face,) = result["face_list"]
        assert set(face) <= {"age", "gender", "location"} and "location" in face
        assert isinstance(face["age"], int) and 10 < face["age"] < 90
        assert face.get("gender", "M") in ("M", "F")  # absent when not answered, never a guess
    assert results[1].get("face_list")[0].get("gender") == "M"  # Adam Sandler


def test_compare_pairs(server, files):
    pairs = [[lfw_item(files, a), lfw_item(files, b)] for a, b in SAME + DIFFERENT]
    grey = data_item(encoded(Image.new("RGB", (200, 200), (128, 128, 128)), "JPEG"))
    pairs.append([lfw_item(files, SAME[0][0]), grey])
    results = ok(call(server, COMPARE, {"data": pairs}))
    assert len(results) == len(pairs)
    for result in results[:len(SAME)]:
        assert result["face_compare"] == "true" and SAME_PERSON_CONFIDENCE <= result["confidence"] <= 100
    for result in results[len(SAME):-1]:
        assert result["face_compare"] == "false" and 0 <= result["confidence"] < SAME_PERSON_CONFIDENCE
    for result in results[:-1]:
        assert isinstance(result["confidence"], float) and result["pic_quality"] == 0
        assert round(result["confidence"], 3) == result["confidence"]
    assert results[-1] == {"face_compare": "false", "confidence": 0.0, "pic_quality": 1}  # no face


def test_batch_of_100_answers_each_item_in_order(server, files):
    _, base = files
    bad = {
        3: (data_item(b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200)), 4003),  # undecodable JPEG
        11: ("data:application/octet-stream;base64,@@@ not base64 @@@", 4006),
        17: ("ftp://example.com/a.jpg", 4006),
        23: (data_item(encoded(Image.new("RGB", (5001, 40)), "PNG")), 4008),  # over 5000 px
        29: (data_item(encoded(Image.new("RGB", (20, 20)), "PNG")), 4008),  # under 32 px
        31: (f"{base}/big.jpg", 4009),  # over the size limit
        37: (data_item(encoded(Image.new("RGB", (64, 64)), "GIF")), 4002),
        41: (data_item(b"just some text, not an image"), 4012),
        43: (f"{base}/missing.jpg", 4011),
        47: ("http://10.255.255.1/a.jpg", 4004),  # refused by the SSRF guard
    }
    no_face = data_item(encoded(Image.new("RGB", (200, 200), (128, 128, 128)), "JPEG"))
    items = [lfw_item(files, LFW[i % len(LFW)]) for i in range(100)]
    for index, (item, _) in bad.items():
        items[index] = item
    items[53] = items[59] = no_face
    rgba = Image.open(files[0] / LFW[2]).convert("RGBA")
    items[61] = data_item(encoded(rgba, "PNG"))  # alpha is dropped, not refused
    results = ok(call(server, DETECT, {"data": items}))
    assert len(results) == 100
    for index, result in enumerate(results):
        if index in bad:
            assert result["code"] == bad[index][1], (index, result)
            assert result["face_list"] == [] and result["pic_quality"] == 1 and result["message"]
        elif index in (53, 59):
            assert result == {"face_list": [], "pic_quality": 1}
        else:
            assert len(result["face_list"]) == 1 and "code" not in result, (index, result)


def test_compare_batch_with_a_bad_pair(server, files):
    pairs = [[lfw_item(files, SAME[0][0]), lfw_item(files, SAME[0][1])],
             [lfw_item(files, SAME[0][0]), "data:image/jpeg;base64,%%%"],
             [lfw_item(files, DIFFERENT[0][0]), lfw_item(files, DIFFERENT[0][1])]]
    first, bad, third = ok(call(server, COMPARE, {"data": pairs}))
    assert first["face_compare"] == "true" and third["face_compare"] == "false"
    assert bad["code"] == 4006 and bad["face_compare"] == "false" and bad["confidence"] == 0.0


# -- refusals ------------------------------------------------------------------------------------------


def test_refusals_have_their_code_and_status_and_bill_nothing(server, files):
    """Refused calls are never billed nor audited; the signed ones (the project is known) are
    counted as errors of their API, the unsigned or badly signed ones for no project."""
    url, own, credential = server
    image = lfw_item(files, LFW[0])
    good = {"data": [image]}
    stale = str(int((time.time() - 600) * 1000))
    before = usage_and_audit(own, credential["project_id"])
    cases = [
        (call(server, DETECT, good, app_secret=credential["sk"] + "x"), 401, 4401),  # wrong signature
        (call(server, DETECT, good, dt=stale), 401, 4401),  # X-CTYUN-DT ten minutes old
        (call(server, DETECT, good, dt=str(int(time.time()))), 401, 4401),  # seconds, not milliseconds
        (call(server, DETECT, good, app_key="AKNOSUCHKEY000000000"), 401, 4401),
        (call(server, DETECT, b"{not json"), 200, 4007),
        (call(server, DETECT, {"data": [12]}), 200, 4007),
        (call(server, COMPARE, {"data": [image]}), 200, 4007),  # compare takes pairs
        (call(server, DETECT, {"images": [image]}), 200, 4001),
        (call(server, DETECT, {"data": []}), 200, 4001),
        (call(server, DETECT, {"data": ["data:,x"] * 101}), 200, 4007),  # too many items
        (call(server, DETECT, b'{"data": ["' + b"A" * (9 * 1024 * 1024) + b'"]}'), 200, 4010),
        (httpx.get(url + DETECT, trust_env=False), 405, 4007),
    ]
    unsigned = httpx.post(url + DETECT, json=good, trust_env=False)
    cases.append((unsigned, 401, 4401))
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["code"] == code and response.json()["result"] == [], response.text
        assert response.json()["message"]
    usage, audit_count = usage_and_audit(own, credential["project_id"])
    assert audit_count == before[1]
    # counted: the five detect refusals signed right and read whole (not JSON, [12], "images",
    # [], 101 items) and the compare one; the 9 MB body is refused before its signature is read
    grown = {api: tuple(n - m for n, m in zip(usage[api], before[0].get(api, (0, 0, 0)), strict=True))
             for api in usage if usage[api] != before[0].get(api)}
    assert grown == {"ctyun.face_detect": (0, 0, 5), "ctyun.face_compare": (0, 0, 1)}


def test_the_query_is_signed_as_sent(server, files):
    """QUERY is the raw text after "?", in its order and encoding: reordering it breaks the signature."""
    url, _, credential = server
    body = json.dumps({"data": [lfw_item(files, LFW[0])]}).encode()
    dt = str(int(time.time() * 1000))
    sign = ctyun_sign(credential["sk"], "POST", DETECT, "b=2&a=%2F", dt, body)
    headers = {"Content-Type": "application/json", "X-CTYUN-DT": dt,
               "Authorization": f"CTYUN {credential['ak']}:{sign.upper()}"}  # hex case is free
    assert ok(httpx.post(f"{url}{DETECT}?b=2&a=%2F", content=body, headers=headers, trust_env=False))
    reordered = httpx.post(f"{url}{DETECT}?a=%2F&b=2", content=body, headers=headers, trust_env=False)
    assert reordered.status_code == 401 and reordered.json()["code"] == 4401


def test_disabled_sub_service(server, files):
    url, own, credential = server
    project = credential["project_id"]
    _subscribe(server, "compare", False)
    try:
        before = usage_and_audit(own, project)[0]
        pair = [[lfw_item(files, SAME[0][0]), lfw_item(files, SAME[0][1])]]
        refused = call(server, COMPARE, {"data": pair})
        assert refused.status_code == 403 and refused.json()["code"] == 4403, refused.text
        calls, throttled, errors = before.get("ctyun.face_compare", (0, 0, 0))
        counted = (calls, throttled, errors + 1)  # refused: never billed, counted as an error
        assert usage_and_audit(own, project)[0] == {**before, "ctyun.face_compare": counted}
        assert ok(call(server, DETECT, {"data": [pair[0][0]]}))  # detect is still on
    finally:
        _subscribe(server, "compare", True)
    assert ok(call(server, COMPARE, {"data": pair}))[0]["face_compare"] == "true"


def _subscribe(server, service: str, enabled: bool) -> None:
    _manage(server, "PUT", f"/v1/{server[2]['project_id']}/subscribe/{service}", {"enabled": enabled})


def _manage(server, method: str, path: str, payload: dict) -> None:
    """The FRS management API (OpenFRS extension), signed as the FRS SDK signs."""
    url, _, credential = server
    body = json.dumps(payload).encode()
    host, json_type = url.removeprefix("http://"), {"Content-Type": "application/json"}
    headers = signing.sign(method, host, path, [], json_type, body, credential["ak"], credential["sk"])
    response = httpx.request(method, url + path, content=body, headers=headers, trust_env=False)
    assert response.status_code == 200, response.text


def test_served_calls_are_counted_once_per_call(server, files):
    _, own, credential = server
    before = usage_and_audit(own, credential["project_id"])[0].get("ctyun.face_detect", (0, 0, 0))
    ok(call(server, DETECT, {"data": [lfw_item(files, LFW[0])] * 3}))
    after = usage_and_audit(own, credential["project_id"])[0]["ctyun.face_detect"]
    assert after == (before[0] + 1, 0, before[2])


def test_over_the_project_qps(server, files):
    """4429 with HTTP 429, counted as throttled as an FRS 429 is."""
    _, own, credential = server
    _manage(server, "PUT", f"/v1/{credential['project_id']}/project", {"qps": 0.01})
    try:
        item = {"data": [lfw_item(files, LFW[0])]}
        assert ok(call(server, ANALYSE, item))
        throttled = call(server, ANALYSE, item)
        assert throttled.status_code == 429 and throttled.json()["code"] == 4429, throttled.text
    finally:
        _manage(server, "PUT", f"/v1/{credential['project_id']}/project", {"qps": 0})
    assert usage_and_audit(own, credential["project_id"])[0]["ctyun.face_analyse"][1] == 1


# -- in process, OPENFRS_AUTH=off: the envelope for whatever arrives ---------------------------------


@pytest.mark.parametrize(("body", "code"), [
    (b"", 4007), (b"not json", 4007), (b"[1, 2]", 4007), (b'{"data": NaN}', 4007), (b"[" * 100_000, 4007),
    (b'{"data": "\\ud800"}', 4001), (b'{"data": {"a": 1}}', 4001), (b'{"data": [null]}', 4007),
    (b'{"data": [["a"]]}', 4007),
])
def test_bad_bodies_get_an_envelope_never_a_5xx(client, body, code):
    response = client.post(DETECT, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["code"] == code and answer["result"] == [] and answer["message"], answer


def test_auth_off_serves_unsigned_calls(client, shared_data):
    image = data_item((shared_data / "lfw-partial/images" / LFW[0]).read_bytes())
    response = client.post(ANALYSE, json={"data": [image, "data:;base64,"]})
    first, second = ok(response)
    assert len(first["face_list"]) == 1 and second["code"] == 4006
