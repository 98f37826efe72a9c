"""/docs (Swagger UI) and /redoc (ReDoc) served from this process, never from a CDN.

The scripts and styles are those the PyPI package fastapi-standalone-docs carries (swagger-ui-dist
and redoc's standalone bundle, its logo link already pointed at the page's own path), installed
from requirements.lock like every dependency; we use its files only, not its patching of FastAPI.
No Google fonts: ReDoc falls back to the system's.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_standalone_docs
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_standalone_docs.__file__).parent / "static"
ASSETS_URL = "/docs-assets"  # swagger/, redoc/ and fastapi/ (the favicon) of the package
router = APIRouter(include_in_schema=False)


def _prefix(request: Request) -> str:
    """Where the app is mounted (a proxy's root_path), so links work behind one too."""
    return request.scope.get("root_path", "").rstrip("/")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _prefix(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/fastapi/favicon.png",
        oauth2_redirect_url=None,
        # validatorUrl: no badge fetched from validator.swagger.io
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = _prefix(request)
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}", title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/fastapi/favicon.png",
        with_google_fonts=False,
    )


@router.get("/redoc/logo-mini.svg")
async def redoc_logo() -> FileResponse:
    """The bundle asks for its "API docs by Redocly" logo at the page's path plus this name."""
    return FileResponse(ASSETS / "redoc" / "logo-mini.svg", media_type="image/svg+xml")


def install_docs(app: FastAPI) -> None:
    """For an app made with docs_url=None and redoc_url=None (FastAPI's own pages use CDNs)."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
