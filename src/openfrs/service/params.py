"""Identifiers the face-set use cases generate."""

from __future__ import annotations

import secrets
import string

_ID_ALPHABET = string.ascii_letters + string.digits


def random_id(length: int = 8) -> str:
    """FRS-style identifiers (face_set_id, face_id, generated external_image_id)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))
