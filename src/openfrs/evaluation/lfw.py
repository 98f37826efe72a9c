"""Embedding LFW-style image folders through the API's own path (decode -> detect -> align -> embed).

LFW labels the person the image is centred on; when a larger bystander is in the picture the
API's largest-face rule would compare someone else, so evaluations pick the central face and
report the largest-face figure beside it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media import ImageLimits, decode_image
from openfrs.service.faces import FaceChooser, FaceService, largest
from openfrs.vision.types import Face


@dataclass(frozen=True)
class Pair:
    fold: int
    image1: str
    image2: str
    same: bool


def read_pairs(path: Path) -> list[Pair]:
    with path.open() as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [Pair(int(r["fold"]), r["image1"], r["image2"], r["same"] == "1") for r in rows]


def central(faces: list[Face], image: np.ndarray) -> Face:
    """LFW's labelled subject: the face nearest the image centre (the images are centred on it)."""
    cy, cx = image.shape[0] / 2, image.shape[1] / 2
    return min(faces, key=lambda f: ((f.box.x1 + f.box.x2) / 2 - cx) ** 2
               + ((f.box.y1 + f.box.y2) / 2 - cy) ** 2)


CHOOSERS: dict[str, FaceChooser] = {"central": central, "largest": largest}


def embed_images(service: FaceService, root: Path, names: Iterable[str], settings: Settings,
                 choose: FaceChooser = central) -> dict[str, np.ndarray | None]:
    """name -> embedding, or None when no face was found (counted as a failure, never dropped)."""
    limits = ImageLimits.from_settings(settings)
    out: dict[str, np.ndarray | None] = {}
    for name in names:
        image = decode_image((root / name).read_bytes(), limits)
        try:
            out[name] = service.chosen_face_blocking(image, choose).embedding
        except FRSError:
            out[name] = None
    return out


def pair_cosines(pairs: list[Pair], vectors: dict[str, np.ndarray | None]) -> np.ndarray:
    """Cosine per pair; a pair with a face missing scores -1 (rejected), as the API would."""
    scores = []
    for pair in pairs:
        a, b = vectors[pair.image1], vectors[pair.image2]
        scores.append(-1.0 if a is None or b is None else float(np.dot(a, b)))
    return np.asarray(scores)
