"""The request's `data` items -> checked pictures, each problem refused for its item alone.

Envelope (ctyun.md §2, §7.8-7.10): `{"data": [item, ...]}`, at most MAX_ITEMS items (pairs for
compare); not JSON, wrong item types -> 4007; no `data`, empty or not a list -> 4001. An item
is a `data:<mime>;base64,<base64>` text (standard or URL-safe alphabet, padding optional, spaces
allowed) or an http(s) URL fetched through the SSRF guard (media/fetch.py). Image rules (§2,
§7.15-7.16): PNG or JPEG by content (other images 4002, non-images 4012), at most 10 MB (4009),
sides 32-5000 px inclusive (4008); alpha is flattened and greyscale expanded.
"""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from fastapi import Request

from openfrs.api.ctyun.errors import (
    BASE64,
    FILE_TYPE,
    FORMAT,
    IMAGE_SIZE,
    JSON,
    NO_IMAGE,
    URL_TIMEOUT,
    URL_UNREADABLE,
    URL_WRONG,
    CtyunError,
    ItemError,
    picture_error,
)
from openfrs.errors import FRSError
from openfrs.media import ImageLimits, decode_base64, fetch_url, sniff_format
from openfrs.media.picture import EncodedPicture

MAX_ITEMS = 100  # images for detect / attributes, pairs for compare (ctyun.md §7.9)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
LIMITS = ImageLimits(max_side=5001, min_side=32, max_pixels=5000 * 5000)  # 32..5000 inclusive
ALLOWED_FORMATS = ("JPEG", "PNG")
_OTHER_IMAGES = (b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")  # formats sniff_format does not name
_BASE64_ITEM = re.compile(r"data:[^,]*;base64,", re.IGNORECASE)
_URL_ITEM = re.compile(r"https?://", re.IGNORECASE)
# fetch_url's FRS.0021 messages that mean the URL itself is wrong or gone (4011, not 4004)
_WRONG_URL = re.compile(r"empty|malformed|no host|not a valid|longer than|only http|credentials|"
                        r"out of range|HTTP (403|404|410)\b")


def envelope_items(body: bytes, pairs: bool) -> list:
    """The `data` list: strings, or [a, b] string pairs for compare."""
    try:
        parsed = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CtyunError(JSON, "the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise CtyunError(JSON, 'the body must be a JSON object {"data": [...]}')
    items = parsed.get("data")
    if not isinstance(items, list) or not items:
        raise CtyunError(NO_IMAGE, "data must be a non-empty list of images")
    if len(items) > MAX_ITEMS:
        unit = "pairs" if pairs else "images"
        raise CtyunError(JSON, f"data holds {len(items)} {unit}; at most {MAX_ITEMS} per request")
    for index, item in enumerate(items):
        good = (isinstance(item, list) and len(item) == 2 and all(isinstance(i, str) for i in item)) \
            if pairs else isinstance(item, str)
        if not good:
            shape = "a list of two image strings" if pairs else "an image string (data: URL or http(s) URL)"
            raise CtyunError(JSON, f"data[{index}] must be {shape}")
    return items


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


async def load_picture(request: Request, item: str) -> EncodedPicture:
    """One item's image, header checked (pixels decoded later, by the worker that uses them)."""
    data = await _item_bytes(request, item.strip())
    if len(data) > MAX_IMAGE_BYTES:
        raise ItemError(IMAGE_SIZE, f"the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES}")
    try:
        fmt = sniff_format(data)
    except FRSError:
        fmt = "image" if data.startswith(_OTHER_IMAGES) else None
    if fmt is None:
        raise ItemError(FILE_TYPE, "the content is not an image")
    if fmt not in ALLOWED_FORMATS:
        raise ItemError(FORMAT, f"{fmt} images are not served; send PNG or JPEG")
    try:
        return EncodedPicture(data, LIMITS)
    except FRSError as error:
        raise picture_error(error) from None


async def _item_bytes(request: Request, item: str) -> bytes:
    if _BASE64_ITEM.match(item):
        if len(item) > MAX_IMAGE_BYTES * 4 // 3 + 1024:  # refuse before decoding megabytes more
            raise ItemError(IMAGE_SIZE, f"the base64 text is {len(item)} characters; "
                            f"images are at most {MAX_IMAGE_BYTES} bytes")
        try:
            return await asyncio.to_thread(decode_base64, item)
        except FRSError as error:
            raise ItemError(BASE64, error.message) from None
    if _URL_ITEM.match(item):
        try:
            return await fetch_url(item, request.app.state.settings)
        except FRSError as error:
            raise _url_error(error) from None
    raise ItemError(BASE64, "an image must be data:<type>;base64,<data> or an http(s) URL")


def _url_error(error: FRSError) -> ItemError:
    if error.code == "FRS.0017":
        return ItemError(IMAGE_SIZE, error.message)
    if isinstance(error.__cause__, TimeoutError | httpx.TimeoutException):
        return ItemError(URL_TIMEOUT, error.message)
    if _WRONG_URL.search(error.message):
        return ItemError(URL_WRONG, error.message)
    return ItemError(URL_UNREADABLE, error.message)
