"""Build the ASGI app: settings, model pack, worker pool, routes and error mapping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from openfrs import __version__
from openfrs.api.auth import NoAuth, TenantAuth
from openfrs.api.ctyun import routes as ctyun
from openfrs.api.errors import install_error_handlers
from openfrs.api.metrics import Metrics, MetricsMiddleware
from openfrs.api.openapi import install_openapi
from openfrs.api.quota import make_limiter
from openfrs.api.requestid import RequestIdMiddleware
from openfrs.api.routes import account, faces, facesets, liveness, manage, ops, persons, quality, setfaces
from openfrs.api.tencent import dispatch as tencent
from openfrs.api.usage import UsageMiddleware
from openfrs.config import Settings, get_settings
from openfrs.console import install_console
from openfrs.service.faces import FaceService
from openfrs.service.facesets import FaceSetService
from openfrs.service.group_search import GroupSearchService
from openfrs.service.persons import PersonService
from openfrs.service.setfaces import SetFaceService
from openfrs.service.tenancy import Tenancy
from openfrs.store.factory import location, open_index_registry, open_metadata_store

log = logging.getLogger("openfrs")


def create_app(settings: Settings | None = None, face_service: FaceService | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.face_service is None  # an injected service belongs to its caller
        if owned:
            app.state.face_service = FaceService.from_settings(settings)
        store = app.state.metadata_store = open_metadata_store(settings)
        indexes = open_index_registry(settings, store, app.state.face_service.model_dims())
        indexes.start()
        app.state.face_set_service = FaceSetService(store, settings,
                                                    app.state.face_service.embedder_version, indexes)
        app.state.set_face_service = SetFaceService(app.state.face_set_service,
                                                    app.state.face_service, indexes)
        app.state.person_service = PersonService(app.state.set_face_service)
        app.state.group_search_service = GroupSearchService(app.state.person_service)
        providers = app.state.face_service.describe()["providers"]
        log.info("OpenFRS %s ready (providers: %s; %s)", __version__, ", ".join(providers),
                 location(settings))
        yield
        indexes.close()
        store.close()
        await limiter.close()
        tenancy.close()
        if owned:
            app.state.face_service.pool.shutdown()

    app = FastAPI(
        title="OpenFRS",
        version=__version__,
        description="Self-hosted face recognition, compatible with Huawei Cloud FRS v2.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from CDNs; install_openapi serves them locally
        redoc_url=None,
    )
    tenancy = Tenancy.from_settings(settings)
    limiter = make_limiter(settings.redis_url)
    metrics = Metrics()
    app.state.settings = settings
    app.state.face_service = face_service
    app.state.tenancy = tenancy
    app.state.metrics = metrics
    app.state.authenticator = TenantAuth(tenancy, limiter, settings.max_body_bytes, settings.qps_default,
                                         settings.auth_clock_skew_s) if settings.auth_enabled else NoAuth()
    # Outermost last: request ids wrap everything, metrics see every labelled answer, usage counts.
    app.add_middleware(UsageMiddleware, tenancy=tenancy)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    for routes in (faces, facesets, setfaces, persons, quality, liveness, account, manage, ops, tencent,
                   ctyun):
        app.include_router(routes.router)
    install_console(app)
    install_openapi(app, settings)

    return app
