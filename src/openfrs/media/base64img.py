"""Lenient but exact base64 decoding for image_base64 fields.

Clients send base64 in every dialect: with a data-URL prefix, wrapped at 76 columns, url-safe,
without padding. All of those are accepted; anything that is not base64 is refused rather than
silently skipped (the stdlib's default decoder drops stray characters).
"""

from __future__ import annotations

import base64
import binascii
import re

from openfrs.errors import FRSError

_DATA_URL = re.compile(r"^data:[^,]*?(;base64)?,", re.IGNORECASE)
_STANDARD = re.compile(r"[A-Za-z0-9+/]*")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def decode_base64(text: str) -> bytes:
    """Decode an image_base64 value; FRS.0011 when it is empty, FRS.0015 when it is not base64."""
    body = _strip_data_url(text.strip())
    body = "".join(body.split())  # line breaks and spaces from wrapped encoders
    body = body.rstrip("=")
    if not body:
        raise FRSError("FRS.0011", "image_base64")
    body = _to_standard_alphabet(body)
    if not _STANDARD.fullmatch(body):
        raise FRSError("FRS.0015", "the base64 data contains invalid characters")
    if len(body) % 4 == 1:
        raise FRSError("FRS.0015", "the base64 data has an impossible length")
    padded = body + "=" * (-len(body) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FRSError("FRS.0015", "the base64 data cannot be decoded") from exc


def _strip_data_url(text: str) -> str:
    """Drop a `data:image/...;base64,` prefix; a data URL that is not base64 is refused."""
    match = _DATA_URL.match(text)
    if match is None:
        return text
    if match.group(1) is None:
        raise FRSError("FRS.0015", "the data URL is not base64-encoded")
    return text[match.end() :]


def _to_standard_alphabet(body: str) -> str:
    """Accept the url-safe alphabet too, but never a mixture of both."""
    has_urlsafe = "-" in body or "_" in body
    if not has_urlsafe:
        return body
    if "+" in body or "/" in body:
        raise FRSError("FRS.0015", "the base64 data mixes the standard and url-safe alphabets")
    return body.translate(_URLSAFE_TO_STANDARD)
