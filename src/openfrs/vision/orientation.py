"""Faces in images turned by 90, 180 or 270 degrees (a phone photo without its EXIF tag).

The detector is trained on upright faces: on a turned image it finds fewer faces with lower
scores, or none. Trying all four orientations on every image would cost 4x, so the other three
are tried only when the upright pass is not convincing: no face scoring >= CONFIDENT, or the
best face's detector key points (eyes above the mouth) pointing sideways. The orientation whose
best face scores highest wins; while the upright best face looks upright, a turn must beat it
by MARGIN, so an upright photo with only weak faces keeps its answer. This is face-detect's
rule (`detect_oriented`); it reports `face_angle`.

Measured on the crowd, dlib and every other LFW photo in all four turns (the numbers are in
docs/attributes.md): the turn is right for every crowd image with a face, ~98.5% of LFW and
~98% of dlib cases, but detector scores alone also turn ~1.2% of upright LFW photos, and a
wrong turn embeds a face sideways (LFW verification fell from 0.987 to 0.976 when compare used
it). So compare, search and add use `orient_for_recognition`, which asks a second model: the
face mesh's face probability on the largest face's crop turned back by each angle
(`mesh_turn_logits`) names the turn, and the detector must still find a face there.

Measured on all 1,044 LFW photos and the 27 crowd photos with a face, each upright and turned
by 90, 180 and 270 (np.rot90, stored as JPEG), through FaceService.largest_face_blocking
(`openfrs bench orientation --old-path`, 2026-12-02): upright photos turned: 0 of 1,071; turned
photos brought back upright: LFW 99.3% (90), 99.1% (180), 99.4% (270), crowd 100% in each
(the former rule: LFW 34%, 22%, 35%); median cosine to the upright photo's embedding 0.998.
Extra cost on an upright photo: none when its largest face scores >= CONFIDENT with upright key
points (~60% of LFW); one 192-px mesh crop when the mesh is sure it is upright
(MESH_SURE_UPRIGHT); else one batch of four crops (~10-15 ms on one core).

`face_angle` follows FRS: how far the face is turned clockwise in the image as given
(0, 90, 180, 270); turning the image counterclockwise by it makes the face upright.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from openfrs.vision.headpose import DETECTOR_CROP_SCALE, FaceMesh
from openfrs.vision.headpose import INPUT_SIZE as MESH_INPUT
from openfrs.vision.types import Box, Face

CONFIDENT = 0.9  # an upright face this sure ends the search (~63-83% of upright photos)
MARGIN = 0.03  # a turned orientation must beat an upright-looking best face by this much
SIDEWAYS_DEGREES = 30.0  # eyes-to-mouth direction further than this from "down" is suspicious
ANGLES = (0, 90, 180, 270)
# How far below the upright pass's best score the turn the mesh names may score and still win:
# the mesh is the stronger witness (replayed on the bench's detections: at 0.0, 0.4-1.0% fewer
# turned LFW photos come back upright; at 0.2 an upright crowd photo turns).
TURN_SLACK = 0.1
# The mesh's face logit on the upright crop above which an upright-looking face is taken as
# upright without trying the turns (one mesh pass instead of four). LFW faces below CONFIDENT:
# 1st percentile 10.9, median 16.6 (saturated); the same photos turned 180: 99th percentile 10.3,
# maximum 13.5 (measured with every other LFW image, 2026-12-02).
MESH_SURE_UPRIGHT = 14.0

Detect = Callable[[np.ndarray], list[Face]]
# (image, face, angles) -> a face logit per angle: how much the face looks upright once the
# image is turned counterclockwise by that angle.
TurnLogits = Callable[[np.ndarray, Face, tuple[int, ...]], np.ndarray]


@dataclass(frozen=True)
class Oriented:
    """Detection in the orientation that makes the faces upright: `image` is the input turned
    counterclockwise by `angle`, and `faces` are in that image's coordinates."""

    angle: int
    image: np.ndarray
    faces: list[Face]


def upright(image: np.ndarray, angle: int) -> np.ndarray:
    """The image turned counterclockwise by `angle` (np.rot90 turns counterclockwise)."""
    return np.ascontiguousarray(np.rot90(image, angle // 90)) if angle else image


def tilt_degrees(face: Face) -> float | None:
    """Angle of the eyes-to-mouth direction from image-down, from the detector's key points
    (None when the detector gave none)."""
    points = face.extras.get("keypoints")
    if not points or "mouth_center" not in points:
        return None
    eyes = (np.asarray(points["left_eye"]) + np.asarray(points["right_eye"])) / 2
    dx, dy = np.asarray(points["mouth_center"]) - eyes
    return math.degrees(math.atan2(-dx, dy))


def _best_score(faces: list[Face]) -> float:
    return max((face.score for face in faces), default=0.0)


def _looks_upright(faces: list[Face]) -> bool:
    """The best face's key points put the mouth below the eyes (or there are none to ask)."""
    tilt = tilt_degrees(max(faces, key=lambda face: face.score)) if faces else None
    return tilt is None or abs(tilt) <= SIDEWAYS_DEGREES


def detect_oriented(detect: Callable[[np.ndarray], list[Face]], image: np.ndarray,
                    only_when_none: bool = False) -> Oriented:
    """Run `detect` upright and, only when that is not convincing, in the three other turns.
    `only_when_none`: turn only when upright finds no face at all (the recognition paths: a
    face in a wrongly chosen turn would be embedded upside down, so they keep any upright face).
    """
    faces = detect(image)
    upright_looking = _looks_upright(faces)
    if faces and (only_when_none or (_best_score(faces) >= CONFIDENT and upright_looking)):
        return Oriented(0, image, faces)
    best = Oriented(0, image, faces)
    best_score = _best_score(faces) + (MARGIN if upright_looking else 0.0)
    for angle in ANGLES[1:]:
        turned = upright(image, angle)
        found = detect(turned)
        if _best_score(found) > best_score:
            best, best_score = Oriented(angle, turned, found), _best_score(found)
    return best


def orient_for_recognition(detect: Detect, image: np.ndarray, turn_logits: TurnLogits) -> Oriented:
    """`detect` in the orientation compare, search and add should embed in: upright unless the
    largest face's `turn_logits` name a turn where `detect` also finds a face (module docstring).
    """
    faces = detect(image)
    if not faces:
        return _search(detect, image, faces, turn_logits)
    largest = max(faces, key=lambda face: face.box.area)
    if _looks_upright([largest]) and (largest.score >= CONFIDENT
                                      or turn_logits(image, largest, (0,))[0] >= MESH_SURE_UPRIGHT):
        return Oriented(0, image, faces)
    logits = turn_logits(image, largest, ANGLES)
    named = int(np.argmax(logits))  # ties go to upright (index 0)
    if logits[named] <= 0.0:  # no turn shows the mesh a face: the detection is no witness
        return _search(detect, image, faces, turn_logits)
    if named == 0:
        return Oriented(0, image, faces)
    turned = upright(image, ANGLES[named])
    found = detect(turned)
    if found and _best_score(found) > _best_score(faces) - TURN_SLACK:
        return Oriented(ANGLES[named], turned, found)
    return Oriented(0, image, faces)


def _search(detect: Detect, image: np.ndarray, faces: list[Face],
            turn_logits: TurnLogits) -> Oriented:
    """The three turns, when upright has no face the mesh believes: the best-scoring turn whose
    largest face the mesh calls upright and that beats upright's best score; with no upright
    face at all and no such turn, the best-scoring turn (face-detect's rule)."""
    confirmed: Oriented | None = None
    scored = Oriented(0, image, faces)
    for angle in ANGLES[1:]:
        turned = upright(image, angle)
        found = detect(turned)
        if not found:
            continue
        score = _best_score(found)
        if not faces and score > _best_score(scored.faces):
            scored = Oriented(angle, turned, found)
        largest = max(found, key=lambda face: face.box.area)
        if (score > _best_score(faces) and turn_logits(turned, largest, (0,))[0] > 0.0
                and (confirmed is None or score > _best_score(confirmed.faces))):
            confirmed = Oriented(angle, turned, found)
    return confirmed or scored


def mesh_turn_logits(mesh: FaceMesh, image: np.ndarray, face: Face,
                     angles: tuple[int, ...] = ANGLES) -> np.ndarray:
    """The face mesh's face logit on `face`'s crop (as FaceMesh cuts it, 1.5x the detector box)
    turned counterclockwise by each angle: the mesh only believes upright faces, and unlike the
    detector's key points it tells 180 from 0. One batch."""
    box = face.extras.get("detector_box", face.box)
    center = ((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2)
    scale = MESH_INPUT / max(max(box.width, box.height) * DETECTOR_CROP_SCALE, 1.0)
    crops = []
    for angle in angles:
        matrix = cv2.getRotationMatrix2D(center, float(angle), scale)
        matrix[:, 2] += (MESH_INPUT / 2 - center[0], MESH_INPUT / 2 - center[1])
        crops.append(cv2.warpAffine(image, matrix, (MESH_INPUT, MESH_INPUT), flags=cv2.INTER_LINEAR))
    outputs = mesh.session.run(None, {mesh.input_name: np.stack(crops).astype(np.float32) / 255.0})
    probability = next(o for o in outputs if o.shape[-1] == 1)[:, 0].astype(np.float64)
    # The model ends in a sigmoid; float32 saturates near 1, so clip before the logit.
    probability = np.clip(probability, 1e-7, 1.0 - 6e-8)
    return np.log(probability / (1.0 - probability))


def point_to_original(points: np.ndarray, angle: int, shape: tuple[int, ...]) -> np.ndarray:
    """(N, 2) x, y in the upright image -> the same points in the original image of `shape`
    (H, W, ...). Continuous coordinates: pixel edges map to pixel edges."""
    points = np.asarray(points, np.float32).reshape(-1, 2)
    height, width = shape[0], shape[1]
    x, y = points[:, 0], points[:, 1]
    if angle == 0:
        return points.copy()
    if angle == 90:  # upright = original turned counterclockwise: (x', y') = (y, W - x)
        return np.stack([width - y, x], axis=1)
    if angle == 180:
        return np.stack([width - x, height - y], axis=1)
    if angle == 270:  # upright = original turned clockwise: (x', y') = (H - y, x)
        return np.stack([y, height - x], axis=1)
    raise ValueError(f"angle must be one of {ANGLES}, got {angle}")


def box_to_original(box: Box, angle: int, shape: tuple[int, ...]) -> Box:
    corners = point_to_original(np.array([[box.x1, box.y1], [box.x2, box.y2]]), angle, shape)
    (x1, y1), (x2, y2) = corners.min(axis=0), corners.max(axis=0)
    return Box(float(x1), float(y1), float(x2), float(y2))


def face_to_original(face: Face, angle: int, shape: tuple[int, ...]) -> Face:
    """A copy of `face` with its geometry in the original image and `extras["face_angle"]`;
    the embedding (computed on the upright image) is kept as is."""
    if not angle:
        return replace(face, extras=dict(face.extras, face_angle=angle))
    moved = _moved(face, lambda points: point_to_original(points, angle, shape),
                   lambda box: box_to_original(box, angle, shape))
    moved.extras["face_angle"] = angle
    if "head_pose" in moved.extras:  # roll is measured in the image: it turns with it
        yaw, pitch, roll = moved.extras["head_pose"]
        moved.extras["head_pose"] = (yaw, pitch, (roll + angle + 180.0) % 360.0 - 180.0)
    return moved


def scale_face(face: Face, scale: float) -> Face:
    """A copy of `face` with its geometry multiplied by `scale` (pixel centres kept: a point at
    x in a picture decoded `scale` times smaller sits at (x + 0.5) * scale - 0.5 in the full one);
    the embedding and the angles stay as they are."""
    if scale == 1.0:
        return face
    return _moved(face, lambda points: ((np.asarray(points, np.float32) + 0.5) * scale - 0.5),
                  lambda b: Box(b.x1 * scale, b.y1 * scale, b.x2 * scale, b.y2 * scale), depth=scale)


def _moved(face: Face, point: Callable[[np.ndarray], np.ndarray], box: Callable[[Box], Box],
           depth: float = 1.0) -> Face:
    """A copy of `face` with every point it carries mapped by `point` ((N, 2) -> (N, 2)), its
    boxes by `box`, and the mesh's depth multiplied by `depth`."""
    extras = dict(face.extras)
    for key in ("shape68", "shape5"):
        if key in extras:
            extras[key] = point(extras[key]).astype(np.float32)
    if "mesh468" in extras:
        mesh = np.asarray(extras["mesh468"], np.float32)
        extras["mesh468"] = np.column_stack([point(mesh[:, :2]), mesh[:, 2] * depth]).astype(np.float32)
    if "keypoints" in extras:
        extras["keypoints"] = {name: tuple(point(np.asarray(xy, np.float32).reshape(1, 2))[0].tolist())
                               for name, xy in extras["keypoints"].items()}
    if "detector_box" in extras:
        extras["detector_box"] = box(extras["detector_box"])
    return replace(face, box=box(face.box), landmarks=point(face.landmarks).astype(np.float32),
                   extras=extras)
