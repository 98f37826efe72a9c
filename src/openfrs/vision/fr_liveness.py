"""faceplugin fr_liveness: a presentation-attack classifier trained on prints and screens.

What it is (npm faceplugin-face-recognition-js 0.0.1, `model/fr_liveness.onnx`, MIT): a
MiniFASNet-type CNN (0.47 M parameters) with a 3-way softmax; the package's own code
(lib/fr_liveness.js) reads column 0 as "live". Its preprocessing, reproduced here:

* the face box, scaled 2.7x about its centre (less when the image is too small for that: the
  scale is capped at (image side - 1) / box side), then shifted, not cut, to lie inside the image;
* that region resized to 128x128 (OpenCV bilinear), 0..255, not normalised.

Channel order: the package's JS feeds R, G, B; the model was evidently trained on OpenCV's B, G,
R (as MiniFASNet's reference code reads images). Measured with our box on
../shared/data/antispoof-more and LFW (docs/liveness.md): with RGB, live webcam frames of two of
the four real videos score a median P(live) under 0.02 and LFW 0.59; with BGR both are above 0.98
while NUAA prints stay near 0. BGR is what we feed.

The scale-2.7 crop shows the model the face's surroundings: the print's edge, the hand holding
it, the screen's bezel; that context, not the face's texture alone, is what it learned.
The box is ours (BlazeFace, vision/detectors) not the package's detector's; docs/liveness.md
gives the measured result with our box. Blocking, pure compute; thread-safe (the session is).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.runtime import create_session
from openfrs.vision.types import Box

INPUT_SIZE = 128
CROP_SCALE = 2.7
LIVE_CLASS = 0


def crop_region(box: Box, width: int, height: int, scale: float = CROP_SCALE) -> tuple[int, int, int, int]:
    """The package's alignLivenessImage region (x, y, w, h) for a face box in a width x height
    image: scaled about the box centre, then shifted to lie inside the image."""
    box_w, box_h = max(box.width, 1.0), max(box.height, 1.0)
    scale = min((height - 1) / box_h, (width - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = box.x1 + box_w / 2, box.y1 + box_h / 2
    left, top, right, bottom = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if left < 0:
        right, left = right - left, 0.0
    if top < 0:
        bottom, top = bottom - top, 0.0
    if right > width - 1:
        left, right = left - (right - width + 1), width - 1.0
    if bottom > height - 1:
        top, bottom = top - (bottom - height + 1), height - 1.0
    x, y = max(int(left), 0), max(int(top), 0)
    w = min(int(right - left), width - 1 - x)
    h = min(int(bottom - top), height - 1 - y)
    return x, y, max(w, 1), max(h, 1)


def model_input(image: np.ndarray, box: Box) -> np.ndarray:
    """(3, 128, 128) float32 BGR 0..255 for one face of an RGB uint8 image."""
    height, width = image.shape[:2]
    x, y, w, h = crop_region(box, width, height)
    crop = cv2.resize(image[y:y + h, x:x + w], (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(crop[..., ::-1].transpose(2, 0, 1), np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class FrLiveness:
    """P(live) per face box; all faces of one image go through the model as one batch."""

    def __init__(self, model_path: Path, intra_threads: int | None = 1) -> None:
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name

    def probabilities(self, image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """(N, 3) class probabilities (column LIVE_CLASS: live)."""
        if not boxes:
            return np.zeros((0, 3), np.float64)
        batch = np.stack([model_input(image, box) for box in boxes])
        return softmax(self.session.run(None, {self.input_name: batch})[0].astype(np.float64))

    def live_scores(self, image: np.ndarray, boxes: list[Box]) -> list[float]:
        return self.probabilities(image, boxes)[:, LIVE_CLASS].tolist()
