"""Tencent Cloud API 3.0 envelopes and error codes, and the service layer's FRS codes mapped onto them.

Every answer is HTTP 200 with `Content-Type: application/json` exactly (the SDK raises
TencentCloudSDKException only then; a charset suffix makes it return an empty success model and
any other status loses the code), a top-level `Response` and a `RequestId`.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from openfrs.api.tencent import messages
from openfrs.errors import FRSError

MAX_MESSAGE = 300


class TencentError(Exception):
    """A refusal in Tencent's vocabulary: `code` such as "AuthFailure.SignatureFailure"."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "..."
        super().__init__(f"{code}: {self.message}")


def success(fields: dict[str, object], request_id: str) -> JSONResponse:
    return JSONResponse({"Response": {**fields, "RequestId": request_id}})


def failure(error: TencentError, request_id: str, language: str | None = None) -> JSONResponse:
    """The error envelope, its Message in the caller's X-TC-Language (messages.py: zh-CN unless en-US)."""
    text = messages.message(error.code, error.message, language)
    return JSONResponse({"Response": {"Error": {"Code": error.code, "Message": text},
                                      "RequestId": request_id}})


NO_FACE = "InvalidParameterValue.NoFaceInPhoto"
# FRS codes the shared layers (media, service, tenancy) raise -> Tencent's code for the same refusal.
_FROM_FRS = {
    "FRS.0011": "MissingParameter",
    "FRS.0012": "InvalidParameterValue",
    "FRS.0013": "FailedOperation.ImageResolutionExceed",
    "FRS.0014": "InvalidParameter",
    "FRS.0015": "FailedOperation.ImageDecodeFailed",
    "FRS.0016": "FailedOperation.ImageDecodeFailed",
    "FRS.0017": "FailedOperation.ImageSizeExceed",
    "FRS.0018": "InternalError",
    "FRS.0019": "ResourceUnavailable.NotReady",
    "FRS.0020": "ResourceUnavailable.NotReady",
    "FRS.0021": "FailedOperation.ImageDownloadError",
    "FRS.0033": "RequestLimitExceeded",
    "FRS.0050": "InternalError",
    "FRS.0202": "ResourceUnavailable.StopUsing",
    "FRS.0304": NO_FACE,
    "FRS.0307": "FailedOperation.FaceQualityNotQualified",
    "FRS.0404": NO_FACE,
    "FRS.0501": NO_FACE,
    "FRS.0707": NO_FACE,  # live-detect-face's no face (service/silent_liveness.py)
    "APIG.0301": "AuthFailure.SignatureFailure",
}


def from_frs(error: FRSError) -> TencentError:
    """The same refusal with Tencent's code; the message keeps the detail the service gave."""
    code = _FROM_FRS.get(error.code, "InternalError" if error.status >= 500 else "FailedOperation")
    if error.code == "FRS.0013" and "smaller" in error.message:  # media/decode.py's lower bound
        code = "FailedOperation.ImageResolutionTooSmall"
    return TencentError(code, error.message)


# The person/group rules' refusals (service/persons.PersonError.kind) -> Tencent's codes.
_FROM_PERSONS = {
    "person_not_found": "InvalidParameterValue.PersonIdNotExist",
    "group_not_found": "InvalidParameterValue.GroupIdNotExist",
    "person_exists": "InvalidParameterValue.PersonIdAlreadyExist",
    "group_exists": "InvalidParameterValue.GroupIdAlreadyExist",
    "group_name_exists": "InvalidParameterValue.GroupNameAlreadyExist",
    "description_conflict": "FailedOperation.DuplicatedGroupDescription",
    "descriptions_exceeded": "InvalidParameterValue.GroupExDescriptionsExceed",
    "description_index": "InvalidParameterValue.PersonExDescriptionInfosExceed",
    "too_many_faces": "InvalidParameterValue.PersonFaceNumExceed",
    "too_many_groups": "InvalidParameterValue.GroupNumPerPersonExceed",
    "last_face": "InvalidParameterValue.DeleteFaceNumExceed",
    "already_member": "InvalidParameterValue.PersonExistInGroup",
    "not_member": "FailedOperation.GroupPersonMapNotExist",
    "group_full": "InvalidParameterValue.GroupFaceNumExceed",
    "project_groups_exceeded": "InvalidParameterValue.GroupNumExceed",
    "mixed_versions": "FailedOperation.AcrossVersionsError",
    "no_faces_in_groups": "InvalidParameterValue.NoFaceInGroups",
    "too_many_images": "InvalidParameterValue.UploadFaceNumExceed",
}


def from_persons(kind: str, message: str) -> TencentError:
    return TencentError(_FROM_PERSONS.get(kind, "FailedOperation"), message)
