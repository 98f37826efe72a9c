"""The Tencent persons of a face set, for FRS clients (OpenFRS extension): a group made through the
Tencent surface is a face set, and this lists its persons as GetPersonList does, so a console on
the FRS API can show who a set's faces belong to. A set that is no group has none."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from openfrs.api.auth import Principal, authenticate
from openfrs.api.frs_requests import persons_window
from openfrs.store.records import GroupRecord, PersonRecord

router = APIRouter(tags=["faces in face sets"])


def person_info(person: PersonRecord, group: GroupRecord) -> dict[str, object]:
    """One person as the set's group sees it: descriptions by the group's field names ("" unset)."""
    member = next((g for g in person.groups if g.set_key == group.set_key), None)
    values = member.descriptions if member else {}
    return {"person_id": person.person_id, "person_name": person.name, "gender": person.gender,
            "face_ids": [face.face_id for face in person.faces],
            "descriptions": {name: values.get(index, "") for index, name in enumerate(group.descriptions)},
            "create_time": person.created_ms}


@router.get("/v2/{project_id}/face-sets/{face_set_name}/persons",
            summary="List the persons of a face set that is a Tencent group (OpenFRS extension)")
async def list_face_persons(face_set_name: str, request: Request,
                            principal: Principal = Depends(authenticate)) -> dict:
    offset, limit = persons_window(request.query_params)
    face_set, group, persons, total = await request.app.state.person_service.set_members(
        principal.project_id, face_set_name, offset, limit)
    return {"face_set_name": face_set.name, "face_set_id": face_set.face_set_id, "total": total,
            "persons": [person_info(p, group) for p in persons] if group else []}
