"""The three CTyun operations over the shared face service, one result per item, in order.

Detect (face_list of location + face_probability), attributes (age, and gender "M"/"F" only
where docs/attributes.md's rule answers it: otherwise the key is absent, never a guess) and
compare (largest face of each image, as FRS). `pic_quality` is 0 when at least one face (for
compare: both faces) passes OpenFRS's LOW quality gate (service/quality_gate.py), 1 otherwise,
and 1 for an image without a face (ctyun.md §3, §7.14).

A batch runs its images concurrently on the inference workers, at most one job per worker for
this request (so one batch cannot fill the shared queue and refuse other calls).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import Request

from openfrs.aio import gather_or_cancel
from openfrs.api.ctyun.errors import INCOMPLETE, CtyunError, ItemError, picture_error
from openfrs.api.ctyun.images import load_picture
from openfrs.api.ctyun.scores import confidence, same_person
from openfrs.errors import FRSError
from openfrs.media.picture import EncodedPicture
from openfrs.service.attributes import AGE, GENDER, QUALITY
from openfrs.service.faces import FaceService, largest
from openfrs.service.quality_gate import Limits, parse_quality_filter, refusal_reasons
from openfrs.vision.types import Face

Operation = Callable[[Request, list], Awaitable[list[dict]]]
GATE = parse_quality_filter("LOW")
_INF = float("inf")
MEASURE_ONLY = Limits(0.0, -_INF, _INF, _INF, _INF, _INF, -_INF)  # quality measured, nothing refused
NO_FACE_LIST: dict[str, object] = {"face_list": [], "pic_quality": 1}
NO_MATCH: dict[str, object] = {"face_compare": "false", "confidence": 0.0, "pic_quality": 1}


def _service(request: Request) -> FaceService:
    return request.app.state.face_service


def _gate(request: Request) -> asyncio.Semaphore:
    return asyncio.Semaphore(max(1, request.app.state.settings.inference_workers))


async def _each(items: list, one: Callable[[object], Awaitable[dict]], refused: dict) -> list[dict]:
    """`one` on every item concurrently, in order; an ItemError answers its item only."""
    async def answered(item: object) -> dict:
        try:
            return await one(item)
        except ItemError as error:
            return {**refused, "code": error.code, "message": error.message}
    return await gather_or_cancel(*(answered(item) for item in items))


def _passes(face: Face) -> bool:
    if "quality" not in face.extras:
        raise CtyunError(INCOMPLETE, "the quality model gave no answer for a face", 500)
    return not refusal_reasons(face, GATE)


def _pic_quality(faces: list[Face]) -> int:
    return 0 if faces and any([_passes(face) for face in faces]) else 1


def _location(face: Face) -> dict[str, int]:
    box = face.box
    return {"left": int(round(box.x1)), "top": int(round(box.y1)),
            "width": int(round(box.width)), "height": int(round(box.height))}


def _detected(face: Face) -> dict[str, object]:
    return {"location": _location(face), "face_probability": round(float(face.score), 4)}


def _analysed(face: Face) -> dict[str, object]:
    out: dict[str, object] = {}
    estimate = face.extras.get("age_gender")
    if estimate is not None:
        out["age"] = int(round(estimate.age))
        if estimate.gender_is_answered:
            out["gender"] = "F" if estimate.p_female >= 0.5 else "M"
    out["location"] = _location(face)
    return out


def _faces_blocking(service: FaceService, picture: EncodedPicture, codes: frozenset[int]) -> list[Face]:
    try:
        pixels = picture.full()
    except FRSError as error:
        raise picture_error(error) from None
    return service.detect_blocking(pixels, codes)


def _face_lists(codes: frozenset[int], render: Callable[[Face], dict]) -> Operation:
    async def operation(request: Request, items: list) -> list[dict]:
        service, gate = _service(request), _gate(request)

        async def one(item: object) -> dict:
            picture = await load_picture(request, str(item))
            async with gate:
                faces = await service.pool.run(_faces_blocking, service, picture, codes)
            return {"face_list": [render(face) for face in faces], "pic_quality": _pic_quality(faces)}
        return await _each(items, one, NO_FACE_LIST)
    return operation


detect = _face_lists(frozenset({QUALITY}), _detected)
analyse = _face_lists(frozenset({QUALITY, AGE, GENDER}), _analysed)


async def compare(request: Request, items: list) -> list[dict]:
    service, gate = _service(request), _gate(request)

    async def one(pair: object) -> dict:
        first, second = await gather_or_cancel(*(load_picture(request, image) for image in pair))
        try:
            async with gate:
                result = await service.compare(first, second, largest, MEASURE_ONLY, ("image 1", "image 2"))
        except FRSError as error:
            if error.code == "FRS.0501":
                return dict(NO_MATCH)
            raise picture_error(error) from None
        faces = [result.face1, result.face2]
        return {"face_compare": "true" if same_person(result.similarity) else "false",
                "confidence": confidence(result.similarity),
                "pic_quality": 0 if all([_passes(face) for face in faces]) else 1}
    return await _each(items, one, NO_MATCH)
