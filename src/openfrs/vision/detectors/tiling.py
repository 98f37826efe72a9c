"""Multi-scale square views of an image, batched for one fixed-size detector input.

Why: small-input detectors (BlazeFace sees 128-256 px) only find faces that span enough
model pixels. A whole-image view catches large faces; finer levels of overlapping tiles
catch small ones, down to the requested minimum face size. All views of all levels are
stacked into one batch so the model runs once per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class View:
    """A square of the image (x0, y0, side in image pixels) fed to the model.

    `inner` marks which edges (left, top, right, bottom) are cuts through the image
    rather than image borders: a face touching such an edge is incomplete there and
    is found whole in an overlapping view.
    """

    x0: int
    y0: int
    side: float
    inner: tuple[bool, bool, bool, bool] = (False, False, False, False)


def _axis_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread tile origins covering [0, length) with at least `overlap` shared."""
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def level_sides(width: int, height: int, min_face: float, model_min_px: float,
                input_size: int, ratio: float = 2.0) -> list[int]:
    """Square view sides from coarse (whole image) to fine, each at most `ratio` apart.

    A view of side T finds faces >= model_min_px * T / input_size image pixels, so the
    finest side is the one where that equals `min_face`.
    """
    whole = max(width, height)
    finest = max(int(min_face * input_size / model_min_px), input_size)
    sides = [whole]
    while sides[-1] > finest:
        sides.append(max(finest, math.ceil(sides[-1] / ratio)))
    return sides


def plan_views(width: int, height: int, min_face: float, model_min_px: float,
               input_size: int) -> list[View]:
    """Context and whole-image views plus, when small faces need it, tiles per finer level.

    Tiles of a level overlap by the largest face the next coarser level cannot see, so
    every face lies whole inside some view where it spans >= model_min_px model pixels.
    """
    sides = level_sides(width, height, min_face, model_min_px, input_size)
    # Context view: the image centred in a square twice its size. Faces that fill most of
    # the frame or touch its border (portraits, LFW-style crops) are only found when the
    # model sees them smaller and with some surroundings.
    context = 2 * sides[0]
    views = [View((width - context) // 2, (height - context) // 2, float(context)),
             View(0, 0, float(sides[0]))]
    for coarse, side in zip(sides, sides[1:], strict=False):
        overlap = min(side // 2, math.ceil(1.15 * model_min_px * coarse / input_size))
        xs = _axis_starts(width, side, overlap)
        ys = _axis_starts(height, side, overlap)
        for y in ys:
            for x in xs:
                inner = (x > 0, y > 0, x + side < width, y + side < height)
                views.append(View(x, y, float(side), inner))
    return views


# Above this many pixels a level is shrunk from exact halvings of the image: INTER_AREA at a
# non-integer factor reads every source pixel the slow way (~30 ms a level on 12 MP), an exact
# halving of even sides ~7 ms. Below it the direct resize is cheap and kept: the composite filter
# is a little smoother and moves borderline detections (on crowd/insightface_t1.jpg, 1280 px, it
# added a second, too large box round one face).
HALVE_ABOVE_PIXELS = 2_500_000


def _shrink_source(image: np.ndarray, size: tuple[int, int], chain: list[np.ndarray]) -> np.ndarray:
    """The image to resize to `size` from: the image, or for a big one the smallest of its
    halvings (kept in `chain`, made as needed) that is still big and at least `size`."""
    if not chain:
        chain.append(image)
    while (chain[-1].shape[0] * chain[-1].shape[1] > HALVE_ABOVE_PIXELS
           and chain[-1].shape[1] >= 2 * size[0] and chain[-1].shape[0] >= 2 * size[1]):
        last = chain[-1]
        h, w = last.shape[:2]
        even = last[:h - h % 2, :w - w % 2]  # odd sides would leave the fast path
        chain.append(cv2.resize(even, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
    for level in reversed(chain):
        if level.shape[1] >= size[0] and level.shape[0] >= size[1]:
            return level
    return image


def render_views(image: np.ndarray, views: list[View], input_size: int,
                 chain: list[np.ndarray] | None = None) -> np.ndarray:
    """Crop+resize every view to input_size², zero-padded outside the image.

    Each level's image is resized once (shrinking from the nearest halving of the image, kept
    in `chain` for the next call on the same image) and tiles are sliced from it.
    """
    batch = np.zeros((len(views), input_size, input_size, 3), np.uint8)
    height, width = image.shape[:2]
    scaled: dict[float, np.ndarray] = {}
    chain = [] if chain is None else chain
    for i, view in enumerate(views):
        if view.side not in scaled:
            f = input_size / view.side
            size = (max(1, round(width * f)), max(1, round(height * f)))
            if f < 1:
                source = _shrink_source(image, size, chain)
                scaled[view.side] = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
            else:
                scaled[view.side] = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        level = scaled[view.side]
        f = input_size / view.side
        x, y = round(view.x0 * f), round(view.y0 * f)
        src_x, src_y = max(x, 0), max(y, 0)  # views may start left of / above the image
        crop = level[src_y:y + input_size, src_x:x + input_size]
        dst_x, dst_y = src_x - x, src_y - y
        batch[i, dst_y:dst_y + crop.shape[0], dst_x:dst_x + crop.shape[1]] = crop
    return batch


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (N,4) and (M,4) x1,y1,x2,y2 boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


# Most candidates NMS considers, best scores first. Why: the candidate count is set by the
# image, not by us: a 4000x4000 mosaic of one face gave 7,063, and all-pairs IoU over them
# took GBs. A face yields ~5-10 candidates (neighbouring anchors, overlapping views and
# scales; 54 for the 6 faces of crowd/insightface_t1.jpg, ~4.6 per face in a 1024-face
# mosaic), so 2000 still covers a few hundred faces, well over the pipeline's max_faces
# (100), while NMS work stays below 2000 x clusters IoUs.
MAX_NMS_CANDIDATES = 2000


def iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x1,y1,x2,y2 box with each of (N,4) boxes: O(N) memory."""
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = w * h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, points: np.ndarray, iou: float,
                 max_candidates: int = MAX_NMS_CANDIDATES
                 ) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe-style blending NMS: each cluster's box/points are score-weighted means.

    Why: BlazeFace fires on many neighbouring anchors; averaging them (instead of keeping
    the top one) gives steadier boxes, which the landmark stage depends on.

    Only the `max_candidates` best-scoring candidates take part, and each step compares the
    cluster's seed with the candidates still unassigned, so memory stays O(N).
    """
    order = np.argsort(-scores, kind="stable")[:max_candidates]
    boxes, scores, points = boxes[order], scores[order], points[order]
    remaining = np.arange(len(scores))
    merged = []
    while remaining.size:
        seed = remaining[0]
        near = iou_one(boxes[seed], boxes[remaining]) >= iou
        near[0] = True
        members, remaining = remaining[near], remaining[~near]
        w = scores[members][:, None]
        box = (boxes[members] * w).sum(0) / w.sum()
        pts = (points[members] * w[:, :, None]).sum(0) / w.sum()
        merged.append((box, float(scores[seed]), pts))
    return merged
