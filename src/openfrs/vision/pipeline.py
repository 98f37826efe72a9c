"""The face pipeline: detector -> landmarks -> aligned chip -> embedding.

Each stage runs only for the faces that need it. `detect` is the detector alone (boxes,
scores, detector key points) for at most `max_faces` faces, largest first. Two dlib shape
predictors follow on demand: the 68-point one (`landmarks`) gives the reported key points
(real mouth corners), attribute geometry and the five points ArcFace-template recognisers are
aligned on; the 5-point one aligns dlib ResNet chips exactly as dlib's own pipeline does and
runs only for that recogniser. Several recognisers may be loaded (vision/recognisers.py):
`embed` uses the default unless a face set's model version asks for another.

Blocking, pure compute: the service layer runs it in a worker pool, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.vision.agegender import AgeGender, AgeGenderEstimator
from openfrs.vision.calibration import Calibration
from openfrs.vision.detectors import build_detector
from openfrs.vision.eye_state import EyeState
from openfrs.vision.headpose import FaceMesh
from openfrs.vision.orientation import Oriented, detect_oriented, mesh_turn_logits, orient_for_recognition
from openfrs.vision.pack import ModelPack, PackError
from openfrs.vision.recognisers import Recogniser, load_recognisers
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
    `face.extras["shape5"]` (dlib chips), `face.embedding` (`embed`, the last model asked) and
    `face.extras["embeddings"][version]`.
    """

    def __init__(self, pack: ModelPack, options: PipelineOptions | None = None) -> None:
        self.options = options or PipelineOptions()
        configure_cv2_threads(self.options.intra_threads)
        detector_entry = pack.entry("detector")
        self.detector = build_detector(detector_entry, pack.root, self.options.min_face_px,
                                       self.options.intra_threads)
        self.landmarker = ShapePredictor(pack.entry("landmarks").path(pack.root))
        self.recognisers = load_recognisers(pack, self.options.intra_threads)
        self.embedder_version = next(iter(self.recognisers))  # the default, for new face sets
        needs_shape5 = any(r.embedder.shape == "shape5" for r in self.recognisers.values())
        self.aligner = ShapePredictor(pack.entry("aligner").path(pack.root)) if needs_shape5 else None
        self.mesh = FaceMesh.from_pack(pack, intra_threads=self.options.intra_threads)
        self.eyes = EyeState.from_pack(pack, intra_threads=self.options.intra_threads)
        self.agegender = AgeGenderEstimator.from_pack(pack, intra_threads=self.options.intra_threads)
        self.agegender_version = pack.entry("agegender").version
        self.silent = SilentLiveness.from_pack(pack, intra_threads=self.options.intra_threads)

    def providers(self) -> list[str]:
        """Execution providers the sessions really got (a CUDA build can fall back to CPU)."""
        names: list[str] = []
        recognisers = [r.embedder.session for r in self.recognisers.values()]
        for session in (getattr(self.detector, "session", None), *recognisers,
                        self.mesh.session, self.agegender.session,
                        self.silent.model.session):
            for name in session.get_providers() if session is not None else []:
                if name not in names:
                    names.append(name)
        return names

    def detect(self, image: np.ndarray, largest_only: bool = False,
               min_face: float | None = None) -> list[Face]:
        """The `max_faces` largest faces the detector reports (it owns the min-face rule),
        largest first: box (clipped to the image), score, the detector's key points (in
        `face.landmarks` the mouth corners are NaN until `landmarks` runs). No shapes yet.
        `largest_only`: only the first face is sure to be right (it skips the fine tiles of
        big photos when a big face is found; detectors/blazeface.py `detect_largest`), and with
        `min_face` it does not look for faces smaller than that."""
        faces = (self.detector.detect_largest(image, min_face) if largest_only
                 else self.detector.detect(image))
        # Stable sort: equal areas keep the detector's best-score-first order.
        faces.sort(key=lambda f: f.box.area, reverse=True)
        del faces[self.options.max_faces:]
        return faces

    def detect_oriented(self, image: np.ndarray, only_when_none: bool = False) -> Oriented:
        """`detect` in the image's orientation that makes its faces upright (vision/orientation.py):
        upright first, the three turns only when that finds no convincing face (no face at all
        with `only_when_none`)."""
        return detect_oriented(self.detect, image, only_when_none)

    def detect_to_embed(self, image: np.ndarray, largest_only: bool = False,
                        min_face: float | None = None) -> Oriented:
        """`detect` (largest first) in the orientation compare, search and add embed in: upright
        unless the face mesh says the largest face is turned and the detector agrees
        (vision/orientation.py `orient_for_recognition`, which never turned an upright LFW photo)."""
        return orient_for_recognition(lambda im: self.detect(im, largest_only, min_face), image,
                                      lambda im, face, angles: mesh_turn_logits(self.mesh, im, face, angles))

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

    def recogniser(self, version: str | None = None) -> Recogniser:
        """The recogniser of that model version (the default when None); PackError when this
        pack does not hold it."""
        found = self.recognisers.get(version or self.embedder_version)
        if found is None:
            raise PackError(f"the model pack has no recogniser {version!r}")
        return found

    @property
    def calibration(self) -> Calibration:
        """The default recogniser's similarity calibration."""
        return self.recogniser().calibration

    def aligned_chips(self, image: np.ndarray, faces: list[Face],
                      version: str | None = None) -> np.ndarray:
        """The recogniser's input chips for `faces`, computing the landmarks it is aligned on
        for the faces that lack them."""
        embedder = self.recogniser(version).embedder
        return embedder.chips(image, self.shapes(image, faces, embedder.shape))

    def shapes(self, image: np.ndarray, faces: list[Face], kind: str) -> list[np.ndarray]:
        """The landmarks of `kind` ("shape68" or "shape5") for each face, computed where missing."""
        if kind == "shape68":
            self.landmarks(image, faces)
        else:
            if self.aligner is None:
                raise PackError("the model pack has no 5-point aligner")
            for face in faces:
                if "shape5" not in face.extras:
                    face.extras["shape5"] = self.aligner.predict(image, self._landmark_box(face))
        return [face.extras[kind] for face in faces]

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

    def embed(self, image: np.ndarray, faces: list[Face], version: str | None = None) -> np.ndarray:
        """L2-normalised embeddings of `faces` by the recogniser of `version` (default: the
        pack's default), one batch; each face's `embedding` is set to it too."""
        recogniser = self.recogniser(version)
        if not faces:
            return np.zeros((0, recogniser.dim), np.float32)
        vectors = recogniser.embedder.embed(self.aligned_chips(image, faces, recogniser.version))
        for face, vector in zip(faces, vectors, strict=True):
            face.embedding = vector
            face.extras.setdefault("embeddings", {})[recogniser.version] = vector
        return vectors

    def _landmark_box(self, face: Face) -> Box:
        """The shape predictors' box, from the detector's unclipped box when there is one."""
        return self.detector.to_landmark_box(face.extras.get("detector_box", face.box))
