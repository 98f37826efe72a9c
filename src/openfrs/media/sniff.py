"""Format sniffing and header-only size reading, so that hostile sizes are refused before decoding.

Pillow's own header parsing is good, but reading the size ourselves first means that a file
claiming 30000x30000 never reaches a decoder (nor Pillow's global bomb-check settings).
"""

from __future__ import annotations

import struct

from openfrs.errors import FRSError

SUPPORTED = ("JPEG", "PNG", "BMP", "WEBP")
_SUPPORTED_TEXT = "supported formats are JPG, PNG, BMP and WEBP"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})
_JPEG_MAX_SEGMENTS = 1024  # real files carry a few dozen segments before the frame header

# Recognisable but unsupported formats, only to make the error message helpful.
_KNOWN_UNSUPPORTED = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
)


def sniff_format(data: bytes) -> str:
    """Name the container from its magic bytes; the file name or Content-Type is never trusted."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == _PNG_SIGNATURE:
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:2] == b"BM" and (len(data) < 18 or _u32le(data, 14) in _BMP_DIB_SIZES):
        return "BMP"
    raise FRSError("FRS.0016", f"{_describe_unsupported(data)}; {_SUPPORTED_TEXT}")


def read_dimensions(data: bytes, fmt: str) -> tuple[int, int]:
    """Return (width, height) as stored in the header; FRS.0015 when the header is cut or broken."""
    reader = {"JPEG": _jpeg_size, "PNG": _png_size, "BMP": _bmp_size, "WEBP": _webp_size}[fmt]
    try:
        width, height = reader(data)
    except (struct.error, IndexError) as exc:
        raise FRSError("FRS.0015", f"the {fmt} header is truncated") from exc
    if width <= 0 or height <= 0:
        raise FRSError("FRS.0015", f"the {fmt} header has an invalid size {width}x{height}")
    return width, height


def _describe_unsupported(data: bytes) -> str:
    for magic, name in _KNOWN_UNSUPPORTED:
        if data.startswith(magic):
            return f"{name} images are not supported"
    if data[4:8] == b"ftyp":
        return "HEIF/AVIF images are not supported"
    return "the data is not a recognised image"


def _u16be(data: bytes, pos: int) -> int:
    return int(struct.unpack_from(">H", data, pos)[0])


def _u32le(data: bytes, pos: int) -> int:
    return int(struct.unpack_from("<I", data, pos)[0])


def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise FRSError("FRS.0015", "the PNG file does not start with an IHDR chunk")
    width, height = struct.unpack_from(">II", data, 16)
    return int(width), int(height)


def _bmp_size(data: bytes) -> tuple[int, int]:
    dib_size = _u32le(data, 14)
    if dib_size == 12:  # OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes
        width, height = struct.unpack_from("<HH", data, 18)
        return int(width), int(height)
    width, height = struct.unpack_from("<ii", data, 18)
    return int(width), abs(int(height))  # a negative height only means top-down rows


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise FRSError("FRS.0015", "the WEBP (VP8) frame header is invalid")
        width, height = struct.unpack_from("<HH", data, 26)
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise FRSError("FRS.0015", "the WEBP (VP8L) signature is invalid")
        bits = _u32le(data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        canvas = data[24:30]
        if len(canvas) < 6:
            raise IndexError("VP8X canvas size")
        width = int.from_bytes(canvas[:3], "little") + 1
        height = int.from_bytes(canvas[3:], "little") + 1
        return width, height
    raise FRSError("FRS.0015", "the WEBP file has no VP8, VP8L or VP8X chunk")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the marker segments up to the frame header (SOFn), which holds the size."""
    pos = 2
    for _ in range(_JPEG_MAX_SEGMENTS):
        if data[pos] != 0xFF:
            raise FRSError("FRS.0015", "the JPEG marker structure is corrupt")
        while data[pos] == 0xFF:  # fill bytes may precede any marker
            pos += 1
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan before any frame header
            raise FRSError("FRS.0015", "the JPEG file has no frame header")
        length = _u16be(data, pos)
        if length < 2:
            raise FRSError("FRS.0015", "the JPEG segment length is invalid")
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, pos + 3)
            return int(width), int(height)
        pos += length
    raise FRSError("FRS.0015", "the JPEG file has too many segments before its frame header")
