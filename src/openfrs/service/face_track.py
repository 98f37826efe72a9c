"""One face followed through a video's sampled frames: the signals action liveness reads (head
pose, eye and mouth ratios from the face mesh), how many faces each frame holds, and the face's
embedding about once a second so the caller can check it stays the same person.

Which face: the largest in the first frame that has one, then in each frame the face whose box
centre is nearest the previous one (a second person walking through does not take over).
Blocking, pure compute: the service runs it in its worker pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openfrs.media.video import Video
from openfrs.vision.face_actions import Track, eye_aspect_ratio, mouth_aspect_ratio
from openfrs.vision.headpose import head_pose
from openfrs.vision.pipeline import FacePipeline
from openfrs.vision.types import Face

EMBED_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class TrackedFace:
    track: Track
    face_counts: list[int]  # faces found in each sampled frame
    embeddings: np.ndarray  # (K, 128), the followed face about once a second
    embedding_times: list[float]
    faces: list[Face | None]  # the followed face per frame (frame coordinates)


def _centre(face: Face) -> np.ndarray:
    return np.array([(face.box.x1 + face.box.x2) / 2, (face.box.y1 + face.box.y2) / 2])


def _follow(faces: list[Face], previous: Face | None) -> Face:
    if previous is None:
        return faces[0]  # detect() sorts largest first
    return min(faces, key=lambda f: float(np.linalg.norm(_centre(f) - _centre(previous))))


def track_face(pipeline: FacePipeline, video: Video) -> TrackedFace:
    n = len(video.frames)
    yaw, pitch, eye, mouth = (np.full(n, np.nan) for _ in range(4))
    counts: list[int] = []
    followed: list[Face | None] = []
    embeddings, embedding_times = [], []
    previous: Face | None = None
    next_embedding = 0.0
    for i, (frame, when) in enumerate(zip(video.frames, video.times, strict=True)):
        faces = pipeline.detect(frame)
        counts.append(len(faces))
        if not faces:
            followed.append(None)
            continue
        face = _follow(faces, previous)
        pipeline.mesh.landmarks(frame, [face])
        mesh = face.extras["mesh468"]
        yaw[i], pitch[i], _ = head_pose(face)
        eye[i], mouth[i] = eye_aspect_ratio(mesh), mouth_aspect_ratio(mesh)
        if when >= next_embedding:
            embeddings.append(pipeline.embed(frame, [face])[0])
            embedding_times.append(when)
            next_embedding = when + EMBED_EVERY_SECONDS
        followed.append(face)
        previous = face
    track = Track(np.asarray(video.times), yaw, pitch, eye, mouth)
    stacked = np.stack(embeddings) if embeddings else np.zeros((0, 128), np.float32)
    return TrackedFace(track, counts, stacked, embedding_times, followed)
