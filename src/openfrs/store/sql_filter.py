"""A filter tree (store/query.py) as a parameterised SQL WHERE fragment.

One walker handles NOT/AND/OR and the NULL rules; a dialect says how one leaf is written (SQLite
reads `json_extract` with `?` params, PostgreSQL typed JSONB expressions with `%s` params), so
both stores select the same faces for the same tree."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from openfrs.store.query import FIELD_NAME, And, Expr, Not, Or, Range, Term, Value

BUILTIN_COLUMNS = frozenset({"external_image_id", "face_id"})


def _checked(field: object) -> str:
    """Field names end up inside SQL text, so hand-built trees are re-checked here too."""
    if not isinstance(field, str) or not FIELD_NAME.fullmatch(field):
        raise ValueError(f"invalid filter field {field!r}")
    return field


def field_sql(field: str) -> str:
    """SQLite SQL for a custom field's value in the JSON `fields` column. Filters use exactly this
    expression: the per-field indexes are built on it, and SQLite matches expressions by text."""
    if not FIELD_NAME.fullmatch(field):
        raise ValueError(f"invalid field name {field!r}")
    return f"json_extract(fields, '$.\"{field}\"')"


def column_sql(field: str) -> str:
    """SQLite SQL for any filterable field: built-ins are columns of `faces`, the rest live in JSON."""
    return field if field in BUILTIN_COLUMNS else field_sql(field)


def pg_json_sql(field: str) -> str:
    """PostgreSQL: a custom field as JSONB (a string compares as a JSON string, never as a number)."""
    return f"(fields->'{_checked(field)}')"


def pg_number_sql(field: str) -> str:
    """PostgreSQL: a custom field as a number, booleans as 0/1 like SQLite and evaluate(); NULL for
    a missing field, JSON null or a string. Per-field indexes are built on exactly this text."""
    value = pg_json_sql(field)
    return (f"(CASE jsonb_typeof({value}) WHEN 'number' THEN {value}::numeric"
            f" WHEN 'boolean' THEN ({value}::boolean)::int::numeric END)")


def _param(value: object) -> Value:
    """SQL stores booleans as 0/1; anything but a str or finite number cannot come from the parser."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) or (isinstance(value, int | float) and math.isfinite(value)):
        return value
    raise ValueError(f"unsupported filter value {value!r}")


class Dialect(Protocol):
    """How one leaf is written: each method appends its parameters and returns SQL text."""

    def equals(self, field: str, value: Value, params: list) -> str: ...
    def compare(self, field: str, op: str, value: Value, params: list) -> str: ...
    def present(self, field: str) -> str: ...


@dataclass(frozen=True)
class SQLiteDialect:
    """`?` placeholders; a field is `column(field)` (a json_extract, or a built-in column)."""

    column: Callable[[str], str] = column_sql

    def equals(self, field: str, value: Value, params: list) -> str:
        return self.compare(field, "=", value, params)

    def compare(self, field: str, op: str, value: Value, params: list) -> str:
        params.append(value)
        return f"{self.column(field)} {op} ?"

    def present(self, field: str) -> str:
        return f"{self.column(field)} IS NOT NULL"


class PostgresDialect:
    """`%s` placeholders; strings compare as JSONB strings, numbers as exact `numeric` (a float
    goes as its shortest decimal, the same text json.dumps stored, so equal floats stay equal)."""

    def equals(self, field: str, value: Value, params: list) -> str:
        if isinstance(value, str) and field not in BUILTIN_COLUMNS:
            params.append(json.dumps(value))
            return f"{pg_json_sql(field)} = %s::jsonb"
        return self.compare(field, "=", value, params)

    def compare(self, field: str, op: str, value: Value, params: list) -> str:
        if field in BUILTIN_COLUMNS or isinstance(value, str):  # text order, as SQLite compares text
            params.append(str(value))
            return f"{_pg_text_sql(field)} {op} %s"
        params.append(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
        return f"{pg_number_sql(field)} {op} %s"

    def present(self, field: str) -> str:
        sql = _pg_text_sql(field) if field in BUILTIN_COLUMNS else pg_number_sql(field)
        return f"{sql} IS NOT NULL"


def _pg_text_sql(field: str) -> str:
    return field if field in BUILTIN_COLUMNS else f"(fields->>'{_checked(field)}')"


SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()


def _sql(expr: Expr, dialect: Dialect, params: list) -> str:
    """Leaves compare the bare field expression, so a store can answer them from a field index; a
    missing field makes a leaf NULL, which a WHERE treats as false, and NOT turns NULL into FALSE
    before negating, so NOT and the missing field agree with evaluate()."""
    if isinstance(expr, Term):
        return f"({dialect.equals(_checked(expr.field), _param(expr.value), params)})"
    if isinstance(expr, Range):
        field = _checked(expr.field)
        low = ">=" if expr.low_inclusive else ">"
        high = "<=" if expr.high_inclusive else "<"
        parts = [dialect.compare(field, op, _param(bound), params)
                 for op, bound in ((low, expr.low), (high, expr.high)) if bound is not None]
        return f"({' AND '.join(parts) or dialect.present(field)})"
    if isinstance(expr, Not):
        return f"(NOT COALESCE({_sql(expr.expr, dialect, params)}, FALSE))"
    if isinstance(expr, And | Or):
        if not expr.items:
            return "TRUE" if isinstance(expr, And) else "FALSE"
        joiner = " AND " if isinstance(expr, And) else " OR "
        return "(" + joiner.join(_sql(item, dialect, params) for item in expr.items) + ")"
    raise ValueError(f"unsupported filter expression {expr!r}")


def to_sql(expr: Expr, dialect: Dialect | Callable[[str], str] = SQLITE) -> tuple[str, list]:
    """A WHERE fragment and its parameters. `dialect` is SQLITE, POSTGRES, or (SQLite with another
    field expression) a function giving the SQL for a field. Values never enter the SQL text,
    only the parameter list. Only for a WHERE clause: the fragment may be NULL where it means false."""
    if callable(dialect):
        dialect = SQLiteDialect(dialect)
    params: list = []
    return _sql(expr, dialect, params), params
