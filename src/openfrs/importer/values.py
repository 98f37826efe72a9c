"""Custom field values from text (CSV cells, folder names) in the types a face set declares."""

from __future__ import annotations

import re

from openfrs.errors import FRSError
from openfrs.service.facesets import FIELD_TYPES

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})
_NOT_IN_STRING = re.compile(r"[^0-9A-Za-z_-]")
MAX_STRING = 256


def parse_field_types(text: str | None) -> dict[str, str]:
    """`name:type,name:type` (the `--field-types` option); ValueError with a readable message."""
    types: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in (text or "").split(","))):
        name, _, kind = entry.partition(":")
        name, kind = name.strip(), kind.strip().lower()
        if not name or kind not in FIELD_TYPES:
            raise ValueError(f"--field-types: {entry!r} is not name:type with type one of "
                             + ", ".join(sorted(FIELD_TYPES)))
        types[name] = kind
    return types


def from_text(name: str, kind: str, text: str) -> object:
    """A cell's text as a `kind` value (FRS.0406 when it is not one); the service checks it again."""
    value = text.strip()
    try:
        if kind in ("integer", "long"):
            return int(value)
        if kind in ("float", "double"):
            return float(value)
    except ValueError:
        raise FRSError("FRS.0406", f"external_fields.{name} must be a {kind}, not {value[:40]!r}") from None
    if kind == "boolean":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise FRSError("FRS.0406", f"external_fields.{name} must be a boolean, not {value[:40]!r}")
    return value


def person_value(kind: str, folder: str) -> object:
    """A person folder's name as the set's `person` field. FRS strings are 1-256 of
    [0-9A-Za-z_-], so other characters become "_" (the folder name stays readable in the report)."""
    if kind == "string":
        return (_NOT_IN_STRING.sub("_", folder) or "_")[:MAX_STRING]
    return from_text("person", kind, folder)
