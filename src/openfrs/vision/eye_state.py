"""faceplugin fr_eye: is an eye closed? The signal action liveness counts blinks with.

What it is (npm faceplugin-face-recognition-js 0.0.1, `model/fr_eye.onnx`, MIT, pack role
`eye_state`): a small CNN on a 24x24 grey eye crop with a 2-way softmax. The package's code
(lib/fr_eye.js) does not say which class is which; measured here, class 0 is CLOSED: the
liveness-stills/reaction photos give P(class 0) = 1.00 for both eyes of close_eyes, 1.00 for
the shut eye and 0.00 for the open one of close_open_eyes (a wink), 0.00 for both of open_eyes.

Its crop, reproduced from lib/fr_eye.js: a square centred on the mean of the four lid points,
of side 1.6x the eye's width (corner to corner), clamped to the image; resized to 24x24, grey,
divided by 255. The package cuts it from 68-point landmarks (36-41, 42-47); the same six points
exist in the face mesh (face_actions.RIGHT_EYE, LEFT_EYE), which action liveness has on every
frame: on the 308 frames of the blink clip the two sources' P(both eyes closed) fall on the same
side of 0.5 on 307 (the other is mid-closure) and both read all 7 blinks. Two differences: the
width is the corners' distance, not their x difference, so a tilted head keeps its crop; and the
crop's grey levels are stretched (`stretched`), which the package does not do: with its plain
/255 an open eye washed out by a window read P(closed) 0.99 (median over the blink clip) and a
backlit one 0.44-0.92; stretched, both read under 0.03 (docs/liveness.md, action liveness on
real clips). Blocking, pure compute; thread-safe (the session is).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.fr_liveness import softmax
from openfrs.vision.pack import ModelPack
from openfrs.vision.runtime import create_session

INPUT_SIZE = 24
CROP_SCALE = 1.6
CLOSED_CLASS = 0
MIN_CROP_PX = 4  # an eye crop narrower than this holds no eye
STRETCH = (2, 98)  # percentiles of the crop's grey levels mapped to 0 and 1


def eye_crop(grey: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """The model's (24, 24) float32 input for one eye of a grey uint8 image, from its six points
    (corner, two upper-lid points, corner, two lower-lid points: Soukupova & Cech's p1..p6);
    None when the eye is too small or outside the image."""
    points = np.asarray(points, np.float64)[:, :2]
    centre = points[[1, 2, 4, 5]].mean(axis=0)
    size = int(np.linalg.norm(points[3] - points[0]) * CROP_SCALE)
    height, width = grey.shape[:2]
    x, y = max(int(centre[0] - size / 2), 0), max(int(centre[1] - size / 2), 0)
    size = min(size, width - x - 1, height - y - 1)
    if size < MIN_CROP_PX:
        return None
    crop = cv2.resize(grey[y:y + size, x:x + size], (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    return stretched(crop)


def stretched(crop: np.ndarray) -> np.ndarray:
    """Grey levels mapped to 0..1 between the crop's STRETCH percentiles, not the package's
    plain /255: the model reads a washed-out or dark open eye as closed (measured, module doc)."""
    low, high = np.percentile(crop, STRETCH)
    return np.clip((crop - low) / max(high - low, 1.0), 0.0, 1.0).astype(np.float32)


class EyeState:
    """P(closed) for eye crops, one batch per call."""

    def __init__(self, model_path: Path, intra_threads: int | None = 1) -> None:
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name

    @classmethod
    def from_pack(cls, pack: ModelPack, intra_threads: int | None = 1) -> EyeState:
        return cls(pack.entry("eye_state").path(pack.root), intra_threads)

    def closed(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N,) P(closed) for N crops from `eye_crop`."""
        if not crops:
            return np.zeros(0, np.float64)
        logits = self.session.run(None, {self.input_name: np.stack(crops)[:, None]})[0]
        return softmax(logits.astype(np.float64))[:, CLOSED_CLASS]
