"""`openfrs eval liveness`: what silent and action liveness catch, measured.

Silent liveness (live-detect-face), on ../shared/data:
* real faces of four sources set the operating point (no attack label tunes it): LFW (every
  face nearest the centre), UTKFace (a sample), the NUAA real webcam frames and the frames of the
  real webcam videos of antispoof-more and video/; liveness stills, crowd photos and the vendor
  images are reported beside them;
* attacks: antispoof-more, APCER per attack kind and source, per frame (videos: every third
  sampled frame; zubair_fake's first fifth, where the real person stands beside the phone,
  is left out as NEW-SOURCES.md says) and per video (the median frame, as action liveness
  judges a clip); the five labelled images of antispoof/; synthetic recaptures of LFW photos
  (evaluation/spoof_synthesis.py: weak proxies, said so);
* candidates side by side: fr_liveness (shipped), the cues that decided until 2026-12
  (evaluation/liveness_cues.py), both, a logistic fusion of every score cross-validated by
  subject (evaluation/liveness_fusion.py), and a peer model for comparison only
  (evaluation/liveness_peer.py).
Action liveness: the real action clips (evaluation/action_clips.py) and clips synthesized from
one real face (evaluation/face_synth.py).
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.evaluation import face_synth
from openfrs.evaluation.clips import encode_clip
from openfrs.evaluation.lfw import central
from openfrs.evaluation.liveness_cues import CueMeasurer, judge_cues
from openfrs.evaluation.liveness_fusion import out_of_group_scores
from openfrs.evaluation.liveness_peer import PeerLiveness
from openfrs.evaluation.spoof_synthesis import ATTACKS
from openfrs.media import ImageLimits, decode_image
from openfrs.media.video import decode_video
from openfrs.service.attributes import HEAD_POSE, QUALITY
from openfrs.service.face_track import TrackedFace, track_face
from openfrs.service.faces import FaceChooser, FaceService, largest
from openfrs.service.silent_liveness import BLOCKING_WARNINGS, quality_warnings
from openfrs.vision.face_actions import ACTION_CODES, find_events, match_in_order
from openfrs.vision.liveness_models import ANTISPOOF, SilentLivenessModel
from openfrs.vision.pack import load_verified_pack
from openfrs.vision.silent_liveness import OPERATING_POINT, judge

OPERATING_SOURCES = ("lfw", "utkface", "nuaa", "webcam videos")
TARGET_BPCER = 0.05  # mean over OPERATING_SOURCES
CUT_GRID = (0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.9)
FRAME_STEP = 3  # every third sampled video frame (about 3 a second)
MIXED_CLIP_HEAD = {"zubair": 0.2}  # share of the clip where a real person stands beside the attack


class Measurer:
    """Detects the chosen face and measures fr_liveness, the older cues, human-models antispoof
    and the quality warnings."""

    def __init__(self, service: FaceService, settings: Settings, data: Path) -> None:
        self.service = service
        self.peer = PeerLiveness(data)
        self.limits = ImageLimits.from_settings(settings)
        pack = load_verified_pack(settings.pack_dir)
        self.antispoof = SilentLivenessModel(pack.entry("antispoof").path(pack.root), ANTISPOOF)
        self.cue_measurer = CueMeasurer(pack.entry("liveness").path(pack.root))

    def image(self, path: Path) -> np.ndarray:
        return decode_image(path.read_bytes(), self.limits)

    def measure(self, image: np.ndarray, choose: FaceChooser = largest) -> dict | None:
        try:
            faces = self.service.detect_blocking(image, frozenset({QUALITY, HEAD_POSE}))
        except FRSError:
            faces = []
        if not faces:
            return None
        face = choose(faces, image)
        probabilities = self.service.pipeline.silent.model.probabilities(image, [face.box])[0]
        return {"fr": [round(float(p), 6) for p in probabilities],
                "cues": self.cue_measurer.cues(image, face), "warnings": quality_warnings(face),
                "peer": round(self.peer.real_probability(image, face.box), 6),
                "antispoof": round(self.antispoof.scores(image, [face], upright=True)[0], 4)}


def every_nth(paths: list[Path], n: int) -> list[Path]:
    return paths[::max(n, 1)]


def lfw_paths(lfw: Path) -> list[Path]:
    return sorted((lfw / "images").glob("*/*.jpg"))


def video_frames(path: Path) -> list[np.ndarray]:
    """Every FRAME_STEP-th sampled frame of a clip of any length (turned upright)."""
    return decode_video(path.read_bytes(), max_seconds=600).frames[::FRAME_STEP]


def _rows(measurer: Measurer, images: Iterable[tuple[dict, np.ndarray]], choose: FaceChooser,
          log: Callable[[str], None], label: str) -> tuple[list[dict], int]:
    rows, missed, start = [], 0, time.perf_counter()
    for i, (meta, image) in enumerate(images):
        row = measurer.measure(image, choose)
        if row is None:
            missed += 1
        else:
            rows.append({**meta, **row})
        if (i + 1) % 250 == 0:
            log(f"  {label} {i + 1} ({time.perf_counter() - start:.0f} s)")
    return rows, missed


def _images(paths: list[Path], measurer: Measurer, **meta) -> Iterable[tuple[dict, np.ndarray]]:
    for path in paths:
        yield {**meta, "file": path.name}, measurer.image(path)


def _more_labels(data: Path) -> list[dict]:
    with open(data / "antispoof-more" / "labels.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _more_items(data: Path, measurer: Measurer, label: str) -> Iterable[tuple[dict, np.ndarray]]:
    """antispoof-more images and video frames of one label, with their labels.csv fields."""
    for entry in _more_labels(data):
        if entry["label"] != label:
            continue
        meta = {"label": label, "kind": entry["attack_kind"] or "real", "source": entry["source"],
                "subject": entry["subject"], "media": entry["media"], "file": entry["file"]}
        path = data / "antispoof-more" / entry["file"]
        if entry["media"] == "image":
            yield meta, measurer.image(path)
            continue
        frames = video_frames(path)
        skip = round(MIXED_CLIP_HEAD.get(entry["source"], 0.0) * len(frames)) if label == "attack" else 0
        for i, frame in enumerate(frames[skip:], start=skip):
            yield {**meta, "frame": i}, frame


def real_faces(measurer: Measurer, data: Path, every: int,
               log: Callable[[str], None]) -> dict[str, list[dict]]:
    """Rows per real-face source; the first four (OPERATING_SOURCES) set the operating point."""
    missed: dict[str, int] = {}
    real_meta = {"label": "real", "kind": "real"}

    def photos(name: str, paths: list[Path], choose: FaceChooser) -> list[dict]:
        items = _images(paths, measurer, **real_meta, source=name)
        rows, missed[name] = _rows(measurer, items, choose, log, name)
        return rows

    utk = every_nth(sorted((data / "utkface/images").glob("*.jpg")), 6 * every)
    real = {"lfw": photos("lfw", lfw_paths(data / "lfw-partial"), central),
            "utkface": photos("utkface", utk, central)}
    more_items = _more_items(data, measurer, "real")
    more, missed["antispoof-more"] = _rows(measurer, more_items, largest, log, "real")
    clips = [({**real_meta, "source": "video", "media": "video", "file": p.name, "frame": i}, frame)
             for p in sorted((data / "video").glob("*.mp4")) for i, frame in enumerate(video_frames(p))]
    old_clips, missed["video"] = _rows(measurer, clips, largest, log, "video")
    real["nuaa"] = [r for r in more if r["source"] == "nuaa"]
    real["webcam videos"] = [r for r in more if r["media"] == "video"] + old_clips
    real["vendor images"] = [r for r in more if r["media"] == "image" and r["source"] != "nuaa"]
    stills = sorted((data / "liveness-stills").glob("*/*"))
    real["liveness stills"] = photos("liveness stills", stills, largest)
    real["crowd (largest face)"] = photos("crowd", sorted((data / "crowd").glob("*.jpg")), largest)
    log(f"  real faces without a detected face: {missed}")
    return real


def _bpcer(rows: list[dict], alive: Callable[[dict], bool]) -> float:
    return round(float(np.mean([not alive(r) for r in rows])), 4) if rows else float("nan")


def _apcer(rows: list[dict], alive: Callable[[dict], bool]) -> float:
    return round(float(np.mean([alive(r) for r in rows])), 4) if rows else float("nan")


def _fr_alive(cut: float) -> Callable[[dict], bool]:
    return lambda row: row["fr"][0] >= cut


def _with_quality(alive: Callable[[dict], bool]) -> Callable[[dict], bool]:
    """As live-detect-face answers: quality warnings 101-105 also refuse."""
    return lambda row: alive(row) and not BLOCKING_WARNINGS & set(row["warnings"])


def operating_curve(real: dict[str, list[dict]], attacks: list[dict]) -> list[dict]:
    """Per fr_liveness cut: mean BPCER of the operating sources, and APCER by attack kind."""
    curve = []
    for cut in CUT_GRID:
        alive = _fr_alive(cut)
        bpcer = {s: _bpcer(real[s], alive) for s in OPERATING_SOURCES}
        mean = round(float(np.mean(list(bpcer.values()))), 4)
        curve.append({"cut": cut, "bpcer_mean": mean, "bpcer": bpcer,
                      "apcer": {k: _apcer([a for a in attacks if a["kind"] == k], alive)
                                for k in ("print", "screen")}})
    return curve


def chosen_cut(curve: list[dict]) -> float:
    """The largest cut whose mean BPCER is within TARGET_BPCER (the shipped OPERATING_POINT)."""
    return max((p["cut"] for p in curve if p["bpcer_mean"] <= TARGET_BPCER), default=CUT_GRID[0])


def _by_kind_and_source(attacks: list[dict], alive: Callable[[dict], bool]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in attacks:
        groups[f"{row['kind']}/{row['source']}/{row['media']}"].append(row)
        groups[f"{row['kind']} (all)"].append(row)
    return {name: {"n": len(rows), "apcer": _apcer(rows, alive)} for name, rows in sorted(groups.items())}


def per_video(rows: list[dict], cut: float) -> list[dict]:
    """Each video judged by its median frame P(live), as action liveness judges a clip."""
    clips: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row.get("media") == "video":
            clips[f"{row['label']} {row['file']}"].append(row["fr"][0])
    return [{"video": name, "frames": len(p), "median_p_live": round(float(np.median(p)), 4),
             "passed": bool(np.median(p) >= cut)} for name, p in sorted(clips.items())]


def _real_rule(real: dict[str, list[dict]], attack_score: Callable[[dict], float]) -> Callable[[dict], bool]:
    """A decision on a score (higher = more attack-like) cut by the shipped rule: the strictest
    cut whose mean BPCER over the operating sources stays within TARGET_BPCER."""
    scores = {s: np.array([attack_score(r) for r in real[s]]) for s in OPERATING_SOURCES}
    grid = np.quantile(np.concatenate(list(scores.values())), np.linspace(0.80, 0.999, 200))
    within = [t for t in grid if np.mean([np.mean(v > t) for v in scores.values()]) <= TARGET_BPCER]
    cut = min(within, default=float(grid[-1]))
    return lambda row: attack_score(row) <= cut


def candidates(real: dict[str, list[dict]], attacks: list[dict], cut: float) -> dict[str, dict]:
    """Each candidate decision's BPCER per operating source and APCER per attack kind."""
    pooled = [r for s in OPERATING_SOURCES for r in real[s]] + attacks
    fused = dict(zip((id(r) for r in pooled), out_of_group_scores(pooled), strict=True))
    decisions: dict[str, Callable[[dict], bool]] = {
        "fr_liveness (shipped)": _fr_alive(cut),
        "cues until 2026-12": lambda r: judge_cues(r["cues"]).alive,
        "fr_liveness and cues": lambda r: r["fr"][0] >= cut and judge_cues(r["cues"]).alive,
        "logistic fusion, out-of-subject": _real_rule(real, lambda r: fused[id(r)]),
        "peer: hairymax CelebA-Spoof (comparison only)": _real_rule(real, lambda r: -r["peer"]),
    }
    out = {}
    for name, alive in decisions.items():
        bpcer = {s: _bpcer(real[s], alive) for s in OPERATING_SOURCES}
        out[name] = {"bpcer": bpcer, "bpcer_mean": round(float(np.mean(list(bpcer.values()))), 4),
                     "apcer": {k: _apcer([a for a in attacks if a["kind"] == k], alive)
                               for k in ("print", "screen", "mask")}}
    return out


def labelled_attacks(measurer: Measurer, folder: Path) -> list[dict]:
    """The antispoof/ images one by one: label from the name (_T real, _F / fake attack)."""
    out, seen = [], {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:12]
        row = measurer.measure(measurer.image(path))
        label = "attack" if ("_F" in path.stem or "fake" in path.stem) else "real"
        entry = {"image": path.name, "label": label, "same_file_as": seen.get(digest)}
        seen.setdefault(digest, path.name)
        if row is None:
            entry["no_face"] = True
        else:
            verdict = judge(row["fr"][0])
            entry.update({"p_live": round(row["fr"][0], 4), "warnings": row["warnings"],
                          "alive": verdict.alive and not BLOCKING_WARNINGS & set(row["warnings"]),
                          "confidence": verdict.confidence})
        out.append(entry)
    return out


def synthetic_attacks(measurer: Measurer, sources: list[Path], log: Callable[[str], None]) -> dict:
    """APCER per synthetic attack kind (as live-detect-face answers), and the originals' BPCER."""
    out = {}
    alive = _with_quality(_fr_alive(OPERATING_POINT))
    for kind in ("original", *ATTACKS):
        def attacked(i: int, image: np.ndarray, kind: str = kind) -> np.ndarray:
            return image if kind == "original" else ATTACKS[kind](image, np.random.default_rng(1000 * i))
        items = ((({"file": p.name}), attacked(i, measurer.image(p))) for i, p in enumerate(sources))
        rows, missed = _rows(measurer, items, central if kind == "original" else largest, log, kind)
        rate = _bpcer(rows, alive) if kind == "original" else _apcer(rows, alive)
        measure = "bpcer" if kind == "original" else "apcer"
        out[kind] = {"faces": len(rows), "not_detected": missed, measure: rate}
    return out


def silent_report(service: FaceService, settings: Settings, data: Path, every: int,
                  log: Callable[[str], None] = print) -> dict:
    measurer = Measurer(service, settings, data)
    real = real_faces(measurer, data, every, log)
    attacks, missed = _rows(measurer, _more_items(data, measurer, "attack"), largest, log, "attacks")
    curve = operating_curve(real, attacks)
    cut = chosen_cut(curve)
    shipped = _fr_alive(OPERATING_POINT)
    api = _with_quality(shipped)
    lfw = lfw_paths(data / "lfw-partial")
    rule = f"largest cut with mean BPCER <= {TARGET_BPCER} over {', '.join(OPERATING_SOURCES)}"
    return {
        "operating_point": {"shipped": OPERATING_POINT, "chosen_by_this_run": cut, "rule": rule,
                            "curve": curve},
        "real_faces": {name: {"faces": len(rows), "bpcer": _bpcer(rows, shipped),
                              "bpcer_with_quality": _bpcer(rows, api)} for name, rows in real.items()},
        "attacks": {"faces_not_detected": missed, "by_kind": _by_kind_and_source(attacks, shipped),
                    "by_kind_with_quality": _by_kind_and_source(attacks, api),
                    "videos": per_video(attacks + real["webcam videos"], OPERATING_POINT)},
        "candidates": candidates(real, attacks, OPERATING_POINT),
        "labelled_attacks": labelled_attacks(measurer, data / "antispoof"),
        "synthetic": synthetic_attacks(measurer, every_nth(lfw, 10 * every), log),
    }


def _tracked_clip(service: FaceService, image: np.ndarray, mesh: np.ndarray, actions) -> TrackedFace:
    frames = face_synth.action_clip(image, mesh, actions)
    return track_face(service.pipeline, decode_video(encode_clip(frames, 10)))


def action_report(service: FaceService, data: Path) -> dict:
    """Per action: on how many synthesized clips (one per source photo) exactly that action is
    found; chained clips: found in order, and refused when asked in the reverse order."""
    sources = [face_synth.load_source(service.pipeline, data / name) for name in face_synth.SOURCE_PHOTOS]
    single = {}
    for action in ACTION_CODES:
        found = [[e.action for e in find_events(_tracked_clip(service, *source, action).track)] == [action]
                 for source in sources]
        single[str(action)] = {"clips": len(found), "found_alone": sum(found)}
    chained = {}
    for actions in ((3, 4, 5), (1, 2), (5, 3)):
        in_order = reversed_refused = 0
        for source in sources:
            events = find_events(_tracked_clip(service, *source, actions).track)
            in_order += all(m is not None for m in match_in_order(events, list(actions)))
            reversed_refused += None in match_in_order(events, list(actions)[::-1])
        chained[",".join(map(str, actions))] = {"clips": len(sources), "matched_in_order": in_order,
                                                "reverse_order_refused": reversed_refused}
    return {"source_photos": list(face_synth.SOURCE_PHOTOS), "single_actions": single, "chained": chained,
            "what_it_proves": "event logic and mesh signals on real pixels moved geometrically, "
                              "through a real codec; not real human motion (evaluation/face_synth.py)"}
