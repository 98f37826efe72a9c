"""The legacy v1 quality APIs (face-quality, blur-classify, head-pose-estimate) under /v1 and /v2:
answer shapes of the old SDKs' result classes, values that follow the image, FRS errors."""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.api.test_bad_inputs import assert_frs_error

pytestmark = pytest.mark.models

BASE = "/{version}/p0/face/quality/{api}"


def jpeg_b64(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=95)
    return base64.b64encode(buffer.getvalue()).decode()


def load(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_head_pose_estimate_follows_the_turn(client, shared_data, version):
    url = BASE.format(version=version, api="head-pose-estimate")
    pose_dir = shared_data / "liveness-stills/pose"
    left = client.post(url, json={"image_base64": jpeg_b64(load(pose_dir / "left_face.jpeg"))})
    right = client.post(url, json={"image_base64": jpeg_b64(load(pose_dir / "right_face.png"))})
    assert left.status_code == right.status_code == 200, left.text
    assert set(left.json()) == {"yaw", "roll", "pitch"}
    assert left.json()["yaw"] < -30 < 30 < right.json()["yaw"]


def test_blur_classify_tells_a_sharp_photo_from_a_blurred_copy(client, shared_data):
    photo = load(shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg")
    blurred = cv2.GaussianBlur(photo, (0, 0), 4)
    url = BASE.format(version="v1", api="blur-classify")
    sharp = client.post(url, json={"image_base64": jpeg_b64(photo)})
    soft = client.post(url, json={"image_base64": jpeg_b64(blurred)})
    assert sharp.status_code == soft.status_code == 200, soft.text
    assert sharp.json() == {"isClarity": True}
    assert soft.json() == {"isClarity": False}


def test_face_quality_combines_both(client, shared_data):
    photo = load(shared_data / "liveness-stills/pose/right_face.png")
    response = client.post(BASE.format(version="v2", api="face-quality"),
                           json={"image_base64": jpeg_b64(photo)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"blur", "pose"} and set(body["blur"]) == {"isClarity"}
    assert body["pose"]["yaw"] > 30


@pytest.mark.parametrize("api", ["face-quality", "blur-classify", "head-pose-estimate"])
def test_bad_inputs_get_frs_codes(client, api):
    url = BASE.format(version="v1", api=api)
    noise = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    assert_frs_error(client.post(url, json={"image_base64": jpeg_b64(noise)}), "FRS.0501")
    assert_frs_error(client.post(url, json={}), "FRS.0011")
    assert_frs_error(client.post(url, json={"image_base64": "not base64!"}), "FRS.0015")
