"""face-api.js's own AgeGenderNet on UTKFace: per crop, alone and combined with faceres-deep.

Why: our best gender on UTKFace is 0.90 (attribute_choice.py) against a 0.93 target set by
face-api.js's published UTK score; its age/gender net had not been run here. Its weights come
from the npm tarball @vladmandic/face-api (pinned version + sha256 below) and are rebuilt as
ONNX by openfrs.modelpack.convert.faceapi_agegender.

Caveat, measured against: face-api.js says (TUTORIAL.md, "Age and Gender Recognition Model")
that the net was trained on an 80/20 split of UTK (and seven other sets) and reports MAE 5.25 /
gender 0.93 on its UTK test split. Most of these 6,000 UTKFace images were therefore probably
in its training data: its numbers here are not held-out scores, and combinations that lean on
it inherit that optimism.

How:
1. `npm pack @vladmandic/face-api@1.7.15` into a temp dir (or --tarball), sha256 checked, the
   manifest + shard read from the tarball, converted to ONNX (normalisation in the graph).
2. Product pipeline per chip as in attribute_choice.py (BlazeFace on the chip, on a miss on a
   grey canvas; dlib 68-point and 5-point shapes; dlib embedding).
3. face-api inputs exactly as its node tensor path builds them (extractFaceTensors: box clipped
   and floored; padToSquare centred with zeros; tf.image.resizeBilinear to 112, no half-pixel
   centres), from these crops: `faceapi68` = face-api's alignedRect rule (min box of the 68
   landmarks, grown by 20% of its size) on our dlib 68 points; `detbox` = our BlazeFace box (face-api
   without landmarks uses its detector box; its SSD box is not ours); `chip` = the whole 200x200
   UTKFace chip; `align10/25/50` = our dlib 5-point aligned chip at that padding (112 px, cut
   from the chip with replicated edges). Each also mirrored (flip-average TTA rows).
4. faceres-deep with its recipe (bgr/caffe/align50, age = expectation + 1), dlib+deep heads and
   the MLP as attribute_choice.py. Combinations use face-api's own crop (faceapi68) averaged with
   its mirror image, fixed in advance: picking a crop on the 600-image search subset chose
   align10, 5th of the 6 crops on all images. Fitted combinations and heads are out of fold
   (5 folds by sha256 of the file name). ms: 1 ONNX thread, batch 1, median of 100.

    .venv/bin/python bench/faceapi_agegender.py --json bench/out/faceapi_agegender.json
    .venv/bin/python bench/faceapi_agegender.py --json /tmp/f.json --limit 400   # quick run
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "2")  # as attribute_choice.py, before numpy loads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import attribute_choice as ac  # noqa: E402
from bench_run import Clock, report_arguments, write_report  # noqa: E402
from openfrs.config import Settings  # noqa: E402
from openfrs.media import ImageLimits  # noqa: E402
from openfrs.modelpack.archives import human_models  # noqa: E402
from openfrs.modelpack.convert import faceapi_agegender, tfjs_graph  # noqa: E402
from openfrs.vision.agegender import landmarks_box as landmarks_rect  # noqa: E402
from openfrs.vision.agegender import model_input as faceapi_input  # noqa: E402
from openfrs.vision.align import face_chip  # noqa: E402
from openfrs.vision.pack import load_verified_pack  # noqa: E402
from openfrs.vision.pipeline import FacePipeline, PipelineOptions  # noqa: E402
from openfrs.vision.runtime import create_session  # noqa: E402

NPM_PACKAGE = "@vladmandic/face-api"
NPM_VERSION = "1.7.15"
TARBALL = "vladmandic-face-api-1.7.15.tgz"
TARBALL_SHA256 = "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"
MANIFEST = "package/model/age_gender_model-weights_manifest.json"
SIZE = faceapi_agegender.INPUT_SIZE
CROPS = ("faceapi68", "detbox", "chip", "align10", "align25", "align50")
COMBO_CROP = "faceapi68"  # face-api's detectAllFaces().withFaceLandmarks().withAgeAndGender() crop
DEEP_VARIANT, DEEP_READOUT = "bgr/caffe/align50", "expect+1"  # faceres-deep's recipe (attribute_choice)


# --------------------------------------------------------------------------- weights

def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fetch_weights(work: Path, tarball: Path | None) -> tuple[Path, dict]:
    """The pinned npm tarball's manifest + shards under work/model; returns (manifest, provenance)."""
    if tarball is None:
        subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--pack-destination", str(work)],
                       check=True, capture_output=True)
        tarball = work / TARBALL
    digest = sha256_file(tarball)
    if digest != TARBALL_SHA256:
        raise SystemExit(f"{tarball}: sha256 {digest} is not the pinned {TARBALL_SHA256}")
    out = work / "model"
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    with tarfile.open(tarball) as tar:
        manifest_bytes = tar.extractfile(MANIFEST).read()
        names = [MANIFEST] + [f"{Path(MANIFEST).parent}/{p}" for g in json.loads(manifest_bytes)
                              for p in g["paths"]]
        for name in names:
            data = tar.extractfile(name).read()
            (out / Path(name).name).write_bytes(data)
            files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return out / Path(MANIFEST).name, {"registry": "npm", "name": NPM_PACKAGE, "version": NPM_VERSION,
                                       "tarball": TARBALL, "sha256": digest, "files": files}


def with_features_output(onnx_path: Path) -> Path:
    """The converted model plus its 512-d pooled features as a third output (for heads)."""
    model = onnx.load(str(onnx_path))
    model.graph.output.append(helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 512]))
    out = onnx_path.with_name(onnx_path.stem + "_features.onnx")
    onnx.save(model, str(out))
    return out


# --------------------------------------------------------------------------- face-api preprocessing

# --------------------------------------------------------------------------- data

class Faces:
    """Per image: BlazeFace box and dlib 68 points in chip coordinates (NaN where no face)."""

    def __init__(self, n: int) -> None:
        self.box = np.full((n, 4), np.nan)  # x, y, w, h
        self.shape68 = np.full((n, 68, 2), np.nan)


def run_pipeline(data: ac.Data, pipeline: FacePipeline, log) -> tuple[Faces, dict]:
    """attribute_choice.run_pipeline's steps, also keeping the detector box and the 68 points."""
    faces_out = Faces(len(data))
    t_detect, t_68 = [], []
    raw_miss = final_miss = 0
    t_start = time.perf_counter()
    for i in range(len(data)):
        chip = data.chips[i]
        t0 = time.perf_counter()
        faces = pipeline.detect(chip)
        t_detect.append((time.perf_counter() - t0) * 1000)
        image, offset = chip, ac.CANVAS_PAD
        if not faces:
            raw_miss += 1
            image = cv2.copyMakeBorder(chip, *[ac.CANVAS_PAD] * 4, cv2.BORDER_CONSTANT, value=(128, 128, 128))
            faces = pipeline.detect(image)
            offset = 0
            if not faces:
                final_miss += 1
                continue
        face = faces[0]
        t1 = time.perf_counter()
        pipeline.landmarks(image, [face])
        t_68.append((time.perf_counter() - t1) * 1000)
        chips150 = pipeline.aligned_chips(image, [face])
        data.embedding[i] = pipeline.embedder.embed(chips150)[0]
        data.shape5[i] = face.extras["shape5"].astype(np.float64) + offset  # canvas coordinates
        data.detected_on[i] = "chip" if offset else "grey_canvas"
        to_chip = offset - ac.CANVAS_PAD  # 0 on the chip, -CANVAS_PAD on the grey canvas
        b = face.box
        faces_out.box[i] = (b.x1 + to_chip, b.y1 + to_chip, b.width, b.height)
        faces_out.shape68[i] = face.extras["shape68"] + to_chip
        if (i + 1) % 1000 == 0:
            log(f"  pipeline {i + 1}/{len(data)} ({time.perf_counter() - t_start:.0f} s)")
    return faces_out, {"images": len(data), "detector_miss_on_chip": raw_miss,
                       "found_on_grey_canvas": raw_miss - final_miss, "no_face": final_miss,
                       "ms_detect_median": round(statistics.median(t_detect), 2),
                       "ms_landmarks68_median": round(statistics.median(t_68), 2) if t_68 else None,
                       "wall_s": round(time.perf_counter() - t_start, 1)}


def crop_input(data: ac.Data, faces: Faces, i: int, crop: str) -> np.ndarray | None:
    chip = data.chips[i]
    if crop == "chip":
        return faceapi_input(chip)
    if crop == "detbox":
        return None if np.isnan(faces.box[i, 0]) else faceapi_input(chip, tuple(faces.box[i]))
    if crop == "faceapi68":
        if np.isnan(faces.shape68[i, 0, 0]):
            return None
        return faceapi_input(chip, landmarks_rect(faces.shape68[i]))
    if crop.startswith("align"):
        if data.shape5[i] is None:
            return None
        return face_chip(data.canvas(i), data.shape5[i], SIZE, int(crop[5:]) / 100).astype(np.float32)
    raise ValueError(crop)


# --------------------------------------------------------------------------- runs

def time_ms(session: ort.InferenceSession, x1: np.ndarray, reps: int = 100) -> float:
    """Median ms of one batch-1 forward pass (the net's cost does not depend on the crop)."""
    for _ in range(3):
        session.run(None, {"input": x1})
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        session.run(None, {"input": x1})
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run_faceapi(session: ort.InferenceSession, data: ac.Data, faces: Faces, crop: str) -> dict:
    """Age, P(female), features for every image (NaN rows without a crop), plain and mirrored."""
    n = len(data)
    out = {k: np.full(n, np.nan, np.float32) for k in ("age", "p_female", "age_flip", "p_female_flip")}
    out["features"] = np.full((n, 512), np.nan, np.float32)
    prep = []
    for start in range(0, n, 128):
        xs, kept = [], []
        for i in range(start, min(n, start + 128)):
            t0 = time.perf_counter()
            x = crop_input(data, faces, i, crop)
            prep.append((time.perf_counter() - t0) * 1000)
            if x is not None:
                xs.append(x)
                kept.append(i)
        if not kept:
            continue
        x = np.stack(xs)
        age, probs, feats = session.run(None, {"input": x})
        age_f, probs_f, _ = session.run(None, {"input": np.ascontiguousarray(x[:, :, ::-1])})
        out["age"][kept], out["p_female"][kept], out["features"][kept] = age, probs[:, 1], feats
        out["age_flip"][kept], out["p_female_flip"][kept] = age_f, probs_f[:, 1]
    out["ms_preprocess"] = statistics.median(prep)
    return out


def run_faceres_deep(work: Path, data: ac.Data, log) -> tuple[dict, float]:
    """faceres-deep converted as attribute_choice.py does, run with its recipe."""
    spec = next(m for m in ac.MODELS if m.key == "faceres-deep")
    human_models(Settings().download_dir, [spec.tfjs], work)
    tfjs_graph.convert_graph_model(work / f"{spec.tfjs}.json", work / "faceres-deep.onnx")
    runner = ac.Runner(spec, work / "faceres-deep.onnx")
    dec, ms, _ = ac.full_run(runner, data, DEEP_VARIANT)
    log(f"  faceres-deep: {ms:.1f} ms/face")
    return {"age": ac.hse_age(dec["age_dist"], DEEP_READOUT), "p_female": dec["p_female"],
            "desc": dec["desc"]}, ms


def head_features(f: np.ndarray) -> np.ndarray:
    """face-api's pooled ReLU features made safe for standardised heads (no labels involved).

    Most channels are dead (zero on every face) and some fire on a few faces only: a fold whose
    training part barely sees one divides by ~0 when standardising and the MLP blows up. Keep
    channels non-zero on >= 1% of the images, winsorised at their 99th percentile.
    """
    ok = np.isfinite(f).all(1)
    keep = (f[ok] > 0).mean(0) >= 0.01
    f = f[:, keep]
    return np.minimum(f, np.percentile(f[ok], 99, axis=0))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def linear_age_oof(cols: list[np.ndarray], age: np.ndarray, fold: np.ndarray) -> tuple[np.ndarray, list]:
    """Least-squares age = a + sum b_j * pred_j, fitted on the 4 other folds."""
    x = np.column_stack([np.ones(len(age)), *cols])
    ok = np.isfinite(x).all(1)
    out = np.full(len(age), np.nan)
    coefs = []
    for k in range(ac.FOLDS):
        tr, te = ok & (fold != k), ok & (fold == k)
        w = np.linalg.lstsq(x[tr], age[tr], rcond=None)[0]
        out[te] = x[te] @ w
        coefs.append([round(float(v), 3) for v in w])
    return out, coefs


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = report_arguments(__doc__)
    ap.add_argument("--tarball", type=Path, help=f"{TARBALL} already fetched (else `npm pack`)")
    ap.add_argument("--limit", type=int, help="only the first N images (attribute_choice's order)")
    ap.add_argument("--mlp-epochs", type=int, default=40)
    args = ap.parse_args(argv)
    clock = Clock()
    log = clock.log

    work_dir = tempfile.TemporaryDirectory(prefix="faceapi-ag-")
    work = Path(work_dir.name)
    manifest, provenance = fetch_weights(work, args.tarball)
    conversion = faceapi_agegender.convert(manifest, work / "faceapi_agegender.onnx")
    session = create_session(with_features_output(work / "faceapi_agegender.onnx"), 1)
    log(f"face-api weights {provenance['sha256'][:12]}… converted")

    settings = Settings(intra_threads=1)
    data = ac.Data(ac.select_files(args.limit), ImageLimits.from_settings(settings))
    log(f"{len(data)} images decoded")
    pipeline = FacePipeline(load_verified_pack(settings.pack_dir),
                            PipelineOptions(min_face_px=settings.min_face_px, intra_threads=1))
    faces, pipe_report = run_pipeline(data, pipeline, log)
    log(f"pipeline: {pipe_report}")

    rows: dict[str, dict] = {}
    all_rows = np.ones(len(data), bool)
    search = np.arange(len(data)) < ac.SEARCH_N
    fa: dict[str, dict] = {}

    def add(name: str, kind: str, ms: float | None, detail: dict, age: np.ndarray | None = None,
            p_female: np.ndarray | None = None, threshold: float | np.ndarray = 0.5) -> None:
        row = {"kind": kind, "ms_per_face": round(ms, 2) if ms is not None else None, **detail}
        if age is not None:
            row["age"] = ac.age_metrics(age, data.age, all_rows)
        if p_female is not None:
            row["gender"] = ac.gender_metrics(p_female, data.gender, data.age, all_rows, threshold)
        rows[name] = row

    net_ms = time_ms(session, crop_input(data, faces, 0, "chip")[None])
    log(f"face-api net: {net_ms:.2f} ms/face (1 thread, batch 1, median of 100)")
    for crop in CROPS:
        r = fa[crop] = run_faceapi(session, data, faces, crop)
        r["ms"] = net_ms
        detail = {"model": "face-api AgeGenderNet", "crop": crop,
                  "ms_preprocess": round(r["ms_preprocess"], 2),
                  "search_subset": {"mae": ac.age_metrics(r["age"], data.age, search)["mae"],
                                    "acc": ac.gender_metrics(r["p_female"], data.gender, data.age,
                                                             search)["acc"]}}
        add(f"face-api [{crop}]", "face-api", r["ms"], detail, r["age"], r["p_female"])
        add(f"face-api [{crop}] flip-average", "face-api", 2 * r["ms"], {"crop": crop},
            (r["age"] + r["age_flip"]) / 2, (r["p_female"] + r["p_female_flip"]) / 2)
        log(f"  face-api {crop}: ms {r['ms']:.2f}, MAE {rows[f'face-api [{crop}]']['age']['mae']}, "
            f"acc {rows[f'face-api [{crop}]']['gender']['acc']}")
    # Combinations use face-api's own crop rule, mirrored and averaged, fixed by its recipe and
    # not by these scores (on the 600-image search subset the crop ranking is within noise).
    crop = COMBO_CROP
    age_crop = gen_crop = f"{crop}, flip-average"
    fa_age = (fa[crop]["age"] + fa[crop]["age_flip"]) / 2
    fa_pf = (fa[crop]["p_female"] + fa[crop]["p_female_flip"]) / 2
    fa_ms = 2 * fa[crop]["ms"]
    log(f"combinations use face-api [{age_crop}]")

    deep, deep_ms = run_faceres_deep(work, data, log)
    add("faceres-deep (shipped recipe)", "shipped", deep_ms,
        {"preprocessing": DEEP_VARIANT, "age_readout": DEEP_READOUT}, deep["age"], deep["p_female"])

    # ---- calibrations and fitted combinations of shipped outputs only (out of fold)
    add(f"face-api [{age_crop}] + linear log-age calibration", "calibrated", fa_ms,
        {"fit": "log1p(age) = a + b*log1p(pred), 4 other folds"},
        age=ac.calibrate_age_linear(fa_age, data.age, data.fold))
    thr, chosen = ac.calibrate_threshold(fa_pf, data.gender, data.fold)
    add(f"face-api [{gen_crop}] + threshold calibration", "calibrated", fa_ms,
        {"threshold_per_fold": chosen}, p_female=fa_pf, threshold=thr)
    both_ms = fa_ms + deep_ms
    add(f"mean age(face-api [{age_crop}], faceres-deep)", "combination", both_ms, {},
        age=(fa_age + deep["age"]) / 2)
    pred, coefs = linear_age_oof([fa_age, deep["age"]], data.age, data.fold)
    add(f"linear age(face-api [{age_crop}], faceres-deep)", "combination", both_ms,
        {"fit": "age = a + b1*faceapi + b2*deep, 4 other folds", "coefs_per_fold": coefs}, age=pred)
    add(f"mean P(female)(face-api [{gen_crop}], faceres-deep)", "combination", both_ms, {},
        p_female=(fa_pf + deep["p_female"]) / 2)
    add(f"mean logit(face-api [{gen_crop}], faceres-deep)", "combination", both_ms, {},
        p_female=1 / (1 + np.exp(-(logit(fa_pf) + logit(deep["p_female"])) / 2)))
    stack_x = np.column_stack([logit(fa_pf), logit(deep["p_female"])])
    ok = np.isfinite(stack_x).all(1)
    pf, info = ac.logistic_gender(np.nan_to_num(stack_x), data.gender, data.fold, ok)
    add(f"logistic on logits(face-api [{gen_crop}], faceres-deep)", "combination", both_ms,
        {"fit": "L2 logistic regression, inner-CV penalty, 4 other folds", **info}, p_female=pf)
    trio_crops = ("faceapi68", "chip", "detbox")  # face-api-style crops, no fitting
    add("mean over face-api [faceapi68, chip, detbox], each flip-averaged", "combination",
        6 * fa[crop]["ms"], {"crops": list(trio_crops)},
        age=sum(fa[c]["age"] + fa[c]["age_flip"] for c in trio_crops) / 6,
        p_female=sum(fa[c]["p_female"] + fa[c]["p_female_flip"] for c in trio_crops) / 6)
    all_crops = np.column_stack([logit(fa[c]["p_female"]) for c in CROPS] + [logit(deep["p_female"])])
    ok = np.isfinite(all_crops).all(1)
    pf, info = ac.logistic_gender(np.nan_to_num(all_crops), data.gender, data.fold, ok)
    add("logistic on logits(face-api all crops, faceres-deep)", "combination",
        sum(fa[c]["ms"] for c in CROPS) + deep_ms, {"crops": list(CROPS), **info}, p_female=pf)

    # ---- heads on features (out of fold), and means with them
    log("heads")
    emb_ok = np.isfinite(data.embedding).all(1)
    fa_feat = head_features(fa[crop]["features"])  # one pass, not mirrored
    feats = {
        "face-api": (fa_feat, fa_ms),
        "dlib+deep": (np.hstack([data.embedding, deep["desc"]]), deep_ms),
        "dlib+deep+face-api": (np.hstack([data.embedding, deep["desc"], fa_feat]), both_ms),
    }
    heads_age: dict[str, np.ndarray] = {}
    heads_pf: dict[str, np.ndarray] = {}
    for fname, (x, ms) in feats.items():
        use = np.isfinite(x).all(1) & (emb_ok if "dlib" in fname else True)
        t0 = time.perf_counter()
        heads = ac.ridge_heads(np.nan_to_num(x).astype(np.float64), data.age, data.gender, data.fold, use)
        heads_age[fname], heads_pf[fname] = heads["age"][0], heads["gender"][0]
        info = {"features": fname, "dims": int(x.shape[1])}
        add(f"ridge age on {fname}", "head", ms, {**info, **heads["age"][1]}, age=heads["age"][0])
        add(f"ridge classifier on {fname}", "head", ms, {**info, **heads["gender"][1]},
            p_female=heads["gender"][0])
        log(f"  ridge heads on {fname}: {time.perf_counter() - t0:.0f} s")
        if args.mlp_epochs > 0 and "dlib" in fname:
            t0 = time.perf_counter()
            age, pf = ac.mlp_multitask(np.nan_to_num(x).astype(np.float64), data.age, data.gender,
                                       data.fold, use, epochs=args.mlp_epochs)
            heads_age[f"MLP {fname}"], heads_pf[f"MLP {fname}"] = age, pf
            add(f"MLP(256) on {fname}", "head", ms, {"features": fname, "epochs": args.mlp_epochs},
                age=age, p_female=pf)
            log(f"  MLP on {fname}: {time.perf_counter() - t0:.0f} s")
    if "MLP dlib+deep" in heads_pf:
        ref = [deep["p_female"], heads_pf["dlib+deep"], heads_pf["MLP dlib+deep"]]
        add("mean P(female)(faceres-deep, ridge + MLP on dlib+deep) [attribute_choice best]",
            "combination", deep_ms, {}, p_female=sum(ref) / 3)
        add(f"mean P(female)(face-api [{gen_crop}], faceres-deep, ridge + MLP on dlib+deep)",
            "combination", both_ms, {}, p_female=(sum(ref) + fa_pf) / 4)
    if "MLP dlib+deep+face-api" in heads_pf:
        trio = [deep["p_female"], heads_pf["dlib+deep+face-api"], heads_pf["MLP dlib+deep+face-api"]]
        add(f"mean P(female)(faceres-deep, ridge + MLP on dlib+deep+face-api [{COMBO_CROP}])",
            "combination", both_ms, {}, p_female=sum(trio) / 3)
        add(f"mean P(female)(face-api [{gen_crop}], faceres-deep, ridge + MLP on dlib+deep+face-api)",
            "combination", both_ms, {}, p_female=(sum(trio) + fa_pf) / 4)
    add("mean age(faceres-deep, ridge age on dlib+deep) [attribute_choice best]", "combination",
        deep_ms, {}, age=(deep["age"] + heads_age["dlib+deep"]) / 2)
    add(f"mean age(face-api [{age_crop}], faceres-deep, ridge age on dlib+deep)", "combination",
        both_ms, {}, age=(fa_age + deep["age"] + heads_age["dlib+deep"]) / 3)
    add("mean age(faceres-deep, ridge age on dlib+deep+face-api)", "combination", both_ms, {},
        age=(deep["age"] + heads_age["dlib+deep+face-api"]) / 2)

    report = build_report(args, data, provenance, conversion, pipe_report, rows, age_crop, gen_crop,
                          clock.elapsed())
    txt = write_report(args, report, render)
    print(txt)
    work_dir.cleanup()
    return 0


def build_report(args, data: ac.Data, provenance: dict, conversion: dict, pipe: dict, rows: dict,
                 age_crop: str, gen_crop: str, wall: float) -> dict:
    age_rows = {k: v for k, v in rows.items() if "age" in v and v["age"]["mae"] is not None}
    gen_rows = {k: v for k, v in rows.items() if "gender" in v and v["gender"]["acc"] is not None}
    fa_age = [k for k, v in age_rows.items() if v["kind"] == "face-api"]
    fa_gen = [k for k, v in gen_rows.items() if v["kind"] == "face-api"]
    best_gen = max(gen_rows, key=lambda k: gen_rows[k]["gender"]["acc"])
    return {
        "what": "face-api.js AgeGenderNet on UTKFace, per crop, alone and with faceres-deep "
                "(fitted heads/combinations out of fold)",
        "caveat": "face-api.js (TUTORIAL.md) trained this net on an 80/20 split of UTK among other sets: "
                  "most of these images were probably in its training data, so its scores here are not "
                  "held-out scores",
        "source": provenance,
        "conversion": {**conversion, "module": "openfrs.modelpack.convert.faceapi_agegender",
                       "normalisation": "in the graph: (rgb - [122.782, 117.001, 104.298]) / 255",
                       "gender_probs": "index 0 = male, 1 = female"},
        "preprocessing": "face-api node tensor path: box clipped + floored, padToSquare centred with zeros, "
                         "tf.image.resizeBilinear(112, alignCorners=false, halfPixelCenters=false); "
                         "align* crops: dlib face_chip at 112 px",
        "data": {"images": len(data), "gender_labelled": int((data.gender >= 0).sum()),
                 "folds": "int(sha256(name).hexdigest()[:8], 16) % 5", "limit": args.limit,
                 "search_subset": f"search_subset numbers: the first {min(ac.SEARCH_N, len(data))} images "
                                  "in attribute_choice's search order",
                 "combination_crop": f"{COMBO_CROP} flip-average, fixed by face-api's recipe"},
        "environment": {"python": platform.python_version(), "onnxruntime": ort.__version__,
                        "numpy": np.__version__, "timing": "1 ONNX thread, batch 1, median of 25; "
                        "combination ms = sum of the models' forward passes", "wall_s": round(wall, 1)},
        "pipeline": pipe,
        "rows": rows,
        "summary": {
            "best_face_api_age": min(fa_age, key=lambda k: age_rows[k]["age"]["mae"]),
            "best_face_api_gender": max(fa_gen, key=lambda k: gen_rows[k]["gender"]["acc"]),
            "combination_crops": {"age": age_crop, "gender": gen_crop},
            "best_age": min(age_rows, key=lambda k: age_rows[k]["age"]["mae"]),
            "best_gender": best_gen, "best_gender_acc": gen_rows[best_gen]["gender"]["acc"],
            "gender_target_met": gen_rows[best_gen]["gender"]["acc"] >= ac.TARGET_ACC,
        },
    }


def render(report: dict) -> str:
    src = report["source"]
    lines = [f"face-api AgeGenderNet from npm {src['name']}@{src['version']} ({src['tarball']}, sha256 "
             f"{src['sha256']}) on UTKFace, {report['data']['images']} images",
             f"CAVEAT: {report['caveat']}", f"pipeline: {report['pipeline']}", "",
             *ac.table_lines(report["rows"], width=100)]
    lines += ["", f"summary: {report['summary']}", f"wall {report['environment']['wall_s']} s"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
