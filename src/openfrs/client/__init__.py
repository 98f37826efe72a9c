"""OpenFRS Python SDK: a typed, signed, retrying client for the FRS v2 HTTP API.

    from openfrs.client import Client
    with Client("http://127.0.0.1:8080", project_id, ak=ak, sk=sk) as frs:
        faces = frs.detect(Path("photo.jpg"))
"""

from openfrs.client.api import Client, image_fields
from openfrs.client.errors import FRSClientError, FRSConnectionError
from openfrs.client.results import (
    AddedFace,
    BoundingBox,
    CompareResult,
    DetectedFace,
    FaceSet,
    KeyPoint,
    LiveResult,
    LiveWarning,
    SearchHit,
)

__all__ = [
    "AddedFace", "BoundingBox", "Client", "CompareResult", "DetectedFace", "FRSClientError",
    "FRSConnectionError", "FaceSet", "KeyPoint", "LiveResult", "LiveWarning", "SearchHit", "image_fields",
]
