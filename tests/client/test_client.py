"""openfrs.client: signing equal to the official signer, typed calls against a real server,
retries against a scripted one, and the `openfrs detect | face-sets | ...` commands.

The real server runs with auth on and a credential made on its data dir, so every call below is
verified by the server too; a wrong SK is refused and a token from /v3/auth/tokens works. Against
the scripted server, every signature the client sends is recomputed with the official
huaweicloudsdkcore Signer from the request as received, and must be equal.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from openfrs import signing
from openfrs.benchmark.http_load import free_port, start_server
from openfrs.client import Client, FRSClientError, FRSConnectionError
from openfrs.client import cli as client_cli
from openfrs.client import http as client_http
from openfrs.service.tenancy import Tenancy

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


# -- a scripted server, for retries -----------------------------------------------------------------

class Scripted(ThreadingHTTPServer):
    """Answers from a script of (status, headers, body); the last entry repeats. Records requests."""

    def __init__(self, script: list[tuple[int, dict[str, str], bytes]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script, self.received = list(script), []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server: Scripted = self.server  # type: ignore[assignment]
        server.received.append({"method": self.command, "target": self.path, "body": body,
                                "headers": {k.lower(): v for k, v in self.headers.items()}})
        status, headers, payload = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def scripted():
    servers = []

    def start(script):
        server = Scripted(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


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


def test_connection_errors_are_retried_then_raised():
    with Client(f"http://127.0.0.1:{free_port()}", "proj", retries=2, backoff=0.25) as client:
        waits: list[float] = []
        client.transport.sleep = waits.append
        with pytest.raises(FRSConnectionError) as caught:
            client.list_face_sets()
    assert waits == [0.25, 0.5] and caught.value.status == 0


def test_token_is_sent_instead_of_a_signature(scripted):
    server = scripted([OK_EMPTY])
    with Client(server.endpoint, "proj", token="tok-123") as client:
        client.list_face_sets()
    headers = server.received[0]["headers"]
    assert headers["x-auth-token"] == "tok-123" and "authorization" not in headers


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


# -- a real server ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(settings, model_pack_dir, tmp_path_factory):
    """A real server with auth on: its URL and a credential (project_id, ak, sk) of project "c"."""
    data_dir = tmp_path_factory.mktemp("client-data")
    tenancy = Tenancy.open(data_dir)
    tenancy.create_project("c")
    credential = tenancy.create_credential("c")
    tenancy.create_user("c", "carol", "carol-password")
    tenancy.close()
    port = free_port()
    proc = start_server(port, data_dir, settings.model_dir,
                        extra_env={"OPENFRS_AUTH": "on", "OPENFRS_QPS_DEFAULT": "0"})
    yield f"http://127.0.0.1:{port}", credential
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def endpoint(live):
    return live[0]


@pytest.fixture
def frs(live):
    url, credential = live
    with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk) as client:
        yield client


def test_a_wrong_secret_key_is_refused_and_a_token_works(live):
    url, credential = live
    with Client(url, credential.project_id, ak=credential.ak, sk=credential.sk[::-1]) as client, \
            pytest.raises(FRSClientError) as caught:
        client.list_face_sets()
    assert (caught.value.status, caught.value.error_code) == (401, "APIG.0301")
    issued = httpx.post(url + "/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": "carol", "password": "carol-password"}}},
        "scope": {"project": {"name": "c"}}}})
    with Client(url, credential.project_id, token=issued.headers["X-Subject-Token"]) as client:
        assert client.list_face_sets() == []


@pytest.fixture(scope="module")
def people(shared_data):
    return shared_data / "lfw-partial/images"


def test_detect_finds_one_face(frs, people):
    faces = frs.detect(people / "Abdullah/Abdullah_0002.jpg", attributes=[1, 2])
    assert len(faces) == 1
    face = faces[0]
    assert face.bounding_box.width > 0 and face.bounding_box.height > 0
    assert face.detection_score is not None and len(face.key_points) == 5
    assert face.attributes is not None and face.attributes["gender"] in ("male", "female")


def test_compare_same_person(frs, people):
    result = frs.compare((people / "Abdullah/Abdullah_0002.jpg").read_bytes(),
                         people / "Abdullah/Abdullah_0003.jpg")
    assert result.similarity > 0.9 and result.image1_face.bounding_box.width > 0


def test_face_set_lifecycle(frs, people):
    created = frs.create_face_set("客户_flow", external_fields={"age": {"type": "integer"}})
    assert created.name == "客户_flow" and created.face_number == 0 and len(created.id) == 8
    assert "客户_flow" in [s.name for s in frs.list_face_sets()]
    ids = {}
    for person, photo, age in (("Abdullah", "Abdullah_0002.jpg", 30),
                               ("Aaron_Eckhart", "Aaron_Eckhart_0001.jpg", 40)):
        added = frs.add_faces("客户_flow", people / person / photo, external_image_id=person,
                              external_fields={"age": age}, single=True)
        assert len(added) == 1 and added[0].external_image_id == person
        ids[person] = added[0].face_id
    assert {f.face_id for f in frs.list_faces("客户_flow", limit=10)} == set(ids.values())
    assert frs.get_face_set("客户_flow").face_number == 2

    hits = frs.search("客户_flow", people / "Abdullah/Abdullah_0003.jpg", top_n=2, return_fields=["age"])
    assert hits[0].face_id == ids["Abdullah"] and hits[0].similarity > 0.9
    assert hits[0].external_image_id == "Abdullah" and hits[0].external_fields == {"age": 30}
    assert frs.search("客户_flow", face_id=ids["Aaron_Eckhart"], top_n=1)[0].face_id == ids["Aaron_Eckhart"]

    assert frs.delete_face("客户_flow", ids["Abdullah"]) == 1
    assert frs.get_face_set("客户_flow").face_number == 1
    frs.delete_face_set("客户_flow")
    assert "客户_flow" not in [s.name for s in frs.list_face_sets()]


def test_missing_face_set_raises_frs_error(frs):
    with pytest.raises(FRSClientError) as caught:
        frs.get_face_set("no_such_set")
    assert caught.value.status == 400 and caught.value.error_code == "FRS.0302"
    assert caught.value.request_id and caught.value.error_msg


def test_live_detect_face(frs, people):
    result = frs.live_detect_face(people / "Abdullah/Abdullah_0002.jpg")
    assert 0 <= result.confidence <= 1 and isinstance(result.alive, bool)
    assert all(isinstance(w.code, int) for w in result.warnings)


# -- the commands -----------------------------------------------------------------------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="openfrs")
    client_cli.add_arguments(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_face_sets_and_detect_print_json(live, people, capsys, monkeypatch):
    endpoint, credential = live
    monkeypatch.setenv("OPENFRS_PROJECT_ID", credential.project_id)
    monkeypatch.setenv("OPENFRS_AK", credential.ak)
    monkeypatch.setenv("OPENFRS_SK", credential.sk)
    assert client_cli.run(parse("face-sets", "--endpoint", endpoint)) == 0
    assert json.loads(capsys.readouterr().out) == {"face_sets": []}

    monkeypatch.setenv("OPENFRS_ENDPOINT", endpoint)
    monkeypatch.delenv("OPENFRS_AK")
    args = parse("detect", str(people / "Abdullah/Abdullah_0002.jpg"), "--ak", credential.ak)
    assert args.func is client_cli.run and args.client_command == "detect"
    assert client_cli.run(args) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert len(faces) == 1 and faces[0]["bounding_box"]["width"] > 0


def test_cli_error_prints_the_frs_code(live, people, capsys):
    endpoint, credential = live
    args = parse("search", "no_such_set", str(people / "Abdullah/Abdullah_0002.jpg"), "--top-n", "1",
                 "--endpoint", endpoint, "--project-id", credential.project_id, "--ak", credential.ak,
                 "--sk", credential.sk)
    assert client_cli.run(args) == 1
    assert capsys.readouterr().err.startswith("FRS.0302: ")
