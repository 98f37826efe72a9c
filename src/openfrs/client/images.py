"""Fitting a photo into the server's resolution window before it is sent, so a 6000 px phone
photo is downscaled here instead of refused there (FRS.0013: a side of 4096 px or more).

The CLI always does this; `Client(downscale=True)` does it too. The EXIF orientation is applied
before the resize (and the tag dropped), so the face stays upright; photos inside the window
are sent untouched, their bytes and EXIF as they are.
"""

from __future__ import annotations

import io

MAX_SIDE = 4096  # FRS's limit (OpenFRS's default OPENFRS_MAX_IMAGE_SIDE): every side must be below it
JPEG_QUALITY = 92


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) as stored (before EXIF orientation, as the server checks it); None when
    Pillow cannot read the header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def fit_image(data: bytes, max_side: int = MAX_SIDE) -> tuple[bytes, tuple[int, int] | None]:
    """(the bytes to send, the new size or None when unchanged): an image with a side of
    `max_side` or more comes back upright, its longer side `max_side - 1`, as JPEG (PNG when it
    has transparency); any other input, the unreadable included, comes back as it was."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) < max_side:
                return data, None
            target = max_side - 1
            image.draft("RGB", (target, target))  # JPEG: decode at a reduced scale, still >= target
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((target, target), Image.Resampling.LANCZOS)
            return _encode(upright), upright.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return data, None  # the server names what is wrong with it


def _encode(image) -> bytes:  # noqa: ANN001 - a PIL image; PIL is imported lazily
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image.save(out, "PNG", optimize=False)
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
