"""Pair scores for every candidate on every collection, and what users feel of them: TAR at
low false-accept rates on all pairs, false-match rates per demographic group.

An image whose labelled face is not found stays in: its pairs score -1 (the API would answer
"no face", so a genuine pair is missed and an impostor pair is not matched), and is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openfrs.config import Settings
from openfrs.evaluation.candidates import Candidate
from openfrs.evaluation.datasets import FaceCollection
from openfrs.evaluation.lfw import CHOOSERS
from openfrs.evaluation.metrics import threshold_at_far
from openfrs.media import ImageLimits, decode_image
from openfrs.vision.pipeline import FacePipeline

FARS = (1e-3, 1e-4, 1e-5)
MISSING = -1.0  # the score of a pair with a face not found


@dataclass
class Embedded:
    """One collection's embeddings: per candidate an (n, dim) matrix, NaN rows where no face."""

    collection: FaceCollection
    vectors: dict[str, np.ndarray]
    found: np.ndarray  # (n,) bool

    def scores(self, name: str) -> np.ndarray:
        """(n, n) cosine matrix; pairs with a missing face score MISSING."""
        vectors = np.nan_to_num(self.vectors[name])
        scores = vectors @ vectors.T
        scores[~self.found, :] = MISSING
        scores[:, ~self.found] = MISSING
        return scores


def embed_collection(pipeline: FacePipeline, collection: FaceCollection, candidates: list[Candidate],
                     settings: Settings, progress: Callable[[str], None] = print) -> Embedded:
    """Detect once per image (as compare and search do: in the orientation they embed in,
    largest first), pick the labelled face, then embed it with every candidate."""
    limits = ImageLimits.from_settings(settings)
    choose = CHOOSERS[collection.choose]
    n = len(collection.samples)
    vectors: dict[str, list[np.ndarray | None]] = {c.name: [] for c in candidates}
    found = np.zeros(n, bool)
    started = time.monotonic()
    for i, sample in enumerate(collection.samples):
        image = decode_image(sample.path.read_bytes(), limits)
        oriented = pipeline.detect_to_embed(image, largest_only=collection.choose == "largest")
        face = choose(oriented.faces, oriented.image) if oriented.faces else None
        found[i] = face is not None
        for candidate in candidates:
            vectors[candidate.name].append(
                None if face is None else candidate.embed(pipeline, oriented.image, face))
        if (i + 1) % 500 == 0:
            progress(f"  {collection.name}: {i + 1}/{n} images, {time.monotonic() - started:.0f} s")
    return Embedded(collection, {name: _matrix(rows) for name, rows in vectors.items()}, found)


def _matrix(rows: list[np.ndarray | None]) -> np.ndarray:
    dim = next((len(r) for r in rows if r is not None), 1)
    return np.stack([np.full(dim, np.nan, np.float32) if r is None else r for r in rows])


def identity_pairs(embedded: Embedded, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) scores over all unordered pairs of a collection with identities."""
    identity = np.array([s.identity for s in embedded.collection.samples])
    upper = np.triu(np.ones(scores.shape, bool), k=1)
    same = identity[:, None] == identity[None, :]
    return scores[upper & same], scores[upper & ~same]


def group_impostors(embedded: Embedded, scores: np.ndarray, label: str) -> dict[str, np.ndarray]:
    """Impostor scores between different images of the same group (e.g. race) of a collection
    without identities: every pair is of two people, as far as the labels tell."""
    values = np.array([s.labels[label] for s in embedded.collection.samples])
    upper = np.triu(np.ones(scores.shape, bool), k=1)
    return {group: scores[upper & (values[:, None] == group) & (values[None, :] == group)]
            for group in sorted(set(values.tolist()))}


def tar_table(genuine: np.ndarray, impostor: np.ndarray, fars: tuple[float, ...] = FARS) -> dict:
    """TAR and cosine threshold at each FAR; a FAR the impostor count cannot resolve (fewer than
    10 / FAR pairs) is marked, its figure given for what it is."""
    rows = {}
    for far in fars:
        threshold = threshold_at_far(impostor, far)
        rows[f"{far:.0e}"] = {"tar": round(float(np.mean(genuine > threshold)), 4),
                              "cosine": round(threshold, 4),
                              "resolved": bool(impostor.size >= 10 / far)}
    return {"genuine_pairs": int(genuine.size), "impostor_pairs": int(impostor.size), "at_far": rows}


def match_rate(scores: np.ndarray, cosine: float) -> float:
    """Share of pairs the API calls "same person" at this cosine threshold (similarity >= it)."""
    return float(np.mean(scores >= cosine)) if scores.size else float("nan")
