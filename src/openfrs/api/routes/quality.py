"""The legacy FRS v1 quality APIs, served under /v1 and /v2 as the old SDKs call them.

POST .../face/quality/face-quality      -> {"blur": {"isClarity": bool}, "pose": {yaw, roll, pitch}}
POST .../face/quality/blur-classify     -> {"isClarity": bool}
POST .../face/quality/head-pose-estimate -> {"yaw", "roll", "pitch"}

Field names follow the legacy SDKs' result classes (FaceQualityResult, BlurClassifyResult,
HeadPoseEstimateResult). The image comes as `image_base64` or `image_url` (the SDKs send JSON
only); the largest face is judged, FRS.0501 when there is none. Angles are degrees in the
conventions of face-detect's attribute 0 (vision/headpose.py); "clear" is the blur limit of the
HIGH quality gate (service/quality_gate.py), so the two never disagree.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_fields, request_image
from openfrs.service.attributes import HEAD_POSE, QUALITY
from openfrs.service.quality_gate import is_clear
from openfrs.vision.types import Face

router = APIRouter(tags=["quality (legacy v1)"])


async def _largest_face(request: Request, codes: frozenset[int]) -> Face:
    fields = await read_fields(request, request.app.state.settings.max_body_bytes)
    image = await request_image(request, fields)
    faces = await request.app.state.face_service.detect(image, codes)  # largest first
    return faces[0]


def _clarity(face: Face) -> dict[str, bool]:
    return {"isClarity": is_clear(face.extras["quality"])}


def _pose(face: Face) -> dict[str, float]:
    yaw, pitch, roll = (round(float(a), 2) for a in face.extras["head_pose"])
    return {"yaw": yaw, "roll": roll, "pitch": pitch}


async def face_quality(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """Blur and head pose of the largest face."""
    face = await _largest_face(request, frozenset({QUALITY, HEAD_POSE}))
    return {"blur": _clarity(face), "pose": _pose(face)}


async def blur_classify(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """Is the largest face sharp?"""
    return _clarity(await _largest_face(request, frozenset({QUALITY})))


async def head_pose_estimate(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """Head pose of the largest face."""
    return _pose(await _largest_face(request, frozenset({HEAD_POSE})))


for _version in ("v1", "v2"):
    for _endpoint in (face_quality, blur_classify, head_pose_estimate):
        _name = _endpoint.__name__.replace("_", "-")
        router.add_api_route(f"/{_version}/{{project_id}}/face/quality/{_name}", _endpoint,
                             methods=["POST"], operation_id=f"{_endpoint.__name__}_{_version}",
                             summary=f"{_endpoint.__doc__} (legacy FRS v1 API)")
