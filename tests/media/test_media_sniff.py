"""Format sniffing and header-only size reading (openfrs.media.sniff)."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from openfrs.errors import FRSError
from openfrs.media.sniff import read_dimensions, sniff_format


@pytest.mark.parametrize(
    ("fmt", "options", "expected"),
    [
        ("JPEG", {}, "JPEG"),
        ("JPEG", {"progressive": True}, "JPEG"),
        ("PNG", {}, "PNG"),
        ("BMP", {}, "BMP"),
        ("WEBP", {"lossless": False}, "WEBP"),  # VP8
        ("WEBP", {"lossless": True}, "WEBP"),  # VP8L
        ("WEBP", {"lossless": False, "exif": b"Exif\x00\x00II*\x00"}, "WEBP"),  # VP8X
    ],
)
def test_sniff_and_header_size_match_pillow(make_image, fmt, options, expected) -> None:
    data = make_image(fmt, 123, 45, **options)
    assert sniff_format(data) == expected
    assert read_dimensions(data, expected) == (123, 45)


def test_webp_variants_really_cover_all_three_chunk_kinds(make_image) -> None:
    chunks = {
        make_image("WEBP", 20, 20, lossless=False)[12:16],
        make_image("WEBP", 20, 20, lossless=True)[12:16],
        make_image("WEBP", 20, 20, exif=b"Exif\x00\x00II*\x00")[12:16],
    }
    assert chunks == {b"VP8 ", b"VP8L", b"VP8X"}


def test_bmp_top_down_negative_height() -> None:
    header = b"BM" + b"\x00" * 12 + struct.pack("<Iii", 40, 30, -20)
    assert read_dimensions(header, "BMP") == (30, 20)


def test_bmp_os2_core_header() -> None:
    header = b"BM" + b"\x00" * 12 + struct.pack("<IHH", 12, 30, 20)
    assert sniff_format(header) == "BMP"
    assert read_dimensions(header, "BMP") == (30, 20)


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"hello, I am a text file named photo.jpg\n", "not a recognised image"),
        (b"", "not a recognised image"),
        (b"GIF89a\x10\x00\x10\x00", "GIF"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF"),
        (b"\x00\x00\x00\x18ftypheic", "HEIF"),
        (b"BMW is a car brand, not a bitmap header", "not a recognised image"),
    ],
)
def test_unsupported_data_is_frs_0016(data: bytes, hint: str) -> None:
    with pytest.raises(FRSError) as err:
        sniff_format(data)
    assert err.value.code == "FRS.0016"
    assert hint in err.value.message


def test_real_gif_is_unsupported() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buffer, "GIF")
    with pytest.raises(FRSError) as err:
        sniff_format(buffer.getvalue())
    assert err.value.code == "FRS.0016"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP"])
def test_header_cut_short_is_frs_0015(make_image, fmt: str) -> None:
    data = make_image(fmt, 40, 40)
    cut = data[:14] if fmt != "JPEG" else data[:6]
    with pytest.raises(FRSError) as err:
        read_dimensions(cut, fmt)
    assert err.value.code == "FRS.0015"


def test_jpeg_without_frame_header_is_frs_0015() -> None:
    data = b"\xff\xd8" + b"\xff\xfe\x00\x04hi" + b"\xff\xda\x00\x02" + b"\xff\xd9"
    with pytest.raises(FRSError) as err:
        read_dimensions(data, "JPEG")
    assert err.value.code == "FRS.0015"


def test_jpeg_with_endless_segments_is_bounded() -> None:
    data = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 5000
    with pytest.raises(FRSError) as err:
        read_dimensions(data, "JPEG")
    assert err.value.code == "FRS.0015"


def test_zero_sized_png_header_is_frs_0015() -> None:
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 0, 10)
    with pytest.raises(FRSError) as err:
        read_dimensions(data, "PNG")
    assert err.value.code == "FRS.0015"
