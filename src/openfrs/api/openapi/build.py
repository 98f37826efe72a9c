"""The OpenAPI document: FastAPI's generated paths, completed operation by operation from
operations.py (parameters, bodies, replies, FRS errors, security) and schemas.py.

Error statuses and messages come from openfrs.errors.FRS_ERRORS, so the document cannot say 400
where the server answers 429. A route without an entry in OPERATIONS (or an entry without a
route) is a build error, which tests/api/test_openapi.py turns into a failing test.
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from openfrs.api.openapi.examples import REQUEST_EXAMPLES
from openfrs.api.openapi.operations import (
    AUTH_ERRORS,
    FRS,
    METRICS,
    OPERATIONS,
    SERVICE_ERRORS,
    Operation,
)
from openfrs.api.openapi.schemas import components, ref
from openfrs.config import Settings
from openfrs.errors import FRS_ERRORS, FRSError
from openfrs.service.tenancy import SERVICES

DESCRIPTION = """\
Self-hosted face recognition, compatible with Huawei Cloud FRS v2: the paths, fields and error
codes are FRS's, so huaweicloudsdkfrs works unchanged; fields marked *extension* are OpenFRS's.

**Authentication.** Every call that names a project is signed with an access key (AK/SK,
`Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>` plus
`X-Sdk-Date`, as the Huawei Cloud SDKs sign) or carries an `X-Auth-Token` from
`POST /v3/auth/tokens`. A browser cannot compute the signature: to use "Try it out", get a token
first and give it under *Authorize*. With `OPENFRS_AUTH=off` no credential is needed.

**Images** come as `image_base64`, `image_url` or a multipart `image_file` (exactly one; compare
takes `image1_*` and `image2_*`): JPEG, PNG, BMP or WebP, at most 8 MB.

**Errors** always have the FRS shape `{"error_code": "FRS.0501", "error_msg": "..."}`; every
answer carries `X-Request-Id`. Unknown paths and methods answer APIG.0101 (404 / 405).
"""
SCHEMES = {
    "aksk": {"type": "apiKey", "in": "header", "name": "Authorization", "description":
             "`SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>`: HMAC-SHA256 with "
             "the SK over the canonical request (method, path, sorted query, the signed headers, which "
             "must include host, and the body's SHA-256), as huaweicloudsdkcore's signer computes it. "
             "Sent with X-Sdk-Date."},
    "sdkDate": {"type": "apiKey", "in": "header", "name": "X-Sdk-Date",
                "description": "The signing time, `YYYYMMDDTHHMMSSZ` (UTC), within 15 minutes of the "
                               "server's clock."},
    "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
              "description": "A token from POST /v3/auth/tokens (its X-Subject-Token header)."},
    "metricsToken": {"type": "http", "scheme": "bearer", "description": "OPENFRS_METRICS_TOKEN."},
}
HEADERS = {
    "X-Request-Id": {"description": "The caller's own X-Request-Id when it is a sane token "
                                    "([A-Za-z0-9._-], at most 128), else a new one.",
                     "required": True, "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again.", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-Subject-Token": {"description": "The token: send it as X-Auth-Token.", "required": True,
                        "schema": {"type": "string"}},
}
PARAMETERS = {
    "project_id": {"name": "project_id", "in": "path", "required": True, "schema": {"type": "string"},
                   "description": "The project (tenant). With auth on it must be the credential's own "
                                  "(FRS.0028 otherwise); with OPENFRS_AUTH=off any name."},
    "face_set_name": {"name": "face_set_name", "in": "path", "required": True, "example": "employees",
                      "schema": {"type": "string", "minLength": 1}, "description": "The face set."},
    "service": {"name": "service", "in": "path", "required": True, "example": "search",
                "schema": {"type": "string", "enum": list(SERVICES)}, "description": "A sub-service."},
    "ak": {"name": "ak", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "An access key of the project."},
    "name": {"name": "name", "in": "path", "required": True, "example": "operator",
             "schema": {"type": "string"}, "description": "A user of the project."},
}


def _header(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def error_codes(operation: Operation) -> list[str]:
    """Every FRS code the operation can answer, its own first."""
    codes = list(operation.errors)
    if operation.security == FRS:
        codes += [*AUTH_ERRORS, *(SERVICE_ERRORS if operation.service else ())]
    codes.append("FRS.0018")  # a bug of ours, answered by the request-id middleware
    return list(dict.fromkeys(codes))


def _error_responses(operation: Operation) -> dict[str, dict]:
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in error_codes(operation):
        by_status[FRS_ERRORS[code][0]].append(code)
    responses = {}
    for status, codes in sorted(by_status.items()):
        headers = {"X-Request-Id": _header("X-Request-Id")}
        if status == 429:
            headers["Retry-After"] = _header("Retry-After")
        responses[str(status)] = {
            "description": ", ".join(codes) + " (each code's message in the examples)",
            "headers": headers,
            "content": {"application/json": {
                "schema": {"allOf": [ref("Error"), {"properties": {"error_code": {"enum": codes}}}]},
                "examples": {code: {"$ref": f"#/components/examples/{code}"} for code in codes},
            }},
        }
    return responses


def _security(operation: Operation, settings: Settings) -> list[dict]:
    if operation.security == FRS:
        signed = [{"aksk": [], "sdkDate": []}, {"token": []}]
        return signed if settings.auth_enabled else [*signed, {}]
    if operation.security == METRICS and settings.metrics_token:
        return [{"metricsToken": []}]
    return []  # open, or /metrics without a token (loopback clients only while auth is on)


def _request_body(operation: Operation) -> dict | None:
    if operation.body is None:
        return None
    json_body: dict = {"schema": ref(operation.body)}
    if operation.example:
        json_body["examples"] = {operation.example: {"$ref": f"#/components/examples/{operation.example}"}}
    content = {"application/json": json_body}
    if operation.form:
        content["multipart/form-data"] = {"schema": ref(operation.body.removesuffix("Request") + "Form")}
    return {"required": operation.body_required, "content": content}


def _operation(path: str, generated: dict, operation: Operation, settings: Settings) -> dict:
    success_headers = {"X-Request-Id": _header("X-Request-Id")}
    if operation.operation_id == "issue_token":
        success_headers["X-Subject-Token"] = _header("X-Subject-Token")
    success_schema = {"type": "string"} if operation.media_type == "text/plain" else ref(operation.reply)
    out = {
        "tags": generated.get("tags", []),
        "summary": generated.get("summary", ""),
        "description": operation.description,
        "operationId": operation.operation_id,
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in PARAMETERS
                       if "{" + name + "}" in path] + list(operation.query),
        "responses": {str(operation.status): {"description": "Success.", "headers": success_headers,
                                              "content": {operation.media_type: {"schema": success_schema}}},
                      **_error_responses(operation)},
        "security": _security(operation, settings),
    }
    body = _request_body(operation)
    if body is not None:
        out["requestBody"] = body
    return out


def _error_examples() -> dict[str, dict]:
    return {code: {"summary": FRSError(code).message,
                   "value": {"error_code": code, "error_msg": FRSError(code).message}}
            for code in FRS_ERRORS}


def document(app: FastAPI, settings: Settings) -> dict:
    """The complete OpenAPI document of `app` (LookupError when a route and the table disagree)."""
    spec = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                       description=DESCRIPTION, routes=app.routes)
    described = set()
    for path, methods in spec["paths"].items():
        for method, generated in methods.items():
            key = (method.upper(), path)
            if key not in OPERATIONS:
                raise LookupError(f"{method.upper()} {path} is not described in api/openapi/operations.py")
            methods[method] = _operation(path, generated, OPERATIONS[key], settings)
            described.add(key)
    stale = set(OPERATIONS) - described
    if stale:
        raise LookupError(f"api/openapi/operations.py describes routes that do not exist: {sorted(stale)}")
    spec["components"] = {"schemas": components(), "parameters": PARAMETERS, "headers": HEADERS,
                          "examples": {**REQUEST_EXAMPLES, **_error_examples()},
                          "securitySchemes": SCHEMES}
    return spec
