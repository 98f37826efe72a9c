"""The face recognisers of a pack, by model version: the default for new face sets and the older
ones existing sets were enrolled with (embeddings of two models are never compared).

Pack roles named `embedder` (the default) or `embedder_<name>` are recognisers; the entry's
`version` is the id a face set records, and its family picks the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from openfrs.vision.arcface import ArcFaceEmbedder, InputSpec
from openfrs.vision.calibration import Calibration
from openfrs.vision.calibration_tables import calibration_for
from openfrs.vision.embedder import DlibResnetEmbedder
from openfrs.vision.pack import ModelEntry, ModelPack, PackError

DEFAULT_ROLE = "embedder"


class Embedder(Protocol):
    shape: str  # "shape5" or "shape68": the landmarks its chips are cut from
    dim: int
    session: object

    def chips(self, image: np.ndarray, shapes: list[np.ndarray]) -> np.ndarray: ...
    def embed(self, chips: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Recogniser:
    version: str
    family: str
    embedder: Embedder
    calibration: Calibration

    @property
    def dim(self) -> int:
        return self.embedder.dim


def is_recogniser_role(role: str) -> bool:
    return role == DEFAULT_ROLE or role.startswith(DEFAULT_ROLE + "_")


def build_embedder(entry: ModelEntry, pack: ModelPack, intra_threads: int | None) -> Embedder:
    path = entry.path(pack.root)
    if entry.family == "dlib_resnet":
        return DlibResnetEmbedder(path, intra_threads=intra_threads)
    if entry.family == "arcface":
        return ArcFaceEmbedder(path, InputSpec.from_params(entry.params), intra_threads=intra_threads)
    raise PackError(f"pack {pack.name!r}: unknown recogniser family {entry.family!r} ({entry.role})")


def load_recognisers(pack: ModelPack, intra_threads: int | None = None) -> dict[str, Recogniser]:
    """Every recogniser of the pack by version, the default (role `embedder`) first."""
    roles = sorted((r for r in pack.models if is_recogniser_role(r)), key=lambda r: r != DEFAULT_ROLE)
    if DEFAULT_ROLE not in roles:
        raise PackError(f"pack {pack.name!r} at {pack.root} has no {DEFAULT_ROLE} model")
    loaded: dict[str, Recogniser] = {}
    for role in roles:
        entry = pack.models[role]
        loaded[entry.version] = Recogniser(entry.version, entry.family,
                                           build_embedder(entry, pack, intra_threads),
                                           calibration_for(entry.version))
    return loaded
