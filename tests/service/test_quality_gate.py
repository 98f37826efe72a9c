"""quality_filter: levels parse strictly, MEDIUM keeps ordinary photos, and refused faces come
back with reasons instead of being enrolled (add) or searched with (search)."""

from __future__ import annotations

import base64
import io
import uuid

import cv2
import numpy as np
import pytest
from PIL import Image

from openfrs.errors import FRSError
from openfrs.media import ImageLimits, decode_image
from openfrs.service.attributes import QUALITY
from openfrs.service.quality_gate import parse_quality_filter, refusal_reasons

pytestmark = pytest.mark.models


def test_levels():
    assert parse_quality_filter(None) is None and parse_quality_filter("NONE") is None
    assert parse_quality_filter("auto") == parse_quality_filter("MEDIUM")
    strict, loose = parse_quality_filter("HIGH"), parse_quality_filter("LOW")
    assert strict.max_blur < loose.max_blur and strict.min_side_px > loose.min_side_px
    for bad in ("BEST", 3, ["LOW"]):
        with pytest.raises(FRSError) as caught:
            parse_quality_filter(bad)
        assert caught.value.code == "FRS.0012"


def test_medium_keeps_ordinary_photos(face_service, settings, shared_data):
    limits = ImageLimits.from_settings(settings)
    medium = parse_quality_filter("MEDIUM")
    refused = []
    for path in sorted((shared_data / "lfw-partial/images").glob("*/*_0001.jpg"))[:100]:
        faces = face_service.embedded_faces_blocking(decode_image(path.read_bytes(), limits), True,
                                                     frozenset({QUALITY}))
        reasons = refusal_reasons(faces[0], medium)
        if reasons:
            refused.append((path.name, reasons))
    assert len(refused) <= 2, refused


def b64_png(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_refused_faces_are_listed_with_reasons(client, shared_data):
    pid = "p" + uuid.uuid4().hex[:12]
    client.post(f"/v2/{pid}/face-sets", json={"face_set_name": "q"})
    photo = np.asarray(Image.open(shared_data / "lfw-partial/images/Abdullah/Abdullah_0002.jpg")
                       .convert("RGB"))
    blurred = cv2.GaussianBlur(photo, (0, 0), 4)
    url = f"/v2/{pid}/face-sets/q/faces"

    plain = client.post(url, json={"image_base64": b64_png(photo)}).json()
    assert len(plain["faces"]) == 1 and "unindexed_faces" not in plain  # FRS shape untouched
    good = client.post(url, json={"image_base64": b64_png(photo), "quality_filter": "MEDIUM"}).json()
    assert len(good["faces"]) == 1 and good["unindexed_faces"] == []

    bad = client.post(url, json={"image_base64": b64_png(blurred), "quality_filter": "HIGH"})
    assert bad.status_code == 200, bad.text
    body = bad.json()
    assert body["faces"] == [] and "LOW_SHARPNESS" in body["unindexed_faces"][0]["reasons"]
    assert set(body["unindexed_faces"][0]["bounding_box"]) == {"top_left_x", "top_left_y",
                                                               "width", "height"}
    assert client.get(f"/v2/{pid}/face-sets/q").json()["face_set_info"]["face_number"] == 2

    search = client.post(f"/v2/{pid}/face-sets/q/search",
                         json={"image_base64": b64_png(blurred), "quality_filter": "HIGH"})
    assert search.status_code == 400 and search.json()["error_code"] == "FRS.0307"
    assert "LOW_SHARPNESS" in search.json()["error_msg"]
    assert client.post(f"/v2/{pid}/face-sets/q/search", json={
        "image_base64": b64_png(blurred), "quality_filter": "NONE"}).status_code == 200
    wrong = client.post(url, json={"image_base64": b64_png(photo), "quality_filter": "SUPER"})
    assert wrong.status_code == 400 and wrong.json()["error_code"] == "FRS.0012"
