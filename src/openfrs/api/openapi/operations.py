"""What each operation takes and answers, keyed by (method, path) as the routes declare them.

The routes parse their bodies by hand (api/body.py), so FastAPI sees no parameters or bodies;
this table says what they really accept, which FRS codes each can answer (besides those every
authenticated call can: `AUTH_ERRORS`), and which example request fills Swagger's "Try it out".
Statuses come from openfrs.errors, never from here. build.py applies it to the generated document.
"""

from __future__ import annotations

from dataclasses import dataclass

from openfrs.api.frs_requests import MAX_OFFSET, PERSONS_LIMIT
from openfrs.api.openapi.schemas import JsonSchema
from openfrs.service.setfaces import LIST_WINDOW

# What any call that names a project may answer once auth is on (api/auth.py).
AUTH_ERRORS = ("APIG.0301", "FRS.0002", "FRS.0028", "FRS.0202", "FRS.0033")
SERVICE_ERRORS = ("FRS.0019", "FRS.0020")  # calls of a sub-service (detect, compare, search, live_detect)
JSON_ERRORS = ("FRS.0011", "FRS.0012", "FRS.0014", "FRS.0017")  # a JSON body (media.parse_json_body)
IMAGE_ERRORS = (*JSON_ERRORS, "FRS.0013", "FRS.0015", "FRS.0016", "FRS.0021")  # + the image itself
FRS = "frs"  # security: AK/SK signature or X-Auth-Token
OPEN = "open"  # no credentials
METRICS = "metrics"  # the metrics bearer token (or a loopback client)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    reply: str  # component schema of the success answer
    errors: tuple[str, ...] = ()  # FRS codes of this operation's own refusals
    body: str | None = None  # component schema of the JSON body
    body_required: bool = True  # False: the body may be left out
    form: bool = False  # the body may also be multipart/form-data (the `...Form` twin)
    example: str | None = None  # components/examples entry of the JSON body
    query: tuple[JsonSchema, ...] = ()  # query parameters
    security: str = FRS
    service: bool = True  # admitted per sub-service (FRS.0019 / FRS.0020)
    status: int = 200
    media_type: str = "application/json"  # of the success answer
    description: str = ""


def query(name: str, schema: JsonSchema, description: str, example: object = None) -> JsonSchema:
    parameter: JsonSchema = {"name": name, "in": "query", "required": False, "schema": schema,
                             "description": description}
    if example is not None:
        parameter["example"] = example
    return parameter


SET = "/v2/{project_id}/face-sets"
FACES = SET + "/{face_set_name}/faces"
WINDOW = f"offset + limit must be at most {LIST_WINDOW:,} (FRS: a face set is not a storage system)."

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/v2/{project_id}/face-detect"): Operation(
        "face_detect", "DetectResponse", (*IMAGE_ERRORS, "FRS.0501"), "DetectRequest", form=True,
        example="detect", description="Every face of at least OPENFRS_MIN_FACE_PX, largest first; "
        "`attributes` asks for head pose, gender, age, landmarks, quality, face angle (docs/attributes.md)."),
    ("POST", "/v2/{project_id}/face-compare"): Operation(
        "face_compare", "CompareResponse", (*IMAGE_ERRORS, "FRS.0501"), "CompareRequest", form=True,
        example="compare", description="The largest face of each image; `similarity` >= 0.93 is the "
        "same person at a false-accept rate of 1e-3."),
    ("POST", SET): Operation(
        "create_face_set", "FaceSetResponse", (*JSON_ERRORS, "FRS.0301", "FRS.0305"),
        "CreateFaceSetRequest", example="create_face_set",
        description="At most OPENFRS_MAX_FACE_SETS sets per project (FRS.0305)."),
    ("GET", SET): Operation("list_face_sets", "FaceSetListResponse"),
    ("GET", SET + "/{face_set_name}"): Operation("show_face_set", "FaceSetResponse", ("FRS.0302",)),
    ("DELETE", SET + "/{face_set_name}"): Operation(
        "delete_face_set", "DeleteFaceSetResponse", ("FRS.0302",),
        description="The set and all its faces."),
    ("POST", FACES): Operation(
        "add_faces", "FacesResponse",
        (*IMAGE_ERRORS, "FRS.0302", "FRS.0306", "FRS.0404", "FRS.0405", "FRS.0406", "FRS.0408"),
        "AddFacesRequest", form=True, example="add_faces",
        description="Every face of the image (or the largest with `single`), committed before the "
        "answer. With a `quality_filter`, faces that fall short are listed in `unindexed_faces`."),
    ("GET", FACES): Operation(
        "show_faces", "FacesResponse", ("FRS.0012", "FRS.0302", "FRS.0403"),
        description="One face by `face_id`, or a page of faces by `offset` and `limit`, in the order "
        "they were added; with `filter` (extension) a page of the faces it matches. " + WINDOW,
        query=(query("face_id", {"type": "string"}, "Show this face (offset and limit are ignored)."),
               query("offset", {"type": "integer", "minimum": 0, "maximum": LIST_WINDOW, "default": 0},
                     "First face of the page.", 0),
               query("limit", {"type": "integer", "minimum": 1, "maximum": LIST_WINDOW, "default": 5},
                     "Faces on the page.", 5),
               query("filter", {"type": "string"}, "OpenFRS extension: only the faces this filter "
                     "matches (search's filter language, FRS.0012 when malformed).", "dept:it"))),
    ("GET", SET + "/{face_set_name}/persons"): Operation(
        "list_face_persons", "FacePersonsResponse", ("FRS.0012", "FRS.0302"),
        description="OpenFRS extension: the Tencent persons of a set that is a group (`group` in its "
        "face_set_info), in GetPersonList's order; a set that is no group has none (`total` 0).",
        query=(query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                     "First person of the page.", 0),
               query("limit", {"type": "integer", "minimum": 1, "maximum": PERSONS_LIMIT, "default": 100},
                     "Persons on the page.", 100))),
    ("DELETE", FACES): Operation(
        "delete_faces", "FaceCountResponse",
        ("FRS.0011", "FRS.0012", "FRS.0302", "FRS.0401", "FRS.0402", "FRS.0403"),
        description="Exactly one query parameter: `face_id`, `external_image_id`, or one of the set's "
        "own fields with a value (`?dept=it`).",
        query=(query("face_id", {"type": "string"}, "Delete this face (FRS.0403 when there is none)."),
               query("external_image_id", {"type": "string"}, "Delete every face of this image.",
                     "collins"))),
    ("DELETE", FACES + "/batch"): Operation(
        "batch_delete_faces", "FaceCountResponse", (*JSON_ERRORS, "FRS.0302", "FRS.0402", "FRS.0407"),
        "BatchDeleteRequest", example="batch_delete",
        description="Every face the filter matches (FRS.0407 when none)."),
    ("PUT", FACES): Operation(
        "update_face", "FaceCountResponse",
        (*JSON_ERRORS, "FRS.0302", "FRS.0303", "FRS.0405", "FRS.0406"), "UpdateFaceRequest",
        example="update_face"),
    ("POST", SET + "/{face_set_name}/search"): Operation(
        "search_faces", "SearchResponse",
        (*IMAGE_ERRORS, "FRS.0032", "FRS.0302", "FRS.0304", "FRS.0306", "FRS.0307", "FRS.0402", "FRS.0403"),
        "SearchRequest", form=True, example="search",
        description="The set's faces most like the probe, best first, at most `top_n`, similarity "
        "at least `threshold`, among those the `filter` matches."),
    ("GET", "/v1/{project_id}/subscribe"): Operation(
        "show_subscription", "SubscriptionResponse", service=False,
        description="FRS ShowSubscribes: which sub-services the project may call."),
    ("POST", "/v3/auth/tokens"): Operation(
        "issue_token", "TokenResponse", (*JSON_ERRORS, "APIG.0301"), "TokenRequest", example="token",
        security=OPEN, service=False, status=201,
        description="The token comes in the X-Subject-Token header; send it as X-Auth-Token. A wrong "
        "project, user or password is APIG.0301 alike."),
    ("GET", "/v1/{project_id}/usage"): Operation(
        "show_usage", "UsageResponse", ("FRS.0117",), service=False,
        query=(query("start_date", {"type": "string", "format": "date"}, "First day (UTC), inclusive.",
                     "2026-01-01"),
               query("end_date", {"type": "string", "format": "date"}, "Last day (UTC), inclusive."))),
    ("GET", "/v1/{project_id}/audit"): Operation(
        "show_audit", "AuditResponse", ("FRS.0012",), service=False,
        query=(query("marker", {"type": "integer", "minimum": 0, "default": 0},
                     "Show events after this seq (the previous page's next_marker)."),
               query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                     "Events on the page."),
               query("action", {"type": "string"}, "Only this action (any case).", "addFaces"))),
    ("GET", "/health"): Operation("health", "HealthResponse", security=OPEN, service=False,
                                  description="`providers`: those the loaded ONNX sessions really use."),
    ("GET", "/metrics"): Operation(
        "prometheus_metrics", "Metrics", ("APIG.0301",), security=METRICS, service=False,
        media_type="text/plain",
        description="Prometheus text format, FRS Cloud Eye metric names. Wants `Authorization: Bearer` "
        "with OPENFRS_METRICS_TOKEN when one is set; otherwise, with auth on, loopback clients only."),
}

# The management API (OpenFRS extension, api/routes/manage.py): a project's own settings and access.
CREDENTIALS = "/v1/{project_id}/credentials"
USERS = "/v1/{project_id}/users"
UNKNOWN = ("FRS.0012",)  # no such project (auth off), credential or user of the project
OWN = " Refused (FRS.0012) for the credential or user the request itself uses."


def _manage(operation_id: str, reply: str, body: str | None = None, description: str = "",
            **more: object) -> Operation:
    return Operation(operation_id, reply, JSON_ERRORS if body else UNKNOWN, body, service=False,
                     description=description, **more)  # type: ignore[arg-type]


OPERATIONS.update({
    ("GET", "/v1/{project_id}/project"): _manage(
        "show_project", "ProjectResponse", description="The project's settings and its /subscribe document."),
    ("PUT", "/v1/{project_id}/project"): _manage(
        "update_project", "ProjectResponse", "UpdateProjectRequest", "The project's QPS per API.",
        example="set_qps"),
    ("PUT", "/v1/{project_id}/subscribe/{service}"): _manage(
        "update_subscription", "SubscriptionChangeResponse", "UpdateSubscriptionRequest",
        "Apply for (or give up) a sub-service, as FRS's console does.", example="subscribe"),
    ("GET", CREDENTIALS): _manage("list_credentials", "CredentialListResponse",
                                  description="The project's access keys, never their SKs."),
    ("POST", CREDENTIALS): _manage("create_credential", "CredentialResponse", status=201,
                                   description="A new AK/SK; the SK is in this answer only."),
    ("PUT", CREDENTIALS + "/{ak}"): _manage(
        "update_credential", "CredentialStateResponse", "UpdateCredentialRequest",
        "Disable or enable an access key." + OWN, example="disable_credential"),
    ("POST", CREDENTIALS + "/{ak}/rotate"): _manage(
        "rotate_credential", "RotationResponse", "RotateCredentialRequest",
        "A successor AK/SK (the SK shown once); the old key signs `grace_seconds` more.",
        example="rotate", body_required=False),
    ("DELETE", CREDENTIALS + "/{ak}"): _manage("delete_credential", "CredentialDeletedResponse",
                                               description="Delete an access key." + OWN),
    ("GET", USERS): _manage("list_users", "UserListResponse", description="The project's users."),
    ("POST", USERS): _manage("create_user", "UserResponse", "CreateUserRequest",
                             "A user who signs in with POST /v3/auth/tokens.", example="create_user",
                             status=201),
    ("PUT", USERS + "/{name}"): _manage(
        "update_user", "UserUpdateResponse", "UpdateUserRequest",
        "Disable or enable a user, or set a new password (its tokens end)." + OWN.replace(
            "Refused", "Disabling is refused"), example="update_user"),
    ("DELETE", USERS + "/{name}"): _manage("delete_user", "UserDeletedResponse",
                                           description="Delete a user and its tokens." + OWN),
})

# The legacy and liveness APIs answer under /v1 and /v2 alike.
for _version in ("v1", "v2"):
    for _name, _reply in (("face-quality", "FaceQualityResponse"), ("blur-classify", "BlurResponse"),
                          ("head-pose-estimate", "HeadPoseResponse")):
        OPERATIONS[("POST", f"/{_version}/{{project_id}}/face/quality/{_name}")] = Operation(
            f"{_name.replace('-', '_')}_{_version}", _reply, (*IMAGE_ERRORS, "FRS.0501"), "ImageRequest",
            form=True, example="image", description="The largest face (legacy FRS v1 API).")
    OPERATIONS[("POST", f"/{_version}/{{project_id}}/live-detect")] = Operation(
        f"live_detect_{_version}", "LiveDetectResponse",
        ("FRS.0011", "FRS.0012", "FRS.0013", "FRS.0014", "FRS.0017", "FRS.0021",
         "FRS.0701" if _version == "v1" else "FRS.0751", "FRS.0702", "FRS.0704", "FRS.0706"),
        "LiveDetectRequest", form=True, example="live_detect",
        description="Did one real person do the asked actions, in order? `alive` needs every action, "
        "one person throughout, frames that pass silent liveness, and none of warnings 4, 5, 7.")
    OPERATIONS[("POST", f"/{_version}/{{project_id}}/live-detect-face")] = Operation(
        f"live_detect_face_{_version}", "LiveDetectFaceResponse", (*IMAGE_ERRORS, "FRS.0707"),
        "ImageRequest", form=True, example="image",
        description="Silent liveness of the largest face; `alive` needs confidence >= 0.5 and no "
        "quality warning 101-105.")
