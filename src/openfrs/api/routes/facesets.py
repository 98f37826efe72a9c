"""FRS v2 face-set management: create, list, show, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from openfrs.api.audit import record
from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_json_object
from openfrs.api.frs_requests import face_set_spec
from openfrs.service.facesets import FaceSetService
from openfrs.store.records import FaceSetRecord, GroupRecord

router = APIRouter(tags=["face sets"])


def face_set_info(record: FaceSetRecord, group: GroupRecord | None = None) -> dict[str, object]:
    """FRS FaceSetInfo; the schema is echoed in its request form {name: {"type": t}}.
    Extensions: `recognition_model`, the recogniser every face of the set is embedded with, and
    `group`, only for a set that is a Tencent group (so FRS clients can tell one)."""
    info: dict[str, object] = {
        "face_set_name": record.name,
        "face_set_id": record.face_set_id,
        "create_date": record.created_at,
        "face_set_capacity": record.capacity,
        "face_number": record.face_number,
        "external_fields": {name: {"type": kind} for name, kind in record.external_fields.items()},
        "recognition_model": record.model_version,
    }
    if group is not None:
        info["group"] = {"group_id": group.group_id, "group_name": group.name, "tag": group.tag,
                         "descriptions": list(group.descriptions)}
    return info


def _service(request: Request) -> FaceSetService:
    return request.app.state.face_set_service


@router.post("/v2/{project_id}/face-sets", summary="Create a face set (FRS CreateFaceSet)")
async def create_face_set(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    fields = await read_json_object(request, request.app.state.settings.max_body_bytes)
    created = await _service(request).create(principal.project_id, face_set_spec(fields))
    await record(request, principal, "createFaceSet", f"faceset/{created.name}",
                 {"face_set_id": created.face_set_id, "capacity": created.capacity})
    return {"face_set_info": face_set_info(created)}  # a set FRS creates is never a group


@router.get("/v2/{project_id}/face-sets", summary="List face sets (FRS ShowAllFaceSets)")
async def list_face_sets(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    records = await _service(request).list(principal.project_id)
    groups = await request.app.state.person_service.groups_of_sets([r.key for r in records])
    return {"face_sets_info": [face_set_info(r, groups.get(r.key)) for r in records]}


@router.get("/v2/{project_id}/face-sets/{face_set_name}", summary="Show a face set (FRS ShowFaceSet)")
async def show_face_set(face_set_name: str, request: Request,
                        principal: Principal = Depends(authenticate)) -> dict:
    record = await _service(request).get(principal.project_id, face_set_name)
    groups = await request.app.state.person_service.groups_of_sets([record.key])
    return {"face_set_info": face_set_info(record, groups.get(record.key))}


@router.delete("/v2/{project_id}/face-sets/{face_set_name}",
               summary="Delete a face set and all its faces (FRS DeleteFaceSet)")
async def delete_face_set(face_set_name: str, request: Request,
                          principal: Principal = Depends(authenticate)) -> dict:
    await _service(request).delete(principal.project_id, face_set_name)
    await record(request, principal, "deleteFaceSet", f"faceset/{face_set_name}")
    return {"face_set_name": face_set_name}
