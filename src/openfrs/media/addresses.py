"""The SSRF guard's address rules: which hosts and IPs an image_url may reach.

Only public unicast addresses are fetched from, unless an operator allow-lists a host name, an
address or a network (settings.url_allow_hosts). Host parsing follows the WHATWG URL rules for
numeric hosts, so `2130706433`, `0x7f.1` and `0177.0.0.1` are read as the IPv4 addresses a
resolver would turn them into, instead of being passed to DNS as names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

import httpx

from openfrs.errors import FRSError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_CGNAT = IPv4Network("100.64.0.0/10")
_NAT64 = IPv6Network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_LOOPBACK_NAMES = ("localhost",)


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why an address must not be fetched from, or None for a public unicast address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        reason = forbidden_reason(embedded)
        return None if reason is None else f"{reason} (IPv4 {embedded} inside IPv6)"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (isinstance(ip, IPv6Address) and ip.is_site_local, "a site-local address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 form really reaches: mapped, NAT64 or 6to4."""
    if not isinstance(ip, IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


@dataclass(frozen=True, slots=True)
class AllowList:
    """Operator exceptions to the guard: exact host names, and addresses or networks."""

    hostnames: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hostnames: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")
            if not entry:
                continue
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                hostnames.add(_idna_hostname(entry))
        return cls(frozenset(hostnames), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host in self.hostnames

    def allows_address(self, ip: IPAddress) -> bool:
        candidates = [ip] if (inner := _embedded_ipv4(ip)) is None else [ip, inner]
        return any(
            addr.version == net.version and addr in net
            for addr in candidates
            for net in self.networks
        )


def _idna_hostname(name: str) -> str:
    """An allow-listed name in the form URL hosts are checked in: IDNA A-labels, as httpx encodes."""
    if name.isascii():
        return name
    try:
        return httpx.URL(scheme="http", host=name).raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return name  # cannot match any URL host, like any other nonsense entry


def parse_host(host: str) -> IPAddress | str:
    """Canonical form of a URL host: an IP address object, or a lower-case DNS name.

    `host` is the URL's wire form, httpx's `raw_host` (IDNA A-labels, IPv6 brackets removed), not
    its Unicode-decoded `host`. Raises FRS.0021 for hosts that are malformed, or numeric but not
    a valid IPv4 address.
    """
    name = host.strip().lower().rstrip(".")
    if not name:
        raise FRSError("FRS.0021", "the URL has no host")
    if ":" in name:
        try:
            return ip_address(name)
        except ValueError as exc:
            raise FRSError("FRS.0021", f"{host!r} is not a valid IPv6 address") from exc
    labels = name.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return _parse_ipv4_loose(labels, host)
    if len(name) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise FRSError("FRS.0021", f"{host!r} is not a valid host name")
    return name


def is_loopback_name(name: str) -> bool:
    """`localhost` and `*.localhost` always mean this machine (RFC 6761), whatever DNS says."""
    return any(name == n or name.endswith("." + n) for n in _LOOPBACK_NAMES)


def _parse_ipv4_loose(labels: list[str], host: str) -> IPv4Address:
    """inet_aton-style IPv4: 1-4 parts, each decimal, 0x-hex or 0-octal; the last fills the rest."""
    invalid = FRSError("FRS.0021", f"{host!r} is a numeric host but not a valid IPv4 address")
    if len(labels) > 4:
        raise invalid
    try:
        numbers = [_parse_ipv4_part(label) for label in labels]
    except ValueError as exc:
        raise invalid from exc
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise invalid
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def _parse_ipv4_part(label: str) -> int:
    if not _NUMERIC_LABEL.fullmatch(label):  # int() alone would accept "+1", " 1" and "1_0"
        raise ValueError(label)
    if label.startswith("0x"):
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)
    return int(label, 10)
