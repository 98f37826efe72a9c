"""POST /v2/{project_id}/face-detect and /face-compare (FRS v2)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from openfrs.aio import gather_or_cancel
from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_fields, request_image, request_picture
from openfrs.api.render import compare_face, detect_face
from openfrs.service.attributes import parse_attributes
from openfrs.service.faces import FaceService

router = APIRouter(tags=["faces"])

def _service(request: Request) -> FaceService:
    return request.app.state.face_service


@router.post("/v2/{project_id}/face-detect", summary="Detect faces (FRS DetectFace)")
async def face_detect(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    fields = await read_fields(request, request.app.state.settings.max_body_bytes)
    codes = parse_attributes(fields.get("attributes"))
    image = await request_image(request, fields)
    faces = await _service(request).detect(image, codes)
    return {"faces": [detect_face(face, codes) for face in faces]}


@router.post("/v2/{project_id}/face-compare", summary="Compare two faces (FRS CompareFace)")
async def face_compare(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    fields = await read_fields(request, request.app.state.settings.max_body_bytes)
    image1, image2 = await gather_or_cancel(
        request_picture(request, fields, "image1"), request_picture(request, fields, "image2")
    )
    result = await _service(request).compare(image1, image2)
    return {
        "image1_face": compare_face(result.face1),
        "image2_face": compare_face(result.face2),
        "similarity": round(result.similarity, 6),
    }
