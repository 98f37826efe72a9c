"""A stable external_image_id for an image from its path relative to the source.

FRS allows 1-36 of [A-Za-z0-9_-]. The id must depend on the path alone (not on which other files
the source holds), or a file added later could change an old file's id and a resumed import
would enrol it twice. So the readable form is an injective spelling of the path — components of
[A-Za-z0-9_] joined by "-", the extension last (`Abdullah/Abdullah_0002.jpg` ->
`Abdullah-Abdullah_0002-jpg`) — and any path that cannot be spelt so (other characters, "-" or
"." inside a name, no extension, over 36 characters) gets a hash of the whole path instead. The
two forms never meet: a readable id always holds a "-", a hashed one never does.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from pathlib import PurePosixPath

MAX_LENGTH = 36
_PART = re.compile(r"[A-Za-z0-9_]+")
HASH_PREFIX = "h_"
_HASH_CHARS = 24  # base32: 120 bits, so two paths of one source do not meet in practice


def hashed_image_id(relative: str) -> str:
    digest = hashlib.sha256(_normal(relative).encode()).digest()
    return HASH_PREFIX + base64.b32encode(digest).decode()[:_HASH_CHARS].lower()


def image_id_for(relative: str) -> str:
    """`relative` is a POSIX path (as `PurePath.as_posix()` writes it)."""
    path = PurePosixPath(_normal(relative))
    parts = [*path.parent.parts, path.stem] if str(path.parent) != "." else [path.stem]
    extension = path.suffix[1:]
    readable = "-".join([*parts, extension])
    if (extension and len(readable) <= MAX_LENGTH and not path.is_absolute()
            and all(_PART.fullmatch(part) for part in [*parts, extension])):
        return readable
    return hashed_image_id(relative)


def _normal(relative: str) -> str:
    """One spelling per name: macOS writes decomposed Unicode, Linux keeps what it was given."""
    return unicodedata.normalize("NFC", relative)
