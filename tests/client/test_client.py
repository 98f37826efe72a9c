"""openfrs.client.Client: signing equal to the official signer, retries and error advice against a
scripted server, typed calls against a real one (conftest.py: auth on, so every call is verified by
the server too), and the downscaling of photos too large for the server. The commands are in
test_cli.py.

Against the scripted server, every signature the client sends is recomputed with the official
huaweicloudsdkcore Signer from the request as received, and must be equal.
"""

from __future__ import annotations

import io
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from PIL import Image

from openfrs import signing
from openfrs.benchmark.http_load import free_port
from openfrs.client import Client, FRSClientError, FRSConnectionError, same_person_threshold
from openfrs.client import http as client_http
from openfrs.client.images import fit_image
from openfrs.vision.calibration import FAR_TARGETS

pytestmark = pytest.mark.models

AK, SK = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
DATE = "20240305T101112Z"
HOST = "127.0.0.1:8080"


def official_authorization(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str],
                           body: bytes, host: str = HOST) -> str:
    request = SdkRequest(method=method, schema="http", host=host, resource_path=path,
                         query_params=list(query), header_params={**headers, "X-Sdk-Date": DATE}, body=body)
    Signer(BasicCredentials(AK, SK)).sign(request)
    return request.header_params["Authorization"]


def ours(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes) -> str:
    now = datetime.strptime(DATE, signing.DATE_FORMAT).replace(tzinfo=UTC)
    return signing.sign(method, HOST, path, query, headers, body, AK, SK, now=now)["Authorization"]


# -- signing equivalence (no server) ----------------------------------------------------------------

def test_signing_json_post_with_query_matches_official_signer():
    args = ("POST", "/v2/proj/face-sets/s1/search", [("b", "2"), ("a", "1")],
            {"Content-Type": "application/json;charset=UTF-8", "User-Agent": "openfrs-test",
             "X_Unsigned": "kept out"}, b'{"image_base64":"AAAA","top_n":2}')
    assert ours(*args) == official_authorization(*args)
    assert "x_unsigned" not in ours(*args)


def test_signing_get_with_unsorted_repeated_query_matches_official_signer():
    query = [("offset", "0"), ("limit", "5"), ("face_id", "abc"), ("a", "z"), ("a", "b"), ("Z", "é ~*/")]
    args = ("GET", "/v2/proj/face-sets/s1/faces", query, {"X-Project-Id": "proj"}, b"")
    assert ours(*args) == official_authorization(*args)


@pytest.mark.parametrize("path", ["/v2/proj/face-sets/人脸 集/faces",
                                  "/v2/proj/face-sets/%E4%BA%BA%E8%84%B8%20%E9%9B%86/faces"])
def test_signing_non_ascii_and_space_path_matches_official_signer(path):
    """The raw and the percent-encoded forms of one path sign alike (the client signs the encoded one)."""
    query = [("face_id", "x y")]
    expected = official_authorization("DELETE", "/v2/proj/face-sets/人脸 集/faces", query, {}, b"")
    assert ours("DELETE", path, query, {}, b"") == expected


def test_signing_multipart_unsigned_payload_matches_official_signer():
    """The official signer adds X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD itself for a non-JSON body;
    openfrs.signing.sign takes it as given, so the caller sends it explicitly."""
    body = b'--xyz\r\nContent-Disposition: form-data; name="image_file"\r\n\r\n\xff\xd8\r\n--xyz--\r\n'
    content_type = {"Content-Type": "multipart/form-data; boundary=xyz"}
    expected = official_authorization("POST", "/v2/proj/face-detect", [], dict(content_type), body)
    unsigned = {**content_type, "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}
    got = ours("POST", "/v2/proj/face-detect", [], unsigned, body)
    assert got == expected


# -- a scripted server (conftest.py), for retries and error advice ------------------------------

@pytest.fixture
def ticking_clock(monkeypatch):
    """Each signature gets a date one second later, so a re-signed retry is visibly fresh."""
    start = datetime.now(UTC).replace(microsecond=0)
    ticks = iter(range(1000))
    monkeypatch.setattr(client_http, "_utcnow", lambda: start + timedelta(seconds=next(ticks)))


def assert_officially_signed(received: dict) -> None:
    """Recompute the signature with the official signer from the request as the server got it."""
    headers = received["headers"]
    ak, signed_names, _ = signing.parse_authorization(headers["authorization"])
    assert ak == AK and {"host", "x-sdk-date"} <= set(signed_names)
    assert headers["x-sdk-date"] == headers["x-sdk-date"].strip()
    target = urlsplit(received["target"])
    request = SdkRequest(method=received["method"], schema="http", host=headers["host"],
                         resource_path=target.path,
                         query_params=parse_qsl(target.query, keep_blank_values=True),
                         header_params={name: headers[name] for name in signed_names}, body=received["body"])
    Signer(BasicCredentials(AK, SK)).sign(request)
    assert request.header_params["Authorization"] == headers["authorization"]


OK_EMPTY = (200, {}, b'{"face_sets_info": []}')
TOO_MANY = (429, {"Retry-After": "0", "X-Request-Id": "r-429"},
            b'{"error_code": "FRS.0033", "error_msg": "Too many requests"}')
BROKEN = (500, {"X-Request-Id": "r-500"},
          b'{"error_code": "FRS.0018", "error_msg": "The service inner error."}')


def test_429_is_retried_with_a_fresh_signature_each_time(scripted, ticking_clock):
    server = scripted([TOO_MANY, TOO_MANY, OK_EMPTY])
    with Client(server.endpoint, "proj", ak=AK, sk=SK, backoff=0.001) as client:
        assert client.list_face_sets() == []
    assert len(server.received) == 3
    for received in server.received:
        assert received["target"] == "/v2/proj/face-sets"
        assert_officially_signed(received)
    assert len({r["headers"]["x-sdk-date"] for r in server.received}) == 3


def test_429_after_the_last_retry_raises_with_the_frs_error(scripted):
    server = scripted([TOO_MANY, TOO_MANY, OK_EMPTY])
    with Client(server.endpoint, "proj", ak=AK, sk=SK, retries=1, backoff=0.001) as client, \
            pytest.raises(FRSClientError) as caught:
        client.list_face_sets()
    error = caught.value
    assert (error.status, error.error_code, error.request_id) == (429, "FRS.0033", "r-429")
    assert len(server.received) == 2


def test_5xx_is_retried_and_a_signed_post_body_is_resent_unchanged(scripted, ticking_clock):
    created = (200, {}, json.dumps({"face_set_info": {
        "face_set_name": "s", "face_set_id": "abcd1234", "face_set_capacity": 100000, "face_number": 0,
        "create_date": "2024-03-05 10:11:12", "external_fields": None}}).encode())
    server = scripted([BROKEN, (503, {}, b"<html>busy</html>"), created])
    with Client(server.endpoint, "proj", ak=AK, sk=SK, backoff=0.001) as client:
        face_set = client.create_face_set("s", external_fields={"名": {"type": "string"}})
    assert (face_set.name, face_set.id, face_set.capacity) == ("s", "abcd1234", 100000)
    assert len(server.received) == 3 and len({r["body"] for r in server.received}) == 1
    assert json.loads(server.received[0]["body"]) == {"face_set_name": "s",
                                                      "external_fields": {"名": {"type": "string"}}}
    for received in server.received:
        assert_officially_signed(received)


def test_500_after_the_retries_and_a_non_frs_body(scripted):
    server = scripted([(502, {}, b"<html>bad gateway</html>")])
    with Client(server.endpoint, "proj", retries=2, backoff=0.001) as client, \
            pytest.raises(FRSClientError) as caught:
        client.list_face_sets()
    assert (caught.value.status, caught.value.error_code) == (502, "HTTP.502")
    assert "bad gateway" in caught.value.error_msg and len(server.received) == 3


def test_4xx_is_not_retried_and_retry_after_lengthens_the_wait(scripted):
    server = scripted([(400, {"X-Request-Id": "r1"}, b'{"error_code": "FRS.0302", "error_msg": "no set"}')])
    with Client(server.endpoint, "proj", backoff=0.001) as client, pytest.raises(FRSClientError):
        client.get_face_set("nope")
    assert len(server.received) == 1

    slow = scripted([(429, {"Retry-After": "2"}, b"{}"), OK_EMPTY])
    with Client(slow.endpoint, "proj", backoff=0.001) as client:
        waits: list[float] = []
        client.transport.sleep = waits.append
        client.list_face_sets()
    assert waits == [2.0]


def test_a_refused_connection_fails_at_once_naming_the_url_and_how_to_start_a_server():
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, "proj", retries=3, backoff=0.25) as client:
        waits: list[float] = []
        client.transport.sleep = waits.append
        started = time.monotonic()
        with pytest.raises(FRSConnectionError) as caught:
            client.list_face_sets()
    assert time.monotonic() - started < 1.0 and waits == []  # no retry: nothing listens there
    assert caught.value.status == 0 and url in caught.value.error_msg
    assert "openfrs serve" in caught.value.hint and "OPENFRS_ENDPOINT" in str(caught.value)


def test_timeouts_are_still_retried_then_raised():
    """A server that accepts the connection but never answers: a timeout, retried."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(url, "proj", timeout=0.2, retries=2, backoff=0.01) as client:
            waits: list[float] = []
            client.transport.sleep = waits.append
            with pytest.raises(FRSConnectionError) as caught:
                client.list_face_sets()
    assert waits == [0.01, 0.02] and "Timeout" in caught.value.error_msg


def test_token_is_sent_instead_of_a_signature(scripted):
    server = scripted([OK_EMPTY])
    with Client(server.endpoint, "proj", token="tok-123") as client:
        client.list_face_sets()
    headers = server.received[0]["headers"]
    assert headers["x-auth-token"] == "tok-123" and "authorization" not in headers


def test_without_key_or_token_requests_go_unsigned(scripted, monkeypatch):
    """What a server run with OPENFRS_AUTH=off takes; any other answers 401 (see the live test)."""
    for name in ("OPENFRS_AK", "OPENFRS_SK", "OPENFRS_TOKEN", "OPENFRS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    server = scripted([OK_EMPTY])
    with Client.from_env(server.endpoint, "proj") as client:
        client.list_face_sets()
    headers = server.received[0]["headers"]
    assert "authorization" not in headers and "x-auth-token" not in headers


def test_from_env_names_what_is_missing_and_prefers_what_was_given(monkeypatch):
    for name in ("OPENFRS_AK", "OPENFRS_SK", "OPENFRS_TOKEN", "OPENFRS_PROJECT_ID", "OPENFRS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="OPENFRS_PROJECT_ID.*--project-id"):
        Client.from_env()
    monkeypatch.setenv("OPENFRS_PROJECT_ID", "proj")
    monkeypatch.setenv("OPENFRS_AK", AK)
    with pytest.raises(ValueError, match=r"OPENFRS_AK \(--ak\) is set but OPENFRS_SK \(--sk\) is not"):
        Client.from_env()
    monkeypatch.setenv("OPENFRS_SK", SK)
    monkeypatch.setenv("OPENFRS_TOKEN", "env-token")
    with Client.from_env() as client:  # in the environment, a token wins over keys
        assert (client.transport.ak, client.transport.token) == (None, "env-token")
        assert client.transport.endpoint == "http://127.0.0.1:8080" and client.project_id == "proj"
    with Client.from_env(ak="given-ak") as client:  # a key given wins over the environment's token
        assert (client.transport.ak, client.transport.sk, client.transport.token) == ("given-ak", SK, None)
    with Client.from_env(token="given") as client:
        assert (client.transport.ak, client.transport.token) == (None, "given")


def test_multipart_upload_is_signed_as_the_official_sdk_signs_it(scripted, tmp_path):
    answer = {"face_set_id": "abcd1234", "face_set_name": "s", "faces": []}
    server = scripted([(200, {}, json.dumps(answer).encode())])
    photo = tmp_path / "me.jpg"
    photo.write_bytes(b"\xff\xd8jpeg")
    with Client(server.endpoint, "proj", ak=AK, sk=SK, multipart=True) as client:
        assert client.add_faces("s", photo, external_image_id="me", external_fields={"age": 3},
                                single=True) == []
    received = server.received[0]
    headers = received["headers"]
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert headers["x-sdk-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert_officially_signed(received)
    body = received["body"]
    assert b'name="image_file"; filename="me.jpg"' in body and b"\xff\xd8jpeg" in body
    for name, text in (("external_image_id", b"me"), ("external_fields", b'{"age": 3}'), ("single", b"true")):
        assert f'name="{name}"'.encode() + b"\r\n\r\n" + text + b"\r\n" in body
    assert b"image_base64" not in body


def test_an_over_limit_body_says_how_to_avoid_base64_or_to_shrink_the_file(scripted, tmp_path):
    too_big = (400, {}, b'{"error_code": "FRS.0017", "error_msg": "The body is out of range 8 MB."}')
    server = scripted([too_big])
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8jpeg")
    with Client(server.endpoint, "proj") as client, pytest.raises(FRSClientError) as caught:
        client.detect(photo)
    assert "base64" in caught.value.hint and "multipart=True" in caught.value.hint
    with Client(server.endpoint, "proj", multipart=True) as client, pytest.raises(FRSClientError) as caught:
        client.detect(photo)
    assert f"{photo} is 0.0 MiB" in caught.value.hint and "OPENFRS_MAX_BODY_BYTES" in caught.value.hint


def test_images_and_paths_are_encoded_for_the_wire(scripted, tmp_path):
    server = scripted([(200, {}, b'{"faces": []}')])
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8jpeg")
    with Client(server.endpoint, "proj", ak=AK, sk=SK) as client:
        client.search("人脸 集", photo, top_n=3)
        client.search("s", "https://example.invalid/a.jpg")
        with pytest.raises(TypeError):
            client.detect("not/a/url.jpg")
        with pytest.raises(ValueError):
            client.search("s")
    first, second = server.received
    assert first["target"] == "/v2/proj/face-sets/%E4%BA%BA%E8%84%B8%20%E9%9B%86/search"
    assert json.loads(first["body"]) == {"image_base64": "/9hqcGVn", "top_n": 3}
    assert json.loads(second["body"]) == {"image_url": "https://example.invalid/a.jpg"}
    assert_officially_signed(first)


# -- downscaling (no server) -------------------------------------------------------------------------

def _jpeg(image, **save) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def test_fit_image_leaves_a_small_photo_alone_and_shrinks_a_large_one_upright():
    small = _jpeg(Image.new("RGB", (4095, 20), "white"))
    assert fit_image(small) == (small, None)
    assert fit_image(b"not an image") == (b"not an image", None)

    # Stored 5000x3000 with EXIF orientation 6 (shown turned 90° clockwise): a red band on the
    # stored image's left edge is the displayed image's top.
    stored = Image.new("RGB", (5000, 3000), "white")
    stored.paste((255, 0, 0), (0, 0, 300, 3000))
    exif = Image.Exif()
    exif[0x0112] = 6
    data, size = fit_image(_jpeg(stored, exif=exif))
    assert size == (2457, 4095)
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.size == size and sent.getexif().get(0x0112) in (None, 1)
        top, bottom = sent.convert("RGB").getpixel((1228, 50)), sent.convert("RGB").getpixel((1228, 4000))
    assert top[0] > 200 and top[1] < 60 and min(bottom) > 200


# -- a real server ----------------------------------------------------------------------------------

@pytest.fixture
def frs(live):
    url, credential = live
    with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk) as client:
        yield client


def test_a_wrong_secret_key_is_refused_and_an_issued_token_works(live, carol):
    url, credential = live
    with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk[::-1]) as client, \
            pytest.raises(FRSClientError) as caught:
        client.list_face_sets()
    assert (caught.value.status, caught.value.error_code, caught.value.hint) == (401, "APIG.0301", None)
    with Client(url, credential.project_id) as anonymous:
        issued = anonymous.issue_token(*carol)
        by_name = anonymous.issue_token(*carol, project_name="c")
    assert issued.project_id == by_name.project_id == credential.project_id and issued.project_name == "c"
    with Client(url, credential.project_id, token=issued.token) as client:
        assert isinstance(client.list_face_sets(), list)
    with Client(url, credential.project_id, token="no-such-token") as client, \
            pytest.raises(FRSClientError) as caught:
        client.list_face_sets()
    assert caught.value.error_code == "FRS.0002" and "issue-token" in caught.value.hint


def test_no_credentials_go_unsigned_and_the_401_says_what_to_set(live):
    url, credential = live
    with Client(url, credential.project_id) as client, pytest.raises(FRSClientError) as caught:
        client.list_face_sets()
    assert caught.value.error_code == "APIG.0301"
    for needed in ("OPENFRS_AK", "OPENFRS_SK", "OPENFRS_TOKEN", "openfrs admin create-credential"):
        assert needed in caught.value.hint


def test_detect_finds_one_face(frs, people):
    faces = frs.detect(people / "Abdullah/Abdullah_0002.jpg", attributes=[1, 2])
    assert len(faces) == 1
    face = faces[0]
    assert face.bounding_box.width > 0 and face.bounding_box.height > 0
    assert face.detection_score is not None and len(face.key_points) == 5
    assert face.attributes is not None and face.attributes["gender"] in ("male", "female")


def test_compare_gives_the_same_person_verdict_at_the_calibrated_threshold(frs, people):
    assert same_person_threshold() == FAR_TARGETS[1e-3] == 0.93
    abdullah = people / "Abdullah/Abdullah_0002.jpg"
    same = frs.compare(abdullah.read_bytes(), people / "Abdullah/Abdullah_0003.jpg")
    other = frs.compare(abdullah, people / "Aaron_Eckhart/Aaron_Eckhart_0001.jpg")
    assert same.same_person and same.similarity >= 0.93 and same.image1_face.bounding_box.width > 0
    assert not other.same_person and other.similarity < 0.93


def test_no_face_names_the_image_and_the_smallest_face_searched_for(frs, people, blank_png):
    with pytest.raises(FRSClientError) as caught:
        frs.compare(people / "Abdullah/Abdullah_0002.jpg", blank_png)
    assert caught.value.error_code == "FRS.0501"
    assert f"No face found in {blank_png}." in caught.value.hint and "Abdullah" not in caught.value.hint
    assert "OPENFRS_MIN_FACE_PX" in caught.value.hint and "40 px" in caught.value.hint
    with pytest.raises(FRSClientError) as caught:
        frs.detect(blank_png.read_bytes())
    assert "No face found in the image bytes." in caught.value.hint


def test_a_photo_over_4096_px_is_refused_with_advice_unless_downscale_is_on(live, wide_photo):
    url, credential = live
    with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk) as client, \
            pytest.raises(FRSClientError) as caught:
        client.detect(wide_photo)
    assert caught.value.error_code == "FRS.0013"
    assert f"{wide_photo} is 4400x1100 px" in caught.value.hint and "downscale=True" in caught.value.hint
    with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk, downscale=True,
                multipart=True) as client:
        faces = client.detect(wide_photo)
    box = faces[0].bounding_box  # in the 4095x1024 image sent, where the face is centred at x 2047
    assert len(faces) == 1 and box.width > 250 and abs(box.top_left_x + box.width / 2 - 2047) < 100


def test_face_set_lifecycle(frs, people):
    created = frs.create_face_set("客户_flow", external_fields={"age": {"type": "integer"},
                                                               "dept": {"type": "string"}})
    assert created.name == created.face_set_name == "客户_flow" and created.face_number == 0
    assert len(created.id) == 8 and created.face_set_id == created.id and created.face_set_capacity > 0
    assert "客户_flow" in [s.name for s in frs.list_face_sets()]
    ids = {}
    for person, photo, age, dept in (("Abdullah", "Abdullah_0002.jpg", 30, "it"),
                                     ("Aaron_Eckhart", "Aaron_Eckhart_0001.jpg", 40, "it"),
                                     ("Abdullah_2", "Abdullah_0004.jpg", 50, "hr")):
        added = frs.add_faces("客户_flow", people / person.split("_2")[0] / photo, external_image_id=person,
                              external_fields={"age": age, "dept": dept}, single=True)
        assert len(added) == 1 and added[0].external_image_id == person
        ids[person] = added[0].face_id
    assert {f.face_id for f in frs.list_faces("客户_flow", limit=10)} == set(ids.values())
    assert frs.get_face_set("客户_flow").face_number == 3

    hits = frs.search("客户_flow", people / "Abdullah/Abdullah_0003.jpg", top_n=2, return_fields=["age"])
    assert hits[0].face_id in (ids["Abdullah"], ids["Abdullah_2"]) and hits[0].similarity > 0.9
    assert set(hits[0].external_fields) == {"age"}
    assert frs.search("客户_flow", face_id=ids["Aaron_Eckhart"], top_n=1)[0].face_id == ids["Aaron_Eckhart"]
    ordered = frs.search("客户_flow", people / "Abdullah/Abdullah_0003.jpg", threshold=0.9,
                         filter="dept:it || dept:hr", sort={"age": "desc"})
    assert [h.external_fields["age"] for h in ordered] == [50, 30]  # Aaron is under the threshold

    assert frs.update_face("客户_flow", ids["Abdullah"], external_fields={"age": 31}) == 1
    assert frs.get_face("客户_flow", ids["Abdullah"]).external_fields == {"age": 31, "dept": "it"}
    assert frs.delete_faces("客户_flow", external_image_id="Abdullah_2") == 1
    assert frs.delete_faces("客户_flow", field=("age", 40)) == 1
    assert frs.batch_delete_faces("客户_flow", "dept:it") == 1
    with pytest.raises(FRSClientError) as caught:
        frs.batch_delete_faces("客户_flow", "dept:it")
    assert caught.value.error_code == "FRS.0407"
    assert frs.get_face_set("客户_flow").face_number == 0
    frs.delete_face_set("客户_flow")
    assert "客户_flow" not in [s.name for s in frs.list_face_sets()]


def test_delete_face_by_id(frs, people):
    frs.create_face_set("by_id")
    face_id = frs.add_faces("by_id", people / "Abdullah/Abdullah_0002.jpg")[0].face_id
    assert frs.delete_face("by_id", face_id) == 1
    with pytest.raises(ValueError):
        frs.delete_faces("by_id", face_id=face_id, external_image_id="x")
    frs.delete_face_set("by_id")


def test_missing_face_set_raises_frs_error(frs):
    with pytest.raises(FRSClientError) as caught:
        frs.get_face_set("no_such_set")
    assert caught.value.status == 400 and caught.value.error_code == "FRS.0302"
    assert caught.value.request_id and caught.value.error_msg


def test_live_detect_face(frs, people):
    result = frs.live_detect_face(people / "Abdullah/Abdullah_0002.jpg")
    assert 0 <= result.confidence <= 1 and isinstance(result.alive, bool)
    assert all(isinstance(w.code, int) for w in result.warnings)


def test_live_detect_an_action_video_as_base64_and_as_multipart(live, turn_right_clip):
    url, credential = live
    for multipart in (False, True):
        with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk,
                    multipart=multipart) as client:
            result = client.live_detect(turn_right_clip, [2])
        assert result.alive, result
        assert [a.action for a in result.actions] == [2] and result.actions[0].confidence > 0.5
        assert isinstance(result.blink_count, int) and result.blink_count >= 0
