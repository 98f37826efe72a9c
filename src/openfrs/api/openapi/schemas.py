"""The JSON Schemas of the OpenAPI document, each written once: request bodies and replies.

Replies are closed (`additionalProperties: false`): the API fuzz test (tests/api/test_schemathesis.py)
validates every answer of a real server against them, so a field added to a reply without being
described here fails it. Request bodies stay open, as the server ignores fields it does not know.
Multipart forms are derived from the JSON bodies (`form_of`), not written twice.
"""

from __future__ import annotations

from openfrs.service.facesets import FIELD_TYPES, MAX_FIELDS
from openfrs.service.quality_gate import LEVELS
from openfrs.service.search_params import MAX_TOP_N
from openfrs.service.tenancy import MAX_ROTATION_GRACE_S, SERVICES
from openfrs.vision.types import LANDMARK_NAMES

JsonSchema = dict[str, object]
REASONS = ["SMALL_BOUNDING_BOX", "LOW_CONFIDENCE", "LOW_SHARPNESS", "EXTREME_POSE", "LOW_BRIGHTNESS",
           "FACE_OCCLUDED", "LOW_FACE_QUALITY"]  # service/quality_gate.refusal_reasons


def ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict[str, JsonSchema], required: list[str] | None = None,
           description: str = "") -> JsonSchema:
    """A reply object: these properties and no others."""
    schema: JsonSchema = {"type": "object", "properties": properties, "additionalProperties": False,
                          "required": list(properties) if required is None else required}
    if description:
        schema["description"] = description
    return schema


def _open(properties: dict[str, JsonSchema], required: list[str] | None = None,
          description: str = "") -> JsonSchema:
    """A request object: unknown fields are ignored by the server."""
    schema: JsonSchema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
UNKNOWN = {"type": "string", "const": "unknown", "description": "No shipped model measures it."}


def nullable(schema: JsonSchema) -> JsonSchema:
    return {"anyOf": [schema, {"type": "null"}]}


# -- requests -------------------------------------------------------------------------------------

def image_fields(prefix: str = "image", what: str = "image") -> dict[str, JsonSchema]:
    """`{prefix}_base64` and `{prefix}_url`; the form adds `{prefix}_file`. Exactly one is given."""
    return {
        f"{prefix}_base64": {"type": "string", "description":
                             f"The {what}, base64 (a data: prefix, line breaks, the urlsafe alphabet and "
                             f"missing padding are tolerated). Exactly one of {prefix}_base64, "
                             f"{prefix}_url or (multipart) {prefix}_file."},
        f"{prefix}_url": {"type": "string", "format": "uri", "description":
                          f"An http(s) URL of the {what}; private, loopback and link-local addresses "
                          "are refused unless OPENFRS_URL_ALLOW_HOSTS names them."},
    }


EXTERNAL_IMAGE_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,36}$",
                     "description": "1-36 of [A-Za-z0-9_-]; generated when absent."}
FIELD_VALUES = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
                "description": "Values of fields the face set declares, each of its declared type "
                               "(FRS.0405 undeclared, FRS.0406 wrong type).",
                "example": {"employee_no": 1001, "dept": "it"}}
QUALITY_FILTER = {"type": "string", "enum": list(LEVELS), "description":
                  "OpenFRS extension (after AWS IndexFaces): refuse faces below this quality. "
                  "Default NONE."}

USER_NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "example": "operator",
             "description": "1-64 letters, digits, '_', '.' or '-'."}
PASSWORD = {"type": "string", "format": "password", "minLength": 8, "description": "At least 8 characters."}

REQUESTS: dict[str, JsonSchema] = {
    "DetectRequest": _open({
        **image_fields(),
        "attributes": {"type": "string", "pattern": "^[0-9, ]*$", "example": "0,1,2,12,21",
                       "description": "Comma-separated FRS attribute codes (0-13, 21; unknown codes "
                                      "ignored); each adds its fields under `attributes`."},
    }),
    "CompareRequest": _open({**image_fields("image1", "first image"),
                             **image_fields("image2", "second image")}),
    "ImageRequest": _open(image_fields()),
    "AddFacesRequest": _open({
        **image_fields(),
        "external_image_id": EXTERNAL_IMAGE_ID,
        "external_fields": FIELD_VALUES,
        "single": {"type": "boolean", "description": "true: only the largest face; default every face."},
        "quality_filter": QUALITY_FILTER,
    }),
    "SearchRequest": _open({
        **image_fields(),
        "face_id": {"type": "string", "description": "Search with a stored face instead of an image."},
        "top_n": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_N, "default": 10},
        "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0},
        "filter": {"type": "string", "example": "dept:it && employee_no:[1000 TO *]",
                   "description": "FRS filter syntax over the set's fields."},
        "sort": {"type": "array", "items": {"type": "object", "additionalProperties":
                                            {"type": "string", "enum": ["asc", "desc"]}},
                 "example": [{"employee_no": "asc"}],
                 "description": "Order by numeric fields after similarity (FRS.0032 otherwise)."},
        "return_fields": {"type": "array", "items": STRING, "example": ["employee_no"],
                          "description": "Only these of the set's fields in `external_fields`."},
        "quality_filter": QUALITY_FILTER,
    }, description="An image (its largest face is the probe) or a face_id."),
    "LiveDetectRequest": _open({
        **image_fields("video", "video (mp4, mov, avi, flv, webm/mkv; 1-15 s)"),
        "actions": {"type": "string", "pattern": "^[0-9, ]*$", "example": "1,3",
                    "description": "Comma-separated actions, at most 10: 1 turn left, 2 turn right, "
                                   "3 nod, 4 open mouth, 5 blink."},
        "action_time": {"type": "string", "example": "0-1500,1500-3000",
                        "description": "One start-end window (ms) per action."},
        "nod_threshold": {"type": "string", "example": "10", "description": "1-90 degrees, default 10."},
    }, required=["actions"]),
    "CreateFaceSetRequest": _open({
        "face_set_name": {"type": "string", "maxLength": 64, "example": "employees", "description":
                          "1-64 letters (any script), digits, '_' or '-', not starting with '_'."},
        "face_set_capacity": {"type": "integer", "multipleOf": 10000, "minimum": 10000,
                              "description": "A multiple of 10,000 up to OPENFRS_MAX_FACE_SET_CAPACITY."},
        "external_fields": {
            "type": "object", "maxProperties": MAX_FIELDS,
            "additionalProperties": {"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": sorted(FIELD_TYPES)}}},
            "example": {"employee_no": {"type": "integer"}, "dept": {"type": "string"}},
            "description": "The set's custom fields, names [0-9A-Za-z_-]{1,36}.",
        },
    }, required=["face_set_name"]),
    "UpdateFaceRequest": _open({
        "face_id": STRING,
        "external_image_id": EXTERNAL_IMAGE_ID,
        "external_fields": {**FIELD_VALUES, "additionalProperties": {"type": ["string", "number", "boolean",
                                                                               "null"]},
                            "description": "Merged into the face's fields (a JSON merge patch: null "
                                           "removes a field, a field not sent keeps its value); all or "
                                           "nothing (FRS.0405, FRS.0406)."},
    }, required=["face_id"], description="A new external_image_id and/or field values for one face."),
    "BatchDeleteRequest": _open({"filter": {"type": "string", "example": "dept:it"}}, required=["filter"]),
    "TokenRequest": _open({"auth": _open({
        "identity": _open({
            "methods": {"type": "array", "items": STRING, "example": ["password"]},
            "password": _open({"user": _open({"name": STRING, "password": {"type": "string",
                                                                          "format": "password"}},
                                             required=["name", "password"])}, required=["user"]),
        }, required=["methods", "password"]),
        "scope": _open({"project": _open({"id": STRING, "name": STRING},
                                         description="The project's id or name.")},
                       required=["project"]),
    }, required=["identity", "scope"])}, required=["auth"], description="IAM v3 password authentication."),
    **{  # the management API (OpenFRS extension, api/routes/manage.py)
        "UpdateProjectRequest": _open({"qps": {
            "type": "number", "minimum": 0, "example": 20,
            "description": "Calls per second per API for the project; 0: the server's OPENFRS_QPS_DEFAULT."}},
            required=["qps"]),
        "UpdateSubscriptionRequest": _open({"enabled": {**BOOLEAN, "description": "Apply for (true) or "
                                                        "give up (false) the sub-service."}},
                                           required=["enabled"]),
        "UpdateCredentialRequest": _open({"disabled": BOOLEAN}, required=["disabled"]),
        "RotateCredentialRequest": _open({"grace_seconds": {
            "type": "number", "minimum": 0, "maximum": MAX_ROTATION_GRACE_S, "default": 86400,
            "description": "How long the old key keeps signing beside its successor."}},
            description="Optional: no body rotates with a day's grace."),
        "CreateUserRequest": _open({"name": USER_NAME, "password": PASSWORD}, required=["name", "password"]),
        "UpdateUserRequest": _open({"disabled": BOOLEAN, "password": {
            **PASSWORD, "description": "A new password (at least 8 characters); the user's tokens end."}},
            description="At least one of disabled and password (FRS.0011 otherwise)."),
    },
}

# Multipart forms: which request carries which uploaded files, and the text its other fields become.
FORM_FILES = {"DetectRequest": ["image"], "CompareRequest": ["image1", "image2"], "ImageRequest": ["image"],
              "AddFacesRequest": ["image"], "SearchRequest": ["image"], "LiveDetectRequest": ["video"]}


def form_of(name: str) -> JsonSchema:
    """The multipart twin of a JSON request: the files added, every other field sent as text
    (numbers and booleans as written, objects and arrays as JSON text)."""
    schema = REQUESTS[name]
    properties: dict[str, JsonSchema] = {}
    for field, spec in schema["properties"].items():
        text: JsonSchema = {"type": "string"}
        if spec.get("type") != "string":
            text["description"] = f"{spec.get('description', '')} Sent as text (JSON for objects " \
                                  "and arrays).".strip()
        elif "description" in spec:
            text["description"] = spec["description"]
        properties[field] = text
    for prefix in FORM_FILES[name]:
        properties[f"{prefix}_file"] = {"type": "string", "format": "binary",
                                        "description": f"The uploaded file (alternative to {prefix}_base64)."}
    return _open(properties, schema.get("required"))


# -- replies --------------------------------------------------------------------------------------

BOUNDING_BOX = closed({name: INTEGER for name in ("top_left_x", "top_left_y", "width", "height")},
                      description="Pixels in the image as sent.")
HEAD_POSE = closed({"yaw": NUMBER, "roll": NUMBER, "pitch": NUMBER}, description="Degrees.")
ANGLES = {"yaw_angle": NUMBER, "pitch_angle": NUMBER, "roll_angle": NUMBER}
POINT = closed({"x": NUMBER, "y": NUMBER})
WARNING = closed({"warningCode": INTEGER, "warningMsg": STRING})
SET_FACE = {
    "bounding_box": ref("BoundingBox"),
    "external_image_id": STRING,
    "external_fields": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
    "face_id": STRING,
    "person_id": {"type": "string", "description": "OpenFRS extension, only for a face of a Tencent "
                                                   "person in the set (a group): its PersonId."},
}
SET_FACE_REQUIRED = ["bounding_box", "external_image_id", "external_fields", "face_id"]
NEW_CREDENTIAL = closed({"ak": STRING, "sk": {"type": "string", "description": "Shown in this answer only."}})
SERVICE_STATUS = closed({"subscribe_status": BOOLEAN, "create_time": STRING})

ATTRIBUTES = closed({
    "age": nullable(INTEGER), "gender": {"type": "string", "enum": ["male", "female", "unknown"]},
    "gender_probability": nullable({"type": "number", "minimum": 0.5, "maximum": 1}),
    "dress": closed({"glass": UNKNOWN, "hat": UNKNOWN}), "glass": UNKNOWN, "hat": UNKNOWN,
    "expression": closed({"type": UNKNOWN, "probability": {"type": "null"}}),
    "quality": nullable(closed({name: {"type": "number", "minimum": 0, "maximum": 1} for name in
                                ("total_score", "blur", "pose", "occlusion", "illumination")})),
    "headpose": closed(ANGLES), **ANGLES,
    "face_angle": {"type": "integer", "enum": [0, 90, 180, 270]},
    **{name: UNKNOWN for name in ("smile", "mask", "hair", "beard", "skin", "ethnic", "phototype")},
}, required=[], description="Only the fields of the asked-for codes.")

REPLIES: dict[str, JsonSchema] = {
    "Error": closed({"error_code": {"type": "string", "pattern": r"^(FRS|APIG)\.[0-9]{4}$"},
                     "error_msg": STRING}, description="Every error, in FRS's shape."),
    "BoundingBox": BOUNDING_BOX,
    "DetectResponse": closed({"faces": {"type": "array", "items": closed({
        "bounding_box": ref("BoundingBox"),
        "detection_score": {"type": "number", "minimum": 0, "maximum": 1},
        "key_points": {"type": "array", "items": closed(
            {"type": {"type": "string", "enum": list(LANDMARK_NAMES)}, "x": NUMBER, "y": NUMBER})},
        "attributes": ATTRIBUTES,
        "landmark": closed({name: {"type": "array", "items": POINT} for name in (
            "face_contour", "eyebrow_contour", "nose_contour", "eyes_contour", "mouth_contour")},
            description="Code 3: the 68-point contours."),
    }, required=["bounding_box", "detection_score", "key_points"])}},
        description="Faces largest first."),
    "CompareResponse": closed({
        "image1_face": closed({"bounding_box": ref("BoundingBox")}),
        "image2_face": closed({"bounding_box": ref("BoundingBox")}),
        "similarity": {"type": "number", "minimum": 0, "maximum": 1,
                       "description": "Calibrated; 0.93 and more: the same person (FAR 1e-3)."},
    }),
    "FaceSetInfo": closed({
        "face_set_name": STRING, "face_set_id": STRING,
        "create_date": {"type": "string", "example": "2026-12-01 08:30:00", "description": "UTC."},
        "face_set_capacity": INTEGER, "face_number": INTEGER,
        "external_fields": {"type": "object", "additionalProperties": closed(
            {"type": {"type": "string", "enum": sorted(FIELD_TYPES)}})},
        "recognition_model": {"type": "string", "description": "OpenFRS extension: the recogniser "
                                                               "every face of the set is embedded with."},
        "group": closed({
            "group_id": STRING, "group_name": STRING, "tag": STRING,
            "descriptions": {"type": "array", "items": STRING,
                             "description": "Names of the persons' description fields."},
        }, description="OpenFRS extension, only for a set that is a Tencent group (人员库)."),
    }, required=["face_set_name", "face_set_id", "create_date", "face_set_capacity", "face_number",
                 "external_fields", "recognition_model"]),
    "FaceSetResponse": closed({"face_set_info": ref("FaceSetInfo")}),
    "FaceSetListResponse": closed({"face_sets_info": {"type": "array", "items": ref("FaceSetInfo")}}),
    "DeleteFaceSetResponse": closed({"face_set_name": STRING}),
    "FacesResponse": closed({
        "face_set_id": STRING, "face_set_name": STRING,
        "faces": {"type": "array", "items": closed(SET_FACE, SET_FACE_REQUIRED)},
        "unindexed_faces": {"type": "array", "description": "Only with a quality_filter: faces not added.",
                            "items": closed({"bounding_box": ref("BoundingBox"),
                                             "reasons": {"type": "array", "items": {"enum": REASONS}}})},
    }, required=["face_set_id", "face_set_name", "faces"]),
    "FacePersonsResponse": closed({
        "face_set_name": STRING, "face_set_id": STRING,
        "total": {"type": "integer", "minimum": 0, "description": "Persons in the set (0: not a group)."},
        "persons": {"type": "array", "description": "In Tencent GetPersonList's order.", "items": closed({
            "person_id": STRING, "person_name": STRING,
            "gender": {"type": "integer", "enum": [0, 1, 2], "description": "0 unknown, 1 male, 2 female."},
            "face_ids": {"type": "array", "items": STRING},
            "descriptions": {"type": "object", "additionalProperties": STRING,
                             "description": "By the group's description field names (\"\" unset)."},
            "create_time": {"type": "integer", "description": "Milliseconds since the epoch."},
        })},
    }, description="OpenFRS extension: the Tencent persons of a face set that is a group."),
    "FaceCountResponse": closed({"face_number": INTEGER, "face_set_id": STRING, "face_set_name": STRING}),
    "SearchResponse": closed({"faces": {"type": "array", "description": "Best first.", "items": closed(
        {**SET_FACE, "similarity": {"type": "number", "minimum": 0, "maximum": 1}},
        [*SET_FACE_REQUIRED, "similarity"])}}),
    "FaceQualityResponse": closed({"blur": closed({"isClarity": BOOLEAN}), "pose": HEAD_POSE}),
    "BlurResponse": closed({"isClarity": BOOLEAN}),
    "HeadPoseResponse": HEAD_POSE,
    "LiveDetectResponse": closed({
        "video-result": closed({
            "alive": BOOLEAN,
            "actions": {"type": "array", "items": closed({"action": INTEGER, "confidence": NUMBER})},
            "picture": nullable({"type": "string", "description": "Base64 JPEG of a frontal frame."}),
            "blink_count": {"type": "integer", "minimum": 0,
                            "description": "OpenFRS extension: blinks seen in the whole clip, asked or not "
                                           "(docs/liveness.md, action liveness on real clips)."},
        }),
        "warning-list": {"type": "array", "items": WARNING},
    }),
    "LiveDetectFaceResponse": closed({
        "result": closed({"alive": BOOLEAN, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                          "picture": nullable({"type": "string",
                                               "description": "Base64 JPEG of the face."})}),
        "warning-list": {"type": "array", "items": WARNING},
    }),
    "SubscriptionResponse": closed({"max_face_set_number": INTEGER,
                                    **{f"{service}_service": SERVICE_STATUS for service in SERVICES}},
                                   required=["max_face_set_number"]),
    "TokenResponse": closed({"token": closed({
        "methods": {"type": "array", "items": STRING},
        "expires_at": STRING, "issued_at": STRING,
        "user": closed({"name": STRING}),
        "project": closed({"id": STRING, "name": STRING}),
    })}),
    "UsageResponse": closed({
        "usage": {"type": "array", "items": closed({
            "date": {"type": "string", "format": "date"}, "api": STRING,
            "calls": {"type": "integer", "description": "Successful calls."},
            "throttled": {"type": "integer", "description": "Calls refused with 429 (FRS.0033)."},
            "errors": {"type": "integer", "description": "Calls refused or failed otherwise (another "
                                                        "4xx, or a 5xx); never billed."}})},
        "total": {"type": "integer", "description": "Successful calls in all."},
        "throttled": {"type": "integer", "description": "Throttled calls in all."},
        "errors": {"type": "integer", "description": "Refused or failed calls in all."}}),
    "AuditResponse": closed({
        "events": {"type": "array", "items": closed({
            "seq": INTEGER, "time": STRING, "actor": STRING, "action": STRING, "resource": STRING,
            "detail": {"type": "object"}, "request_id": STRING})},
        "next_marker": nullable({"type": "integer", "description": "Pass as marker for the next page."}),
    }),
    # the management API (OpenFRS extension, api/routes/manage.py)
    "ProjectResponse": closed({
        "project_id": STRING, "name": STRING, "created_at": STRING, "disabled": BOOLEAN,
        "qps": nullable({"type": "number", "description": "The project's own limit; null: the default."}),
        "qps_default": {"type": "number", "description": "The server's OPENFRS_QPS_DEFAULT."},
        "subscription": ref("SubscriptionResponse"),
    }),
    "SubscriptionChangeResponse": closed({"service": {"type": "string", "enum": list(SERVICES)},
                                          "subscribe_status": BOOLEAN}),
    "CredentialListResponse": closed({"credentials": {"type": "array", "items": closed({
        "ak": STRING, "created_at": STRING, "disabled": BOOLEAN,
        "expires_at": nullable({"type": "string", "description": "A rotated key's end of grace (UTC)."}),
    }, description="Never the SK.")}}),
    "CredentialResponse": closed({"credential": NEW_CREDENTIAL}),
    "CredentialStateResponse": closed({"ak": STRING, "disabled": BOOLEAN}),
    "RotationResponse": closed({"credential": NEW_CREDENTIAL, "old_ak": STRING,
                                "old_valid_until": {"type": "string", "description": "UTC."}}),
    "CredentialDeletedResponse": closed({"ak": STRING, "deleted": {"type": "boolean", "const": True}}),
    "UserListResponse": closed({"users": {"type": "array", "items": ref("User")}}),
    "User": closed({"name": STRING, "created_at": STRING, "disabled": BOOLEAN}),
    "UserResponse": closed({"user": ref("User")}),
    "UserUpdateResponse": closed({"user": ref("User"), "password_reset": BOOLEAN}),
    "UserDeletedResponse": closed({"name": STRING, "deleted": {"type": "boolean", "const": True}}),
    "HealthResponse": closed({
        "status": {"type": "string", "enum": ["ok", "degraded"],
                   "description": "degraded (with 503): a dependency below is down"},
        "version": STRING,
        "dependencies": {"type": "object", "additionalProperties": {"type": "string", "enum": ["ok", "down"]},
                         "description": "Scale-out mode only: database (PostgreSQL), vectors (Milvus)"},
        "providers": {"type": "array", "items": STRING, "example": ["CPUExecutionProvider"]},
        "models": {"type": "object", "additionalProperties": STRING, "description": "role: version"},
    }, required=["status", "version", "providers", "models"]),
}


def components() -> dict[str, JsonSchema]:
    """Every schema the document names, forms included."""
    forms = {name.removesuffix("Request") + "Form": form_of(name) for name in FORM_FILES}
    return {**REQUESTS, **forms, **REPLIES}
