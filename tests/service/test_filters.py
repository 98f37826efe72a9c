"""The FRS face-set `filter` language: grammar, typing, errors, and SQL == brute-force evaluation."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openfrs.errors import FRSError
from openfrs.service.filters import (
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    And,
    Expr,
    Not,
    Or,
    Range,
    Term,
    evaluate,
    parse_filter,
)
from openfrs.store.sql_filter import to_sql

SCHEMA = {"title": "string", "age": "integer", "big": "long", "score": "float", "ratio": "double",
          "male": "boolean"}
FIELD_TYPES = {**SCHEMA, "external_image_id": "string", "face_id": "string"}
NUMERIC = [f for f, t in SCHEMA.items() if t in ("integer", "long", "float", "double")]


def parse(text: str) -> Expr:
    return parse_filter(text, SCHEMA)


def refused(text: object) -> str:
    with pytest.raises(FRSError) as caught:
        parse_filter(text, SCHEMA)
    assert caught.value.code == "FRS.0012"
    assert len(caught.value.message) < 300
    return caught.value.message


def json_column(field: str) -> str:
    return f"json_extract(fields, '$.\"{field}\"')"


# --- grammar ---------------------------------------------------------------------------------------


def test_huawei_documented_example():
    got = parse_filter("number:[1 TO 20] && external_image_id:test", {"number": "integer"})
    assert got == And((Range("number", 1, 20), Term("external_image_id", "test")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title:quick", Term("title", "quick")),
        ("title:a-b_C9", Term("title", "a-b_C9")),
        ('title:"two words \\"q\\" \\\\ é"', Term("title", 'two words "q" \\ é')),
        ('title:"null"', Term("title", "null")),
        ("title:123", Term("title", "123")),
        ("face_id:abc", Term("face_id", "abc")),
        ("age:-5", Term("age", -5)),
        ("age:+7", Term("age", 7)),
        ("big:9223372036854775807", Term("big", 2**63 - 1)),
        ("big:-9223372036854775808", Term("big", -(2**63))),
        ("age:-2147483648", Term("age", -(2**31))),
        ("score:1", Term("score", 1.0)),
        ("ratio:-1.5e+3", Term("ratio", -1500.0)),
        ("ratio:.5", Term("ratio", 0.5)),
        ('age:"12"', Term("age", 12)),
        ("male:true", Term("male", True)),
        ("male:FALSE", Term("male", False)),
        ("age:[1 TO *]", Range("age", 1, None)),
        ("age:[* TO 1]", Range("age", None, 1)),
        ("age:[1 TO 10]", Range("age", 1, 10, True, True)),
        ("age:{1 TO 10}", Range("age", 1, 10, False, False)),
        ("age:[1 TO 10}", Range("age", 1, 10, True, False)),
        ("age:{-3 TO 10]", Range("age", -3, 10, False, True)),
        ("score:[0.5 TO 2]", Range("score", 0.5, 2.0)),
        ("age : [ 1  TO\t2 ]", Range("age", 1, 2)),
        ("(!age:2)", Not(Term("age", 2))),
        ("( ! age:2 )", Not(Term("age", 2))),
        ("(!(age:2 || age:3))", Not(Or((Term("age", 2), Term("age", 3))))),
        ("(!(!male:true))", Not(Not(Term("male", True)))),
        ("((age:1))", Term("age", 1)),
        ("age:1&&male:true||title:x", Or((And((Term("age", 1), Term("male", True))), Term("title", "x")))),
    ],
)
def test_constructs(text, expected):
    got = parse(text)
    assert got == expected and repr(got) == repr(expected)  # repr also tells 1 from 1.0 from True


def test_and_binds_tighter_than_or_and_parentheses_override():
    a, b, c = Term("age", 1), Term("age", 2), Term("age", 3)
    assert parse("age:1 || age:2 && age:3") == Or((a, And((b, c))))
    assert parse("age:1 && age:2 || age:3") == Or((And((a, b)), c))
    assert parse("(age:1 || age:2) && age:3") == And((Or((a, b)), c))
    assert parse("age:1 && age:2 && age:3") == And((a, b, c))
    assert parse("age:1 && (age:2 && age:3)") == And((a, And((b, c))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("age:[1 10]", "filter: expected TO at position 7"),
        ("age:[1 to 10]", "expected TO at position 7"),
        ("age:[1 TO 10", "expected ] or } at position 12"),
        ("age:[TO 10]", "expected a number or * at position 5"),
        ("age:[1 TO ]", "expected a number or * at position 10"),
        ("age:", "expected a value at position 4"),
        ("age 1", "expected : at position 4"),
        (":1", "expected a field name at position 0"),
        ("", "expected a field name at position 0"),
        ("   ", "expected a field name at position 3"),
        ("age:1 age:2", "expected &&, || or the end of the filter at position 6"),
        ("age:1 &&", "expected a field name at position 8"),
        ("(age:1", "expected ) at position 6"),
        ("age:1)", "expected &&, || or the end of the filter at position 5"),
        ("!age:1", "negation must be parenthesised, as (!field:value), at position 0"),
        ("age:1 && !age:2", "negation must be parenthesised"),
        ("(!age:1 && age:2)", "expected ) at position 8"),
        ("(!!age:1)", "negation must be parenthesised"),
        ("nope:1", "filter: unknown field nope"),
        ("a.b:1", "invalid field name at position 0"),
        ("x" * 37 + ":1", "invalid field name"),
        ("age:abc", "integer value for age at position 4 must be a whole number"),
        ("age:1.0", "must be a whole number"),
        ("age:2147483648", "integer value for age at position 4 is out of range"),
        ("age:-2147483649", "out of range"),
        ("big:9223372036854775808", "long value for big at position 4 is out of range"),
        ("score:3.5e38", "float value for score at position 6 is out of range"),
        ("ratio:1e400", "out of range"),
        ("ratio:inf", "must be a number"),
        ("ratio:nan", "must be a number"),
        ("ratio:1_0", "must be a number"),
        ("male:yes", "boolean value for male at position 5 must be true or false"),
        ("male:1", "must be true or false"),
        ("title:[a TO b]", "range on string field title at position 6"),
        ("male:[0 TO 1]", "range on boolean field male"),
        ("external_image_id:{1 TO 2}", "range on string field external_image_id"),
        ("title:a.b", "string value for title at position 6 must be 1-256 characters"),
        ("title:" + "a" * 257, "must be 1-256 characters"),
        ('title:"' + "a" * 257 + '"', "string longer than 256 characters at position 6"),
        ('title:""', "empty string at position 6"),
        ("title:null", "null search is not supported, at position 6"),
        ("age:null", "null search is not supported"),
        ('title:"abc', "unterminated string starting at position 6"),
        ('title:"a\\nb"', "invalid escape at position 8"),
        ('title:"a\x00b"', "invalid character in string at position 8"),
        ("age:1 & age:2", "unexpected character '&' at position 6"),
        ("age:1 | age:2", "unexpected character '|'"),
        ("age:１", "unexpected character '\\uff11' at position 4"),
        ("age:'1'", "unexpected character U+0027 at position 4"),
        ("age:*", "expected a value at position 4"),
        ("age:[1 TO 2]]", "expected &&, || or the end of the filter at position 12"),
    ],
)
def test_errors_name_position_and_expectation(text, message):
    assert message in refused(text)


def test_non_string_filter_is_refused():
    for value in (None, 12, b"age:1", ["age:1"]):
        assert "filter: must be a string" in refused(value)


def test_length_cap():
    ok = " ".join(["age:1"] + ["|| age:1"] * 100)
    assert len(ok) <= MAX_FILTER_LENGTH and parse(ok)
    too_long = "age:1" + " " * MAX_FILTER_LENGTH
    assert f"longer than {MAX_FILTER_LENGTH} characters" in refused(too_long)


def test_depth_cap():
    assert parse("(" * MAX_DEPTH + "age:1" + ")" * MAX_DEPTH) == Term("age", 1)
    assert parse("(!" * MAX_DEPTH + "age:1" + ")" * MAX_DEPTH)
    deep = "(" * (MAX_DEPTH + 1) + "age:1" + ")" * (MAX_DEPTH + 1)
    assert f"nesting deeper than {MAX_DEPTH} at position {MAX_DEPTH}" in refused(deep)
    assert "nesting deeper" in refused("(" * 1500)  # refused by the cap, never a RecursionError


def test_schema_types_and_builtins():
    assert parse_filter("face_id:x", {"face_id": "integer"}) == Term("face_id", "x")  # built-ins win
    assert parse_filter("n:5", {"n": "LONG"}) == Term("n", 5)
    with pytest.raises(FRSError, match="field n has an unsupported type") as caught:
        parse_filter("n:5", {"n": "date"})
    assert caught.value.code == "FRS.0012"


# --- evaluation and SQL ----------------------------------------------------------------------------


def test_evaluate_missing_fields():
    assert not evaluate(Term("age", 1), {})
    assert not evaluate(Term("age", 1), {"age": None})
    assert not evaluate(Range("age", None, None), {})
    assert evaluate(Range("age", None, None), {"age": 0})
    assert evaluate(Not(Term("age", 1)), {})
    assert evaluate(Not(Range("age", 1, 2)), {"title": "x"})
    assert not evaluate(Term("age", 1), {"age": "1"})  # a value of the wrong type never matches
    assert not evaluate(Range("age", 1, 2), {"age": "1"})
    assert evaluate(And(()), {}) and not evaluate(Or(()), {})


def test_sql_uses_only_placeholders():
    evil = "x' OR 1=1; DROP TABLE faces; --"
    sql, params = to_sql(parse(f'title:"{evil}" || (!male:true) || age:[1 TO *}}'), json_column)
    assert evil not in sql and "DROP" not in sql
    assert params == [evil, 1, 1]
    assert sql.count("?") == len(params)
    with pytest.raises(ValueError):
        to_sql(Term("age'--", 1), json_column)  # hand-built trees are checked too


def select_ids(records: list[dict[str, object]], expr: Expr) -> set[int]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE faces (id INTEGER PRIMARY KEY, fields TEXT NOT NULL)")
    db.executemany("INSERT INTO faces VALUES (?, ?)", [(i, json.dumps(r)) for i, r in enumerate(records)])
    sql, params = to_sql(expr, json_column)
    return {row[0] for row in db.execute(f"SELECT id FROM faces WHERE {sql}", params)}


def test_sql_not_matches_missing_field():
    records = [{"age": 1}, {"age": 2}, {}, {"age": None}, {"male": True}, {"male": False}]
    assert select_ids(records, parse("(!age:1)")) == {1, 2, 3, 4, 5}
    assert select_ids(records, parse("(!age:[* TO *])")) == {2, 3, 4, 5}
    assert select_ids(records, parse("male:true")) == {4}
    assert select_ids(records, parse("(!male:false)")) == {0, 1, 2, 3, 4}


# --- properties ------------------------------------------------------------------------------------

FLOATS = [-2.5, -1.0, -0.0, 0.25, 1.0, 3.75]  # exact in binary, so JSON text -> REAL is exact
STRINGS = ["a", "B", "x-1", "two words", 'q"uote', "back\\slash", "null", "é"]
SMALL = {
    "string": st.sampled_from(STRINGS),
    "integer": st.sampled_from([-(2**31), -1, 0, 1, 2, 2**31 - 1]),
    "long": st.sampled_from([-(2**63), -1, 0, 1, 2, 2**63 - 1]),
    "float": st.sampled_from(FLOATS),
    "double": st.sampled_from(FLOATS),
    "boolean": st.booleans(),
}
WIDE = {
    "string": st.text(st.characters(blacklist_categories=("C",)), min_size=1, max_size=12),
    "integer": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(allow_nan=False, allow_infinity=False, width=32),
    "double": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
}


def asts(values: dict[str, st.SearchStrategy]) -> st.SearchStrategy[Expr]:
    def term(field: str) -> st.SearchStrategy[Expr]:
        return values[FIELD_TYPES[field]].map(lambda v: Term(field, v))

    def rng(field: str) -> st.SearchStrategy[Expr]:
        bound = st.none() | values[SCHEMA[field]]
        return st.builds(Range, st.just(field), bound, bound, st.booleans(), st.booleans())

    leaves = st.one_of(*[term(f) for f in FIELD_TYPES], *[rng(f) for f in NUMERIC])
    pairs = st.lists  # And/Or hold 2+ items: a single one would parse back without the node
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            kids.map(Not),
            pairs(kids, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            pairs(kids, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        ),
        max_leaves=10,
    )


def render_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if text != "null" and re.fullmatch(r"[0-9A-Za-z_-]{1,256}", text):
        return text  # bare where the grammar allows it, quoted otherwise
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(expr: Expr, sep: str = " ") -> str:
    """The text for an AST; every nested group is parenthesised so the tree shape survives."""

    def group(child: Expr) -> str:
        return f"({render(child, sep)})" if isinstance(child, And | Or) else render(child, sep)

    if isinstance(expr, Term):
        return f"{expr.field}:{render_value(expr.value)}"
    if isinstance(expr, Range):
        low = "*" if expr.low is None else render_value(expr.low)
        high = "*" if expr.high is None else render_value(expr.high)
        return (f"{expr.field}:{'[' if expr.low_inclusive else '{'}{low} TO {high}"
                f"{']' if expr.high_inclusive else '}'}")
    if isinstance(expr, Not):
        return f"(!{group(expr.expr)})"
    joiner = f"{sep}&&{sep}" if isinstance(expr, And) else f"{sep}||{sep}"
    return joiner.join(group(item) for item in expr.items)


def depth(expr: Expr) -> int:
    """Parenthesis nesting that render() produces for expr."""
    if isinstance(expr, Not):
        return 1 + (1 if isinstance(expr.expr, And | Or) else 0) + depth(expr.expr)
    if isinstance(expr, And | Or):
        return max((1 if isinstance(i, And | Or) else 0) + depth(i) for i in expr.items)
    return 0


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(asts(WIDE), st.sampled_from([" ", "", "\t\n "]))
def test_render_then_parse_round_trips(expr, sep):
    text = render(expr, sep)
    assume(len(text) <= MAX_FILTER_LENGTH and depth(expr) <= MAX_DEPTH)
    got = parse(text)
    assert got == expr and repr(got) == repr(expr)


def records() -> st.SearchStrategy[list[dict[str, object]]]:
    missing = st.sampled_from(["absent", None])  # no key at all, or an explicit JSON null
    one = st.fixed_dictionaries({f: missing | SMALL[t] for f, t in FIELD_TYPES.items()}).map(
        lambda r: {k: v for k, v in r.items() if v != "absent"}
    )
    return st.lists(one, max_size=8)


@FAST
@given(asts(SMALL), records())
def test_sql_selects_exactly_what_evaluate_matches(expr, rows):
    assert select_ids(rows, expr) == {i for i, r in enumerate(rows) if evaluate(expr, r)}


def check_only_frs_0012(text: str) -> None:
    try:
        expr = parse(text)
    except FRSError as error:
        assert error.code == "FRS.0012" and len(error.message) < 300
        return
    evaluate(expr, {})  # whatever parses must also evaluate and compile
    to_sql(expr, json_column)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_junk_text_only_raises_frs_0012(text):
    check_only_frs_0012(text)


GRAMMAR_ALPHABET = list("()[]{}!&|:*\"\\ .+-_e019") + ["TO", "age", "title", "male", "score", "big",
                                                        "true", "null", "&&", "||", "(!", " TO "]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(GRAMMAR_ALPHABET), max_size=40).map("".join))
def test_grammar_shaped_junk_only_raises_frs_0012(text):
    check_only_frs_0012(text)


@settings(max_examples=300, deadline=None)
@given(asts(WIDE), st.data())
def test_mutated_filters_only_raise_frs_0012(expr, data):
    text = render(expr)
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.sampled_from(["", "(", ")", "!", "&&", "||", "\"", "TO", ":", "[", "}", "*", " "]))
    check_only_frs_0012(text[:at] + insert + text[at + cut:])
