"""`openfrs serve` as a real subprocess: the CLI contract and the first thing a newcomer does."""

from __future__ import annotations

import base64
import os
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


def test_a_second_server_on_the_same_data_dir_is_refused(settings, model_pack_dir: Path, tmp_path: Path):
    """The embedded store serves from one process: a second `openfrs serve` on a data dir a live
    server holds exits at once and says why; after the first is killed (-9, no clean-up) the
    data dir is free again."""
    import subprocess
    import sys

    data_dir = tmp_path / "data"
    first = start_server(free_port(), data_dir, settings.model_dir)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "openfrs.cli", "--model-dir", str(settings.model_dir), "serve",
             "--port", str(free_port()), "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=60, env={**os.environ, "OPENFRS_AUTH": "off"})
        assert second.returncode == 1
        assert "in use by openfrs server (pid" in second.stderr and str(data_dir.resolve()) in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.kill()
        first.wait(timeout=20)
    again = start_server(free_port(), data_dir, settings.model_dir)  # the kernel dropped the lock
    again.terminate()
    again.wait(timeout=20)
