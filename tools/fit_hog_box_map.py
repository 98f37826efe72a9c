"""Fit HOG_BOX_MAP: our detector's box -> the box dlib's HOG detector draws (dev-only tool).

Why: dlib's 68-point shape predictor was trained on HOG-detector boxes; fed our (larger,
differently centred) boxes its landmarks drift. On LFW images where both detectors find
the central face, least squares gives hog_cx = cx + A*w, hog_cy = cy + B*h,
hog_w = C*w, hog_h = D*h (dlib's right/bottom are inclusive, so its w = right-left+1).

    .venv/bin/python tools/fit_hog_box_map.py [--count 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import dlib  # dev/test-only reference, never imported by src/openfrs
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from openfrs.modelpack.archives import default_cache_dir, human_models  # noqa: E402
from openfrs.modelpack.convert.tfjs_graph import convert_graph_model  # noqa: E402
from openfrs.vision.detectors.blazeface import DEFAULT_VARIANT, BlazeFaceDetector  # noqa: E402

LFW = ROOT.parent / "shared/data/lfw-partial/images"


def central(boxes: list[np.ndarray], size: tuple[int, int]) -> np.ndarray | None:
    """(cx, cy, w, h) of the box whose centre is nearest the image centre (LFW's subject)."""
    if not boxes:
        return None
    middle = np.array(size, float) / 2
    return min(boxes, key=lambda b: float(np.linalg.norm(b[:2] - middle)))


def pairs(count: int, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """(ours, hog) (N,4) cx,cy,w,h arrays over an evenly spread LFW sample."""
    files = sorted(LFW.glob("*/*.jpg"))
    files = files[:: max(1, len(files) // count)][:count]
    hog = dlib.get_frontal_face_detector()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "detector.onnx"
        source = human_models(default_cache_dir(), [variant], Path(tmp))
        convert_graph_model(source / f"{variant}.json", model)
        ours = BlazeFaceDetector(model, variant, min_face=40)
        a, b = [], []
        for path in files:
            rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            size = (rgb.shape[1], rgb.shape[0])
            mine = central([np.array([(f.box.x1 + f.box.x2) / 2, (f.box.y1 + f.box.y2) / 2,
                                      f.box.width, f.box.height]) for f in ours.detect(rgb)],
                           size)
            theirs = central([np.array([(r.left() + r.right() + 1) / 2,
                                        (r.top() + r.bottom() + 1) / 2,
                                        r.width(), r.height()]) for r in hog(rgb, 1)], size)
            if mine is None or theirs is None:
                continue
            if np.abs(mine[:2] - theirs[:2]).max() > 0.5 * mine[2]:
                continue  # not the same face
            a.append(mine)
            b.append(theirs)
    return np.array(a), np.array(b)


def fit(ours: np.ndarray, hog: np.ndarray) -> dict[str, float]:
    """Least-squares constants (offsets relative to our size, scales through the origin)."""
    w, h = ours[:, 2], ours[:, 3]
    return {
        "A": float(np.mean((hog[:, 0] - ours[:, 0]) / w)),
        "B": float(np.mean((hog[:, 1] - ours[:, 1]) / h)),
        "C": float(np.sum(hog[:, 2] * w) / np.sum(w * w)),
        "D": float(np.sum(hog[:, 3] * h) / np.sum(h * h)),
    }


def report(ours: np.ndarray, hog: np.ndarray, m: dict[str, float]) -> None:
    pred = np.stack([ours[:, 0] + m["A"] * ours[:, 2], ours[:, 1] + m["B"] * ours[:, 3],
                     m["C"] * ours[:, 2], m["D"] * ours[:, 3]], axis=1)

    def corners(b: np.ndarray) -> np.ndarray:
        return np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], axis=1)

    p, t = corners(pred), corners(hog)
    inter = np.prod(np.clip(np.minimum(p[:, 2:], t[:, 2:]) - np.maximum(p[:, :2], t[:, :2]),
                            0, None), axis=1)
    iou = inter / (np.prod(pred[:, 2:], 1) + np.prod(hog[:, 2:], 1) - inter)
    err = np.abs(pred - hog) / hog[:, 2:3]
    print(f"pairs: {len(ours)}; raw IoU(ours, hog) mean {_raw_iou(ours, hog):.3f}")
    print(f"mapped IoU mean {iou.mean():.3f}, 5th pct {np.percentile(iou, 5):.3f}")
    print("mean |error| / hog width (cx, cy, w, h):", np.round(err.mean(0), 3))
    print("HOG_BOX_MAP[variant] = {" + ", ".join(f'"{k}": {v:.4f}' for k, v in m.items()) + "}")


def _raw_iou(ours: np.ndarray, hog: np.ndarray) -> float:
    lo = np.maximum(ours[:, :2] - ours[:, 2:] / 2, hog[:, :2] - hog[:, 2:] / 2)
    hi = np.minimum(ours[:, :2] + ours[:, 2:] / 2, hog[:, :2] + hog[:, 2:] / 2)
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    return float(np.mean(inter / (np.prod(ours[:, 2:], 1) + np.prod(hog[:, 2:], 1) - inter)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--variant", default=DEFAULT_VARIANT, help="BlazeFace variant")
    args = parser.parse_args()
    ours, hog = pairs(args.count, args.variant)
    report(ours, hog, fit(ours, hog))


if __name__ == "__main__":
    main()
