"""Convert a dlib ``shape_predictor`` .dat (ERT landmark model) to a compact .npz.

File layout (dlib/image_processing/shape_predictor.h, version 1)::

    int version
    matrix<float,0,1> initial_shape            # x0, y0, x1, y1, ... in unit-box coords
    vector<vector<regression_tree>> forests    # one forest per cascade level
        regression_tree = vector<split_feature{ulong idx1, ulong idx2, float thresh}>,
                          vector<matrix<float,0,1>> leaf_values
    vector<vector<ulong>> anchor_idx           # per level: landmark each feature pixel hangs on
    vector<vector<vector<float,2>>> deltas     # per level: offset from that landmark

Trees are complete binary trees stored breadth first (children of i are 2i+1, 2i+2),
so they become dense arrays: every tree of every level has the same depth in dlib's
released models, and the converter refuses anything else.

npz arrays:  initial_shape (K,2) f4, split_idx (C,T,S,2) i4, split_thresh (C,T,S) f4,
leaf_values (C,T,S+1,K,2) f4, anchor_idx (C,F) i4, deltas (C,F,2) f4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openfrs.modelpack.convert.dlib_serialize import DlibReader

FORMAT_VERSION = 1


def _read_shape_vector(r: DlibReader) -> np.ndarray:
    """A ``matrix<float,0,1>`` holding interleaved x, y values -> (K, 2)."""
    values = r.read_matrix()
    if values.shape[1] != 1 or values.shape[0] % 2:
        raise r.error(f"shape vector has unexpected dims {values.shape}")
    return values.reshape(-1, 2)


def _read_tree(r: DlibReader, n_values: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One regression tree -> (idx (S,2), thresh (S,), leaves (S+1, n_values))."""
    n_splits = r.read_length()
    raw = r.read_ints(4 * n_splits).reshape(n_splits, 4)  # idx1, idx2, mantissa, exponent
    idx = raw[:, :2]
    thresh = np.ldexp(raw[:, 2].astype(np.float64), raw[:, 3])
    n_leaves = r.read_length()
    if n_leaves != n_splits + 1:
        raise r.error(f"tree with {n_splits} splits has {n_leaves} leaves")
    block = r.read_ints(n_leaves * (2 + 2 * n_values)).reshape(n_leaves, -1)
    if np.any(np.abs(block[:, 0]) != n_values) or np.any(np.abs(block[:, 1]) != 1):
        raise r.error("leaf vectors do not match the shape size")
    pairs = block[:, 2:].reshape(n_leaves, n_values, 2)
    leaves = np.ldexp(pairs[..., 0].astype(np.float64), pairs[..., 1])
    return idx, thresh, leaves


def _read_forests(r: DlibReader, n_values: int):
    n_levels = r.read_length()
    idx, thresh, leaves = [], [], []
    for _ in range(n_levels):
        n_trees = r.read_length()
        trees = [_read_tree(r, n_values) for _ in range(n_trees)]
        if len({t[0].shape for t in trees}) != 1:
            raise r.error("trees of unequal depth are not supported")
        idx.append(np.stack([t[0] for t in trees]))
        thresh.append(np.stack([t[1] for t in trees]))
        leaves.append(np.stack([t[2] for t in trees]))
    if len({a.shape for a in idx}) != 1:
        raise r.error("cascade levels of unequal size are not supported")
    return np.stack(idx), np.stack(thresh), np.stack(leaves)


def _read_anchors(r: DlibReader) -> np.ndarray:
    levels = [r.read_ints(r.read_length()) for _ in range(r.read_length())]
    if len({a.shape for a in levels}) != 1:
        raise r.error("feature pools of unequal size are not supported")
    return np.stack(levels)


def _read_deltas(r: DlibReader) -> np.ndarray:
    levels = []
    for _ in range(r.read_length()):
        count = r.read_length()
        levels.append(r.read_floats(2 * count).reshape(count, 2))
    if len({a.shape for a in levels}) != 1:
        raise r.error("feature pools of unequal size are not supported")
    return np.stack(levels)


def parse_shape_predictor(data: bytes, name: str = "<shape predictor>") -> dict[str, np.ndarray]:
    """Parse the .dat bytes into dense arrays (see module docstring); ValueError if malformed."""
    r = DlibReader(data, name)
    r.expect_int(1, what="shape_predictor version")
    initial = _read_shape_vector(r)
    n_values = initial.size
    split_idx, split_thresh, leaves = _read_forests(r, n_values)
    anchors = _read_anchors(r)
    deltas = _read_deltas(r)
    r.expect_end()
    n_levels, _, _ = split_thresh.shape
    if anchors.shape[0] != n_levels or deltas.shape[:2] != anchors.shape:
        raise r.error("feature pool tables do not match the number of cascade levels")
    if split_idx.min() < 0 or split_idx.max() >= anchors.shape[1]:
        raise r.error("split feature index out of range")
    if anchors.min() < 0 or anchors.max() >= initial.shape[0]:
        raise r.error("anchor landmark index out of range")
    return {
        "format_version": np.int32(FORMAT_VERSION),
        "initial_shape": initial.astype(np.float32),
        "split_idx": split_idx.astype(np.int32),
        "split_thresh": split_thresh.astype(np.float32),
        "leaf_values": leaves.reshape(*leaves.shape[:3], -1, 2).astype(np.float32),
        "anchor_idx": anchors.astype(np.int32),
        "deltas": deltas.astype(np.float32),
    }


def convert_shape_predictor(dat_path: Path, npz_path: Path) -> dict:
    """Parse a dlib shape_predictor .dat and save it as .npz; returns manifest facts."""
    dat_path, npz_path = Path(dat_path), Path(npz_path)
    arrays = parse_shape_predictor(dat_path.read_bytes(), name=dat_path.name)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    with open(npz_path, "wb") as fh:  # keep the exact file name (np.savez appends .npz)
        np.savez(fh, **arrays)
    levels, trees, splits = arrays["split_thresh"].shape
    return {
        "format": "npz",
        "source": dat_path.name,
        "num_landmarks": int(arrays["initial_shape"].shape[0]),
        "cascade_levels": int(levels),
        "trees_per_level": int(trees),
        "tree_depth": int(np.log2(splits + 1)),
        "feature_pool_size": int(arrays["anchor_idx"].shape[1]),
    }
