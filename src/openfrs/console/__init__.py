"""The web console: static HTML, CSS and JavaScript served at /console, talking to the public
API only (a signed-in user's X-Auth-Token). Nothing is built or downloaded: the files are the
package data under static/."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install_console(app: FastAPI) -> None:
    @app.get("/console", include_in_schema=False)
    async def console_root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    app.mount("/console/", StaticFiles(directory=STATIC, html=True), name="console")
