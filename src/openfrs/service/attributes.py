"""The FRS `attributes` request parameter: which attribute codes a caller asked for."""

from __future__ import annotations

import re

from openfrs.errors import FRSError

# Every code FRS has documented over the years (0-13, 21); clients send any of them, so unknown
# codes are ignored rather than refused.
KNOWN_ATTRIBUTE_CODES = frozenset({*range(0, 14), 21})
MAX_ATTRIBUTES_LENGTH = 256
_CODE = re.compile(r"[0-9]{1,3}")  # ASCII digits only: "²" or "١" are not codes


def parse_attributes(value: object) -> frozenset[int]:
    """`attributes` is a comma-separated list of integer codes, e.g. "1,2,21"."""
    if value is None or value == "":
        return frozenset()
    if not isinstance(value, str):
        raise FRSError("FRS.0012", "attributes must be a comma-separated string of codes")
    if len(value) > MAX_ATTRIBUTES_LENGTH:
        raise FRSError("FRS.0012", f"attributes is longer than {MAX_ATTRIBUTES_LENGTH} characters")
    codes = set()
    for token in value.split(","):
        token = token.strip()
        if not token:
            continue
        if not _CODE.fullmatch(token):
            raise FRSError("FRS.0012", f"attributes: {token[:20]!r} is not a code")
        codes.add(int(token))
    return frozenset(codes & KNOWN_ATTRIBUTE_CODES)
