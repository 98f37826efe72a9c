"""`openfrs eval liveness`: what silent and action liveness catch, measured.

* calibration (`--calibrate`): each cue's real-face tail on LFW, printed as the literal that
  vision/silent_liveness.py ships (the operating point is set on real faces only);
* BPCER: real faces refused, on LFW (the calibration set: in-sample) and on sets it never saw
  (UTKFace chips, the liveness stills, the crowd photos);
* APCER: attacks passed, on the labelled images of ../shared/data/antispoof (5 images, two of
  them the same file: reported one by one, never tuned to) and on synthetic attacks made from
  LFW photos (evaluation/spoof_synthesis.py: weak proxies, said so);
* action liveness: each action's detection on clips synthesized from one real face
  (evaluation/face_synth.py).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.evaluation import face_synth
from openfrs.evaluation.clips import encode_clip
from openfrs.evaluation.lfw import central
from openfrs.evaluation.spoof_synthesis import ATTACKS
from openfrs.media import ImageLimits, decode_image
from openfrs.media.video import decode_video
from openfrs.service.attributes import HEAD_POSE, QUALITY
from openfrs.service.face_track import TrackedFace, track_face
from openfrs.service.faces import FaceChooser, FaceService, largest
from openfrs.service.silent_liveness import BLOCKING_WARNINGS, passes, quality_warnings
from openfrs.vision.face_actions import ACTION_CODES, find_events, match_in_order
from openfrs.vision.liveness_models import ANTISPOOF, SilentLivenessModel
from openfrs.vision.pack import load_verified_pack
from openfrs.vision.silent_liveness import CALIBRATION, CueCalibration, judge
from openfrs.vision.spoof_cues import frame_sides

CUTS = {"liveness": 0.01, "moire": 0.01, "frame": 0.03}  # real-face tail share refused per cue
ATTACK_HIGH = {"liveness": False, "moire": True, "frame": True}
TAIL_SHARES = (1.0, 0.5, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005, 0.002)
FRAME_STEPS = (0.0, 1.0, 2.0, 3.0, 4.0)
MIN_CAMERA_FACE = 40  # px: faces the frame calibration uses

class Measurer:
    """Detects the chosen face and measures its cues, its quality warnings and (for the
    report only) the human-models antispoof score."""

    def __init__(self, service: FaceService, settings: Settings) -> None:
        self.service = service
        self.limits = ImageLimits.from_settings(settings)
        pack = load_verified_pack(settings.pack_dir)
        self.antispoof = SilentLivenessModel(pack.entry("antispoof").path(pack.root), ANTISPOOF)

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
        cues = self.service.pipeline.silent.cues(image, face)
        return {"cues": cues, "warnings": quality_warnings(face),
                "antispoof": round(self.antispoof.scores(image, [face], upright=True)[0], 4)}


def verdict(row: dict, calibration: dict[str, CueCalibration]) -> dict:
    """alive / confidence as live-detect-face would answer (quality warnings 101-105 block)."""
    judged = judge(row["cues"], calibration)
    blocked = bool(BLOCKING_WARNINGS & set(row["warnings"]))
    return {"alive": passes(judged, row["warnings"]), "confidence": judged.confidence,
            "cue_alive": judged.alive, "quality_blocked": blocked,
            "margins": {k: round(v, 3) for k, v in judged.margins.items()}}


def calibration_from(rows: list[dict], frame_values: list[float]) -> dict[str, CueCalibration]:
    """Each cue's real-face tail with the CUTS operating point: `liveness` and `moire` from
    measured LFW faces, `frame` from `frame_values` (camera photos and video: LFW's
    deep-funnelled images carry the funnelling warp's black borders round every face, a frame
    no live capture has)."""
    out = {}
    for name, high in ATTACK_HIGH.items():
        if name == "frame":
            values = np.asarray(frame_values, np.float64)
            # a step no real face reached is given 1/(n+1), not 0: "rarer than we could see"
            floor = 1 / (len(values) + 1)
            shares = tuple(round(max(float(np.mean(values >= s)), floor), 4) for s in FRAME_STEPS)
            out[name] = CueCalibration(FRAME_STEPS, shares, high, CUTS[name])
            continue
        values = np.array([r["cues"][name] for r in rows if r["cues"][name] is not None], np.float64)
        quantiles = [1 - s if high else s for s in TAIL_SHARES]
        steps = tuple(round(float(np.quantile(values, q)), 4) for q in quantiles)
        out[name] = CueCalibration(steps, TAIL_SHARES, high, CUTS[name])
    return out


def camera_frame_values(measurer: Measurer, data: Path) -> list[float]:
    """`frame` of every face of at least MIN_CAMERA_FACE px in the crowd photos and liveness
    stills, and in every third sampled frame of the two real videos."""
    pipeline = measurer.service.pipeline
    photos = sorted(data.glob("crowd/**/*.jpg")) + sorted(data.glob("liveness-stills/*/*"))
    images = [measurer.image(p) for p in photos]
    for clip in sorted(data.glob("video/*.mp4")):
        images.extend(decode_video(clip.read_bytes()).frames[::3])
    values = []
    for image in images:
        for face in pipeline.detect(image):
            if min(face.box.width, face.box.height) >= MIN_CAMERA_FACE:
                values.append(float(frame_sides(image, face.box)))
    return values


def calibration_literal(calibration: dict[str, CueCalibration]) -> str:
    """The Python literal vision/silent_liveness.py ships."""
    lines = ["CALIBRATION: dict[str, CueCalibration] = {"]
    for name, cal in calibration.items():
        lines.append(f'    "{name}": CueCalibration(')
        lines.append(f"        values={cal.values},")
        lines.append(f"        shares={cal.shares},")
        lines.append(f"        attack_high={cal.attack_high}, cut={cal.cut}),")
    lines.append("}")
    return "\n".join(lines)


def real_rows(measurer: Measurer, paths: list[Path], choose: FaceChooser, log: Callable[[str], None],
              label: str) -> tuple[list[dict], int]:
    rows, missed = [], 0
    start = time.perf_counter()
    for i, path in enumerate(paths):
        row = measurer.measure(measurer.image(path), choose)
        if row is None:
            missed += 1
        else:
            rows.append(row)
        if (i + 1) % 250 == 0:
            log(f"  {label} {i + 1}/{len(paths)} ({time.perf_counter() - start:.0f} s)")
    return rows, missed


def refusal_summary(rows: list[dict], calibration: dict[str, CueCalibration]) -> dict:
    """How many of these faces are refused, in all and by which cue / by quality alone."""
    verdicts = [verdict(r, calibration) for r in rows]
    n = max(len(rows), 1)
    by_cue = {name: round(sum(v["margins"][name] < 0.5 for v in verdicts) / n, 4) for name in calibration}
    return {"faces": len(rows),
            "refused": round(sum(not v["alive"] for v in verdicts) / n, 4),
            "refused_by_cues": round(sum(not v["cue_alive"] for v in verdicts) / n, 4),
            "refused_by_quality": round(sum(v["quality_blocked"] for v in verdicts) / n, 4),
            "by_cue": by_cue,
            "antispoof_median": round(float(np.median([r["antispoof"] for r in rows])), 4) if rows else None}


def every_nth(paths: list[Path], n: int) -> list[Path]:
    return paths[::max(n, 1)]


def lfw_paths(lfw: Path) -> list[Path]:
    return sorted((lfw / "images").glob("*/*.jpg"))


def calibrate(service: FaceService, settings: Settings, data: Path,
              log: Callable[[str], None] = print) -> dict:
    measurer = Measurer(service, settings)
    rows, missed = real_rows(measurer, lfw_paths(data / "lfw-partial"), central, log, "lfw")
    frames = camera_frame_values(measurer, data)
    calibration = calibration_from(rows, frames)
    return {"images": len(rows) + missed, "without_face": missed, "cuts": CUTS, "frame_faces": len(frames),
            "literal": calibration_literal(calibration),
            "in_sample": refusal_summary(rows, calibration)}


def labelled_attacks(measurer: Measurer, folder: Path, calibration: dict[str, CueCalibration]) -> list[dict]:
    """The antispoof images one by one: label from the name (_T real, _F / fake attack)."""
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
            entry.update({"cues": {k: None if v is None else round(v, 4) for k, v in row["cues"].items()},
                          "warnings": row["warnings"], "antispoof": row["antispoof"],
                          **verdict(row, calibration)})
        out.append(entry)
    return out


def synthetic_attacks(measurer: Measurer, sources: list[Path], calibration: dict[str, CueCalibration],
                      log: Callable[[str], None]) -> dict:
    """APCER per synthetic attack kind (attacks passed as alive), and the originals' BPCER."""
    rows: dict[str, list[dict]] = {"original": [], **{kind: [] for kind in ATTACKS}}
    missed = dict.fromkeys(rows, 0)
    for i, path in enumerate(sources):
        image = measurer.image(path)
        for kind in rows:
            attacked = image if kind == "original" else ATTACKS[kind](image, np.random.default_rng(1000 * i))
            row = measurer.measure(attacked, central if kind == "original" else largest)
            if row is None:
                missed[kind] += 1
            else:
                rows[kind].append(row)
        if (i + 1) % 25 == 0:
            log(f"  synthetic {i + 1}/{len(sources)}")
    out = {}
    for kind, kind_rows in rows.items():
        summary = refusal_summary(kind_rows, calibration)
        summary["not_detected"] = missed[kind]
        if kind != "original":
            summary["apcer"] = round(1 - summary["refused"], 4)
        out[kind] = summary
    return out


def silent_report(service: FaceService, settings: Settings, data: Path, every: int,
                  log: Callable[[str], None] = print) -> dict:
    measurer = Measurer(service, settings)
    calibration = CALIBRATION
    lfw = lfw_paths(data / "lfw-partial")
    report: dict[str, object] = {
        "operating_point": {"cuts": {k: v.cut for k, v in calibration.items()},
                            "calibrated_on": "lfw-partial, 1,044 faces (central face)"},
        "labelled_attacks": labelled_attacks(measurer, data / "antispoof", calibration),
    }
    real: dict[str, object] = {}
    rows, missed = real_rows(measurer, lfw, central, log, "lfw")
    real["lfw (calibration set, in-sample)"] = {**refusal_summary(rows, calibration), "without_face": missed}
    stills = sorted((data / "liveness-stills").glob("*/*"))
    rows, missed = real_rows(measurer, stills, largest, log, "stills")
    real["liveness stills"] = {**refusal_summary(rows, calibration), "without_face": missed}
    crowd = sorted((data / "crowd").glob("*.jpg"))
    rows, missed = real_rows(measurer, crowd, largest, log, "crowd")
    real["crowd (largest face)"] = {**refusal_summary(rows, calibration), "without_face": missed}
    utk = every_nth(sorted((data / "utkface/images").glob("*.jpg")), 12 * every)
    rows, missed = real_rows(measurer, utk, central, log, "utkface")
    real[f"utkface (every {12 * every}th)"] = {**refusal_summary(rows, calibration), "without_face": missed}
    report["real_faces"] = real
    report["synthetic"] = synthetic_attacks(measurer, every_nth(lfw, 10 * every), calibration, log)
    report["synthetic_sources"] = len(every_nth(lfw, 10 * every))
    return report


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
