"""Build the ASGI app: settings, model pack, worker pool, routes and error mapping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from openfrs import __version__
from openfrs.api.auth import NoAuth, NotConfiguredAuth
from openfrs.api.errors import install_error_handlers
from openfrs.api.requestid import RequestIdMiddleware
from openfrs.api.routes import faces, facesets, liveness, quality, setfaces
from openfrs.config import Settings, get_settings
from openfrs.service.faces import FaceService
from openfrs.service.facesets import FaceSetService
from openfrs.service.indexes import IndexRegistry
from openfrs.service.setfaces import SetFaceService
from openfrs.store.sqlite import SQLiteMetadataStore

log = logging.getLogger("openfrs")
METADATA_FILE = "openfrs.db"
INDEX_DIR = "indexes"  # vector-index snapshots, one folder per face set


def create_app(settings: Settings | None = None, face_service: FaceService | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.face_service is None  # an injected service belongs to its caller
        if owned:
            app.state.face_service = FaceService.from_settings(settings)
        store = SQLiteMetadataStore(settings.data_dir / METADATA_FILE)
        indexes = IndexRegistry(store, settings.data_dir / INDEX_DIR,
                                save_changes=settings.index_save_changes,
                                save_interval_s=settings.index_save_interval_s)
        indexes.start()
        app.state.face_set_service = FaceSetService(store, settings,
                                                    app.state.face_service.embedder_version, indexes)
        app.state.set_face_service = SetFaceService(app.state.face_set_service,
                                                    app.state.face_service, indexes)
        providers = app.state.face_service.describe()["providers"]
        log.info("OpenFRS %s ready (providers: %s)", __version__, ", ".join(providers))
        yield
        indexes.close()
        store.close()
        if owned:
            app.state.face_service.pool.shutdown()

    app = FastAPI(
        title="OpenFRS",
        version=__version__,
        description="Self-hosted face recognition, compatible with Huawei Cloud FRS v2.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.face_service = face_service
    app.state.authenticator = NotConfiguredAuth() if settings.auth_enabled else NoAuth()
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    app.include_router(faces.router)
    app.include_router(facesets.router)
    app.include_router(setfaces.router)
    app.include_router(quality.router)
    app.include_router(liveness.router)

    @app.get("/health", tags=["ops"], summary="Liveness and model status")
    async def health(request: Request) -> dict:
        service: FaceService = request.app.state.face_service
        return {"status": "ok", "version": __version__, **service.describe()}

    return app
