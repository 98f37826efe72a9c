"""Face detector comparison in one run: ours (converted from the npm TFJS files) vs peers.

Reports, per detector: recall/precision at IoU>=0.5 and >=0.3 on dlib-faces testing.xml and
training.xml; faces found per crowd photo; recall/precision on the crowd photos against a
PSEUDO ground truth (faces YuNet-s and SCRFD-2.5g both find at full resolution, IoU>=0.4);
median ms per image with 2 threads. Evaluation data: ../shared/data (never shipped).

    .venv/bin/python bench/detection_eval.py [--json out.json] [--only NAME,NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from face_baselines import SCRFD, Detections, YuNet  # noqa: E402
from openfrs.modelpack.archives import default_cache_dir, human_models  # noqa: E402
from openfrs.modelpack.convert.tfjs_graph import convert_graph_model  # noqa: E402
from openfrs.vision.detectors.blazeface import BlazeFaceDetector  # noqa: E402
from openfrs.vision.detectors.tiling import iou_matrix  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BASE = DATA / "baselines"
THREADS = 2
Detect = Callable[[np.ndarray], Detections]


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def load_xml(path: Path) -> list[tuple[Path, np.ndarray]]:
    """dlib imglab XML -> [(image path, (N,4) x1,y1,x2,y2 boxes)]."""
    items = []
    for image in ET.parse(path).getroot().iter("image"):
        boxes = [[float(b.get("left")), float(b.get("top")),
                  float(b.get("left")) + float(b.get("width")),
                  float(b.get("top")) + float(b.get("height"))] for b in image.iter("box")]
        items.append((path.parent / image.get("file"), np.array(boxes).reshape(-1, 4)))
    return items


def ours(model: str, **kwargs: object) -> Callable[[Path], Detect]:
    """Factory: convert the npm model into `workdir` and wrap our detector."""
    def build(workdir: Path) -> Detect:
        onnx_path = workdir / f"{model}.onnx"
        if not onnx_path.exists():
            source = human_models(default_cache_dir(), [model], workdir)
            convert_graph_model(source / f"{model}.json", onnx_path)
        det = BlazeFaceDetector(onnx_path, model, intra_threads=THREADS, **kwargs)

        def detect(rgb: np.ndarray) -> Detections:
            faces = det.detect(rgb)
            boxes = np.array([[f.box.x1, f.box.y1, f.box.x2, f.box.y2] for f in faces])
            return boxes.reshape(-1, 4), np.array([f.score for f in faces])
        return detect
    return build


CANDIDATES: dict[str, Callable[[Path], Detect]] = {
    "fm-full": ours("facemesh-detection-full"),
    "fm-full/whole": ours("facemesh-detection-full", tile=False),
    "bf-back": ours("blazeface-back"),
    "bf-back/whole": ours("blazeface-back", tile=False),
    "fm-short": ours("facemesh-detection-short"),
    "yunet-s@full": lambda _: YuNet(BASE / "yunet/yunet_s_dynamic.onnx", threads=THREADS).detect,
    "yunet-n@full": lambda _: YuNet(BASE / "yunet/yunet_n_dynamic.onnx", threads=THREADS).detect,
    "scrfd-500m@640": lambda _: SCRFD(BASE / "scrfd/scrfd_500m_bnkps.onnx",
                                      threads=THREADS).detect,
    "scrfd-2.5g@640": lambda _: SCRFD(BASE / "scrfd/scrfd_2.5g.onnx", threads=THREADS).detect,
}


def match(boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray, thr: float) -> int:
    """Greedy one-to-one matching, best score first; returns the number of matches."""
    if not len(boxes) or not len(truth):
        return 0
    overlaps = iou_matrix(boxes[np.argsort(-scores)], truth)
    free = np.ones(len(truth), bool)
    hits = 0
    for row in overlaps:
        row = np.where(free, row, 0.0)
        j = int(row.argmax())
        if row[j] >= thr:
            free[j] = False
            hits += 1
    return hits


def labelled(detect: Detect, items: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Recall/precision at IoU 0.5 and 0.3 over a labelled set."""
    out = {}
    found = [detect(img) for img, _ in items]
    n_truth = sum(len(t) for _, t in items)
    n_det = sum(len(b) for b, _ in found)
    for thr in (0.5, 0.3):
        hits = sum(match(b, s, t, thr) for (b, s), (_, t) in zip(found, items, strict=True))
        out[f"R{thr}"] = hits / max(n_truth, 1)
        out[f"P{thr}"] = hits / max(n_det, 1)
    return out


def pseudo_truth(crowd: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Faces YuNet-s and SCRFD-2.5g (both at full resolution) agree on, IoU >= 0.4.

    `agreed` is the pseudo-GT (box = mean of the two); `union` is every face either found,
    used to judge whether a detection is plausibly a face.
    """
    yunet = YuNet(BASE / "yunet/yunet_s_dynamic.onnx", threads=THREADS)
    scrfd = SCRFD(BASE / "scrfd/scrfd_2.5g.onnx", size=None, threads=THREADS)
    truth = {}
    for name, img in crowd.items():
        (yb, _), (sb, _) = yunet.detect(img), scrfd.detect(img)
        agreed = []
        if len(yb) and len(sb):
            overlaps = iou_matrix(yb, sb)
            for i, j in enumerate(overlaps.argmax(1)):
                if overlaps[i, j] >= 0.4:
                    agreed.append((yb[i] + sb[j]) / 2)
        truth[name] = {"agreed": np.array(agreed).reshape(-1, 4),
                       "union": np.concatenate([yb, sb]).reshape(-1, 4)}
    return truth


def crowd_scores(detect: Detect, crowd: dict[str, np.ndarray], truth: dict) -> dict:
    """Counts per photo; recall on pseudo-GT faces >= 40 px; precision vs the union."""
    counts, hits, n_truth, plausible, n_det = {}, 0, 0, 0, 0
    for name, img in crowd.items():
        boxes, scores = detect(img)
        counts[name] = len(boxes)
        agreed = truth[name]["agreed"]
        big = agreed[np.sqrt(np.prod(agreed[:, 2:] - agreed[:, :2], axis=1)) >= 40]
        hits += match(boxes, scores, big, 0.3)
        n_truth += len(big)
        if len(boxes) and len(truth[name]["union"]):
            plausible += int((iou_matrix(boxes, truth[name]["union"]).max(1) >= 0.3).sum())
        n_det += len(boxes)
    return {"counts": counts, "pgt_R": hits / max(n_truth, 1),
            "pgt_P": plausible / max(n_det, 1), "pgt_faces": n_truth}


def timing(detect: Detect, images: dict[str, np.ndarray], runs: int = 7) -> dict[str, float]:
    """Median wall ms per image after one warm-up call."""
    out = {}
    for name, img in images.items():
        detect(img)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            detect(img)
            times.append((time.perf_counter() - start) * 1000)
        out[name] = float(np.median(times))
    return out


def timing_images() -> dict[str, np.ndarray]:
    """640x480 single face (LFW face on grey), the 1280x886 crowd photo, a 4000x3000 upscale."""
    lfw = read_rgb(sorted((DATA / "lfw-partial/images/AJ_Cook").glob("*.jpg"))[0])
    small = np.full((480, 640, 3), 120, np.uint8)
    small[:, 80:560] = cv2.resize(lfw, (480, 480))
    crowd = read_rgb(DATA / "crowd/insightface_t1.jpg")
    return {"640x480": small, "1280x886": crowd,
            "4000x3000": cv2.resize(crowd, (4000, 3000), interpolation=cv2.INTER_LINEAR)}


def run(names: list[str]) -> dict:
    dlib_dir = DATA / "detection/dlib-faces"
    sets = {s: [(read_rgb(p), b) for p, b in load_xml(dlib_dir / f"{s}.xml")]
            for s in ("testing", "training")}
    paths = sorted((DATA / "crowd").glob("*.jpg")) + sorted(
        (DATA / "crowd/ultraface-imgs").glob("*.jpg"), key=lambda p: int(p.stem))
    crowd = {p.stem if p.parent.name == "crowd" else f"uf{p.stem}": read_rgb(p) for p in paths}
    truth = pseudo_truth(crowd)
    stills = timing_images()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            detect = CANDIDATES[name](Path(tmp))
            results[name] = {s: labelled(detect, items) for s, items in sets.items()}
            results[name]["crowd"] = crowd_scores(detect, crowd, truth)
            results[name]["ms"] = timing(detect, stills)
            print(f"  done {name}", file=sys.stderr)
    return results


def print_tables(results: dict) -> None:
    head = (f"{'detector':15}|{'test R/P@.5':>12}|{'test R/P@.3':>12}|{'train R/P@.5':>13}|"
            f"{'train R/P@.3':>13}|{'crowd pGT R/P':>14}|{'ms 640x480':>11}|{'ms 1280x886':>12}|"
            f"{'ms 4000x3000':>13}")
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        t, tr, c, ms = r["testing"], r["training"], r["crowd"], r["ms"]
        print(f"{name:15}|{t['R0.5']:6.3f}/{t['P0.5']:.3f}|{t['R0.3']:6.3f}/{t['P0.3']:.3f}|"
              f"{tr['R0.5']:7.3f}/{tr['P0.5']:.3f}|{tr['R0.3']:7.3f}/{tr['P0.3']:.3f}|"
              f"{c['pgt_R']:8.3f}/{c['pgt_P']:.3f}|{ms['640x480']:11.1f}|"
              f"{ms['1280x886']:12.1f}|{ms['4000x3000']:13.1f}")
    first = next(iter(results.values()))["crowd"]
    print(f"crowd pGT = PSEUDO ground truth: {first['pgt_faces']} faces >= 40 px that YuNet-s and "
          "SCRFD-2.5g (full resolution) both find (IoU>=0.4); R matched at IoU>=0.3; P = share "
          "of detections overlapping (IoU>=0.3) a face either baseline found.")
    print("\nfaces found per crowd photo")
    names = list(results)
    print(f"{'photo':28}" + "".join(f"{n[:9]:>10}" for n in names))
    for photo in first["counts"]:
        print(f"{photo[:28]:28}" + "".join(
            f"{results[n]['crowd']['counts'][photo]:>10}" for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write all numbers here")
    parser.add_argument("--only", help="comma-separated detector names")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(CANDIDATES)
    results = run(names)
    print_tables(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
