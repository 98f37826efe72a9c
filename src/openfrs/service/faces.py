"""Detect and compare use cases on decoded images (FRS face-detect and face-compare)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openfrs.aio import gather_or_cancel
from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media.picture import Picture, as_picture
from openfrs.service.attributes import QUALITY, measure
from openfrs.service.quality_gate import Limits, refusal_reasons
from openfrs.service.workers import InferencePool
from openfrs.vision.orientation import face_to_original, scale_face
from openfrs.vision.pack import load_verified_pack
from openfrs.vision.pipeline import FacePipeline, PipelineOptions
from openfrs.vision.types import Face

FaceChooser = Callable[[list[Face], np.ndarray], Face]
# Largest-face paths decode a big JPEG at >= REDUCED_SIDE px first (media/picture.py) and keep
# that decode when its largest face is at least MIN_REDUCED_FACE px: about twice the scale of
# the 112-px recogniser chip, so the full-resolution pixels would be averaged away anyway.
REDUCED_SIDE = 960
MIN_REDUCED_FACE = 160


def largest(faces: list[Face], image: np.ndarray) -> Face:
    """FRS's rule for compare and search: the largest face in the image."""
    return max(faces, key=lambda f: f.box.area)


def most_confident(faces: list[Face], image: np.ndarray) -> Face:
    """Tencent CompareFace's default: the face the detector is surest of."""
    return max(faces, key=lambda f: f.score)


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

    def no_face(self, code: str, where: str = "the image") -> FRSError:
        """The no-face error `code`, naming the image and the smallest face looked for."""
        return FRSError(code, f"{where}: no face of {self.pipeline.options.min_face_px} px or more "
                              "(smaller faces are not searched for: OPENFRS_MIN_FACE_PX)")

    @property
    def embedder_version(self) -> str:
        """The model every embedding comes from; face sets record it."""
        return self.pipeline.embedder_version

    def describe(self) -> dict[str, object]:
        """What /health reports: the providers the sessions really run on, and model versions."""
        return {"providers": self.pipeline.providers(), "models": dict(self.model_versions)}

    async def detect(self, image: np.ndarray, codes: frozenset[int] = frozenset(),
                     limit: int | None = None) -> list[Face]:
        """Every face (the `limit` largest), largest first, with its 68-point shape and the
        asked-for attributes measured, in the image's coordinates, `face_angle` set."""
        faces = await self.pool.run(self.detect_blocking, image, codes, limit)
        if not faces:
            raise self.no_face("FRS.0501")
        return faces

    def detect_blocking(self, image: np.ndarray, codes: frozenset[int] = frozenset(),
                        limit: int | None = None) -> list[Face]:
        oriented = self.pipeline.detect_oriented(image)
        faces = oriented.faces[:limit]
        self.pipeline.landmarks(oriented.image, faces)
        measure(self.pipeline, oriented.image, faces, codes)
        return [face_to_original(face, oriented.angle, image.shape) for face in faces]

    def model_dims(self) -> dict[str, int]:
        """Embedding dimension of every loaded recogniser, by model version (for the indexes)."""
        return {version: r.dim for version, r in self.pipeline.recognisers.items()}

    def has_model(self, version: str) -> bool:
        """Whether the loaded pack holds the recogniser a face set was enrolled with."""
        return version in self.pipeline.recognisers

    def largest_face_blocking(self, image: np.ndarray | Picture, model: str | None = None,
                              where: str = "the image") -> Face:
        """The largest face of the image with its embedding (FRS.0501 if none); blocks."""
        return self.chosen_face_blocking(image, largest, model, where)

    def chosen_face_blocking(self, image: np.ndarray | Picture, choose: FaceChooser,
                             model: str | None = None, where: str = "the image",
                             codes: frozenset[int] = frozenset()) -> Face:
        """Detect, let `choose` pick one face, landmark and embed only that one (by the
        recogniser `model`, default the pack's) and measure the asked-for attributes; blocks.
        The largest-face rule lets big photos be decoded reduced first and skip the tiles for
        small faces (pipeline `detect_to_embed`); attributes are measured at full resolution."""
        picture = as_picture(image)
        if choose is largest and not codes:
            found = self._largest_reduced(picture, model)
            if found is not None:
                return found
        pixels = picture.full()
        oriented = self.pipeline.detect_to_embed(pixels, largest_only=choose is largest)
        if not oriented.faces:
            raise self.no_face("FRS.0501", where)
        face = choose(oriented.faces, oriented.image)
        self.pipeline.embed(oriented.image, [face], model)
        measure(self.pipeline, oriented.image, [face], codes)
        return face_to_original(face, oriented.angle, pixels.shape)

    def embedded_faces_blocking(self, image: np.ndarray | Picture, single: bool,
                                codes: frozenset[int] = frozenset(),
                                model: str | None = None) -> list[Face]:
        """Every face (or the largest when `single`) with its embedding by the recogniser
        `model` and the asked-for attributes (e.g. quality for a quality filter); may be empty."""
        picture = as_picture(image)
        if single and not codes:  # attributes are measured at full resolution
            found = self._largest_reduced(picture, model)
            if found is not None:
                return [found]
        pixels = picture.full()
        oriented = self.pipeline.detect_to_embed(pixels, largest_only=single)  # largest first
        chosen = oriented.faces[:1] if single else oriented.faces
        self.pipeline.embed(oriented.image, chosen, model)
        measure(self.pipeline, oriented.image, chosen, codes)
        return [face_to_original(face, oriented.angle, pixels.shape) for face in chosen]

    def _largest_reduced(self, picture: Picture, model: str | None) -> Face | None:
        """The largest face found in a reduced decode of a large photo, embedded there, in full
        image coordinates; None when the photo is not reduced or its largest face is too small
        there to embed as well as at full size (the caller then decodes every pixel)."""
        pixels, scale = picture.reduced(REDUCED_SIDE)
        if scale == 1.0:
            return None
        oriented = self.pipeline.detect_to_embed(pixels, largest_only=True, min_face=MIN_REDUCED_FACE)
        face = oriented.faces[0] if oriented.faces else None
        if face is None or min(face.box.width, face.box.height) < MIN_REDUCED_FACE:
            return None
        self.pipeline.embed(oriented.image, [face], model)
        return scale_face(face_to_original(face, oriented.angle, pixels.shape), scale)

    async def compare(self, image1: np.ndarray | Picture, image2: np.ndarray | Picture,
                      choose: FaceChooser = largest, quality: Limits | None = None,
                      names: tuple[str, str] = ("image1", "image2")) -> Comparison:
        """The face `choose` picks in each image (FRS: the largest); similarity is the calibrated
        0-1 score. With `quality`, a face below that gate is refused (FRS.0307, with reasons)."""
        codes = frozenset({QUALITY}) if quality else frozenset()
        face1, face2 = await gather_or_cancel(
            self.pool.run(self.chosen_face_blocking, image1, choose, None, names[0], codes),
            self.pool.run(self.chosen_face_blocking, image2, choose, None, names[1], codes),
        )
        for name, face in zip(names, (face1, face2), strict=True):
            reasons = refusal_reasons(face, quality) if quality else []
            if reasons:
                raise FRSError("FRS.0307", f"{name}: {', '.join(reasons)}")
        cosine = float(np.clip(np.dot(face1.embedding, face2.embedding), -1.0, 1.0))
        return Comparison(face1, face2, self.pipeline.calibration.similarity(cosine))
