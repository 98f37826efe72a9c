"""Detect and compare use cases on decoded images (FRS face-detect and face-compare)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openfrs.aio import gather_or_cancel
from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.attributes import measure
from openfrs.service.workers import InferencePool
from openfrs.vision.orientation import face_to_original
from openfrs.vision.pack import load_verified_pack
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


class FaceService:
    """Runs the vision pipeline off the event loop and applies the FRS rules around it."""

    def __init__(self, pipeline: FacePipeline, pool: InferencePool,
                 model_versions: dict[str, str] | None = None) -> None:
        self.pipeline = pipeline
        self.pool = pool
        self.model_versions = model_versions or {}

    @classmethod
    def from_settings(cls, settings: Settings) -> FaceService:
        """Load and verify the installed model pack, and start the inference workers."""
        pack = load_verified_pack(settings.pack_dir)
        options = PipelineOptions(min_face_px=settings.min_face_px, max_faces=settings.max_faces,
                                  intra_threads=settings.intra_threads or None)
        versions = {role: entry.version for role, entry in pack.models.items()}
        pool = InferencePool(settings.inference_workers, settings.max_pending_inferences or None)
        return cls(FacePipeline(pack, options), pool, versions)

    @property
    def embedder_version(self) -> str:
        """The model every embedding comes from; face sets record it."""
        return self.pipeline.embedder_version

    def describe(self) -> dict[str, object]:
        """What /health reports: the providers the sessions really run on, and model versions."""
        return {"providers": self.pipeline.providers(), "models": dict(self.model_versions)}

    async def detect(self, image: np.ndarray, codes: frozenset[int] = frozenset()) -> list[Face]:
        """Every face with its 68-point shape and the asked-for attributes measured, in the
        image's coordinates, `face_angle` set."""
        faces = await self.pool.run(self.detect_blocking, image, codes)
        if not faces:
            raise FRSError("FRS.0501")
        return faces

    def detect_blocking(self, image: np.ndarray, codes: frozenset[int] = frozenset()) -> list[Face]:
        oriented = self.pipeline.detect_oriented(image)
        self.pipeline.landmarks(oriented.image, oriented.faces)
        measure(self.pipeline, oriented.image, oriented.faces, codes)
        return [face_to_original(face, oriented.angle, image.shape) for face in oriented.faces]

    def largest_face_blocking(self, image: np.ndarray) -> Face:
        """The largest face of the image with its embedding (FRS.0501 if none); blocks."""
        return self.chosen_face_blocking(image, largest)

    def chosen_face_blocking(self, image: np.ndarray, choose: FaceChooser) -> Face:
        """Detect, let `choose` pick one face, landmark and embed only that one; blocks."""
        oriented = self.pipeline.detect_oriented(image, only_when_none=True)
        if not oriented.faces:
            raise FRSError("FRS.0501")
        face = choose(oriented.faces, oriented.image)
        self.pipeline.embed(oriented.image, [face])
        return face_to_original(face, oriented.angle, image.shape)

    def embedded_faces_blocking(self, image: np.ndarray, single: bool,
                                codes: frozenset[int] = frozenset()) -> list[Face]:
        """Every face (or the largest when `single`) with its embedding and the asked-for
        attributes (e.g. quality for a quality filter); may be empty."""
        oriented = self.pipeline.detect_oriented(image, only_when_none=True)  # largest first
        chosen = oriented.faces[:1] if single else oriented.faces
        self.pipeline.embed(oriented.image, chosen)
        measure(self.pipeline, oriented.image, chosen, codes)
        return [face_to_original(face, oriented.angle, image.shape) for face in chosen]

    async def compare(self, image1: np.ndarray, image2: np.ndarray) -> Comparison:
        """Largest face of each image, as FRS does; similarity is the calibrated 0-1 score."""
        face1, face2 = await gather_or_cancel(
            self.pool.run(self.largest_face_blocking, image1),
            self.pool.run(self.largest_face_blocking, image2),
        )
        cosine = float(np.clip(np.dot(face1.embedding, face2.embedding), -1.0, 1.0))
        return Comparison(face1, face2, self.pipeline.calibration.similarity(cosine))
