"""Synthetic presentation attacks made from real photos: weak, declared proxies for a printed
photo, a phone or laptop replay, screen moire and recapture blur, used by `openfrs eval
liveness` and bench/liveness_models.py to estimate APCER where no labelled attack set exists.

What they are not: real prints and screens (no paper texture, no real display sub-pixels, no
real reflections). A cue that catches them is only shown to react to that geometric or
spectral trace; docs/liveness.md says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np


def _background(h: int, w: int, rng: np.random.Generator, base: tuple[int, int, int]) -> np.ndarray:
    """A desk-like backdrop: a vertical gradient of `base` plus grain."""
    ramp = np.linspace(0.8, 1.1, h)[:, None, None]
    bg = np.asarray(base, np.float32)[None, None, :] * ramp * np.ones((h, w, 1), np.float32)
    return np.clip(bg + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


def _paste_rotated(canvas: np.ndarray, layer: np.ndarray, mask: np.ndarray, angle: float) -> np.ndarray:
    """`layer` (with `mask`) turned by `angle` degrees about the canvas centre onto `canvas`."""
    h, w = canvas.shape[:2]
    ly, lx = (h - layer.shape[0]) // 2, (w - layer.shape[1]) // 2
    full = np.zeros_like(canvas)
    full_mask = np.zeros((h, w), np.float32)
    full[ly:ly + layer.shape[0], lx:lx + layer.shape[1]] = layer
    full_mask[ly:ly + layer.shape[0], lx:lx + layer.shape[1]] = mask
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    full = cv2.warpAffine(full, m, (w, h), flags=cv2.INTER_LINEAR)
    full_mask = cv2.warpAffine(full_mask, m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    return (canvas * (1 - full_mask) + full * full_mask).astype(np.uint8)


def phone_frame(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo shown 2x on a phone: bright, slightly blue screen with a glare band, black
    bezel with rounded corners, grey body, tilted a few degrees on a desk backdrop."""
    h, w = img.shape[:2]
    screen = cv2.resize(img, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    screen = 255 * (screen / 255) ** 0.85 * np.array([0.95, 1.0, 1.08], np.float32)
    yy, xx = np.mgrid[0:2 * h, 0:2 * w]
    glare = np.clip(1 - np.abs((xx + yy) / (2 * h + 2 * w) - 0.35) * 6, 0, 1)[..., None]
    screen = np.clip(screen + 45 * glare, 0, 255)
    bezel, body = 28, 8
    ph, pw = 2 * h + 2 * (bezel + body), 2 * w + 2 * (bezel + body)
    phone = np.full((ph, pw, 3), 90, np.uint8)
    cv2.rectangle(phone, (body, body), (pw - body, ph - body), (12, 12, 14), -1)
    phone[bezel + body:bezel + body + 2 * h, bezel + body:bezel + body + 2 * w] = screen.astype(np.uint8)
    mask = np.zeros((ph, pw), np.uint8)  # the body as a rounded rectangle
    r = 40
    cv2.rectangle(mask, (r, 0), (pw - 1 - r, ph - 1), 255, -1)
    cv2.rectangle(mask, (0, r), (pw - 1, ph - 1 - r), 255, -1)
    for cx, cy in ((r, r), (pw - 1 - r, r), (r, ph - 1 - r), (pw - 1 - r, ph - 1 - r)):
        cv2.circle(mask, (cx, cy), r, 255, -1)
    canvas = _background(ph + 160, pw + 160, rng, (150, 120, 95))
    return _paste_rotated(canvas, phone, mask.astype(np.float32) / 255, rng.uniform(-8, 8))


def paper_print(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo printed 2x on paper: lower contrast, warmer, grain, white margin, slight
    perspective, a little blur, on a dark table."""
    h, w = img.shape[:2]
    photo = cv2.resize(img, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    photo = (photo * 0.8 + 22) * np.array([1.04, 1.0, 0.9], np.float32)
    margin = int(0.12 * 2 * w)
    sheet = np.full((2 * h + 2 * margin, 2 * w + 2 * margin, 3), 238, np.float32)
    sheet[margin:margin + 2 * h, margin:margin + 2 * w] = photo
    sheet = np.clip(sheet + rng.normal(0, 4, sheet.shape), 0, 255).astype(np.uint8)
    sh, sw = sheet.shape[:2]
    canvas_h, canvas_w = sh + 160, sw + 160
    src = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
    jitter = rng.uniform(-0.04, 0.04, (4, 2)) * [sw, sh]
    dst = (src + [80, 80] + jitter).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    canvas = _background(canvas_h, canvas_w, rng, (60, 60, 64))
    warped = cv2.warpPerspective(sheet, m, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((sh, sw), np.float32), m, (canvas_w, canvas_h))[..., None]
    out = (canvas * (1 - mask) + warped * mask).astype(np.uint8)
    return cv2.GaussianBlur(out, (0, 0), 0.8)


def moire(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fine grating (a screen's pixel grid) multiplied in at 3x and sampled back down, which
    aliases into low-frequency interference bands."""
    h, w = img.shape[:2]
    up = cv2.resize(img, (3 * w, 3 * h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    yy, xx = np.mgrid[0:3 * h, 0:3 * w].astype(np.float32)
    theta = math.radians(rng.uniform(2, 10))
    grating = 1 + 0.18 * np.sin(2 * np.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / 3.1)
    up = np.clip(up * grating[..., None], 0, 255).astype(np.uint8)
    return cv2.resize(up, (w, h), interpolation=cv2.INTER_NEAREST)


def jpeg_cast(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """JPEG quality 12, a bluish screen cast and +10 brightness, then JPEG quality 25."""
    def jpeg(x: np.ndarray, q: int) -> np.ndarray:
        ok, buf = cv2.imencode(".jpg", x[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    x = jpeg(img, 12).astype(np.float32) * np.array([0.88, 0.97, 1.15], np.float32) + 10
    return jpeg(np.clip(x, 0, 255).astype(np.uint8), 25)


def recapture_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Down to 1/4 (area) and back up (bilinear): the detail a recapture loses."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def combined(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Moire, then 1/2 down-up blur, JPEG + cast, shown on the phone."""
    h, w = img.shape[:2]
    x = moire(img, rng)
    x = cv2.resize(cv2.resize(x, (w // 2, h // 2), interpolation=cv2.INTER_AREA), (w, h))
    return phone_frame(jpeg_cast(x, rng), rng)


def _centre(img: np.ndarray, share: float = 0.6) -> np.ndarray:
    """The central `share` of the image: an LFW face then fills most of it."""
    h, w = img.shape[:2]
    ch, cw = int(h * share), int(w * share)
    return img[(h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw]


def phone_tight(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """phone_frame of the central 60%: the face fills the screen, so human's 1.6x crop (and the
    reference's 1.5x) reaches the bezel; with the whole LFW image it mostly does not."""
    return phone_frame(np.ascontiguousarray(_centre(img)), rng)


def paper_tight(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """paper_print of the central 60% (the white margin inside the crop)."""
    return paper_print(np.ascontiguousarray(_centre(img)), rng)


ATTACKS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "phone_frame": phone_frame, "phone_tight": phone_tight, "paper_print": paper_print,
    "paper_tight": paper_tight, "moire": moire, "jpeg_cast": jpeg_cast,
    "recapture_blur": recapture_blur, "combined": combined}
