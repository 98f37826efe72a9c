"""The SSRF guard's address rules (openfrs.media.addresses). Pure functions: no network."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from openfrs.errors import FRSError
from openfrs.media.addresses import AllowList, forbidden_reason, is_loopback_name, parse_host

FORBIDDEN = {
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "10.255.255.255": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.255": "carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "private",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "198.18.0.1": "private",
    "192.0.2.1": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd00::1": "private",
    "ff02::1": "multicast",
    "fec0::1": "site-local",
    "2001:db8::1": "private",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "link-local",
    "::ffff:100.64.0.1": "carrier-grade NAT",
    "64:ff9b::a00:1": "private",  # NAT64 of 10.0.0.1
    "2002:7f00:1::1": "loopback",  # 6to4 of 127.0.0.1
    "::7f00:1": "reserved",  # deprecated IPv4-compatible ::127.0.0.1
}

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below carrier-grade NAT
    "100.128.0.0",  # just above it
    "172.32.0.1",  # just outside 172.16/12
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of a public address
]


@pytest.mark.parametrize(("address", "word"), sorted(FORBIDDEN.items()))
def test_non_public_addresses_are_forbidden_with_a_reason(address: str, word: str) -> None:
    reason = forbidden_reason(ip_address(address))
    assert reason is not None
    assert word in reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ip_address(address)) is None


def test_mapped_reason_names_the_embedded_address() -> None:
    reason = forbidden_reason(ip_address("::ffff:10.0.0.1"))
    assert reason is not None and "10.0.0.1" in reason


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("10.0.0.1", "10.0.0.1"),
        ("012.0.0.1", "10.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("1.2.3.0x", "1.2.3.0"),
    ],
)
def test_numeric_ipv4_forms_are_read_like_inet_aton(host: str, expected: str) -> None:
    parsed = parse_host(host)
    assert isinstance(parsed, IPv4Address)
    assert parsed == IPv4Address(expected)


@pytest.mark.parametrize(
    "host",
    [
        "256.0.0.1",
        "1.2.3.4.5",
        "08.0.0.1",
        "4294967296",
        "1.2.3.256",
        "0xg.1",
        "1..1",
        "+1.2",
        "1_0.1",
    ],
)
def test_bad_numeric_hosts_are_refused(host: str) -> None:
    with pytest.raises(FRSError) as err:
        parse_host(host)
    assert err.value.code == "FRS.0021"


@pytest.mark.parametrize(
    ("host", "expected"),
    [("::1", "::1"), ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("FD00::1", "fd00::1")],
)
def test_ipv6_hosts(host: str, expected: str) -> None:
    parsed = parse_host(host)
    assert isinstance(parsed, IPv6Address)
    assert parsed == IPv6Address(expected)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "example.com"),
        ("Images.Example.COM.", "images.example.com"),
        ("1e100.net", "1e100.net"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("under_score.example", "under_score.example"),
    ],
)
def test_host_names_are_canonicalised(host: str, expected: str) -> None:
    assert parse_host(host) == expected


@pytest.mark.parametrize(
    "host", ["", ".", "a..b", "exa%20mple.com", "-lead.example", "a b", ":::1"]
)
def test_malformed_hosts_are_refused(host: str) -> None:
    with pytest.raises(FRSError) as err:
        parse_host(host)
    assert err.value.code == "FRS.0021"


def test_loopback_names() -> None:
    assert is_loopback_name("localhost")
    assert is_loopback_name("api.localhost")
    assert not is_loopback_name("localhost.example.com")
    assert not is_loopback_name("notlocalhost")


def test_allow_list_parses_names_addresses_and_networks() -> None:
    allow = AllowList.parse(["127.0.0.1", " 10.0.0.0/8 ", "[::1]", "Images.Example.Test.", ""])
    assert allow.allows_host("images.example.test")
    assert not allow.allows_host("other.example.test")
    assert allow.allows_address(ip_address("127.0.0.1"))
    assert not allow.allows_address(ip_address("127.0.0.2"))
    assert allow.allows_address(ip_address("10.200.3.4"))
    assert allow.allows_address(ip_address("::ffff:10.200.3.4"))
    assert allow.allows_address(ip_address("::1"))
    assert not allow.allows_address(ip_address("192.168.1.1"))
    assert not allow.allows_address(ip_address("fd00::1"))


def test_empty_allow_list_allows_nothing() -> None:
    allow = AllowList.parse([])
    assert not allow.allows_host("localhost")
    assert not allow.allows_address(ip_address("127.0.0.1"))


def test_allow_listed_unicode_names_match_their_idna_form() -> None:
    """URL hosts are checked as IDNA A-labels, so Unicode allow-list entries are stored so too."""
    allow = AllowList.parse(["Bücher.de", "xn--ls8h.la", "\U0001f4a9.example"])
    assert allow.allows_host("xn--bcher-kva.de")
    assert allow.allows_host("xn--ls8h.la")


@pytest.mark.parametrize("host", ["xn--bcher-kva.de", "XN--BCHER-KVA.DE.", "xn--ls8h.la"])
def test_a_label_hosts_are_kept_as_ascii_names(host: str) -> None:
    assert parse_host(host) == host.lower().rstrip(".")
