"""image_url fetching and its SSRF guard (openfrs.media.fetch).

Network rule: the only sockets these tests connect are to 127.0.0.1 or ::1. The autouse
`loopback_only` fixture (conftest) enforces it: any other connect, or any DNS lookup of a name,
fails the test. Refusal tests add a trap that fails on ANY connect, and private addresses only
ever appear behind a fake resolver and a recording transport that never opens a socket.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Coroutine, Sequence
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media.decode import ImageLimits, decode_image
from openfrs.media.fetch import fetch_url, system_resolver

BODY = b"\x89PNG\r\n\x1a\n pretend image bytes " * 10


def run(coro: Coroutine[Any, Any, bytes]) -> bytes:
    return asyncio.run(coro)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "url_timeout_s": 3.0,
        "url_allow_hosts": [],
        "url_max_redirects": 3,
        "max_body_bytes": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)


LOCAL = make_settings(url_allow_hosts=["127.0.0.1"])


class FakeResolver:
    """Answers from a table and records every lookup; unknown names fail the test."""

    def __init__(self, table: dict[str, Sequence[str]] | None = None) -> None:
        self.table = table or {}
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        if host not in self.table:
            raise AssertionError(f"unexpected DNS lookup of {host!r}")
        return self.table[host]


class RecordingTransport(httpx.AsyncBaseTransport):
    """A transport that must never be used: it records the request and fails the test."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise AssertionError(f"a request was sent to {request.url}")


def expect_frs(code: str, coro: Coroutine[Any, Any, bytes]) -> FRSError:
    with pytest.raises(FRSError) as err:
        run(coro)
    assert err.value.code == code, err.value.message
    return err.value


# (a) success paths -------------------------------------------------------------------------


def test_fetches_from_allow_listed_local_server(http_server) -> None:
    http_server.serve("/face.png", BODY)
    assert run(fetch_url(http_server.url("/face.png"), LOCAL)) == BODY
    assert http_server.request_headers[0]["Host"] == f"127.0.0.1:{http_server.port}"


def test_allow_listed_name_is_pinned_to_its_resolved_address(http_server) -> None:
    """One lookup per hop; the connection goes to that IP while Host keeps the real name."""
    http_server.serve("/face.png", BODY)
    resolver = FakeResolver({"images.test": ["127.0.0.1"]})
    settings = make_settings(url_allow_hosts=["images.test"])
    url = f"http://images.test:{http_server.port}/face.png"
    assert run(fetch_url(url, settings, resolver=resolver)) == BODY
    assert resolver.calls == [("images.test", http_server.port)]
    assert http_server.request_headers[0]["Host"] == f"images.test:{http_server.port}"


def test_localhost_is_fetched_only_when_allow_listed_by_name(http_server) -> None:
    http_server.serve("/face.png", BODY)
    resolver = FakeResolver({"localhost": ["127.0.0.1"]})
    settings = make_settings(url_allow_hosts=["localhost"])
    url = f"http://localhost:{http_server.port}/face.png"
    assert run(fetch_url(url, settings, resolver=resolver)) == BODY


def test_relative_redirect_on_allowed_server_is_followed(http_server) -> None:
    http_server.redirect("/start", "/face.png")
    http_server.serve("/face.png", BODY)
    assert run(fetch_url(http_server.url("/start"), LOCAL)) == BODY
    assert http_server.connections == 2


def test_https_pins_ip_with_host_header_and_sni() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=BODY)

    resolver = FakeResolver({"images.test": ["127.0.0.1"]})
    settings = make_settings(url_allow_hosts=["127.0.0.1"])
    transport = httpx.MockTransport(handler)
    data = run(
        fetch_url("https://images.test/a.png", settings, resolver=resolver, transport=transport)
    )
    assert data == BODY
    (request,) = seen
    assert request.url.scheme == "https"
    assert request.url.host == "127.0.0.1"
    assert request.headers["host"] == "images.test"
    assert request.extensions["sni_hostname"] == "images.test"


def test_ipv6_pin_and_fallback_to_next_validated_address() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == "::1":
            raise httpx.ConnectError("unreachable", request=request)
        return httpx.Response(200, content=BODY)

    resolver = FakeResolver({"dual.test": ["::1", "127.0.0.1"]})
    settings = make_settings(url_allow_hosts=["::1", "127.0.0.1"])
    url = "http://dual.test:8080/a.png"
    transport = httpx.MockTransport(handler)
    assert run(fetch_url(url, settings, resolver=resolver, transport=transport)) == BODY
    assert seen == ["::1", "127.0.0.1"]


def test_system_resolver_returns_addresses_for_numeric_host() -> None:
    answers = asyncio.run(system_resolver("127.0.0.1", 80))
    assert "127.0.0.1" in answers


# (b) loopback targets refused when not allow-listed ----------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "127.1",
        "0",
        "[::]",
    ],
)
def test_loopback_targets_are_refused_before_connecting(
    http_server, no_socket_connect, host: str
) -> None:
    http_server.serve("/face.png", BODY)
    url = f"http://{host}:{http_server.port}/face.png"
    error = expect_frs("FRS.0021", fetch_url(url, make_settings(), resolver=FakeResolver()))
    assert "not allowed" in error.message or "malformed" in error.message  # httpx rejects 0177.*
    assert http_server.connections == 0
    assert no_socket_connect == []


# (c) names resolving to internal addresses --------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("192.168.1.1", "private"),
        ("172.16.5.4", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("::ffff:10.0.0.1", "private"),
        ("fe80::1", "link-local"),
    ],
)
def test_names_resolving_to_internal_addresses_are_refused(
    no_socket_connect, address: str, reason: str
) -> None:
    resolver = FakeResolver({"images.example.test": [address]})
    transport = RecordingTransport()
    error = expect_frs(
        "FRS.0021",
        fetch_url(
            "http://images.example.test/face.jpg",
            make_settings(),
            resolver=resolver,
            transport=transport,
        ),
    )
    assert address.removeprefix("::ffff:") in error.message
    assert reason in error.message
    assert transport.requests == []
    assert no_socket_connect == []


def test_internal_answer_is_refused_with_the_default_transport_too(no_socket_connect) -> None:
    resolver = FakeResolver({"images.example.test": ["10.0.0.1"]})
    expect_frs(
        "FRS.0021", fetch_url("http://images.example.test/", make_settings(), resolver=resolver)
    )
    assert no_socket_connect == []


def test_one_internal_answer_among_allowed_ones_condemns_the_host(no_socket_connect) -> None:
    resolver = FakeResolver({"mixed.test": ["127.0.0.1", "10.0.0.1"]})
    transport = RecordingTransport()
    error = expect_frs(
        "FRS.0021", fetch_url("http://mixed.test/", LOCAL, resolver=resolver, transport=transport)
    )
    assert "10.0.0.1" in error.message
    assert transport.requests == []


@pytest.mark.parametrize(
    "answer",
    [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), [], ["not-an-ip"]],
)
def test_unresolvable_hosts_are_frs_0021(no_socket_connect, answer: Any) -> None:
    async def resolver(host: str, port: int) -> Sequence[str]:
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = RecordingTransport()
    url = "http://nowhere.test/"
    expect_frs("FRS.0021", fetch_url(url, LOCAL, resolver=resolver, transport=transport))
    assert transport.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/face.jpg",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "//127.0.0.1/face.jpg",
        "images.test/face.jpg",
        "http://user:secret@127.0.0.1/face.jpg",
        "http://",
        "http://[::1/",
        "http://1.2.3.4.5/",
        "http://exa mple.test/",
        "",
        "http://127.0.0.1/" + "a" * 5000,
    ],
)
def test_bad_urls_are_frs_0021(no_socket_connect, url: str) -> None:
    transport = RecordingTransport()
    expect_frs("FRS.0021", fetch_url(url, LOCAL, resolver=FakeResolver(), transport=transport))
    assert transport.requests == []


# (d) timeouts ----------------------------------------------------------------------------------


def test_server_that_never_answers_times_out(silent_server) -> None:
    settings = make_settings(url_allow_hosts=["127.0.0.1"], url_timeout_s=0.5)
    url = f"http://127.0.0.1:{silent_server.port}/face.jpg"
    started = time.monotonic()
    error = expect_frs("FRS.0021", fetch_url(url, settings))
    elapsed = time.monotonic() - started
    assert "timed out" in error.message
    assert elapsed < 1.0
    assert silent_server.accepted  # it really connected, then waited


def test_slow_resolver_counts_against_the_timeout() -> None:
    async def slow(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(10)
        return ["127.0.0.1"]

    settings = make_settings(url_allow_hosts=["127.0.0.1"], url_timeout_s=0.2)
    started = time.monotonic()
    error = expect_frs("FRS.0021", fetch_url("http://slow.test/", settings, resolver=slow))
    assert "timed out" in error.message
    assert time.monotonic() - started < 1.0


# (e) size cap ----------------------------------------------------------------------------------


def _stream_without_length(total: int) -> Any:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()  # HTTP/1.0, no Content-Length: the body ends when we close
        chunk = b"\xab" * 65536
        for _ in range(total // len(chunk)):
            handler.wfile.write(chunk)

    return route


def test_declared_oversize_body_is_frs_0017(http_server) -> None:
    http_server.serve("/big", b"x" * 50_000)
    settings = make_settings(url_allow_hosts=["127.0.0.1"], max_body_bytes=10_000)
    error = expect_frs("FRS.0017", fetch_url(http_server.url("/big"), settings))
    assert "10000 bytes" in error.message


def test_streamed_oversize_body_is_frs_0017(http_server) -> None:
    http_server.routes["/stream"] = _stream_without_length(4 * 1024 * 1024)
    settings = make_settings(url_allow_hosts=["127.0.0.1"], max_body_bytes=100 * 1024)
    error = expect_frs("FRS.0017", fetch_url(http_server.url("/stream"), settings))
    assert "100KB" in error.message


def test_body_exactly_at_the_cap_is_accepted(http_server) -> None:
    http_server.serve("/edge", b"y" * 10_000)
    settings = make_settings(url_allow_hosts=["127.0.0.1"], max_body_bytes=10_000)
    assert len(run(fetch_url(http_server.url("/edge"), settings))) == 10_000


# (f) redirects ---------------------------------------------------------------------------------


def test_redirect_to_other_loopback_address_is_refused_before_connecting(
    http_server, second_loopback_server
) -> None:
    second_loopback_server.serve("/face.png", BODY)
    http_server.redirect("/hop", second_loopback_server.url("/face.png"))
    error = expect_frs("FRS.0021", fetch_url(http_server.url("/hop"), LOCAL))
    assert "127.0.0.2" in error.message
    assert http_server.connections == 1
    assert second_loopback_server.connections == 0


@pytest.mark.parametrize(
    "location",
    ["http://localhost/", "http://[::1]/", "http://2130706433/", "file:///etc/passwd"],
)
def test_redirect_to_forbidden_targets_is_refused(http_server, location: str) -> None:
    http_server.redirect("/hop", location)
    expect_frs("FRS.0021", fetch_url(http_server.url("/hop"), LOCAL, resolver=FakeResolver()))
    assert http_server.connections == 1


def test_redirect_loop_stops_after_the_limit(http_server) -> None:
    http_server.redirect("/loop", "/loop", status=307)
    settings = make_settings(url_allow_hosts=["127.0.0.1"], url_max_redirects=2)
    error = expect_frs("FRS.0021", fetch_url(http_server.url("/loop"), settings))
    assert "redirects" in error.message
    assert http_server.connections == 3


def test_redirect_without_location_is_refused(http_server) -> None:
    def no_location(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.end_headers()

    http_server.routes["/hop"] = no_location
    expect_frs("FRS.0021", fetch_url(http_server.url("/hop"), LOCAL))


# other HTTP failures -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 403, 500])
def test_non_2xx_is_frs_0021(http_server, status: int) -> None:
    http_server.serve("/x", b"nope", status=status)
    error = expect_frs("FRS.0021", fetch_url(http_server.url("/x"), LOCAL))
    assert str(status) in error.message


def test_connection_refused_is_frs_0021() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    expect_frs("FRS.0021", fetch_url(f"http://127.0.0.1:{port}/", LOCAL))


def test_protocol_garbage_is_frs_0021() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("garbage", request=request)

    transport = httpx.MockTransport(handler)
    expect_frs("FRS.0021", fetch_url("http://127.0.0.1/", LOCAL, transport=transport))


# (g) internationalised host names: always handled in their IDNA (A-label) form -----------------


@pytest.mark.parametrize("host", ["bücher.de", "BÜCHER.de", "xn--bcher-kva.de", "XN--BCHER-KVA.DE"])
def test_idn_host_is_resolved_and_fetched_in_its_idna_form(
    http_server, make_image, host: str
) -> None:
    image = make_image("PNG", 40, 30)
    http_server.serve("/a.png", image)
    resolver = FakeResolver({"xn--bcher-kva.de": ["127.0.0.1"]})
    url = f"http://{host}:{http_server.port}/a.png"
    data = run(fetch_url(url, LOCAL, resolver=resolver))
    assert data == image
    assert decode_image(data, ImageLimits()).shape == (30, 40, 3)
    assert resolver.calls == [("xn--bcher-kva.de", http_server.port)]
    assert http_server.request_headers[0]["Host"] == f"xn--bcher-kva.de:{http_server.port}"


@pytest.mark.parametrize("entry", ["bücher.de", "xn--bcher-kva.de"])
def test_idn_host_can_be_allow_listed_in_either_form(http_server, make_image, entry: str) -> None:
    image = make_image("PNG", 40, 30)
    http_server.serve("/a.png", image)
    resolver = FakeResolver({"xn--bcher-kva.de": ["127.0.0.1"]})
    settings = make_settings(url_allow_hosts=[entry])  # the name, not 127.0.0.1
    assert run(fetch_url(f"http://bücher.de:{http_server.port}/a.png", settings, resolver=resolver)) == image


def test_a_label_that_httpx_cannot_decode_is_still_fetched(http_server, make_image) -> None:
    """xn--ls8h.la is U+1F4A9 .la: not valid IDNA 2008, so httpx's URL.host raises decoding it."""
    image = make_image("PNG", 40, 30)
    http_server.serve("/a.png", image)
    resolver = FakeResolver({"xn--ls8h.la": ["127.0.0.1"]})
    url = f"http://xn--ls8h.la:{http_server.port}/a.png"
    assert run(fetch_url(url, LOCAL, resolver=resolver)) == image
    assert resolver.calls == [("xn--ls8h.la", http_server.port)]
    assert http_server.request_headers[0]["Host"] == f"xn--ls8h.la:{http_server.port}"


@pytest.mark.parametrize(
    "url", ["http://xn--ls8h.la/", "https://xn--ls8h.la/", "http://\U0001f4a9.la/", "http://xn--/"]
)
def test_undecodable_a_labels_are_frs_0021_when_refused(no_socket_connect, url: str) -> None:
    resolver = FakeResolver({"xn--ls8h.la": ["10.0.0.1"]})
    transport = RecordingTransport()
    expect_frs("FRS.0021", fetch_url(url, make_settings(), resolver=resolver, transport=transport))
    assert transport.requests == []


@pytest.mark.parametrize(
    "location",
    [
        b"http://xn--ls8h.la/",
        b"//xn--ls8h.la/a.png",
        b"http://xn--ls8h.la:-1/",
        b"http://xn--zz.de/",
        b"http://xn--/",
        "http://\U0001f4a9.la/".encode(),
        b"http://b\xfccher.de/",  # latin-1 on the wire
        b"http://xn--bcher-kva.de./",
        b"http://\xff\xfe/",
        b"http://[fe80::1%25\xe9]/",
        b"http://%00/",
        b"http://exa mple.test/",
        b"http://[::1/",
        b"http://[::1]:99999/",
        b"http://images.test:0/",
        b"http://1.2.3.4.5/",
    ],
)
def test_redirects_to_odd_hosts_are_frs_0021(no_socket_connect, location: bytes) -> None:
    """Whatever a server puts in Location, the answer is FRS.0021, never an uncaught exception."""
    sent: list[str] = []
    looked_up: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        if len(sent) > 1:
            raise AssertionError(f"the redirect was followed to {request.url}")
        return httpx.Response(302, headers=[(b"Location", location)])

    async def internal_resolver(host: str, port: int) -> Sequence[str]:
        looked_up.append(host)
        return ["10.0.0.1"]  # any name the guard lets through to DNS resolves somewhere internal

    transport = httpx.MockTransport(handler)
    fetch = fetch_url("http://127.0.0.1/start", LOCAL, resolver=internal_resolver, transport=transport)
    expect_frs("FRS.0021", fetch)
    assert sent == ["http://127.0.0.1/start"]
    assert all(host.isascii() for host in looked_up)


# (h) ports --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["images.test", "127.0.0.1", "[::1]"])
@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1"])
def test_ports_outside_1_to_65535_are_refused_before_resolving(
    no_socket_connect, host: str, port: str
) -> None:
    resolver = FakeResolver({"images.test": ["127.0.0.1"]})
    transport = RecordingTransport()
    settings = make_settings(url_allow_hosts=["127.0.0.1", "::1"])
    url = f"http://{host}:{port}/a.png"
    error = expect_frs("FRS.0021", fetch_url(url, settings, resolver=resolver, transport=transport))
    assert f"port {port}" in error.message
    assert resolver.calls == []
    assert transport.requests == []


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("http://images.test/a.png", 80),
        ("http://images.test:80/a.png", 80),
        ("https://images.test/a.png", 443),
        ("http://images.test:443/a.png", 443),
        ("https://images.test:80/a.png", 80),
        ("http://images.test:1/a.png", 1),
        ("http://images.test:8080/a.png", 8080),
        ("https://images.test:65535/a.png", 65535),
    ],
)
def test_the_port_resolved_is_the_port_connected_to(url: str, port: int) -> None:
    connected: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "127.0.0.1"
        default = {"http": 80, "https": 443}[request.url.scheme]
        connected.append(request.url.port if request.url.port is not None else default)
        return httpx.Response(200, content=BODY)

    resolver = FakeResolver({"images.test": ["127.0.0.1"]})
    transport = httpx.MockTransport(handler)
    assert run(fetch_url(url, LOCAL, resolver=resolver, transport=transport)) == BODY
    assert resolver.calls == [("images.test", port)]
    assert connected == [port]


# (i) Content-Length that only looks numeric ------------------------------------------------------


@pytest.mark.parametrize("declared", [b"\xb2", "١٠".encode(), b"9" * 5000])
def test_odd_content_length_never_escapes_as_a_non_frs_error(declared: bytes) -> None:
    """"²".isdigit() is True but int("²") raises; 5000 digits are too many for int()."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=[(b"Content-Length", declared)], content=BODY)

    transport = httpx.MockTransport(handler)
    fetch = fetch_url("http://127.0.0.1/a.png", LOCAL, transport=transport)
    if declared.isdigit():
        expect_frs("FRS.0017", fetch)
    else:
        assert run(fetch) == BODY
