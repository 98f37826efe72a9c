"""CTyun's envelope and error codes (shared/docs/ctyun.md §3, §6, §7), and FRS codes mapped onto them.

Whole-request refusals answer `{"code": N, "message": ..., "result": []}`: HTTP 200 for the
manual's 4xxx codes (clients read `code`), 401 / 403 / 429 for the OpenFRS-defined 4401 (signature,
X-CTYUN-DT, AppKey), 4403 (project frozen or sub-service disabled) and 4429 (over the project's
QPS), 405 for a wrong method (4007), 5xx only with 5001 / 5002 (a fault of ours). A problem with
one image refuses that item only (`ItemError`): the batch keeps `code: 0` and order.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from openfrs.errors import FRSError

OK_MESSAGE = "成功"
MAX_MESSAGE = 300
NO_IMAGE, FORMAT, PROCESSING, URL_UNREADABLE, URL_TIMEOUT, BASE64 = 4001, 4002, 4003, 4004, 4005, 4006
JSON, RESOLUTION, IMAGE_SIZE, BODY_SIZE, URL_WRONG, FILE_TYPE = 4007, 4008, 4009, 4010, 4011, 4012
SERVICE_FAULT, INCOMPLETE = 5001, 5002
UNAUTHORIZED, FORBIDDEN, THROTTLED = 4401, 4403, 4429  # OpenFRS-defined (ctyun.md §7.6)


class CtyunError(Exception):
    """A refusal of the whole request: CTyun `code`, message and the HTTP status it goes with."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        self.code = code
        self.message = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "..."
        self.status = status
        super().__init__(f"{code}: {self.message}")


class ItemError(CtyunError):
    """A refusal of one image (or pair): answered in that item, the rest of the batch served."""


def success(result: list[dict]) -> JSONResponse:
    return JSONResponse({"code": 0, "message": OK_MESSAGE, "result": result})


def failure(error: CtyunError) -> JSONResponse:
    body = {"code": error.code, "message": error.message, "result": []}
    return JSONResponse(body, status_code=error.status)


# FRS codes of the shared layers (tenancy, quota, workers, body) -> a whole-request refusal.
_REQUEST = {
    "FRS.0011": (JSON, 200), "FRS.0012": (JSON, 200), "FRS.0014": (JSON, 200),
    "FRS.0017": (BODY_SIZE, 200),
    "FRS.0019": (FORBIDDEN, 403), "FRS.0020": (FORBIDDEN, 403), "FRS.0202": (FORBIDDEN, 403),
    "FRS.0033": (THROTTLED, 429),
    "APIG.0301": (UNAUTHORIZED, 401),
}


def from_frs(error: FRSError) -> CtyunError:
    """The same refusal with CTyun's code, the service's message kept; 5001 for our faults."""
    if error.status >= 500:
        return CtyunError(SERVICE_FAULT, error.message, error.status)
    code, status = _REQUEST.get(error.code, (JSON, 200))
    return CtyunError(code, error.message, status)


# FRS codes raised while decoding one image -> that item's code.
_PICTURE = {"FRS.0013": RESOLUTION, "FRS.0015": PROCESSING, "FRS.0016": FORMAT, "FRS.0017": IMAGE_SIZE}


def picture_error(error: FRSError) -> CtyunError:
    """An image's decoding failure as an ItemError; anything else stays a whole-request refusal."""
    code = _PICTURE.get(error.code)
    return ItemError(code, error.message) if code is not None else from_frs(error)
