"""Small helpers shared by the media modules."""

from __future__ import annotations

from openfrs.errors import FRSError


def human_size(n_bytes: int) -> str:
    """Render a byte limit the way FRS messages do ("8MB"), exact when it is not a round number."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if n_bytes >= factor and n_bytes % factor == 0:
            return f"{n_bytes // factor}{unit}"
    return f"{n_bytes} bytes"


def body_too_large(max_bytes: int) -> FRSError:
    """The one FRS.0017 error, so every size cap words it the same way."""
    return FRSError("FRS.0017", human_size(max_bytes))
