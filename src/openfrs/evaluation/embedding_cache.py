"""Embeddings of the evaluation collections, computed once per model pack and kept on disk.

`openfrs eval verification | fairness | calibrate` all need the same ~5,000 images through
every candidate (about 5 minutes on 2 cores); the cache makes the second and third verbs
cheap. An entry is keyed by the collection's file list, the candidates' names, the pack's
manifest digest and the source of the code images go through (vision/ and the evaluation's
embedding path), so a changed pack, data set or pipeline is never read from a stale entry.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

from openfrs.config import Settings
from openfrs.evaluation.candidates import Candidate
from openfrs.evaluation.datasets import FaceCollection
from openfrs.evaluation.recognition import Embedded, embed_collection
from openfrs.vision.pack import MANIFEST, file_sha256
from openfrs.vision.pipeline import FacePipeline

PACKAGE = Path(__file__).resolve().parents[1]
CODE = ("vision/**/*.py", "evaluation/recognition.py", "evaluation/candidates.py", "media/decode.py")


def cache_key(collection: FaceCollection, candidates: list[Candidate], pack_root: Path) -> str:
    digest = hashlib.sha256()
    digest.update(file_sha256(pack_root / MANIFEST).encode())
    for pattern in CODE:
        for source in sorted(PACKAGE.glob(pattern)):
            digest.update(source.read_bytes())
    for sample in collection.samples:
        digest.update(sample.name.encode() + b"\0")
    for candidate in candidates:
        digest.update(candidate.name.encode() + b"\0")
    return f"{collection.name}-{digest.hexdigest()[:16]}"


def embedded(pipeline: FacePipeline, pack_root: Path, collection: FaceCollection,
             candidates: list[Candidate], settings: Settings, cache_dir: Path | None,
             progress: Callable[[str], None] = print) -> Embedded:
    """The collection embedded by every candidate, from the cache when it holds this exact run."""
    path = None if cache_dir is None else cache_dir / (cache_key(collection, candidates, pack_root) + ".pkl")
    if path is not None and path.exists():
        with path.open("rb") as handle:
            return pickle.load(handle)
    progress(f"embedding {collection.name} ({len(collection.samples)} images, "
             f"{len(candidates)} candidates)")
    result = embed_collection(pipeline, collection, candidates, settings, progress)
    if path is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        with partial.open("wb") as handle:
            pickle.dump(result, handle)
        partial.replace(path)
    return result
