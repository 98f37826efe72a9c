"""Tencent IAI actions (API 2020-03-03): request fields -> service calls -> response fields.

Only what we measure is answered: DetectFace's FaceAttributesInfo carries Age, Gender and the head
pose, FaceQualityInfo the quality Score and Sharpness; every other Tencent attribute (Expression,
Glass, Beauty, Hat, Mask, Hair, EyeOpen, Brightness, Completeness) is absent, never a made-up zero.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from openfrs.aio import gather_or_cancel
from openfrs.api.tencent.errors import TencentError
from openfrs.api.tencent.fields import (
    Params,
    decoded_image,
    encoded_picture,
    face_model_version,
    flag,
    image_source,
    integer,
    quality_control,
)
from openfrs.service.attributes import AGE, GENDER, HEAD_POSE, QUALITY
from openfrs.service.faces import FaceService, largest, most_confident
from openfrs.service.scores import tencent_score
from openfrs.vision.types import Face

Handler = Callable[[Request, Params], Awaitable[dict[str, object]]]
MAX_DETECT_FACES = 120
MIN_FACE_SIZES = (34, 20)  # DetectFace accepts these two only


@dataclass(frozen=True)
class Action:
    handler: Handler
    service: str  # the FRS sub-service the project must have enabled (service/tenancy.py SERVICES)


def _faces(request: Request) -> FaceService:
    return request.app.state.face_service


def rect(face: Face) -> dict[str, int]:
    box = face.box
    return {"X": int(round(box.x1)), "Y": int(round(box.y1)),
            "Width": int(round(box.width)), "Height": int(round(box.height))}


def _attributes(face: Face) -> dict[str, object]:
    """Tencent's Gender is 0-100 (below 50: female): 100 x P(male), given only where our answer
    clears the gender cut (docs/attributes.md); angles in degrees as face-detect reports them."""
    out: dict[str, object] = {}
    estimate = face.extras.get("age_gender")
    if estimate is not None:
        out["Age"] = int(round(estimate.age))
        if estimate.gender_is_answered:
            out["Gender"] = int(round(100 * (1.0 - estimate.p_female)))
    if "head_pose" in face.extras:
        yaw, pitch, roll = (int(round(float(a))) for a in face.extras["head_pose"])
        out.update(Pitch=pitch, Yaw=yaw, Roll=roll)
    return out


def _quality(face: Face) -> dict[str, object]:
    """Score = 100 x our total quality score and Sharpness = 100 x (1 - blur) (vision/quality.py);
    our scale, not fitted to Tencent's bands."""
    quality = face.extras.get("quality")
    if quality is None:
        return {}
    return {"Score": int(round(100 * quality.total_score)), "Sharpness": int(round(100 * (1 - quality.blur)))}


async def detect_face(request: Request, params: Params) -> dict[str, object]:
    max_faces = integer(params, "MaxFaceNum", 1, range(1, MAX_DETECT_FACES + 1))
    min_size = integer(params, "MinFaceSize", MIN_FACE_SIZES[0], MIN_FACE_SIZES)
    want_attributes, want_quality = flag(params, "NeedFaceAttributes"), flag(params, "NeedQualityDetection")
    flag(params, "NeedRotateDetection")  # checked; orientation is always searched (vision/orientation.py)
    version = face_model_version(params)
    image = await decoded_image(request, image_source(params))
    codes = frozenset({AGE, GENDER, HEAD_POSE} if want_attributes else ()) | (
        frozenset({QUALITY}) if want_quality else frozenset())
    faces = await _faces(request).detect(image, codes, limit=max_faces)
    faces = [face for face in faces if min(face.box.width, face.box.height) >= min_size]
    if not faces:
        raise TencentError("FailedOperation.FaceSizeTooSmall", f"no face of {min_size} px or more")
    infos = []
    for face in faces:
        info: dict[str, object] = rect(face)
        if want_attributes:
            info["FaceAttributesInfo"] = _attributes(face)
        if want_quality:
            info["FaceQualityInfo"] = _quality(face)
        infos.append(info)
    height, width = image.shape[:2]
    return {"ImageWidth": int(width), "ImageHeight": int(height), "FaceInfos": infos,
            "FaceModelVersion": version}


async def compare_face(request: Request, params: Params) -> dict[str, object]:
    """Score on Tencent's 0-100 scale at the same false-accept rates (service/scores.py)."""
    quality = quality_control(params)
    strategy = integer(params, "FaceMatchingStrategy", 0, (0, 1))
    flag(params, "NeedRotateDetection")
    version = face_model_version(params)
    sources = image_source(params, "ImageA", "UrlA"), image_source(params, "ImageB", "UrlB")
    picture_a, picture_b = await gather_or_cancel(*(encoded_picture(request, s) for s in sources))
    choose = largest if strategy == 1 else most_confident
    result = await _faces(request).compare(picture_a, picture_b, choose, quality, ("ImageA", "ImageB"))
    return {"Score": tencent_score(result.similarity), "FaceModelVersion": version}


ACTIONS: dict[str, Action] = {
    "DetectFace": Action(detect_face, "detect"),
    "CompareFace": Action(compare_face, "compare"),
}
