"""Who is calling the CTyun surface, and may they: CTYUN <AppKey>:<Sign> with OpenFRS credentials.

AppKey = an OpenFRS AK, AppSecret = its SK, looked up in the tenancy store as the FRS and Tencent
checks do; the project is the credential's. Then the same project rules as FRS: not frozen, the
operation's sub-service enabled, the project's QPS (api/quota.py's shared limiter, one bucket per
operation). With OPENFRS_AUTH=off nothing is checked and calls belong to the project "default".
"""

from __future__ import annotations

import hmac
import time

from fastapi import Request

from openfrs.api.auth import Principal, QuotaExceeded, admit_call, tenant_auth
from openfrs.api.ctyun import signature
from openfrs.api.ctyun.errors import SERVICE_FAULT, THROTTLED, UNAUTHORIZED, CtyunError
from openfrs.service.tenancy import DEFAULT_PROJECT

DT_HEADER = "x-ctyun-dt"
MAX_SKEW_MS = 300_000  # ctyun.md §5: X-CTYUN-DT within ±5 minutes of the server's clock


def _refused(message: str) -> CtyunError:
    return CtyunError(UNAUTHORIZED, message, 401)


def _path(request: Request) -> str:
    """The request-line path as the client sent it (percent-encoding kept), without the query."""
    raw = request.scope.get("raw_path")
    return raw.split(b"?", 1)[0].decode("latin-1") if raw else request.scope["path"]


def verify(request: Request, body: bytes) -> Principal:
    """The caller, from the signature over the exact body bytes (ctyun.md §5)."""
    auth = tenant_auth(request)
    if auth is None:
        return Principal(project_id=DEFAULT_PROJECT, subject="anonymous")
    try:
        app_key, given = signature.parse_authorization(request.headers.get("authorization", ""))
    except ValueError as exc:
        raise _refused(str(exc)) from None
    dt = request.headers.get(DT_HEADER, "")
    if not (dt.isascii() and dt.isdigit() and len(dt) <= 16):
        raise _refused("X-CTYUN-DT must be the Unix time in milliseconds")
    if abs(time.time() * 1000 - int(dt)) > MAX_SKEW_MS:
        raise _refused(f"X-CTYUN-DT is more than {MAX_SKEW_MS // 1000} s off the server's clock")
    owner = auth.tenancy.secret_key(app_key)
    if owner is None:
        raise _refused("unknown or disabled AppKey")
    query = request.scope.get("query_string", b"").decode("latin-1")
    signed = signature.request_string(request.method, _path(request), query, dt, body)
    expected = signature.sign(owner[1], signed)
    if not hmac.compare_digest(expected, given):
        raise _refused("the signature does not match")
    return Principal(project_id=owner[0], subject=f"ak:{app_key}")


async def admit(request: Request, principal: Principal, api: str, service: str) -> None:
    """The project's state, sub-service and QPS, as for FRS calls (api/auth.admit_call; FRSError
    from the tenancy store is mapped by the caller: frozen, not enabled)."""
    auth = tenant_auth(request)
    if auth is None:
        return
    try:
        await admit_call(auth, principal.project_id, api, service)
    except QuotaExceeded as exc:
        if exc.wait is None:
            raise CtyunError(SERVICE_FAULT, exc.describe(api), 503) from None
        raise CtyunError(THROTTLED, exc.describe(api), 429) from None
