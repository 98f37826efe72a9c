"""Tencent IAI request fields -> plain values, refused with Tencent's codes.

The SDK validates nothing locally: a missing field, a value out of range or a wrong JSON type
reaches us as sent, so every field is checked here (tencent-iai.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

from openfrs.api.tencent.errors import TencentError
from openfrs.media import ImageLimits, ImageSource, load_image, load_source_bytes
from openfrs.media.picture import EncodedPicture
from openfrs.service.quality_gate import Limits, parse_quality_filter

Params = Mapping[str, object]
MAX_BASE64_BYTES = 5 * 1024 * 1024  # Tencent: an Image is at most 5 MB after base64 encoding
FACE_MODEL_VERSION = "3.0"  # what our default model pack answers as; 2.0 data is not served
# QualityControl 1-4 on our quality gates (service/quality_gate.py): 1 refuses only the hopeless,
# 2 several moderate problems, 3 and 4 any problem an enrolment photo should not have.
QUALITY_LEVELS = {0: "NONE", 1: "LOW", 2: "MEDIUM", 3: "HIGH", 4: "HIGH"}


def integer(params: Params, name: str, default: int, allowed: range | tuple[int, ...],
            code: str = "InvalidParameterValue") -> int:
    """An int field (JSON number without a fraction); absent or null: `default`."""
    value = params.get(name)
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
