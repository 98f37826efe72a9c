"""FRS liveness: POST /v1|v2/{project_id}/live-detect (action liveness on a short video) and
POST /v1|v2/{project_id}/live-detect-face (silent liveness on one image).

The video comes as `video_base64`, `video_url` or a multipart `video_file`; `actions`,
`action_time`, `nod_threshold` as FRS takes them (service/action_liveness.py). Undecodable
data is FRS.0701 on /v1 and FRS.0751 on /v2, as Huawei's two regions answer.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request

from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_fields, request_image
from openfrs.errors import FRSError
from openfrs.media import load_source_bytes, pick_image_source
from openfrs.media.video import decode_video
from openfrs.service import silent_liveness
from openfrs.service.action_liveness import WARNINGS, ActionResult, check_actions, parse_request

router = APIRouter(tags=["liveness"])
PARSE_ERRORS = {"v1": "FRS.0701", "v2": "FRS.0751"}


def _warning_list(codes: list[int], messages: dict[int, str]) -> list[dict[str, object]]:
    return [{"warningCode": code, "warningMsg": messages[code]} for code in codes]


def render(result: ActionResult) -> dict[str, object]:
    """FRS's answer: hyphenated keys and camelCase warning fields, as the SDKs parse them, plus
    the OpenFRS extension `blink_count` in `video-result` (the SDKs skip keys they do not know)."""
    return {"video-result": {"alive": result.alive, "actions": result.actions, "picture": result.picture,
                             "blink_count": result.blink_count},
            "warning-list": _warning_list(result.warnings, WARNINGS)}


def render_silent(result: silent_liveness.SilentResult) -> dict[str, object]:
    return {"result": {"alive": result.alive, "confidence": result.confidence, "picture": result.picture},
            "warning-list": _warning_list(result.warnings, silent_liveness.WARNINGS)}


async def _video_bytes(request: Request, fields, parse_error: str) -> bytes:
    try:
        return await load_source_bytes(pick_image_source(fields, "video"), request.app.state.settings)
    except FRSError as error:
        if error.code == "FRS.0015":  # base64 that is not base64: the video cannot be parsed
            raise FRSError(parse_error, "the base64 data is invalid") from None
        raise


async def _live_detect(request: Request, parse_error: str) -> dict:
    fields = await read_fields(request, request.app.state.settings.max_body_bytes)
    wanted = parse_request(fields.get("actions"), fields.get("action_time"), fields.get("nod_threshold"))
    data = await _video_bytes(request, fields, parse_error)
    video = await asyncio.to_thread(decode_video, data, parse_error)
    service = request.app.state.face_service
    result = await service.pool.run(check_actions, service.pipeline, video, wanted)
    return render(result)


def _endpoint(parse_error: str):
    """The route for one API version: its parse-error code is fixed here, not read off the URL."""
    async def live_detect(request: Request, principal: Principal = Depends(authenticate)) -> dict:
        """Action liveness on a 1-15 s video."""
        return await _live_detect(request, parse_error)
    return live_detect


for _version, _parse_error in PARSE_ERRORS.items():
    router.add_api_route(f"/{_version}/{{project_id}}/live-detect", _endpoint(_parse_error), methods=["POST"],
                         operation_id=f"live_detect_{_version}", summary="Action liveness (FRS DetectLive)")


async def live_detect_face(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """Silent liveness of the largest face in one image (FRS.0707 when there is none)."""
    fields = await read_fields(request, request.app.state.settings.max_body_bytes)
    image = await request_image(request, fields)
    service = request.app.state.face_service
    return render_silent(await service.pool.run(silent_liveness.check_image, service, image))


for _version in PARSE_ERRORS:
    router.add_api_route(f"/{_version}/{{project_id}}/live-detect-face", live_detect_face, methods=["POST"],
                         operation_id=f"live_detect_face_{_version}",
                         summary="Silent liveness (FRS DetectLiveFace)")
