"""What the client tests (SDK and commands) share: one real server, auth on, with a credential
made on its data dir, so every call is verified by the server too; a scripted server that records
what it receives; and the images the tests send."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openfrs.benchmark.http_load import free_port, start_server
from openfrs.service.tenancy import Tenancy

USER, PASSWORD = "carol", "carol-password"


@pytest.fixture(scope="package")
def live(settings, model_pack_dir, tmp_path_factory):
    """A real server with auth on: its URL and a credential (project_id, ak, sk) of project "c",
    whose user carol has PASSWORD."""
    data_dir = tmp_path_factory.mktemp("client-data")
    tenancy = Tenancy.open(data_dir)
    tenancy.create_project("c")
    credential = tenancy.create_credential("c")
    tenancy.create_user("c", USER, PASSWORD)
    tenancy.close()
    port = free_port()
    proc = start_server(port, data_dir, settings.model_dir,
                        extra_env={"OPENFRS_AUTH": "on", "OPENFRS_QPS_DEFAULT": "0"})
    yield f"http://127.0.0.1:{port}", credential
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="package")
def carol() -> tuple[str, str]:
    """The live server's user: (name, password)."""
    return USER, PASSWORD


@pytest.fixture(scope="package")
def people(shared_data) -> Path:
    return shared_data / "lfw-partial/images"


@pytest.fixture(scope="package")
def blank_png(tmp_path_factory) -> Path:
    """A white picture: no face in it."""
    path = tmp_path_factory.mktemp("images") / "blank.png"
    Image.new("RGB", (200, 200), "white").save(path)
    return path


@pytest.fixture(scope="package")
def wide_photo(people, tmp_path_factory) -> Path:
    """A 4400x1100 JPEG with one face of ~1000 px: over the server's 4096 px side limit."""
    face = Image.open(people / "Abdullah/Abdullah_0002.jpg").convert("RGB").resize((1000, 1000))
    canvas = Image.new("RGB", (4400, 1100), (128, 128, 128))
    canvas.paste(face, (1700, 50))
    path = tmp_path_factory.mktemp("images") / "wide.jpg"
    canvas.save(path, quality=85)
    return path


@pytest.fixture(scope="package")
def turn_right_clip(shared_data) -> bytes:
    """A still followed by its mirror image: action 2 (turn right), as tests/api/test_live_detect.py."""
    from openfrs.evaluation.clips import encode_clip, on_canvas

    photo = Image.open(shared_data / "liveness-stills/pose/left_face.jpeg").convert("RGB")
    still = on_canvas(np.asarray(photo))
    return encode_clip([still] * 10 + [np.ascontiguousarray(still[:, ::-1])] * 15, fps=10)


# -- a scripted server ----------------------------------------------------------------------------

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
