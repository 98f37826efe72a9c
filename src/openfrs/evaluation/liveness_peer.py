"""A peer silent-liveness model for comparison only: hairymax/Face-AntiSpoofing
`AntiSpoofing_bin_1.5_128` (ONNX in ../shared/data/baselines/antispoof_hairymax, trained on
CelebA-Spoof; never shipped, never a product dependency).

Why it is measured: to tell a limit of our model from a limit of the task. Its preprocessing,
as its repository runs it: a square 1.5x the larger side of the detector box about its centre,
zeros outside the image, 128x128, RGB 0..1, NCHW; softmax column 0 = real.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.fr_liveness import softmax
from openfrs.vision.runtime import create_session
from openfrs.vision.types import Box

PEER_FILE = Path("baselines/antispoof_hairymax/AntiSpoofing_bin_1.5_128.onnx")
CROP_FACTOR = 1.5
INPUT_SIZE = 128


def padded_square(image: np.ndarray, box: Box, factor: float = CROP_FACTOR) -> np.ndarray:
    """A square of side factor x the box's larger side about its centre, zeros outside."""
    side = max(box.width, box.height) * factor
    left, top = int((box.x1 + box.x2) / 2 - side / 2), int((box.y1 + box.y2) / 2 - side / 2)
    n = max(int(side), 1)
    out = np.zeros((n, n, 3), np.uint8)
    height, width = image.shape[:2]
    x1, y1, x2, y2 = max(left, 0), max(top, 0), min(left + n, width), min(top + n, height)
    if x2 > x1 and y2 > y1:
        out[y1 - top:y2 - top, x1 - left:x2 - left] = image[y1:y2, x1:x2]
    return out


class PeerLiveness:
    """P(real) of the peer model for one face box."""

    def __init__(self, data: Path) -> None:
        self.session = create_session(data / PEER_FILE, 1)
        self.input_name = self.session.get_inputs()[0].name

    def real_probability(self, image: np.ndarray, box: Box) -> float:
        crop = cv2.resize(padded_square(image, box), (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
        batch = crop.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        return float(softmax(self.session.run(None, {self.input_name: batch})[0].astype(np.float64))[0, 0])
