"""The face pipeline: detector -> landmarks -> aligned chip -> embedding.

Each stage runs only for the faces that need it. `detect` is the detector alone (boxes,
scores, detector key points) for at most `max_faces` faces, largest first. Two dlib shape
predictors follow on demand: the 68-point one (`landmarks`) gives the reported key points
(real mouth corners) and, later, attribute geometry; the 5-point one aligns the chip exactly
as the recogniser's reference pipeline does (it scores best on LFW) and runs inside
`aligned_chips` / `embed`, so face-compare pays for it on the one face it embeds.

Blocking, pure compute: the service layer runs it in a worker pool, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.vision.agegender import AgeGender, AgeGenderEstimator
from openfrs.vision.align import face_chip
from openfrs.vision.calibration import Calibration
from openfrs.vision.calibration_tables import calibration_for
from openfrs.vision.detectors import build_detector
from openfrs.vision.embedder import DlibResnetEmbedder
from openfrs.vision.headpose import FaceMesh
from openfrs.vision.orientation import Oriented, detect_oriented
from openfrs.vision.pack import ModelPack
from openfrs.vision.runtime import configure_cv2_threads
from openfrs.vision.shape_predictor import ShapePredictor, five_points
from openfrs.vision.silent_liveness import SilentLiveness
from openfrs.vision.types import Box, Face


@dataclass(frozen=True)
class PipelineOptions:
    min_face_px: int = 40
    intra_threads: int | None = None  # per ONNX session; None = every core
    # Faces kept per image, the largest ones (AWS Rekognition DetectFaces also returns its
    # 100 largest). Bounds the landmark work a crowded or crafted image can ask for.
    max_faces: int = 100

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be >= 1, got {self.max_faces}")


class FacePipeline:
    """Owns one session per model; safe to call from several threads (ORT sessions are).

    Stages fill a `Face` in place and skip work already done on it:
    `face.extras["shape68"]` and a NaN-free `face.landmarks` (`landmarks`),
    `face.extras["shape5"]` (`aligned_chips` / `embed`), `face.embedding` (`embed`).
    """

    def __init__(self, pack: ModelPack, options: PipelineOptions | None = None) -> None:
        self.options = options or PipelineOptions()
        configure_cv2_threads(self.options.intra_threads)
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
        self.mesh = FaceMesh.from_pack(pack, intra_threads=self.options.intra_threads)
        self.agegender = AgeGenderEstimator.from_pack(pack, intra_threads=self.options.intra_threads)
        self.agegender_version = pack.entry("agegender").version
        self.silent = SilentLiveness.from_pack(pack, intra_threads=self.options.intra_threads)

    def providers(self) -> list[str]:
        """Execution providers the sessions really got (a CUDA build can fall back to CPU)."""
        names: list[str] = []
        for session in (getattr(self.detector, "session", None), self.embedder.session,
                        self.mesh.session, self.agegender.session,
                        self.silent.liveness_model.session):
            for name in session.get_providers() if session is not None else []:
                if name not in names:
                    names.append(name)
        return names

    def detect(self, image: np.ndarray) -> list[Face]:
        """The `max_faces` largest faces the detector reports (it owns the min-face rule),
        largest first: box (clipped to the image), score, the detector's key points (in
        `face.landmarks` the mouth corners are NaN until `landmarks` runs). No shapes yet."""
        faces = self.detector.detect(image)
        # Stable sort: equal areas keep the detector's best-score-first order.
        faces.sort(key=lambda f: f.box.area, reverse=True)
        del faces[self.options.max_faces:]
        return faces

    def detect_oriented(self, image: np.ndarray, only_when_none: bool = False) -> Oriented:
        """`detect` in the image's orientation that makes its faces upright (vision/orientation.py):
        upright first, the three turns only when that finds no convincing face (no face at all
        with `only_when_none`)."""
        return detect_oriented(self.detect, image, only_when_none)

    def landmarks(self, image: np.ndarray, faces: list[Face]) -> list[Face]:
        """68-point shape (`extras["shape68"]`) and the five landmarks from it
        (`face.landmarks`, no NaN) for exactly these faces, in place; returns `faces`."""
        for face in faces:
            if "shape68" not in face.extras:
                shape68 = self.landmarker.predict(image, self._landmark_box(face))
                face.extras["shape68"] = shape68
                face.landmarks = five_points(shape68)
        return faces

    def detect_with_landmarks(self, image: np.ndarray) -> list[Face]:
        """`detect` then `landmarks` on every face it returns (what face-detect reports)."""
        return self.landmarks(image, self.detect(image))

    def aligned_chips(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        """(N, 150, 150, 3) uint8 chips aligned on the 5-point shape, which is computed for
        the faces that lack `extras["shape5"]`."""
        if not faces:
            return np.zeros((0, 150, 150, 3), np.uint8)
        for face in faces:
            if "shape5" not in face.extras:
                face.extras["shape5"] = self.aligner.predict(image, self._landmark_box(face))
        return np.stack([face_chip(image, f.extras["shape5"]) for f in faces])

    def age_gender(self, image: np.ndarray, faces: list[Face]) -> list[AgeGender | None]:
        """Age and gender of each face (`extras["age_gender"]`, None when its landmark box falls
        outside the image), one batch for the faces lacking it; the crop is cut from the
        68-point shape, computed here when missing."""
        todo = [f for f in faces if "age_gender" not in f.extras]
        self.landmarks(image, todo)
        shapes = [face.extras["shape68"] for face in todo]
        for face, estimate in zip(todo, self.agegender.estimate(image, shapes), strict=True):
            face.extras["age_gender"] = estimate
        return [face.extras["age_gender"] for face in faces]

    def embed(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        """L2-normalised embeddings for `faces` (one batch through the recogniser); each
        face's `embedding` is set too."""
        if not faces:
            return np.zeros((0, 128), np.float32)
        vectors = self.embedder.embed(self.aligned_chips(image, faces))
        for face, vector in zip(faces, vectors, strict=True):
            face.embedding = vector
        return vectors

    def _landmark_box(self, face: Face) -> Box:
        """The shape predictors' box, from the detector's unclipped box when there is one."""
        return self.detector.to_landmark_box(face.extras.get("detector_box", face.box))
