"""A project managing itself over HTTP (OpenFRS extension; `openfrs admin` does the same from a
shell): its credentials, users, sub-services ("apply for service") and QPS.

Same auth as every FRS route (AK/SK or X-Auth-Token) and per project: a caller sees and changes
only its own project. The rules live in service/tenancy.py, which audits each change under the
caller's name. A caller may not disable or delete the credential or user it is using right now.
In the OpenAPI document (api/openapi/operations.py); docs/api.md lists them.
"""

from __future__ import annotations

import asyncio
import math

from fastapi import APIRouter, Depends, Request

from openfrs.api.auth import Principal, authenticate
from openfrs.api.body import read_limited
from openfrs.errors import FRSError
from openfrs.media import parse_json_body
from openfrs.service.tenancy import ROTATION_GRACE_S, SERVICES, Tenancy, time_text, user_document

router = APIRouter(tags=["management (OpenFRS extension)"])
MAX_BODY = 64 * 1024
CREDENTIALS = "/v1/{project_id}/credentials"
USERS = "/v1/{project_id}/users"


def _tenancy(request: Request) -> Tenancy:
    """The accounts, auditing each change with this request's id (as api/audit.py does)."""
    return request.app.state.tenancy.for_request(getattr(request.state, "request_id", ""))


async def _body(request: Request) -> dict:
    """The JSON object sent, or {} for no body at all."""
    raw = await read_limited(request, MAX_BODY)
    return parse_json_body(raw, MAX_BODY) if raw.strip() else {}


def _field(body: dict, name: str, kind: type | tuple[type, ...], required: bool = False) -> object:
    """body[name] when it is of `kind` (FRS.0011 missing and required, FRS.0012 of another kind)."""
    value = body.get(name)
    if value is None:
        if required:
            raise FRSError("FRS.0011", name)
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise FRSError("FRS.0012", f"{name} has the wrong type")
    return value


async def _run(function, *args, **kwargs):  # noqa: ANN001, ANN202 - the tenancy store blocks: off the loop
    return await asyncio.to_thread(function, *args, **kwargs)


async def _own_access(request: Request, principal: Principal, kind: str, key: str,
                      change: str | None = None) -> Tenancy:
    """Checks `key` (an AK, or a user name) is the caller's project's, and, for a `change` that
    would stop it working, that it is not the access the caller is using right now."""
    tenancy = _tenancy(request)
    await _run(tenancy.own_credential if kind == "ak" else tenancy.own_user, principal.project_id, key)
    if change:
        tenancy.refuse_own_access(principal.subject, f"{kind}:{key}", change)
    return tenancy


def _project_document(tenancy: Tenancy, request: Request, project_id: str) -> dict:
    project = tenancy.project(project_id)
    settings = request.app.state.settings
    return {"project_id": project.project_id, "name": project.name, "created_at": project.created_at,
            "disabled": project.disabled, "qps": project.qps, "qps_default": settings.qps_default,
            "subscription": tenancy.subscription(project.project_id, settings.max_face_sets)}


@router.get("/v1/{project_id}/project")
async def show_project(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    return await _run(_project_document, _tenancy(request), request, principal.project_id)


@router.put("/v1/{project_id}/project")
async def update_project(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """{"qps": n}: the project's calls per second per API (0: back to the server's default)."""
    qps = _field(await _body(request), "qps", (int, float), required=True)
    if not math.isfinite(qps) or qps < 0:
        raise FRSError("FRS.0012", "qps must be a number >= 0 (0: the server's default)")
    await _run(_tenancy(request).set_project, principal.project_id, qps=float(qps), actor=principal.subject)
    return await _run(_project_document, _tenancy(request), request, principal.project_id)


@router.put("/v1/{project_id}/subscribe/{service}")
async def update_subscription(service: str, request: Request,
                              principal: Principal = Depends(authenticate)) -> dict:
    """{"enabled": true|false}: apply for (or give up) a sub-service, as FRS's console does."""
    enabled = _field(await _body(request), "enabled", bool, required=True)
    if service not in SERVICES:
        raise FRSError("FRS.0012", f"services are {', '.join(SERVICES)}")
    await _run(_tenancy(request).set_service, principal.project_id, service, enabled,
               actor=principal.subject)
    return {"service": service, "subscribe_status": enabled}


@router.get(CREDENTIALS)
async def list_credentials(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    return {"credentials": await _run(_tenancy(request).credential_documents, principal.project_id)}


@router.post(CREDENTIALS, status_code=201)
async def create_credential(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """A new AK/SK; the SK is in this answer only (it is stored sealed and never shown again)."""
    issued = await _run(_tenancy(request).create_credential, principal.project_id, actor=principal.subject)
    return {"credential": {"ak": issued.ak, "sk": issued.sk}}


@router.put(CREDENTIALS + "/{ak}")
async def update_credential(ak: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """{"disabled": true|false}."""
    disabled = _field(await _body(request), "disabled", bool, required=True)
    tenancy = await _own_access(request, principal, "ak", ak, "disable" if disabled else None)
    await _run(tenancy.set_credential_disabled, ak, disabled, actor=principal.subject)
    return {"ak": ak, "disabled": disabled}


@router.post(CREDENTIALS + "/{ak}/rotate")
async def rotate_credential(ak: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """A successor AK/SK (the SK shown once); the old key signs `grace_seconds` more (default a day)."""
    grace = _field(await _body(request), "grace_seconds", (int, float))
    tenancy = await _own_access(request, principal, "ak", ak)
    rotation = await _run(tenancy.rotate_credential, ak, ROTATION_GRACE_S if grace is None else float(grace),
                          actor=principal.subject)
    return {"credential": {"ak": rotation.issued.ak, "sk": rotation.issued.sk},
            "old_ak": rotation.old_ak, "old_valid_until": time_text(rotation.old_expires_at)}


@router.delete(CREDENTIALS + "/{ak}")
async def delete_credential(ak: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    tenancy = await _own_access(request, principal, "ak", ak, "delete")
    await _run(tenancy.delete_credential, ak, actor=principal.subject)
    return {"ak": ak, "deleted": True}


@router.get(USERS)
async def list_users(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    return {"users": await _run(_tenancy(request).user_documents, principal.project_id)}


@router.post(USERS, status_code=201)
async def create_user(request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """{"name": ..., "password": ...} (a password of at least 8 characters)."""
    body = await _body(request)
    name = _field(body, "name", str, required=True)
    password = _field(body, "password", str, required=True)
    user = await _run(_tenancy(request).create_user, principal.project_id, name, password,
                      actor=principal.subject)
    return {"user": user_document(user)}


@router.put(USERS + "/{name}")
async def update_user(name: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    """{"disabled": true|false} and/or {"password": new}: a new password ends the user's tokens."""
    body = await _body(request)
    disabled = _field(body, "disabled", bool)
    password = _field(body, "password", str)
    if disabled is None and password is None:
        raise FRSError("FRS.0011", "disabled or password")
    tenancy = await _own_access(request, principal, "user", name, "disable" if disabled else None)
    if password is not None:
        await _run(tenancy.reset_password, principal.project_id, name, password, actor=principal.subject)
    if disabled is not None:
        await _run(tenancy.set_user_disabled, principal.project_id, name, disabled, actor=principal.subject)
    user = await _run(tenancy.own_user, principal.project_id, name)
    return {"user": user_document(user), "password_reset": password is not None}


@router.delete(USERS + "/{name}")
async def delete_user(name: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    tenancy = await _own_access(request, principal, "user", name, "delete")
    await _run(tenancy.delete_user, principal.project_id, name, actor=principal.subject)
    return {"name": name, "deleted": True}
