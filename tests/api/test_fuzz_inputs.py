"""Random and mangled bodies never produce a 500: always 200 or an FRS 4xx (property tests)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

pytestmark = pytest.mark.models

DETECT = "/v2/p0/face-detect"
MAGIC = [b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8 "]


def _seed_image(fmt: str) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


SEEDS = [_seed_image(fmt) for fmt in ("JPEG", "PNG", "BMP", "WEBP")]


def _check(response) -> None:
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["error_code"].startswith(("FRS.", "APIG."))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(MAGIC), payload=st.binary(max_size=2048))
def test_random_bytes_behind_image_magic(client, prefix, payload):
    body = {"image_base64": base64.b64encode(prefix + payload).decode()}
    _check(client.post(DETECT, json=body))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_mangled_real_images(client, seed, data):
    """Flip, drop or cut bytes of real encoded images: decoders must fail cleanly."""
    raw = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(8, len(raw)))
    _check(client.post(DETECT, files={"image_file": ("x.bin", bytes(raw[:cut]), "image/jpeg")}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["image_base64", "image1_base64", "image_file", "attributes", "x"]),
                      children, max_size=4),
    max_leaves=8,
))
def test_arbitrary_json_bodies(client, body):
    """(No image_url keys: random text must never become a DNS lookup.)"""
    _check(client.post("/v2/p0/face-compare", json=body))
    _check(client.post(DETECT, json=body))
