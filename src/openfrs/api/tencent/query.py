"""GET requests: the SDK's flattened query (`HttpProfile(reqMethod="GET")`) back into fields.

The SDK flattens lists as `Name.0`, `Name.1` and objects as `Name.Key` (nested as deep as the
model is) and sends every value as a string (`str(value)`: ints "5", floats "60.0"; no IAI request
field is a bool). The fields come back as `QueryParams`, so the field parsers (fields.py) know to
read numbers from strings for this request only; a POST's JSON keeps its strict types. Flattening
the SDK never sends (a gap in the indexes, `A.0` beside `A.Key`, `A` beside `A.0`, a key given
twice, an empty or zero-padded segment) is refused as InvalidParameter rather than guessed at.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from openfrs.api.tencent.errors import TencentError

MAX_FIELDS = 1000
MAX_DEPTH = 6


class QueryParams(dict):
    """Fields that came in a GET query: their numbers are strings."""


def unflatten(query: str) -> QueryParams:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, errors="strict",
                          max_num_fields=MAX_FIELDS)
    except (ValueError, UnicodeDecodeError):  # a field without "=", bad UTF-8, too many fields
        raise TencentError("InvalidParameter", f"the query is not name=value pairs in UTF-8 "
                           f"(at most {MAX_FIELDS})") from None
    tree: dict = {}
    for key, value in pairs:
        _place(tree, key, value)
    params = _build(tree, "")
    if not isinstance(params, QueryParams):
        raise TencentError("InvalidParameter", "the query must name fields, not list items")
    return params


def _place(tree: dict, key: str, value: str) -> None:
    parts = key.split(".")
    if "" in parts or len(parts) > MAX_DEPTH:
        raise TencentError("InvalidParameter", f"query field {key[:64]!r}: empty segment or nested "
                           f"deeper than {MAX_DEPTH}")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise TencentError("InvalidParameter", f"query field {key[:64]!r} is also given as a value")
    if parts[-1] in node:
        raise TencentError("InvalidParameter", f"query field {key[:64]!r} is given twice or also "
                           "as a list or object")
    node[parts[-1]] = value


def _build(node: dict | str, path: str) -> object:
    if isinstance(node, str):
        return node
    indexes = [key.isascii() and key.isdigit() for key in node]
    if not any(indexes):
        return QueryParams({key: _build(child, f"{path}{key}.") for key, child in node.items()})
    if not all(indexes):
        raise TencentError("InvalidParameter", f"{path.rstrip('.') or 'the query'}: list indexes mixed "
                           "with names")
    positions = sorted(node, key=int)
    if positions != [str(i) for i in range(len(positions))]:
        raise TencentError("InvalidParameter", f"{path.rstrip('.') or 'the query'}: list indexes "
                           "must be 0, 1, 2, ... without gaps")
    return [_build(node[key], f"{path}{key}.") for key in positions]
