"""TC3-HMAC-SHA256, exactly as the official Tencent Cloud SDKs sign (docs: shared/docs/tencent-iai.md §3).

  CanonicalRequest = METHOD \\n "/" \\n query (GET: as sent, unsorted; POST: "") \\n
                     "name:value\\n" per signed header \\n signed header names \\n hex(sha256(payload))
  StringToSign     = "TC3-HMAC-SHA256" \\n timestamp \\n date/service/tc3_request \\n
                     hex(sha256(CanonicalRequest))
  Key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request")
  Signature        = hex(HMAC(Key, StringToSign))

The payload is the body's exact bytes (never re-serialised: SDKs differ in JSON spacing), the empty
string for GET, or the literal "UNSIGNED-PAYLOAD" when X-TC-Content-SHA256 says so.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{4}-\d{2}-\d{2})/([^/,\s]+)/tc3_request\s*,"
    r"\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class Authorization:
    secret_id: str
    date: str  # YYYY-MM-DD, the UTC day of X-TC-Timestamp
    service: str  # "iai" for the face APIs
    signed_headers: list[str]  # lower-case names, in the order signed
    signature: str  # lower-case hex


def parse_authorization(value: str) -> Authorization:
    """The Authorization header's parts; ValueError when it is not a TC3 header."""
    match = _AUTHORIZATION.match(value.strip())
    if not match:
        raise ValueError("the Authorization header is not TC3-HMAC-SHA256 Credential=..., "
                         "SignedHeaders=..., Signature=...")
    secret_id, date, service, headers, given = match.groups()
    return Authorization(secret_id, date, service, headers.lower().split(";"), given.lower())


def payload_hash(body: bytes, content_sha256: str | None) -> str:
    payload = UNSIGNED_PAYLOAD.encode() if content_sha256 == UNSIGNED_PAYLOAD else body
    return hashlib.sha256(payload).hexdigest()


def canonical_request(method: str, query: str, headers: Mapping[str, str], signed_headers: list[str],
                      body_hash: str) -> str:
    """`headers` keyed by lower-case name; every name in `signed_headers` must be present."""
    lines = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    return "\n".join([method.upper(), "/", query, lines, ";".join(signed_headers), body_hash])


def signature(secret_key: str, timestamp: str, date: str, service: str, canonical: str) -> str:
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
