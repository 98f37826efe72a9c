"""/ for the Tencent IAI surface: one route, dispatched on X-TC-Action (API 2020-03-03).

POST carries the fields as a JSON body; GET (`HttpProfile(reqMethod="GET")`) as the SDK's
flattened query with an empty body (query.py); any other method is UnsupportedProtocol.
Order: read the body (within the size limit) -> verify the TC3 signature -> the action and
version -> label the call (project, "iai.<Action>") for metrics and usage -> the project's
rights and QPS -> parse the JSON body or the query -> run the action. Every refusal is Tencent's
error envelope with HTTP 200 (the SDK reads codes only from a 200), never a 5xx for bad input,
its Message in the caller's X-TC-Language (messages.py).

Every answer here is an HTTP 200, so a refusal leaves the status an FRS call refused the same
way would get in the request state (api/auth.OUTCOME_STATUS: 400, 429 for the QPS limit, 500),
which usage and metrics count by: it is never billed as a successful call, it counts as an
error_4xx (or error_5xx), and one refused by the QPS limit is counted as throttled.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from openfrs.api import audit
from openfrs.api.body import read_limited
from openfrs.api.tencent import actions, auth, liveness, persons, query, search
from openfrs.api.tencent.errors import TencentError, failure, from_frs, from_persons, success
from openfrs.errors import FRSError
from openfrs.service.persons import PersonError

router = APIRouter(tags=["Tencent IAI"])
log = logging.getLogger("openfrs.api.tencent")
VERSIONS = ("2020-03-03",)
THROTTLED = "RequestLimitExceeded"
ACTIONS = {**actions.ACTIONS, **liveness.ACTIONS, **persons.ACTIONS, **search.ACTIONS}
SERVED_METHODS = ("GET", "POST")
REFUSED_METHODS = ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]  # an envelope, not a 405 page


def _params(body: bytes) -> dict:
    try:
        params = json.loads(body or b"{}", parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TencentError("InvalidParameter", "the body is not valid JSON") from None
    if not isinstance(params, dict):
        raise TencentError("InvalidParameter", "the body must be a JSON object")
    return params


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _query_params(request: Request, body: bytes) -> dict:
    """A GET's fields: the raw query string as signed, unflattened; its body must be empty."""
    if body:
        raise TencentError("InvalidParameter", "a GET request carries its fields in the query; "
                           "the body must be empty")
    return query.unflatten(request.scope.get("query_string", b"").decode("latin-1"))


def _action(request: Request) -> str:
    name = request.headers.get(auth.ACTION_HEADER, "")
    if name not in ACTIONS:
        raise TencentError("InvalidAction", f"the action {name[:64]!r} is not served "
                           f"(served: {', '.join(ACTIONS)})")
    version = request.headers.get("x-tc-version", "")
    if version not in VERSIONS:
        raise TencentError("NoSuchVersion", f"version {version[:20]!r}; served: {', '.join(VERSIONS)}")
    return name


async def _answer(request: Request) -> dict[str, object]:
    if request.method not in SERVED_METHODS:
        raise TencentError("UnsupportedProtocol", f"{request.method[:10]} is not served: "
                           "Tencent Cloud API 3.0 takes GET and POST only")
    body = await read_limited(request, request.app.state.settings.max_body_bytes)
    principal = auth.verify(request, body)
    name = _action(request)
    api = f"iai.{name}"
    request.state.project_id, request.state.api = principal.project_id, api  # as api/auth.label_call
    await auth.admit(request, principal, api, ACTIONS[name].service)
    params = _query_params(request, body) if request.method == "GET" else _params(body)
    answer = await ACTIONS[name].handler(request, params)
    if name in persons.CHANGES:  # written before the answer goes out, as FRS changes are
        await audit.record(request, principal, name, persons.resource(params),
                           {"answer": {k: v for k, v in answer.items() if k.startswith("Suc")}})
    return answer


@router.api_route("/", methods=[*SERVED_METHODS, *REFUSED_METHODS], include_in_schema=False,
                  name="tencent_iai")
async def tencent_iai(request: Request) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "")
    try:
        return success(await _answer(request), request_id)
    except TencentError as error:
        refused = error
    except FRSError as error:
        refused = from_frs(error)
    except PersonError as error:
        refused = from_persons(error.kind, error.message)
    except Exception:  # noqa: BLE001 - the SDK must get an envelope it can read, not a 500
        log.exception("Tencent action %s failed (request %s)", request.headers.get(auth.ACTION_HEADER),
                      request_id)
        refused = TencentError("InternalError", f"internal error; request id {request_id}")
    request.state.outcome_status = _status(refused.code)  # api/auth.OUTCOME_STATUS
    return failure(refused, request_id, request.headers.get("x-tc-language"))


def _status(code: str) -> int:
    """The HTTP status an FRS call refused the same way gets: usage and metrics count the call by it."""
    if code == THROTTLED:
        return 429
    return 500 if code in ("InternalError", "FailedOperation.ServerError") else 400
