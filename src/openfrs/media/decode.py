"""Bytes -> validated HxWx3 uint8 RGB array, refusing hostile sizes before any pixel is decoded."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media.sniff import read_dimensions, sniff_format

# A truncated file must fail, never come back half grey. This is Pillow's default; we pin it here
# and check it on every call, because it is a process-wide switch any other module could flip.
ImageFile.LOAD_TRUNCATED_IMAGES = False

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# Pillow gives these integer greyscale modes (PNG 16-bit greyscale is "I;16"); no supported
# format decodes to floating point "F".
_HIGH_DEPTH_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
_WHITE = (255, 255, 255, 255)


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """The resolution window an input image must fit in (FRS: below 4096x4096)."""

    max_side: int = 4096
    min_side: int = 16
    max_pixels: int = 4096 * 4096

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(
            max_side=settings.max_image_side,
            min_side=settings.min_image_side,
            max_pixels=settings.max_image_pixels,
        )

    def check(self, width: int, height: int) -> None:
        """Raise FRS.0013 unless width x height lies inside the window."""
        size = f"{width}x{height}"
        if width >= self.max_side or height >= self.max_side:
            limit = f"{self.max_side}x{self.max_side}"
            raise FRSError("FRS.0013", f"the resolution {size} must be less than {limit}: downscale "
                                       "the image (OPENFRS_MAX_IMAGE_SIDE sets the limit)")
        if width * height > self.max_pixels:
            raise FRSError("FRS.0013", f"the resolution {size} exceeds {self.max_pixels} pixels")
        if width < self.min_side or height < self.min_side:
            limit = f"{self.min_side}x{self.min_side}"
            raise FRSError("FRS.0013", f"the resolution {size} is smaller than {limit}")


def decode_image(data: bytes, limits: ImageLimits) -> np.ndarray:
    """Decode JPEG/PNG/BMP/WebP bytes into a C-contiguous HxWx3 uint8 RGB array, upright."""
    return decode_reduced(data, limits, None)[0]


def check_header(data: bytes, limits: ImageLimits) -> tuple[str, tuple[int, int]]:
    """(format, (width, height)), after refusing empty, unknown or oversized images from their
    header alone."""
    if not data:
        raise FRSError("FRS.0015", "the image data is empty")
    fmt = sniff_format(data)
    size = read_dimensions(data, fmt)
    limits.check(*size)
    return fmt, size


def decode_reduced(data: bytes, limits: ImageLimits, at_least: int | None) -> tuple[np.ndarray, float]:
    """`decode_image`, but a JPEG is decoded at the smallest scale of 1/2, 1/4, 1/8 whose longer
    side stays at least `at_least` pixels (libjpeg's DCT scaling: a 12 MP photo at 1/4 decodes
    in ~9 ms instead of ~45); returns (pixels, original size / decoded size). Every other format,
    and `at_least=None`, decodes in full (scale 1.0)."""
    fmt, size = check_header(data, limits)
    image = _open_and_load(data, fmt, limits, at_least if fmt == "JPEG" else None)
    if fmt == "BMP":
        image = _drop_unused_bmp_alpha(image)
    _apply_exif_orientation(image)  # may swap the sides: compare the longer ones
    return _to_rgb_array(image), max(size) / max(image.size)


def _open_and_load(data: bytes, fmt: str, limits: ImageLimits, at_least: int | None = None) -> Image.Image:
    """Let Pillow parse and decode, mapping every failure of its parsers to an FRS code."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; refusing to decode")
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
        limits.check(*image.size)  # Pillow's reading of the header is the one the decoder uses
        if at_least is not None:
            _draft(image, at_least)
        image.load()
    except FRSError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FRSError("FRS.0013", "the image has too many pixels") from exc
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure on client data is a client error
        raise FRSError("FRS.0015", f"the {fmt} data is corrupt or truncated") from exc
    return image


def _draft(image: Image.Image, at_least: int) -> None:
    """Ask the JPEG decoder for the coarsest scale keeping the longer side >= at_least."""
    width, height = image.size
    scale = 1
    while scale < 8 and max(width, height) / (scale * 2) >= at_least:
        scale *= 2
    if scale > 1:
        image.draft(image.mode, (-(-width // scale), -(-height // scale)))


def _drop_unused_bmp_alpha(image: Image.Image) -> Image.Image:
    """A 32-bpp BMP whose alpha is 0 everywhere is opaque: drop the alpha, do not flatten it.

    Many BMP writers declare an alpha mask but leave those bytes 0 for opaque pixels; taken
    literally, the whole picture would be transparent and come out pure white. An all-zero
    alpha carries no information, so it is read as "no alpha" (BMP only: in PNG or WebP an
    explicit alpha of 0 is deliberate).
    """
    if image.mode != "RGBA" or image.getchannel("A").getextrema() != (0, 0):
        return image
    return image.convert("RGB")


def _apply_exif_orientation(image: Image.Image) -> None:
    """Rotate as the camera meant; a malformed EXIF block is ignored rather than fatal."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - orientation is best effort, the pixels are already valid
        return


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in _HIGH_DEPTH_MODES:
        grey = _high_depth_to_uint8(np.asarray(image))
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        image = _flatten_on_white(image)
    if image.mode != "RGB":
        image = image.convert("RGB")
    # np.asarray wraps Pillow's tobytes() (read-only); one copy makes it ours. Why not
    # np.array(image.convert("RGB")): two more full copies (12 MP: ~125 instead of ~35 ms).
    return np.asarray(image).copy()


def _high_depth_to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit (and 32-bit integer) greyscale keeps its top byte; Pillow's convert would clip."""
    clipped = np.clip(values.astype(np.int64), 0, 0xFFFF)
    return (clipped >> 8).astype(np.uint8)


def _flatten_on_white(image: Image.Image) -> Image.Image:
    """Transparent pixels hold arbitrary colours; show them as white paper, not as garbage."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, _WHITE)
    return Image.alpha_composite(background, rgba)
