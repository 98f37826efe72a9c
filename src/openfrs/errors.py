"""The one domain exception: an FRS (or API-gateway) error code with its HTTP status.

Any layer raises it; api/errors.py is the one place that turns it into a response."""

from __future__ import annotations

# code -> (HTTP status, FRS message template). Messages follow Huawei's wording where it is known.
FRS_ERRORS: dict[str, tuple[int, str]] = {
    "FRS.0002": (403, "The authentication token is abnormal."),
    "FRS.0010": (400, "Lack Header or Header {} is empty."),
    "FRS.0011": (400, "Lack the request parameter, or the request parameter {} is empty."),
    "FRS.0012": (400, "The request param has wrong format, {}"),
    "FRS.0013": (400, "The image size is out of range, {}"),
    "FRS.0014": (400, "The JSON format of the input data is incorrect."),
    "FRS.0015": (400, "Parse image data failed, {}"),
    "FRS.0016": (400, "The image format is not supported, {}"),
    "FRS.0017": (400, "The size of the request body is out of the range {}."),
    "FRS.0018": (500, "The service inner error."),
    "FRS.0019": (400, "The service has not been subscribed, {}"),
    "FRS.0020": (400, "The sub-service has not been enabled for this project, {}"),
    "FRS.0021": (400, "The URL is invalid, {}"),
    "FRS.0028": (403, "The project ID does not match the token, {}"),
    "FRS.0032": (400, "The sort field or type is not supported (numeric fields only), {}"),
    "FRS.0033": (429, "Too many requests, {}"),
    # OpenFRS-assigned: PostgreSQL or Milvus (scale-out mode) did not answer; retry later.
    "FRS.0050": (503, "A service dependency is unavailable, {}"),
    "FRS.0117": (400, "The query date format is invalid, {}"),
    "FRS.0202": (400, "The service has been frozen, {}"),
    "FRS.0301": (400, "Cannot create an existing face set, {}"),
    "FRS.0302": (400, "The face set does not exist, {}"),
    # OpenFRS-assigned in FRS's face-set range (Huawei documents no code for this limit).
    "FRS.0305": (400, "The number of face sets exceeds the limit, {}"),
    # OpenFRS-assigned: the set's faces were embedded by another model than the one loaded now.
    "FRS.0306": (400, "The face set was built with another face model, {}"),
    # OpenFRS-assigned: the probe face fails the requested quality_filter (reasons follow).
    "FRS.0307": (400, "The face does not meet the requested quality, {}"),
    "FRS.0303": (400, "The face id is not exist, checkout your input. {}"),
    "FRS.0304": (400, "Detect no face, can not search, {}"),
    "FRS.0401": (400, "The value of the given type is not found, can not delete. {}"),
    "FRS.0402": (400, "The input field does not exist, {}"),
    "FRS.0403": (400, "The face ID does not exist, {}"),
    "FRS.0404": (400, "Detect no face, can not add it to face set."),
    "FRS.0405": (400, "The custom field is not defined, can not add. {}"),
    "FRS.0406": (400, "The imported value type differs from the declared type, {}"),
    "FRS.0407": (400, "All the data not suitable, {}"),
    # OpenFRS-assigned in FRS's face range (Huawei documents no code for a full face set).
    "FRS.0408": (400, "The face set is full, {}"),
    "FRS.0501": (400, "Detect no face, check out your picture."),
    "FRS.0701": (400, "Parse video data failed, {}"),
    "FRS.0702": (400, "Do not support action {}"),
    "FRS.0704": (400, "The number of action exceed 10, {}"),
    "FRS.0705": (400, "The matching mode is not supported, {}"),
    "FRS.0706": (400, "Video time {}"),
    "FRS.0707": (400, "Detect no face, {}"),
    "FRS.0751": (400, "Parse video data failed, {}"),
    # What Huawei's API gateway answers for a path or method it does not publish.
    "APIG.0101": (404, "The API does not exist or has not been published in the environment."),
    # ... and for a request whose AK/SK signature (or any credential) does not verify.
    "APIG.0301": (401, "Incorrect IAM authentication information: {}"),
}


class FRSError(Exception):
    """A failure the client caused (or, for FRS.0018, we did), carrying its FRS code."""

    def __init__(self, code: str, detail: str = "", status: int | None = None,
                 retry_after: int | None = None) -> None:
        default_status, template = FRS_ERRORS[code]
        self.code = code
        self.retry_after = retry_after  # seconds, sent as Retry-After (429 and 503 answers)
        self.status = status or default_status
        if "{}" in template:  # no detail: drop the slot and what led to it ("Detect no face, ")
            self.message = template.format(detail) if detail else template.split("{}")[0].rstrip(", ")
        else:
            self.message = f"{template} {detail}" if detail else template
        super().__init__(f"{code}: {self.message}")
