"""A project's own account APIs: FRS's /subscribe status, IAM-style token issue, usage counts
and the audit log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_json_object
from openfrs.errors import FRSError
from openfrs.service.tenancy import Tenancy, audit_document, check_day

router = APIRouter(tags=["account"])
MAX_AUDIT_PAGE = 1000


def _tenancy(request: Request) -> Tenancy:
    return request.app.state.tenancy


@router.get("/v1/{project_id}/subscribe", summary="Sub-services of the project (FRS ShowSubscribes)")
@router.get("/v2/{project_id}/subscribe", include_in_schema=False)
async def show_subscription(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    return _tenancy(request).subscription(principal.project_id, request.app.state.settings.max_face_sets)


def _password_identity(body: dict) -> tuple[str, str, str]:
    """(project id or name, user name, password) from an IAM v3 password-auth body."""
    try:
        auth = body["auth"]
        if "password" not in auth["identity"]["methods"]:
            raise FRSError("FRS.0012", "auth.identity.methods must include \"password\"")
        user = auth["identity"]["password"]["user"]
        project = auth["scope"]["project"]
        project_key = project.get("id") or project.get("name")
        name, password = user["name"], user["password"]
    except (KeyError, TypeError, AttributeError):  # a part missing, or not the object it should be
        raise FRSError("FRS.0011", "auth.identity.password.user.{name,password} and "
                       "auth.scope.project.{id|name}") from None
    if not all(isinstance(v, str) and v for v in (project_key, name, password)):
        raise FRSError("FRS.0012", "user name, password and project must be non-empty strings")
    return project_key, name, password


@router.post("/v3/auth/tokens", status_code=201, summary="Issue a token for a user (IAM password auth)")
async def issue_token(request: Request) -> JSONResponse:
    body = await read_json_object(request, 64 * 1024)
    project_key, name, password = _password_identity(body)
    token, project, expires_at = await asyncio.to_thread(_tenancy(request).issue_token, project_key, name,
                                                         password)
    stamp = "%Y-%m-%dT%H:%M:%S.000000Z"
    content = {"token": {
        "methods": ["password"],
        "expires_at": datetime.fromtimestamp(expires_at, UTC).strftime(stamp),
        "issued_at": datetime.now(UTC).strftime(stamp),
        "user": {"name": name},
        "project": {"id": project.project_id, "name": project.name},
    }}
    return JSONResponse(content, status_code=201, headers={"X-Subject-Token": token})


def _day(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return check_day(value, name) if value else None


@router.get("/v1/{project_id}/usage", summary="Calls per API and day: successful, throttled, refused "
                                              "or failed (OpenFRS extension)")
async def show_usage(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    start, end = _day(request, "start_date"), _day(request, "end_date")
    rows = await asyncio.to_thread(_tenancy(request).usage, principal.project_id, start, end)
    return {"usage": rows, "total": sum(row["calls"] for row in rows),
            "throttled": sum(row["throttled"] for row in rows),
            "errors": sum(row["errors"] for row in rows)}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:  # "²" is a digit
        raise FRSError("FRS.0012", f"{name} must be an integer from {low} to {high}")
    return int(value)


@router.get("/v1/{project_id}/audit", summary="The project's audit log, oldest first (OpenFRS extension)")
async def show_audit(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    after = _int_param(request, "marker", 0, 0, 2**62)
    limit = _int_param(request, "limit", 100, 1, MAX_AUDIT_PAGE)
    action = request.query_params.get("action") or None
    if action is not None and not action.isprintable():  # a NUL, say: no action has one
        raise FRSError("FRS.0012", "action must be printable text")
    events, next_marker = await asyncio.to_thread(_tenancy(request).audit_page, principal.project_id,
                                                  action, after, limit)
    return {"events": [audit_document(e) for e in events], "next_marker": next_marker}
