"""The client's one exception, so callers catch a single type whatever went wrong on the wire."""

from __future__ import annotations


class FRSClientError(Exception):
    """A call that failed after its retries: the FRS error of a non-2xx answer.

    `status` is the HTTP status (0 when no answer came: see FRSConnectionError); `error_code` and
    `error_msg` come from the FRS error body, or are "HTTP.<status>" and the start of the body when
    the answer was not FRS-shaped (e.g. a proxy's HTML page); `request_id` is the X-Request-Id header.
    `hint` is the client's own advice on the fix (which image had no face, which variables to set),
    None when it has none; str() ends with it.
    """

    def __init__(self, status: int, error_code: str, error_msg: str, request_id: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(error_code, error_msg)
        self.status = status
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.error_code}: {self.error_msg} (HTTP {self.status}, request {self.request_id})"
        return f"{text}\n{self.hint}" if self.hint else text


class FRSConnectionError(FRSClientError):
    """No answer at all (refused, reset, timed out), after the retries where retrying helps; the
    httpx error is the cause."""

    def __init__(self, error_msg: str, hint: str | None = None) -> None:
        super().__init__(0, "CONNECTION_ERROR", error_msg, None, hint)

    def __str__(self) -> str:
        return f"{self.error_code}: {self.error_msg}" + (f"\n{self.hint}" if self.hint else "")
