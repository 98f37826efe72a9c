"""Face embeddings from dlib's ResNet converted to ONNX (see convert/dlib_resnet.py).

The ONNX graph takes 150x150 RGB chips cut by :func:`openfrs.vision.align.face_chip`
(NHWC float32, 0..255) and returns dlib's raw 128-D descriptor.  dlib compares raw
descriptors with a Euclidean threshold (0.6); OpenFRS works with cosine similarity, so
:meth:`DlibResnetEmbedder.embed` returns unit vectors.  The raw norms are close to 1
anyway, so the two orderings barely differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openfrs.vision.align import face_chip
from openfrs.vision.runtime import create_session

CHIP_SIZE = 150
EMBEDDING_DIM = 128


class DlibResnetEmbedder:
    """Runs the converted dlib ResNet on batches of aligned chips."""

    shape = "shape5"  # chips are cut from dlib's 5-point shape, as dlib's own pipeline does
    dim = EMBEDDING_DIM

    def __init__(self, path: Path, intra_threads: int | None = None,
                 max_batch: int = 32) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.session = create_session(Path(path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        self.max_batch = max_batch

    def chips(self, image: np.ndarray, shapes: list[np.ndarray]) -> np.ndarray:
        """dlib's 150x150 chips (vision/align.py) for 5-point shapes."""
        if not shapes:
            return np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        return np.stack([face_chip(image, s) for s in shapes])

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        """Raw dlib descriptors (N, 128) float32, exactly what dlib would return."""
        chips = self._check(chips)
        out = np.empty((len(chips), EMBEDDING_DIM), np.float32)
        for start in range(0, len(chips), self.max_batch):
            batch = chips[start:start + self.max_batch].astype(np.float32)
            out[start:start + len(batch)] = self.session.run(
                [self.output_name], {self.input_name: batch})[0]
        return out

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """L2-normalised embeddings (N, 128) float32, ready for cosine similarity."""
        raw = self.descriptors(chips)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.maximum(norms, 1e-12)).astype(np.float32)

    @staticmethod
    def _check(chips: np.ndarray) -> np.ndarray:
        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected chips shaped (N, {CHIP_SIZE}, {CHIP_SIZE}, 3), "
                             f"got {chips.shape}")
        return chips
