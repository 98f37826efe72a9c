"""One face followed through a video's sampled frames: the signals action liveness reads (head
pose and mouth ratio from the face mesh, P(eyes closed) from the eye-state model on eye crops the
mesh places), how many faces each frame holds, and the face's embedding about once a second so
the caller can check it stays the same person.

Which face: the largest in the first frame that has one, then in each frame the face whose box
centre is nearest the previous one (a second person walking through does not take over).

Detect, then follow: the detector runs on every DETECT_EVERY-th sampled frame (and whenever the
face is lost); in between, the face mesh is run on the crop the previous frame's mesh gives
(`FaceMesh.follow`), which is what most of a 15 s clip's time went to before (detection was
~36 ms of ~45 ms a frame). The signals (pose, eyes, mouth) come from every frame; face counts,
the followed `Face` (for the picture and silent liveness) and the embeddings come from the
detected frames only, at least every DETECT_EVERY / 10 fps = 0.5 s, so a second person or a
swap of person is still seen within half a second. Each second's embedding is of its most
frontal detected face, and seconds whose faces all turn past EMBED_MAX_DEGREES are skipped: a
real head tilted back 40 degrees embedded at calibrated similarity 0.49 to its own frontal face
(the nod clip), which made the identity check refuse the very person it follows.
Blocking, pure compute: the service runs it in its worker pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openfrs.media.video import Video
from openfrs.vision.eye_state import eye_crop
from openfrs.vision.face_actions import Track, eye_points, mouth_aspect_ratio
from openfrs.vision.headpose import pose_from_mesh
from openfrs.vision.pipeline import FacePipeline
from openfrs.vision.types import Face

EMBED_EVERY_SECONDS = 1.0
EMBED_MAX_DEGREES = 25.0  # yaw and pitch past which a face is not embedded (see the module doc)
DETECT_EVERY = 5  # sampled frames; 0.5 s at the 10 fps video.SAMPLE_FPS
FOLLOW_MIN_SCORE = 0.5  # mesh face probability below which the followed face counts as lost
SAME_FACE_SHIFT = 0.5  # box widths between a detection and the followed mesh to be one face


@dataclass(frozen=True)
class TrackedFace:
    track: Track
    face_counts: list[int]  # faces found on each frame the detector ran on
    embeddings: np.ndarray  # (K, dim), the followed face about once a second
    embedding_times: list[float]
    faces: list[Face | None]  # per sampled frame: the followed face where detected, else None
    meshes: list[np.ndarray | None]  # per sampled frame: the followed face's mesh, None if not seen


def _centre(face: Face) -> np.ndarray:
    return np.array([(face.box.x1 + face.box.x2) / 2, (face.box.y1 + face.box.y2) / 2])


def _follow(faces: list[Face], previous: Face | None) -> Face:
    if previous is None:
        return faces[0]  # detect() sorts largest first
    return _nearest(faces, _centre(previous))


def _nearest(faces: list[Face], centre: np.ndarray) -> Face:
    return min(faces, key=lambda f: float(np.linalg.norm(_centre(f) - centre)))


def _mesh_centre(mesh: np.ndarray) -> np.ndarray:
    return (mesh[:, :2].min(axis=0) + mesh[:, :2].max(axis=0)) / 2


def _detection_under(faces: list[Face], mesh: np.ndarray) -> Face | None:
    """The detected face the followed mesh lies on, given that mesh; None when there is no
    detection or the mesh drifted off every face (centres further apart than SAME_FACE_SHIFT
    box widths)."""
    if not faces:
        return None
    centre = _mesh_centre(mesh)
    face = _nearest(faces, centre)
    if np.linalg.norm(_centre(face) - centre) > SAME_FACE_SHIFT * face.box.width:
        return None
    face.extras["mesh468"] = mesh
    return face


def _take(pipeline: FacePipeline, frame: np.ndarray, faces: list[Face], mesh: np.ndarray | None,
          previous: Face | None) -> Face | None:
    """The followed face among this frame's detections, carrying its mesh. The mesh followed
    from the last frame is kept when it lies on a detected face, so every frame's signals come
    from the same kind of crop (a fresh detector crop shifts pitch and yaw by a degree or two,
    enough to fake a nod in the middle of a turn); otherwise the face is taken afresh."""
    if not faces:
        return None
    face = None if mesh is None else _detection_under(faces, mesh)
    if face is not None:
        return face
    face = _follow(faces, previous)
    pipeline.mesh.landmarks(frame, [face])
    return face


def eyes_closed(pipeline: FacePipeline, frames: list[np.ndarray],
                meshes: list[np.ndarray | None]) -> np.ndarray:
    """P(both eyes closed) per frame (the lower of the two eyes': a wink is no blink), NaN where
    no mesh or an eye crop is empty; every frame's eyes in one eye-state batch."""
    crops, owners = [], []
    for i, (frame, mesh) in enumerate(zip(frames, meshes, strict=True)):
        if mesh is not None:
            grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            pair = [eye_crop(grey, points) for points in eye_points(mesh)]
            if all(crop is not None for crop in pair):
                crops += pair
                owners.append(i)
    closed = np.full(len(frames), np.nan)
    if owners:
        closed[owners] = pipeline.eyes.closed(crops).reshape(-1, 2).min(axis=1)
    return closed


def _embedding_frames(track: Track, detected: list[Face | None]) -> list[int]:
    """The frames to embed: in each EMBED_EVERY_SECONDS slot, the detected frame whose face is
    nearest frontal; slots whose nearest is turned past EMBED_MAX_DEGREES are left out, unless
    that leaves fewer than two (a clip that never faces the camera is still checked)."""
    turn = np.maximum(np.abs(track.yaw), np.abs(track.pitch))
    best: dict[int, int] = {}
    for i, face in enumerate(detected):
        slot = int(track.times[i] // EMBED_EVERY_SECONDS)
        if face is not None and (slot not in best or turn[i] < turn[best[slot]]):
            best[slot] = i
    frontal = [i for i in best.values() if turn[i] <= EMBED_MAX_DEGREES]
    return frontal if len(frontal) >= 2 else list(best.values())


def track_face(pipeline: FacePipeline, video: Video) -> TrackedFace:
    n = len(video.frames)
    yaw, pitch, mouth = (np.full(n, np.nan) for _ in range(3))
    counts: list[int] = []
    detected: list[Face | None] = []
    meshes: list[np.ndarray | None] = []
    previous: Face | None = None
    mesh: np.ndarray | None = None  # the followed face's mesh in the last frame it was seen
    next_detection = 0
    for i, frame in enumerate(video.frames):
        detected.append(None)
        if mesh is not None:
            mesh, score = pipeline.mesh.follow(frame, mesh)
            if score < FOLLOW_MIN_SCORE:
                mesh = None  # lost: detect on this very frame
        if mesh is None or i >= next_detection:
            next_detection = i + DETECT_EVERY
            faces = pipeline.detect(frame)
            counts.append(len(faces))
            face = _take(pipeline, frame, faces, mesh, previous)
            if face is not None:
                mesh, detected[i], previous = face.extras["mesh468"], face, face
        meshes.append(mesh)
        if mesh is not None:
            yaw[i], pitch[i], _ = pose_from_mesh(mesh)
            mouth[i] = mouth_aspect_ratio(mesh)
    closed = eyes_closed(pipeline, video.frames, meshes)
    track = Track(np.asarray(video.times), yaw, pitch, closed, mouth)
    picks = _embedding_frames(track, detected)
    embeddings = [pipeline.embed(video.frames[i], [detected[i]])[0] for i in picks]
    stacked = (np.stack(embeddings) if embeddings
               else np.zeros((0, pipeline.recogniser().dim), np.float32))
    return TrackedFace(track, counts, stacked, [video.times[i] for i in picks], detected, meshes)


def face_at(pipeline: FacePipeline, video: Video, tracked: TrackedFace, i: int) -> Face | None:
    """The followed face in sampled frame `i` as a detected `Face` carrying the tracked mesh,
    detecting it there if that frame was only followed (the picture and silent liveness need
    the detector's box); None where the face was not seen or no detection lies under the mesh."""
    mesh = tracked.meshes[i]
    if tracked.faces[i] is not None or mesh is None:
        return tracked.faces[i]
    return _detection_under(pipeline.detect(video.frames[i]), mesh)
