"""OpenFRS Python SDK: a typed, signed, retrying client for the FRS v2 HTTP API (docs/client.md).

    from openfrs.client import Client
    with Client("http://127.0.0.1:8080", project_id, ak=ak, sk=sk) as frs:
        faces = frs.detect(Path("photo.jpg"))
"""

from openfrs.client.api import Client, image_fields
from openfrs.client.errors import FRSClientError, FRSConnectionError
from openfrs.client.results import (
    ActionLiveResult,
    AddedFace,
    BoundingBox,
    CompareResult,
    DetectedFace,
    FaceSet,
    IssuedToken,
    KeyPoint,
    LiveAction,
    LiveResult,
    LiveWarning,
    SearchHit,
    same_person_threshold,
)

__all__ = [
    "ActionLiveResult", "AddedFace", "BoundingBox", "Client", "CompareResult", "DetectedFace",
    "FRSClientError", "FRSConnectionError", "FaceSet", "IssuedToken", "KeyPoint", "LiveAction",
    "LiveResult", "LiveWarning", "SearchHit", "image_fields", "same_person_threshold",
]
