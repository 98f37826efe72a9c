"""Following one face through a decoded clip, with clips built from real stills.

What these clips prove: decoding -> detection -> face mesh -> head pose -> action events and the
identity embeddings work end to end on real pixels of real faces, through a real codec. What
they do not prove: that a real person's continuous head turn is found (the turn here is a jump
from a still to its mirror image) — no real action clip is available here.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from openfrs.evaluation.clips import encode_clip, on_canvas
from openfrs.media.video import decode_video
from openfrs.service.face_track import _embedding_frames, track_face
from openfrs.vision.face_actions import TURN_RIGHT, Track, find_events

pytestmark = pytest.mark.models


def still(shared_data, name: str) -> np.ndarray:
    return on_canvas(np.asarray(Image.open(shared_data / "liveness-stills/pose" / name).convert("RGB")))


def test_a_turn_is_tracked_and_found(face_service, shared_data):
    turned_left = still(shared_data, "left_face.jpeg")
    mirrored = np.ascontiguousarray(turned_left[:, ::-1])  # the same face turned the other way
    clip = encode_clip([turned_left] * 10 + [mirrored] * 15, fps=10)
    tracked = track_face(face_service.pipeline, decode_video(clip))
    assert all(count == 1 for count in tracked.face_counts)
    assert np.nanmean(tracked.track.yaw[:8]) < -30 < 30 < np.nanmean(tracked.track.yaw[-8:])
    assert [e.action for e in find_events(tracked.track)] == [TURN_RIGHT]
    # one person throughout: every embedding "same person" (calibrated similarity >= 0.93) as the first
    assert len(tracked.embeddings) >= 2
    calibration = face_service.pipeline.calibration
    assert calibration.similarity(tracked.embeddings @ tracked.embeddings[0]).min() >= 0.93


def test_a_change_of_person_shows_in_the_embeddings(face_service, shared_data):
    first, second = still(shared_data, "left_face.jpeg"), still(shared_data, "right_face.png")
    clip = encode_clip([first] * 12 + [second] * 12, fps=10)
    tracked = track_face(face_service.pipeline, decode_video(clip))
    similarities = face_service.pipeline.calibration.similarity(tracked.embeddings @ tracked.embeddings[0])
    assert similarities[0] > 0.99 and similarities.min() < 0.93, similarities


def test_each_second_embeds_its_most_frontal_face_and_skips_turned_seconds():
    """A head tilted 40 degrees embeds unlike its own frontal face (the real nod clip: 0.49)."""
    times = np.arange(30) / 10
    yaw = np.zeros(30)
    yaw[[0, 2, 4, 6, 8]] = [10.0, 12.0, -3.0, 5.0, 7.0]
    yaw[10:20] = 40.0  # the second second turned throughout
    detected = [object() if i % 2 == 0 else None for i in range(30)]  # the detector's frames
    track = Track(times, yaw, np.zeros(30), np.zeros(30), np.zeros(30))
    assert _embedding_frames(track, detected) == [4, 20]
    yaw[:] = 40.0  # never frontal: every second is still embedded, so identity is still checked
    assert _embedding_frames(track, detected) == [0, 10, 20]
