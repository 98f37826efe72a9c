"""The one place where failures become HTTP responses in the FRS error shape."""

from __future__ import annotations

import contextlib
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openfrs.errors import FRSError

MAX_DETAIL = 200  # never echo a client's huge value back in full
RETRY_AFTER_S = 5  # a dependency down: about one pool timeout (store/pg_db.py)
log = logging.getLogger("openfrs.api")


def error_response(error: FRSError) -> JSONResponse:
    headers = None
    if error.status in (429, 503):  # overload, quota or a dependency down: say when to come back
        headers = {"Retry-After": str(error.retry_after or 1)}
    return JSONResponse(status_code=error.status, headers=headers,
                        content={"error_code": error.code, "error_msg": error.message})


def short(value: object) -> str:
    """A client value, cut to a length safe to put in a message."""
    text = str(value)
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "..."


async def _frs_error(request: Request, exc: FRSError) -> JSONResponse:
    return error_response(exc)


async def _dependency_down(request: Request, exc: Exception) -> JSONResponse:
    """PostgreSQL or Milvus failed under a request: a 503 the client may retry, not a 500. The
    message names the dependency only: a driver's text can carry the URL, user or host."""
    log.warning("%s unavailable under %s %s: %s", _dependency(exc), request.method,
                request.url.path, type(exc).__name__)
    return error_response(FRSError("FRS.0050", _dependency(exc), retry_after=RETRY_AFTER_S))


def _dependency(exc: Exception) -> str:
    return "vector database" if type(exc).__module__.startswith(("pymilvus", "grpc")) else "database"


async def _unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses outright (PostgreSQL text cannot hold a NUL character, a
    number past its column): the client's input, so a 400, never a 500. SQLite takes such
    values, so only the scale-out mode gets here."""
    log.info("value refused by the database under %s %s: %s", request.method, request.url.path,
             type(exc).__name__)
    return error_response(FRSError("FRS.0012", "a value cannot be stored or searched (e.g. a NUL character)"))


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
    for exc_class in _dependency_errors():
        app.add_exception_handler(exc_class, _dependency_down)
    with contextlib.suppress(ImportError):
        import psycopg

        app.add_exception_handler(psycopg.DataError, _unstorable_value)


def _dependency_errors() -> list[type[Exception]]:
    """The drivers' "cannot reach the server" errors: PoolTimeout is an OperationalError; pymilvus
    raises MilvusException for a refused call and gRPC's RpcError for one past its timeout (a
    server that stopped answering). Each only where its driver is installed."""
    errors: list[type[Exception]] = []
    with contextlib.suppress(ImportError):
        import psycopg

        errors.append(psycopg.OperationalError)
    with contextlib.suppress(ImportError):
        import grpc
        from pymilvus import MilvusException

        errors += [MilvusException, grpc.RpcError]  # a call past its timeout: DEADLINE_EXCEEDED
    return errors
