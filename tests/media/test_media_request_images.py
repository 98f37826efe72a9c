"""Shared image-input rules (openfrs.media.request_images). No network: URLs use a fake fetcher."""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import pytest

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media.request_images import (
    ImageSource,
    load_image,
    parse_json_body,
    pick_image_source,
)

SETTINGS = Settings()


def frs_code(call, *args) -> str:
    with pytest.raises(FRSError) as err:
        call(*args)
    return err.value.code


# pick_image_source ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "kind", "payload"),
    [
        ({"image_base64": "aGVsbG8="}, "base64", "aGVsbG8="),
        ({"image_url": "https://example.test/a.jpg"}, "url", "https://example.test/a.jpg"),
        ({"image_file": b"\xff\xd8\xff"}, "file", b"\xff\xd8\xff"),
        ({"image_file": bytearray(b"abc")}, "file", b"abc"),
        ({"image_base64": b"aGVsbG8="}, "base64", "aGVsbG8="),  # a multipart text part as bytes
        ({"image_base64": "aGVsbG8=", "image_url": None, "other": 1}, "base64", "aGVsbG8="),
    ],
)
def test_picks_the_single_given_field(fields, kind, payload) -> None:
    assert pick_image_source(fields, "image") == ImageSource(kind, payload)


def test_prefixes_for_compare() -> None:
    fields = {"image1_url": "https://example.test/1.jpg", "image2_base64": "aGVsbG8="}
    assert pick_image_source(fields, "image1") == ImageSource("url", "https://example.test/1.jpg")
    assert pick_image_source(fields, "image2") == ImageSource("base64", "aGVsbG8=")
    with pytest.raises(FRSError) as err:
        pick_image_source(fields, "image")
    assert err.value.code == "FRS.0011"


def test_none_given_names_the_expected_fields() -> None:
    with pytest.raises(FRSError) as err:
        pick_image_source({"image1_url": "x"}, "image2")
    assert err.value.code == "FRS.0011"
    for name in ("image2_base64", "image2_url", "image2_file"):
        assert name in err.value.message


@pytest.mark.parametrize(
    "fields",
    [
        {"image_base64": "aGVsbG8=", "image_url": "https://example.test/a.jpg"},
        {"image_url": "https://example.test/a.jpg", "image_file": b"abc"},
        {"image_base64": "aGVsbG8=", "image_url": "u", "image_file": b"abc"},
        {"image_base64": "aGVsbG8=", "image_url": ""},  # an empty second field still counts
    ],
)
def test_two_or_more_fields_is_frs_0012(fields) -> None:
    with pytest.raises(FRSError) as err:
        pick_image_source(fields, "image")
    assert err.value.code == "FRS.0012"
    assert "only one of" in err.value.message


@pytest.mark.parametrize(
    "fields",
    [{"image_base64": ""}, {"image_url": "   "}, {"image_file": b""}, {"image_base64": b""}],
)
def test_empty_value_is_frs_0011_naming_the_field(fields) -> None:
    with pytest.raises(FRSError) as err:
        pick_image_source(fields, "image")
    assert err.value.code == "FRS.0011"
    assert next(iter(fields)) in err.value.message


@pytest.mark.parametrize(
    "fields",
    [
        {"image_url": 42},
        {"image_base64": ["aGVsbG8="]},
        {"image_base64": {"a": 1}},
        {"image_file": "not an upload"},
        {"image_url": b"\xff\xfe bad utf-8"},
    ],
)
def test_wrong_types_are_frs_0012(fields) -> None:
    assert frs_code(pick_image_source, fields, "image") == "FRS.0012"


@pytest.mark.parametrize(("kind", "payload"), [("file", "text"), ("url", b"bytes"), ("base64", b"x")])
def test_image_source_payload_type_must_match_its_kind(kind, payload) -> None:
    with pytest.raises(TypeError):
        ImageSource(kind, payload)


# load_image ----------------------------------------------------------------------------------


def test_load_from_base64_data_url(make_image) -> None:
    text = "data:image/png;base64," + base64.b64encode(make_image("PNG", 40, 30)).decode()
    array = asyncio.run(load_image(ImageSource("base64", text), SETTINGS))
    assert array.shape == (30, 40, 3) and array.dtype == np.uint8


def test_load_from_file(make_image) -> None:
    source = ImageSource("file", make_image("JPEG", 40, 30))
    assert asyncio.run(load_image(source, SETTINGS)).shape == (30, 40, 3)


def test_load_from_url_uses_the_fetcher(make_image) -> None:
    calls: list[str] = []

    async def fetcher(url: str, settings: Settings) -> bytes:
        calls.append(url)
        return make_image("WEBP", 40, 30, lossless=True)

    source = ImageSource("url", "https://images.example.test/a.webp")
    array = asyncio.run(load_image(source, SETTINGS, fetcher=fetcher))
    assert array.shape == (30, 40, 3)
    assert calls == ["https://images.example.test/a.webp"]


def test_load_propagates_fetcher_errors() -> None:
    async def fetcher(url: str, settings: Settings) -> bytes:
        raise FRSError("FRS.0021", "refused")

    source = ImageSource("url", "http://10.0.0.1/")
    with pytest.raises(FRSError) as err:
        asyncio.run(load_image(source, SETTINGS, fetcher=fetcher))
    assert err.value.code == "FRS.0021"


@pytest.mark.parametrize(
    ("source", "code"),
    [
        (ImageSource("base64", "!!!not base64!!!"), "FRS.0015"),
        (
            ImageSource("base64", base64.b64encode(b"plain text").decode()),
            "FRS.0016",
        ),
        (ImageSource("file", b"plain text named face.jpg"), "FRS.0016"),
    ],
)
def test_load_errors_are_frs(source: ImageSource, code: str) -> None:
    with pytest.raises(FRSError) as err:
        asyncio.run(load_image(source, SETTINGS))
    assert err.value.code == code


def test_load_applies_settings_limits(make_image) -> None:
    settings = Settings(max_image_side=32)
    source = ImageSource("file", make_image("PNG", 40, 20))
    with pytest.raises(FRSError) as err:
        asyncio.run(load_image(source, settings))
    assert err.value.code == "FRS.0013"


# parse_json_body -----------------------------------------------------------------------------


def test_parses_a_json_object() -> None:
    body = json.dumps({"image_url": "https://example.test/a.jpg", "attributes": "2"}).encode()
    assert parse_json_body(body, 1000)["attributes"] == "2"


def test_utf8_bom_is_tolerated() -> None:
    assert parse_json_body(b'\xef\xbb\xbf{"a": 1}', 1000) == {"a": 1}


@pytest.mark.parametrize("raw", [b"", b"   \n"])
def test_empty_body_is_frs_0011(raw: bytes) -> None:
    assert frs_code(parse_json_body, raw, 1000) == "FRS.0011"


def test_body_over_the_limit_is_frs_0017() -> None:
    raw = json.dumps({"image_base64": "A" * 2000}).encode()
    with pytest.raises(FRSError) as err:
        parse_json_body(raw, 1024)
    assert err.value.code == "FRS.0017"
    assert "1KB" in err.value.message


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"a": 1,}',
        b"[1, 2]",
        b'"a string"',
        b"42",
        b"null",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
    ],
)
def test_malformed_or_non_object_json_is_frs_0014(raw: bytes) -> None:
    assert frs_code(parse_json_body, raw, 10_000_000) == "FRS.0014"
