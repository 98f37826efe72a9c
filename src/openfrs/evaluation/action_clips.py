"""Action liveness on real clips: each clip of ../shared/data/action-videos (one real person doing
one action, labels.csv) and clips made of one still photo, checked for every FRS action code as
`POST …/live-detect` checks them (service/action_liveness.py).

What a row says: which actions the clip passed (alive), each action's confidence, the blinks
seen in it and the warnings. A clip should pass its own action (turn-head: 1 and 2, it turns
both ways); a still photo should pass none. Four clips are too few to set thresholds on: the
report shows where the signals stand, not a rate.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

from openfrs.evaluation.clips import encode_clip, on_canvas
from openfrs.media.video import decode_video
from openfrs.service.action_liveness import check_actions, parse_request
from openfrs.service.faces import FaceService
from openfrs.vision.face_actions import ACTION_CODES

ACTION_VIDEOS = "action-videos"
STILLS = ("liveness-stills/reaction/open_eyes.png", "liveness-stills/reaction/close_eyes.jpeg")
STILL_SECONDS, STILL_FPS = 3, 10
OWN_ACTIONS = {"blink": (5,), "turn-head": (1, 2), "nod": (3,), "open-mouth": (4,)}


def still_clip(path: Path, seconds: int = STILL_SECONDS) -> bytes:
    """An mp4 of one still photo held for `seconds` (on a 640x480 canvas)."""
    frame = on_canvas(np.asarray(Image.open(path).convert("RGB")))
    return encode_clip([frame] * (seconds * STILL_FPS), fps=STILL_FPS)


def real_clips(data: Path) -> dict[str, tuple[str, bytes]]:
    """name -> (labelled action, clip bytes) for each real clip, then each still ("still")."""
    with open(data / ACTION_VIDEOS / "labels.csv", newline="") as handle:
        clips = {row["file"]: (row["action"], (data / ACTION_VIDEOS / row["file"]).read_bytes())
                 for row in csv.DictReader(handle)}
    return clips | {still: ("still", still_clip(data / still)) for still in STILLS}


def clip_report(service: FaceService, clip: bytes) -> dict:
    """Every action code checked on one clip: passed codes, confidence per code, blinks, warnings."""
    video = decode_video(clip)
    results = {code: check_actions(service.pipeline, video, parse_request(str(code)))
               for code in ACTION_CODES}
    return {"passed": [code for code, result in results.items() if result.alive],
            "confidence": {code: result.actions[0]["confidence"] for code, result in results.items()},
            "blink_count": results[ACTION_CODES[0]].blink_count,
            "warnings": sorted({w for result in results.values() for w in result.warnings})}


def real_clip_report(service: FaceService, data: Path) -> dict:
    """clip name -> its labelled action, the actions it should pass, and its `clip_report`."""
    return {name: {"action": action, "own": list(OWN_ACTIONS.get(action, ())), **clip_report(service, clip)}
            for name, (action, clip) in real_clips(data).items()}


def report_table(report: dict) -> str:
    """The report as a plain-text table, one clip a line."""
    lines = [f"{'clip':48} {'action':10} {'own':6} {'passed':10} {'blinks':>6}  "
             f"confidence 1..5      warnings"]
    for name, row in report.items():
        confidences = " ".join(f"{row['confidence'][code]:.2f}" for code in ACTION_CODES)
        lines.append(f"{name:48} {row['action']:10} {','.join(map(str, row['own'])) or '-':6} "
                     f"{','.join(map(str, row['passed'])) or '-':10} {row['blink_count']:>6}  {confidences}  "
                     f"{','.join(map(str, row['warnings'])) or '-'}")
    return "\n".join(lines)
