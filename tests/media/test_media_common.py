"""The shared size cap (openfrs.media._common): read_capped, check_size and the FRS.0017 wording."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import pytest

from openfrs.errors import FRSError
from openfrs.media._common import body_too_large, check_size, human_size, read_capped


async def stream(chunks: Iterable[bytes], consumed: list[int] | None = None) -> AsyncIterator[bytes]:
    for chunk in chunks:
        if consumed is not None:
            consumed.append(len(chunk))
        yield chunk


async def must_not_be_read() -> AsyncIterator[bytes]:
    raise AssertionError("the body was read although its declared length is over the cap")
    yield b""  # pragma: no cover - makes this an async generator


def read(chunks: AsyncIterator[bytes], max_bytes: int, declared: str | None = None) -> bytes:
    return asyncio.run(read_capped(chunks, max_bytes, declared))


def expect_0017(chunks: AsyncIterator[bytes], max_bytes: int, declared: str | None = None) -> str:
    with pytest.raises(FRSError) as err:
        read(chunks, max_bytes, declared)
    assert err.value.code == "FRS.0017"
    return err.value.message


def test_reads_all_chunks_under_the_cap() -> None:
    assert read(stream([b"ab", b"", b"cde"]), 10) == b"abcde"


def test_exactly_at_the_cap_is_accepted() -> None:
    assert read(stream([b"x" * 600, b"y" * 424]), 1024, declared="1024") == b"x" * 600 + b"y" * 424


def test_streamed_overflow_stops_at_the_first_chunk_past_the_cap() -> None:
    consumed: list[int] = []
    chunks = stream([b"a" * 600, b"b" * 600, b"c" * 600, b"d" * 600], consumed)
    assert expect_0017(chunks, 1024) == body_too_large(1024).message
    assert consumed == [600, 600]  # never pulled the third chunk


@pytest.mark.parametrize("declared", ["1025", "99999999999", "9" * 5000, " 2048 ", "0" * 50 + "2000"])
def test_declared_length_over_the_cap_is_refused_before_reading(declared: str) -> None:
    assert "1KB" in expect_0017(must_not_be_read(), 1024, declared)


@pytest.mark.parametrize(
    "declared",
    [
        "²",  # "²".isdigit() is True, int("²") raises
        "١٠٠٠٠٠",  # Arabic-Indic digits: isdigit() and int() both accept them
        "１２３４５６",  # full-width digits
        "-5",
        "abc",
        "",
        "0" * 50 + "10",
    ],
)
def test_declared_length_that_is_not_plain_ascii_digits_is_ignored(declared: str) -> None:
    assert read(stream([b"0123456789"]), 1024, declared) == b"0123456789"
    expect_0017(stream([b"z" * 2000]), 1024, declared)  # the running count still applies


def test_an_understated_declared_length_does_not_lift_the_cap() -> None:
    expect_0017(stream([b"z" * 700, b"z" * 700]), 1024, declared="10")


def test_check_size_and_message_format() -> None:
    check_size(1024, 1024)
    with pytest.raises(FRSError) as err:
        check_size(1025, 1024)
    assert err.value.message == body_too_large(1024).message
    assert err.value.message.startswith("The size of the request body is out of the range 1KB (")
    assert "multipart image_file" in err.value.message  # names the way around base64's third
    assert [human_size(n) for n in (8 * 1024 * 1024, 100 * 1024, 10_000)] == [
        "8MB",
        "100KB",
        "10000 bytes",
    ]
