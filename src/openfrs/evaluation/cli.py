"""`openfrs eval verification | calibrate | attributes | liveness` — accuracy figures for docs/accuracy.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.evaluation import attributes, liveness
from openfrs.evaluation.lfw import CHOOSERS, embed_images, pair_cosines, read_pairs
from openfrs.evaluation.metrics import kfold_accuracy, tar_at_far
from openfrs.service.faces import FaceService

DEFAULT_LFW = Path("../shared/data/lfw-partial")
DEFAULT_UTKFACE = Path("../shared/data/utkface/images")
DEFAULT_POSE = Path("../shared/data/liveness-stills/pose")
DEFAULT_DATA = Path("../shared/data")
FARS = (1e-2, 1e-3, 1e-4)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["verification", "calibrate", "attributes", "liveness"])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW,
                        help="folder with images/ and pairs.tsv (default ../shared/data/lfw-partial)")
    parser.add_argument("--utkface", type=Path, default=DEFAULT_UTKFACE,
                        help="UTKFace images for `attributes` (default ../shared/data/utkface/images)")
    parser.add_argument("--pose", type=Path, default=DEFAULT_POSE,
                        help="labelled head-pose stills (default ../shared/data/liveness-stills/pose)")
    parser.add_argument("--limit", type=int, default=None,
                        help="`attributes`: score N UTKFace images evenly spaced in name order")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="`liveness`: the evaluation data folder (default ../shared/data)")
    parser.add_argument("--calibrate", action="store_true",
                        help="`liveness`: measure the cues' real-face tails on LFW and print the literal")
    parser.add_argument("--every", type=int, default=1,
                        help="`liveness`: thin the UTKFace and synthetic-attack samples N times (quick runs)")
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON")


def _service(settings: Settings) -> FaceService:
    return FaceService.from_settings(settings)


def _verification_scores(service, args: argparse.Namespace, settings: Settings, pairs, choose):
    names = sorted({p.image1 for p in pairs} | {p.image2 for p in pairs})
    vectors = embed_images(service, args.lfw / "images", names, settings, choose)
    return pair_cosines(pairs, vectors), sum(v is None for v in vectors.values())


def verification(args: argparse.Namespace, settings: Settings) -> dict:
    service = _service(settings)
    pairs = read_pairs(args.lfw / "pairs.tsv")
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    scores, misses = _verification_scores(service, args, settings, pairs, CHOOSERS["central"])
    kfold = kfold_accuracy(scores, same, folds)
    tar, threshold = tar_at_far(scores[same], scores[~same], 1e-2)
    largest_scores, _ = _verification_scores(service, args, settings, pairs, CHOOSERS["largest"])
    calibration = service.pipeline.calibration
    return {
        "protocol": str(args.lfw / "pairs.tsv"),
        "pairs": len(pairs), "same": int(same.sum()), "different": int((~same).sum()),
        "face_choice": "central (LFW's labelled subject)",
        "images_without_face": misses,
        "accuracy_10fold": round(kfold.accuracy_mean, 4),
        "accuracy_std": round(kfold.accuracy_std, 4),
        "tar_at_far_1e-2": round(tar, 4),
        "cosine_threshold_at_far_1e-2": round(threshold, 4),
        "similarity_threshold_at_far_1e-2": round(calibration.similarity(threshold), 4),
        "accuracy_10fold_largest_face_rule": round(
            kfold_accuracy(largest_scores, same, folds).accuracy_mean, 4),
        "embedder": service.embedder_version,
    }


def calibrate(args: argparse.Namespace, settings: Settings) -> dict:
    """Every cross-identity pair of every image gives the impostor scores behind the FAR anchors."""
    service = _service(settings)
    images = args.lfw / "images"
    names = sorted(str(p.relative_to(images)) for p in images.glob("*/*.jpg"))
    vectors = embed_images(service, images, names, settings)
    kept = [n for n in names if vectors[n] is not None]
    matrix = np.stack([vectors[n] for n in kept])
    identity = np.array([n.split("/")[0] for n in kept])
    cosines = matrix @ matrix.T
    upper = np.triu(np.ones_like(cosines, dtype=bool), k=1)
    same = identity[:, None] == identity[None, :]
    genuine, impostor = cosines[upper & same], cosines[upper & ~same]
    rows = []
    for far in FARS:
        tar, threshold = tar_at_far(genuine, impostor, far)
        rows.append({"far": far, "cosine_threshold": round(threshold, 4), "tar": round(tar, 4)})
    return {
        "images": len(names), "images_without_face": len(names) - len(kept),
        "genuine_pairs": int(genuine.size), "impostor_pairs": int(impostor.size),
        "impostor_median": round(float(np.median(impostor)), 4),
        "impostor_max": round(float(impostor.max()), 4),
        "far_thresholds": rows,
        "far_1e-4_reliable": impostor.size >= 10 / 1e-4,
    }


def attribute_accuracy(args: argparse.Namespace, settings: Settings) -> dict:
    service = _service(settings)
    return {"utkface": attributes.utkface(service, args.utkface, settings, args.limit),
            "head_pose": attributes.pose_stills(service, args.pose, settings)}


def liveness_accuracy(args: argparse.Namespace, settings: Settings) -> dict:
    service = _service(settings)
    if args.calibrate:
        return liveness.calibrate(service, settings, args.data)
    return {"silent": liveness.silent_report(service, settings, args.data, args.every),
            "actions": liveness.action_report(service, args.data)}


EVALUATIONS = {"verification": verification, "calibrate": calibrate, "attributes": attribute_accuracy,
               "liveness": liveness_accuracy}


def run(args: argparse.Namespace, settings: Settings) -> int:
    result = EVALUATIONS[args.what](args, settings)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0
