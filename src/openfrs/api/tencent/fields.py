"""Tencent IAI request fields -> plain values, refused with Tencent's codes.

The SDK validates nothing locally: a missing field, a value out of range or a wrong JSON type
reaches us as sent, so every field is checked here (tencent-iai.md §5). A GET request's fields
(query.QueryParams) carry every value as a string, so for them alone the number fields read
numeric strings; a POST's JSON numbers must be JSON numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import Request

from openfrs.api.tencent.errors import TencentError
from openfrs.api.tencent.query import QueryParams
from openfrs.media import ImageLimits, ImageSource, load_image, load_source_bytes
from openfrs.media.picture import EncodedPicture
from openfrs.service.quality_gate import Limits, parse_quality_filter

Params = Mapping[str, object]
MAX_BASE64_BYTES = 5 * 1024 * 1024  # Tencent: an Image is at most 5 MB after base64 encoding
FACE_MODEL_VERSION = "3.0"  # what our default model pack answers as; 2.0 data is not served
# QualityControl 1-4 on our quality gates (service/quality_gate.py): 1 refuses only the hopeless,
# 2 several moderate problems, 3 and 4 any problem an enrolment photo should not have.
QUALITY_LEVELS = {0: "NONE", 1: "LOW", 2: "MEDIUM", 3: "HIGH", 4: "HIGH"}
INTEGER_TEXT = re.compile(r"-?[0-9]{1,18}")  # as str(int) writes it, in a GET query
NUMBER_TEXT = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?([eE][-+]?[0-9]{1,3})?")  # str(float) too


def _from_query(params: Params, value: object, pattern: re.Pattern[str], kind: type) -> object:
    """A GET query's numeric string as the number it spells; anything else unchanged."""
    if isinstance(params, QueryParams) and isinstance(value, str) and pattern.fullmatch(value):
        return kind(value)
    return value


def integer(params: Params, name: str, default: int, allowed: range | tuple[int, ...],
            code: str = "InvalidParameterValue") -> int:
    """An int field (JSON number without a fraction); absent or null: `default`."""
    value = _from_query(params, params.get(name), INTEGER_TEXT, int)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TencentError("InvalidParameter", f"{name} must be an integer")
    if value not in allowed:
        shown = f"{allowed.start}-{allowed.stop - 1}" if isinstance(allowed, range) else \
            " or ".join(map(str, allowed))
        raise TencentError(code, f"{name} must be {shown}, not {value}")
    return value


def flag(params: Params, name: str) -> bool:
    """A 0/1 switch (NeedFaceAttributes, NeedRotateDetection, ...)."""
    return integer(params, name, 0, (0, 1)) == 1


def face_model_version(params: Params) -> str:
    value = params.get("FaceModelVersion")
    if value is None or value == "" or value == FACE_MODEL_VERSION:
        return FACE_MODEL_VERSION
    raise TencentError("InvalidParameterValue.FaceModelVersionIllegal",
                       f"FaceModelVersion {str(value)[:20]!r}: OpenFRS serves {FACE_MODEL_VERSION} only")


def quality_control(params: Params) -> Limits | None:
    level = integer(params, "QualityControl", 0, range(0, 5), "InvalidParameterValue.QualityControlIllegal")
    return parse_quality_filter(QUALITY_LEVELS[level])


def image_source(params: Params, image: str = "Image", url: str = "Url") -> ImageSource:
    """`Url` wins when both are given, as Tencent documents; neither: ImageEmpty."""
    for name, kind in ((url, "url"), (image, "base64")):
        value = params.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise TencentError("InvalidParameter", f"{name} must be a string")
        if kind == "base64" and len(value) > MAX_BASE64_BYTES:
            raise TencentError("FailedOperation.ImageSizeExceed",
                               f"{name} is {len(value)} bytes of base64; the limit is {MAX_BASE64_BYTES}")
        return ImageSource(kind, value)
    raise TencentError("InvalidParameterValue.ImageEmpty", f"give {image} (base64) or {url}")


async def decoded_image(request: Request, source: ImageSource):
    """Pixels (HxWx3 RGB) within the service's image limits; URLs go through the SSRF guard."""
    return await load_image(source, request.app.state.settings)


async def encoded_picture(request: Request, source: ImageSource) -> EncodedPicture:
    """The image's bytes, header checked, pixels left for the use case to decode as it needs."""
    settings = request.app.state.settings
    data = await load_source_bytes(source, settings)
    return EncodedPicture(data, ImageLimits.from_settings(settings))


ID_CHARS = re.compile(r"[A-Za-z0-9\-%@#&_]+")  # GroupId / PersonId: <= 64 bytes of these
MAX_ID_BYTES = 64


def text(params: Params, name: str, *, max_len: int, code: str, required: bool = False,
         min_len: int = 0) -> str | None:
    """A string field; `code` + "Illegal" / "TooLong" for a bad or long value (e.g. code =
    "InvalidParameterValue.GroupName"); absent: None, or MissingParameter when required."""
    value = params.get(name)
    if value is None or (required and value == ""):
        if required:
            raise TencentError("MissingParameter", f"{name} is required")
        return None
    if not isinstance(value, str):
        raise TencentError("InvalidParameter", f"{name} must be a string")
    if len(value) > max_len:
        raise TencentError(f"{code}TooLong", f"{name} is longer than {max_len} characters")
    if len(value) < min_len or not value.isprintable():
        raise TencentError(f"{code}Illegal", f"{name} must be {min_len}-{max_len} printable characters")
    return value


def identifier(params: Params, name: str, code: str) -> str:
    """A required GroupId / PersonId: 1-64 bytes of A-Z a-z 0-9 - % @ # & _."""
    value = text(params, name, max_len=4 * MAX_ID_BYTES, code=code, required=True)
    assert value is not None
    if len(value.encode()) > MAX_ID_BYTES:
        raise TencentError(f"{code}TooLong", f"{name} is longer than {MAX_ID_BYTES} bytes")
    if not ID_CHARS.fullmatch(value):
        raise TencentError(f"{code}Illegal", f"{name} may hold only A-Z a-z 0-9 - % @ # & _")
    return value


def string_list(params: Params, name: str, *, required: bool = False) -> list[str]:
    value = params.get(name)
    if value is None:
        if required:
            raise TencentError("MissingParameter", f"{name} is required")
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TencentError("InvalidParameter", f"{name} must be a list of strings")
    if required and not value:
        raise TencentError("MissingParameter", f"{name} must not be empty")
    return value


def group_ids(params: Params, limit: int) -> list[str]:
    ids = string_list(params, "GroupIds", required=True)
    if len(ids) > limit:
        raise TencentError("InvalidParameterValue.GroupIdsExceed", f"at most {limit} GroupIds")
    for value in ids:
        identifier({"GroupId": value}, "GroupId", "InvalidParameterValue.GroupId")
    return ids


def page(params: Params, max_limit: int, default: int = 10) -> tuple[int, int]:
    """(Offset, Limit): Limit 1..max_limit (LimitExceed), Offset >= 0 (OffsetExceed)."""
    offset = integer(params, "Offset", 0, range(0, 2**31), "InvalidParameterValue.OffsetExceed")
    limit = integer(params, "Limit", default, range(0, max_limit + 1), "InvalidParameterValue.LimitExceed")
    return offset, limit


def gender(params: Params, default: int | None, allowed: tuple[int, ...] = (0, 1, 2)) -> int | None:
    value = params.get("Gender")
    if value is None:
        return default
    return integer(params, "Gender", 0, allowed, "InvalidParameterValue.PersonGenderIllegal")


def indexed_values(params: Params, name: str, index: str, value: str, *, limit: int, max_len: int,
                   code: str, value_code: str | None = None) -> dict[int, str]:
    """[{<index>: int, <value>: str}, ...] -> {index: value}; more than `limit`: `code` + "Exceed";
    a bad value: `value_code` (default `code` + "Name") + "TooLong" / "Illegal"."""
    items = params.get(name)
    if items is None:
        return {}
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise TencentError("InvalidParameter", f"{name} must be a list of objects")
    if len(items) > limit:
        raise TencentError(f"{code}Exceed", f"at most {limit} {name}")
    out: dict[int, str] = {}
    for item in items:
        position = integer(item, index, -1, range(0, limit), f"{code}Exceed")
        if position < 0:
            raise TencentError("MissingParameter", f"{name}.{index} is required")
        given = text(item, value, max_len=max_len, code=value_code or f"{code}Name") or ""
        out[position] = given
    return out


def threshold(params: Params, name: str, default: float) -> float:
    """A Tencent score threshold, 0 <= value < 100 (FaceMatchThresholdIllegal)."""
    value = _from_query(params, params.get(name), NUMBER_TEXT, float)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise TencentError("InvalidParameterValue.FaceMatchThresholdIllegal", f"{name} must be 0-100")
    return float(value)
