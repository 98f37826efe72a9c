"""Transport: one signed (or token-carrying) HTTP exchange, retried on 429 / 5xx / no connection.

Signing works on the request exactly as httpx will send it (its Host header, its encoded path, its
query pairs, the body bytes), so what the server canonicalises is what was signed. Each attempt is
signed afresh: a retry after a long Retry-After must not carry a stale X-Sdk-Date.
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from openfrs import signing
from openfrs.client.errors import FRSClientError, FRSConnectionError

MAX_BACKOFF_S = 8.0
MAX_RETRY_AFTER_S = 60.0  # a server asking for longer gets the error instead of a hung caller
Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:  # an HTTP date: rare from FRS; the exponential backoff applies
        return 0.0


def _error(response: httpx.Response) -> FRSClientError:
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
        return FRSClientError(response.status_code, str(body["error_code"]), str(body.get("error_msg", "")),
                              request_id)
    except (ValueError, KeyError, TypeError):
        return FRSClientError(response.status_code, f"HTTP.{response.status_code}", response.text[:200],
                              request_id)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class Transport:
    """httpx.Client plus FRS authentication and retries; raises FRSClientError on failure."""

    def __init__(self, endpoint: str, ak: str | None = None, sk: str | None = None,
                 token: str | None = None, timeout: float = 30.0, retries: int = 3,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        if (ak is None) != (sk is None):
            raise ValueError("give both ak and sk, or neither")
        if ak is not None and token is not None:
            raise ValueError("give ak/sk or a token, not both")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.endpoint = endpoint.rstrip("/")
        self.ak, self.sk, self.token = ak, sk, token
        self.retries, self.backoff, self.sleep = retries, backoff, sleep
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, json: Any = None, params: Params = None) -> httpx.Response:
        """The 2xx response; `path` is appended to the endpoint and must be percent-encoded."""
        body = b"" if json is None else jsonlib.dumps(json, ensure_ascii=False,
                                                      separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if json is not None else {}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.http.send(self._build(method, path, params, headers, body))
            except httpx.TransportError as exc:
                if last:
                    raise FRSConnectionError(f"{type(exc).__name__}: {exc}") from exc
                self.sleep(self._delay(attempt, 0.0))
                continue
            if response.is_success:
                return response
            if last or not _retryable(response.status_code):
                raise _error(response)
            self.sleep(self._delay(attempt, _retry_after(response)))
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, retry_after: float) -> float:
        return max(min(self.backoff * 2 ** attempt, MAX_BACKOFF_S), min(retry_after, MAX_RETRY_AFTER_S))

    def _build(self, method: str, path: str, params: Params, headers: dict[str, str],
               body: bytes) -> httpx.Request:
        request = self.http.build_request(method, self.endpoint + path, params=params, headers=headers,
                                          content=body or None)
        if self.token is not None:
            request.headers["X-Auth-Token"] = self.token
        elif self.ak is not None and self.sk is not None:
            url = request.url
            signed = signing.sign(method, url.netloc.decode("ascii"),
                                  url.raw_path.split(b"?", 1)[0].decode("ascii"),
                                  url.params.multi_items(), headers, body, self.ak, self.sk, now=_utcnow())
            request.headers.update(signed)
        return request
