"""Image cues of a presentation attack that need no training data, each with its physical reason.

* ``moire_peak``: a face shown on a screen and filmed again is sampled twice — by the screen's
  pixel grid and by the camera's — and the two grids beat into moiré: narrow, strong peaks in
  the high-frequency spectrum of the face. Skin, hair and lens blur give a smooth spectrum.
  JPEG's 8x8 blocks also make peaks (at multiples of 1/8 cycle per pixel): those bins are left
  out. The value is the strongest peak over the median of its ring of frequencies (log ratio).
* ``frame_sides``: a photo or a phone held up to the camera puts a long straight edge (paper
  edge, bezel) close around the face, on several sides. The value counts the sides (left,
  right, above, below) on which a straight segment at least FRAME_MIN_LENGTH face widths long
  (in pieces of at least FRAME_PIECE) runs beside the face, outside it and within FRAME_REACH
  face widths of it. A live scene has
  straight lines too (doors, walls), but seldom on two sides hugging the face.

Both are read from the full-resolution frame: shrinking it first would erase the moiré.
Blocking, pure compute (numpy + OpenCV).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from openfrs.vision.types import Box

MOIRE_PATCH = 128  # side of the analysed face patch, pixels of the original frame at most
MOIRE_BAND = (0.18, 0.5)  # analysed radial frequencies, cycles per pixel (0.5 = Nyquist)
JPEG_PERIOD = 8
FRAME_MIN_LENGTH = 1.0  # face widths of straight edge along one side
FRAME_PIECE = 0.25  # face widths: the shortest segment that counts
FRAME_GAP = 0.05  # face widths: a break in an edge (glare, a finger) the line finder bridges
FRAME_COLLINEAR = 0.03  # face widths: pieces this close to one line are one edge
FRAME_ANGLE_TOLERANCE = 3.0  # degrees
FRAME_REACH = 1.5  # face widths between the face box and a frame edge, at most
FRAME_TILT_DEGREES = 25.0  # a held-up photo is seldom held straighter than this


def as_gray(image: np.ndarray) -> np.ndarray:
    """The cues read luminance; an RGB image is converted, a grey one used as it is (a caller
    measuring both cues converts once)."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def _face_patch(gray: np.ndarray, box: Box) -> np.ndarray | None:
    """The middle of the face (cheeks, nose: skin, no hair or background) at native resolution,
    at most MOIRE_PATCH square; None when the face is too small to hold high frequencies."""
    side = int(min(box.x2 - box.x1, box.y2 - box.y1) * 0.6)
    side = min(side, MOIRE_PATCH)
    if side < 32:
        return None
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    x1, y1 = int(round(cx - side / 2)), int(round(cy - side / 2))
    if x1 < 0 or y1 < 0 or x1 + side > gray.shape[1] or y1 + side > gray.shape[0]:
        return None
    return gray[y1:y1 + side, x1:x1 + side].astype(np.float32)


def _jpeg_bins(n: int) -> np.ndarray:
    """Frequencies (per axis, fftshifted index) within one bin of a multiple of 1/8 cycle."""
    freqs = np.fft.fftshift(np.fft.fftfreq(n))
    nearest = np.round(freqs * JPEG_PERIOD) / JPEG_PERIOD
    return np.abs(freqs - nearest) <= 1.0 / n + 1e-9


def moire_peak(image: np.ndarray, box: Box) -> float | None:
    """log(strongest peak / median magnitude) in the face's high-frequency ring; None when the
    face is too small or too near the edge to measure."""
    patch = _face_patch(as_gray(image), box)
    if patch is None:
        return None
    n = patch.shape[0]
    patch = patch - cv2.GaussianBlur(patch, (0, 0), 2.0)  # keep the fine texture only
    window = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(patch * window)))
    freqs = np.fft.fftshift(np.fft.fftfreq(n))
    fy, fx = np.meshgrid(freqs, freqs, indexing="ij")
    radius = np.hypot(fx, fy)
    jpeg = _jpeg_bins(n)
    ring = (radius >= MOIRE_BAND[0]) & (radius <= MOIRE_BAND[1]) & ~jpeg[:, None] & ~jpeg[None, :]
    values = spectrum[ring]
    median = float(np.median(values))
    if median <= 0:
        return None
    return math.log(float(values.max()) / median)


def _segments(gray: np.ndarray, min_length: float, max_gap: float) -> np.ndarray:
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 50, 150)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=40,
                            minLineLength=max(int(min_length), 10), maxLineGap=max(int(max_gap), 3))
    return np.zeros((0, 4), np.float32) if lines is None else lines.reshape(-1, 4).astype(np.float32)


def frame_sides(image: np.ndarray, box: Box) -> int:
    """How many sides of the face (0-4) have long straight edges beside them, as the edge of a
    held-up photo or screen would: segments of at least FRAME_PIECE face widths (a tilted edge
    comes out of the line finder in pieces) adding up to FRAME_MIN_LENGTH face widths."""
    gray = as_gray(image)
    width = max(box.x2 - box.x1, box.y2 - box.y1)
    reach = FRAME_REACH * width
    x1, y1 = max(int(box.x1 - reach), 0), max(int(box.y1 - reach), 0)
    x2, y2 = min(int(box.x2 + reach), gray.shape[1]), min(int(box.y2 + reach), gray.shape[0])
    region = gray[y1:y2, x1:x2]
    if region.size == 0:
        return 0
    face = (box.x1 - x1, box.y1 - y1, box.x2 - x1, box.y2 - y1)
    lines: dict[str, list[list[float]]] = {}  # per side: [angle, offset, length] of each line
    for segment in _segments(region, FRAME_PIECE * width, FRAME_GAP * width):
        side = _side_of(face, segment)
        if side:
            _add_to_line(lines.setdefault(side, []), segment, FRAME_COLLINEAR * width)
    return sum(max(line[2] for line in found) >= FRAME_MIN_LENGTH * width for found in lines.values())


def _add_to_line(lines: list[list[float]], segment: np.ndarray, offset_tolerance: float) -> None:
    """Add the segment's length to the line it lies on (same angle within FRAME_ANGLE_TOLERANCE,
    same distance from the origin within `offset_tolerance`), or start a new line: pieces of one
    straight edge add up, pieces of a curved outline (hair, shoulders) do not."""
    sx, sy, ex, ey = (float(v) for v in segment)
    angle = math.atan2(ey - sy, ex - sx) % math.pi
    offset = sx * math.sin(angle) - sy * math.cos(angle)
    length = math.hypot(ex - sx, ey - sy)
    for line in lines:
        turn = abs(line[0] - angle)
        parallel = min(turn, math.pi - turn) <= math.radians(FRAME_ANGLE_TOLERANCE)
        if parallel and abs(line[1] - offset) <= offset_tolerance:
            line[2] += length
            return
    lines.append([angle, offset, length])


def _side_of(face: tuple[float, float, float, float], segment: tuple[float, ...]) -> str | None:
    """Which side of the face box a segment runs along ('left', 'right', 'above', 'below'), or
    None when it crosses the face or runs at an angle no held-up frame would have."""
    fx1, fy1, fx2, fy2 = face
    sx, sy, ex, ey = segment
    angle = math.degrees(math.atan2(ey - sy, ex - sx)) % 180
    if min(angle, 180 - angle) <= FRAME_TILT_DEGREES:  # horizontal: above or below the face
        if min(sx, ex) > fx2 or max(sx, ex) < fx1:
            return None  # must run past the face, not off to one side
        if max(sy, ey) < fy1:
            return "above"
        if min(sy, ey) > fy2:
            return "below"
    elif abs(angle - 90) <= FRAME_TILT_DEGREES:  # vertical: left or right of the face
        if min(sy, ey) > fy2 or max(sy, ey) < fy1:
            return None
        if max(sx, ex) < fx1:
            return "left"
        if min(sx, ex) > fx2:
            return "right"
    return None
