"""Fetching image_url safely: SSRF guard, IP pinning, size cap, timeouts and checked redirects.

Every hop is resolved and validated BEFORE any socket is opened, and the connection then goes
to the validated address itself (the Host header and TLS SNI keep the real name), so a DNS
answer that changes between the check and the connect (DNS rebinding) cannot redirect us.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import ip_address

import httpx

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media._common import read_capped
from openfrs.media.addresses import (
    AllowList,
    IPAddress,
    forbidden_reason,
    is_loopback_name,
    parse_host,
)

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""async (host, port) -> IP address strings, the way getaddrinfo would answer."""

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_PORT = 65535
_MAX_URL_LENGTH = 4096
_REQUEST_HEADERS = {
    "Accept": "image/*",
    "Accept-Encoding": "identity",  # images are compressed already; avoids gzip bombs
    "User-Agent": "OpenFRS",
}


async def system_resolver(host: str, port: int) -> list[str]:
    """The default resolver: the OS's getaddrinfo, run off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class _Target:
    """One validated hop: the URL as given, and the addresses we may connect to for it."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]
    port: int  # the port that was validated (and resolved for): the one connected to
    hostname: str | None  # the DNS name (IDNA A-labels), for SNI; None for a literal IP


async def fetch_url(
    url: str,
    settings: Settings,
    *,
    resolver: Resolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> bytes:
    """Download an image_url body; every client-caused failure is an FRSError (0017 or 0021)."""
    guard = _Guard(AllowList.parse(settings.url_allow_hosts), resolver or system_resolver)
    timeout = settings.url_timeout_s
    try:
        async with asyncio.timeout(timeout), _make_client(timeout, transport) as client:
            return await _follow(client, guard, _parse_url(url), settings)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise FRSError("FRS.0021", f"fetching the image timed out after {timeout:g}s") from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise FRSError("FRS.0021", f"fetching the image failed ({type(exc).__name__})") from exc


def _make_client(timeout: float, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    # trust_env=False: an HTTP(S)_PROXY from the environment must not change where we connect.
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )


def _parse_url(url: str) -> httpx.URL:
    text = url.strip()
    if not text:
        raise FRSError("FRS.0021", "the URL is empty")
    if len(text) > _MAX_URL_LENGTH:
        raise FRSError("FRS.0021", f"the URL is longer than {_MAX_URL_LENGTH} characters")
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, ValueError, UnicodeError, TypeError) as exc:
        raise FRSError("FRS.0021", "the URL is malformed") from exc


async def _follow(
    client: httpx.AsyncClient, guard: _Guard, url: httpx.URL, settings: Settings
) -> bytes:
    """GET the URL, following at most url_max_redirects redirects, each one re-validated."""
    for _ in range(settings.url_max_redirects + 1):
        target = await guard.check(url)
        response = await _send(client, target)
        try:
            if response.status_code in _REDIRECT_STATUSES:
                url = _redirect_location(target.url, response)
                continue
            if not 200 <= response.status_code < 300:
                raise FRSError("FRS.0021", f"the server answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            return await read_capped(response.aiter_bytes(), settings.max_body_bytes, declared)
        finally:
            await response.aclose()
    raise FRSError("FRS.0021", f"more than {settings.url_max_redirects} redirects")


async def _send(client: httpx.AsyncClient, target: _Target) -> httpx.Response:
    """Connect to the first validated address that accepts; never to a freshly resolved one."""
    last_error: httpx.ConnectError | None = None
    for address in target.addresses:
        request = _pinned_request(client, target, address)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last_error = exc
        except (UnicodeError, ValueError) as exc:
            # Even with follow_redirects=False, httpx parses a redirect's Location itself (via
            # URL.host, which IDNA-decodes) to pre-build response.next_request, and lets e.g.
            # idna.InvalidCodepoint out for `Location: http://xn--ls8h.la/`. Server's fault.
            raise FRSError("FRS.0021", "the server's redirect Location cannot be parsed") from exc
    assert last_error is not None  # _Guard.check never returns an empty address list
    raise last_error


def _pinned_request(
    client: httpx.AsyncClient, target: _Target, address: IPAddress
) -> httpx.Request:
    """A request to the IP itself, carrying the original Host header and TLS server name."""
    pinned = target.url.copy_with(host=str(address), port=target.port)
    headers = {**_REQUEST_HEADERS, "Host": target.url.netloc.decode("ascii")}
    extensions: dict[str, str] = {}
    if target.url.scheme == "https" and target.hostname is not None:
        extensions["sni_hostname"] = target.hostname
    return client.build_request("GET", pinned, headers=headers, extensions=extensions)


def _redirect_location(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location", "").strip()
    if not location:
        raise FRSError("FRS.0021", f"HTTP {response.status_code} redirect without a Location")
    try:
        return current.join(location)
    except (httpx.InvalidURL, ValueError, UnicodeError, TypeError) as exc:
        raise FRSError("FRS.0021", "the redirect Location is malformed") from exc


class _Guard:
    """Validates a URL and resolves its host into the addresses that may be connected to."""

    def __init__(self, allow: AllowList, resolver: Resolver) -> None:
        self._allow = allow
        self._resolver = resolver

    async def check(self, url: httpx.URL) -> _Target:
        if url.scheme not in _DEFAULT_PORTS:
            raise FRSError("FRS.0021", "only http and https URLs are allowed")
        if url.userinfo:
            raise FRSError("FRS.0021", "credentials in the URL are not allowed")
        host = _url_host(url)
        port = _url_port(url)  # before any lookup, and the very port the request will use
        if not isinstance(host, str):
            self._check_address(host, None)
            return _Target(url, (host,), port, None)
        addresses = await self._resolve_checked(host, port)
        return _Target(url, addresses, port, host)

    async def _resolve_checked(self, host: str, port: int) -> tuple[IPAddress, ...]:
        if self._allow.allows_host(host):
            return await self._resolve(host, port)
        if is_loopback_name(host):
            raise FRSError("FRS.0021", f"the host {host} is a loopback name, which is not allowed")
        addresses = await self._resolve(host, port)
        for address in addresses:  # one bad answer condemns the host: DNS may rotate to it
            self._check_address(address, host)
        return addresses

    async def _resolve(self, host: str, port: int) -> tuple[IPAddress, ...]:
        try:
            answers = await self._resolver(host, port)
            addresses = tuple(dict.fromkeys(ip_address(answer) for answer in answers))
        except (OSError, UnicodeError, ValueError) as exc:
            raise FRSError("FRS.0021", f"the host {host} cannot be resolved") from exc
        if not addresses:
            raise FRSError("FRS.0021", f"the host {host} has no addresses")
        return addresses

    def _check_address(self, address: IPAddress, host: str | None) -> None:
        reason = forbidden_reason(address)
        if reason is None or self._allow.allows_address(address):
            return
        where = f"{address} is" if host is None else f"the host {host} resolves to {address},"
        raise FRSError("FRS.0021", f"{where} {reason}, which is not allowed")


def _url_host(url: httpx.URL) -> IPAddress | str:
    """The host as it goes on the wire (IDNA A-labels, no IPv6 brackets), parsed.

    Never `url.host`: httpx turns `xn--` labels back into Unicode there, which raises for
    A-labels that do not decode (`xn--ls8h.la`) and yields names DNS and SNI do not use.
    """
    try:
        raw = url.raw_host.decode("ascii")
    except UnicodeDecodeError as exc:  # httpx encodes hosts to ASCII; never let this be a 500
        raise FRSError("FRS.0021", "the URL host is malformed") from exc
    return parse_host(raw)


def _url_port(url: httpx.URL) -> int:
    """The explicit port, or the scheme's default; FRS.0021 outside 1-65535 (httpx allows 0)."""
    port = url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]
    if not 1 <= port <= _MAX_PORT:
        raise FRSError("FRS.0021", f"the port {port} is out of range (1-{_MAX_PORT})")
    return port
