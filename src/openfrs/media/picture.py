"""An image a use case decodes at the resolution it needs: in full, or reduced first.

Why: compare, search and single-face add use only the largest face. In a 12 MP camera photo that
face is usually hundreds of pixels wide, and decoding every pixel costs more than finding and
embedding it. They ask for a reduced decode first and fall back to the full image only when the
face found there is too small to embed well (service/faces.py).
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from openfrs.media.decode import ImageLimits, check_header, decode_image, decode_reduced


class Picture(Protocol):
    def full(self) -> np.ndarray:
        """HxWx3 uint8 RGB, upright, every pixel."""

    def reduced(self, at_least: int) -> tuple[np.ndarray, float]:
        """(pixels, scale to the full image): smaller when the format allows it cheaply, with the
        longer side kept at least `at_least`; the full image (scale 1.0) otherwise."""


class EncodedPicture:
    """Request bytes whose header is checked now (FRS.0013/0015/0016 before any work) and whose
    pixels are decoded on first use, once per resolution."""

    def __init__(self, data: bytes, limits: ImageLimits) -> None:
        check_header(data, limits)
        self.data = data
        self.limits = limits
        self._full: np.ndarray | None = None
        self._lock = threading.Lock()

    def full(self) -> np.ndarray:
        with self._lock:
            if self._full is None:
                self._full = decode_image(self.data, self.limits)
            return self._full

    def reduced(self, at_least: int) -> tuple[np.ndarray, float]:
        if self._full is not None:
            return self._full, 1.0
        pixels, scale = decode_reduced(self.data, self.limits, at_least)
        if scale == 1.0:
            with self._lock:
                self._full = pixels
        return pixels, scale


class DecodedPicture:
    """Pixels already decoded (tests, evaluations, video frames): nothing to reduce."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = pixels

    def full(self) -> np.ndarray:
        return self.pixels

    def reduced(self, at_least: int) -> tuple[np.ndarray, float]:
        return self.pixels, 1.0


def as_picture(image: np.ndarray | Picture) -> Picture:
    return DecodedPicture(image) if isinstance(image, np.ndarray) else image
