"""Huawei APIG "SDK-HMAC-SHA256" request signing, one implementation for both sides: the server
verifies with it (api/auth_aksk.py) and openfrs.client signs with it, so the two cannot drift.

The rules are those of the official signer (huaweicloudsdkcore/signer/signer.py), which clients
of FRS already run:

  CanonicalRequest = METHOD \\n CanonicalURI \\n CanonicalQuery \\n CanonicalHeaders \\n
                     SignedHeaders \\n PayloadHash
  StringToSign     = "SDK-HMAC-SHA256" \\n X-Sdk-Date \\n hex(sha256(CanonicalRequest))
  Signature        = hex(HMAC-SHA256(SK, StringToSign))

CanonicalURI: each path segment percent-encoded (only "~" kept besides unreserved characters),
always ending in "/". CanonicalQuery: pairs sorted, key=value percent-encoded the same way, "&"
joined. CanonicalHeaders: "name:value\\n" for each signed header (names lower-cased, values
trimmed). PayloadHash: the empty-body hash for no body, else the X-Sdk-Content-Sha256 header when
sent (the SDK sends "UNSIGNED-PAYLOAD" for multipart bodies), else hex(sha256(body)).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "x-sdk-date"
CONTENT_HASH_HEADER = "x-sdk-content-sha256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
_AUTHORIZATION = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)$")


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    encoded = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def payload_hash(body: bytes, content_hash_header: str | None) -> str:
    if not body:
        return EMPTY_HASH
    return content_hash_header or hashlib.sha256(body).hexdigest()


def canonical_request(method: str, path: str, query: Iterable[tuple[str, str]],
                      headers: Mapping[str, str], signed_headers: list[str], body_hash: str) -> str:
    """`headers` keyed by lower-case name; every name in `signed_headers` must be present."""
    lines = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    return "\n".join([method.upper(), canonical_uri(path), canonical_query(query), lines,
                      ";".join(signed_headers), body_hash])


def signature(sk: str, sdk_date: str, canonical: str) -> str:
    to_sign = f"{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    return hmac.new(sk.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """(access key, signed header names, signature); ValueError when it is not this scheme."""
    match = _AUTHORIZATION.match(value.strip())
    if not match:
        raise ValueError("not an SDK-HMAC-SHA256 Authorization header")
    return match.group(1), match.group(2).lower().split(";"), match.group(3).lower()


def parse_date(value: str) -> datetime:
    """X-Sdk-Date (UTC, basic ISO 8601); ValueError when malformed."""
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)


def sign(method: str, host: str, path: str, query: list[tuple[str, str]], headers: dict[str, str],
         body: bytes, ak: str, sk: str, now: datetime | None = None) -> dict[str, str]:
    """Headers to send: `headers` plus Host, X-Sdk-Date and Authorization, every header signed
    (as the official SDK does; names with "_" are left unsigned, as it does too)."""
    out = {**headers, "Host": host,
           "X-Sdk-Date": (now or datetime.now(UTC)).strftime(DATE_FORMAT)}
    lowered = {name.lower(): str(value) for name, value in out.items()}
    signed = sorted(name for name in lowered if "_" not in name)
    body_hash = payload_hash(body, lowered.get(CONTENT_HASH_HEADER))
    canonical = canonical_request(method, path, query, lowered, signed, body_hash)
    digest = signature(sk, lowered[DATE_HEADER], canonical)
    out["Authorization"] = f"{ALGORITHM} Access={ak}, SignedHeaders={';'.join(signed)}, Signature={digest}"
    return out
