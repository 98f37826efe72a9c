"""The client's one exception, so callers catch a single type whatever went wrong on the wire."""

from __future__ import annotations


class FRSClientError(Exception):
    """A call that failed after its retries: the FRS error of a non-2xx answer.

    `status` is the HTTP status (0 when no answer came: see FRSConnectionError); `error_code` and
    `error_msg` come from the FRS error body, or are "HTTP.<status>" and the start of the body when
    the answer was not FRS-shaped (e.g. a proxy's HTML page); `request_id` is the X-Request-Id header.
    """

    def __init__(self, status: int, error_code: str, error_msg: str, request_id: str | None = None) -> None:
        super().__init__(f"{error_code}: {error_msg} (HTTP {status}, request {request_id})")
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id


class FRSConnectionError(FRSClientError):
    """No answer at all (refused, reset, timed out) after the retries; the httpx error is the cause."""

    def __init__(self, error_msg: str) -> None:
        super().__init__(0, "CONNECTION_ERROR", error_msg, None)
