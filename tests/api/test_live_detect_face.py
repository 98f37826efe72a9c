"""POST /v1|v2/{project_id}/live-detect-face (silent liveness) over HTTP on real photos.

What this proves: the FRS request and answer shapes, the errors, the warnings, and that the
decision (fr_liveness at the shipped operating point) passes real webcam faces and refuses real
printed-photo and phone-replay attacks of ../shared/data/antispoof-more, one frame per subject.
What it does not: the rates in the field (docs/liveness.md and `openfrs eval liveness` report
the rates measured on every frame, per attack kind and real source).
"""

from __future__ import annotations

import base64
import csv
import io

import numpy as np
import pytest
from PIL import Image

from openfrs.evaluation.spoof_synthesis import phone_frame
from openfrs.media.video import decode_video
from tests.api.test_bad_inputs import assert_frs_error

pytestmark = pytest.mark.models

V1, V2 = "/v1/p0/live-detect-face", "/v2/p0/live-detect-face"


def b64_file(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def b64_image(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=92)
    return base64.b64encode(buffer.getvalue()).decode()


def warnings_of(body: dict) -> set[int]:
    return {w["warningCode"] for w in body["warning-list"]}


REAL = ["reaction/open_eyes.png", "pose/rise_face.jpeg", "reaction/close_eyes.jpeg"]


@pytest.mark.parametrize("name", REAL)
def test_real_faces_are_alive(client, shared_data, name):
    response = client.post(V1, json={"image_base64": b64_file(shared_data / "liveness-stills" / name)})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["alive"] is True and 0.5 <= result["confidence"] <= 1.0, response.json()
    picture = Image.open(io.BytesIO(base64.b64decode(result["picture"])))
    assert picture.format == "JPEG" and min(picture.size) >= 60


def one_frame_per_subject(shared_data, label: str, source: str) -> list:
    """The first listed image of each subject of one label and source in antispoof-more."""
    folder = shared_data / "antispoof-more"
    with open(folder / "labels.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle)
                if r["label"] == label and r["source"] == source and r["media"] == "image"]
    first = {}
    for row in rows:
        first.setdefault(row["subject"], folder / row["file"])
    return sorted(first.values())


def verdicts(client, paths) -> list[dict]:
    results = []
    for path in paths:
        response = client.post(V2, json={"image_base64": b64_file(path)})
        assert response.status_code == 200, response.text
        results.append(response.json()["result"])
    return results


def test_real_webcam_faces_pass_and_printed_photos_are_refused(client, shared_data):
    """NUAA (train split): one live frame and one printed-photo frame per subject."""
    real = verdicts(client, one_frame_per_subject(shared_data, "real", "nuaa"))
    prints = verdicts(client, one_frame_per_subject(shared_data, "attack", "nuaa"))
    assert len(real) >= 8 and len(prints) >= 8
    assert sum(r["alive"] for r in real) >= len(real) - 1, real
    assert sum(not r["alive"] for r in prints) >= len(prints) - 1, prints
    assert all(r["confidence"] < 0.5 for r in prints if not r["alive"])
    assert np.median([r["confidence"] for r in real]) > np.median([r["confidence"] for r in prints]) + 0.4


def test_a_phone_replay_frame_is_refused(client, shared_data):
    """A phone held up to a webcam, replaying the same person (apfol_fake2), the middle frame;
    its real counterpart's middle frame passes."""
    folder = shared_data / "antispoof-more"
    answers = {}
    for name in ("attack/screen/apfol_fake2.webm", "real/krzysiek_real.mp4"):
        frames = decode_video((folder / name).read_bytes(), max_seconds=600).frames
        answers[name] = client.post(V2, json={"image_base64": b64_image(frames[len(frames) // 2])}).json()
    assert answers["attack/screen/apfol_fake2.webm"]["result"]["alive"] is False, answers
    assert answers["real/krzysiek_real.mp4"]["result"]["alive"] is True, answers


def test_a_phone_held_up_is_refused(client, shared_data):
    face = np.asarray(Image.open(shared_data / "liveness-stills/reaction/open_eyes.png").convert("RGB"))
    shown = phone_frame(face, np.random.default_rng(5))
    body = client.post(V1, json={"image_base64": b64_image(shown)}).json()
    assert body["result"]["alive"] is False, body


def test_multipart_and_several_faces_warn_106(client, shared_data):
    crowd = shared_data / "crowd/deepface_couple.jpg"
    response = client.post(V1, files={"image_file": ("couple.jpg", crowd.read_bytes(), "image/jpeg")})
    assert response.status_code == 200, response.text
    assert 106 in warnings_of(response.json())


def test_poor_quality_warns_and_is_not_passed(client, shared_data):
    face = np.asarray(Image.open(shared_data / "liveness-stills/reaction/open_eyes.png").convert("RGB"))
    dark = (face.astype(np.float32) * 0.08).astype(np.uint8)
    body = client.post(V1, json={"image_base64": b64_image(dark)}).json()
    assert 105 in warnings_of(body) and body["result"]["alive"] is False, body


def test_errors(client):
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert_frs_error(client.post(V1, json={"image_base64": b64_image(blank)}), "FRS.0707")
    assert_frs_error(client.post(V1, json={}), "FRS.0011")
    assert_frs_error(client.post(V2, json={"image_base64": "%%%"}), "FRS.0015")
    assert_frs_error(client.post(V1, json={"image_base64": base64.b64encode(b"not an image").decode()}),
                     "FRS.0016")
