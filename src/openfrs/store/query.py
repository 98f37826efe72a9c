"""What a face-set filter asks of a face's fields: a small typed tree, built by the service's
parser of the FRS filter language (service/filters.py) and compiled by each metadata store."""

from __future__ import annotations

import re
from dataclasses import dataclass

# FRS custom-field names (face-set schemas, filters): 1-36 of [0-9A-Za-z_-]. Stores put them
# into SQL text, so this one pattern is what makes that safe.
FIELD_NAME = re.compile(r"[0-9A-Za-z_-]{1,36}")

Value = str | int | float | bool
Number = int | float


@dataclass(frozen=True, slots=True)
class Term:
    """`field:value`: the field is present and equals value."""

    field: str
    value: Value


@dataclass(frozen=True, slots=True)
class Range:
    """`field:[low TO high]`; None is `*` (unbounded).  The field must be present."""

    field: str
    low: Number | None
    high: Number | None
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True, slots=True)
class Not:
    """`(!expr)`: a record that lacks the field does match."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


Expr = Term | Range | Not | And | Or
