"""Everything the recognition evaluations score: three collections embedded by every candidate,
score fusions, and the impostor pairs of each demographic group.

Groups: `lfw` (432 people, mostly white adults), `asian-faces` (35 East-Asian people), and the
five UTKFace race groups (adults). UTKFace has no identity labels and holds many celebrities
photographed several times, so some of its "impostor" pairs are one person twice (checked by
eye: the top pairs of every group are). A pair is taken for the same person, and left out of
every candidate's impostor pairs, when both referee recognisers score it above the highest
impostor score either reaches on the identity-labelled sets plus a margin (`same_person_pairs`);
the count left out is reported, and the figures with them kept are reported beside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.evaluation import datasets
from openfrs.evaluation.candidates import (
    DLIB,
    FR_FEATURE,
    MOBILEFACENET,
    Candidate,
    mobilefacenet,
    pack_candidates,
)
from openfrs.evaluation.embedding_cache import embedded
from openfrs.evaluation.recognition import Embedded, identity_pairs
from openfrs.service.faces import FaceService

REFEREES = (FR_FEATURE, MOBILEFACENET)
REFEREE_MARGIN = 0.05
# One LFW labelling error: the same photograph filed under two names (cosine ~0.96 in every model).
LFW_KNOWN_ERRORS = frozenset({("Andrew_Caldecott/Andrew_Caldecott_0001.jpg",
                               "Andrew_Gilligan/Andrew_Gilligan_0001.jpg")})
# Score fusions evaluated (members' scores z-normalised on LFW impostors, then averaged).
FUSIONS = {"fr_feature+dlib": (FR_FEATURE, DLIB), "fr_feature+mobilefacenet": (FR_FEATURE, MOBILEFACENET)}


@dataclass
class Study:
    collections: dict[str, Embedded]  # "lfw", "asian-faces", "utkface-adults"
    candidates: list[str]
    versions: dict[str, str]  # candidate name -> pack model version (pack recognisers only)
    fusions: dict[str, tuple[str, str]] = field(default_factory=dict)
    _excluded: dict[str, np.ndarray] = field(default_factory=dict)

    def names(self) -> list[str]:
        return self.candidates + list(self.fusions)

    def scores(self, collection: str, name: str) -> np.ndarray:
        data = self.collections[collection]
        if name not in self.fusions:
            return data.scores(name)
        fused = np.zeros((len(data.found),) * 2)
        for member in self.fusions[name]:
            _, impostor = self.lfw_pairs(member)
            fused += (data.scores(member) - impostor.mean()) / impostor.std()
        fused /= len(self.fusions[name])
        fused[~data.found, :] = fused[:, ~data.found] = fused.min() - 1.0  # missing face: rejected
        return fused

    def lfw_pairs(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self.pairs("lfw", name)

    def pairs(self, collection: str, name: str, dedupe: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(genuine, impostor) of an identity-labelled collection."""
        scores = self.scores(collection, name)
        genuine, impostor = identity_pairs(self.collections[collection], scores)
        if dedupe:
            keep = ~self._same_person(collection)[np.triu_indices(len(scores), 1)]
            labels = _identity_upper(self.collections[collection])
            impostor = scores[np.triu_indices(len(scores), 1)][keep & ~labels]
        return genuine, impostor

    def groups(self, name: str, dedupe: bool = True) -> dict[str, np.ndarray]:
        """Impostor scores per group: the two labelled sets and the UTKFace race groups."""
        found = {"lfw": self.pairs("lfw", name, dedupe)[1],
                 "asian-faces": self.pairs("asian-faces", name, dedupe)[1]}
        utk = self.collections["utkface-adults"]
        scores = self.scores("utkface-adults", name)
        upper = np.triu_indices(len(scores), 1)
        race = np.array([s.labels["race"] for s in utk.collection.samples])
        keep = ~self._same_person("utkface-adults")[upper] if dedupe else True
        values = scores[upper]
        for group in datasets.UTK_RACES:
            mask = (race[upper[0]] == group) & (race[upper[1]] == group) & keep
            found[f"utkface-{group}"] = values[mask]
        return found

    def excluded_counts(self) -> dict[str, int]:
        """Impostor pairs (by the set's labels) left out as probably the same person."""
        counts = {}
        for name, data in self.collections.items():
            flagged = self._same_person(name)[np.triu_indices(len(data.found), 1)]
            labelled = data.collection.samples[0].identity is not None
            counts[name] = int((flagged & ~_identity_upper(data)).sum() if labelled else flagged.sum())
        return counts

    def _same_person(self, collection: str) -> np.ndarray:
        """(n, n) bool: pairs both referees call the same person beyond any labelled impostor,
        or a known labelling error."""
        if collection in self._excluded:
            return self._excluded[collection]
        data = self.collections[collection]
        flagged = np.ones((len(data.found),) * 2, bool)
        for referee in REFEREES:
            cut = max(float(self._labelled_impostors(c, referee).max())
                      for c in ("lfw", "asian-faces")) + REFEREE_MARGIN
            flagged &= data.scores(referee) >= cut
        names = [s.name for s in data.collection.samples]
        where = {name: i for i, name in enumerate(names)}
        for a, b in LFW_KNOWN_ERRORS:
            if collection == "lfw" and a in where and b in where:
                flagged[where[a], where[b]] = flagged[where[b], where[a]] = True
        np.fill_diagonal(flagged, False)
        self._excluded[collection] = flagged
        return flagged

    def _labelled_impostors(self, collection: str, referee: str) -> np.ndarray:
        data = self.collections[collection]
        scores = data.scores(referee)
        upper = np.triu_indices(len(scores), 1)
        names = np.array([s.name for s in data.collection.samples])
        known = np.array([(a, b) in LFW_KNOWN_ERRORS or (b, a) in LFW_KNOWN_ERRORS
                          for a, b in zip(names[upper[0]], names[upper[1]], strict=True)])
        return scores[upper][~_identity_upper(data) & ~known]


def _identity_upper(data: Embedded) -> np.ndarray:
    identity = np.array([s.identity for s in data.collection.samples])
    upper = np.triu_indices(len(identity), 1)
    return identity[upper[0]] == identity[upper[1]]


def build_study(settings: Settings, data: Path, cache_dir: Path | None, with_candidates: bool = True,
                utk_every: int = 1, progress: Callable[[str], None] = print) -> tuple[Study, FaceService]:
    """Embed lfw-partial, asian-faces and UTKFace adults with the pack's recognisers (each also
    with a mirrored chip) and, with `with_candidates`, the MobileFaceNet candidate."""
    service = FaceService.from_settings(settings)
    pipeline = service.pipeline
    candidates: list[Candidate] = pack_candidates(pipeline)
    if with_candidates:
        candidates += mobilefacenet(settings.download_dir, (cache_dir or settings.model_dir) / "candidates",
                                    settings.intra_threads or None, progress)
    collections = {"lfw": datasets.lfw(data / "lfw-partial"),
                   "asian-faces": datasets.asian_faces(data / "asian-faces"),
                   "utkface-adults": datasets.utkface_adults(data / "utkface" / "images", utk_every)}
    pack_root = settings.pack_dir
    done = {name: embedded(pipeline, pack_root, c, candidates, settings, cache_dir, progress)
            for name, c in collections.items()}
    names = [c.name for c in candidates]
    fusions = {k: v for k, v in FUSIONS.items() if all(m in names for m in v)}
    versions = {c.name: c.version for c in candidates if c.version and not c.flip}
    return Study(done, names, versions, fusions), service
