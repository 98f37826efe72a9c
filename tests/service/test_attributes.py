"""Parsing the FRS `attributes` parameter: every documented code accepted, junk refused."""

from __future__ import annotations

import pytest

from openfrs.errors import FRSError
from openfrs.service.attributes import parse_attributes


def test_codes_are_parsed_and_unknown_ones_ignored():
    assert parse_attributes("1, 2,21,,99") == {1, 2, 21}
    assert parse_attributes("") == frozenset()
    assert parse_attributes(None) == frozenset()


@pytest.mark.parametrize("value", ["1,two", "²", "١", "9" * 5000, "-1", "1.5", 12, ["1"]])
def test_junk_is_refused_with_frs_0012(value):
    with pytest.raises(FRSError) as caught:
        parse_attributes(value)
    assert caught.value.code == "FRS.0012"
    assert len(caught.value.message) < 300
