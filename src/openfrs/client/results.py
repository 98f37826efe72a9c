"""Typed views of FRS answers: callers get attributes and types instead of dict keys to spell.

Each `from_json` reads the documented response shape (docs/api.md) and tolerates a missing
OpenFRS extension field, so the same classes read answers from Huawei's FRS too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BoundingBox:
    top_left_x: int
    top_left_y: int
    width: int
    height: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BoundingBox:
        return cls(int(data["top_left_x"]), int(data["top_left_y"]), int(data["width"]), int(data["height"]))


@dataclass(frozen=True)
class KeyPoint:
    """OpenFRS extension: one of the five landmarks; left/right as seen in the image."""

    type: str
    x: float
    y: float


@dataclass(frozen=True)
class DetectedFace:
    """A face of face-detect (and of face-compare, which returns only its box).

    `attributes` / `landmark` are FRS's dicts as returned (present when asked for with
    `attributes`); `detection_score` and `key_points` are OpenFRS extensions (None / empty from FRS).
    """

    bounding_box: BoundingBox
    detection_score: float | None = None
    key_points: tuple[KeyPoint, ...] = ()
    attributes: dict[str, Any] | None = None
    landmark: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetectedFace:
        score = data.get("detection_score")
        return cls(BoundingBox.from_json(data["bounding_box"]),
                   None if score is None else float(score),
                   tuple(KeyPoint(str(p["type"]), float(p["x"]), float(p["y"]))
                         for p in data.get("key_points") or ()),
                   data.get("attributes"), data.get("landmark"))


SAME_PERSON_FAR = 1e-3  # the false-accept rate of FRS's "same person" threshold


def same_person_threshold() -> float:
    """The similarity at which two faces are the same person (FRS's 0.93): the calibration's
    operating point for a false-accept rate of 1e-3 in the worst measured group
    (docs/accuracy.md)."""
    from openfrs.vision.calibration import FAR_TARGETS  # numpy: loaded only when asked

    return FAR_TARGETS[SAME_PERSON_FAR]


@dataclass(frozen=True)
class CompareResult:
    similarity: float
    image1_face: DetectedFace
    image2_face: DetectedFace

    @property
    def same_person(self) -> bool:
        """similarity >= same_person_threshold(); compare `similarity` yourself for another FAR."""
        return self.similarity >= same_person_threshold()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompareResult:
        return cls(float(data["similarity"]), DetectedFace.from_json(data["image1_face"]),
                   DetectedFace.from_json(data["image2_face"]))


@dataclass(frozen=True)
class FaceSet:
    """FRS FaceSetInfo; `create_date` is FRS's "YYYY-MM-DD HH:MM:SS" (UTC) text. `name`, `id` and
    `capacity` are the API's face_set_name, face_set_id and face_set_capacity (also readable by
    those names)."""

    name: str
    id: str
    capacity: int
    face_number: int
    create_date: str
    external_fields: dict[str, Any] | None
    recognition_model: str | None = None  # OpenFRS extension: the set's recogniser

    @property
    def face_set_name(self) -> str:
        """The API's name for `name`."""
        return self.name

    @property
    def face_set_id(self) -> str:
        return self.id

    @property
    def face_set_capacity(self) -> int:
        return self.capacity

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaceSet:
        return cls(data["face_set_name"], data["face_set_id"], int(data["face_set_capacity"]),
                   int(data["face_number"]), str(data.get("create_date", "")), data.get("external_fields"),
                   data.get("recognition_model"))


@dataclass(frozen=True)
class AddedFace:
    """A face stored in a face set (FRS's SetFace): what add_faces, list_faces and get_face return."""

    face_id: str
    external_image_id: str | None
    bounding_box: BoundingBox
    external_fields: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AddedFace:
        return cls(data["face_id"], data.get("external_image_id"),
                   BoundingBox.from_json(data["bounding_box"]), data.get("external_fields"))


@dataclass(frozen=True)
class SearchHit:
    face_id: str
    external_image_id: str | None
    similarity: float
    bounding_box: BoundingBox
    external_fields: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SearchHit:
        return cls(data["face_id"], data.get("external_image_id"), float(data["similarity"]),
                   BoundingBox.from_json(data["bounding_box"]), data.get("external_fields"))


@dataclass(frozen=True)
class LiveWarning:
    code: int
    message: str


@dataclass(frozen=True)
class LiveResult:
    """Silent liveness: `picture` is the base64 JPEG of the judged face (None when not returned)."""

    alive: bool
    confidence: float
    picture: str | None = field(repr=False)
    warnings: tuple[LiveWarning, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveResult:
        result = data["result"]
        warnings = tuple(LiveWarning(int(w["warningCode"]), str(w.get("warningMsg", "")))
                         for w in data.get("warning-list") or ())
        return cls(bool(result["alive"]), float(result["confidence"]), result.get("picture"), warnings)


@dataclass(frozen=True)
class LiveAction:
    """One asked-for action of action liveness: FRS's code (1 left, 2 right, 3 nod, 4 mouth,
    5 blink) and how surely it was seen, 0-1."""

    action: int
    confidence: float


@dataclass(frozen=True)
class ActionLiveResult:
    """Action liveness of a video: `alive` needs every asked action, in order, by one live person;
    `picture` is the base64 JPEG of a frontal frame (None when there was none); `blink_count` the
    blinks seen in the whole clip (an OpenFRS extension; None from a server without it)."""

    alive: bool
    actions: tuple[LiveAction, ...]
    picture: str | None = field(repr=False)
    warnings: tuple[LiveWarning, ...]
    blink_count: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActionLiveResult:
        result = data["video-result"]
        actions = tuple(LiveAction(int(a["action"]), float(a["confidence"]))
                        for a in result.get("actions") or ())
        warnings = tuple(LiveWarning(int(w["warningCode"]), str(w.get("warningMsg", "")))
                         for w in data.get("warning-list") or ())
        blinks = result.get("blink_count")
        return cls(bool(result["alive"]), actions, result.get("picture"), warnings,
                   None if blinks is None else int(blinks))


@dataclass(frozen=True)
class IssuedToken:
    """An X-Auth-Token from POST /v3/auth/tokens (IAM password auth) and the project it is for;
    `expires_at` is IAM's ISO 8601 UTC text."""

    token: str = field(repr=False)
    project_id: str
    project_name: str
    expires_at: str
