"""Request parameter helpers shared by the face-set use cases (values from JSON or multipart text)."""

from __future__ import annotations

import secrets
import string

from openfrs.errors import FRSError

_ID_ALPHABET = string.ascii_letters + string.digits


def random_id(length: int = 8) -> str:
    """FRS-style identifiers (face_set_id, face_id, generated external_image_id)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def parse_bool(value: object, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise FRSError("FRS.0012", f"{name} must be true or false")


def parse_int(value: object, name: str, default: int, low: int, high: int) -> int:
    """An integer in [low, high]; multipart and query strings send it as ASCII digits."""
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FRSError("FRS.0012", f"{name} must be an integer from {low} to {high}")
    return value
