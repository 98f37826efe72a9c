"""The CTyun paths: each operation under all three spellings its manual uses (ctyun.md §1, §7.1).

Order: POST only (else 405, 4007) -> read the body within OPENFRS_MAX_BODY_BYTES (4010) -> verify
the signature -> label the call (project, "ctyun.<operation>") for metrics and usage -> the
project's rights and QPS -> the envelope -> the operation, per item. A refused call is unlabelled
before it is answered, so it never counts as a served call; one over the QPS limit (HTTP 429) is
counted as throttled, as an FRS 429 is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from openfrs.api.auth import OUTCOME_STATUS
from openfrs.api.body import read_limited
from openfrs.api.ctyun import auth
from openfrs.api.ctyun.errors import JSON, SERVICE_FAULT, CtyunError, failure, from_frs, success
from openfrs.api.ctyun.images import envelope_items
from openfrs.api.ctyun.operations import Operation, analyse, compare, detect
from openfrs.errors import FRSError

router = APIRouter(tags=["CTyun"])
log = logging.getLogger("openfrs.api.ctyun")
PREFIXES = ("/face/api/v1", "/api/v1", "/v1")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class Endpoint:
    run: Operation
    service: str  # the FRS sub-service the project must have enabled (service/tenancy.py SERVICES)
    pairs: bool = False  # compare takes [image, image] pairs


ENDPOINTS = {
    "face_detect": Endpoint(detect, "detect"),
    "face_analyse": Endpoint(analyse, "detect"),
    "face_compare": Endpoint(compare, "compare", pairs=True),
}


async def _answer(request: Request, name: str) -> list[dict]:
    if request.method != "POST":
        raise CtyunError(JSON, f"{request.method} is not served; CTyun face calls are POST", 405)
    body = await read_limited(request, request.app.state.settings.max_body_bytes)
    principal = auth.verify(request, body)
    endpoint, api = ENDPOINTS[name], f"ctyun.{name}"
    request.state.project_id, request.state.api = principal.project_id, api  # as api/auth.label_call
    await auth.admit(request, principal, api, endpoint.service)
    return await endpoint.run(request, envelope_items(body, endpoint.pairs))


def _route(name: str):
    async def ctyun_operation(request: Request) -> JSONResponse:
        try:
            return success(await _answer(request, name))
        except CtyunError as error:
            refused = error
        except FRSError as error:
            refused = from_frs(error)
        except Exception:  # noqa: BLE001 - the client gets CTyun's envelope with 5001, not a bare 500
            request_id = getattr(request.state, "request_id", "")
            log.exception("CTyun %s failed (request %s)", name, request_id)
            refused = CtyunError(SERVICE_FAULT, f"internal error; request id {request_id}", 500)
        setattr(request.state, OUTCOME_STATUS, refused.status if refused.status != 200 else 400)
        return failure(refused)
    return ctyun_operation


for _name in ENDPOINTS:
    for _prefix in PREFIXES:
        router.add_api_route(f"{_prefix}/{_name}.json", _route(_name), methods=METHODS,
                             include_in_schema=False, name=f"ctyun_{_name}")
