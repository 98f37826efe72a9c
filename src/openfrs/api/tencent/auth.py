"""Who is calling the Tencent surface, and may they: TC3-HMAC-SHA256 with OpenFRS credentials.

SecretId = an OpenFRS AK, SecretKey = its SK, looked up in the tenancy store as the FRS AK/SK
check does (api/auth.py); the project is the credential's. Then the same project rules as FRS:
not frozen, the action's sub-service enabled, the project's QPS (the shared limiter of
api/quota.py, one bucket per action). With OPENFRS_AUTH=off nothing is checked and calls belong
to the project named "default".
"""

from __future__ import annotations

import hmac
import time

from fastapi import Request

from openfrs.api.auth import Principal, QuotaExceeded, admit_call, tenant_auth
from openfrs.api.tencent import signature
from openfrs.api.tencent.errors import TencentError
from openfrs.service.tenancy import DEFAULT_PROJECT

ACTION_HEADER = "x-tc-action"
REQUIRED_SIGNED = ("content-type", "host")


def verify(request: Request, body: bytes) -> Principal:
    """The caller, from the TC3 signature over the exact body bytes and, for GET, the raw query
    string as sent (order of checks: tencent-iai.md §3)."""
    auth = tenant_auth(request)
    if auth is None:
        return Principal(project_id=DEFAULT_PROJECT, subject="anonymous")
    headers = request.headers
    if not headers.get(ACTION_HEADER):  # API 2.0 (v1 signing) carries Action in the body instead
        raise TencentError("AuthFailure.SignatureFailure", "OpenFRS takes Tencent Cloud API 3.0 calls "
                           "signed with TC3-HMAC-SHA256 (X-TC-Action and Authorization headers)")
    try:
        parsed = signature.parse_authorization(headers.get("authorization", ""))
    except ValueError as exc:
        raise TencentError("AuthFailure.InvalidAuthorization", str(exc)) from None
    timestamp = headers.get("x-tc-timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise TencentError("AuthFailure.InvalidAuthorization", "X-TC-Timestamp must be Unix seconds")
    if abs(time.time() - int(timestamp)) > auth.clock_skew_s:
        raise TencentError("AuthFailure.SignatureExpire",
                           f"X-TC-Timestamp is more than {auth.clock_skew_s:g} s off the server's clock")
    owner = auth.tenancy.secret_key(parsed.secret_id)
    if owner is None:
        raise TencentError("AuthFailure.SecretIdNotFound", "unknown or disabled SecretId")
    if headers.get("x-tc-token"):
        raise TencentError("AuthFailure.TokenFailure", "OpenFRS issues no temporary credentials")
    missing = [name for name in REQUIRED_SIGNED if name not in parsed.signed_headers]
    absent = [name for name in parsed.signed_headers if headers.get(name) is None]
    if parsed.service != "iai" or missing or absent:
        raise TencentError("AuthFailure.SignatureFailure", "the credential scope must be iai and "
                           "content-type and host signed and sent")
    canonical = signature.canonical_request(
        request.method, request.scope.get("query_string", b"").decode("latin-1"),
        {name: headers[name] for name in parsed.signed_headers}, parsed.signed_headers,
        signature.payload_hash(body, headers.get("x-tc-content-sha256")))
    expected = signature.signature(owner[1], timestamp, parsed.date, parsed.service, canonical)
    if not hmac.compare_digest(expected, parsed.signature):
        raise TencentError("AuthFailure.SignatureFailure", "the signature does not match")
    return Principal(project_id=owner[0], subject=f"ak:{parsed.secret_id}")


async def admit(request: Request, principal: Principal, api: str, service: str) -> None:
    """The project's state, sub-service and QPS, as for FRS calls (api/auth.admit_call; FRSError
    from the tenancy store is mapped by the caller: frozen, not enabled)."""
    auth = tenant_auth(request)
    if auth is None:
        return
    try:
        await admit_call(auth, principal.project_id, api, service)
    except QuotaExceeded as exc:
        raise TencentError("RequestLimitExceeded", exc.describe(api)) from None
