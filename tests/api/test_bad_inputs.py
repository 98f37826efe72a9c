"""Every bad input gets its FRS code and a 4xx — never a 500, never a hang."""

from __future__ import annotations

import base64
import io
import socket
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from openfrs.api.app import create_app
from openfrs.config import Settings

pytestmark = pytest.mark.models

DETECT = "/v2/p0/face-detect"
COMPARE = "/v2/p0/face-compare"


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_bomb_header(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG signature + IHDR claiming a huge size, with a tiny IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def face_jpeg(shared_data: Path) -> bytes:
    return (shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg").read_bytes()


def assert_frs_error(response, code: str, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert status is None or response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error_code"] == code, body
    assert body["error_msg"]
    assert response.headers["x-request-id"]


def test_empty_body(client):
    assert_frs_error(client.post(DETECT, content=b"", headers={"content-type": "application/json"}),
                     "FRS.0011")


def test_malformed_json(client):
    assert_frs_error(client.post(DETECT, content=b'{"image_base64": ',
                                 headers={"content-type": "application/json"}), "FRS.0014")


def test_json_that_is_not_an_object(client):
    assert_frs_error(client.post(DETECT, json=["image_base64"]), "FRS.0014")


def test_no_image_field(client):
    assert_frs_error(client.post(DETECT, json={"attributes": "1"}), "FRS.0011")


def test_two_image_fields_at_once(client, face_jpeg):
    body = {"image_base64": b64(face_jpeg), "image_url": "http://127.0.0.1:1/x.jpg"}
    assert_frs_error(client.post(DETECT, json=body), "FRS.0012")


def test_bad_base64(client):
    assert_frs_error(client.post(DETECT, json={"image_base64": "not*base64!!"}), "FRS.0015")


def test_base64_with_data_prefix_is_accepted(client, face_jpeg):
    response = client.post(DETECT, json={"image_base64": "data:image/jpeg;base64," + b64(face_jpeg)})
    assert response.status_code == 200, response.text


def test_text_file_named_jpg(client):
    files = {"image_file": ("photo.jpg", b"hello, I am not a picture\n" * 10, "image/jpeg")}
    assert_frs_error(client.post(DETECT, files=files), "FRS.0016")


def test_truncated_jpeg(client, face_jpeg):
    assert_frs_error(client.post(DETECT, json={"image_base64": b64(face_jpeg[: len(face_jpeg) // 2])}),
                     "FRS.0015")


def test_one_pixel_image(client):
    tiny = encode(Image.new("RGB", (1, 1), (128, 128, 128)), "PNG")
    assert_frs_error(client.post(DETECT, json={"image_base64": b64(tiny)}), "FRS.0013")


def test_decompression_bomb_png(client):
    assert_frs_error(client.post(DETECT, json={"image_base64": b64(png_bomb_header())}), "FRS.0013")


def test_resolution_at_limit_refused(client):
    wide = encode(Image.new("RGB", (4096, 32), (90, 90, 90)), "PNG")
    response = client.post(DETECT, json={"image_base64": b64(wide)})
    assert_frs_error(response, "FRS.0013")
    assert "downscale" in response.json()["error_msg"]


def test_body_over_eight_megabytes(client):
    body = b'{"image_base64": "' + b"A" * (8 * 1024 * 1024 + 10) + b'"}'
    response = client.post(DETECT, content=body, headers={"content-type": "application/json"})
    assert_frs_error(response, "FRS.0017")
    assert "base64" in response.json()["error_msg"] and "multipart image_file" in response.json()["error_msg"]


def test_no_face_in_image(client):
    noise = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    blank = encode(Image.fromarray(noise))
    response = client.post(DETECT, json={"image_base64": b64(blank)})
    assert_frs_error(response, "FRS.0501")
    assert "40 px" in response.json()["error_msg"] and "OPENFRS_MIN_FACE_PX" in response.json()["error_msg"]


def test_compare_without_second_image(client, face_jpeg):
    assert_frs_error(client.post(COMPARE, json={"image1_base64": b64(face_jpeg)}), "FRS.0011")


def test_compare_with_faceless_second_image(client, face_jpeg):
    gray = encode(Image.new("RGB", (200, 200), (120, 120, 120)))
    body = {"image1_base64": b64(face_jpeg), "image2_base64": b64(gray)}
    response = client.post(COMPARE, json=body)
    assert_frs_error(response, "FRS.0501")
    assert "image2: no face" in response.json()["error_msg"]  # says which of the two


def test_silent_liveness_without_a_face_says_so_without_a_dangling_comma(client):
    gray = encode(Image.new("RGB", (200, 200), (120, 120, 120)))
    response = client.post("/v1/p0/live-detect-face", json={"image_base64": b64(gray)})
    assert_frs_error(response, "FRS.0707")
    message = response.json()["error_msg"]
    assert not message.rstrip().endswith(",") and "the image: no face" in message


def test_error_messages_never_end_on_an_empty_slot():
    from openfrs.errors import FRS_ERRORS, FRSError

    for code in FRS_ERRORS:
        message = FRSError(code).message
        assert not message.rstrip().endswith((",", "{}")), (code, message)


def test_bad_attributes_value(client, face_jpeg):
    body = {"image_base64": b64(face_jpeg), "attributes": "1,two"}
    assert_frs_error(client.post(DETECT, json=body), "FRS.0012")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/face.jpg",
    "http://localhost:9/face.jpg",
    "http://[::1]:9/face.jpg",
    "http://2130706433:9/face.jpg",
    "ftp://example.invalid/face.jpg",
    "not a url",
])
def test_forbidden_or_invalid_urls(client, url):
    assert_frs_error(client.post(DETECT, json={"image_url": url}), "FRS.0021")


def test_url_that_never_answers(settings, face_service):
    """A local socket that accepts and stays silent: refused by timeout, not a hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    local = settings.model_copy(update={"url_allow_hosts": ["127.0.0.1"], "url_timeout_s": 1.0})
    try:
        app = create_app(local, face_service)
        with TestClient(app) as silent_client:
            response = silent_client.post(DETECT, json={"image_url": f"http://127.0.0.1:{port}/x.jpg"})
        assert_frs_error(response, "FRS.0021")
        assert "time" in response.json()["error_msg"].lower()
        assert accepted, "the request should have reached the silent server"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_auth_on_refuses_without_credentials(face_service, tmp_path):
    app = create_app(Settings(data_dir=tmp_path, auth="on"), face_service)
    with TestClient(app) as secured:
        response = secured.post(DETECT, json={"image_base64": "x"})
        bad_token = secured.post(DETECT, json={"image_base64": "x"}, headers={"X-Auth-Token": "nope"})
    assert_frs_error(response, "APIG.0301", 401)
    assert_frs_error(bad_token, "FRS.0002", 403)


def test_unknown_route_has_frs_shape(client):
    response = client.post("/v2/p0/no-such-api", json={})
    assert response.status_code == 404
    assert response.json()["error_code"] == "APIG.0101"
