"""`openfrs bench orientation` — do compare, search and add turn turned photos upright, and never
upright ones?

Every LFW image of lfw-partial (1,044) and every crowd photo, upright and turned clockwise by 90,
180 and 270 degrees (np.rot90, then JPEG quality 95 as a phone would store it), goes through
FaceService.largest_face_blocking. Reported per set: the share of upright photos the path turned
(must be ~0), per turn the share brought back upright (the face's `face_angle` equals the turn),
and the cosine (and calibrated similarity >= 0.93, FRS's "same person") between the turned
photo's embedding and the upright one's. `--old-path` adds the former rule (turn only when
upright finds no face) in the same run.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media import ImageLimits, decode_image
from openfrs.service.faces import FaceService
from openfrs.vision.orientation import face_to_original
from openfrs.vision.types import Face

TURNS = (90, 180, 270)
SAME_PERSON = 0.93


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--every", type=int, default=1, help="orientation: every n-th LFW image")


def turned(image: np.ndarray, angle: int) -> np.ndarray:
    """`image` turned clockwise by `angle` (its faces then have face_angle `angle`), as JPEG q95."""
    rotated = np.ascontiguousarray(np.rot90(image, -angle // 90))
    buffer = io.BytesIO()
    Image.fromarray(rotated).save(buffer, "JPEG", quality=95)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _old_path(service: FaceService, image: np.ndarray) -> Face:
    """The rule before issue 13: turn only when upright finds no face at all."""
    oriented = service.pipeline.detect_oriented(image, only_when_none=True)
    if not oriented.faces:
        raise FRSError("FRS.0501")
    service.pipeline.embed(oriented.image, oriented.faces[:1])
    return face_to_original(oriented.faces[0], oriented.angle, image.shape)


def _measure(service: FaceService, images: list[np.ndarray],
             path: Callable[[np.ndarray], Face]) -> dict[str, object]:
    calibration = service.pipeline.calibration
    upright_turned, used = 0, 0
    per_turn: dict[int, dict[str, list]] = {a: {"back": [], "cos": []} for a in TURNS}
    for image in images:
        try:
            reference = path(image)
        except FRSError:
            continue  # no face upright: nothing to compare with
        used += 1
        upright_turned += reference.extras["face_angle"] != 0
        for angle in TURNS:
            try:
                face = path(turned(image, angle))
            except FRSError:
                per_turn[angle]["back"].append(False)
                per_turn[angle]["cos"].append(-1.0)
                continue
            per_turn[angle]["back"].append(face.extras["face_angle"] == angle)
            per_turn[angle]["cos"].append(float(np.dot(face.embedding, reference.embedding)))
    out: dict[str, object] = {"photos_with_a_face": used, "upright_turned": upright_turned}
    for angle, found in per_turn.items():
        cos = np.asarray(found["cos"])
        out[f"turned_{angle}"] = {
            "back_upright": float(np.mean(found["back"])) if found["back"] else None,
            "cosine_median": float(np.median(cos)) if cos.size else None,
            "cosine_p5": float(np.quantile(cos, 0.05)) if cos.size else None,
            "same_person_share": float(np.mean(calibration.similarity(cos) >= SAME_PERSON))
            if cos.size else None,
        }
    return out


def run(args: argparse.Namespace, settings: Settings) -> dict:
    service = FaceService.from_settings(settings)
    limits = ImageLimits.from_settings(settings)
    data: Path = args.data
    crowd = sorted((data / "crowd").glob("*.jpg")) + sorted((data / "crowd/ultraface-imgs").glob("*.jpg"))
    sets = {"lfw": sorted((data / "lfw-partial/images").glob("*/*.jpg"))[::args.every], "crowd": crowd}
    paths: dict[str, Callable[[np.ndarray], Face]] = {"new": service.largest_face_blocking}
    if args.old_path:
        paths["old"] = lambda image: _old_path(service, image)
    result: dict[str, object] = {}
    try:
        for name, files in sets.items():
            images = [decode_image(f.read_bytes(), limits) for f in files]
            result[name] = {label: _measure(service, images, path) for label, path in paths.items()}
    finally:
        service.pool.shutdown()
    return result
