"""Action events found in clips synthesized from one real face photo (evaluation/face_synth.py).

What a synthesized clip proves: the event logic (vision/face_actions.py) and the signals it reads
(face mesh -> head pose and mouth ratio; eye-state model -> eyes closed) respond as intended to
real pixels of a real face moved geometrically: the same person turns, nods, opens the mouth or
blinks continuously over 1-5 s, the clip goes through a real encoder and decode_video, and
track_face follows it; each action is found alone, with no other, and chained actions are found
in their order and not in another. The identity embeddings stay the same person throughout.

What it does not prove: that real human motion is found. The head is a rigid mesh rotated about
a fixed pivot, with no neck, shoulders or hair motion; no motion blur, no lighting or shading
change as the head turns; the side of the face a turn reveals is the frontal photo's texture
stretched; a closed eye is the lid skin above it stretched down (no real lid or lashes), an open
mouth a painted dark gap with a band of teeth. Real clips: tests/api/test_live_detect_clips.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from openfrs.evaluation import face_synth
from openfrs.evaluation.clips import encode_clip
from openfrs.media.video import decode_video
from openfrs.service.face_track import TrackedFace, track_face
from openfrs.vision.calibration import Calibration
from openfrs.vision.face_actions import ACTION_CODES, find_events, match_in_order

pytestmark = pytest.mark.models

# One container/codec per clip, so every decoder decode_video is used with is exercised once.
CODECS = {1: ("mp4", "libx264"), 2: ("webm", "libvpx"), 3: ("avi", "mpeg4"), 4: ("mov", "libx264"),
          5: ("matroska", "libvpx-vp9"), (3, 4, 5): ("mp4", "libx264"), (1, 2): ("matroska", "libvpx-vp9")}


@pytest.fixture(scope="module")
def source(face_service, shared_data) -> tuple[np.ndarray, np.ndarray]:
    return face_synth.load_source(face_service.pipeline, shared_data / face_synth.SOURCE_PHOTOS[0])


@pytest.fixture(scope="module")
def tracked(face_service, source):
    """actions -> TrackedFace of its synthesized clip, encoded and decoded; each built once."""
    cache: dict[object, TrackedFace] = {}

    def get(actions) -> TrackedFace:
        if actions not in cache:
            frames = face_synth.action_clip(*source, actions)
            clip = encode_clip(frames, 10, *CODECS[actions])
            cache[actions] = track_face(face_service.pipeline, decode_video(clip))
        return cache[actions]

    return get


def assert_one_person(result: TrackedFace, calibration: Calibration) -> None:
    assert all(count == 1 for count in result.face_counts), result.face_counts
    assert len(result.embeddings) >= 2
    # "same person" on the calibrated scale, as tests/service/test_face_track.py uses
    assert calibration.similarity(result.embeddings @ result.embeddings[0]).min() >= 0.93


def test_the_warp_leaves_the_photo_alone_at_rest_and_the_background_always(source):
    image, mesh = source
    assert np.abs(face_synth.render(image, mesh).astype(int) - image).mean() < 1.0
    turned = face_synth.turned(image, mesh, yaw_deg=-40)
    low, high = mesh[:, :2].min(axis=0), mesh[:, :2].max(axis=0)
    ys, xs = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    radius = ((xs - (low[0] + high[0]) / 2) / (high[0] - low[0])) ** 2 + \
             ((ys - (low[1] + high[1]) / 2) / (high[1] - low[1])) ** 2
    outside = radius > (face_synth.RING_SCALE / 2 + 0.05) ** 2
    assert np.abs(turned.astype(int) - image)[outside].max() <= 1
    assert np.abs(turned.astype(int) - image)[~outside].mean() > 10  # the face did move


@pytest.mark.parametrize("action", ACTION_CODES)
def test_each_synthesized_action_is_found_alone(tracked, action, face_service):
    result = tracked(action)
    events = find_events(result.track)
    assert [e.action for e in events] == [action], (events, result.track)
    assert events[0].confidence > 0.5
    assert_one_person(result, face_service.pipeline.calibration)


@pytest.mark.parametrize("actions", [(3, 4, 5), (1, 2)])
def test_chained_actions_match_in_their_order_only(tracked, actions, face_service):
    result = tracked(actions)
    events = find_events(result.track)
    assert [e.action for e in events] == list(actions), events
    assert all(m is not None for m in match_in_order(events, list(actions)))
    assert None in match_in_order(events, list(actions)[::-1])
    assert_one_person(result, face_service.pipeline.calibration)
