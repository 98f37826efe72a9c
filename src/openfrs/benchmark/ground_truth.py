"""Exact ground truth for vector-index benchmarks: brute-force top-k and recall against it.
Shared by `openfrs bench search` and bench/index_choice.py so both score recall the same way."""

from __future__ import annotations

import numpy as np


def exact_topk(base: np.ndarray, queries: np.ndarray, k: int = 10, chunk: int = 65_536) -> np.ndarray:
    """Exact top-k row numbers by inner product, best first, brute force over base in chunks
    (bounded memory: 1M x 1k scores never exist at once)."""
    best_s = np.full((queries.shape[0], 0), -np.inf, np.float32)
    best_i = np.zeros((queries.shape[0], 0), np.int64)
    for start in range(0, base.shape[0], chunk):
        s = queries @ base[start : start + chunk].T
        kk = min(k, s.shape[1])
        part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        best_s = np.concatenate([best_s, np.take_along_axis(s, part, 1)], axis=1)
        best_i = np.concatenate([best_i, part + start], axis=1)
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    """Share of the true top-k ids that were found (truth: one row of k ids per query)."""
    hits = sum(len(np.intersect1d(f, t)) for f, t in zip(found, truth, strict=True))
    return hits / truth.size
