"""Operations endpoints: health and Prometheus metrics.

/metrics names projects and face sets, so it is not open to anyone who can reach the port: with
OPENFRS_METRICS_TOKEN set it wants `Authorization: Bearer <token>` (Prometheus' bearer_token);
otherwise, with auth on, only clients on this machine (loopback) may scrape it.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from openfrs import __version__
from openfrs.errors import FRSError

router = APIRouter(tags=["ops"])
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@router.get("/health", summary="Liveness and model status")
async def health(request: Request) -> dict:
    return {"status": "ok", "version": __version__, **request.app.state.face_service.describe()}


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
