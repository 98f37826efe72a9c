"""Peer face detectors (YuNet, SCRFD) run through onnxruntime, for benchmarks only.

Never a product dependency: these decoders exist so bench/detection_eval.py can put our
detector next to well-known ones on the same images, threads and matching rules.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

Detections = tuple[np.ndarray, np.ndarray]  # boxes (N,4) x1,y1,x2,y2 and scores (N,)


def session(path: Path, threads: int = 2) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by plain greedy NMS."""
    order = np.argsort(-scores)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        lt = np.maximum(boxes[i, :2], boxes[rest, :2])
        rb = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
        overlap = inter / (area[i] + area[rest] - inter + 1e-9)
        order = rest[overlap < iou]
    return np.array(keep, int)


class YuNet:
    """libfacedetection YuNet (dynamic-shape ONNX): BGR 0..255 input padded to /32.

    Decoding follows OpenCV's FaceDetectorYN: per stride a grid of cells, score =
    sqrt(cls * obj), centre = (cell + offset) * stride, size = exp(pred) * stride.
    """

    def __init__(self, path: Path, score: float = 0.6, iou: float = 0.3,
                 max_side: int | None = None, threads: int = 2) -> None:
        self.sess = session(path, threads)
        self.score, self.iou, self.max_side = score, iou, max_side

    def detect(self, rgb: np.ndarray) -> Detections:
        image, f = _limit(rgb, self.max_side)
        h, w = image.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :h, :w] = image[:, :, ::-1].transpose(2, 0, 1)
        out = dict(zip([o.name for o in self.sess.get_outputs()],
                       self.sess.run(None, {"input": blob}), strict=True))
        boxes, scores = [], []
        for s in (8, 16, 32):
            cols = pw // s
            cls = np.clip(out[f"cls_{s}"][0, :, 0], 0, 1)
            obj = np.clip(out[f"obj_{s}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            idx = np.flatnonzero(score >= self.score)
            bb = out[f"bbox_{s}"][0, idx]
            cx = (idx % cols + bb[:, 0]) * s
            cy = (idx // cols + bb[:, 1]) * s
            bw, bh = np.exp(bb[:, 2]) * s, np.exp(bb[:, 3]) * s
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
            scores.append(score[idx])
        return _finish(np.concatenate(boxes), np.concatenate(scores), self.iou, f)


class SCRFD:
    """InsightFace SCRFD: RGB (x-127.5)/128, 2 anchors per cell, distance-to-edge boxes.

    size=None runs at the image's own size (padded to /32, dynamic-shape exports only);
    otherwise the image is letterboxed into size x size like insightface's det_size.
    """

    def __init__(self, path: Path, score: float = 0.5, iou: float = 0.4,
                 size: int | None = 640, threads: int = 2) -> None:
        self.sess = session(path, threads)
        self.score, self.iou, self.size = score, iou, size

    def detect(self, rgb: np.ndarray) -> Detections:
        image, f = _limit(rgb, self.size, always=self.size is not None)
        h, w = image.shape[:2]
        ph, pw = (self.size, self.size) if self.size else (-(-h // 32) * 32, -(-w // 32) * 32)
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :h, :w] = (image.transpose(2, 0, 1).astype(np.float32) - 127.5) / 128.0
        outs = self.sess.run(None, {self.sess.get_inputs()[0].name: blob})
        boxes, scores = [], []
        for level, s in enumerate((8, 16, 32)):
            score = outs[level].reshape(-1)
            dist = outs[level + 3].reshape(-1, 4) * s
            ys, xs = np.mgrid[0:ph // s, 0:pw // s]
            centers = np.repeat(np.stack([xs, ys], -1).reshape(-1, 2) * s, 2, axis=0)
            idx = np.flatnonzero(score >= self.score)
            c, d = centers[idx], dist[idx]
            boxes.append(np.concatenate([c - d[:, :2], c + d[:, 2:]], axis=1))
            scores.append(score[idx])
        return _finish(np.concatenate(boxes), np.concatenate(scores), self.iou, f)


def _limit(rgb: np.ndarray, side: int | None, always: bool = False) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is <= side (or exactly side when `always`)."""
    longest = max(rgb.shape[:2])
    if side is None or (longest <= side and not always):
        return rgb, 1.0
    f = side / longest
    size = (round(rgb.shape[1] * f), round(rgb.shape[0] * f))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR), f


def _finish(boxes: np.ndarray, scores: np.ndarray, iou: float, f: float) -> Detections:
    keep = nms(boxes, scores, iou) if len(boxes) else np.zeros(0, int)
    return boxes[keep] / f, scores[keep]
