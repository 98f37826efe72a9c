"""Action liveness signals: head turns, nods, mouth opening and blinks found in the time series
of one tracked face (FRS action codes 1 turn left, 2 turn right, 3 nod, 4 mouth, 5 blink).

Why relative to the person's own rest level: head pose and mouth ratio differ a lot between
people, so each is measured against its level in the same clip: the head's rest pose is the
median of the first half second (FRS asks users to face the camera first), the mouth's closed
level the clip's 25th percentile. Eyes are not: they are read by the eye-state model
(vision/eye_state.py), whose P(closed) is an absolute reading. It replaced the mesh's eye
aspect ratio, which is relative too (0.14-0.44 for open eyes on LFW portraits) and, on the real
blink clip sampled at 10 fps, dipped only to 0.19-0.24 at the blinks against a cut of 0.25 while
the model read 0.88-1.00 at the blinks and under 0.03 on open frames (docs/liveness.md).

Directions follow vision/headpose.py: "turn left" is the face turning toward the IMAGE's left
(yaw < 0; ../shared/data/liveness-stills/pose/left_face is such a turn), as a camera that does
not mirror records it. A nod is the head going down by `nod_threshold` degrees (FRS: 1-90,
default 10) and coming back, while facing the camera (yaw within the turn threshold).

Pure functions over arrays, no model: the mesh (vision/headpose.py) and the eye-state model
(through service/face_track.py) supply the signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TURN_LEFT, TURN_RIGHT, NOD, MOUTH, BLINK = 1, 2, 3, 4, 5
ACTION_CODES = (TURN_LEFT, TURN_RIGHT, NOD, MOUTH, BLINK)

TURN_DEGREES = 20.0  # yaw away from the rest pose that counts as a turn
REST_SECONDS = 0.5  # the first half second sets the rest pose
EYES_OPEN, EYES_SHUT = 0.25, 0.75  # P(both eyes closed): below, clearly open; above, clearly shut
BLINK_MAX_SECONDS = 1.0  # eyes closed longer than this is not a blink
BLINK_FACING_DEGREES = 15.0  # yaw and pitch from the rest pose within which eyes are read
MOUTH_OPEN_DELTA = 0.15  # mouth aspect ratio above the closed level by this: open

# MediaPipe face mesh indices: eye corners and lids (p1..p6 of Soukupova & Cech: corner, upper
# lid, upper lid, corner, lower lid, lower lid; the eye-state crop's points), inner lips and mouth
# corners.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)
UPPER_LIP, LOWER_LIP, MOUTH_RIGHT, MOUTH_LEFT = 13, 14, 78, 308


@dataclass(frozen=True)
class Track:
    """One face's signals per sampled frame (NaN where the face was not found)."""

    times: np.ndarray  # seconds
    yaw: np.ndarray  # degrees
    pitch: np.ndarray
    closed: np.ndarray  # P(both eyes closed), vision/eye_state.py
    mouth: np.ndarray  # mouth aspect ratio


@dataclass(frozen=True)
class Event:
    action: int
    start: float  # seconds
    end: float
    confidence: float  # 0..1: how far past its threshold the signal went


def eye_points(mesh: np.ndarray) -> list[np.ndarray]:
    """Each eye's six points (p1..p6, x and y) from (468, 2+) mesh points: the eye-state crops'."""
    return [mesh[list(eye), :2] for eye in (RIGHT_EYE, LEFT_EYE)]


def mouth_aspect_ratio(mesh: np.ndarray) -> float:
    """Inner-lip gap over mouth width."""
    points = mesh[:, :2]
    width = max(np.linalg.norm(points[MOUTH_RIGHT] - points[MOUTH_LEFT]), 1e-6)
    return float(np.linalg.norm(points[UPPER_LIP] - points[LOWER_LIP]) / width)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs, start = [], None
    for i, value in enumerate(mask):
        if value and start is None:
            start = i
        elif not value and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def _event(action: int, times: np.ndarray, first: int, last: int, peak: float) -> Event:
    """The event of frames first..last whose signal went `peak` threshold units past it."""
    return Event(action, float(times[first]), float(times[last]), min(1.0, 0.5 + peak / 2))


def _excursions(times: np.ndarray, excess: np.ndarray, action: int) -> list[Event]:
    """Events where `excess` (signal past its threshold, in threshold units) is > 0."""
    valid = np.nan_to_num(excess, nan=-1.0)
    return [_event(action, times, first, last, float(valid[first:last + 1].max()))
            for first, last in _runs(valid > 0)]


def _blinks(times: np.ndarray, closed: np.ndarray) -> list[Event]:
    """Eyes clearly open, then clearly shut, then clearly open again within BLINK_MAX_SECONDS.
    Two levels, not one: a still photo's codec noise about one level makes no blink; and eyes
    shut when the clip starts or ends (or that stay shut) are no blink."""
    shut = np.nan_to_num((closed - EYES_SHUT) / (1 - EYES_SHUT), nan=-1.0)  # > 0: shut
    events = []
    for first, last in _runs(np.nan_to_num(closed, nan=1.0) >= EYES_OPEN):  # NaN: not seen open
        peak = float(shut[first:last + 1].max())
        open_around = first > 0 and last < len(closed) - 1
        if peak > 0 and open_around and times[last] - times[first] <= BLINK_MAX_SECONDS:
            events.append(_event(BLINK, times, first, last, peak))
    return events


def rest_level(times: np.ndarray, values: np.ndarray) -> float:
    """The signal's level in the first REST_SECONDS (the whole clip's median when the face was
    not found then; NaN when it never was)."""
    finite = np.isfinite(values)
    if not finite.any():
        return float("nan")
    early = values[(times - times[0] <= REST_SECONDS) & finite]
    return float(np.median(early)) if early.size else float(np.median(values[finite]))


def find_events(track: Track, nod_threshold: float = 10.0) -> list[Event]:
    """Every action event in the clip, in time order."""
    times = track.times
    if not np.isfinite(track.yaw).any():
        return []
    yaw = track.yaw - rest_level(times, track.yaw)
    pitch = track.pitch - rest_level(times, track.pitch)
    events = _excursions(times, -yaw / TURN_DEGREES - 1, TURN_LEFT)
    events += _excursions(times, yaw / TURN_DEGREES - 1, TURN_RIGHT)
    # A nod faces the camera: while the head is turned past the turn threshold the mesh's pitch
    # is the turn's crosstalk (synthesized turns of 30-40 degrees read 8-13 degrees "down").
    facing = np.abs(np.nan_to_num(yaw, nan=np.inf)) < TURN_DEGREES
    events += _excursions(times, np.where(facing, -pitch / nod_threshold - 1, np.nan), NOD)
    # The eye-state crops read a face that faces the camera: tilted back or down, eyelids look
    # shut (the nod clip's open eyes read P(closed) 0.5-1.0 at 37-42 degrees of pitch).
    frontal = np.maximum(np.abs(yaw), np.abs(pitch)) < BLINK_FACING_DEGREES  # NaN: False
    events += _blinks(times, np.where(frontal, track.closed, np.nan))
    closed_mouth = np.nanpercentile(track.mouth, 25)
    events += _excursions(times, (track.mouth - closed_mouth) / MOUTH_OPEN_DELTA - 1, MOUTH)
    return sorted(events, key=lambda e: (e.start, e.action))


def match_in_order(events: list[Event], asked: list[int],
                   windows: list[tuple[float, float]] | None = None) -> list[Event | None]:
    """For each asked action, the first event of it that starts after the previous asked action's
    event ended (and inside its window, seconds, when `windows` is given); None when missing.
    The clip passes the order check only when no entry is None."""
    matched: list[Event | None] = []
    after = -np.inf
    for i, action in enumerate(asked):
        low, high = windows[i] if windows else (-np.inf, np.inf)
        found = next((e for e in events if e.action == action and e.start > after
                      and low <= e.start <= high), None)
        matched.append(found)
        if found is not None:
            after = found.end
    return matched
