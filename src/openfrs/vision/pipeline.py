"""The face pipeline: detector -> landmarks -> aligned chip -> embedding.

Two dlib shape predictors run per face: the 5-point one aligns the chip exactly as the
recogniser's reference pipeline does (it scores best on LFW), the 68-point one gives the
reported key points (real mouth corners) and, later, attribute geometry.

Blocking, pure compute: the service layer runs it in a worker pool, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.vision.align import face_chip
from openfrs.vision.calibration import Calibration
from openfrs.vision.calibration_tables import calibration_for
from openfrs.vision.detectors import build_detector
from openfrs.vision.embedder import DlibResnetEmbedder
from openfrs.vision.pack import ModelPack
from openfrs.vision.shape_predictor import ShapePredictor, five_points
from openfrs.vision.types import Face


@dataclass(frozen=True)
class PipelineOptions:
    min_face_px: int = 40
    intra_threads: int | None = None  # per ONNX session; None = every core


class FacePipeline:
    """Owns one session per model; safe to call from several threads (ORT sessions are)."""

    def __init__(self, pack: ModelPack, options: PipelineOptions | None = None) -> None:
        self.options = options or PipelineOptions()
        detector_entry = pack.entry("detector")
        self.detector = build_detector(detector_entry, pack.root, self.options.min_face_px,
                                       self.options.intra_threads)
        self.landmarker = ShapePredictor(pack.entry("landmarks").path(pack.root))
        self.aligner = ShapePredictor(pack.entry("aligner").path(pack.root))
        embedder_entry = pack.entry("embedder")
        self.embedder = DlibResnetEmbedder(embedder_entry.path(pack.root),
                                           intra_threads=self.options.intra_threads)
        self.embedder_version = embedder_entry.version
        self.calibration: Calibration = calibration_for(embedder_entry.version)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Every face the detector reports (it owns the min-face rule), largest first, with
        its shapes and 5 landmarks."""
        faces = self.detector.detect(image)
        for face in faces:
            dlib_box = self.detector.to_landmark_box(face.box)
            shape68 = self.landmarker.predict(image, dlib_box)
            face.extras["shape68"] = shape68
            face.extras["shape5"] = self.aligner.predict(image, dlib_box)
            face.landmarks = five_points(shape68)
        faces.sort(key=lambda f: f.box.area, reverse=True)
        return faces

    def embed(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        """L2-normalised embeddings for `faces` (one batch through the recogniser)."""
        if not faces:
            return np.zeros((0, 128), np.float32)
        chips = np.stack([face_chip(image, f.extras["shape5"]) for f in faces])
        vectors = self.embedder.embed(chips)
        for face, vector in zip(faces, vectors, strict=True):
            face.embedding = vector
        return vectors

    def similarity(self, a: np.ndarray, b: np.ndarray) -> float:
        cosine = float(np.clip(np.dot(a, b), -1.0, 1.0))
        return float(self.calibration.similarity(cosine))
