"""Transport: one signed (or token-carrying) HTTP exchange, retried on 429 / 5xx / timeouts.

Signing works on the request exactly as httpx will send it (its Host header, its encoded path, its
query pairs, the JSON body's bytes; a multipart body is sent with X-Sdk-Content-Sha256:
UNSIGNED-PAYLOAD, as the official SDK sends it), so what the server canonicalises is what was
signed. Each attempt is built and signed afresh: a retry after a long Retry-After must not carry a
stale X-Sdk-Date.

A refused connection is not retried: nothing listens there, and waiting seconds to say so helps
nobody. Timeouts, resets and 429 / 5xx answers are retried with exponential backoff.
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
Files = Mapping[str, tuple[str, bytes, str]] | None  # field -> (file name, content, content type)
START_HINT = ("Start the server there (`openfrs serve`, or `make serve` in a checkout), or point "
              "OPENFRS_ENDPOINT (--endpoint) at the one that runs.")


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
    """httpx.Client plus FRS authentication and retries; raises FRSClientError on failure.

    With neither ak/sk nor a token the requests go unsigned (a server run with OPENFRS_AUTH=off
    takes them; any other answers APIG.0301)."""

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

    @property
    def authenticated(self) -> bool:
        return self.token is not None or self.ak is not None

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, json: Any = None, params: Params = None,
                form: Mapping[str, str] | None = None, files: Files = None) -> httpx.Response:
        """The 2xx response; `path` is appended to the endpoint and must be percent-encoded.

        The body is `json`, or a multipart form of `form` text fields and `files`."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.http.send(self._build(method, path, params, json, form, files))
            except httpx.ConnectError as exc:  # refused, unknown host: retrying only delays the news
                reason = str(exc) or type(exc).__name__
                raise FRSConnectionError(f"cannot connect to {self.endpoint}: {reason}", START_HINT) from exc
            except httpx.TransportError as exc:
                if last:
                    raise FRSConnectionError(f"{type(exc).__name__} from {self.endpoint}: {exc}") from exc
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

    def _build(self, method: str, path: str, params: Params, json: Any,
               form: Mapping[str, str] | None, files: Files) -> httpx.Request:
        url = self.endpoint + path
        if files:
            request = self.http.build_request(method, url, params=params, data=dict(form or {}),
                                              files=dict(files))
            body = request.read()
            # As the official signer does for any non-JSON body (and APIG expects): the payload is
            # left out of the signature; method, path, query, headers and date are signed.
            headers = {"Content-Type": request.headers["content-type"],
                       "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}
            request.headers.update(headers)
        else:
            body = b"" if json is None else jsonlib.dumps(json, ensure_ascii=False,
                                                          separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json"} if json is not None else {}
            request = self.http.build_request(method, url, params=params, headers=headers,
                                              content=body or None)
        if self.token is not None:
            request.headers["X-Auth-Token"] = self.token
        elif self.ak is not None and self.sk is not None:
            target = request.url
            signed = signing.sign(method, target.netloc.decode("ascii"),
                                  target.raw_path.split(b"?", 1)[0].decode("ascii"),
                                  target.params.multi_items(), headers, body, self.ak, self.sk,
                                  now=_utcnow())
            request.headers.update(signed)
        return request
