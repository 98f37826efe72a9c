"""POST /v1/{project_id}/live-detect with a clip synthesized from one real face photo: a nod, an
open mouth and a blink by the same person, in that order (evaluation/face_synth.py).

What it proves: the HTTP path finds several actions of one continuous clip and checks their
order, and the identity check passes a real face that keeps moving. What it does not prove: that
real people's actions are found, nor anything about replayed videos — see
tests/service/test_synth_actions.py for what a warped photo does and does not show.
"""

from __future__ import annotations

import base64

import pytest

from openfrs.evaluation import face_synth
from openfrs.evaluation.clips import encode_clip

pytestmark = pytest.mark.models

V1 = "/v1/p0/live-detect"


@pytest.fixture(scope="module")
def nod_mouth_blink(face_service, shared_data) -> str:
    """Base64 mp4 of the first source photo nodding, opening the mouth, then blinking. Not the
    second: its warped "closed" eye leaves a dark slit of iris under the stretched lid, which the
    eye-state model (vision/eye_state.py) reads as open (P(closed) 0.33 and 0.00); real blinks
    are tested on a real clip (tests/api/test_live_detect_clips.py)."""
    image, mesh = face_synth.load_source(face_service.pipeline, shared_data / face_synth.SOURCE_PHOTOS[0])
    clip = encode_clip(face_synth.action_clip(image, mesh, [3, 4, 5]), fps=10)
    return base64.b64encode(clip).decode()


def test_actions_in_their_order_are_alive(client, nod_mouth_blink):
    response = client.post(V1, json={"video_base64": nod_mouth_blink, "actions": "3,4,5"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["video-result"]["alive"] is True, body["warning-list"]
    assert [a["action"] for a in body["video-result"]["actions"]] == [3, 4, 5]
    assert all(a["confidence"] > 0.5 for a in body["video-result"]["actions"])
    assert body["video-result"]["picture"]  # a frontal frame exists


def test_actions_asked_in_another_order_are_not_alive(client, nod_mouth_blink):
    body = client.post(V1, json={"video_base64": nod_mouth_blink, "actions": "5,4,3"}).json()
    assert body["video-result"]["alive"] is False
    assert min(a["confidence"] for a in body["video-result"]["actions"]) == 0.0
