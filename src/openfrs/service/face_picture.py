"""The `picture` field of the liveness answers: a base64 JPEG of one face with some margin."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from openfrs.vision.types import Box

MARGIN = 0.25  # of the face's larger side, on every side


def face_picture(image: np.ndarray, box: Box) -> str:
    """Base64 JPEG (quality 90) of `box` grown by MARGIN, cut to the image."""
    margin = MARGIN * max(box.width, box.height)
    x1, y1 = max(int(box.x1 - margin), 0), max(int(box.y1 - margin), 0)
    x2, y2 = min(int(box.x2 + margin), image.shape[1]), min(int(box.y2 + margin), image.shape[0])
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image[y1:y2, x1:x2])).save(buffer, "JPEG", quality=90)
    return base64.b64encode(buffer.getvalue()).decode()
