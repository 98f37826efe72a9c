"""Custom field values on a face (`external_fields` on add/update), checked against the set's schema."""

from __future__ import annotations

import json
import math
import re

from openfrs.errors import FRSError

_STRING = re.compile(r"[0-9A-Za-z_-]{1,256}")
_INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _check(name: str, kind: str, value: object) -> object:
    if kind == "string":
        if isinstance(value, str) and _STRING.fullmatch(value):
            return value
    elif kind in _INT_BOUNDS:
        low, high = _INT_BOUNDS[kind]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
    elif kind in ("float", "double"):
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    elif kind == "boolean" and isinstance(value, bool):
        return value
    article = "an" if kind[0] in "aeiou" else "a"
    raise FRSError("FRS.0406", f"external_fields.{name} must be {article} {kind}")


def validate_values(value: object, schema: dict[str, str], *, allow_null: bool = False
                    ) -> dict[str, object]:
    """{} when absent; FRS.0405 for a field the set does not declare, FRS.0406 for a wrong type.

    Multipart clients send the object as a JSON string, as FRS documents. With `allow_null` (an
    update, merged into the stored fields) a null value stays None: it removes that field.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            raise FRSError("FRS.0012", "external_fields is not a JSON object") from None
    if not isinstance(value, dict):
        raise FRSError("FRS.0012", "external_fields must be an object")
    checked = {}
    for name, item in value.items():
        if name not in schema:
            raise FRSError("FRS.0405", f"{str(name)[:40]} is not a field of this face set")
        checked[name] = None if allow_null and item is None else _check(name, schema[name], item)
    return checked
