"""The session-wide guard really stops non-loopback connections and DNS lookups."""

from __future__ import annotations

import socket

import pytest


def test_connect_beyond_loopback_is_stopped_before_any_packet():
    with socket.socket() as sock, pytest.raises(AssertionError, match="loopback only"):
        sock.connect(("10.0.0.1", 80))


def test_name_lookup_is_stopped():
    with pytest.raises(AssertionError, match="no DNS"):
        socket.getaddrinfo("example.invalid", 80)


def test_loopback_still_works():
    assert socket.getaddrinfo("127.0.0.1", 80)
