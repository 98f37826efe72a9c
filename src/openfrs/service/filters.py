"""The FRS face-set `filter` language: parse, type-check and evaluate (stores compile the tree).

Search and batch-delete take a Lucene-like filter over a face's custom fields, e.g.
`number:[1 TO 20] && external_image_id:test`.  Grammar (`&&` binds tighter than `||`):

    filter := or
    or     := and ("||" and)*
    and    := unary ("&&" unary)*
    unary  := "(" "!" unary ")" | "(" or ")" | clause      -- negation only inside its own parentheses
    clause := FIELD ":" value | FIELD ":" ("[" | "{") bound "TO" bound ("]" | "}")
    value  := WORD | "quoted string"      bound := value | "*"

`[` `]` are inclusive, `{` `}` exclusive.  The parser checks every value against the field's schema
type, so `evaluate` (brute force over one record) and a store's compiler (store/sql_filter.py)
only ever see well-typed values; the tree itself (store/query.py) belongs to no store.  Every bad
input raises FRSError("FRS.0012", ...); error positions are 0-based character offsets into the
filter.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from openfrs.errors import FRSError
from openfrs.store.query import FIELD_NAME, And, Expr, Not, Number, Or, Range, Term, Value

MAX_FILTER_LENGTH = 2048
MAX_DEPTH = 32
MAX_STRING_LENGTH = 256
BUILTIN_FIELDS: Mapping[str, str] = {"external_image_id": "string", "face_id": "string"}
FIELD_TYPES = frozenset({"string", "integer", "long", "float", "double", "boolean"})
NUMERIC_TYPES = frozenset({"integer", "long", "float", "double"})

_BARE_STRING = re.compile(rf"[0-9A-Za-z_-]{{1,{MAX_STRING_LENGTH}}}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Bare words also carry numbers, hence `.` and `+` (e.g. `-1.5e+3`); the type check narrows them.
_WORD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.+")
_SPACE = frozenset(" \t\r\n")
_SINGLE = frozenset("()[]{}!:*")
_INT_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_FLOAT_MAX = {"float": 3.4028234663852886e38, "double": sys.float_info.max}

def _error(detail: str) -> FRSError:
    return FRSError("FRS.0012", f"filter: {detail}")


# --- tokenizer -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "string", "end", or the punctuation itself: "(", "&&", ":", ...
    text: str
    pos: int


def _read_string(text: str, start: int) -> tuple[str, int]:
    """A double-quoted string from text[start] == '"'; only \\" and \\\\ escapes exist."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if not chars:
                raise _error(f"empty string at position {start} (empty-string search is not supported)")
            if len(chars) > MAX_STRING_LENGTH:
                raise _error(f"string longer than {MAX_STRING_LENGTH} characters at position {start}")
            return "".join(chars), i + 1
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                raise _error(f'invalid escape at position {i} (only \\" and \\\\ are allowed)')
            i += 1
            ch = text[i]
        elif unicodedata.category(ch).startswith("C"):  # control, format, surrogate, unassigned
            raise _error(f"invalid character in string at position {i}")
        chars.append(ch)
        i += 1
    raise _error(f"unterminated string starting at position {start}")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
        elif ch in _WORD_CHARS:
            j = i
            while j < n and text[j] in _WORD_CHARS:
                j += 1
            tokens.append(_Token("word", text[i:j], i))
            i = j
        elif ch == '"':
            value, end = _read_string(text, i)
            tokens.append(_Token("string", value, i))
            i = end
        elif text.startswith("&&", i) or text.startswith("||", i):
            tokens.append(_Token(text[i : i + 2], text[i : i + 2], i))
            i += 2
        elif ch in _SINGLE:
            tokens.append(_Token(ch, ch, i))
            i += 1
        else:
            shown = ascii(ch) if ch.isprintable() and ch not in "'\\" else f"U+{ord(ch):04X}"
            raise _error(f"unexpected character {shown} at position {i}")
    tokens.append(_Token("end", "", n))
    return tokens


# --- values ----------------------------------------------------------------------------------------


def _convert(token: _Token, field: str, ftype: str) -> Value:
    """The Python value of a word or quoted string for a field of type ftype, or FRS.0012."""
    text, where = token.text, f"for {field} at position {token.pos}"
    if token.kind == "word" and text == "null":
        raise _error(f"null search is not supported, at position {token.pos}")
    if ftype == "string":
        if token.kind == "string" or _BARE_STRING.fullmatch(text):
            return text
        raise _error(f"string value {where} must be 1-256 characters of [0-9A-Za-z_-], or be quoted")
    if ftype == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise _error(f"boolean value {where} must be true or false")
    if ftype in _INT_BOUNDS:
        if not _INTEGER.fullmatch(text):
            raise _error(f"{ftype} value {where} must be a whole number")
        number = int(text)
        low, high = _INT_BOUNDS[ftype]
        if not low <= number <= high:
            raise _error(f"{ftype} value {where} is out of range")
        return number
    if not _FLOAT.fullmatch(text):  # float/double; Python's float() would also take "inf", "1_0"
        raise _error(f"{ftype} value {where} must be a number")
    real = float(text)
    if not math.isfinite(real) or abs(real) > _FLOAT_MAX[ftype]:
        raise _error(f"{ftype} value {where} is out of range")
    return real


# --- parser ----------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the token list; depth is capped, so recursion stays shallow."""

    def __init__(self, text: str, schema: Mapping[str, str]) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.schema = schema

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def expect(self, kind: str, what: str) -> _Token:
        if self.peek().kind != kind:
            raise self.expected(what)
        return self.take()

    def expected(self, what: str) -> FRSError:
        return _error(f"expected {what} at position {self.peek().pos}")

    def parse(self) -> Expr:
        expr = self.parse_or()
        if self.peek().kind != "end":
            raise self.expected("&&, || or the end of the filter")
        return expr

    def parse_or(self) -> Expr:
        items = [self.parse_and()]
        while self.peek().kind == "||":
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Expr:
        items = [self.parse_unary()]
        while self.peek().kind == "&&":
            self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Expr:
        token = self.peek()
        if token.kind == "!":
            raise _error(f"negation must be parenthesised, as (!field:value), at position {token.pos}")
        if token.kind != "(":
            return self.parse_clause()
        self.take()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(f"nesting deeper than {MAX_DEPTH} at position {token.pos}")
        if self.peek().kind == "!":
            self.take()
            expr: Expr = Not(self.parse_unary())
        else:
            expr = self.parse_or()
        self.expect(")", ")")
        self.depth -= 1
        return expr

    def field_type(self, token: _Token) -> str:
        if not FIELD_NAME.fullmatch(token.text):
            raise _error(f"invalid field name at position {token.pos} (1-36 characters of [0-9A-Za-z_-])")
        ftype = BUILTIN_FIELDS.get(token.text) or self.schema.get(token.text)
        if ftype is None:
            raise _error(f"unknown field {token.text}")
        ftype = str(ftype).lower()
        if ftype not in FIELD_TYPES:
            raise _error(f"field {token.text} has an unsupported type")
        return ftype

    def parse_clause(self) -> Expr:
        name = self.expect("word", "a field name")
        ftype = self.field_type(name)
        self.expect(":", ":")
        token = self.peek()
        if token.kind in ("[", "{"):
            return self.parse_range(name.text, ftype)
        if token.kind in ("word", "string"):
            return Term(name.text, _convert(self.take(), name.text, ftype))
        raise self.expected("a value")

    def parse_range(self, field: str, ftype: str) -> Range:
        opening = self.take()
        if ftype not in NUMERIC_TYPES:
            raise _error(f"range on {ftype} field {field} at position {opening.pos}")
        low = self.parse_bound(field, ftype)
        token = self.peek()
        if token.kind != "word" or token.text != "TO":
            raise self.expected("TO")
        self.take()
        high = self.parse_bound(field, ftype)
        if self.peek().kind not in ("]", "}"):
            raise self.expected("] or }")
        closing = self.take()
        return Range(field, low, high, opening.kind == "[", closing.kind == "]")

    def parse_bound(self, field: str, ftype: str) -> Number | None:
        token = self.peek()
        if token.kind == "*":
            self.take()
            return None
        if token.kind not in ("word", "string") or (token.kind == "word" and token.text == "TO"):
            raise self.expected("a number or *")
        return cast(Number, _convert(self.take(), field, ftype))  # numeric ftype: always a number


def parse_filter(text: object, schema: Mapping[str, str]) -> Expr:
    """Parse and type-check an FRS filter; schema maps custom field names to FRS types."""
    if not isinstance(text, str):
        raise _error("must be a string")
    if len(text) > MAX_FILTER_LENGTH:
        raise _error(f"longer than {MAX_FILTER_LENGTH} characters")
    return _Parser(text, schema).parse()


# --- evaluation ------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float)  # bool included: booleans compare as 0/1, as in SQL


def evaluate(expr: Expr, record: Mapping[str, object]) -> bool:
    """Whether one face's fields match; a missing (or None) field never matches a Term or Range."""
    if isinstance(expr, Term):
        actual = record.get(expr.field)
        if actual is None:
            return False
        if isinstance(expr.value, str):
            return isinstance(actual, str) and actual == expr.value
        return _is_number(actual) and actual == expr.value
    if isinstance(expr, Range):
        found = record.get(expr.field)
        if not _is_number(found) or found != found:  # missing, None, or NaN (which SQL stores as NULL)
            return False
        actual = cast(Number, found)
        if expr.low is not None and not (actual >= expr.low if expr.low_inclusive else actual > expr.low):
            return False
        return expr.high is None or (actual <= expr.high if expr.high_inclusive else actual < expr.high)
    if isinstance(expr, Not):
        return not evaluate(expr.expr, record)
    if isinstance(expr, And):
        return all(evaluate(item, record) for item in expr.items)
    if isinstance(expr, Or):
        return any(evaluate(item, record) for item in expr.items)
    raise _error("unsupported expression")
