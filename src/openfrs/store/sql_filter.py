"""A filter tree (store/query.py) as a parameterised SQL WHERE fragment (SQLite's dialect)."""

from __future__ import annotations

import math
from collections.abc import Callable

from openfrs.store.query import FIELD_NAME, And, Expr, Not, Or, Range, Term, Value

BUILTIN_COLUMNS = frozenset({"external_image_id", "face_id"})


def field_sql(field: str) -> str:
    """SQL for a custom field's value in the JSON `fields` column. Filters use exactly this
    expression: the per-field indexes are built on it, and SQLite matches expressions by text."""
    if not FIELD_NAME.fullmatch(field):
        raise ValueError(f"invalid field name {field!r}")
    return f"json_extract(fields, '$.\"{field}\"')"


def column_sql(field: str) -> str:
    """SQL for any filterable field: built-ins are columns of `faces`, the rest live in JSON."""
    return field if field in BUILTIN_COLUMNS else field_sql(field)


def _param(value: object) -> Value:
    """SQL stores booleans as 0/1; anything but a str or finite number cannot come from the parser."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) or (isinstance(value, int | float) and math.isfinite(value)):
        return value
    raise ValueError(f"unsupported filter value {value!r}")


def _column(column: Callable[[str], str], field: object) -> str:
    # Field names end up inside SQL text, so re-check hand-built trees here too.
    if not isinstance(field, str) or not FIELD_NAME.fullmatch(field):
        raise ValueError(f"invalid filter field {field!r}")
    return column(field)


def _sql(expr: Expr, column: Callable[[str], str], params: list[Value]) -> str:
    """Leaves compare the bare column, so SQLite can answer them from a field index; a missing
    field makes a leaf NULL, which a WHERE treats as false, and NOT turns NULL into FALSE before
    negating, so NOT and the missing field agree with evaluate()."""
    if isinstance(expr, Term):
        params.append(_param(expr.value))
        return f"({_column(column, expr.field)} = ?)"
    if isinstance(expr, Range):
        col = _column(column, expr.field)
        parts = []
        if expr.low is not None:
            parts.append(f"{col} {'>=' if expr.low_inclusive else '>'} ?")
            params.append(_param(expr.low))
        if expr.high is not None:
            parts.append(f"{col} {'<=' if expr.high_inclusive else '<'} ?")
            params.append(_param(expr.high))
        if not parts:
            return f"({col} IS NOT NULL)"
        return f"({' AND '.join(parts)})"
    if isinstance(expr, Not):
        return f"(NOT COALESCE({_sql(expr.expr, column, params)}, FALSE))"
    if isinstance(expr, And | Or):
        if not expr.items:
            return "TRUE" if isinstance(expr, And) else "FALSE"
        joiner = " AND " if isinstance(expr, And) else " OR "
        return "(" + joiner.join(_sql(item, column, params) for item in expr.items) + ")"
    raise ValueError(f"unsupported filter expression {expr!r}")


def to_sql(expr: Expr, column: Callable[[str], str]) -> tuple[str, list[Value]]:
    """A WHERE fragment with `?` placeholders and its parameters; column(field) gives the SQL for a
    field (e.g. a json_extract).  Values never enter the SQL text, only the parameter list.
    Only for a WHERE clause: the fragment may be NULL where it means false."""
    params: list[Value] = []
    return _sql(expr, column, params), params
