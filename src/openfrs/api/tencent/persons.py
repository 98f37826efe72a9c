"""Tencent IAI groups, persons and their faces (API 2020-03-03) on service/persons.py.

Fields are checked here with Tencent's codes; the rules (limits, uniqueness, who is left in no
group) live once in the service, whose refusals dispatch.py maps (errors.from_persons).
"""

from __future__ import annotations

from fastapi import Request

from openfrs.api.tencent.actions import Action, rect
from openfrs.api.tencent.errors import TencentError
from openfrs.api.tencent.fields import (
    FACE_MODEL_VERSION,
    Params,
    encoded_picture,
    face_model_version,
    flag,
    gender,
    group_ids,
    identifier,
    image_source,
    indexed_values,
    integer,
    page,
    quality_control,
    string_list,
    text,
    threshold,
)
from openfrs.errors import FRSError
from openfrs.service.group_search import GroupSearchService
from openfrs.service.persons import GroupSpec, NewPerson, PersonService
from openfrs.service.scores import similarity_at_far, similarity_of_tencent_score
from openfrs.store.records import GroupRecord, MembershipRecord, PersonRecord

GROUP = "InvalidParameterValue.Group"
PERSON = "InvalidParameterValue.Person"
MAX_GROUPS_PER_COPY = 100
UNIQUE_FARS = {1: 1e-2, 2: 1e-3, 3: 1e-4, 4: 1e-5}  # UniquePersonControl -> per-pair FAR
RET_CODES = {"ok": 0, "no_face": -1101, "decode": -1102, "quality": -1601, "not_similar": -1604}


def person_service(request: Request) -> PersonService:
    return request.app.state.person_service


def search_service(request: Request) -> GroupSearchService:
    return request.app.state.group_search_service


def _project(request: Request) -> str:
    return request.state.project_id


def _group_id(params: Params) -> str:
    return identifier(params, "GroupId", f"{GROUP}Id")


def _person_id(params: Params) -> str:
    return identifier(params, "PersonId", f"{PERSON}Id")


def descriptions_list(values: dict[int, str], width: int) -> list[str]:
    return [values.get(index, "") for index in range(max(width, max(values, default=-1) + 1))]


def group_info(group: GroupRecord, updated: bool = False) -> dict[str, object]:
    info: dict[str, object] = {
        "GroupName": group.name,
        "GroupId": group.group_id,
        "GroupExDescriptions": list(group.descriptions),
        "Tag": group.tag,
        "FaceModelVersion": FACE_MODEL_VERSION,
        "CreationTimestamp": group.created_ms,
    }
    if updated:
        info["UpdateTimestamp"] = group.updated_ms
    return info


def membership_infos(groups: tuple[MembershipRecord, ...]) -> list[dict[str, object]]:
    return [
        {"GroupId": g.group_id, "PersonExDescriptions": descriptions_list(g.descriptions, 0)} for g in groups
    ]


# -- groups ------------------------------------------------------------------------------


async def create_group(request: Request, params: Params) -> dict[str, object]:
    name = text(params, "GroupName", max_len=60, min_len=1, code=f"{GROUP}Name", required=True)
    group_id = _group_id(params)
    fields = string_list(params, "GroupExDescriptions")
    if len(fields) > 5:
        raise TencentError(f"{GROUP}ExDescriptionsExceed", "at most 5 GroupExDescriptions")
    for index in range(len(fields)):
        text({"f": fields[index]}, "f", max_len=30, min_len=1, code=f"{GROUP}ExDescriptionsName")
    if len(set(fields)) != len(fields):
        raise TencentError(f"{GROUP}ExDescriptionsNameIdentical", "GroupExDescriptions must differ")
    tag = text(params, "Tag", max_len=40, code=f"{GROUP}Tag") or ""
    face_model_version(params)
    assert name is not None
    await person_service(request).create_group(
        _project(request), GroupSpec(group_id, name, tag, tuple(fields))
    )
    return {"FaceModelVersion": FACE_MODEL_VERSION}


async def delete_group(request: Request, params: Params) -> dict[str, object]:
    await person_service(request).delete_group(_project(request), _group_id(params))
    return {}


async def get_group_info(request: Request, params: Params) -> dict[str, object]:
    return group_info(await person_service(request).group(_project(request), _group_id(params)))


async def get_group_list(request: Request, params: Params) -> dict[str, object]:
    offset, limit = page(params, 1000)
    groups, total = await person_service(request).list_groups(_project(request), offset, limit)
    return {"GroupInfos": [group_info(g, updated=True) for g in groups], "GroupNum": total}


async def modify_group(request: Request, params: Params) -> dict[str, object]:
    group_id = _group_id(params)
    name = text(params, "GroupName", max_len=60, min_len=1, code=f"{GROUP}Name")
    tag = text(params, "Tag", max_len=40, code=f"{GROUP}Tag")
    fields = indexed_values(
        params,
        "GroupExDescriptionInfos",
        "GroupExDescriptionIndex",
        "GroupExDescription",
        limit=5,
        max_len=30,
        code=f"{GROUP}ExDescriptions",
    )
    if any(value == "" for value in fields.values()):
        raise TencentError(f"{GROUP}ExDescriptionsNameIllegal", "a GroupExDescription must not be empty")
    await person_service(request).modify_group(_project(request), group_id, name, tag, fields)
    return {}


# -- persons -----------------------------------------------------------------------------


def _person_descriptions(params: Params) -> dict[int, str]:
    """Tencent names the count's code PersonExDescriptionInfosExceed but a value's
    PersonExDescriptionsNameTooLong / ...Illegal (tencent-iai.md §7)."""
    return indexed_values(
        params,
        "PersonExDescriptionInfos",
        "PersonExDescriptionIndex",
        "PersonExDescription",
        limit=5,
        max_len=60,
        code=f"{PERSON}ExDescriptionInfos",
        value_code=f"{PERSON}ExDescriptionsName",
    )


async def create_person(request: Request, params: Params) -> dict[str, object]:
    group_id = _group_id(params)
    name = text(params, "PersonName", max_len=60, min_len=1, code=f"{PERSON}Name", required=True)
    person_id = _person_id(params)
    sex = gender(params, 0)
    descriptions = _person_descriptions(params)
    unique = integer(
        params, "UniquePersonControl", 0, range(0, 5), "InvalidParameterValue.UniquePersonControlIllegal"
    )
    quality = quality_control(params)
    flag(params, "NeedRotateDetection")
    picture = await encoded_picture(request, image_source(params))
    assert name is not None and sex is not None
    enrolled = await person_service(request).create_person(
        _project(request),
        group_id,
        NewPerson(person_id, name, sex, descriptions),
        picture,
        quality,
        similarity_at_far(UNIQUE_FARS[unique]) if unique else None,
    )
    out: dict[str, object] = {"FaceModelVersion": FACE_MODEL_VERSION, "FaceRect": rect(enrolled.face)}
    if enrolled.person is None:
        return {**out, "SimilarPersonId": enrolled.similar_person_id, "FaceId": None}
    return {**out, "FaceId": enrolled.person.faces[0].face_id, "SimilarPersonId": ""}


async def delete_person(request: Request, params: Params) -> dict[str, object]:
    await person_service(request).delete_person(_project(request), _person_id(params))
    return {}


async def delete_person_from_group(request: Request, params: Params) -> dict[str, object]:
    person_id, group_id = _person_id(params), _group_id(params)
    await person_service(request).leave_group(_project(request), person_id, group_id)
    return {}


async def get_person_base_info(request: Request, params: Params) -> dict[str, object]:
    person = await person_service(request).person(_project(request), _person_id(params))
    return {"PersonName": person.name, "Gender": person.gender, "FaceIds": [f.face_id for f in person.faces]}


async def get_person_group_info(request: Request, params: Params) -> dict[str, object]:
    person_id = _person_id(params)
    offset, limit = page(params, 100)
    person = await person_service(request).person(_project(request), person_id)
    return {
        "PersonGroupInfos": membership_infos(person.groups[offset : offset + limit]),
        "GroupNum": len(person.groups),
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


def _person_info(person: PersonRecord, group: GroupRecord) -> dict[str, object]:
    member = next((g for g in person.groups if g.set_key == group.set_key), None)
    return {
        "PersonName": person.name,
        "PersonId": person.person_id,
        "Gender": person.gender,
        "PersonExDescriptions": descriptions_list(
            member.descriptions if member else {}, len(group.descriptions)
        ),
        "FaceIds": [f.face_id for f in person.faces],
        "CreationTimestamp": person.created_ms,
    }


async def get_person_list(request: Request, params: Params) -> dict[str, object]:
    group_id = _group_id(params)
    offset, limit = page(params, 1000)
    group, persons, person_num, face_num = await person_service(request).group_members(
        _project(request), group_id, offset, limit
    )
    return {
        "PersonInfos": [_person_info(p, group) for p in persons],
        "PersonNum": person_num,
        "FaceNum": face_num,
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


async def get_person_list_num(request: Request, params: Params) -> dict[str, object]:
    persons, faces = await person_service(request).group_counts(_project(request), _group_id(params))
    return {"PersonNum": persons, "FaceNum": faces}


async def modify_person_base_info(request: Request, params: Params) -> dict[str, object]:
    person_id = _person_id(params)
    name = text(params, "PersonName", max_len=60, min_len=1, code=f"{PERSON}Name")
    sex = gender(params, None, (1, 2))
    await person_service(request).modify_person(_project(request), person_id, name, sex)
    return {}


async def modify_person_group_info(request: Request, params: Params) -> dict[str, object]:
    group_id, person_id = _group_id(params), _person_id(params)
    if params.get("PersonExDescriptionInfos") is None:
        raise TencentError("MissingParameter", "PersonExDescriptionInfos is required")
    descriptions = _person_descriptions(params)
    await person_service(request).modify_membership(_project(request), person_id, group_id, descriptions)
    return {}


async def copy_person(request: Request, params: Params) -> dict[str, object]:
    person_id = _person_id(params)
    ids = group_ids(params, MAX_GROUPS_PER_COPY)
    joined = await person_service(request).copy_person(_project(request), person_id, ids)
    return {"SucGroupNum": len(joined), "SucGroupIds": joined}


# -- faces -------------------------------------------------------------------------------


async def create_face(request: Request, params: Params) -> dict[str, object]:
    """A status per image (RetCode): -1101 no face, -1102 unreadable, -1601 quality, -1604 not
    similar enough to the person's faces; the accepted ones are stored together."""
    person_id = _person_id(params)
    urls, images = string_list(params, "Urls"), string_list(params, "Images")
    sources = (
        [image_source({"Url": u}) for u in urls] if urls else [image_source({"Image": i}) for i in images]
    )
    if not sources:
        raise TencentError("InvalidParameterValue.ImageEmpty", "give Images (base64) or Urls")
    if len(sources) > 4:
        raise TencentError("InvalidParameterValue.UploadFaceNumExceed", "at most 4 images per call")
    minimum = threshold(params, "FaceMatchThreshold", 60.0)
    quality = quality_control(params)
    flag(params, "NeedRotateDetection")
    service = person_service(request)
    await service.person(_project(request), person_id)  # an unknown person before any download
    pictures = []
    for source in sources:
        try:
            pictures.append(await encoded_picture(request, source))
        except FRSError:
            pictures.append(None)
    outcomes = await service.add_faces(
        _project(request), person_id, pictures, quality, similarity_of_tencent_score(minimum)
    )
    ok = [(i, o) for i, o in enumerate(outcomes) if o.status == "ok"]
    return {
        "SucFaceNum": len(ok),
        "SucFaceIds": [o.face_id for _, o in ok],
        "RetCode": [RET_CODES[o.status] for o in outcomes],
        "SucIndexes": [i for i, _ in ok],
        "SucFaceRects": [rect(o.face) for _, o in ok],
        "FaceModelVersion": FACE_MODEL_VERSION,
    }


async def delete_face(request: Request, params: Params) -> dict[str, object]:
    person_id = _person_id(params)
    face_ids = string_list(params, "FaceIds", required=True)
    gone = await person_service(request).delete_faces(_project(request), person_id, face_ids)
    return {"SucDeletedNum": len(gone), "SucFaceIds": gone}


ACTIONS: dict[str, Action] = {
    name: Action(handler, "search")
    for name, handler in (
        ("CreateGroup", create_group),
        ("DeleteGroup", delete_group),
        ("GetGroupList", get_group_list),
        ("GetGroupInfo", get_group_info),
        ("ModifyGroup", modify_group),
        ("CreatePerson", create_person),
        ("DeletePerson", delete_person),
        ("DeletePersonFromGroup", delete_person_from_group),
        ("GetPersonList", get_person_list),
        ("GetPersonListNum", get_person_list_num),
        ("GetPersonBaseInfo", get_person_base_info),
        ("GetPersonGroupInfo", get_person_group_info),
        ("ModifyPersonBaseInfo", modify_person_base_info),
        ("ModifyPersonGroupInfo", modify_person_group_info),
        ("CopyPerson", copy_person),
        ("CreateFace", create_face),
        ("DeleteFace", delete_face),
    )
}

# Actions that change stored data: audited (api/audit.py) under the action's name.
CHANGES = frozenset({
    "CreateGroup", "DeleteGroup", "ModifyGroup", "CreatePerson", "DeletePerson", "DeletePersonFromGroup",
    "ModifyPersonBaseInfo", "ModifyPersonGroupInfo", "CopyPerson", "CreateFace", "DeleteFace",
})


def resource(params: Params) -> str:
    """What an audited change touched: the person and/or group, as the request named them."""
    parts = [f"{kind}/{params[name]}" for kind, name in (("person", "PersonId"), ("group", "GroupId"))
             if isinstance(params.get(name), str)]
    return ",".join(parts)[:200]
