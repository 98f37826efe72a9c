"""`openfrs eval attributes`: age and gender on UTKFace, head pose on the labelled pose stills.

Both go through the service's own face-detect path (decode -> oriented detection -> 68-point
shape -> the asked-for attributes), so the figures are those a client of face-detect gets.
UTKFace chips are centred on their labelled face, so the face nearest the centre is scored; an
image where no face is found has no prediction and is counted and reported, never dropped.
Candidate age/gender models (`--faceplugin`) are scored on that same face by the same rules,
so a replacement is judged like for like before a pack changes.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.evaluation.lfw import central
from openfrs.media import ImageLimits, decode_image
from openfrs.modelpack.archives import npm_file
from openfrs.modelpack.sources import FACEPLUGIN
from openfrs.service.attributes import AGE, GENDER, HEAD_POSE
from openfrs.service.faces import FaceService
from openfrs.vision.agegender import GENDER_MIN_AGE, GENDER_MIN_PROBABILITY, gender_answered
from openfrs.vision.ssrnet import FacepluginAgeGender
from openfrs.vision.types import Face

# A candidate age/gender model scored beside the shipped one: (image, face) -> (age, P(female)).
Candidate = Callable[[np.ndarray, Face], tuple[float, float]]

AGE_BANDS = ((0, 2), (3, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 200))
ADULT_AGE = 20
# The pose stills: which angle their file name labels, and its sign (vision/headpose.py
# conventions: yaw > 0 toward the image's right, pitch > 0 up, roll > 0 clockwise).
POSE_LABELS = {"left_face": ("yaw", -1), "right_face": ("yaw", 1), "lower_face": ("pitch", -1),
               "rise_face": ("pitch", 1), "left_wryneck": ("roll", -1), "right_wryneck": ("roll", 1)}


def parse_utkface_name(name: str) -> tuple[int, int]:
    """(age, gender) from `age_gender_race_date.jpg...`; gender 1 = female, -1 when unlabelled."""
    parts = name.split("_")
    gender = int(parts[1]) if len(parts) >= 3 and parts[1] in ("0", "1") else -1
    return int(parts[0]), gender


def band_label(low: int, high: int) -> str:
    return f"{low}-{high}" if high < 200 else f"{low}+"


def age_metrics(predicted: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict:
    """MAE overall and per age band (with the band's mean signed error); NaN = no prediction."""
    scored = mask & np.isfinite(predicted)
    error = predicted - truth
    bands = {}
    for low, high in AGE_BANDS:
        chosen = scored & (truth >= low) & (truth <= high)
        bands[band_label(low, high)] = {
            "n": int(chosen.sum()),
            "mae": round(float(np.abs(error[chosen]).mean()), 2) if chosen.any() else None,
            "bias": round(float(error[chosen].mean()), 2) if chosen.any() else None}
    return {"mae": round(float(np.abs(error[scored]).mean()), 3) if scored.any() else None,
            "n": int(scored.sum()), "no_prediction": int((mask & ~np.isfinite(predicted)).sum()),
            "bands": bands}


def gender_metrics(p_female: np.ndarray, truth: np.ndarray, age: np.ndarray, mask: np.ndarray,
                   threshold: float | np.ndarray = 0.5) -> dict:
    """Accuracy overall, at ages 20+ and per age band, and the male/female confusion."""
    labelled = mask & (truth >= 0)
    scored = labelled & np.isfinite(p_female)
    predicted = (p_female > threshold).astype(int)
    confusion = {f"true_{t}": {f"pred_{p}": int((scored & (truth == ti) & (predicted == pi)).sum())
                               for pi, p in enumerate(("male", "female"))}
                 for ti, t in enumerate(("male", "female"))}
    right = predicted == truth
    bands = {}
    for low, high in AGE_BANDS:
        chosen = scored & (age >= low) & (age <= high)
        bands[band_label(low, high)] = round(float(right[chosen].mean()), 3) if chosen.any() else None
    adult = scored & (age >= ADULT_AGE)
    return {"acc": round(float(right[scored].mean()), 4) if scored.any() else None,
            "acc_age_20_plus": round(float(right[adult].mean()), 4) if adult.any() else None,
            "n": int(scored.sum()), "no_prediction": int((labelled & ~np.isfinite(p_female)).sum()),
            "confusion": confusion, "acc_by_age_band": bands}


CONFIDENCE_LEVELS = (0.7, 0.8, 0.9)


def gender_by_confidence(p_female: np.ndarray, truth: np.ndarray, mask: np.ndarray,
                         levels: tuple[float, ...] = CONFIDENCE_LEVELS) -> list[dict]:
    """What a caller gets by keeping only answers whose `gender_probability` reaches a level:
    the share of labelled faces still answered, and the accuracy on those."""
    scored = mask & (truth >= 0) & np.isfinite(p_female)
    confidence = np.maximum(p_female, 1 - p_female)
    right = (p_female > 0.5).astype(int) == truth
    rows = []
    for level in levels:
        kept = scored & (confidence >= level)
        rows.append({"min_gender_probability": level,
                     "answered": round(float(kept.sum() / max(scored.sum(), 1)), 4),
                     "acc": round(float(right[kept].mean()), 4) if kept.any() else None})
    return rows


ABSTENTION_CUTS = tuple(round(0.5 + 0.025 * i, 3) for i in range(20))  # 0.5 .. 0.975
ABSTENTION_TARGET = {"acc": 0.96, "answered": 0.80}


def _answered_stats(kept: np.ndarray, right: np.ndarray, scored: np.ndarray,
                    eligible: np.ndarray | None = None) -> dict:
    stats = {"answered": round(float(kept.sum() / max(scored.sum(), 1)), 4),
             "acc": round(float(right[kept].mean()), 4) if kept.any() else None}
    if eligible is not None:  # the faces gender is meant for: labelled at the minimum age or more
        stats["answered_of_eligible"] = round(float((kept & eligible).sum() / max(eligible.sum(), 1)), 4)
    return stats


def gender_abstention(p_female: np.ndarray, predicted_age: np.ndarray, truth: np.ndarray,
                      age: np.ndarray, mask: np.ndarray, min_age: float = GENDER_MIN_AGE,
                      shipped_cut: float = GENDER_MIN_PROBABILITY) -> dict:
    """Gender as the API answers it: `unknown` for a face estimated under `min_age` or below a
    probability cut. For each cut: the share of labelled faces answered, the share of the
    eligible ones (labelled `min_age` or older: children are withheld by design, so coverage is
    judged on the rest) and the accuracy on the answered. The cut chosen is the most accurate
    one that still answers ABSTENTION_TARGET["answered"] of the eligible faces with at least
    ABSTENTION_TARGET["acc"]; at the shipped cut, both per true age band. Faces without a
    prediction count as unanswered."""
    scored = mask & (truth >= 0)
    eligible = scored & (age >= min_age)
    finite = scored & np.isfinite(p_female) & np.isfinite(predicted_age)
    right = (p_female > 0.5).astype(int) == truth
    rows = []
    for cut in ABSTENTION_CUTS:
        kept = finite & gender_answered(np.nan_to_num(predicted_age), np.nan_to_num(p_female, nan=0.5),
                                        min_age, cut)
        rows.append({"min_gender_probability": cut, **_answered_stats(kept, right, scored, eligible)})
    meets = [r for r in rows if r["acc"] is not None and r["acc"] >= ABSTENTION_TARGET["acc"]
             and r["answered_of_eligible"] >= ABSTENTION_TARGET["answered"]]
    kept = finite & gender_answered(np.nan_to_num(predicted_age), np.nan_to_num(p_female, nan=0.5),
                                    min_age, shipped_cut)
    bands = {}
    for low, high in AGE_BANDS:
        band = scored & (age >= low) & (age <= high)
        bands[band_label(low, high)] = {"faces": int(band.sum()), **_answered_stats(kept & band, right, band)}
    return {"min_age": min_age, "target": ABSTENTION_TARGET, "by_cut": rows,
            "chosen_cut": meets[-1]["min_gender_probability"] if meets else None,
            "shipped_cut": shipped_cut,
            "shipped": {**_answered_stats(kept, right, scored, eligible),
                        "meets_target": bool(meets) and shipped_cut in
                        {r["min_gender_probability"] for r in meets}},
            "shipped_by_age_band": bands}


def faceplugin_candidate(settings: Settings, intra_threads: int | None = 1) -> Candidate:
    """faceplugin's fr_age + fr_gender (vision/ssrnet.py) on our detector's box, from the verified
    npm archive in the download cache; the sessions hold the weights, so the files can go."""
    with tempfile.TemporaryDirectory() as work:
        files = [npm_file(FACEPLUGIN, f"model/{name}.onnx", settings.download_dir, Path(work))
                 for name in ("fr_age", "fr_gender")]
        model = FacepluginAgeGender(*files, intra_threads=intra_threads)
    return lambda image, face: model.estimate(image, face.extras.get("detector_box", face.box))


def scores(predicted_age: np.ndarray, p_female: np.ndarray, truth_age: np.ndarray,
           truth_gender: np.ndarray) -> dict:
    """Every age and gender figure of one model; NaN = no prediction."""
    everything = np.ones(len(truth_age), bool)
    return {"age": age_metrics(predicted_age, truth_age, everything),
            "gender": gender_metrics(p_female, truth_gender, truth_age, everything),
            "gender_by_confidence": gender_by_confidence(p_female, truth_gender, everything),
            "gender_with_abstention": gender_abstention(p_female, predicted_age, truth_gender, truth_age,
                                                        everything)}


def utkface(service: FaceService, images: Path, settings: Settings, limit: int | None = None,
            log: Callable[[str], None] = print, candidates: dict[str, Candidate] | None = None) -> dict:
    """Age MAE and gender accuracy of face-detect's attributes 1 and 2 on every UTKFace image, and
    of each candidate on the same face (`candidates` in the result, same figures and rule)."""
    files = sorted(images.glob("*.jpg"))
    if limit and limit < len(files):  # evenly spaced: names sort by age, so a prefix is one band
        files = [files[i * len(files) // limit] for i in range(limit)]
    candidates = candidates or {}
    limits = ImageLimits.from_settings(settings)
    labels = [parse_utkface_name(f.name) for f in files]
    truth_age = np.array([a for a, _ in labels], np.float64)
    truth_gender = np.array([g for _, g in labels], np.int64)
    predicted = {name: np.full((len(files), 2), np.nan) for name in ("shipped", *candidates)}
    milliseconds = []
    start = time.perf_counter()
    for i, path in enumerate(files):
        image = decode_image(path.read_bytes(), limits)
        began = time.perf_counter()
        try:
            faces = service.detect_blocking(image, frozenset({AGE, GENDER}))
        except FRSError:
            faces = []
        milliseconds.append((time.perf_counter() - began) * 1000)
        face = central(faces, image) if faces else None
        estimate = face.extras["age_gender"] if face else None
        if estimate is not None:
            predicted["shipped"][i] = estimate.age, estimate.p_female
        if face is not None:
            for name, candidate in candidates.items():
                predicted[name][i] = candidate(image, face)
        if (i + 1) % 1000 == 0:
            log(f"  utkface {i + 1}/{len(files)} ({time.perf_counter() - start:.0f} s)")
    shipped = predicted.pop("shipped")
    return {
        "images": len(files), "no_face": int(np.isnan(shipped[:, 0]).sum()),
        **scores(shipped[:, 0], shipped[:, 1], truth_age, truth_gender),
        "ms_per_image_median": round(statistics.median(milliseconds), 1) if milliseconds else None,
        "model": service.pipeline.agegender_version,
        "candidates": {name: scores(values[:, 0], values[:, 1], truth_age, truth_gender)
                       for name, values in predicted.items()},
    }


def pose_stills(service: FaceService, folder: Path, settings: Settings) -> dict:
    """Head pose (attribute 0) of each labelled still, and whether its labelled angle has the
    labelled sign."""
    limits = ImageLimits.from_settings(settings)
    rows = {}
    for path in sorted(folder.iterdir()):
        if path.stem not in POSE_LABELS:
            continue
        faces = service.detect_blocking(decode_image(path.read_bytes(), limits), frozenset({HEAD_POSE}))
        yaw, pitch, roll = faces[0].extras["head_pose"]
        angle, sign = POSE_LABELS[path.stem]
        value = {"yaw": yaw, "pitch": pitch, "roll": roll}[angle]
        rows[path.stem] = {"yaw": round(yaw, 1), "pitch": round(pitch, 1), "roll": round(roll, 1),
                           "labelled": f"{angle} {'+' if sign > 0 else '-'}",
                           "right_sign": bool(np.sign(value) == sign)}
    return {"stills": rows, "right_sign": sum(r["right_sign"] for r in rows.values()), "of": len(rows)}
