"""The OpenAPI document is complete and consistent, and /docs and /redoc load nothing from outside.

No model is needed: the app is driven without its lifespan (the document and the pages do not
touch the face service). Whether the server really answers as documented is
tests/api/test_schemathesis.py's job.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import jsonschema_rs
import pytest
from fastapi import Depends, Request
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.definitions import OPENAPI_31

from openfrs.api.app import create_app
from openfrs.api.auth import authenticate
from openfrs.api.openapi import document
from openfrs.config import Settings
from openfrs.errors import FRS_ERRORS

METHODS = ("get", "put", "post", "delete", "patch")
MANAGEMENT = {"show_project", "update_project", "update_subscription", "list_credentials",
              "create_credential", "update_credential", "rotate_credential", "delete_credential",
              "list_users", "create_user", "update_user", "delete_user"}  # api/routes/manage.py
FRS_SURFACE = {
    "face_detect", "face_compare", "create_face_set", "list_face_sets", "show_face_set", "delete_face_set",
    "add_faces", "show_faces", "delete_faces", "batch_delete_faces", "update_face", "search_faces",
    "list_face_persons", "show_subscription", "issue_token", "show_usage", "show_audit", "health",
    "prometheus_metrics",
    *(f"{name}_{version}" for version in ("v1", "v2") for name in (
        "face_quality", "blur_classify", "head_pose_estimate", "live_detect", "live_detect_face")),
}
BODY_OPTIONAL = {"rotate_credential"}  # no body: a day's grace
NO_BODY = {"create_credential"}


def _app(tmp_path, **settings):
    return create_app(Settings(data_dir=tmp_path, **{"auth": "on", **settings}))


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    return TestClient(_app(tmp_path_factory.mktemp("openapi")))  # no `with`: no lifespan, no models


@pytest.fixture(scope="module")
def spec(http) -> dict:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _refs(node: object):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _validator(spec: dict, schema: dict):
    """A validator for `schema` whose #/components/... references resolve in `spec`."""
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def test_the_document_is_valid_openapi_31(spec):
    assert spec["openapi"].startswith("3.1")
    jsonschema_rs.validator_for(OPENAPI_31).validate(spec)
    for name, schema in spec["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_reference_resolves(spec):
    for ref in set(_refs(spec)):
        assert ref.startswith("#/"), ref
        _resolve(spec, {"$ref": ref})  # KeyError when it does not


def test_every_route_is_described_with_ids_bodies_and_no_422(spec):
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(ids) == len(set(ids)) == 41
    assert set(ids) == FRS_SURFACE | MANAGEMENT
    for path, method, operation in _operations(spec):
        assert "422" not in operation["responses"], f"{method} {path}"
        parameters = [_resolve(spec, p) for p in operation["parameters"]]
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"
        if operation["operationId"] in NO_BODY:
            assert "requestBody" not in operation, f"{method} {path}"
        elif method in ("post", "put"):
            required = operation["operationId"] not in BODY_OPTIONAL
            assert operation["requestBody"]["required"] is required, f"{method} {path}"
        for status, response in operation["responses"].items():
            assert "X-Request-Id" in response["headers"], f"{method} {path} {status}"
            assert response["content"], f"{method} {path} {status}"
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_image_operations_take_json_and_multipart_with_the_real_field_names(spec):
    def form(path: str) -> dict:
        content = spec["paths"][path]["post"]["requestBody"]["content"]
        assert "application/json" in content
        return _resolve(spec, content["multipart/form-data"]["schema"])["properties"]

    assert form("/v2/{project_id}/face-detect")["image_file"]["format"] == "binary"
    compare = form("/v2/{project_id}/face-compare")
    assert {"image1_file", "image2_file", "image1_base64", "image2_url"} <= set(compare)
    live = form("/v1/{project_id}/live-detect")
    assert {"video_file", "actions", "action_time", "nod_threshold"} <= set(live)
    search = form("/v2/{project_id}/face-sets/{face_set_name}/search")
    assert {"image_file", "face_id", "top_n", "sort", "return_fields", "quality_filter"} <= set(search)
    listing = spec["paths"]["/v2/{project_id}/face-sets/{face_set_name}/faces"]["get"]["parameters"]
    assert {"face_id", "offset", "limit"} <= {p.get("name") for p in listing}


def test_the_extensions_are_optional_members_of_the_frs_replies(spec):
    """group, person_id and the persons listing, as the web console reads them; FRS clients that
    know none of them see FRS's replies (required members unchanged)."""
    schemas = spec["components"]["schemas"]
    info = schemas["FaceSetInfo"]
    assert "group" in info["properties"] and "group" not in info["required"]
    assert set(info["properties"]["group"]["required"]) == {"group_id", "group_name", "tag", "descriptions"}
    for reply in ("FacesResponse", "SearchResponse"):
        face = schemas[reply]["properties"]["faces"]["items"]
        assert "person_id" in face["properties"] and "person_id" not in face["required"], reply
        assert {"face_id", "bounding_box"} <= set(face["required"]), reply
    person = schemas["FacePersonsResponse"]["properties"]["persons"]["items"]
    assert set(person["required"]) == {"person_id", "person_name", "gender", "face_ids", "descriptions",
                                       "create_time"}
    persons = spec["paths"]["/v2/{project_id}/face-sets/{face_set_name}/persons"]["get"]
    limit = next(p for p in persons["parameters"] if p.get("name") == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)
    codes = persons["responses"]["400"]["content"]["application/json"]["examples"]
    assert {"FRS.0012", "FRS.0019", "FRS.0020"} <= set(codes)  # the search sub-service rule
    listing = spec["paths"]["/v2/{project_id}/face-sets/{face_set_name}/faces"]["get"]["parameters"]
    assert "filter" in {p.get("name") for p in listing}


def test_management_operations_are_described_with_their_bodies(spec):
    rotate = spec["paths"]["/v1/{project_id}/credentials/{ak}/rotate"]["post"]
    assert rotate["requestBody"]["required"] is False
    assert rotate["tags"] == ["management (OpenFRS extension)"]
    created = spec["paths"]["/v1/{project_id}/credentials"]["post"]["responses"]
    assert "201" in created and "200" not in created
    sk = _resolve(spec, created["201"]["content"]["application/json"]["schema"])
    assert _resolve(spec, sk["properties"]["credential"])["required"] == ["ak", "sk"]
    subscribe = spec["paths"]["/v1/{project_id}/subscribe/{service}"]["put"]
    parameters = [_resolve(spec, p) for p in subscribe["parameters"]]
    service = next(p for p in parameters if p["name"] == "service")
    assert service["schema"]["enum"] == ["detect", "compare", "search", "live_detect"]
    codes = subscribe["responses"]["400"]["content"]["application/json"]["examples"]
    assert "FRS.0020" not in codes  # account calls: no sub-service rule


def test_error_answers_have_the_frs_body_and_the_servers_status_for_each_code(spec):
    for path, method, operation in _operations(spec):
        statuses = {status for status in operation["responses"] if int(status) >= 400}
        assert "500" in statuses, f"{method} {path}"
        for status in statuses:
            media = operation["responses"][status]["content"]["application/json"]
            schema = media["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
            codes = schema["allOf"][1]["properties"]["error_code"]["enum"]
            assert all(FRS_ERRORS[code][0] == int(status) for code in codes), f"{method} {path} {status}"
            assert set(media["examples"]) == set(codes)
        if "429" in statuses:
            assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_security_aksk_token_and_the_open_operations(spec, tmp_path):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["aksk"] == {**schemes["aksk"], "type": "apiKey", "in": "header", "name": "Authorization"}
    assert schemes["sdkDate"]["name"] == "X-Sdk-Date"
    assert schemes["token"]["name"] == "X-Auth-Token"
    signed = [{"aksk": [], "sdkDate": []}, {"token": []}]
    for path, method, operation in _operations(spec):
        open_ = path in ("/health", "/v3/auth/tokens", "/metrics")
        assert operation["security"] == ([] if open_ else signed), f"{method} {path}"
        assert ("401" in operation["responses"]) == (path not in ("/health",)), f"{method} {path}"
    off = TestClient(_app(tmp_path / "off", auth="off", metrics_token="s3cret")).get("/openapi.json").json()
    assert off["paths"]["/v2/{project_id}/face-detect"]["post"]["security"] == [*signed, {}]
    assert off["paths"]["/metrics"]["get"]["security"] == [{"metricsToken": []}]


def test_examples_are_valid_requests_and_errors(spec):
    for _, _, operation in _operations(spec):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for example in media.get("examples", {}).values():
                _validator(spec, media["schema"]).validate(_resolve(spec, example)["value"])
        for response in operation["responses"].values():
            media = response["content"].get("application/json", {})
            for example in media.get("examples", {}).values():
                _validator(spec, media["schema"]).validate(_resolve(spec, example)["value"])
    assert spec["paths"]["/v2/{project_id}/face-detect"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]


def test_a_route_the_table_does_not_describe_breaks_the_document(tmp_path):
    app = _app(tmp_path)

    @app.get("/v2/{project_id}/something-new")
    async def something_new(request: Request, principal=Depends(authenticate)) -> dict:
        return {}

    with pytest.raises(LookupError, match="something-new"):
        document(app, Settings(data_dir=tmp_path))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_assets_this_server_serves(http, page):
    response = http.get(page)
    assert response.status_code == 200
    html = response.text
    assert "http://" not in html and "https://" not in html
    parser = _Links()
    parser.feed(html)
    assert len(parser.links) >= 2  # the script and the favicon, at least
    for link in parser.links:
        assert link.startswith("/") and not link.startswith("//"), link
        asset = http.get(link)
        assert asset.status_code == 200 and asset.content, link
    if page == "/docs":
        assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io
    else:
        assert "fonts.googleapis" not in html
        bundle = http.get("/docs-assets/redoc/redoc.standalone.js").text
        assert "cdn.redoc.ly" not in bundle  # its logo comes from the page's own path
        assert http.get("/redoc/logo-mini.svg").status_code == 200


def test_fastapis_cdn_pages_are_gone(http):
    assert http.get("/docs/oauth2-redirect").status_code == 404
