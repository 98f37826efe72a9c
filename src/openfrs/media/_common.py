"""Small helpers shared by the media modules (and by api/body.py for request bodies)."""

from __future__ import annotations

from collections.abc import AsyncIterable

from openfrs.errors import FRSError


def human_size(n_bytes: int) -> str:
    """Render a byte limit the way FRS messages do ("8MB"), exact when it is not a round number."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n_bytes >= factor and n_bytes % factor == 0:
            return f"{n_bytes // factor}{unit}"
    return f"{n_bytes} bytes"


def body_too_large(max_bytes: int) -> FRSError:
    """The one FRS.0017 error, so every size cap words it the same way."""
    return FRSError("FRS.0017", f"{human_size(max_bytes)} (base64 makes an image a third larger: "
                                "send it as multipart image_file to avoid that, or make it smaller)")


def check_size(n_bytes: int, max_bytes: int) -> None:
    """Raise FRS.0017 when n_bytes is over the cap; exactly max_bytes is still accepted."""
    if n_bytes > max_bytes:
        raise body_too_large(max_bytes)


async def read_capped(
    chunks: AsyncIterable[bytes], max_bytes: int, declared: str | None = None
) -> bytes:
    """Collect a streamed body, refusing it (FRS.0017) as soon as it is known to exceed max_bytes.

    `declared` is the Content-Length header, if any: a value over the cap is refused before a
    single byte is read. Only plain ASCII digits count as a declared length (str.isdigit() alone
    would also accept "²" or Arabic-Indic digits); anything else is ignored here, and the
    running count below still enforces the cap whatever the header said.
    """
    if declared is not None:
        digits = declared.strip()
        if digits.isascii() and digits.isdigit():
            digits = digits.lstrip("0") or "0"
            # Compare lengths first: int() refuses strings of more than 4300 digits.
            if len(digits) > len(str(max_bytes)) or int(digits) > max_bytes:
                raise body_too_large(max_bytes)
    parts: list[bytes] = []
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        check_size(total, max_bytes)
        parts.append(chunk)
    return b"".join(parts)
