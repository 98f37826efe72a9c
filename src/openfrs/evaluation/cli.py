"""`openfrs eval verification | fairness | calibrate | attributes | liveness` — accuracy figures for
docs/accuracy.md (the recognition verbs are in evaluation/recognition_reports.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.evaluation import action_clips, attributes, liveness, liveness_tables, recognition_reports
from openfrs.evaluation.lfw import CHOOSERS, embed_images, pair_cosines, read_pairs
from openfrs.evaluation.metrics import kfold_accuracy, tar_at_far
from openfrs.evaluation.study import build_study
from openfrs.service.faces import FaceService

DEFAULT_LFW = Path("../shared/data/lfw-partial")
DEFAULT_UTKFACE = Path("../shared/data/utkface/images")
DEFAULT_POSE = Path("../shared/data/liveness-stills/pose")
DEFAULT_DATA = Path("../shared/data")
DEFAULT_CACHE = Path.home() / ".cache" / "openfrs" / "eval"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["verification", "fairness", "calibrate", "attributes", "liveness"])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW,
                        help="folder with images/ and pairs.tsv (default ../shared/data/lfw-partial)")
    parser.add_argument("--utkface", type=Path, default=DEFAULT_UTKFACE,
                        help="UTKFace images for `attributes` (default ../shared/data/utkface/images)")
    parser.add_argument("--pose", type=Path, default=DEFAULT_POSE,
                        help="labelled head-pose stills (default ../shared/data/liveness-stills/pose)")
    parser.add_argument("--limit", type=int, default=None,
                        help="`attributes`: score N UTKFace images evenly spaced in name order")
    parser.add_argument("--faceplugin", action="store_true",
                        help="`attributes`: also score faceplugin's fr_age/fr_gender nets on the same faces")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="`liveness`: the evaluation data folder (default ../shared/data)")
    parser.add_argument("--every", type=int, default=1,
                        help="`liveness`: thin the UTKFace and synthetic-attack samples N times (quick runs)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="recognition verbs: embeddings kept between runs")
    parser.add_argument("--no-cache", action="store_true", help="recognition verbs: embed afresh")
    parser.add_argument("--utk-every", type=int, default=1,
                        help="recognition verbs: thin UTKFace N times (quick runs; figures change)")
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON")


def _service(settings: Settings) -> FaceService:
    return FaceService.from_settings(settings)


def _verification_scores(service, args: argparse.Namespace, settings: Settings, pairs, choose):
    names = sorted({p.image1 for p in pairs} | {p.image2 for p in pairs})
    vectors = embed_images(service, args.lfw / "images", names, settings, choose)
    return pair_cosines(pairs, vectors), sum(v is None for v in vectors.values())


def _study(args: argparse.Namespace, settings: Settings):
    return build_study(settings, args.data, None if args.no_cache else args.cache,
                       utk_every=args.utk_every)


def verification(args: argparse.Namespace, settings: Settings) -> dict:
    """TAR at low FAR on all pairs for every candidate, and the fixed pairs.tsv protocol."""
    study, service = _study(args, settings)
    return {"all_pairs": recognition_reports.verification(study),
            "pairs_tsv_default": pairs_protocol(service, args, settings)}


def pairs_protocol(service: FaceService, args: argparse.Namespace, settings: Settings) -> dict:
    """10-fold accuracy on lfw-partial/pairs.tsv: kept for continuity, it hides what TAR at low
    FAR shows (every candidate scores ~0.986 here)."""
    pairs = read_pairs(args.lfw / "pairs.tsv")
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    scores, misses = _verification_scores(service, args, settings, pairs, CHOOSERS["central"])
    kfold = kfold_accuracy(scores, same, folds)
    tar, threshold = tar_at_far(scores[same], scores[~same], 1e-2)
    largest_scores, _ = _verification_scores(service, args, settings, pairs, CHOOSERS["largest"])
    return {
        "protocol": str(args.lfw / "pairs.tsv"), "embedder": service.embedder_version,
        "pairs": len(pairs), "same": int(same.sum()), "different": int((~same).sum()),
        "images_without_face": misses,
        "accuracy_10fold": round(kfold.accuracy_mean, 4),
        "accuracy_std": round(kfold.accuracy_std, 4),
        "tar_at_far_1e-2": round(tar, 4),
        "similarity_threshold_at_far_1e-2": round(service.pipeline.calibration.similarity(threshold), 4),
        "accuracy_10fold_largest_face_rule": round(
            kfold_accuracy(largest_scores, same, folds).accuracy_mean, 4),
    }


def fairness(args: argparse.Namespace, settings: Settings) -> dict:
    study, _ = _study(args, settings)
    return recognition_reports.fairness(study)


def calibrate(args: argparse.Namespace, settings: Settings) -> dict:
    """Anchors for every recogniser of the pack; the literals go to vision/calibration_tables.py."""
    study, _ = _study(args, settings)
    return {name: recognition_reports.calibrate(study, name) for name in study.versions}


def attribute_accuracy(args: argparse.Namespace, settings: Settings) -> dict:
    service = _service(settings)
    candidates = {"faceplugin fr_age+fr_gender": attributes.faceplugin_candidate(settings)} \
        if args.faceplugin else None
    return {"utkface": attributes.utkface(service, args.utkface, settings, args.limit,
                                          candidates=candidates),
            "head_pose": attributes.pose_stills(service, args.pose, settings)}


def liveness_accuracy(args: argparse.Namespace, settings: Settings) -> dict:
    service = _service(settings)
    return {"silent": liveness.silent_report(service, settings, args.data, args.every),
            "action_clips": action_clips.real_clip_report(service, args.data),
            "actions": liveness.action_report(service, args.data)}


# Verbs whose report the docs show as tables: printed as Markdown (the JSON still goes to --json).
TABLES = {"liveness": liveness_tables.tables}

EVALUATIONS = {"verification": verification, "fairness": fairness, "calibrate": calibrate,
               "attributes": attribute_accuracy, "liveness": liveness_accuracy}


def run(args: argparse.Namespace, settings: Settings) -> int:
    result = EVALUATIONS[args.what](args, settings)
    text = json.dumps(result, indent=2)
    print(TABLES[args.what](result) if args.what in TABLES else text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0
