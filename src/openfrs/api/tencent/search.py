"""Tencent IAI search and verification over groups (API 2020-03-03) on service/group_search.py:
SearchFaces / SearchPersons (+ ReturnsByGroup), VerifyFace / VerifyPerson. Scores on Tencent's
0-100 scale (service/scores.py); FaceMatchThreshold filters Score >= threshold."""

from __future__ import annotations

from fastapi import Request

from openfrs.api.tencent.actions import Action, rect
from openfrs.api.tencent.fields import (
    FACE_MODEL_VERSION,
    Params,
    encoded_picture,
    flag,
    group_ids,
    identifier,
    image_source,
    integer,
    quality_control,
    threshold,
)
from openfrs.api.tencent.persons import PERSON, membership_infos, search_service
from openfrs.service.group_search import Candidate, GroupSearch
from openfrs.service.scores import similarity_of_tencent_score, tencent_score

VERIFY_MATCH = 60.0  # VerifyFace / VerifyPerson IsMatch: Tencent's fixed threshold (FAR 1e-5)
QUALITY_FAILED = -1601


def _candidate(c: Candidate, person_level: bool, need_info: bool) -> dict[str, object]:
    out: dict[str, object] = {
        "PersonId": c.person.person_id if c.person else None,
        "FaceId": None if person_level else c.face_id,
        "Score": tencent_score(c.similarity),
        "PersonName": None,
        "Gender": None,
        "PersonGroupInfos": None,
    }
    if need_info and c.person is not None:
        out.update(
            PersonName=c.person.name,
            Gender=c.person.gender,
            PersonGroupInfos=membership_infos(c.person.groups),
        )
    return out


async def _search(
    request: Request, params: Params, *, person_level: bool, by_group: bool
) -> dict[str, object]:
    ids = group_ids(params, 60 if by_group else 100)
    max_faces = integer(params, "MaxFaceNum", 1, range(1, 11))
    integer(params, "MinFaceSize", 34, range(0, 4097))
    if by_group:
        limit = integer(
            params, "MaxPersonNumPerGroup", 5, range(1, 11), "InvalidParameterValue.SearchPersonsExceed"
        )
    else:
        limit = integer(params, "MaxPersonNum", 5, range(1, 101), "InvalidParameterValue.SearchPersonsExceed")
    need_info = flag(params, "NeedPersonInfo")
    quality = quality_control(params)
    minimum = threshold(params, "FaceMatchThreshold", 0.0)
    flag(params, "NeedRotateDetection")
    picture = await encoded_picture(request, image_source(params))
    found = await search_service(request).search(
        request.state.project_id,
        ids,
        picture,
        per_person=person_level,
        limit=limit,
        by_group=by_group,
        max_faces=max_faces,
        min_similarity=similarity_of_tencent_score(minimum) if minimum else 0.0,
        quality=quality,
    )
    return _render(found, person_level, by_group, need_info, minimum)


def _render(
    found: GroupSearch, person_level: bool, by_group: bool, need_info: bool, minimum: float
) -> dict[str, object]:
    results = []
    for probe in found.results:
        kept = [c for c in probe.candidates if tencent_score(c.similarity) >= minimum]
        entry: dict[str, object] = {
            "FaceRect": rect(probe.face),
            "RetCode": QUALITY_FAILED if probe.refused else 0,
        }
        if by_group:
            entry["GroupCandidates"] = [
                {
                    "GroupId": g.group_id,
                    "Candidates": [
                        _candidate(c, person_level, need_info) for c in kept if c.group_id == g.group_id
                    ],
                }
                for g in found.groups
            ]
        else:
            entry["Candidates"] = [_candidate(c, person_level, need_info) for c in kept]
        results.append(entry)
    out: dict[str, object] = {
        "FaceModelVersion": FACE_MODEL_VERSION,
        "ResultsReturnsByGroup" if by_group else "Results": results,
    }
    if person_level:
        out["PersonNum"] = 0 if all(p.refused for p in found.results) else found.persons
    else:
        out["FaceNum"] = found.faces
    return out


async def search_faces(request: Request, params: Params) -> dict[str, object]:
    return await _search(request, params, person_level=False, by_group=False)


async def search_faces_by_group(request: Request, params: Params) -> dict[str, object]:
    return await _search(request, params, person_level=False, by_group=True)


async def search_persons(request: Request, params: Params) -> dict[str, object]:
    return await _search(request, params, person_level=True, by_group=False)


async def search_persons_by_group(request: Request, params: Params) -> dict[str, object]:
    return await _search(request, params, person_level=True, by_group=True)


async def _verify(request: Request, params: Params, person_level: bool) -> dict[str, object]:
    person_id = identifier(params, "PersonId", f"{PERSON}Id")
    quality = quality_control(params)
    flag(params, "NeedRotateDetection")
    picture = await encoded_picture(request, image_source(params))
    similarity, _ = await search_service(request).verify(
        request.state.project_id, person_id, picture, per_person=person_level, quality=quality
    )
    score = tencent_score(similarity)
    return {"Score": score, "IsMatch": score >= VERIFY_MATCH, "FaceModelVersion": FACE_MODEL_VERSION}


async def verify_face(request: Request, params: Params) -> dict[str, object]:
    return await _verify(request, params, person_level=False)


async def verify_person(request: Request, params: Params) -> dict[str, object]:
    return await _verify(request, params, person_level=True)


ACTIONS: dict[str, Action] = {
    name: Action(handler, "search")
    for name, handler in (
        ("SearchFaces", search_faces),
        ("SearchFacesReturnsByGroup", search_faces_by_group),
        ("SearchPersons", search_persons),
        ("SearchPersonsReturnsByGroup", search_persons_by_group),
        ("VerifyFace", verify_face),
        ("VerifyPerson", verify_person),
    )
}
