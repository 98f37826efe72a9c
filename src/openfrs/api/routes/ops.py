"""Operations endpoints: health and Prometheus metrics.

/metrics names projects and face sets, so it is not open to anyone who can reach the port: with
OPENFRS_METRICS_TOKEN set it wants `Authorization: Bearer <token>` (Prometheus' bearer_token);
otherwise, with auth on, only clients on this machine (loopback) may scrape it.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from openfrs import __version__
from openfrs.errors import FRSError

router = APIRouter(tags=["ops"])
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
DEPENDENCY_CHECK_S = 2.0  # the longest one /health probe waits (a dependency down: a few of these)


@router.get("/health", summary="Liveness and model status")
async def health(request: Request) -> JSONResponse:
    """Scale-out mode adds `dependencies` (PostgreSQL, Milvus: "ok" or "down") and answers 503
    while one is down, so a load balancer takes the replica out until it recovers by itself."""
    body = {"status": "ok", "version": __version__, **request.app.state.face_service.describe()}
    if request.app.state.settings.embedded:
        return JSONResponse(body)
    dependencies = await run_in_threadpool(_dependencies, request.app.state)
    body["dependencies"] = dependencies
    if "down" in dependencies.values():
        body["status"] = "degraded"
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


def _dependencies(state: Any) -> dict[str, str]:
    databases = (state.metadata_store, state.tenancy.store)  # one pool each: both must answer
    checks = {"database": lambda: all(db.ping(DEPENDENCY_CHECK_S) for db in databases)}
    indexes = getattr(getattr(state, "face_set_service", None), "indexes", None)
    provider = getattr(indexes, "provider", None)
    if provider is not None and hasattr(provider, "client"):  # Milvus
        checks["vectors"] = lambda: _milvus_up(provider.client)
    return {name: "ok" if check() else "down" for name, check in checks.items()}


def _milvus_up(client: Any) -> bool:
    try:
        client.get_server_version(timeout=DEPENDENCY_CHECK_S)
    except Exception:  # noqa: BLE001 - any failure to answer is "down"
        return False
    return True


def _may_scrape(request: Request) -> bool:
    settings = request.app.state.settings
    if settings.metrics_token:
        return hmac.compare_digest(request.headers.get("authorization", "").encode(),
                                   f"Bearer {settings.metrics_token}".encode())
    return not settings.auth_enabled or (request.client is not None and request.client.host in LOOPBACK)


@router.get("/metrics", summary="Prometheus metrics (FRS Cloud Eye names)")
def prometheus_metrics(request: Request) -> PlainTextResponse:  # a store read: off the loop
    if not _may_scrape(request):
        raise FRSError("APIG.0301", "metrics need the metrics token (or a loopback client)")
    store = request.app.state.metadata_store
    return PlainTextResponse(request.app.state.metrics.render(store.face_set_counts),
                             media_type="text/plain; version=0.0.4")
