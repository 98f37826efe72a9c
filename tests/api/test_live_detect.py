"""POST /v1|v2/{project_id}/live-detect over HTTP with clips built from real stills.

What these clips prove: the whole path (upload, decoding, tracking, events, order, identity,
warnings, FRS errors) on real faces through real codecs. What they do not prove: that a real
person's continuous turn, nod, blink or mouth movement is found — the "turn" is a still followed
by its mirror image, and no real action clip is available here; nor that a replayed video on a
screen is refused in the field (only the synthetic phone frame below is shown to be).
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from openfrs.evaluation.clips import encode_clip, on_canvas
from openfrs.evaluation.spoof_synthesis import phone_frame
from tests.api.test_bad_inputs import assert_frs_error

pytestmark = pytest.mark.models

V1, V2 = "/v1/p0/live-detect", "/v2/p0/live-detect"


def still(shared_data, name: str) -> np.ndarray:
    return on_canvas(np.asarray(Image.open(shared_data / "liveness-stills/pose" / name).convert("RGB")))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def turn_right_clip(shared_data) -> bytes:
    left = still(shared_data, "left_face.jpeg")
    return encode_clip([left] * 10 + [np.ascontiguousarray(left[:, ::-1])] * 15, fps=10)


def warnings_of(body: dict) -> set[int]:
    return {w["warningCode"] for w in body["warning-list"]}


def test_asked_action_found_and_alive(client, turn_right_clip):
    response = client.post(V1, json={"video_base64": b64(turn_right_clip), "actions": "2"})
    assert response.status_code == 200, response.text
    result = response.json()["video-result"]
    assert result["alive"] is True
    assert result["actions"][0]["action"] == 2 and result["actions"][0]["confidence"] > 0.5
    assert {4, 5, 6, 7}.isdisjoint(warnings_of(response.json()))


def test_wrong_order_or_missing_action_is_not_alive(client, turn_right_clip):
    for actions in ("2,1", "1", "3"):
        body = client.post(V2, json={"video_base64": b64(turn_right_clip), "actions": actions}).json()
        assert body["video-result"]["alive"] is False, actions
        assert min(a["confidence"] for a in body["video-result"]["actions"]) == 0.0


def test_multipart_upload(client, turn_right_clip):
    response = client.post(V2, files={"video_file": ("clip.mp4", turn_right_clip, "video/mp4")},
                           data={"actions": "2", "nod_threshold": "15"})
    assert response.status_code == 200, response.text
    assert response.json()["video-result"]["alive"] is True


def test_a_still_repeated_is_not_alive(client, shared_data):
    clip = encode_clip([still(shared_data, "rise_face.jpeg")] * 30, fps=10)
    body = client.post(V1, json={"video_base64": b64(clip), "actions": "1"}).json()
    assert body["video-result"]["alive"] is False and 6 in warnings_of(body)


def test_a_change_of_person_is_not_alive(client, shared_data):
    """Each still is a different person: the turn is there, the identity check refuses it."""
    first, second = still(shared_data, "left_face.jpeg"), still(shared_data, "right_face.png")
    clip = encode_clip([first] * 12 + [second] * 12, fps=10)
    body = client.post(V1, json={"video_base64": b64(clip), "actions": "2"}).json()
    assert body["video-result"]["alive"] is False and 7 in warnings_of(body)


def test_a_phone_held_up_doing_the_turn_is_not_alive(client, shared_data):
    """The right action, shown on a phone held up to the camera: silent liveness on the frames
    sees the closed frame round the face and refuses it (warning 7)."""
    left = still(shared_data, "left_face.jpeg")[60:420, 140:500]
    shown = [on_canvas(phone_frame(frame, np.random.default_rng(2)))
             for frame in (left, np.ascontiguousarray(left[:, ::-1]))]
    clip = encode_clip([shown[0]] * 10 + [shown[1]] * 15, fps=10)
    body = client.post(V1, json={"video_base64": b64(clip), "actions": "2"}).json()
    assert body["video-result"]["actions"][0]["confidence"] > 0.5, body  # the turn itself is found
    assert body["video-result"]["alive"] is False and 7 in warnings_of(body)


def test_two_people_warn_4(client, shared_data):
    left = still(shared_data, "left_face.jpeg")
    pair = np.concatenate([left[:, 80:560], np.ascontiguousarray(left[:, ::-1])[:, 80:560]], axis=1)
    clip = encode_clip([np.ascontiguousarray(pair)] * 20, fps=10)
    body = client.post(V1, json={"video_base64": b64(clip), "actions": "1"}).json()
    assert 4 in warnings_of(body) and body["video-result"]["alive"] is False


def test_bad_parameters_and_videos_get_their_frs_codes(client, turn_right_clip):
    video = b64(turn_right_clip)
    assert_frs_error(client.post(V1, json={"video_base64": video}), "FRS.0011")
    assert_frs_error(client.post(V1, json={"video_base64": video, "actions": "9"}), "FRS.0702")
    assert_frs_error(client.post(V1, json={"video_base64": video, "actions": ",".join("1" * 11)}), "FRS.0704")
    assert_frs_error(client.post(V1, json={"video_base64": video, "actions": "1", "nod_threshold": 0}),
                     "FRS.0012")
    assert_frs_error(client.post(V1, json={"video_base64": video, "actions": "1,2", "action_time": "0-900"}),
                     "FRS.0012")
    assert_frs_error(client.post(V1, json={"actions": "1"}), "FRS.0011")
    corrupt = b64(turn_right_clip[: len(turn_right_clip) // 4])
    assert_frs_error(client.post(V1, json={"video_base64": corrupt, "actions": "1"}), "FRS.0701")
    assert_frs_error(client.post(V2, json={"video_base64": corrupt, "actions": "1"}), "FRS.0751")
    assert_frs_error(client.post(V2, json={"video_base64": "%%%", "actions": "1"}), "FRS.0751")
    short = b64(encode_clip([np.zeros((48, 64, 3), np.uint8)] * 5, fps=10))
    assert_frs_error(client.post(V1, json={"video_base64": short, "actions": "1"}), "FRS.0706")
