"""Fixtures for the media tests: real encoded images, loopback-only HTTP servers, socket traps.

Network rule: every server here binds 127.0.0.x, and every test that exercises a refusal also
makes sure that no socket could be connected even if the guard were broken.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import numpy as np
import pytest
from PIL import Image

ImageFactory = Callable[..., bytes]
Route = Callable[[BaseHTTPRequestHandler], None]


def _gradient(width: int, height: int) -> np.ndarray:
    """A deterministic, non-uniform RGB test picture."""
    ys, xs = np.mgrid[0:height, 0:width]
    r = (xs * 255 // max(width - 1, 1)).astype(np.uint8)
    g = (ys * 255 // max(height - 1, 1)).astype(np.uint8)
    b = ((xs + ys) % 256).astype(np.uint8)
    return np.stack([r, g, b], axis=2)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def gradient() -> Callable[[int, int], np.ndarray]:
    """gradient(width, height) -> the HxWx3 uint8 picture make_image encodes."""
    return _gradient


@pytest.fixture
def encode() -> Callable[..., bytes]:
    """encode(pil_image, fmt, **save_options) -> bytes."""
    return _encode


@pytest.fixture
def make_image() -> ImageFactory:
    """make_image(fmt, width=64, height=48, **save_options) -> encoded bytes of a gradient."""

    def factory(fmt: str, width: int = 64, height: int = 48, **options: object) -> bytes:
        return _encode(Image.fromarray(_gradient(width, height)), fmt, **options)

    return factory


@dataclass
class LocalHTTPServer:
    """A threaded HTTP/1.0 server on 127.0.0.x that counts connections and records requests."""

    host: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    connections: int = 0
    request_headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, body: bytes, status: int = 200) -> None:
        """Answer GET path with body and a Content-Length."""

        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = route

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = route

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                outer.request_headers.append(dict(self.headers.items()))
                route = outer.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                # The client may hang up early, as the size-cap tests expect.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: object, client_address: object) -> bool:
                outer.connections += 1
                return True

            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self._server = Server((self.host, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    server = LocalHTTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def second_loopback_server() -> Iterator[LocalHTTPServer]:
    """A server on 127.0.0.2, used as a redirect target that must never be reached."""
    server = LocalHTTPServer(host="127.0.0.2")
    server.start()
    yield server
    server.stop()


@dataclass
class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    port: int = 0
    accepted: list[socket.socket] = field(default_factory=list)

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self._listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def no_socket_connect(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Make any outgoing socket connect fail loudly, and record the attempted addresses."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise AssertionError(f"a socket tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Belt and braces: sockets may only connect to 127.0.0.1/::1, and names are never looked up."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"test tried to connect to {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ip_address(host.decode() if isinstance(host, bytes) else host)
        except (ValueError, TypeError, AttributeError) as exc:
            raise AssertionError(f"test tried a DNS lookup of {host!r}") from exc
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
