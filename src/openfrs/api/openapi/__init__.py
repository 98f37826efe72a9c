"""The complete OpenAPI document of the FRS API (operations.py, schemas.py, build.py) and its
Swagger UI / ReDoc pages served without any CDN (docs.py)."""

from __future__ import annotations

from fastapi import FastAPI

from openfrs.api.openapi.build import document
from openfrs.api.openapi.docs import install_docs
from openfrs.config import Settings


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """/openapi.json answers the completed document (built once, on first use), /docs and /redoc
    render it with local assets."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # FastAPI's documented way to replace the generated document
    install_docs(app)


__all__ = ["document", "install_openapi"]
