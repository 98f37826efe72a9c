"""`openfrs serve` as a real subprocess: the CLI contract and the first thing a newcomer does."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from openfrs.benchmark.http_load import free_port, start_server

pytestmark = pytest.mark.models


def test_serve_answers_face_detect_on_the_crowd_photo(settings, model_pack_dir: Path, shared_data,
                                                      tmp_path: Path):
    port = free_port()
    proc = start_server(port, tmp_path / "data", settings.model_dir)
    try:
        image = (shared_data / "crowd/insightface_t1.jpg").read_bytes()
        response = httpx.post(f"http://127.0.0.1:{port}/v2/demo/face-detect",
                              json={"image_base64": base64.b64encode(image).decode()}, timeout=60)
        assert response.status_code == 200, response.text
        assert len(response.json()["faces"]) >= 5
        assert response.headers["x-request-id"]
        assert (tmp_path / "data").is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
