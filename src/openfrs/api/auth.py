"""Who is calling, for which project, and may they: every FRS route depends on `authenticate`.

With auth on (the default) a call carries either an APIG AK/SK signature (`Authorization:
SDK-HMAC-SHA256 ...` + `X-Sdk-Date`, what huaweicloudsdkfrs sends) or an `X-Auth-Token` from
POST /v3/auth/tokens. Then the path's project must be the credential's (FRS.0028), the project
not frozen (FRS.0202), the API's sub-service enabled (FRS.0019 / FRS.0020), and the project's
QPS for this API not spent (FRS.0033, 429). `OPENFRS_AUTH=off` (local development) trusts the
path's project and applies no quota.

The route's name is the API label of metrics, usage and audit (`request.state.api`), set together
with `request.state.project_id` only once the caller is known, so unauthenticated noise cannot
invent label values.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import parse_qsl

from fastapi import Request

from openfrs import signing
from openfrs.api.body import read_limited
from openfrs.api.quota import QuotaBackendError, RateLimiter
from openfrs.errors import FRSError
from openfrs.service.tenancy import Tenancy

# Route name -> FRS sub-service (the /subscribe document's entries).
API_SERVICES = {
    "face_detect": "detect", "face_quality": "detect", "blur_classify": "detect",
    "head_pose_estimate": "detect",
    "face_compare": "compare",
    "create_face_set": "search", "list_face_sets": "search", "show_face_set": "search",
    "delete_face_set": "search", "add_faces": "search", "show_faces": "search", "delete_faces": "search",
    "batch_delete_faces": "search", "update_face": "search", "search_faces": "search",
    "list_face_persons": "search",
    "live_detect": "live_detect", "live_detect_face": "live_detect",
    # account APIs: always allowed to a project's own credentials
    "show_subscription": None, "show_usage": None, "show_audit": None,
}


@dataclass(frozen=True)
class Principal:
    """Who is calling, and for which project (the tenant)."""

    project_id: str
    subject: str  # "ak:<AK>", "user:<name>" or "anonymous"


class Authenticator(Protocol):
    async def authenticate(self, request: Request, project_id: str) -> Principal: ...


class NoAuth:
    """OPENFRS_AUTH=off: trust the project id in the path."""

    async def authenticate(self, request: Request, project_id: str) -> Principal:
        return Principal(project_id=project_id, subject="anonymous")


def _header(request: Request, name: str) -> str | None:
    """A header as the client wrote it (HTTP carries bytes; the SDK signs the UTF-8 text)."""
    value = request.headers.get(name)
    return None if value is None else value.encode("latin-1").decode("utf-8", "replace")


class TenantAuth:
    """AK/SK and token checks against the tenancy store, then the project's rights and quota."""

    def __init__(self, tenancy: Tenancy, limiter: RateLimiter, max_body_bytes: int, qps_default: float,
                 clock_skew_s: float = 900.0) -> None:
        self.tenancy = tenancy
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.qps_default = qps_default
        self.clock_skew_s = clock_skew_s

    async def authenticate(self, request: Request, project_id: str) -> Principal:
        if request.headers.get("authorization"):
            principal = await self._signed(request)
        elif request.headers.get("x-auth-token"):
            principal = self._token(request.headers["x-auth-token"])
        else:
            raise FRSError("APIG.0301", "sign the request with AK/SK or send X-Auth-Token")
        if principal.project_id != project_id:
            raise FRSError("FRS.0028", "the credential belongs to another project")
        label_call(request, principal)  # from here on a refusal (frozen, disabled, 429) is counted
        await self._admit(request, principal)
        return principal

    async def _signed(self, request: Request) -> Principal:
        try:
            ak, signed_headers, given = signing.parse_authorization(_header(request, "authorization") or "")
            sdk_date = _header(request, signing.DATE_HEADER) or ""
            sent_at = signing.parse_date(sdk_date)
        except ValueError as exc:
            raise FRSError("APIG.0301", str(exc)) from None
        if abs((datetime.now(UTC) - sent_at).total_seconds()) > self.clock_skew_s:
            raise FRSError("APIG.0301",
                           f"X-Sdk-Date is more than {self.clock_skew_s:g} s off the server's clock")
        if "host" not in signed_headers:
            raise FRSError("APIG.0301", "the host header must be signed")
        headers = {name: _header(request, name) for name in signed_headers}
        if any(value is None for value in headers.values()):
            raise FRSError("APIG.0301", "a signed header is missing")
        owner = self.tenancy.secret_key(ak)
        if owner is None:
            raise FRSError("APIG.0301", "unknown or disabled access key")
        # The signer's rule: no body -> the empty hash; else X-Sdk-Content-Sha256 when sent (the SDK's
        # "UNSIGNED-PAYLOAD" for multipart); else the body's hash. The route reuses the body read here.
        body = await read_limited(request, self.max_body_bytes)
        body_hash = signing.payload_hash(body, _header(request, signing.CONTENT_HASH_HEADER))
        query = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        canonical = signing.canonical_request(request.method, request.scope["path"], query, headers,
                                              signed_headers, body_hash)
        expected = signing.signature(owner[1], sdk_date, canonical)
        if not hmac.compare_digest(expected, given):
            raise FRSError("APIG.0301", "the signature does not match")
        return Principal(project_id=owner[0], subject=f"ak:{ak}")

    def _token(self, token: str) -> Principal:
        owner = self.tenancy.token_owner(token.strip())
        if owner is None:
            raise FRSError("FRS.0002", "unknown or expired token")
        return Principal(project_id=owner[0], subject=f"user:{owner[1]}")

    async def _admit(self, request: Request, principal: Principal) -> None:
        api = request.scope["route"].name
        try:
            await admit_call(self, principal.project_id, api, API_SERVICES.get(api))
        except QuotaExceeded as exc:
            if exc.wait is None:
                raise FRSError("FRS.0033", "the quota store is unreachable; retry later") from None
            setting = ("the project's own limit (openfrs admin set-qps)" if exc.own_limit
                       else "OPENFRS_QPS_DEFAULT, or the project's own with openfrs admin set-qps")
            raise FRSError("FRS.0033", f"over {exc.rate:g} calls per second for {api}; the limit is "
                           f"{setting}", retry_after=max(1, math.ceil(exc.wait))) from None


class QuotaExceeded(Exception):
    """The project's calls per second for an API are spent (`wait`: seconds until the next one),
    or the quota store is unreachable (`wait` None); each surface words it in its own codes."""

    def __init__(self, rate: float, wait: float | None, own_limit: bool) -> None:
        self.rate, self.wait, self.own_limit = rate, wait, own_limit
        super().__init__(f"over {rate:g} calls per second" if wait is not None else "quota store down")

    def describe(self, api: str) -> str:
        """The refusal in words, for the surfaces that answer it under their own codes."""
        if self.wait is None:
            return "the quota store is unreachable; retry later"
        return f"over {self.rate:g} calls per second for {api}; retry in {math.ceil(self.wait)} s"


def tenant_auth(request: Request) -> TenantAuth | None:
    """The server's tenant authenticator; None with OPENFRS_AUTH=off (every caller trusted)."""
    authenticator = request.app.state.authenticator
    return authenticator if isinstance(authenticator, TenantAuth) else None


async def admit_call(auth: TenantAuth, project_id: str, api: str, service: str | None) -> None:
    """The project's rules for one call, whichever surface it came by: not frozen and the
    sub-service enabled (FRSError from the tenancy store), then its QPS for `api` (QuotaExceeded)."""
    project = auth.tenancy.admit(project_id, service)
    rate = project.qps if project.qps is not None else auth.qps_default
    try:
        wait = await auth.limiter.acquire(f"{project.project_id}:{api}", rate, max(rate, 1.0))
    except QuotaBackendError:
        raise QuotaExceeded(rate, None, project.qps is not None) from None
    if wait > 0:
        raise QuotaExceeded(rate, wait, project.qps is not None)


def label_call(request: Request, principal: Principal) -> None:
    """Names the call's project and API for metrics, usage and audit (see `call_labels`)."""
    request.state.project_id = principal.project_id
    request.state.api = request.scope["route"].name


async def authenticate(request: Request, project_id: str) -> Principal:
    """FastAPI dependency used by every FRS route; labels the call for metrics, usage and audit."""
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(request, project_id)
    label_call(request, principal)
    return principal


OUTCOME_STATUS = "outcome_status"  # request.state: the HTTP status the answer stands for


def call_status(state: Mapping[str, object], status: int) -> int:
    """The status usage and metrics count a call under: the one a surface left in the request
    state (`OUTCOME_STATUS`, e.g. Tencent's refusals, answered with HTTP 200 as its SDK needs),
    else the response's own."""
    outcome = state.get(OUTCOME_STATUS)
    return int(outcome) if isinstance(outcome, int) and not isinstance(outcome, bool) else status


def call_labels(state: Mapping[str, object]) -> tuple[str, str] | None:
    """(project_id, api) that `authenticate` left in an ASGI scope's state; None for calls it did
    not admit (health, /metrics, unknown paths, refused credentials)."""
    project, api = state.get("project_id"), state.get("api")
    return None if project is None or api is None else (str(project), str(api))

