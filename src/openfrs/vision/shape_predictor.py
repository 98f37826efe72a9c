"""dlib's ERT landmark predictor (``shape_predictor``) re-implemented with numpy.

The model comes from :mod:`openfrs.modelpack.convert.dlib_shape` (.npz).  Inference mirrors
dlib/image_processing/shape_predictor.h step by step so results match dlib:

* the shape lives in unit-box coordinates; the box maps (0,0) to its top-left and (1,1)
  to its bottom-right corner;
* at every cascade level the feature pixels are positioned relative to the current
  shape through the similarity transform (Umeyama) from the initial shape, rounded to
  the nearest pixel (``floor(v + 0.5)``) and read as dlib reads an RGB image:
  intensity = ``(r + g + b) // 3``; pixels outside the image read 0;
* each tree compares ``value[idx1] - value[idx2] > thresh`` down to a leaf and the leaf
  vectors are accumulated in float32 in dlib's order.

Box convention: dlib rectangles are inclusive integer pixel ranges, so an OpenFRS
``Box(x1, y1, x2, y2)`` with exclusive right/bottom edges maps to the dlib rectangle
``left=x1, top=y1, right=x2-1, bottom=y2-1`` (fractional values are used as-is).
A dlib detection ``rect`` is therefore ``Box(rect.left(), rect.top(), rect.right()+1,
rect.bottom()+1)``.  Unlike dlib, :meth:`ShapePredictor.predict` returns unrounded
float coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openfrs.vision.align import MEAN_FACE_68, similarity_transform
from openfrs.vision.types import Box


def box_to_dlib_rect(box: Box) -> tuple[float, float, float, float]:
    """OpenFRS box (exclusive x2/y2) -> dlib rectangle (left, top, right, bottom inclusive)."""
    return float(box.x1), float(box.y1), float(box.x2) - 1.0, float(box.y2) - 1.0


def _intensity(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """dlib's get_pixel_intensity at integer points; 0 outside the image."""
    h, w = image.shape[:2]
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    xi, yi = np.where(inside, xs, 0), np.where(inside, ys, 0)
    pix = image[yi, xi]
    if pix.ndim == 2:  # RGB: integer mean, as dlib's rgb -> grayscale assign_pixel
        pix = pix.astype(np.int32).sum(axis=1) // 3
    return np.where(inside, pix, 0).astype(np.float32)


class ShapePredictor:
    """Landmarks for one face box; K points (5 or 68 for dlib's released models)."""

    def __init__(self, path: Path) -> None:
        with np.load(Path(path)) as data:
            self.initial = data["initial_shape"].astype(np.float32, copy=False)
            self.split_idx = data["split_idx"].astype(np.intp, copy=False)
            self.split_thresh = data["split_thresh"].astype(np.float32, copy=False)
            self.leaves = data["leaf_values"].astype(np.float32, copy=False)
            self.anchor_idx = data["anchor_idx"].astype(np.intp, copy=False)
            self.deltas = data["deltas"].astype(np.float32, copy=False)
        self.levels, self.trees, self.splits = self.split_thresh.shape
        self.depth = int(np.log2(self.splits + 1))
        # flat per-level tables: node j of tree t is entry t*S + j, leaf l is t*(S+1) + l
        self._idx1 = self.split_idx[..., 0].reshape(self.levels, -1)
        self._idx2 = self.split_idx[..., 1].reshape(self.levels, -1)
        self._thresh = self.split_thresh.reshape(self.levels, -1)
        self._node_base = np.arange(self.trees) * self.splits
        self._leaf_base = np.arange(self.trees) * (self.splits + 1) - self.splits
        self._leaves_flat = self.leaves.reshape(self.levels, -1, self.initial.size)

    def predict(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Landmarks (K, 2) float32 in image pixel coordinates (x, y).

        ``image`` is HxWx3 RGB uint8 (or HxW grayscale).  See the module docstring for
        the box convention.
        """
        if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise ValueError(f"image must be HxW or HxWx3, got shape {image.shape}")
        left, top, right, bottom = box_to_dlib_rect(box)
        origin = np.array([left, top])
        size = np.array([right - left, bottom - top])
        shape = self.initial.copy()
        for level in range(self.levels):
            values = self._features(image, shape, level, origin, size)
            shape = self._apply_forest(level, values, shape)
        return (origin + shape.astype(np.float64) * size).astype(np.float32)

    def _features(self, image, shape, level, origin, size) -> np.ndarray:
        m, _ = similarity_transform(self.initial, shape)
        m = m.astype(np.float32)
        pts = self.deltas[level] @ m.T + shape[self.anchor_idx[level]]
        img_pts = np.floor(origin + pts.astype(np.float64) * size + 0.5).astype(np.int64)
        return _intensity(image, img_pts[:, 0], img_pts[:, 1])

    def _apply_forest(self, level: int, values: np.ndarray, shape: np.ndarray) -> np.ndarray:
        idx1, idx2, thresh = self._idx1[level], self._idx2[level], self._thresh[level]
        node = np.zeros(self.trees, np.intp)
        for _ in range(self.depth):
            flat = self._node_base + node
            go_left = values[idx1[flat]] - values[idx2[flat]] > thresh[flat]
            node = 2 * node + 2 - go_left  # left child 2i+1, right child 2i+2
        stacked = np.empty((self.trees + 1, shape.size), np.float32)
        stacked[0] = shape.reshape(-1)
        np.take(self._leaves_flat[level], self._leaf_base + node, axis=0, out=stacked[1:])
        # axis-0 reduction adds row by row: the same float32 order as dlib's loop
        return np.add.reduce(stacked, axis=0).reshape(-1, 2)


# 68-point indices (iBUG 300-W markup, as used by dlib's 68-point model).
_EYE_IMAGE_LEFT = slice(36, 42)   # subject's right eye
_EYE_IMAGE_RIGHT = slice(42, 48)  # subject's left eye
_NOSE_TIP = 30
_MOUTH_LEFT, _MOUTH_RIGHT = 48, 54
_NOSE_BOTTOM = 33


def five_points(shape: np.ndarray, estimate: bool = True) -> np.ndarray:
    """OpenFRS 5 landmarks (LANDMARK_NAMES order) from a 68- or 5-point dlib shape.

    68 points: eye centres (mean of each eye contour), nose tip (30), mouth corners
    (48, 54).  5 points (dlib's 5-point model: 0-1 corners of the eye on the image
    right, 2-3 corners of the eye on the image left, 4 bottom of the nose): eye centres
    are corner midpoints.  That model has neither a nose tip nor mouth corners: with
    ``estimate`` they are placed from dlib's mean face through a similarity fit on the
    eye centres + nose bottom (on LFW about 0.1 inter-ocular distances off); without
    it the nose is the measured nose *bottom* and the mouth corners are NaN.
    """
    pts = np.asarray(shape, np.float64)
    if pts.shape == (68, 2):
        out = [pts[_EYE_IMAGE_LEFT].mean(0), pts[_EYE_IMAGE_RIGHT].mean(0), pts[_NOSE_TIP],
               pts[_MOUTH_LEFT], pts[_MOUTH_RIGHT]]
        return np.asarray(out, np.float32)
    if pts.shape != (5, 2):
        raise ValueError(f"expected a (68, 2) or (5, 2) shape, got {pts.shape}")
    eye_l, eye_r, nose_bottom = pts[2:4].mean(0), pts[0:2].mean(0), pts[4]
    if not estimate:
        return np.vstack([eye_l, eye_r, nose_bottom, np.full((2, 2), np.nan)]).astype(np.float32)
    mean = MEAN_FACE_68  # row i is landmark 17 + i
    ref = np.stack([mean[_EYE_IMAGE_LEFT.start - 17:_EYE_IMAGE_LEFT.stop - 17].mean(0),
                    mean[_EYE_IMAGE_RIGHT.start - 17:_EYE_IMAGE_RIGHT.stop - 17].mean(0),
                    mean[_NOSE_BOTTOM - 17]])
    m, t = similarity_transform(ref, np.stack([eye_l, eye_r, nose_bottom]))
    placed = mean[[_NOSE_TIP - 17, _MOUTH_LEFT - 17, _MOUTH_RIGHT - 17]] @ m.T + t
    return np.vstack([eye_l, eye_r, placed]).astype(np.float32)
