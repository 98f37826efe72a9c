"""Head pose (yaw, pitch, roll in degrees) from MediaPipe's 468-point face mesh.

Conventions (image as displayed, x to the right, y down; all angles in [-180, 180], ~0 for a
face looking straight into the camera):

* yaw > 0: the face turns toward the IMAGE's right (the viewer sees the nose point right);
* pitch > 0: the face looks up;
* roll > 0: the head is tilted clockwise in the image (the eye on the image's right is
  lower than the one on the image's left).

They are Euler angles (signs as above) of the head rotation R = Rz(roll) Ry(yaw)
Rx(pitch): the head nods (pitch), turns (yaw), and the whole is then turned in the image
plane (roll). So yaw and pitch are relative to the head's own upright, and rotating the
image (a phone held askew, a tilted head) changes roll only: a face turned 40 degrees
reads yaw ~40 whether the head is tilted or not. yaw is in [-90, 90], pitch and roll in
[-180, 180].

Why a face mesh and not the 68 dlib points: dlib's shape predictor was trained on upright,
near-frontal faces, and on profiles or strongly tilted heads its points collapse (on the
pose stills in ../shared/data/liveness-stills/pose it put the eyes of a ~60 degree head
tilt on the wrong side: roll +14 instead of about -60). solvePnP on those points,
even with a 68-point 3D template derived from face-mesh depth on frontal LFW faces, cannot
recover from that. The face mesh is run on a crop rotated upright, so it fits tilted heads
and half profiles, and it predicts depth per point, so the angles need no 3D template, no
camera model and no per-dataset fitting.

How: the mesh gives 3D points (image pixels; z in the same scale, negative toward the
camera). The face's x axis is the vector between the outer eye corners (33 -> 263), its
vertical axis the chin -> forehead vector (152 -> 10) made orthogonal to it. Yaw is the
depth slope of the eye axis, pitch the depth slope of the vertical axis (against the face
normal, their cross product), roll the image slope of the eye axis; depth is untouched by
in-plane rotation, hence yaw and pitch are too. The crop: a square of 1.5x the detector box, rotated by
the detector's eye keypoints; then (refine=True) a second run on a crop re-centred and
re-rotated from the first mesh, which matters for strong tilts, where the detector's eye
keypoints are poor (a ~60 degree tilt reads -51 after one pass, -59 after two).

Limits: mesh depth is compressed on near-profiles, so |yaw| beyond ~50 degrees is
under-estimated (a near profile reads ~55); signs stay right. Pitch is relative to the
chin-forehead line being vertical, i.e. the anatomical face plane, not the gaze.
On 50 mostly frontal LFW photos the median |yaw| is ~8 and median |pitch| ~7 degrees
(tests/vision/test_headpose.py); a horizontally mirrored image gives yaw and roll of the
opposite sign (the estimator is symmetric; no bias of its own). Roll follows image
rotation within ~3 degrees up to +-60; near +-90 the detector's eye keypoints (the first
crop) are unreliable and so is the mesh.

Cost (one CPU thread): ~4.7 ms a face for one mesh run with its crop, ~9.4 ms with
refine=True (the default); faces of one image go through the model as one batch. The
angles from a mesh take ~40 microseconds.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.pack import ModelPack
from openfrs.vision.runtime import create_session
from openfrs.vision.types import Face

MESH_POINTS = 468
INPUT_SIZE = 192
# Mesh indices (MediaPipe face mesh topology). "Subject's right" appears on the image's
# left in an unmirrored photo.
RIGHT_EYE_OUTER = 33
LEFT_EYE_OUTER = 263
FOREHEAD = 10  # top of the forehead on the midline
CHIN = 152  # bottom of the chin on the midline
NOSE_TIP = 1

DETECTOR_CROP_SCALE = 1.5  # crop side / detector box side (the box spans brows to chin)
MESH_CROP_SCALE = 1.25  # crop side / mesh extent (face oval), for the refining pass
# First crop when following a face from the previous video frame's mesh: the detector's crop is
# ~1.5x the mesh extent (1.46-1.72 on LFW photos), and the model reads a face best at that margin
# (iterating the tighter refining crop frame after frame drifts: an open mouth read half as open).
FOLLOW_CROP_SCALE = 1.5


def pose_from_mesh(points: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from (468, 3) mesh points in image coordinates.

    x right, y down, z negative toward the camera, all in one scale (pixels). Only the
    directions of two face axes are used, so the result does not depend on face size,
    position or the image size (weak perspective: fine for faces not filling a wide-angle
    frame).
    """
    p = np.asarray(points, np.float64)
    ex = p[LEFT_EYE_OUTER] - p[RIGHT_EYE_OUTER]
    ex /= np.linalg.norm(ex)
    ey = p[CHIN] - p[FOREHEAD]  # the face's "down"
    ey -= ex * (ey @ ex)
    ey /= np.linalg.norm(ey)
    ez = np.cross(ex, ey)  # points from the face into the scene (back of the head)
    # R = [ex ey ez] = Rz(roll) Ry(-yaw) Rx(-pitch) (camera frame: x right, y down, z into
    # the scene). Yaw and pitch come from the depth components alone (the eye axis receding
    # on the image's right: the face turns right; the chin coming closer: it looks up), so
    # turning the image in its plane changes roll only.
    yaw = np.arcsin(np.clip(ex[2], -1.0, 1.0))
    pitch = np.arctan2(-ey[2], ez[2])
    roll = np.arctan2(ex[1], ex[0])
    return float(np.degrees(yaw)), float(np.degrees(pitch)), float(np.degrees(roll))


def head_pose(face: Face) -> tuple[float, float, float]:
    """(yaw, pitch, roll) of a face whose mesh `FaceMesh.landmarks` has computed.

    No image size is needed: the mesh carries depth, so no camera model is involved.
    """
    mesh = face.extras.get("mesh468")
    if mesh is None:
        raise ValueError("face has no extras['mesh468']: run FaceMesh.landmarks on it first")
    return pose_from_mesh(mesh)


class FaceMesh:
    """MediaPipe face mesh (converted from the TFJS graph model in the pack, role "mesh").

    `landmarks(image, faces)` fills, per face, `extras["mesh468"]` ((468, 3) float32 in
    image pixels, z in the same scale, negative toward the camera) and
    `extras["mesh_score"]` (the model's face probability on its crop, 0..1; low means the
    crop held no face). Faces that already have a mesh are skipped. Thread-safe (the ORT
    session is); blocking, pure compute.
    """

    def __init__(self, model_path: Path, intra_threads: int | None = 1,
                 refine: bool = True) -> None:
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name
        self.refine = refine

    @classmethod
    def from_pack(cls, pack: ModelPack, intra_threads: int | None = 1,
                  refine: bool = True) -> FaceMesh:
        return cls(pack.entry("mesh").path(pack.root), intra_threads, refine)

    def landmarks(self, image: np.ndarray, faces: list[Face]) -> list[Face]:
        """Mesh for exactly these faces (RGB uint8 image), in place; returns `faces`."""
        todo = [f for f in faces if "mesh468" not in f.extras]
        if not todo:
            return faces
        crops = [_detector_crop(f) for f in todo]
        points, scores = self._run(image, crops)
        if self.refine:
            crops = [_mesh_crop(p) for p in points]
            points, scores = self._run(image, crops)
        for face, pts, score in zip(todo, points, scores, strict=True):
            face.extras["mesh468"] = pts.astype(np.float32)
            face.extras["mesh_score"] = float(score)
        return faces

    def follow(self, image: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, float]:
        """(mesh points, face score) in `image` for the face whose mesh in the previous video
        frame was `previous`: one run on the crop that mesh gives, no detector. Why: between
        frames a tenth of a second apart a face moves far less than the crop's margin, and this
        costs a fifth of detecting and meshing again. A low score means the face left the crop."""
        points, scores = self._run(image, [_mesh_crop(np.asarray(previous, np.float64),
                                                      FOLLOW_CROP_SCALE)])
        if self.refine:  # as landmarks() does: a second run on the crop this frame's mesh gives
            points, scores = self._run(image, [_mesh_crop(points[0])])
        return points[0].astype(np.float32), float(scores[0])

    def head_poses(self, image: np.ndarray, faces: list[Face]) -> list[tuple[float, float, float]]:
        """(yaw, pitch, roll) per face, computing the meshes that are missing."""
        return [head_pose(f) for f in self.landmarks(image, faces)]

    def _run(self, image: np.ndarray,
             crops: list[tuple[np.ndarray, float, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """One batch through the model; mesh points mapped back to image coordinates."""
        mats = [_crop_matrix(*c) for c in crops]
        batch = np.stack([cv2.warpAffine(image, m, (INPUT_SIZE, INPUT_SIZE),
                                         flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_CONSTANT) for m in mats])
        outputs = self.session.run(None, {self.input_name: batch.astype(np.float32) / 255.0})
        # Outputs by shape, not name: (B, 1404) mesh, (B, 1) face score (a probability).
        mesh = next(o for o in outputs if o.shape[-1] == MESH_POINTS * 3)
        score = next(o for o in outputs if o.shape[-1] == 1)
        points = [_to_image(m.reshape(MESH_POINTS, 3), mat) for m, mat in zip(mesh, mats,
                                                                              strict=True)]
        return np.stack(points), score[:, 0]


def _detector_crop(face: Face) -> tuple[np.ndarray, float, np.ndarray]:
    """(centre, side, eye vector) of the first crop: the detector box, rotated by its eyes.

    The eyes are the detector's key points when it gave them, else the face's landmarks;
    without either the crop is upright.
    """
    box = face.extras.get("detector_box", face.box)
    center = np.array([(box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2])
    side = max(box.width, box.height) * DETECTOR_CROP_SCALE
    keypoints = face.extras.get("keypoints") or {}
    if "left_eye" in keypoints and "right_eye" in keypoints:
        eyes = np.array(keypoints["right_eye"]) - np.array(keypoints["left_eye"])
    else:
        eyes = np.asarray(face.landmarks[1] - face.landmarks[0], np.float64)
    if not np.all(np.isfinite(eyes)) or not np.any(eyes):
        eyes = np.array([1.0, 0.0])
    return center, side, eyes


def _mesh_crop(points: np.ndarray, scale: float = MESH_CROP_SCALE) -> tuple[np.ndarray, float, np.ndarray]:
    """(centre, side, eye vector) of a crop round a mesh: the refining crop by default."""
    low, high = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    eyes = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
    return (low + high) / 2, float(max(high - low)) * scale, eyes


def _crop_matrix(center: np.ndarray, side: float, eyes: np.ndarray) -> np.ndarray:
    """2x3 affine: image -> model input, the eye line made horizontal, centre in the middle."""
    angle = float(np.degrees(np.arctan2(eyes[1], eyes[0])))
    scale = INPUT_SIZE / max(side, 1.0)
    matrix = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, scale)
    matrix[:, 2] += INPUT_SIZE / 2 - center
    return matrix


def _to_image(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Model-input mesh points -> image coordinates; z is rescaled like x and y (the crop
    rotation is in the image plane, so it leaves depth alone)."""
    linear, shift = matrix[:, :2].astype(np.float64), matrix[:, 2]
    xy = (points[:, :2] - shift) @ np.linalg.inv(linear).T
    scale = np.sqrt(abs(np.linalg.det(linear)))
    return np.column_stack([xy, points[:, 2] / scale])
