"""One filter tree, two SQL dialects: SQLite and PostgreSQL select the same faces, and both
select exactly what evaluate() (the brute-force reference) matches."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import face, face_set, fresh_schema

from openfrs.service.filters import And, Expr, Not, Or, Range, Term, evaluate, parse_filter
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.sql_filter import POSTGRES, SQLITE, to_sql
from openfrs.store.sqlite import SQLiteMetadataStore

SCHEMA = {"title": "string", "age": "integer", "big": "long", "score": "double", "male": "boolean"}
VALUES = {
    "title": ["a", "B", "x-1", "two words", 'q"uote', "back\\slash", "null", "é", "1"],
    "age": [-(2**31), -1, 0, 1, 2, 2**31 - 1],
    "big": [-(2**63), -1, 0, 1, 2, 2**63 - 1],
    "score": [-2.5, -1.0, -0.0, 0.1, 0.25, 1.0, 3.75, 1e-7, 1e300],
    "male": [True, False],
}
MISSING = object()


def make_records(count: int = 80) -> list[dict[str, object]]:
    """Well-typed fields as the service stores them, some absent, some an explicit null."""
    rng = random.Random(7)
    records = []
    for _ in range(count):
        record = {}
        for field, values in VALUES.items():
            value = rng.choice([MISSING, None, *values, *values])
            if value is not MISSING:
                record[field] = value
        records.append(record)
    return records


RECORDS = make_records()


@pytest.fixture(scope="module")
def both(pg_url: str, tmp_path_factory: pytest.TempPathFactory):
    """(sqlite store, its set key, postgres store, its set key), holding RECORDS in order."""
    with fresh_schema(pg_url) as schema:
        stores = [SQLiteMetadataStore(Path(tmp_path_factory.mktemp("filters")) / "meta.db"),
                  PostgresMetadataStore(pg_url, schema, max_connections=2)]
        keys = []
        for store in stores:
            set_key = store.create_face_set(face_set(fields=SCHEMA)).key
            faces = [face(i, image=f"img{i % 3}", fields=record) for i, record in enumerate(RECORDS)]
            keys.append(set_key)
            store.add_faces(set_key, faces)
        yield stores[0], keys[0], stores[1], keys[1]
        for store in stores:
            store.close()


def with_builtins(index: int, record: dict[str, object]) -> dict[str, object]:
    """A record as evaluate() sees it: the faces' own columns next to their custom fields."""
    return {**record, "external_image_id": f"img{index % 3}", "face_id": f"f{index:07d}"}


def matches(store, set_key: int, expr: Expr) -> set[int]:
    """Indexes into RECORDS of the faces the store selects (face_id f0000012 is record 12)."""
    keys = store.keys_matching(set_key, expr).tolist()
    return {int(found.face_id[1:]) for found in store.faces_by_keys(set_key, keys).values()}


def check(both, expr: Expr) -> None:
    sqlite_store, sqlite_key, pg_store, pg_key = both
    expected = {i for i, record in enumerate(RECORDS) if evaluate(expr, with_builtins(i, record))}
    assert matches(sqlite_store, sqlite_key, expr) == expected
    assert matches(pg_store, pg_key, expr) == expected


@pytest.mark.parametrize("text", [
    "title:a", 'title:"two words"', 'title:"q\\"uote"', 'title:"null"', "title:1", "(!title:a)",
    "age:0", "age:[0 TO 2]", "age:{0 TO 2}", "age:[* TO -1]", "age:[1 TO *}", "(!age:[* TO *])",
    "big:9223372036854775807", "big:[-9223372036854775808 TO 0]", "(!big:1)",
    "score:0.1", "score:0", "score:-0.0", "score:1e300", "score:[0.1 TO 1]", "score:{-2.5 TO 1.0}",
    "score:[1e-7 TO 0.1]", "male:true", "(!male:false)",
    "age:1 || male:true", "(age:[0 TO *] && (!title:a)) || score:3.75",
    "external_image_id:img1", "(!external_image_id:img2) && face_id:f0000003",
])
def test_both_dialects_select_what_evaluate_matches(both, text):
    check(both, parse_filter(text, SCHEMA))


def _leaf(field: str) -> st.SearchStrategy[Expr]:
    term = st.sampled_from(VALUES[field]).map(lambda value: Term(field, value))
    if field in ("title", "male"):
        return term
    bound = st.none() | st.sampled_from(VALUES[field])
    return term | st.builds(Range, st.just(field), bound, bound, st.booleans(), st.booleans())


TREES = st.recursive(
    st.one_of(*[_leaf(field) for field in VALUES]),
    lambda kids: st.one_of(kids.map(Not),
                           st.lists(kids, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
                           st.lists(kids, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs)))),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TREES)
def test_random_trees_select_the_same_faces_in_both_dialects(both, expr):
    check(both, expr)


def test_the_dialects_differ_only_in_how_a_leaf_is_written():
    expr = parse_filter("(!age:[1 TO 2]) || title:x", SCHEMA)
    sqlite_sql, sqlite_params = to_sql(expr, SQLITE)
    pg_sql, pg_params = to_sql(expr, POSTGRES)
    assert sqlite_sql.count("?") == 3 and "%s" not in sqlite_sql and sqlite_params == [1, 2, "x"]
    assert pg_sql.count("%s") == 3 and "?" not in pg_sql and [str(p) for p in pg_params] == ["1", "2", '"x"']
    assert sqlite_sql.startswith("((NOT COALESCE(") and pg_sql.startswith("((NOT COALESCE(")
