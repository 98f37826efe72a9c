"""kill -9 in the middle of a stream of adds: every acknowledged face is there after a restart,
with its fields and found by search; after a clean stop the snapshotted index answers a
restarted server exactly as before."""

from __future__ import annotations

import base64
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from openfrs.benchmark.http_load import free_port, start_server

pytestmark = pytest.mark.models


def test_acknowledged_adds_survive_kill_9(settings, model_pack_dir, shared_data, tmp_path: Path):
    data_dir = tmp_path / "data"
    photos = sorted((shared_data / "lfw-partial/images").glob("A*/*_0001.jpg"))[:60]
    probes = sorted((shared_data / "lfw-partial/images").glob("A*/*_0002.jpg"))[:5]
    port = free_port()
    server = start_server(port, data_dir, settings.model_dir)
    base = f"http://127.0.0.1:{port}/v2/p1/face-sets"
    acknowledged: dict[str, dict] = {}
    try:
        httpx.post(base, json={"face_set_name": "s", "external_fields": {"n": {"type": "integer"}}},
                   timeout=30).raise_for_status()

        def killer() -> None:  # kill while adds are in flight, not between them
            while len(acknowledged) < 20:
                threading.Event().wait(0.01)
            os.kill(server.pid, signal.SIGKILL)

        threading.Thread(target=killer, daemon=True).start()
        with httpx.Client(timeout=30) as client:
            for n, photo in enumerate(photos):
                try:
                    response = client.post(f"{base}/s/faces", json={
                        "image_base64": base64.b64encode(photo.read_bytes()).decode(),
                        "external_fields": {"n": n}, "single": True})
                except httpx.HTTPError:
                    break  # the server is gone: this add was never acknowledged
                if response.status_code == 200:
                    face = response.json()["faces"][0]
                    acknowledged[face["face_id"]] = face
    finally:
        server.kill()
        server.wait()
    assert 20 <= len(acknowledged) < len(photos), "the kill should land mid-stream"

    port = free_port()
    server = start_server(port, data_dir, settings.model_dir)
    base = f"http://127.0.0.1:{port}/v2/p1/face-sets"
    try:
        with httpx.Client(timeout=30) as client:
            for face_id, face in acknowledged.items():
                shown = client.get(f"{base}/s/faces", params={"face_id": face_id})
                assert shown.status_code == 200, face_id
                assert shown.json()["faces"][0] == face
                hit = client.post(f"{base}/s/search", json={"face_id": face_id, "top_n": 1})
                assert hit.json()["faces"][0]["face_id"] == face_id
            info = client.get(f"{base}/s").json()["face_set_info"]
            assert info["face_number"] >= len(acknowledged)
            assert info["external_fields"] == {"n": {"type": "integer"}}
            before = searches(client, f"{base}/s/search", probes)
    finally:
        server.terminate()  # a clean stop: the index is snapshotted
        server.wait(timeout=20)
    assert [p.name for p in (data_dir / "indexes").iterdir()], "no index snapshot written"

    port = free_port()
    server = start_server(port, data_dir, settings.model_dir)
    try:
        with httpx.Client(timeout=30) as client:
            after = searches(client, f"http://127.0.0.1:{port}/v2/p1/face-sets/s/search", probes)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert after == before  # same faces, order and similarities from the snapshot


def searches(client: httpx.Client, url: str, probes: list[Path]) -> list[list]:
    """Every hit (face_id, similarity) of a top-10 search per probe image."""
    out = []
    for probe in probes:
        response = client.post(url, json={"image_base64": base64.b64encode(probe.read_bytes()).decode(),
                                          "top_n": 10})
        assert response.status_code == 200, response.text
        out.append([(f["face_id"], f["similarity"]) for f in response.json()["faces"]])
    return out
