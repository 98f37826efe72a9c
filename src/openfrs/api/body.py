"""Read a request body once, within the size limit, as a flat field mapping (JSON or multipart)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from fastapi import Request
from starlette.datastructures import UploadFile

from openfrs.api.errors import short
from openfrs.errors import FRSError
from openfrs.media import (
    ImageLimits,
    load_image,
    load_source_bytes,
    parse_json_body,
    pick_image_source,
    read_capped,
)
from openfrs.media.picture import EncodedPicture

Fields = Mapping[str, object]  # str values, bytes for uploaded files, JSON values otherwise


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """Stream the body and stop at the limit, so a huge upload is refused without buffering it."""
    body = await read_capped(request.stream(), max_bytes, request.headers.get("content-length"))
    request._body = body  # let Starlette's form parser reuse what we read
    return body


async def read_json_object(request: Request, max_bytes: int) -> dict:
    """Endpoints that take JSON only (face-set management)."""
    return parse_json_body(await read_limited(request, max_bytes), max_bytes)


async def request_image(request: Request, fields: Fields, prefix: str = "image") -> np.ndarray:
    """The decoded image the fields name (`{prefix}_base64`, `_url` or `_file`), within the
    service's image limits."""
    return await load_image(pick_image_source(fields, prefix), request.app.state.settings)


async def request_picture(request: Request, fields: Fields, prefix: str = "image") -> EncodedPicture:
    """The image the fields name, its header checked but its pixels left for the use case to
    decode at the resolution it needs (largest-face paths: media/picture.py)."""
    settings = request.app.state.settings
    data = await load_source_bytes(pick_image_source(fields, prefix), settings)
    return EncodedPicture(data, ImageLimits.from_settings(settings))


async def read_fields(request: Request, max_bytes: int) -> Fields:
    """JSON object or multipart form -> {name: value}; files become their bytes."""
    raw = await read_limited(request, max_bytes)
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        return parse_json_body(raw, max_bytes)
    if not raw:
        raise FRSError("FRS.0011", "body")
    try:
        form = await request.form(max_files=8, max_fields=64, max_part_size=max_bytes)
    except Exception as exc:  # python-multipart raises several types for malformed bodies
        raise FRSError("FRS.0012", f"malformed multipart body: {short(exc)}") from None
    try:
        fields: dict[str, object] = {}
        for name, value in form.multi_items():
            if name in fields:
                raise FRSError("FRS.0012", f"field {short(name)} given more than once")
            fields[name] = await value.read() if isinstance(value, UploadFile) else value
        return fields
    finally:
        await form.close()  # spooled temporary files go now, not at garbage collection
