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
from openfrs.media._common import body_too_large
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
    hostname: str | None  # the DNS name, for SNI; None when the URL holds a literal IP


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
            return await _read_capped(response, settings.max_body_bytes)
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
    assert last_error is not None  # _Guard.check never returns an empty address list
    raise last_error


def _pinned_request(
    client: httpx.AsyncClient, target: _Target, address: IPAddress
) -> httpx.Request:
    """A request to the IP itself, carrying the original Host header and TLS server name."""
    pinned = target.url.copy_with(host=str(address))
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
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise FRSError("FRS.0021", "the redirect Location is malformed") from exc


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Read the body, giving up as soon as it exceeds max_bytes (declared or actual)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise body_too_large(max_bytes)
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise body_too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


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
        host = parse_host(url.host)
        if not isinstance(host, str):
            self._check_address(host, None)
            return _Target(url, (host,), None)
        port = url.port or _DEFAULT_PORTS[url.scheme]
        addresses = await self._resolve_checked(host, port)
        return _Target(url, addresses, host)

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
