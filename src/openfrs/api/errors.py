"""The one place where failures become HTTP responses in the FRS error shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openfrs.errors import FRSError

log = logging.getLogger("openfrs.api")


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error_code": code, "error_msg": message})


async def _frs_error(request: Request, exc: FRSError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    detail = f"{where}: {first.get('msg', 'invalid value')}"
    return error_response(400, "FRS.0012", f"The request param has wrong format, {detail}")


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code in (404, 405):
        # What Huawei's API gateway answers for a path or method it does not publish.
        return error_response(exc.status_code, "APIG.0101",
                              "The API does not exist or has not been published in the environment.")
    return error_response(exc.status_code, "FRS.0012", str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "-")
    log.exception("unhandled error (request %s)", request_id)
    return error_response(500, "FRS.0018", "The service inner error.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FRSError, _frs_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
