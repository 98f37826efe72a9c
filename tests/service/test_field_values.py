"""Custom field values are checked against the face set's declared types."""

from __future__ import annotations

import pytest

from openfrs.errors import FRSError
from openfrs.service.field_values import validate_values

SCHEMA = {"age": "integer", "id": "long", "score": "double", "ok": "boolean", "name": "string"}


def test_values_of_the_declared_types_pass():
    values = {"age": 30, "id": 2**40, "score": 1, "ok": True, "name": "Ann_1-b"}
    assert validate_values(values, SCHEMA) == {**values, "score": 1.0}
    assert validate_values('{"age": 3}', SCHEMA) == {"age": 3}  # multipart sends JSON text
    assert validate_values(None, SCHEMA) == {}


@pytest.mark.parametrize("values, code", [
    ({"height": 3}, "FRS.0405"),
    ({"age": "30"}, "FRS.0406"),
    ({"age": 2**31}, "FRS.0406"),
    ({"age": True}, "FRS.0406"),
    ({"score": float("nan")}, "FRS.0406"),
    ({"ok": 1}, "FRS.0406"),
    ({"name": "has space"}, "FRS.0406"),
    ({"name": ""}, "FRS.0406"),
    ("not json", "FRS.0012"),
    ([1, 2], "FRS.0012"),
])
def test_bad_values_get_their_frs_code(values, code):
    with pytest.raises(FRSError) as caught:
        validate_values(values, SCHEMA)
    assert caught.value.code == code


def test_type_messages_read_as_english():
    with pytest.raises(FRSError) as caught:
        validate_values({"age": "x"}, SCHEMA)
    assert "external_fields.age must be an integer" in caught.value.message
    with pytest.raises(FRSError) as caught:
        validate_values({"ok": "x"}, SCHEMA)
    assert "external_fields.ok must be a boolean" in caught.value.message


def test_null_removes_a_field_only_in_an_update():
    assert validate_values({"age": None, "ok": True}, SCHEMA, allow_null=True) == {"age": None, "ok": True}
    with pytest.raises(FRSError):
        validate_values({"age": None}, SCHEMA)  # an add has nothing to remove
