"""Action liveness (FRS live-detect): did one real person do the asked actions, in order?

A clip passes (`alive`) only when every asked action is found after the previous one (inside its
`action_time` window when given), the followed face stays the same person (each embedding, about
one a second, at FRS similarity >= SAME_PERSON with the first: the FAR 1e-2 point, lenient
because a turned head embeds less like the frontal one), and no blocking warning was raised
(4 two faces, 5 no face, 7 not one real person: another person, or frames that fail silent
liveness — a photo or screen held up and moved). A replayed video of a real person doing the
right actions, shown on a screen, is refused only when silent liveness sees the screen
(docs/liveness.md says what that catches).

The result also counts the blinks seen in the whole clip (`blink_count`, an OpenFRS extension
of FRS's answer), asked or not.

Parameters as FRS takes them: `actions` "1,3,5" (1 turn left, 2 turn right, 3 nod, 4 mouth,
5 blink; at most 10), `action_time` "1000-3000,4000-7000" (ms, one window per action),
`nod_threshold` 1-90 degrees (default 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openfrs.errors import FRSError
from openfrs.media.video import Video
from openfrs.service.face_picture import face_picture
from openfrs.service.face_track import TrackedFace, face_at, track_face
from openfrs.vision.face_actions import ACTION_CODES, BLINK, Event, find_events, match_in_order, rest_level
from openfrs.vision.pipeline import FacePipeline

MAX_ACTIONS = 10
SAME_PERSON = 0.90  # FRS similarity (calibrated), FAR 1e-2
FRONTAL_DEGREES = 20.0
SILENT_FRAMES = 3  # frames silent liveness looks at
TWO_FACES_SHARE = 0.3  # frames with a second face before warning 4
NO_FACE_SHARE = 0.5  # frames without a face before warning 5
WARNINGS = {
    1: "The face is not facing forward.",
    4: "More than one face in the video.",
    5: "No face in the video.",
    6: "The motion is too small.",
    7: "Poor quality or not one real person.",
    8: "No preferred frame for the picture.",
}
BLOCKING_WARNINGS = frozenset({4, 5, 7})


@dataclass(frozen=True)
class ActionRequest:
    actions: list[int]
    windows: list[tuple[float, float]] | None  # seconds
    nod_threshold: float


@dataclass
class ActionResult:
    alive: bool
    actions: list[dict[str, float]]
    picture: str | None
    warnings: list[int] = field(default_factory=list)
    blink_count: int = 0  # blinks seen in the whole clip, asked or not (an OpenFRS extension)


def _text(value: object, name: str) -> str:
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str | int):
        raise FRSError("FRS.0012", f"{name} must be a string")
    return str(value).strip()


def parse_request(actions: object, action_time: object = None, nod_threshold: object = None) -> ActionRequest:
    """The FRS parameters, or the FRS error for each malformed one."""
    if actions is None or _text(actions, "actions") == "":
        raise FRSError("FRS.0011", "actions")
    codes = []
    for token in _text(actions, "actions").split(","):
        token = token.strip()
        if not token.isascii() or not token.isdigit() or int(token) not in ACTION_CODES:
            raise FRSError("FRS.0702", f"{token[:20]!r}")
        codes.append(int(token))
    if len(codes) > MAX_ACTIONS:
        raise FRSError("FRS.0704", f"{len(codes)} actions")
    windows = None
    if action_time is not None and _text(action_time, "action_time") != "":
        parts = _text(action_time, "action_time").split(",")
        if len(parts) != len(codes):
            raise FRSError("FRS.0012", "action_time needs one start-end window per action")
        windows = []
        for part in parts:
            bounds = part.strip().split("-")
            if len(bounds) != 2 or not all(b.strip().isascii() and b.strip().isdigit() for b in bounds):
                raise FRSError("FRS.0012", f"action_time window {part[:30]!r} is not start-end in ms")
            start, end = (int(b) / 1000.0 for b in bounds)
            if start > end:
                raise FRSError("FRS.0012", f"action_time window {part[:30]!r} ends before it starts")
            windows.append((start, end))
    threshold = 10.0
    if nod_threshold is not None and _text(nod_threshold, "nod_threshold") != "":
        try:
            threshold = float(_text(nod_threshold, "nod_threshold"))
        except ValueError:
            raise FRSError("FRS.0012", "nod_threshold must be a number") from None
        if not 1.0 <= threshold <= 90.0:
            raise FRSError("FRS.0012", "nod_threshold must be between 1 and 90")
    return ActionRequest(codes, windows, threshold)


def _most_frontal(tracked: TrackedFace) -> int | None:
    """The frame whose followed face turns least, if it is frontal enough for the picture."""
    yaw = np.abs(np.nan_to_num(tracked.track.yaw, nan=np.inf))
    best = int(np.argmin(yaw))
    if not np.isfinite(yaw[best]) or yaw[best] > FRONTAL_DEGREES:
        return None
    return best


def _looks_live(pipeline: FacePipeline, video: Video, tracked: TrackedFace) -> bool:
    """Silent liveness on SILENT_FRAMES frames of the followed face spread over the clip (the
    sampled frames, at most 640 px): live when the median confidence reaches 0.5, so one odd
    frame neither passes nor fails a clip."""
    present = [i for i, mesh in enumerate(tracked.meshes) if mesh is not None]
    if not present:
        return False
    picks = sorted({present[round(q * (len(present) - 1))] for q in np.linspace(0.1, 0.9, SILENT_FRAMES)})
    faces = {i: face_at(pipeline, video, tracked, i) for i in picks}
    confidences = [pipeline.silent.check(video.frames[i], face).confidence
                   for i, face in faces.items() if face is not None]
    return bool(confidences) and float(np.median(confidences)) >= 0.5


def _same_person(pipeline: FacePipeline, tracked: TrackedFace) -> bool:
    if len(tracked.embeddings) < 2:
        return True
    cosines = tracked.embeddings[1:] @ tracked.embeddings[0]
    return bool(np.min(pipeline.calibration.similarity(cosines)) >= SAME_PERSON)


def _warnings(tracked: TrackedFace, events: list[Event], same_person: bool, live: bool) -> list[int]:
    counts = np.array(tracked.face_counts)
    found = []
    if abs(rest_level(tracked.track.times, tracked.track.yaw)) > FRONTAL_DEGREES:  # NaN: no face
        found.append(1)
    if np.mean(counts >= 2) >= TWO_FACES_SHARE:
        found.append(4)
    if np.mean(np.isnan(tracked.track.yaw)) >= NO_FACE_SHARE:  # per frame: detection reruns while lost
        found.append(5)
    if not events:
        found.append(6)
    if not same_person or not live:
        found.append(7)
    return found


def check_actions(pipeline: FacePipeline, video: Video, request: ActionRequest) -> ActionResult:
    """Blocking: track, find events, check order and identity."""
    tracked = track_face(pipeline, video)
    events = find_events(tracked.track, request.nod_threshold)
    matched = match_in_order(events, request.actions, request.windows)
    same_person = _same_person(pipeline, tracked)
    live = _looks_live(pipeline, video, tracked)
    warnings = _warnings(tracked, events, same_person, live)
    best = _most_frontal(tracked)
    face = None if best is None else face_at(pipeline, video, tracked, best)
    picture = None if face is None else face_picture(video.frames[best], face.box)
    if picture is None:
        warnings.append(8)
    alive = all(m is not None for m in matched) and not BLOCKING_WARNINGS & set(warnings)
    actions = [{"action": code, "confidence": round(m.confidence if m else 0.0, 4)}
               for code, m in zip(request.actions, matched, strict=True)]
    blinks = sum(event.action == BLINK for event in events)
    return ActionResult(alive, actions, picture, warnings, blinks)

