"""face-detect and face-compare over HTTP with real models and real images."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.models

PROJECT = "p0"


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def lfw(shared_data: Path, name: str, index: int) -> Path:
    return shared_data / "lfw-partial" / "images" / name / f"{name}_{index:04d}.jpg"


def test_detect_crowd_finds_at_least_five_faces(client, shared_data):
    response = client.post(f"/v2/{PROJECT}/face-detect",
                           json={"image_base64": b64(shared_data / "crowd/insightface_t1.jpg")})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"]
    faces = response.json()["faces"]
    assert len(faces) >= 5
    for face in faces:
        box = face["bounding_box"]
        assert set(box) == {"top_left_x", "top_left_y", "width", "height"}
        assert all(isinstance(v, int) for v in box.values())
        assert box["width"] >= 30 and box["height"] >= 30  # 3/4 of the 40-px minimum
        assert 0.0 < face["detection_score"] <= 1.0
        assert len(face["key_points"]) == 5
        assert "gender" not in face and "age" not in face and "attributes" not in face


def test_detect_accepts_multipart_file_and_attributes(client, shared_data):
    path = lfw(shared_data, "Abdullah", 2)
    response = client.post(f"/v2/{PROJECT}/face-detect",
                           files={"image_file": ("a.jpg", path.read_bytes(), "image/jpeg")},
                           data={"attributes": "1,2,99"})
    assert response.status_code == 200, response.text
    faces = response.json()["faces"]
    assert len(faces) == 1
    box = faces[0]["bounding_box"]
    # LFW deep-funneled images are 250x250 with the face in the middle.
    assert 60 < box["top_left_x"] + box["width"] / 2 < 190
    assert "age" not in faces[0]
    # gender (1) and age (2) are measured; 99 is ignored, not refused
    attributes = faces[0]["attributes"]
    assert set(attributes) == {"gender", "gender_probability", "age"}
    assert attributes["gender"] == "male" and 0.5 <= attributes["gender_probability"] <= 1.0
    assert isinstance(attributes["age"], int) and 25 <= attributes["age"] <= 70  # an adult man


def test_gender_of_small_children_is_unknown_not_guessed(client, shared_data):
    """The gender net is little better than chance on toddlers: face-detect withholds it."""
    toddlers = sorted((shared_data / "utkface/images").glob("1_*.jpg"))[:3]
    assert len(toddlers) == 3
    for path in toddlers:
        response = client.post(f"/v2/{PROJECT}/face-detect",
                               json={"image_base64": base64.b64encode(path.read_bytes()).decode(),
                                     "attributes": "1,2"})
        assert response.status_code == 200, response.text
        attributes = response.json()["faces"][0]["attributes"]
        assert attributes["age"] < 13, (path.name, attributes)
        assert attributes["gender"] == "unknown" and attributes["gender_probability"] is None


def test_detect_attributes_head_pose_contours_and_face_angle(client, shared_data):
    import numpy as np
    from PIL import Image

    path = shared_data / "liveness-stills/pose/left_face.jpeg"
    response = client.post(f"/v2/{PROJECT}/face-detect",
                           json={"image_base64": b64(path), "attributes": "0,3,4,12,13,21"})
    assert response.status_code == 200, response.text
    face = response.json()["faces"][0]
    attributes = face["attributes"]
    assert attributes["headpose"]["yaw_angle"] == attributes["yaw_angle"] < -30  # nose to the left
    assert attributes["face_angle"] == 0
    assert attributes["dress"] == {"glass": "unknown", "hat": "unknown"}
    assert attributes["expression"]["type"] == "unknown"
    quality = attributes["quality"]
    assert set(quality) == {"total_score", "blur", "pose", "occlusion", "illumination"}
    assert all(0.0 <= v <= 1.0 for v in quality.values())
    assert quality["pose"] > 0.5  # a near profile
    contours = face["landmark"]
    assert [len(contours[k]) for k in ("face_contour", "eyebrow_contour", "nose_contour",
                                       "eyes_contour", "mouth_contour")] == [17, 10, 9, 12, 20]
    box = face["bounding_box"]
    inside = [p for points in contours.values() for p in points
              if box["top_left_x"] - 5 <= p["x"] <= box["top_left_x"] + box["width"] + 5]
    assert len(inside) >= 60  # the contours belong to this face

    # the same photo turned 90 degrees clockwise: found, face_angle 90, box in the turned image
    turned = np.ascontiguousarray(np.rot90(np.asarray(Image.open(path).convert("RGB")), -1))
    import io
    buffer = io.BytesIO()
    Image.fromarray(turned).save(buffer, "PNG")
    response = client.post(f"/v2/{PROJECT}/face-detect", json={
        "image_base64": base64.b64encode(buffer.getvalue()).decode(), "attributes": "0,21"})
    face90 = response.json()["faces"][0]
    assert face90["attributes"]["face_angle"] == 90
    assert face90["attributes"]["yaw_angle"] < -30  # the head still turns the same way
    original_height = turned.shape[1]  # turning clockwise maps (x, y) to (H - y, x)
    expected_x = original_height - box["top_left_y"] - box["height"]
    assert abs(face90["bounding_box"]["top_left_x"] - expected_x) <= 12
    assert abs(face90["bounding_box"]["top_left_y"] - box["top_left_x"]) <= 12


def test_detect_finds_a_40_pixel_face_in_a_large_photo(client, face_service, shared_data):
    """Scale an LFW photo so its face box is 40 px and paste it into a 1280x960 grey canvas."""
    import cv2
    import numpy as np
    from PIL import Image

    photo = np.asarray(Image.open(lfw(shared_data, "Aaron_Eckhart", 1)).convert("RGB"))
    box = face_service.pipeline.detect(photo)[0].box
    scale = 40.0 / box.width
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((960, 1280, 3), 128, np.uint8)
    canvas[500:500 + small.shape[0], 700:700 + small.shape[1]] = small
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, "PNG")
    response = client.post(f"/v2/{PROJECT}/face-detect",
                           json={"image_base64": base64.b64encode(buffer.getvalue()).decode()})
    assert response.status_code == 200, response.text
    faces = response.json()["faces"]
    assert len(faces) == 1
    found = faces[0]["bounding_box"]
    assert 30 <= found["width"] <= 52
    assert abs(found["top_left_x"] - (700 + box.x1 * scale)) < 8


def test_compare_same_person_scores_above_threshold(client, shared_data):
    response = client.post(f"/v2/{PROJECT}/face-compare", json={
        "image1_base64": b64(lfw(shared_data, "Abdullah", 2)),
        "image2_base64": b64(lfw(shared_data, "Abdullah", 3)),
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"image1_face", "image2_face", "similarity"}
    assert body["similarity"] >= 0.93
    assert set(body["image1_face"]["bounding_box"]) == {"top_left_x", "top_left_y", "width", "height"}


def test_compare_different_people_scores_below_threshold(client, shared_data):
    response = client.post(f"/v2/{PROJECT}/face-compare", files={
        "image1_file": ("1.jpg", lfw(shared_data, "Abdullah", 2).read_bytes(), "image/jpeg"),
        "image2_file": ("2.jpg", lfw(shared_data, "Aaron_Eckhart", 1).read_bytes(), "image/jpeg"),
    })
    assert response.status_code == 200, response.text
    assert 0.0 <= response.json()["similarity"] < 0.93


def test_compare_uses_the_largest_face_of_each_image(client, shared_data):
    """FRS rule: with two people in image 1, the larger one is compared."""
    import cv2
    import numpy as np
    from PIL import Image

    def photo(name: str, index: int, side: int) -> np.ndarray:
        rgb = np.asarray(Image.open(lfw(shared_data, name, index)).convert("RGB"))
        return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)

    def png(array: np.ndarray) -> str:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, "PNG")
        return base64.b64encode(buffer.getvalue()).decode()

    def pair(big: str, small: str) -> np.ndarray:
        canvas = np.full((500, 900, 3), 128, np.uint8)
        canvas[:500, :500] = photo(big, 2 if big == "Abdullah" else 1, 500)
        canvas[250:450, 650:850] = photo(small, 2 if small == "Abdullah" else 1, 200)
        return canvas

    probe = b64(lfw(shared_data, "Abdullah", 3))
    big_match = client.post(f"/v2/{PROJECT}/face-compare",
                            json={"image1_base64": png(pair("Abdullah", "Aaron_Eckhart")),
                                  "image2_base64": probe})
    small_match = client.post(f"/v2/{PROJECT}/face-compare",
                              json={"image1_base64": png(pair("Aaron_Eckhart", "Abdullah")),
                                    "image2_base64": probe})
    assert big_match.status_code == small_match.status_code == 200
    assert big_match.json()["similarity"] >= 0.93
    assert small_match.json()["similarity"] < 0.93
    assert big_match.json()["image1_face"]["bounding_box"]["width"] > 120


def test_compare_is_symmetric(client, shared_data):
    a, b = b64(lfw(shared_data, "Abdullah", 2)), b64(lfw(shared_data, "Abdullah", 3))
    one = client.post(f"/v2/{PROJECT}/face-compare", json={"image1_base64": a, "image2_base64": b})
    two = client.post(f"/v2/{PROJECT}/face-compare", json={"image1_base64": b, "image2_base64": a})
    assert one.json()["similarity"] == pytest.approx(two.json()["similarity"], abs=1e-6)


def test_health_and_openapi(client):
    health = client.get("/health")
    assert health.status_code == 200
    assert "CPUExecutionProvider" in health.json()["providers"]
    spec = client.get("/openapi.json").json()
    assert "/v2/{project_id}/face-detect" in spec["paths"]
    assert "/v2/{project_id}/face-compare" in spec["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_compare_turned_photo_with_its_upright_self(client, shared_data, angle):
    """A portrait turned clockwise (a phone photo without its EXIF tag) matches the upright one,
    and the turned face's box is in the turned image's own coordinates."""
    import numpy as np
    from PIL import Image

    path = lfw(shared_data, "Abdullah", 2)
    upright = np.asarray(Image.open(path).convert("RGB"))
    turned = np.ascontiguousarray(np.rot90(upright, -angle // 90))
    buffer = io.BytesIO()
    Image.fromarray(turned).save(buffer, "JPEG", quality=95)
    response = client.post(f"/v2/{PROJECT}/face-compare", json={
        "image1_base64": base64.b64encode(buffer.getvalue()).decode(), "image2_base64": b64(path)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["similarity"] >= 0.93
    box, ref = body["image1_face"]["bounding_box"], body["image2_face"]["bounding_box"]
    height, width = upright.shape[:2]
    x, y, w, h = ref["top_left_x"], ref["top_left_y"], ref["width"], ref["height"]
    expected = {  # the upright box turned clockwise with the image
        90: (height - y - h, x, h, w),
        180: (width - x - w, height - y - h, w, h),
        270: (y, width - x - w, h, w),
    }[angle]
    found = (box["top_left_x"], box["top_left_y"], box["width"], box["height"])
    assert all(abs(a - b) <= 6 for a, b in zip(found, expected, strict=True)), (found, expected)
