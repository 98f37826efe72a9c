"""image_base64 decoding (openfrs.media.base64img)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openfrs.errors import FRSError
from openfrs.media.base64img import decode_base64

PAYLOAD = b"\x89PNG\r\n\x1a\n\xff\xfe\xfd binary \x00\x01\x02 payload?>"
STANDARD = base64.b64encode(PAYLOAD).decode()
URLSAFE = base64.urlsafe_b64encode(PAYLOAD).decode()


def test_plain_standard_base64() -> None:
    assert decode_base64(STANDARD) == PAYLOAD


@pytest.mark.parametrize(
    "prefix",
    [
        "data:image/png;base64,",
        "data:image/jpeg;base64,",
        "DATA:IMAGE/PNG;BASE64,",
        "data:;base64,",
    ],
)
def test_data_url_prefix_is_stripped(prefix: str) -> None:
    assert decode_base64(prefix + STANDARD) == PAYLOAD


def test_whitespace_and_line_wrapping_are_tolerated() -> None:
    wrapped = "\n".join(STANDARD[i : i + 10] for i in range(0, len(STANDARD), 10))
    assert decode_base64(f"  \r\n{wrapped}\r\n\t ") == PAYLOAD
    assert decode_base64(base64.encodebytes(PAYLOAD).decode()) == PAYLOAD


def test_urlsafe_alphabet_is_accepted() -> None:
    assert "-" in URLSAFE or "_" in URLSAFE  # the payload was chosen to exercise both alphabets
    assert decode_base64(URLSAFE) == PAYLOAD


def test_missing_padding_is_accepted() -> None:
    for size in range(1, 8):
        data = PAYLOAD[:size]
        assert decode_base64(base64.b64encode(data).decode().rstrip("=")) == data


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "data:image/png;base64,", "=="])
def test_empty_is_frs_0011(text: str) -> None:
    with pytest.raises(FRSError) as err:
        decode_base64(text)
    assert err.value.code == "FRS.0011"


@pytest.mark.parametrize(
    "text",
    [
        "not base64 at all!",
        "abc$def",
        "ab==cd",  # padding in the middle
        "a",  # impossible length
        "abcde",
        "ab+c-d",  # mixed alphabets
        "ÄÖÜ",
        "data:image/png,rawbytes",  # a data URL that is not base64
        "data:image/png;base64,@@@@",
    ],
)
def test_invalid_is_frs_0015(text: str) -> None:
    with pytest.raises(FRSError) as err:
        decode_base64(text)
    assert err.value.code == "FRS.0015"


@given(
    data=st.binary(min_size=1, max_size=300),
    urlsafe=st.booleans(),
    strip_padding=st.booleans(),
    wrap=st.integers(min_value=0, max_value=80),
)
def test_round_trip_in_every_dialect(
    data: bytes, urlsafe: bool, strip_padding: bool, wrap: int
) -> None:
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()
    if strip_padding:
        text = text.rstrip("=")
    if wrap:
        text = "\n".join(text[i : i + wrap] for i in range(0, len(text), wrap))
    assert decode_base64(text) == data
