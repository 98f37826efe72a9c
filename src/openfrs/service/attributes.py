"""The FRS `attributes` of face-detect: which codes a caller asked for, and what we measure.

FRS has used codes 0-13 and 21 over the years and clients send any of them, so unknown codes are
ignored rather than refused. Only what a shipped model measures is computed (docs/attributes.md
says which, with the accuracy measured); the API reports every other asked-for attribute as
`unknown` (strings) or null (numbers), never a guess.
"""

from __future__ import annotations

import re

import numpy as np

from openfrs.errors import FRSError
from openfrs.vision.headpose import head_pose
from openfrs.vision.pipeline import FacePipeline
from openfrs.vision.quality import face_quality
from openfrs.vision.types import Face

KNOWN_ATTRIBUTE_CODES = frozenset({*range(0, 14), 21})
MAX_ATTRIBUTES_LENGTH = 256
_CODE = re.compile(r"[0-9]{1,3}")  # ASCII digits only: "²" or "١" are not codes

HEAD_POSE, GENDER, AGE, LANDMARKS, DRESS, SMILE, MASK, HAIR, BEARD, SKIN, ETHNIC = range(11)
PHOTO_TYPE, QUALITY, EXPRESSION, FACE_ANGLE = 11, 12, 13, 21
NEEDS_MESH = frozenset({HEAD_POSE, QUALITY})


def parse_attributes(value: object) -> frozenset[int]:
    """`attributes` is a comma-separated list of integer codes, e.g. "1,2,21"."""
    if value is None or value == "":
        return frozenset()
    if not isinstance(value, str):
        raise FRSError("FRS.0012", "attributes must be a comma-separated string of codes")
    if len(value) > MAX_ATTRIBUTES_LENGTH:
        raise FRSError("FRS.0012", f"attributes is longer than {MAX_ATTRIBUTES_LENGTH} characters")
    codes = set()
    for token in value.split(","):
        token = token.strip()
        if not token:
            continue
        if not _CODE.fullmatch(token):
            raise FRSError("FRS.0012", f"attributes: {token[:20]!r} is not a code")
        codes.add(int(token))
    return frozenset(codes & KNOWN_ATTRIBUTE_CODES)


def measure(pipeline: FacePipeline, image: np.ndarray, faces: list[Face], codes: frozenset[int]) -> None:
    """Run the models the asked-for codes need on `faces` (upright image coordinates), storing
    results in `face.extras` ("head_pose": (yaw, pitch, roll) degrees, "quality": Quality,
    "age_gender": AgeGender).
    Blocking."""
    if codes & NEEDS_MESH:
        pipeline.mesh.landmarks(image, faces)
        for face in faces:
            face.extras["head_pose"] = head_pose(face)
    if codes & {AGE, GENDER}:
        pipeline.age_gender(image, faces)
    if QUALITY in codes:
        pipeline.landmarks(image, faces)  # the face patch is cut from the 68-point shape
        for face in faces:
            face.extras["quality"] = face_quality(image, face)
