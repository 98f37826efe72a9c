"""Bytes -> RGB array (openfrs.media.decode), with real images encoded by Pillow."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media.decode import ImageLimits, decode_image

LIMITS = ImageLimits()


def assert_rgb(array: np.ndarray, width: int, height: int) -> None:
    assert array.shape == (height, width, 3)
    assert array.dtype == np.uint8
    assert array.flags.c_contiguous


@pytest.mark.parametrize("fmt", ["PNG", "BMP"])
def test_lossless_formats_round_trip_exactly(gradient, make_image, fmt: str) -> None:
    array = decode_image(make_image(fmt, 64, 48), LIMITS)
    assert_rgb(array, 64, 48)
    np.testing.assert_array_equal(array, gradient(64, 48))


def test_lossless_webp_round_trips_exactly(gradient, make_image) -> None:
    array = decode_image(make_image("WEBP", 64, 48, lossless=True), LIMITS)
    np.testing.assert_array_equal(array, gradient(64, 48))


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_lossy_formats_decode_close_to_source(gradient, make_image, fmt: str) -> None:
    array = decode_image(make_image(fmt, 64, 48, quality=95), LIMITS)
    assert_rgb(array, 64, 48)
    diff = np.abs(array.astype(int) - gradient(64, 48).astype(int))
    assert diff.mean() < 6


def test_exif_orientation_6_is_applied(gradient, encode) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(Image.fromarray(gradient(60, 30)), "JPEG", exif=exif.tobytes())
    array = decode_image(data, LIMITS)
    assert_rgb(array, 30, 60)  # stored 60x30, displayed 30x60


def test_malformed_exif_is_ignored(gradient, encode) -> None:
    data = encode(Image.fromarray(gradient(40, 30)), "JPEG", exif=b"Exif\x00\x00garbage")
    assert_rgb(decode_image(data, LIMITS), 40, 30)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_truncated_jpeg_is_refused_not_half_grey(make_image, keep: float) -> None:
    data = make_image("JPEG", 200, 200, quality=90)
    with pytest.raises(FRSError) as err:
        decode_image(data[: int(len(data) * keep)], LIMITS)
    assert err.value.code == "FRS.0015"


def test_jpeg_without_end_marker_is_refused(make_image) -> None:
    data = make_image("JPEG", 200, 200)
    assert data.endswith(b"\xff\xd9")
    with pytest.raises(FRSError) as err:
        decode_image(data[:-2], LIMITS)
    assert err.value.code == "FRS.0015"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP"])
def test_truncated_other_formats_are_refused(make_image, fmt: str) -> None:
    data = make_image(fmt, 120, 120)
    with pytest.raises(FRSError) as err:
        decode_image(data[: len(data) // 2], LIMITS)
    assert err.value.code == "FRS.0015"


def test_png_with_corrupt_data_crc_is_refused(make_image) -> None:
    data = bytearray(make_image("PNG", 64, 64))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    with pytest.raises(FRSError) as err:
        decode_image(bytes(data), LIMITS)
    assert err.value.code == "FRS.0015"


def test_text_file_is_unsupported_format() -> None:
    with pytest.raises(FRSError) as err:
        decode_image(b"this is not a photo, even if it is called face.jpg\n", LIMITS)
    assert err.value.code == "FRS.0016"


def test_empty_data_is_a_parse_error() -> None:
    with pytest.raises(FRSError) as err:
        decode_image(b"", LIMITS)
    assert err.value.code == "FRS.0015"


@pytest.mark.parametrize(("width", "height"), [(1, 1), (15, 100), (100, 15)])
def test_too_small_images_are_refused(make_image, width: int, height: int) -> None:
    with pytest.raises(FRSError) as err:
        decode_image(make_image("PNG", width, height), LIMITS)
    assert err.value.code == "FRS.0013"
    assert "smaller" in err.value.message


def test_side_at_the_limit_is_refused_below_is_accepted(make_image) -> None:
    limits = ImageLimits(max_side=64, min_side=16, max_pixels=64 * 64)
    assert_rgb(decode_image(make_image("PNG", 63, 20), limits), 63, 20)
    for width, height in [(64, 20), (20, 64)]:
        with pytest.raises(FRSError) as err:
            decode_image(make_image("PNG", width, height), limits)
        assert err.value.code == "FRS.0013"


def test_default_limit_refuses_4096_wide(make_image) -> None:
    with pytest.raises(FRSError) as err:
        decode_image(make_image("PNG", 4096, 16), LIMITS)
    assert err.value.code == "FRS.0013"


def test_too_many_pixels_is_refused(make_image) -> None:
    limits = ImageLimits(max_side=1000, min_side=16, max_pixels=100 * 100)
    with pytest.raises(FRSError) as err:
        decode_image(make_image("PNG", 120, 120), limits)
    assert err.value.code == "FRS.0013"


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def huge_png_header(width: int = 30000, height: int = 30000) -> bytes:
    """A well-formed PNG (valid CRCs) whose IHDR claims a giant size, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_huge_png_header_is_refused_fast_without_decoding(monkeypatch) -> None:
    def no_pillow(*args: object, **kwargs: object) -> None:
        raise AssertionError("Pillow must not even open an oversize image")

    monkeypatch.setattr(Image, "open", no_pillow)
    data = huge_png_header()
    tracemalloc.start()
    try:
        with pytest.raises(FRSError) as err:
            decode_image(data, LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.code == "FRS.0013"
    assert "30000x30000" in err.value.message
    # Decoding would need 30000*30000*3 bytes (2.7 GB); refusing from the header needs almost
    # nothing. Allocation, not wall time, is what a shared machine cannot make flaky.
    assert peak < 4_000_000


def test_pillow_bomb_guard_is_mapped_when_limits_are_lax() -> None:
    lax = ImageLimits(max_side=100_000, min_side=1, max_pixels=10**12)
    with pytest.raises(FRSError) as err:
        decode_image(huge_png_header(), lax)
    assert err.value.code == "FRS.0013"


def test_refuses_to_run_if_truncated_loading_was_switched_on(make_image, monkeypatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        decode_image(make_image("PNG"), LIMITS)


def test_greyscale_becomes_three_equal_channels(gradient, encode) -> None:
    grey = Image.fromarray(gradient(40, 30)[:, :, 0])
    array = decode_image(encode(grey, "PNG"), LIMITS)
    assert_rgb(array, 40, 30)
    np.testing.assert_array_equal(array[:, :, 0], gradient(40, 30)[:, :, 0])
    np.testing.assert_array_equal(array[:, :, 0], array[:, :, 2])


def test_16_bit_greyscale_keeps_its_top_byte(encode) -> None:
    values = (np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 50).astype(np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    array = decode_image(encode(image, "PNG"), LIMITS)
    assert_rgb(array, 40, 30)
    np.testing.assert_array_equal(array[:, :, 1], (values >> 8).astype(np.uint8))


def test_rgba_transparent_pixels_become_white(encode) -> None:
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[:, :10] = (255, 0, 0, 255)  # opaque red left half, fully transparent black right half
    array = decode_image(encode(Image.fromarray(rgba), "PNG"), LIMITS)
    assert tuple(array[5, 2]) == (255, 0, 0)
    assert tuple(array[5, 15]) == (255, 255, 255)


def test_palette_with_transparency_becomes_rgb(encode) -> None:
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 0, 128, 0] + [0] * 762)
    image.paste(1, (0, 0, 10, 20))
    array = decode_image(encode(image, "PNG", transparency=0), LIMITS)
    assert tuple(array[5, 2]) == (0, 128, 0)
    assert tuple(array[5, 15]) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb(gradient, encode) -> None:
    image = Image.fromarray(gradient(32, 24)).convert("CMYK")
    assert_rgb(decode_image(encode(image, "JPEG"), LIMITS), 32, 24)


def test_result_is_writable(make_image) -> None:
    array = decode_image(make_image("JPEG"), LIMITS)
    array[0, 0] = 0  # downstream code may draw on it


def test_limits_from_settings() -> None:
    settings = Settings(max_image_side=2000, min_image_side=20, max_image_pixels=123)
    assert ImageLimits.from_settings(settings) == ImageLimits(2000, 20, 123)


def bmp_32bpp_with_alpha_mask(rgba: np.ndarray, header_size: int = 124) -> bytes:
    """A hand-made 32-bpp BITFIELDS BMP with a BITMAPV4/V5 header declaring an alpha mask.

    Pixels are stored B, G, R, A (masks R=0x00FF0000, G=0x0000FF00, B=0x000000FF, A=0xFF000000),
    bottom-up rows, as Windows and many encoders write them.
    """
    height, width = rgba.shape[:2]
    pixels = np.ascontiguousarray(rgba[::-1][:, :, [2, 1, 0, 3]]).tobytes()
    offset = 14 + header_size
    dib = struct.pack(
        "<IiiHHIIiiII",
        header_size,
        width,
        height,
        1,  # planes
        32,  # bits per pixel
        3,  # BI_BITFIELDS
        len(pixels),
        2835,  # 72 dpi
        2835,
        0,  # colours used
        0,  # important colours
    )
    dib += struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    dib += b"BGRs"  # LCS_sRGB, stored little-endian
    dib = dib.ljust(header_size, b"\x00")  # endpoints, gammas (V4); intent, profile (V5)
    file_header = struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset)
    return file_header + dib + pixels


@pytest.mark.parametrize("header_size", [108, 124])
def test_bmp_with_all_zero_alpha_is_opaque(gradient, header_size: int) -> None:
    """Encoders that write alpha 0 for opaque pixels must not come out as a white sheet."""
    colours = gradient(24, 20)
    colours[:4, :4] = (255, 0, 0)
    rgba = np.dstack([colours, np.zeros((20, 24), dtype=np.uint8)])
    data = bmp_32bpp_with_alpha_mask(rgba, header_size)
    with Image.open(io.BytesIO(data)) as probe:  # the premise: Pillow sees a transparent RGBA
        assert (probe.format, probe.mode) == ("BMP", "RGBA")
        assert probe.getchannel("A").getextrema() == (0, 0)
    array = decode_image(data, LIMITS)
    assert_rgb(array, 24, 20)
    np.testing.assert_array_equal(array, colours)


def test_bmp_with_real_alpha_is_still_flattened_on_white(gradient) -> None:
    colours = gradient(24, 20)
    alpha = np.full((20, 24), 255, dtype=np.uint8)
    alpha[:, 12:] = 0  # right half transparent
    array = decode_image(bmp_32bpp_with_alpha_mask(np.dstack([colours, alpha])), LIMITS)
    np.testing.assert_array_equal(array[:, :12], colours[:, :12])
    assert (array[:, 12:] == 255).all()


def test_png_with_all_zero_alpha_stays_transparent(encode) -> None:
    """Only BMP gets the all-zero-alpha exception: in PNG, alpha 0 is meant."""
    rgba = np.zeros((20, 20, 4), dtype=np.uint8)
    rgba[:, :, 0] = 200
    array = decode_image(encode(Image.fromarray(rgba), "PNG"), LIMITS)
    assert (array == 255).all()
