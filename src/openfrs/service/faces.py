"""Detect and compare use cases on decoded images (FRS face-detect and face-compare)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.workers import InferencePool
from openfrs.vision.pack import PackError, load_pack
from openfrs.vision.pipeline import FacePipeline, PipelineOptions
from openfrs.vision.types import Face

FaceChooser = Callable[[list[Face], np.ndarray], Face]


def largest(faces: list[Face], image: np.ndarray) -> Face:
    """FRS's rule for compare and search: the largest face in the image."""
    return max(faces, key=lambda f: f.box.area)


@dataclass(frozen=True)
class Comparison:
    face1: Face
    face2: Face
    similarity: float
    cosine: float


class FaceService:
    """Runs the vision pipeline off the event loop and applies the FRS rules around it."""

    def __init__(self, pipeline: FacePipeline, pool: InferencePool) -> None:
        self.pipeline = pipeline
        self.pool = pool

    @classmethod
    def from_settings(cls, settings: Settings) -> FaceService:
        """Load and verify the installed model pack, and start the inference workers."""
        pack = load_pack(settings.model_dir / "default")
        problems = pack.verify()
        if problems:
            raise PackError("model pack does not verify: " + "; ".join(problems))
        options = PipelineOptions(min_face_px=settings.min_face_px,
                                  intra_threads=settings.intra_threads or None)
        return cls(FacePipeline(pack, options), InferencePool(settings.inference_workers))

    async def detect(self, image: np.ndarray) -> list[Face]:
        faces = await self.pool.run(self.pipeline.detect, image)
        if not faces:
            raise FRSError("FRS.0501")
        return faces

    def largest_face(self, image: np.ndarray) -> Face:
        """Blocking: the largest face of the image with its embedding (FRS.0501 if none)."""
        return self.chosen_face(image, largest)

    def chosen_face(self, image: np.ndarray, choose: FaceChooser) -> Face:
        """Blocking: detect, let `choose` pick one face, embed only that one."""
        faces = self.pipeline.detect(image)
        if not faces:
            raise FRSError("FRS.0501")
        face = choose(faces, image)
        self.pipeline.embed(image, [face])
        return face

    async def compare(self, image1: np.ndarray, image2: np.ndarray) -> Comparison:
        """Largest face of each image, as FRS does; similarity is the calibrated 0-1 score."""
        face1, face2 = await asyncio.gather(
            self.pool.run(self.largest_face, image1), self.pool.run(self.largest_face, image2)
        )
        cosine = float(np.clip(np.dot(face1.embedding, face2.embedding), -1.0, 1.0))
        return Comparison(face1, face2, self.pipeline.calibration.similarity(cosine), cosine)
