"""Request ids, the FRS error shape for our own bugs, body limits and multipart edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openfrs.api.app import create_app
from openfrs.api.render import key_points
from openfrs.vision.types import Box, Face

pytestmark = pytest.mark.models

DETECT = "/v2/p0/face-detect"


def test_client_request_id_is_echoed_and_a_bad_one_replaced(client):
    mine = client.post(DETECT, json={}, headers={"x-request-id": "client-id.42"})
    assert mine.headers["x-request-id"] == "client-id.42"
    hostile = client.post(DETECT, json={}, headers={"x-request-id": "a b\tc" + "x" * 300})
    assert hostile.headers["x-request-id"] != "a b\tc" + "x" * 300
    assert len(hostile.headers["x-request-id"]) == 32


def test_a_bug_of_ours_is_frs_0018_with_the_request_id(settings, face_service):
    app = create_app(settings, face_service)

    @app.post("/v2/{project_id}/explode")
    async def explode(project_id: str) -> dict:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.post("/v2/p0/explode", headers={"x-request-id": "trace-me"})
    assert response.status_code == 500
    assert response.json() == {"error_code": "FRS.0018", "error_msg": "The service inner error."}
    assert response.headers["x-request-id"] == "trace-me"


def test_chunked_body_over_the_limit_is_refused(client):
    def chunks():
        for _ in range(9):
            yield b"A" * (1024 * 1024)

    response = client.post(DETECT, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "FRS.0017"


def test_duplicate_multipart_field_is_refused(client):
    files = [("image_file", ("a.jpg", b"x", "image/jpeg")), ("image_file", ("b.jpg", b"y", "image/jpeg"))]
    response = client.post(DETECT, files=files)
    assert response.status_code == 400
    assert response.json()["error_code"] == "FRS.0012"


def test_malformed_multipart_body(client):
    response = client.post(DETECT, content=b"--xyz\r\nnonsense",
                           headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert 400 <= response.status_code < 500
    assert response.json()["error_code"].startswith("FRS.")


def test_key_points_leave_out_points_no_model_computed():
    landmarks = np.array([[1, 2], [3, 4], [5, 6], [math.nan, math.nan], [7, 8]], np.float32)
    points = key_points(Face(box=Box(0, 0, 10, 10), score=0.9, landmarks=landmarks))
    assert [p["type"] for p in points] == ["left_eye", "right_eye", "nose", "mouth_right"]
