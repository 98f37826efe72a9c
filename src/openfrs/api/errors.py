"""The one place where failures become HTTP responses in the FRS error shape."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openfrs.errors import FRSError

MAX_DETAIL = 200  # never echo a client's huge value back in full


def error_response(error: FRSError) -> JSONResponse:
    headers = None
    if error.status == 429:  # overload or quota: say when to come back
        headers = {"Retry-After": str(error.retry_after or 1)}
    return JSONResponse(status_code=error.status, headers=headers,
                        content={"error_code": error.code, "error_msg": error.message})


def short(value: object) -> str:
    """A client value, cut to a length safe to put in a message."""
    text = str(value)
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "..."


async def _frs_error(request: Request, exc: FRSError) -> JSONResponse:
    return error_response(exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(FRSError("FRS.0012", short(f"{where}: {first.get('msg', 'invalid value')}")))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code in (404, 405):
        return error_response(FRSError("APIG.0101", status=exc.status_code))
    return error_response(FRSError("FRS.0012", short(exc.detail), status=exc.status_code))


def install_error_handlers(app: FastAPI) -> None:
    """Unexpected exceptions are answered by the request-id middleware (FRS.0018 with the id)."""
    app.add_exception_handler(FRSError, _frs_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
