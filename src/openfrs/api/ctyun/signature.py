"""CTyun's request signature (shared/docs/ctyun.md §5), as the server recomputes it.

  request_str = METHOD \\n PATH \\n QUERY \\n X-CTYUN-DT \\n hex(sha1(body))    (no trailing newline)
  sign        = hex(HMAC-SHA256(key = AppSecret, request_str))
  header      = Authorization: CTYUN <AppKey>:<sign>

PATH is the request-line path as sent (no query), QUERY the raw text after "?" (empty when
absent), X-CTYUN-DT Unix time in milliseconds, the body its exact bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SCHEME = "CTYUN"
_AUTHORIZATION = re.compile(r"CTYUN ([^\s:]+):([0-9a-fA-F]{64})")


def parse_authorization(value: str) -> tuple[str, str]:
    """(AppKey, sign in lower case); ValueError unless the header is `CTYUN <AppKey>:<Sign>`."""
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match is None:
        raise ValueError("the Authorization header must be CTYUN <AppKey>:<Sign> (hex HMAC-SHA256)")
    return match.group(1), match.group(2).lower()


def request_string(method: str, path: str, query: str, dt: str, body: bytes) -> str:
    return "\n".join([method.upper(), path, query, dt, hashlib.sha1(body).hexdigest()])


def sign(app_secret: str, request_str: str) -> str:
    return hmac.new(app_secret.encode(), request_str.encode(), hashlib.sha256).hexdigest()
