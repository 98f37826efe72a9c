"""Identity-clustered synthetic face embeddings for index tests and benchmarks.

Why not plain Gaussian vectors: in 128-d, random unit vectors are all ~0 cosine apart, so every
neighbour is equally far and approximate-search recall measured on them says nothing about faces.
Real embedders put everybody in a narrow cone (our dlib model: different people ~0.75-0.90 cosine,
median ~0.84; same person ~0.93-0.99), with a low effective dimension between identities. This
module reproduces that shape:

* a common mean direction ``mu`` shared by every identity (the cone);
* identity centres ``normalise(a * mu + b * r)`` where ``r`` is drawn from an anisotropic
  (power-law spectrum, randomly rotated) distribution, so impostor cosines spread over ~0.75-0.90
  instead of collapsing onto a single value;
* faces ``normalise(centre + s * noise)`` with isotropic noise and a per-face scale ``s``, giving
  same-person cosines of ~0.93-0.99.

Everything is deterministic in ``seed`` and generated in fixed-size chunks (each chunk with its own
seeded generator), so 1M x 128 float32 (512 MB) is built without float64 temporaries of that size.
"""

from __future__ import annotations

import numpy as np

# Calibrated with cosine_profile() against the dlib numbers quoted above (see module docstring).
_MEAN_WEIGHT = 0.935  # a: weight of the common direction in a centre before normalisation
_SPREAD_WEIGHT = 0.36  # b: weight of the identity-specific part
_SPECTRUM_DECAY = 1.0  # variance of rotated axis j is (j + 1) ** -decay
_NOISE_RANGE = (0.10, 0.27)  # per-face within-identity noise scale s (noise has unit expected norm)

_CHUNK = 65_536  # faces per generator chunk; fixed so results do not depend on memory settings
_TAG_MODEL, _TAG_CENTRES, _TAG_FACES, _TAG_QUERIES = 0, 1, 2, 3

Embeddings = tuple[np.ndarray, np.ndarray]  # (vectors float32 [n, dim], identity int64 [n])


def _rng(seed: int, tag: int, block: int = 0, stream: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, tag, block, stream])


def _normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


class _Model:
    """The shared geometry (mean direction, spectrum, rotation) that one seed fixes."""

    def __init__(self, dim: int, seed: int) -> None:
        rng = _rng(seed, _TAG_MODEL)
        mu = rng.standard_normal(dim)
        self.mu = (mu / np.linalg.norm(mu)).astype(np.float32)
        rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        scale = (np.arange(dim) + 1.0) ** (-_SPECTRUM_DECAY / 2)
        self.basis = (scale[:, None] * rotation.T).astype(np.float32)  # r = g @ basis
        self.dim = dim
        self.seed = seed

    def centres(self, identities: np.ndarray) -> np.ndarray:
        """Unit centres for the given identity numbers; identity i always gets the same centre."""
        identities = np.asarray(identities, dtype=np.int64)
        out = np.empty((identities.size, self.dim), np.float32)
        blocks = identities // _CHUNK
        for block in np.unique(blocks):
            rows = np.nonzero(blocks == block)[0]
            # the whole block through one product of fixed shape: same bits whoever asks
            g = _rng(self.seed, _TAG_CENTRES, int(block)).standard_normal((_CHUNK, self.dim), np.float32)
            r = _normalise(g @ self.basis)[identities[rows] - block * _CHUNK]
            out[rows] = _MEAN_WEIGHT * self.mu + _SPREAD_WEIGHT * r
        return _normalise(out)

    def faces(self, centres: np.ndarray, tag: int, block: int) -> np.ndarray:
        """New faces around the given centres (one per row). Noise and scales come from separate
        streams so a shorter chunk is an exact prefix of a longer one (100k data = first 100k of 1M)."""
        n = centres.shape[0]
        noise = _rng(self.seed, tag, block, 0).standard_normal((n, self.dim), np.float32)
        noise /= np.float32(np.sqrt(self.dim))
        s = _rng(self.seed, tag, block, 1).uniform(*_NOISE_RANGE, size=(n, 1)).astype(np.float32)
        return _normalise(centres + s * noise)


def clustered_embeddings(n: int, dim: int = 128, faces_per_identity: int = 5, seed: int = 0) -> Embeddings:
    """``n`` L2-normalised faces of ``ceil(n / faces_per_identity)`` identities, faces of one
    identity contiguous. Returns (vectors float32 [n, dim], identity int64 [n])."""
    model = _Model(dim, seed)
    vectors = np.empty((n, dim), np.float32)
    identity = np.arange(n, dtype=np.int64) // faces_per_identity
    for block, start in enumerate(range(0, n, _CHUNK)):
        stop = min(start + _CHUNK, n)
        centres = model.centres(identity[start:stop])
        vectors[start:stop] = model.faces(centres, _TAG_FACES, block)
    return vectors, identity


def query_embeddings(
    n_queries: int,
    n: int,
    dim: int = 128,
    faces_per_identity: int = 5,
    seed: int = 0,
    query_seed: int = 1,
) -> Embeddings:
    """New (unseen) faces of identities present in ``clustered_embeddings(n, dim,
    faces_per_identity, seed)``: the realistic 1:N probe, whose top hits are the same person's
    enrolled faces followed by the closest look-alikes."""
    n_identities = -(-n // faces_per_identity)
    model = _Model(dim, seed)
    rng = _rng(seed, _TAG_QUERIES, query_seed, 2)
    identity = rng.integers(0, n_identities, size=n_queries, dtype=np.int64)
    return model.faces(model.centres(identity), _TAG_QUERIES, query_seed), identity


def cosine_profile(vectors: np.ndarray, identity: np.ndarray, pairs: int = 20_000, seed: int = 0) -> dict:
    """Percentiles of same-identity and different-identity cosines on random pairs, to check the
    data against a real embedder's distribution."""
    rng = np.random.default_rng(seed)
    n = vectors.shape[0]
    a = rng.integers(0, n, pairs)
    b = rng.integers(0, n, pairs)
    impostor = np.einsum("ij,ij->i", vectors[a], vectors[b])[identity[a] != identity[b]]
    # genuine pairs: partner drawn among rows with the same identity (rows are contiguous)
    starts = np.searchsorted(identity, identity[a], side="left")
    ends = np.searchsorted(identity, identity[a], side="right")
    c = starts + (rng.random(pairs) * (ends - starts)).astype(np.int64)
    keep = c != a
    genuine = np.einsum("ij,ij->i", vectors[a[keep]], vectors[c[keep]])
    q = [1, 5, 50, 95, 99]
    return {
        "genuine": dict(zip(map(str, q), np.percentile(genuine, q).round(3).tolist(), strict=True)),
        "impostor": dict(zip(map(str, q), np.percentile(impostor, q).round(3).tolist(), strict=True)),
    }
