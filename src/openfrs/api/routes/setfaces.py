"""FRS v2 faces in a face set: add, list/show, delete, search."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from openfrs.api.audit import record
from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_fields, read_json_object, request_picture
from openfrs.api.frs_requests import (
    batch_filter,
    delete_by,
    face_update,
    list_filter,
    list_window,
    new_faces,
    search_params,
)
from openfrs.api.render import bounding_box, bounding_box_of
from openfrs.errors import FRSError
from openfrs.service.setfaces import SetFaceService
from openfrs.store.records import FaceRecord, FaceSetRecord

router = APIRouter(tags=["faces in face sets"])
FACES = "/v2/{project_id}/face-sets/{face_set_name}/faces"
IMAGE_FIELDS = ("image_base64", "image_url", "image_file")


def set_face(face: FaceRecord, return_fields: list[str] | None = None,
             person_id: str | None = None) -> dict[str, object]:
    """FRS SetFace; `person_id` (extension) only for a face of a Tencent person in the set."""
    fields = face.fields if return_fields is None else {
        k: v for k, v in face.fields.items() if k in return_fields}
    out: dict[str, object] = {"bounding_box": bounding_box_of(*face.bounding_box),
                              "external_image_id": face.external_image_id, "external_fields": fields,
                              "face_id": face.face_id}
    if person_id is not None:
        out["person_id"] = person_id
    return out


async def person_ids(request: Request, face_set: FaceSetRecord,
                     faces: list[FaceRecord]) -> dict[str, str]:
    """face_id -> PersonId of the reply's faces that are a person's, in one look-up."""
    return await request.app.state.person_service.face_person_ids(face_set.key, [f.face_id for f in faces])


async def _faces_reply(request: Request, face_set: FaceSetRecord,
                       faces: list[FaceRecord]) -> dict[str, object]:
    persons = await person_ids(request, face_set, faces)
    return {"face_set_id": face_set.face_set_id, "face_set_name": face_set.name,
            "faces": [set_face(f, person_id=persons.get(f.face_id)) for f in faces]}


def _service(request: Request) -> SetFaceService:
    return request.app.state.set_face_service


@router.post(FACES, summary="Add the faces of an image to a face set (FRS AddFaces)")
async def add_faces(face_set_name: str, request: Request,
                    principal: Principal = Depends(authenticate)) -> dict:
    fields = await read_fields(request, request.app.state.settings.max_body_bytes)
    image = await request_picture(request, fields)
    added = await _service(request).add(principal.project_id, face_set_name, image, new_faces(fields))
    await record(request, principal, "addFaces", f"faceset/{face_set_name}",
                 {"face_ids": [f.face_id for f in added.faces]})
    reply = await _faces_reply(request, added.face_set, added.faces)
    if added.filtered:  # extension, only when a quality_filter was asked for
        reply["unindexed_faces"] = [{"bounding_box": bounding_box(face), "reasons": reasons}
                                    for face, reasons in added.refused]
    return reply


@router.get(FACES, summary="List faces (all, or those a filter matches), or show one by face_id "
                           "(FRS ShowFaces)")
async def show_faces(face_set_name: str, request: Request,
                     principal: Principal = Depends(authenticate)) -> dict:
    query = request.query_params
    if "face_id" in query:
        face_set, face = await _service(request).show(principal.project_id, face_set_name,
                                                      query["face_id"])
        return await _faces_reply(request, face_set, [face])
    face_set, faces = await _service(request).list(principal.project_id, face_set_name,
                                                   *list_window(query), list_filter(query))
    return await _faces_reply(request, face_set, faces)


def _count_reply(face_set: FaceSetRecord, count: int) -> dict[str, object]:
    return {"face_number": count, "face_set_id": face_set.face_set_id,
            "face_set_name": face_set.name}


@router.delete(FACES, summary="Delete faces by face_id, external_image_id or a field value "
                              "(FRS DeleteFaceByFaceId / ByExternalImageId)")
async def delete_faces(face_set_name: str, request: Request,
                       principal: Principal = Depends(authenticate)) -> dict:
    face_set, deleted = await _service(request).delete(principal.project_id, face_set_name,
                                                       *delete_by(request.query_params))
    await record(request, principal, "deleteFaces", f"faceset/{face_set_name}",
                 {"query": dict(request.query_params), "deleted": deleted})
    return _count_reply(face_set, deleted)


@router.delete(FACES + "/batch", summary="Delete every face matching a filter (FRS BatchDeleteFaces)")
async def batch_delete_faces(face_set_name: str, request: Request,
                             principal: Principal = Depends(authenticate)) -> dict:
    body = await read_json_object(request, request.app.state.settings.max_body_bytes)
    face_set, deleted = await _service(request).delete_by_filter(principal.project_id, face_set_name,
                                                                 batch_filter(body))
    await record(request, principal, "batchDeleteFaces", f"faceset/{face_set_name}",
                 {"filter": body.get("filter"), "deleted": deleted})
    return _count_reply(face_set, deleted)


@router.put(FACES, summary="Update a face's external_image_id or fields (FRS UpdateFace)")
async def update_face(face_set_name: str, request: Request,
                      principal: Principal = Depends(authenticate)) -> dict:
    body = await read_json_object(request, request.app.state.settings.max_body_bytes)
    face_set = await _service(request).update(principal.project_id, face_set_name, face_update(body))
    await record(request, principal, "updateFace", f"faceset/{face_set_name}",
                 {"face_id": body.get("face_id")})
    return _count_reply(face_set, 1)


@router.post("/v2/{project_id}/face-sets/{face_set_name}/search",
             summary="Search a face set by image or face_id (FRS SearchFace)")
async def search_faces(face_set_name: str, request: Request,
                       principal: Principal = Depends(authenticate)) -> dict:
    fields = dict(await read_fields(request, request.app.state.settings.max_body_bytes))
    params = search_params(fields)
    image = None
    if any(fields.get(name) not in (None, "") for name in IMAGE_FIELDS):
        if params.face_id:
            raise FRSError("FRS.0012", "give an image or a face_id, not both")
        image = await request_picture(request, fields)
    elif not params.face_id:
        raise FRSError("FRS.0011", "image_base64, image_url, image_file or face_id")
    face_set, hits = await _service(request).search_set(principal.project_id, face_set_name,
                                                        params, image)
    persons = await person_ids(request, face_set, [h.face for h in hits])
    return {"faces": [{**set_face(h.face, params.return_fields, persons.get(h.face.face_id)),
                       "similarity": round(h.similarity, 6)} for h in hits]}
