"""The FRS image-input rules every endpoint shares, independent of the HTTP framework.

An endpoint takes one image as `{prefix}_base64`, `{prefix}_url` or `{prefix}_file` (prefix
`image`, or `image1`/`image2` for compare), from a JSON body or a multipart form. Exactly one
of the three must be given.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media._common import check_size
from openfrs.media.base64img import decode_base64
from openfrs.media.decode import ImageLimits, decode_image
from openfrs.media.fetch import fetch_url

SourceKind = Literal["base64", "url", "file"]
Fetcher = Callable[[str, Settings], Awaitable[bytes]]

_KINDS: tuple[SourceKind, ...] = ("base64", "url", "file")


@dataclass(frozen=True, slots=True)
class ImageSource:
    """Which kind of image field was given, and its value: bytes for a file, text otherwise."""

    kind: SourceKind
    payload: str | bytes

    def __post_init__(self) -> None:
        if isinstance(self.payload, bytes) != (self.kind == "file"):
            expected = "bytes" if self.kind == "file" else "str"
            raise TypeError(f"an ImageSource of kind {self.kind!r} needs a {expected} payload")


def pick_image_source(fields: Mapping[str, Any], prefix: str = "image") -> ImageSource:
    """Choose the single image field for `prefix`; FRS.0011 if none or empty, 0012 if several."""
    names = [f"{prefix}_{kind}" for kind in _KINDS]
    given = [
        (kind, name)
        for kind, name in zip(_KINDS, names, strict=True)
        if fields.get(name) is not None
    ]
    if not given:
        raise FRSError("FRS.0011", f"{names[0]}, {names[1]} or {names[2]}")
    if len(given) > 1:
        raise FRSError("FRS.0012", f"only one of {', '.join(names)} may be given")
    kind, name = given[0]
    payload = _payload(kind, name, fields[name])
    if not payload or (isinstance(payload, str) and not payload.strip()):
        raise FRSError("FRS.0011", name)
    return ImageSource(kind, payload)


def _payload(kind: SourceKind, name: str, value: object) -> str | bytes:
    """Files arrive as bytes; base64 and URLs as text (bytes from a form part are decoded)."""
    if kind == "file":
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise FRSError("FRS.0012", f"{name} must be an uploaded file")
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FRSError("FRS.0012", f"{name} must be UTF-8 text") from exc
    if isinstance(value, str):
        return value
    raise FRSError("FRS.0012", f"{name} must be a string")


async def load_image(
    source: ImageSource, settings: Settings, fetcher: Fetcher = fetch_url
) -> np.ndarray:
    """Turn an ImageSource into a validated HxWx3 uint8 RGB array.

    Base64 and pixel decoding are CPU work on up to megabytes, so they run in a worker thread
    rather than stalling the event loop for every other request.
    """
    data = await load_source_bytes(source, settings, fetcher)
    return await asyncio.to_thread(decode_image, data, ImageLimits.from_settings(settings))


async def load_source_bytes(source: ImageSource, settings: Settings, fetcher: Fetcher = fetch_url) -> bytes:
    """The raw bytes a source names (uploaded, fetched or base64-decoded), not decoded further:
    videos take this path too."""
    payload = source.payload
    if isinstance(payload, bytes):  # kind "file": ImageSource checks that the two go together
        return payload
    if source.kind == "url":
        return await fetcher(payload, settings)
    return await asyncio.to_thread(decode_base64, payload)


def parse_json_body(raw: bytes, max_bytes: int) -> dict[str, Any]:
    """Parse a JSON request body: 0017 if too large, 0011 if empty, 0014 unless a JSON object.

    A body read with _common.read_capped is within the limit already; the check stays because
    this is public and callers may hand in bytes from anywhere.
    """
    check_size(len(raw), max_bytes)
    if not raw.strip():
        raise FRSError("FRS.0011", "request body")
    try:
        parsed = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FRSError("FRS.0014") from exc
    if not isinstance(parsed, dict):
        raise FRSError("FRS.0014")
    return parsed


def _reject_constant(name: str) -> None:
    """NaN and Infinity are not JSON, even though Python's parser accepts them by default."""
    raise ValueError(f"{name} is not valid JSON")
