"""MediaPipe BlazeFace family (converted from the TFJS graph models) as an OpenFRS detector.

Why BlazeFace: freely licensed (Apache-2.0), tiny and fast on CPU, and batched multi-scale
views (see tiling.py) make up for its small input so faces down to ~40 px are found in
large photos. It predicts a box plus 6 keypoints (eyes, nose tip, mouth centre, ear
tragions) per anchor; mouth corners are not among them, so those two landmarks stay NaN
until the 68-point landmark stage fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.vision.detectors.tiling import View, plan_views, render_views, weighted_nms
from openfrs.vision.runtime import create_session
from openfrs.vision.types import Box, Face

# Keypoint order of the model, named by image side like LANDMARK_NAMES (index 0 is the
# subject's right eye, which appears on the image's left in an unmirrored photo).
KEYPOINT_NAMES = ("left_eye", "right_eye", "nose", "mouth_center", "left_ear", "right_ear")

# dlib HOG rectangle (cx, cy, w, h; w = right-left+1 as dlib's right/bottom are inclusive)
# from our box (cx, cy, w, h): hog_cx = cx + A*w, hog_cy = cy + B*h, hog_w = C*w,
# hog_h = D*h. Least squares over ~300 LFW images where both find the central face
# (tools/fit_hog_box_map.py; mapped-box IoU with HOG's: 0.83 mean for the default variant,
# 0.81 unmapped). dlib's 68-point shape predictor was trained on HOG boxes.
HOG_BOX_MAP = {
    "facemesh-detection-full": {"A": -0.0207, "B": -0.0099, "C": 0.9399, "D": 0.9353},
    "blazeface-back": {"A": -0.0311, "B": -0.0423, "C": 1.0052, "D": 1.0002},
    "facemesh-detection-short": {"A": -0.0308, "B": -0.0562, "C": 0.9906, "D": 0.9859},
}


@dataclass(frozen=True)
class BlazeFaceSpec:
    """Geometry of one BlazeFace variant: input size, SSD anchor grid, tuned defaults.

    model_min_px: smallest face (model pixels) found reliably; it sets how finely large
    images are tiled. score_threshold: default cut, from bench/detection_eval.py.
    """

    name: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_cell: tuple[int, ...]
    model_min_px: float = 20.0
    score_threshold: float = 0.5


SPECS = {
    # 192x192 full-range model (FPN, 48x48x1 = 2304 anchors); first output is the face head.
    # The default: best recall/precision balance in bench/detection_eval.py.
    "facemesh-detection-full": BlazeFaceSpec("facemesh-detection-full", 192, (4,), (1,)),
    # 256x256 "back camera" model: 16x16x2 + 8x8x6 = 896 anchors; more false positives.
    "blazeface-back": BlazeFaceSpec("blazeface-back", 256, (16, 32), (2, 6),
                                    score_threshold=0.7),
    # 128x128 short-range (selfie distance) model: 16x16x2 + 8x8x6.
    "facemesh-detection-short": BlazeFaceSpec("facemesh-detection-short", 128, (8, 16), (2, 6),
                                              score_threshold=0.7),
}
DEFAULT_VARIANT = "facemesh-detection-full"
# detect_largest trusts views of side T to have found every face of at least this many times
# model_min_px * T / input_size. Why a margin: a face's merged box grows or shrinks by up to
# ~15% as finer levels add their candidates, so faces near a level's limit must not decide which
# face is the largest. On 182 photos (crowd, dlib and LFW faces, as given and upscaled to camera
# sizes; `openfrs bench camera --agreement`) its largest face differs from `detect`'s (box IoU
# < 0.9) in 34 at 1.0, 11 at 1.5, 7 at 2.0 and 4 at 2.5: three near-ties of two faces (699 vs
# 695 px) and one box at IoU 0.86; its time was 25% / 34% / 40% / 46% of `detect`'s.
LARGEST_TRUST = 2.5


def anchor_centers(spec: BlazeFaceSpec) -> np.ndarray:
    """(N, 2) anchor centres in model pixels, in the order the heads emit them.

    MediaPipe's anchors here are fixed-size, so only centres matter: per stride, row-major
    grid cells, each repeated once per anchor of that cell.
    """
    centers = []
    for stride, per_cell in zip(spec.strides, spec.anchors_per_cell, strict=True):
        cells = spec.input_size // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([xs + 0.5, ys + 0.5], axis=-1).reshape(-1, 2) * stride
        centers.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(centers).astype(np.float32)


def split_outputs(outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(scores (B,N) logits, regressors (B,N,16)) from either head layout.

    Packed models emit [B,N,17] (score first; the first such output is the face head);
    the older ones emit per-level score [B,n,1] and regressor [B,n,16] tensors, finest
    level (most anchors) first.
    """
    packed = [o for o in outputs if o.shape[-1] == 17]
    if packed:
        return packed[0][..., 0], packed[0][..., 1:]
    by_level = sorted(outputs, key=lambda o: -o.shape[1])
    scores = np.concatenate([o[..., 0] for o in by_level if o.shape[-1] == 1], axis=1)
    regs = np.concatenate([o for o in by_level if o.shape[-1] == 16], axis=1)
    return scores, regs


def to_dlib_box(box: Box, variant: str = DEFAULT_VARIANT) -> Box:
    """Our box -> the box dlib's HOG detector would draw around the same face.

    Edges are exclusive like every Box; as a dlib.rectangle that is (round(x1), round(y1),
    round(x2) - 1, round(y2) - 1).
    """
    m = HOG_BOX_MAP[variant]
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    w, h = box.width, box.height
    cx, cy, w, h = cx + m["A"] * w, cy + m["B"] * h, m["C"] * w, m["D"] * h
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


class BlazeFaceDetector:
    """Finds faces >= min_face px anywhere in an RGB image; all views batched per call.

    score_threshold: sigmoid score to keep an anchor (0..1; default the variant's tuned
    value). nms_iou: overlap at which detections are merged. min_face: smallest face (box
    side, image px) that must be found; it decides how finely large images are tiled
    (tile=False: whole image only). max_batch: views per ONNX call; 8 is fastest on a
    2-thread CPU (4000x3000: ~0.41 s vs ~0.6 s at 32, cache-bound); raise it on a GPU.
    """

    def __init__(self, model_path: Path, spec: BlazeFaceSpec | str = DEFAULT_VARIANT,
                 score_threshold: float | None = None, nms_iou: float = 0.3,
                 min_face: float = 40.0, tile: bool = True, max_batch: int = 8,
                 intra_threads: int | None = None) -> None:
        self.spec = SPECS[spec] if isinstance(spec, str) else spec
        self.score_threshold = (self.spec.score_threshold if score_threshold is None
                                else score_threshold)
        self.nms_iou = nms_iou
        self.min_face = min_face
        self.tile = tile
        self.max_batch = max_batch
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name
        self.anchors = anchor_centers(self.spec)

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 HxWx3 image, boxes/keypoints in image pixels, best first.

        `Face.box` is clipped to the image; `extras["detector_box"]` is the box as predicted
        (it may reach past the border) and is what `to_landmark_box` should be given.
        """
        views = self._views(*image.shape[1::-1])
        return self._faces(image, [self._candidates(image, views, [])])

    def detect_largest(self, image: np.ndarray, min_face: float | None = None) -> list[Face]:
        """Faces that surely hold the image's largest one (compare and search use no other),
        at a fraction of `detect`'s cost on big photos with a big face.

        The views run level by level, coarse first (context and whole image, then each finer
        level of tiles). After each level every face of at least `trusted_side(level side)` is
        found, recall permitting, so once one that big is among the faces found no face still
        unseen can be larger and the finer levels, there for small faces, are skipped. A small
        face in a big photo is still found: the levels then all run, which gives `detect`'s
        answer (to float rounding: the batches differ) at `detect`'s cost. `min_face` (above the
        detector's own) drops the levels only smaller faces need, for a caller that has no use
        for them (a reduced decode whose small faces it looks for in the full image anyway).
        """
        views = self._views(*image.shape[1::-1], max(min_face or 0.0, self.min_face))
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        chain: list[np.ndarray] = []
        for side, level in _levels(views):
            found.append(self._candidates(image, level, chain))
            faces = self._faces(image, found)
            if any(_side(face) >= self.trusted_side(side) for face in faces):
                return faces
        return faces

    def trusted_side(self, view_side: float) -> float:
        """Face size (px) above which views of `view_side` px find a face (see LARGEST_TRUST)."""
        return LARGEST_TRUST * self.spec.model_min_px * view_side / self.spec.input_size

    def _views(self, width: int, height: int, min_face: float | None = None) -> list[View]:
        views = plan_views(width, height, min_face or self.min_face, self.spec.model_min_px,
                           self.spec.input_size)
        return views if self.tile else views[:2]  # context + whole image

    def _candidates(self, image: np.ndarray, views: list[View], chain: list[np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores, regs = self._infer(render_views(image, views, self.spec.input_size, chain))
        return self._decode(views, scores, regs)

    def _faces(self, image: np.ndarray, found: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
               ) -> list[Face]:
        """Faces from the candidates of some views, merged, none below 3/4 of min_face."""
        boxes, probs, points = (np.concatenate(parts) for parts in zip(*found, strict=True))
        height, width = image.shape[:2]
        merged = weighted_nms(boxes, probs, points, self.nms_iou)
        floor = 0.75 * self.min_face
        return [self._face(box, score, pts, width, height) for box, score, pts in merged
                if max(box[2] - box[0], box[3] - box[1]) >= floor]

    def to_landmark_box(self, box: Box) -> Box:
        """Box in the convention the dlib 68-point shape predictor was trained on."""
        return to_dlib_box(box, self.spec.name)

    def _infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the views in chunks of max_batch; returns (B,N) logits and (B,N,16) regs."""
        scores, regs = [], []
        for start in range(0, len(batch), self.max_batch):
            chunk = batch[start:start + self.max_batch].astype(np.float32) / 127.5 - 1.0
            s, r = split_outputs(self.session.run(None, {self.input_name: chunk}))
            scores.append(s)
            regs.append(r)
        return np.concatenate(scores), np.concatenate(regs)

    def _decode(self, views: list[View], logits: np.ndarray,
                regs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates above threshold as image-space boxes (K,4), scores, points (K,6,2)."""
        p = min(max(self.score_threshold, 1e-6), 1 - 1e-6)
        threshold = np.log(p / (1.0 - p))  # compare logits, skip the sigmoid for misses
        all_boxes, all_scores, all_points = [], [], []
        for i, view in enumerate(views):
            hits = np.flatnonzero(logits[i] > threshold)
            if not hits.size:
                continue
            r, anchors = regs[i, hits], self.anchors[hits]
            f = view.side / self.spec.input_size
            center = (anchors + r[:, :2]) * f + (view.x0, view.y0)
            half = r[:, 2:4] * f / 2
            boxes = np.concatenate([center - half, center + half], axis=1)
            points = (anchors[:, None] + r[:, 4:].reshape(-1, 6, 2)) * f + (view.x0, view.y0)
            # Faces far below model_min_px are guesses at this scale; a finer view sees them.
            big_enough = r[:, 2:4].max(axis=1) >= 0.75 * self.spec.model_min_px
            ok = big_enough & _inside_cuts(boxes, view, margin=2 * f)
            all_boxes.append(boxes[ok])
            all_points.append(points[ok])
            all_scores.append(1.0 / (1.0 + np.exp(-np.clip(logits[i, hits[ok]], -50, 50))))
        if not all_boxes:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, 6, 2))
        return np.concatenate(all_boxes), np.concatenate(all_scores), np.concatenate(all_points)

    def _face(self, box: np.ndarray, score: float, points: np.ndarray,
              width: int, height: int) -> Face:
        landmarks = np.full((5, 2), np.nan, np.float32)
        landmarks[:3] = points[:3]
        keypoints = {name: (float(x), float(y)) for name, (x, y) in zip(KEYPOINT_NAMES, points,
                                                                        strict=True)}
        # A face cut by the image border keeps its whole (unclipped) box for the landmark
        # stage: clipping it would squeeze the box the shape predictor positions from.
        detector_box = Box(*map(float, box))
        return Face(box=detector_box.clipped(width, height), score=score, landmarks=landmarks,
                    extras={"keypoints": keypoints, "detector": self.spec.name,
                            "detector_box": detector_box})


def _levels(views: list[View]) -> list[tuple[float, list[View]]]:
    """(side, views) per level, coarse first: the context view goes with the whole image's."""
    levels: list[tuple[float, list[View]]] = [(views[1].side, views[:2])]
    for view in views[2:]:
        if view.side != levels[-1][0]:
            levels.append((view.side, []))
        levels[-1][1].append(view)
    return levels


def _side(face: Face) -> float:
    """A face's size as the detector sees it: the longer side of its unclipped box."""
    box = face.extras.get("detector_box", face.box)
    return max(box.width, box.height)


def _inside_cuts(boxes: np.ndarray, view: View, margin: float) -> np.ndarray:
    """False for boxes touching a view edge that cuts through the image (partial faces)."""
    ok = np.ones(len(boxes), bool)
    left, top, right, bottom = view.inner
    x2, y2 = view.x0 + view.side, view.y0 + view.side
    if left:
        ok &= boxes[:, 0] > view.x0 + margin
    if top:
        ok &= boxes[:, 1] > view.y0 + margin
    if right:
        ok &= boxes[:, 2] < x2 - margin
    if bottom:
        ok &= boxes[:, 3] < y2 - margin
    return ok
